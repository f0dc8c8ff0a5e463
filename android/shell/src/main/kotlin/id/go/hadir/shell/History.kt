/**
 * The history screen: this phone's check-ins, newest first, with where each stands and
 * the server's reasons (a rejection's message and code, an accepted check-in's flags).
 */
package id.go.hadir.shell

import id.go.hadir.core.EnrolledPersonInfo
import id.go.hadir.core.HadirEngine
import id.go.hadir.core.HistoryItem
import id.go.hadir.core.OutboxStatus
import id.go.hadir.core.PersonRef
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow

/** One row of the history. */
data class HistoryRow(
    val checkinId: String,
    /** "Absen masuk". */
    val title: String,
    /** "Senin, 30 November 2026, 07.41 WIB". */
    val whenText: String,
    /** "Diterima", "Ditolak", "Tercatat di ponsel, menunggu dikirim"... */
    val status: String,
    val pending: Boolean,
    val accepted: Boolean,
    /** The server's message and the reasons, spelled out. */
    val reasons: List<String>,
)

/** The history screen's logic. */
class HistoryPresenter(private val engine: HadirEngine) {
    private val mutable = MutableStateFlow<List<HistoryRow>>(emptyList())
    private val problemFlow = MutableStateFlow<Problem?>(null)

    /** The rows, newest first. */
    val rows: StateFlow<List<HistoryRow>> = mutable

    /** Why the history could not be read, if it could not. */
    val problem: StateFlow<Problem?> = problemFlow

    private val peopleFlow = MutableStateFlow<List<EnrolledPersonInfo>>(emptyList())

    /** The people on this phone, for the filter on a shared phone (one person: no filter). */
    val people: StateFlow<List<EnrolledPersonInfo>> = peopleFlow

    /** Re-reads the last [limit] check-ins, of one person or everyone on the phone. */
    fun refresh(person: PersonRef? = null, limit: Int = 100) {
        attempt {
            peopleFlow.value = engine.people()
            val offsets = HashMap<PersonRef, Int>()
            engine.history(person, limit.toUInt()).map { item ->
                val offset = offsets.getOrPut(item.person) { engine.localTime(item.person).utcOffsetMinutes }
                row(item, offset)
            }
        }.fold(
            onSuccess = { mutable.value = it; problemFlow.value = null },
            onFailure = { problemFlow.value = it.problem },
        )
    }

    private fun row(item: HistoryItem, offset: Int): HistoryRow {
        val decision = item.decision
        val reasons = buildList {
            if (item.status == OutboxStatus.REJECTED) {
                item.resultMessage?.let(::add)
                decision?.codes?.forEach { add(Teks.flag(it)) } ?: item.resultCode?.let(::add)
            } else {
                decision?.codes?.filter { it != "ACCEPTED" }?.forEach { add(Teks.flag(it)) }
            }
            if (item.status == OutboxStatus.PENDING && item.attempts > 0u) {
                add("Sudah ${item.attempts} kali dicoba kirim; dicoba lagi otomatis.")
            }
        }
        return HistoryRow(
            checkinId = item.checkinId,
            title = Teks.attendance(item.kind),
            whenText = "${Teks.date(item.recordedAtMs, offset)}, ${Teks.time(item.recordedAtMs, offset)} ${Teks.zone(offset)}",
            status = decision?.let { Teks.decision(it.status) } ?: Teks.outbox(item.status),
            pending = item.status == OutboxStatus.PENDING,
            accepted = item.status == OutboxStatus.ACCEPTED,
            reasons = reasons,
        )
    }
}
