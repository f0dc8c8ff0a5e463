/**
 * The settings screen's ViewModel: reads :shell's [SettingsScreen] (server, device id,
 * people, version, the lost-phone steps) on IO from the session's engine, and runs
 * the reset of a revoked phone ([HadirSession.reset]) after the person confirms.
 */
package id.go.hadir.app.ui.settings

import id.go.hadir.app.BuildConfig
import id.go.hadir.app.ui.common.ShellViewModel
import id.go.hadir.core.HadirEngine
import id.go.hadir.shell.HadirSession
import id.go.hadir.shell.SettingsScreen
import id.go.hadir.shell.SettingsState
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow

/** Holds what the settings screen shows. */
class SettingsViewModel(private val engine: HadirEngine?, private val session: HadirSession) : ShellViewModel() {
    private val stateFlow = MutableStateFlow<Result<SettingsState>?>(null)

    /** The phone's identity and people, or why they could not be read; null while reading. */
    val state: StateFlow<Result<SettingsState>?> = stateFlow

    init {
        refresh()
    }

    private val resetWarningFlow = MutableStateFlow<String?>(null)

    /** The confirmation text while the person is asked to confirm a reset; null otherwise. */
    val resetWarning: StateFlow<String?> = resetWarningFlow

    /** "Daftarkan ulang ponsel ini": reads how much would be lost, then asks. */
    fun askReset() = act { resetWarningFlow.value = SettingsScreen.resetWarning(session.pendingBeforeReset()) }

    /** The person cancelled the reset. */
    fun cancelReset() { resetWarningFlow.value = null }

    /** The person confirmed: forget the enrollment, then [done] (back to the first run). */
    fun confirmReset(done: () -> Unit) = act {
        session.reset()
        resetWarningFlow.value = null
        kotlinx.coroutines.withContext(kotlinx.coroutines.Dispatchers.Main) { done() }
    }

    /** Reads again (on resume: a permission may have changed too). */
    fun refresh() = act {
        stateFlow.value = SettingsScreen.read(engine, BuildConfig.SERVER_URL, BuildConfig.VERSION_NAME)
    }
}
