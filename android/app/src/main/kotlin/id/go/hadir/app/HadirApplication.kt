/**
 * The process-wide owner of Hadir's one [HadirSession] (the engine and the key it
 * signs with) and the platform adapters: the session opens the engine with this
 * flavour's server, the Keystore key, the phone's clocks and Logcat, always off the
 * main thread; the Application creates the notification channels, schedules the
 * periodic sync, asks for a sync whenever a network becomes available, and plans the
 * next attendance reminder.
 */
package id.go.hadir.app

import android.annotation.SuppressLint
import android.app.Application
import android.net.ConnectivityManager
import android.net.Network
import android.provider.Settings
import android.util.Log
import id.go.hadir.app.platform.AndroidClock
import id.go.hadir.app.platform.AndroidLocationSource
import id.go.hadir.app.platform.KeystoreDeviceKeyStore
import id.go.hadir.app.platform.LOG_TAG
import id.go.hadir.app.platform.LogcatLogger
import id.go.hadir.app.platform.PreferencesSettingsStore
import id.go.hadir.app.reminder.Notifications
import id.go.hadir.app.reminder.ReminderScheduler
import id.go.hadir.app.sync.SyncScheduler
import id.go.hadir.core.DeviceLabelInput
import id.go.hadir.core.DeviceLabelKind
import id.go.hadir.core.EngineConfig
import id.go.hadir.core.HadirEngine
import id.go.hadir.core.HadirException
import id.go.hadir.core.PlatformException
import id.go.hadir.shell.BackgroundSync
import id.go.hadir.shell.Consent
import id.go.hadir.shell.HadirSession
import id.go.hadir.shell.Regency
import id.go.hadir.shell.Reminders
import id.go.hadir.core.DeviceKeyProvider
import id.go.hadir.shell.platform.EngineOpener
import id.go.hadir.shell.platform.LocationSource
import id.go.hadir.shell.platform.SettingsStore
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import java.io.File

/** The engine's SQLite file, in noBackupFilesDir: never backed up nor transferred. */
private const val DATABASE_NAME = "hadir.db"

/** Hadir's Application: see the file's documentation. */
class HadirApplication : Application() {

    /** :shell's durable settings (consent, software key), never backed up. */
    val settingsStore: SettingsStore by lazy { PreferencesSettingsStore(this) }

    /** The regency running this build, from its flavour. */
    val regency: Regency by lazy {
        Regency(BuildConfig.REGENCY_NAME, BuildConfig.REGENCY_DATA_CONTACT, BuildConfig.REGENCY_SERVER_RETENTION)
    }

    /** Background sync passes, recorded for the battery guide. */
    val backgroundSync: BackgroundSync by lazy { BackgroundSync(settingsStore) }

    /** The first-run consent and the person's answer. */
    val consent: Consent by lazy { Consent(regency, settingsStore) }

    /**
     * The engine and its key. Before the first enrollment it holds neither; reading
     * [HadirSession.engine] opens the engine (SQLite, the Keystore): only off the main
     * thread, e.g. through [engine].
     */
    val session: HadirSession by lazy {
        HadirSession(
            keys = KeystoreDeviceKeyStore(),
            opener = object : EngineOpener {
                override fun open(key: DeviceKeyProvider?) = HadirEngine.open(engineConfig(), key, clock, logger)
                override fun deleteDatabase() {
                    for (suffix in listOf("", "-wal", "-shm")) File(noBackupFilesDir, DATABASE_NAME + suffix).delete()
                }
            },
            settings = settingsStore,
            deviceLabel = DeviceLabelInput(DeviceLabelKind.PLATFORM_ID, androidId()),
        )
    }

    /** Fresh fixes for the check-in flow. */
    val locationSource: LocationSource by lazy { AndroidLocationSource(this) }

    /** The next-attendance reminder. */
    val reminders: ReminderScheduler by lazy { ReminderScheduler(this) }

    /** Work that outlives a screen (opening the engine at start). */
    val appScope = CoroutineScope(SupervisorJob() + Dispatchers.Default)

    private val clock by lazy { AndroidClock(this) }
    private val logger = LogcatLogger()

    override fun onCreate() {
        super.onCreate()
        Notifications.createChannels(this)
        SyncScheduler.schedulePeriodic(this)
        watchConnectivity()
        // Open early so the first screen does not wait; a failure is shown by the
        // screen that asks for the engine again.
        appScope.launch {
            try {
                engine()
                replanReminder()
            } catch (e: HadirException) {
                Log.e(LOG_TAG, "engine did not open: ${e.message}")
            } catch (e: PlatformException) {
                Log.e(LOG_TAG, "engine did not open, Keystore: ${e.message}")
            }
        }
    }

    /**
     * The session's engine, opened on an I/O thread; null before the first
     * enrollment made a key. Throws [HadirException] if the engine cannot open, or the
     * Keystore's [PlatformException] if the key cannot be read; the next call tries
     * again.
     */
    suspend fun engine(): HadirEngine? = withContext(Dispatchers.IO) { session.engine }

    /**
     * Plans the phone owner's next attendance reminder from :shell's [Reminders], or
     * drops it when nothing is due ahead. Call after a check-in and when the app comes
     * back; it never throws.
     */
    suspend fun replanReminder(): Unit = withContext(Dispatchers.IO) {
        try {
            val engine = session.engine ?: return@withContext
            val owner = engine.people().firstOrNull { it.isDeviceOwner } ?: return@withContext
            val reminder = Reminders.next(engine, owner.person)
            if (reminder == null) {
                reminders.cancel()
            } else {
                reminders.schedule(System.currentTimeMillis() + reminder.delayMs, reminder.title, reminder.text)
            }
        } catch (e: HadirException) {
            Log.w(LOG_TAG, "reminder not planned: ${e.message}")
        } catch (e: PlatformException) {
            Log.w(LOG_TAG, "reminder not planned, Keystore: ${e.message}")
        }
    }

    /** Server and pins from this build's regency flavour; the database never backed up. */
    private fun engineConfig() = EngineConfig(
        databasePath = File(noBackupFilesDir, DATABASE_NAME).path,
        serverUrl = BuildConfig.SERVER_URL,
        pinnedCertSha256 = BuildConfig.PINNED_CERT_SHA256.toList(),
        extraRootCertDer = null,
        appVersion = "${BuildConfig.VERSION_NAME} (android)",
        platform = "android",
    )

    /**
     * The per-app, per-signing-key device id Android gives every app (`ANDROID_ID`):
     * the device's label for the server, never a secret (the key is the binding).
     */
    @SuppressLint("HardwareIds")
    private fun androidId(): String =
        Settings.Secure.getString(contentResolver, Settings.Secure.ANDROID_ID) ?: "unknown"

    /** A sync pass whenever a network becomes the default (e.g. back from no signal). */
    private fun watchConnectivity() {
        val connectivity = getSystemService(ConnectivityManager::class.java) ?: return
        connectivity.registerDefaultNetworkCallback(
            object : ConnectivityManager.NetworkCallback() {
                override fun onAvailable(network: Network) {
                    SyncScheduler.onNetworkAvailable(this@HadirApplication)
                }
            },
        )
    }
}
