/**
 * The check-in screen's ViewModel: owns :shell's [CheckInFlow] over the session's
 * engine and the platform location, runs its suspend actions in order on IO, asks the
 * flow to deliver again whenever a background sync pass finishes, and, once per
 * recorded check-in, asks WorkManager for a sync pass and re-plans the reminder.
 */
package id.go.hadir.app.ui.checkin

import androidx.lifecycle.viewModelScope
import id.go.hadir.app.HadirApplication
import id.go.hadir.app.sync.SyncScheduler
import id.go.hadir.app.ui.common.ShellViewModel
import id.go.hadir.core.AttendanceKind
import id.go.hadir.core.EnrolledPersonInfo
import id.go.hadir.core.HadirEngine
import id.go.hadir.shell.CheckInFlow
import id.go.hadir.shell.CheckInStep
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.distinctUntilChanged
import kotlinx.coroutines.flow.filterNotNull
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.launch

/** Holds the check-in flow for the screen. */
class CheckInViewModel(private val app: HadirApplication, engine: HadirEngine) : ShellViewModel() {
    private val flow = CheckInFlow(engine, app.locationSource)

    /** Where the check-in stands. */
    val step: StateFlow<CheckInStep> = flow.step

    init {
        viewModelScope.launch { SyncScheduler.passesFinished(app).collect { deliver() } }
        viewModelScope.launch {
            flow.step.map { (it as? CheckInStep.Recorded)?.receipt?.checkinId }
                .filterNotNull()
                .distinctUntilChanged()
                .collect {
                    SyncScheduler.afterCheckIn(app)
                    act { app.replanReminder() }
                }
        }
    }

    /** The location permission is granted: the big button's flow begins. */
    fun start() = act { flow.start() }

    fun pickPerson(person: EnrolledPersonInfo) = act { flow.pickPerson(person) }

    fun retryLocation() = act { flow.retryLocation() }

    fun chooseKind(kind: AttendanceKind) = flow.chooseKind(kind)

    /** "Lanjut", or "Tetap catat" outside the office. */
    fun proceed() = flow.proceed()

    /** The back camera read [token] (analysis thread). */
    fun onQrScanned(token: String) = flow.onQrScanned(token)

    fun onCameraDenied() = flow.onCameraDenied()

    fun onSelfieTaken(jpeg: ByteArray) = act { flow.onSelfieTaken(jpeg) }

    /** Sends what waits and shows the decision if it came. */
    fun deliver() = act { flow.deliver() }

    override fun onCleared() {
        flow.reset()
    }
}
