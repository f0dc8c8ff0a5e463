/**
 * The history screen's ViewModel: owns :shell's [HistoryPresenter], reads the rows on
 * IO for everyone on the phone or one person, and the people for the filter of a
 * shared phone.
 */
package id.go.hadir.app.ui.history

import id.go.hadir.app.ui.common.ShellViewModel
import id.go.hadir.core.EnrolledPersonInfo
import id.go.hadir.core.HadirEngine
import id.go.hadir.core.HadirException
import id.go.hadir.core.PersonRef
import id.go.hadir.shell.HistoryPresenter
import id.go.hadir.shell.HistoryRow
import id.go.hadir.shell.Problem
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow

/** Holds the history presenter for the screen. */
class HistoryViewModel(private val engine: HadirEngine) : ShellViewModel() {
    private val presenter = HistoryPresenter(engine)
    private val peopleFlow = MutableStateFlow<List<EnrolledPersonInfo>>(emptyList())
    private val filterFlow = MutableStateFlow<PersonRef?>(null)

    /** The rows, newest first. */
    val rows: StateFlow<List<HistoryRow>> = presenter.rows

    /** Why the history could not be read. */
    val problem: StateFlow<Problem?> = presenter.problem

    /** The people on this phone (more than one: a shared phone, the filter shows). */
    val people: StateFlow<List<EnrolledPersonInfo>> = peopleFlow

    /** The person shown, or null for everyone. */
    val filter: StateFlow<PersonRef?> = filterFlow

    init {
        act {
            try {
                peopleFlow.value = engine.people()
            } catch (e: HadirException) {
                // The filter stays hidden; the rows' own read reports the problem.
            }
        }
        refresh()
    }

    /** Re-reads the rows for the current filter. */
    fun refresh() = act { presenter.refresh(filterFlow.value) }

    /** Shows [person]'s check-ins, or everyone's with null. */
    fun show(person: PersonRef?) {
        filterFlow.value = person
        refresh()
    }
}
