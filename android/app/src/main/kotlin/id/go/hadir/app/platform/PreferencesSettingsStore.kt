/**
 * :shell's small durable settings (the consent's version, whether this phone uses the
 * engine's software key) in a private SharedPreferences file. Like everything of
 * Hadir it is never backed up nor transferred: the manifest switches backup off and
 * both backup rule files exclude the `sharedpref` domain.
 */
package id.go.hadir.app.platform

import android.content.Context
import android.content.SharedPreferences
import id.go.hadir.shell.platform.SettingsStore

/** The SharedPreferences file :shell's settings live in. */
private const val PREFERENCES_NAME = "hadir_shell"

/**
 * [SettingsStore] on SharedPreferences. Each [put] is written to disk before it
 * returns (`commit`), because the session decides which key opens the engine from it:
 * call it off the main thread.
 */
class PreferencesSettingsStore(context: Context) : SettingsStore {
    private val preferences: SharedPreferences by lazy {
        context.applicationContext.getSharedPreferences(PREFERENCES_NAME, Context.MODE_PRIVATE)
    }

    override fun get(key: String): String? = preferences.getString(key, null)

    override fun put(key: String, value: String) {
        preferences.edit().putString(key, value).commit()
    }
}
