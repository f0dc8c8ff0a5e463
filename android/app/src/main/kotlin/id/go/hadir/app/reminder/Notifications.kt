/**
 * Hadir's notification channels ("Pengingat absen" for the attendance reminder,
 * "Sinkronisasi" for the short notice of an expedited sync below Android 12) and the
 * posting of a reminder. The reminder's words come from :shell.
 */
package id.go.hadir.app.reminder

import android.Manifest
import android.app.PendingIntent
import android.content.Context
import android.content.pm.PackageManager
import android.os.Build
import androidx.core.app.NotificationChannelCompat
import androidx.core.app.NotificationCompat
import androidx.core.app.NotificationManagerCompat
import androidx.core.content.ContextCompat
import id.go.hadir.app.R

/** Channels and posting. */
object Notifications {
    /** The channel of the next-attendance reminder. */
    const val REMINDER_CHANNEL = "hadir-reminders"

    /** The channel of the expedited sync's foreground notice. */
    const val SYNC_CHANNEL = "hadir-sync"

    private const val REMINDER_NOTIFICATION_ID = 1002

    /** Creates the channels (a no-op below Android 8, which has none). */
    fun createChannels(context: Context) {
        val manager = NotificationManagerCompat.from(context)
        manager.createNotificationChannel(
            NotificationChannelCompat.Builder(REMINDER_CHANNEL, NotificationManagerCompat.IMPORTANCE_DEFAULT)
                .setName(context.getString(R.string.channel_reminders_name))
                .setDescription(context.getString(R.string.channel_reminders_description))
                .build(),
        )
        manager.createNotificationChannel(
            NotificationChannelCompat.Builder(SYNC_CHANNEL, NotificationManagerCompat.IMPORTANCE_LOW)
                .setName(context.getString(R.string.channel_sync_name))
                .setDescription(context.getString(R.string.channel_sync_description))
                .build(),
        )
    }

    /**
     * Whether a notification can be shown: notifications on for the app and, from
     * Android 13, the POST_NOTIFICATIONS permission granted (the screens ask for it).
     */
    fun canNotify(context: Context): Boolean {
        val permitted = Build.VERSION.SDK_INT < Build.VERSION_CODES.TIRAMISU ||
            ContextCompat.checkSelfPermission(context, Manifest.permission.POST_NOTIFICATIONS) ==
            PackageManager.PERMISSION_GRANTED
        return permitted && NotificationManagerCompat.from(context).areNotificationsEnabled()
    }

    /** Posts the reminder (replacing the previous one); tapping it opens the app. */
    fun showReminder(context: Context, title: String, text: String) {
        if (!canNotify(context)) return
        val openApp = context.packageManager.getLaunchIntentForPackage(context.packageName)?.let {
            PendingIntent.getActivity(context, 0, it, PendingIntent.FLAG_IMMUTABLE or PendingIntent.FLAG_UPDATE_CURRENT)
        }
        val notification = NotificationCompat.Builder(context, REMINDER_CHANNEL)
            .setSmallIcon(R.drawable.ic_notification)
            .setContentTitle(title)
            .setContentText(text)
            .setStyle(NotificationCompat.BigTextStyle().bigText(text))
            .setCategory(NotificationCompat.CATEGORY_REMINDER)
            .setPriority(NotificationCompat.PRIORITY_DEFAULT)
            .setContentIntent(openApp)
            .setAutoCancel(true)
            .build()
        try {
            NotificationManagerCompat.from(context).notify(REMINDER_NOTIFICATION_ID, notification)
        } catch (e: SecurityException) {
            // The permission was revoked between the check and the post: nothing to show.
        }
    }
}
