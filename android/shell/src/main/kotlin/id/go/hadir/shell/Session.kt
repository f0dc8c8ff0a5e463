/**
 * The app's one engine and the key it signs with. Before the first enrollment there is
 * neither: the first enrollment makes the Keystore key, attested with the challenge the
 * core derives from that enrollment code, then opens the engine with it. Later people
 * (colleagues sharing the phone) enroll on the same engine and key.
 */
package id.go.hadir.shell

import id.go.hadir.core.DeviceLabelInput
import id.go.hadir.core.EnrolledPersonInfo
import id.go.hadir.core.HadirEngine
import id.go.hadir.core.PersonRef
import id.go.hadir.core.attestationChallenge
import id.go.hadir.shell.platform.DeviceKeyStore
import id.go.hadir.shell.platform.EngineOpener
import id.go.hadir.shell.platform.SettingsStore

/** Holds the engine once a key exists. Thread-safe. */
class HadirSession(
    private val keys: DeviceKeyStore,
    private val opener: EngineOpener,
    private val settings: SettingsStore,
    /** The phone's label for the server (`ANDROID_ID` as a platform id). */
    val deviceLabel: DeviceLabelInput,
) {
    @Volatile private var opened: HadirEngine? = null

    /**
     * The engine, once the first enrollment made a key (or found that this phone can
     * hold none and used the engine's software key). Opening it is local I/O: call off
     * the main thread.
     */
    val engine: HadirEngine?
        @Synchronized get() {
            opened?.let { return it }
            val key = keys.existing()
            if (key == null && settings.get(SOFTWARE_KEY).isNullOrEmpty()) return null
            return opener.open(key).also { opened = it }
        }

    /** True once this phone is enrolled (a device id is known). */
    val isEnrolled: Boolean get() = engine?.deviceId() != null

    /** The engine of an enrolled phone; [IllegalStateException] before enrollment. */
    fun requireEngine(): HadirEngine = engine ?: error("no engine before the first enrollment")

    /**
     * Enrolls [person] with [code]. On a phone not enrolled yet, first makes a new key
     * attested for this code (any key of an earlier failed attempt is replaced, since
     * its attestation names another code); on an enrolled phone, adds a colleague.
     */
    suspend fun enroll(code: String, person: PersonRef): EnrolledPersonInfo {
        val engine = synchronized(this) {
            val current = engine
            if (current != null && current.deviceId() != null) {
                current
            } else {
                current?.close()
                opened = null
                val key = keys.create(attestationChallenge(code))
                if (key == null) settings.put(SOFTWARE_KEY, "1")
                opener.open(key).also { opened = it }
            }
        }
        return engine.enroll(code, person, deviceLabel)
    }

    /**
     * Forgets this phone's enrollment: closes the engine, deletes its database (the
     * outbox included) and the key. For a phone the admin revoked
     * (`AUTH_DEVICE_REVOKED`) that staff enroll again with a new code: a revoked key can
     * never enroll again. Check-ins not yet sent are lost, so a screen asks first and
     * says how many ([pendingBeforeReset]).
     */
    @Synchronized
    fun reset() {
        opened?.close()
        opened = null
        opener.deleteDatabase()
        keys.delete()
        settings.put(SOFTWARE_KEY, "")
    }

    /** Check-ins a [reset] would lose (0 when there is no engine). */
    fun pendingBeforeReset(): Int = attempt { engine?.pendingCount()?.toInt() ?: 0 }.getOrDefault(0)

    private companion object {
        /** Set when this phone could make no platform key: the engine's software key is used. */
        const val SOFTWARE_KEY = "engine.software_key"
    }
}
