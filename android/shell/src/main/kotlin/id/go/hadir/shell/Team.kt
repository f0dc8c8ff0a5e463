/**
 * The supervisor's team screen, live while it is open: read the team view, then follow
 * the feed from the view's cursor so no check-in falls between the two; replace a
 * member's row with each update; on a reset (the server's database was restored) and
 * when the office's date changes at midnight, read the view again and follow on from
 * its new cursor. [TeamPresenter.start] on the screen's start, [TeamPresenter.stop] on
 * its stop, [TeamPresenter.onTick] every minute while it is visible.
 *
 * The feed's callbacks arrive on the engine's own thread; they only queue events, and
 * one coroutine applies them in order, so the state never sees two writers.
 */
package id.go.hadir.shell

import id.go.hadir.core.DayStatus
import id.go.hadir.core.DecisionStatus
import id.go.hadir.core.HadirEngine
import id.go.hadir.core.PersonRef
import id.go.hadir.core.TaskHandle
import id.go.hadir.core.TeamListener
import id.go.hadir.core.TeamMemberInfo
import id.go.hadir.core.TeamUpdate
import id.go.hadir.core.TeamView
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.launch
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock

/** One team member's row. */
data class TeamRow(
    val person: PersonRef,
    val name: String,
    val status: DayStatus,
    /** "Hadir", "Terlambat 12 menit", "Cuti: Cuti (1–3 Desember)"... */
    val statusText: String,
    val lateMinutes: Int?,
    /** Deduction codes spelled out: "TL1: terlambat 1–30 menit". */
    val deductions: List<String>,
    /** Flags of the day's check-ins, spelled out, for the supervisor to review. */
    val flags: List<String>,
    val flagged: Boolean,
    /** "Absen masuk 07.52 WIB · Diterima". */
    val checkins: List<String>,
)

/** Whether the screen follows the team live. */
enum class Liveness { LOADING, LIVE, RECONNECTING, STOPPED }

/** What the team screen shows. */
data class TeamState(
    /** `YYYY-MM-DD` of the view. */
    val date: String = "",
    val dateText: String = "",
    val rows: List<TeamRow> = emptyList(),
    val liveness: Liveness = Liveness.LOADING,
    /** Why the feed is reconnecting or stopped, or the view could not be read. */
    val problem: Problem? = null,
    /** How many updates arrived live since the view was read. */
    val liveUpdates: Int = 0,
    /** The server's clock when the view was read, Unix ms ("diperbarui pukul …"). */
    val readAtMs: Long = 0,
)

