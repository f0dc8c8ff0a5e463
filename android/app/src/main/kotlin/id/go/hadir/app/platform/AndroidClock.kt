/**
 * The phone's clocks for the core's time evidence: the wall clock, the boot-elapsed
 * clock (counts deep sleep, cannot be set by the user) and an id that changes at every
 * reboot, so the core can tell whether two elapsed readings share a boot. Quick, never
 * calls the engine (the engine calls it on its own threads).
 */
package id.go.hadir.app.platform

import android.content.ContentResolver
import android.content.Context
import android.os.SystemClock
import android.provider.Settings
import id.go.hadir.core.ClockProvider
import id.go.hadir.core.ClockSample
import id.go.hadir.core.PlatformException
import java.io.File

/** Where Linux keeps a random id of the current boot (readable on most phones). */
private const val PROC_BOOT_ID = "/proc/sys/kernel/random/boot_id"

/**
 * `System.currentTimeMillis()`, `SystemClock.elapsedRealtime()` and the boot id:
 * `"boot-count:N"` from `Settings.Global.BOOT_COUNT` (API 24), or the kernel's boot id
 * where a vendor left that setting out. Read once: a reboot ends this process, so the
 * id cannot change while it lives.
 */
class AndroidClock(context: Context) : ClockProvider {
    private val resolver: ContentResolver = context.applicationContext.contentResolver

    private val bootId: String by lazy { bootCount() ?: kernelBootId() }

    override fun read(): ClockSample {
        val id = try {
            bootId
        } catch (e: Exception) {
            throw PlatformException.Failed("no boot id: ${e.javaClass.simpleName}: ${e.message}")
        }
        return ClockSample(
            wallMs = System.currentTimeMillis(),
            bootElapsedMs = SystemClock.elapsedRealtime(),
            bootId = id,
        )
    }

    private fun bootCount(): String? =
        try {
            "boot-count:" + Settings.Global.getInt(resolver, Settings.Global.BOOT_COUNT)
        } catch (e: Settings.SettingNotFoundException) {
            null
        }

    private fun kernelBootId(): String {
        val id = File(PROC_BOOT_ID).readText().trim()
        check(id.isNotEmpty()) { "$PROC_BOOT_ID is empty" }
        return id
    }
}
