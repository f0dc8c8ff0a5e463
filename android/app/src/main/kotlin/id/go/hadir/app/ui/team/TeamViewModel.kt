/**
 * The supervisor's team screen's ViewModel: owns :shell's [TeamPresenter] for the
 * phone owner's team, in this ViewModel's scope on IO (the feed's events are applied
 * there), and runs its start, stop and minute tick in order.
 */
package id.go.hadir.app.ui.team

import androidx.lifecycle.viewModelScope
import id.go.hadir.app.ui.common.ShellViewModel
import id.go.hadir.core.HadirEngine
import id.go.hadir.core.PersonRef
import id.go.hadir.shell.TeamPresenter
import id.go.hadir.shell.TeamState
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.launch

/** Holds the team presenter for the screen. */
class TeamViewModel(engine: HadirEngine, supervisor: PersonRef) : ShellViewModel() {
    private val presenter = TeamPresenter(engine, supervisor, CoroutineScope(viewModelScope.coroutineContext + Dispatchers.IO))

    /** What the screen shows. */
    val state: StateFlow<TeamState> = presenter.state

    /** The screen started: read the team and follow it live. */
    fun start() = act { presenter.start() }

    /** The screen stopped: nothing follows the team while it is not visible. */
    fun stop() = act { presenter.stop() }

    /** Every minute while visible: a new office day reads the team again. */
    fun onTick() = act { presenter.onTick() }

    override fun onCleared() {
        // viewModelScope is cancelled by now, and a queued stop with it: the live feed
        // must still be cancelled, so that nothing follows the team off screen.
        CoroutineScope(Dispatchers.IO).launch { presenter.stop() }
    }
}
