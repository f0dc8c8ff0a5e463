/**
 * The background sync pass (`:app`'s WorkManager worker runs it) and the record of when
 * one last ran. The battery guide is judged on background passes only: every check-in
 * syncs in the foreground too, so a person who checks in daily would otherwise never
 * learn that the phone's battery saver kills the background work that delivers what
 * waited for a signal.
 */
package id.go.hadir.shell

import id.go.hadir.core.HadirEngine
import id.go.hadir.core.SyncReport
import id.go.hadir.shell.platform.SettingsStore

/** Runs and records background passes. */
class BackgroundSync(private val settings: SettingsStore) {
    /** One background pass: sends what waits, then records when it ran (the engine's anchored clock). */
    suspend fun run(engine: HadirEngine): SyncReport {
        val report = engine.syncNow()
        attempt { engine.syncStatus().lastAttemptMs }.getOrNull()?.let { settings.put(LAST_PASS, it.toString()) }
        return report
    }

    /**
     * When a background pass last ran, anchored Unix ms; before any ran, when the app
     * first asked (recorded now), so a phone whose background work never ran at all is
     * noticed a day later too.
     */
    fun lastPassOrFirstAsked(nowMs: Long): Long {
        settings.get(LAST_PASS)?.toLongOrNull()?.let { return it }
        settings.get(FIRST_ASKED)?.toLongOrNull()?.let { return it }
        settings.put(FIRST_ASKED, nowMs.toString())
        return nowMs
    }

    private companion object {
        const val LAST_PASS = "sync.background.last_pass_ms"
        const val FIRST_ASKED = "sync.background.first_asked_ms"
    }
}
