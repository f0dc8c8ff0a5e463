/**
 * The reminder before the next expected attendance: when to notify and what to say.
 * The app schedules it (WorkManager) on the phone's clock; the engine's anchored clock
 * says how far away the deadline is, so a wrong phone clock cannot shift it.
 */
package id.go.hadir.shell

import id.go.hadir.core.HadirEngine
import id.go.hadir.core.PersonRef

/** A notification to post after [delayMs]. */
data class Reminder(val delayMs: Long, val title: String, val text: String)

/** Plans the next reminder. */
object Reminders {
    /** How long before the deadline the reminder comes. */
    const val LEAD_MS = 10 * 60_000L

    /** The next reminder for [person], or null when nothing is due ahead (or it is already overdue). */
    fun next(engine: HadirEngine, person: PersonRef): Reminder? {
        val next = attempt { engine.nextExpectedAttendance(person) }.getOrNull() ?: return null
        if (next.expected.overdue) return null
        val now = attempt { engine.localTime(person).nowMs }.getOrNull() ?: return null
        val delay = maxOf(0L, next.expected.dueMs - LEAD_MS - now)
        return Reminder(delay, "${Teks.attendance(next.expected.kind)} pukul ${next.expected.at}", next.staffMessage)
    }
}
