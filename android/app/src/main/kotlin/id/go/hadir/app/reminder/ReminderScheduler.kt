/**
 * The reminder of the next expected attendance ("Absen pulang hari ini pukul 16:00."):
 * one unique WorkManager job that posts a notification at the time :shell gives, with
 * the words :shell gives. A new schedule replaces the previous one.
 */
package id.go.hadir.app.reminder

import android.content.Context
import androidx.work.CoroutineWorker
import androidx.work.ExistingWorkPolicy
import androidx.work.OneTimeWorkRequestBuilder
import androidx.work.WorkManager
import androidx.work.WorkerParameters
import androidx.work.workDataOf
import java.util.concurrent.TimeUnit

private const val REMINDER_WORK = "hadir-reminder"
private const val KEY_TITLE = "title"
private const val KEY_TEXT = "text"

/**
 * Schedules the one pending reminder. WorkManager keeps it across reboots; it may run
 * a few minutes late when the phone dozes (an exact alarm would need a permission
 * Android 14 withholds from apps like this). The delay is measured on the phone's wall
 * clock: :shell passes a time on that clock.
 */
class ReminderScheduler(context: Context) {
    private val context: Context = context.applicationContext

    /** Posts [title] and [text] at [notifyAtMs] (Unix ms; at once if already past). */
    fun schedule(notifyAtMs: Long, title: String, text: String) {
        val delayMs = (notifyAtMs - System.currentTimeMillis()).coerceAtLeast(0)
        val request = OneTimeWorkRequestBuilder<ReminderWorker>()
            .setInitialDelay(delayMs, TimeUnit.MILLISECONDS)
            .setInputData(workDataOf(KEY_TITLE to title, KEY_TEXT to text))
            .build()
        WorkManager.getInstance(context).enqueueUniqueWork(REMINDER_WORK, ExistingWorkPolicy.REPLACE, request)
    }

    /** Drops the pending reminder (nothing more is due, or the person left the phone). */
    fun cancel() {
        WorkManager.getInstance(context).cancelUniqueWork(REMINDER_WORK)
    }
}

/** Posts the reminder it was scheduled with. */
class ReminderWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {
    override suspend fun doWork(): Result {
        val title = inputData.getString(KEY_TITLE)
        val text = inputData.getString(KEY_TEXT)
        if (title != null && text != null) Notifications.showReminder(applicationContext, title, text)
        return Result.success()
    }
}
