/**
 * What `:shell` needs from the platform, as interfaces `:app` implements on Android
 * (LocationManager, Android Keystore, SharedPreferences) and the JVM tests implement
 * with plain Java. Only what cannot run on the JVM stays behind them; every decision is
 * the core's or `:shell`'s.
 */
package id.go.hadir.shell.platform

import id.go.hadir.core.DeviceKeyProvider
import id.go.hadir.core.HadirEngine
import id.go.hadir.core.LocationFix

/** One attempt to read the location, as the platform saw it. */
sealed interface LocationReading {
    /** A fresh fix, with the OS mock flag, its time and its accuracy. */
    data class Fix(val fix: LocationFix) : LocationReading

    /** The person has not allowed precise location. */
    data object PermissionDenied : LocationReading

    /** Location is switched off in the phone's settings. */
    data object LocationOff : LocationReading

    /** No fix came in time (indoors, no sky). */
    data object TimedOut : LocationReading
}

/** A fresh high-accuracy fix on demand (never a cached last-known one). */
fun interface LocationSource {
    /** Waits for one fresh fix or tells why there is none. */
    suspend fun freshFix(): LocationReading
}

/**
 * Where the device key lives (Android Keystore, StrongBox where present). The key is
 * made at the first enrollment and attested with the challenge the core derives from
 * that enrollment code, so the server can check it was made for this enrollment.
 */
interface DeviceKeyStore {
    /** The key, if one was made. */
    fun existing(): DeviceKeyProvider?

    /**
     * Deletes any key and makes a new one whose attestation carries
     * [attestationChallenge]; null when this phone cannot hold such a key at all (the
     * engine then keeps its own software key, which the server records as unattested
     * for the admin to see; the person still enrolls).
     */
    fun create(attestationChallenge: ByteArray): DeviceKeyProvider?

    /** Deletes the key, if any. */
    fun delete()
}

/** Opens the engine on the app's database with a key (the app adds its clock and logger). */
interface EngineOpener {
    /**
     * Opens (or creates) the engine's database with [key] (null: the engine's own
     * software key, kept in its database); synchronous local I/O.
     */
    fun open(key: DeviceKeyProvider?): HadirEngine

    /** Deletes the engine's database files (the engine is closed first). */
    fun deleteDatabase()
}

/** Small durable settings of the shell itself (SharedPreferences on Android). */
interface SettingsStore {
    /** The value under [key], if any. */
    fun get(key: String): String?

    /** Stores [value] under [key]. */
    fun put(key: String, value: String)
}