/** The supervisor's team screen's logic. */
class TeamPresenter(
    private val engine: HadirEngine,
    private val supervisor: PersonRef,
    private val scope: CoroutineScope,
    /** Today's date (`YYYY-MM-DD`) at the supervisor's office; the engine's anchored clock by default. */
    private val today: () -> String = { engine.localTime(supervisor).date },
) {
    private sealed interface Event {
        val generation: Int
        data class Update(override val generation: Int, val update: TeamUpdate) : Event
        data class Retrying(override val generation: Int, val code: String, val message: String) : Event
        data class Reset(override val generation: Int) : Event
        data class Closed(override val generation: Int, val code: String, val message: String) : Event
    }

    private val mutable = MutableStateFlow(TeamState())
    private val lock = Mutex()
    private val events = Channel<Event>(Channel.UNLIMITED)
    private var handle: TaskHandle? = null
    private var started = false
    @Volatile private var generation = 0
    private var offset = 420

    /** The screen's state. */
    val state: StateFlow<TeamState> = mutable

    init {
        scope.launch { for (event in events) lock.withLock { apply(event) } }
    }

    /** The screen started: read the view and follow it live. */
    suspend fun start() = lock.withLock {
        started = true
        reload()
    }

    /** The screen stopped: cancel the feed (nothing runs while it is not visible). */
    suspend fun stop() = lock.withLock {
        started = false
        unsubscribe()
    }

    /**
     * Every minute while visible: after the office's midnight, read the new day; after a
     * read that failed for want of signal, try again.
     */
    suspend fun onTick() = lock.withLock {
        if (!started) return@withLock
        val s = mutable.value
        if (s.liveness == Liveness.STOPPED && s.problem?.remedy == Remedy.RETRY) return@withLock reload()
        val date = attempt { today() }.getOrNull() ?: return@withLock
        if (date != s.date) reload()
    }

    private fun unsubscribe() {
        generation++
        handle?.let {
            it.cancel()
            it.close()
        }
        handle = null
    }

    private suspend fun reload() {
        unsubscribe()
        val mine = generation
        mutable.value = mutable.value.copy(liveness = Liveness.LOADING, problem = null)
        offset = attempt { engine.localTime(supervisor).utcOffsetMinutes }.getOrDefault(offset)
        val view = attempt { engine.teamAttendance(supervisor, null) }.getOrElse {
            mutable.value = mutable.value.copy(liveness = Liveness.STOPPED, problem = it.problem)
            return
        }
        mutable.value = fromView(view)
        handle = attempt { engine.subscribeTeam(supervisor, view.cursor, Listener(mine)) }.getOrElse {
            mutable.value = mutable.value.copy(liveness = Liveness.STOPPED, problem = it.problem)
            null
        }
    }

    private suspend fun apply(event: Event) {
        if (event.generation != generation) return
        val s = mutable.value
        mutable.value = when (event) {
            is Event.Update -> {
                val member = event.update.member
                // A check-in of a later day: midnight passed, read the new day. One of an
                // earlier day (delivered late) changes nothing on today's screen.
                if (member.date > s.date) return reload()
                if (member.date < s.date) return
                val row = row(member)
                val rows = if (s.rows.any { it.person == member.person }) {
                    s.rows.map { if (it.person == member.person) row else it }
                } else {
                    s.rows + row
                }
                s.copy(rows = rows, liveness = Liveness.LIVE, problem = null, liveUpdates = s.liveUpdates + 1)
            }
            // Shown until the next update or re-read: the feed reports no "reconnected".
            is Event.Retrying -> s.copy(liveness = Liveness.RECONNECTING, problem = Problem(event.code, event.message, Remedy.RETRY))
            is Event.Reset -> return reload()
            is Event.Closed -> {
                handle = null
                s.copy(liveness = Liveness.STOPPED, problem = Problem(event.code, event.message, Remedy.ASK_ADMIN))
            }
        }
    }

    private fun fromView(view: TeamView) = TeamState(
        date = view.date,
        dateText = Teks.isoDate(view.date),
        rows = view.members.map(::row),
        liveness = Liveness.LIVE,
        readAtMs = view.serverTimeMs,
    )

    private fun row(m: TeamMemberInfo): TeamRow {
        val late = m.lateMinutes?.toInt()
        val statusText = when {
            m.status == DayStatus.LATE && late != null -> "Terlambat $late menit"
            m.status == DayStatus.ON_LEAVE && m.leave != null -> "${Teks.leave(m.leave!!.kind)} (${m.leave!!.from} s.d. ${m.leave!!.to})"
            m.status == DayStatus.DAY_OFF && m.holiday != null -> "Libur: ${m.holiday}"
            else -> Teks.day(m.status)
        }
        val flags = m.checkins.filter { it.status == DecisionStatus.ACCEPTED_WITH_FLAGS }
            .flatMap { it.codes }.distinct().map(Teks::flag)
        return TeamRow(
            person = m.person,
            name = m.displayName,
            status = m.status,
            statusText = statusText,
            lateMinutes = late,
            deductions = m.deviationCodes.map(Teks::deduction),
            flags = flags,
            flagged = m.flagged,
            checkins = m.checkins.map { c ->
                val at = c.trustedTimeMs?.let { " ${Teks.time(it, offset)} ${Teks.zone(offset)}" } ?: ""
                "${Teks.attendance(c.kind)}$at · ${Teks.decision(c.status)}"
            },
        )
    }

    /** Queues the feed's callbacks; never blocks the engine's thread. */
    private inner class Listener(private val mine: Int) : TeamListener {
        override fun onTeamUpdate(update: TeamUpdate) { events.trySend(Event.Update(mine, update)) }
        override fun onTeamRetrying(code: String, staffMessage: String, retryInMs: ULong) {
            events.trySend(Event.Retrying(mine, code, staffMessage))
        }
        override fun onTeamReset() { events.trySend(Event.Reset(mine)) }
        override fun onTeamClosed(code: String, staffMessage: String) { events.trySend(Event.Closed(mine, code, staffMessage)) }
    }
}
