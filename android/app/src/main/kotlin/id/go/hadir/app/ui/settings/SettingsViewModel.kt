/**
 * The settings screen's ViewModel: reads :shell's [SettingsScreen] (server, device id,
 * people, version, the lost-phone steps) on IO from the session's engine.
 */
package id.go.hadir.app.ui.settings

import id.go.hadir.app.BuildConfig
import id.go.hadir.app.ui.common.ShellViewModel
import id.go.hadir.core.HadirEngine
import id.go.hadir.shell.SettingsScreen
import id.go.hadir.shell.SettingsState
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow

/** Holds what the settings screen shows. */
class SettingsViewModel(private val engine: HadirEngine?) : ShellViewModel() {
    private val stateFlow = MutableStateFlow<Result<SettingsState>?>(null)

    /** The phone's identity and people, or why they could not be read; null while reading. */
    val state: StateFlow<Result<SettingsState>?> = stateFlow

    init {
        refresh()
    }

    /** Reads again (on resume: a permission may have changed too). */
    fun refresh() = act {
        stateFlow.value = SettingsScreen.read(engine, BuildConfig.SERVER_URL, BuildConfig.VERSION_NAME)
    }
}
