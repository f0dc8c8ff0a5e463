/**
 * Background delivery of the outbox: a WorkManager worker that asks the engine to send
 * every pending check-in (`syncNow`), scheduled by [SyncScheduler]. What is sent, and
 * what the server decided, is the engine's business; this only picks the moment. The
 * engine is the session's ([HadirApplication.engine]), opened off the main thread.
 */
package id.go.hadir.app.sync

import android.content.Context
import android.content.pm.ServiceInfo
import android.os.Build
import android.util.Log
import androidx.core.app.NotificationCompat
import androidx.work.CoroutineWorker
import androidx.work.ForegroundInfo
import androidx.work.WorkerParameters
import id.go.hadir.app.HadirApplication
import id.go.hadir.app.R
import id.go.hadir.app.platform.LOG_TAG
import id.go.hadir.app.reminder.Notifications
import id.go.hadir.core.HadirException
import id.go.hadir.core.PlatformException

/** The id of the short notification an expedited sync shows below Android 12. */
private const val SYNC_NOTIFICATION_ID = 1001

/**
 * One sync pass. It always ends in success for WorkManager: a pass that could not
 * reach the server leaves the check-ins pending (nothing is lost), and the next
 * periodic run or returning connectivity tries again, with the engine's own backoff.
 * Stopping the worker cancels the pass; what the server already decided is kept.
 */
class SyncWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {

    override suspend fun doWork(): Result {
        try {
            // Null before the first enrollment: nothing to send and no key the server knows.
            val app = applicationContext as HadirApplication
            val engine = app.engine() ?: return Result.success()
            if (engine.deviceId() == null) return Result.success()
            val report = app.backgroundSync.run(engine)
            Log.i(LOG_TAG, "sync worker: ${report.accepted} accepted, ${report.pending} pending, error ${report.errorCode}")
        } catch (e: HadirException) {
            Log.w(LOG_TAG, "sync worker: ${e.message}")
        } catch (e: PlatformException) {
            Log.w(LOG_TAG, "sync worker, Keystore: ${e.message}")
        }
        return Result.success()
    }

    /** Expedited work runs as a foreground service below Android 12: it needs this. */
    override suspend fun getForegroundInfo(): ForegroundInfo {
        val notification = NotificationCompat.Builder(applicationContext, Notifications.SYNC_CHANNEL)
            .setSmallIcon(R.drawable.ic_notification)
            .setContentTitle(applicationContext.getString(R.string.sync_notification_title))
            .setPriority(NotificationCompat.PRIORITY_LOW)
            .setOngoing(true)
            .setSilent(true)
            .build()
        return if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.Q) {
            ForegroundInfo(SYNC_NOTIFICATION_ID, notification, ServiceInfo.FOREGROUND_SERVICE_TYPE_DATA_SYNC)
        } else {
            ForegroundInfo(SYNC_NOTIFICATION_ID, notification)
        }
    }
}
