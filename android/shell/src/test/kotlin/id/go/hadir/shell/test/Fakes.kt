/**
 * The platform pieces the `:shell` tests replace: only what cannot run on the JVM (the
 * GPS, Android Keystore, SharedPreferences), behind the same interfaces `:app`
 * implements. The engine, the server and the key's signatures are real.
 */
package id.go.hadir.shell.test

import id.go.hadir.core.DeviceKeyProvider
import id.go.hadir.core.LocationFix
import id.go.hadir.core.LocationProvider
import id.go.hadir.shell.platform.DeviceKeyStore
import id.go.hadir.shell.platform.LocationReading
import id.go.hadir.shell.platform.LocationSource
import id.go.hadir.shell.platform.SettingsStore
import id.go.hadir.testsupport.JavaSecurityDeviceKey
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.withTimeoutOrNull
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.LinkedBlockingDeque

/** The location the test scripts: each `freshFix` takes the next reading queued. */
class ScriptedLocation : LocationSource {
    private val readings = LinkedBlockingDeque<LocationReading>()

    /** Queues what the next `freshFix` returns. */
    fun next(reading: LocationReading) = readings.add(reading)

    /** Queues a fresh fix at [lat], [lon]. */
    fun at(lat: Double, lon: Double, mock: Boolean = false) =
        next(LocationReading.Fix(LocationFix(lat, lon, 8.0, System.currentTimeMillis(), LocationProvider.GPS, mock)))

    override suspend fun freshFix(): LocationReading = readings.poll() ?: error("the test queued no location reading")
}

/**
 * A key store holding java.security keys, remembering the challenges it was given; with
 * [canHoldKeys] false it is a phone whose Keystore can make no key; [broken], one whose
 * Keystore throws.
 */
class JavaKeyStore(private val canHoldKeys: Boolean = true, private val broken: Boolean = false) : DeviceKeyStore {
    @Volatile private var key: JavaSecurityDeviceKey? = null
    val challenges = mutableListOf<ByteArray>()

    override fun existing(): DeviceKeyProvider? = key
    override fun create(attestationChallenge: ByteArray): DeviceKeyProvider? {
        challenges.add(attestationChallenge)
        check(!broken) { "keystore service unavailable" }
        if (!canHoldKeys) return null
        return JavaSecurityDeviceKey().also { key = it }
    }
    override fun delete() { key = null }
}

/** Settings in memory. */
class MemorySettings : SettingsStore {
    private val values = ConcurrentHashMap<String, String>()
    override fun get(key: String): String? = values[key]
    override fun put(key: String, value: String) { values[key] = value }
}

/** Waits (without sleeping) until the flow's value satisfies [predicate]. */
suspend fun <T> StateFlow<T>.await(what: String, timeoutMs: Long = 30_000, predicate: (T) -> Boolean): T =
    withTimeoutOrNull(timeoutMs) { first(predicate) } ?: throw AssertionError("timed out waiting for $what; last: $value")
