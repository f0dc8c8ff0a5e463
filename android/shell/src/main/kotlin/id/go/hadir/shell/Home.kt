/**
 * The home screen: for the chosen person, today's attendances, the next one and its
 * deadline, the big "Hadir" button, the pending count and the last successful sync,
 * the way to the team screen for a supervisor, and the battery-saver guide when
 * background sync has stopped running. Read from the engine's local state: works
 * offline, cheap enough to refresh on every resume and after every sync.
 */
package id.go.hadir.shell

import id.go.hadir.core.AttendanceKind
import id.go.hadir.core.EnrolledPersonInfo
import id.go.hadir.core.HadirEngine
import id.go.hadir.core.OutboxStatus
import id.go.hadir.core.PersonRef
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow

/** One of today's attendances on this phone. */
data class TodayItem(val kind: AttendanceKind, val label: String, val time: String, val status: String, val pending: Boolean)

/** What the home screen shows. */
data class HomeState(
    val people: List<EnrolledPersonInfo> = emptyList(),
    val person: EnrolledPersonInfo? = null,
    /** `Senin, 30 November 2026`. */
    val date: String = "",
    val today: List<TodayItem> = emptyList(),
    /** "Absen pulang hari ini pukul 16:00." */
    val next: String? = null,
    /** The next attendance's deadline has passed. */
    val nextOverdue: Boolean = false,
    val pending: Int = 0,
    /** "Terakhir tersinkron 5 menit lalu. 1 absen menunggu dikirim." */
    val syncLine: String = "",
    /** Set when background sync has not run for a day: what to change on this phone. */
    val batteryGuide: BatteryGuide? = null,
    /** The owner supervises a team: show the team button. */
    val canOpenTeam: Boolean = false,
    /**
     * Set while an admin has suspended attendance by phone for the chosen person (pemda or
     * unit, with the admin's reason): shown instead of the check-in button, since the server
     * refuses check-ins made after the switch.
     */
    val phoneSuspended: String? = null,
    val problem: Problem? = null,
)

/** The home screen's logic. */
class HomePresenter(
    private val engine: HadirEngine,
    /** `Build.MANUFACTURER`, for the battery-saver guide. */
    private val manufacturer: String,
    /** Where background passes are recorded. */
    private val backgroundSync: BackgroundSync,
) {
    private val mutable = MutableStateFlow(HomeState())

    /** The screen's state. */
    val state: StateFlow<HomeState> = mutable

    /** Re-reads everything (on resume, after a check-in or a sync). Keeps the chosen person. */
    fun refresh() {
        val chosen = mutable.value.person?.person
        mutable.value = attempt { read(chosen) }.getOrElse { mutable.value.copy(problem = it.problem) }
    }

    /** Shows another person of a shared phone. */
    fun choose(person: PersonRef) {
        mutable.value = attempt { read(person) }.getOrElse { mutable.value.copy(problem = it.problem) }
    }

    private fun read(chosen: PersonRef?): HomeState {
        val people = engine.people()
        val person = people.firstOrNull { it.person == chosen } ?: people.firstOrNull { it.isDeviceOwner } ?: people.firstOrNull()
            ?: return HomeState(problem = Problem("DEVICE_NOT_ENROLLED", "Ponsel ini belum didaftarkan.", Remedy.ASK_ADMIN))
        val time = engine.localTime(person.person)
        val offset = time.utcOffsetMinutes
        val today = engine.history(person.person, 20u)
            .filter { Teks.date(it.recordedAtMs, offset) == Teks.date(time.nowMs, offset) }
            .sortedBy { it.recordedAtMs }
            .map {
                TodayItem(
                    it.kind, Teks.attendance(it.kind), "${Teks.time(it.recordedAtMs, offset)} ${Teks.zone(offset)}",
                    it.decision?.let { d -> Teks.decision(d.status) } ?: Teks.outbox(it.status),
                    it.status == OutboxStatus.PENDING,
                )
            }
        val next = engine.nextExpectedAttendance(person.person)
        val sync = engine.syncStatus()
        return HomeState(
            people = people,
            person = person,
            date = Teks.date(time.nowMs, offset),
            today = today,
            next = next?.staffMessage,
            nextOverdue = next?.expected?.overdue ?: false,
            pending = sync.pending.toInt(),
            syncLine = Teks.lastSync(sync.lastSuccessMs, time.nowMs, sync.pending.toInt()),
            batteryGuide = BatteryGuide.whenStalled(backgroundSync.lastPassOrFirstAsked(time.nowMs), time.nowMs, manufacturer),
            canOpenTeam = people.any { it.isDeviceOwner && it.isSupervisor },
            phoneSuspended = person.phoneSuspendedNotice,
        )
    }
}
