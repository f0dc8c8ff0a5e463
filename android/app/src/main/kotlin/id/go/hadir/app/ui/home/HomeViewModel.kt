/**
 * The home screen's ViewModel: owns :shell's [HomePresenter], re-reads it on IO when
 * the screen resumes and after every background sync pass, and re-plans the
 * attendance reminder on resume.
 */
package id.go.hadir.app.ui.home

import android.os.Build
import androidx.lifecycle.viewModelScope
import id.go.hadir.app.HadirApplication
import id.go.hadir.app.sync.SyncScheduler
import id.go.hadir.app.ui.common.ShellViewModel
import id.go.hadir.core.HadirEngine
import id.go.hadir.core.PersonRef
import id.go.hadir.shell.HomePresenter
import id.go.hadir.shell.HomeState
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.launch

/** Holds the home presenter for the screen. */
class HomeViewModel(private val app: HadirApplication, engine: HadirEngine) : ShellViewModel() {
    private val presenter = HomePresenter(engine, Build.MANUFACTURER, app.backgroundSync)

    /** What the screen shows. */
    val state: StateFlow<HomeState> = presenter.state

    init {
        viewModelScope.launch { SyncScheduler.passesFinished(app).collect { refresh() } }
    }

    /** The screen came back (from a check-in, another screen, the phone's settings). */
    fun onResume() {
        refresh()
        act { app.replanReminder() }
    }

    /** Re-reads today, the next attendance and the sync line. */
    fun refresh() = act { presenter.refresh() }

    /** Shows another person of a shared phone. */
    fun choose(person: PersonRef) = act { presenter.choose(person) }
}
