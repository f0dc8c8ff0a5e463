/**
 * The process-wide owner of the Hadir engine and the platform adapters: opens the
 * engine off the main thread with this flavour's server, the Keystore key, the phone's
 * clocks and Logcat; creates the notification channels; schedules the periodic sync;
 * and asks for a sync whenever a network becomes available.
 */
package id.go.hadir.app

import android.app.Application
import android.net.ConnectivityManager
import android.net.Network
import android.util.Log
import id.go.hadir.app.platform.AndroidClock
import id.go.hadir.app.platform.AndroidLocationSource
import id.go.hadir.app.platform.KeystoreDeviceKeyStore
import id.go.hadir.app.platform.LOG_TAG
import id.go.hadir.app.platform.LogcatLogger
import id.go.hadir.app.reminder.Notifications
import id.go.hadir.app.reminder.ReminderScheduler
import id.go.hadir.app.sync.SyncScheduler
import id.go.hadir.core.EngineConfig
import id.go.hadir.core.HadirEngine
import id.go.hadir.core.HadirException
import id.go.hadir.shell.platform.DeviceKeyStore
import id.go.hadir.shell.platform.LocationSource
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.launch
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import kotlinx.coroutines.withContext
import java.io.File

/** The engine's SQLite file, in noBackupFilesDir: never backed up nor transferred. */
private const val DATABASE_NAME = "hadir.db"

/** Hadir's Application: see the file's documentation. */
class HadirApplication : Application() {

    /** Where the device key lives (created at the first enrollment). */
    val deviceKeyStore: DeviceKeyStore by lazy { KeystoreDeviceKeyStore() }

    /** Fresh fixes for the check-in flow. */
    val locationSource: LocationSource by lazy { AndroidLocationSource(this) }

    /** The next-attendance reminder. */
    val reminders: ReminderScheduler by lazy { ReminderScheduler(this) }

    /** Work that outlives a screen (opening the engine at start). */
    val appScope = CoroutineScope(SupervisorJob() + Dispatchers.Default)

    private val clock by lazy { AndroidClock(this) }
    private val logger = LogcatLogger()
    private val engineLock = Mutex()

    @Volatile
    private var opened: HadirEngine? = null

    override fun onCreate() {
        super.onCreate()
        Notifications.createChannels(this)
        SyncScheduler.schedulePeriodic(this)
        watchConnectivity()
        // Open early so the first screen does not wait; a failure is shown by the
        // screen that calls engine() again.
        appScope.launch {
            try {
                engine()
            } catch (e: Exception) {
                // HadirException from the engine, PlatformException from the Keystore.
                Log.e(LOG_TAG, "engine did not open: ${e.javaClass.simpleName}: ${e.message}")
            }
        }
    }

    /**
     * The engine, opened once on first use on an I/O thread (SQLite and the key).
     * Throws [HadirException] if it cannot open (or the Keystore's
     * `PlatformException` if the key cannot be read); the next call tries again.
     */
    suspend fun engine(): HadirEngine =
        opened ?: engineLock.withLock {
            opened ?: withContext(Dispatchers.IO) { open() }.also { opened = it }
        }

    /**
     * Opens the engine again after the device key changed: created at the first
     * enrollment ([DeviceKeyStore.create]) or deleted. The previous engine is closed:
     * calls already running on it finish, later calls on it fail, so hold the engine
     * returned here, not the old one.
     */
    suspend fun reopenEngine(): HadirEngine =
        engineLock.withLock {
            opened?.close()
            opened = null
            withContext(Dispatchers.IO) { open() }.also { opened = it }
        }

    /**
     * Server and pins from this build's regency flavour. Without a Keystore key (not
     * created yet, or impossible on this phone) the engine uses its own software key.
     */
    private fun open(): HadirEngine =
        HadirEngine.open(
            config = EngineConfig(
                databasePath = File(noBackupFilesDir, DATABASE_NAME).path,
                serverUrl = BuildConfig.SERVER_URL,
                pinnedCertSha256 = BuildConfig.PINNED_CERT_SHA256.toList(),
                extraRootCertDer = null,
                appVersion = "${BuildConfig.VERSION_NAME} (android)",
                platform = "android",
            ),
            deviceKey = deviceKeyStore.existing(),
            clock = clock,
            logger = logger,
        )

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
