/**
 * The engine's log lines to Logcat under the tag `Hadir`. The engine calls it on its
 * own `hadir-log` thread, in order; its lines carry no selfie bytes, keys or exact
 * coordinates, so they are safe in a bug report.
 */
package id.go.hadir.app.platform

import android.util.Log
import id.go.hadir.core.LogLevel
import id.go.hadir.core.Logger

/** Logcat's tag for every line of the engine. */
const val LOG_TAG = "Hadir"

/** Writes each engine line at the matching Logcat priority. */
class LogcatLogger : Logger {
    override fun log(level: LogLevel, message: String) {
        when (level) {
            LogLevel.DEBUG -> Log.d(LOG_TAG, message)
            LogLevel.INFO -> Log.i(LOG_TAG, message)
            LogLevel.WARN -> Log.w(LOG_TAG, message)
            LogLevel.ERROR -> Log.e(LOG_TAG, message)
        }
    }
}
