/**
 * Every Indonesian text the screens show that the core does not already give, and the
 * formatting of times, dates, durations and distances (PUEBI: `07.45`, `1,2 km`).
 * Times are office-local: the office's UTC offset comes from the engine's `localTime`,
 * never from the phone's time-zone setting, which staff may have wrong.
 */
package id.go.hadir.shell

import id.go.hadir.core.AttendanceKind
import id.go.hadir.core.DayStatus
import id.go.hadir.core.DecisionStatus
import id.go.hadir.core.LeaveType
import id.go.hadir.core.OutboxStatus
import java.time.Instant
import java.time.ZoneOffset
import java.util.Locale
import kotlin.math.roundToLong

/** Texts and formatters, in Bahasa Indonesia. */
object Teks {
    private val days = listOf("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
    private val months = listOf(
        "Januari", "Februari", "Maret", "April", "Mei", "Juni",
        "Juli", "Agustus", "September", "Oktober", "November", "Desember",
    )

    /** The name of an attendance, as on the big button and in lists. */
    fun attendance(kind: AttendanceKind): String = when (kind) {
        AttendanceKind.CHECK_IN -> "Absen masuk"
        AttendanceKind.BREAK_START -> "Mulai istirahat"
        AttendanceKind.BREAK_END -> "Selesai istirahat"
        AttendanceKind.CHECK_OUT -> "Absen pulang"
        AttendanceKind.UNKNOWN -> "Absen lainnya"
    }

    /** The server's decision on a check-in. */
    fun decision(status: DecisionStatus): String = when (status) {
        DecisionStatus.ACCEPTED -> "Diterima"
        DecisionStatus.ACCEPTED_WITH_FLAGS -> "Diterima, ditandai untuk diperiksa atasan"
        DecisionStatus.REJECTED -> "Ditolak"
        DecisionStatus.RETRY_LATER -> "Belum diputuskan, dikirim ulang nanti"
        DecisionStatus.UNKNOWN -> "Menunggu pemeriksaan"
    }

    /** Where a check-in on this phone stands. */
    fun outbox(status: OutboxStatus): String = when (status) {
        OutboxStatus.PENDING -> "Tercatat di ponsel, menunggu dikirim"
        OutboxStatus.ACCEPTED -> "Diterima server"
        OutboxStatus.REJECTED -> "Ditolak server"
    }

    /** A team member's day. */
    fun day(status: DayStatus): String = when (status) {
        DayStatus.DAY_OFF -> "Libur"
        DayStatus.ON_LEAVE -> "Cuti/izin"
        DayStatus.NOT_YET -> "Belum waktunya"
        DayStatus.NOT_ARRIVED -> "Belum hadir"
        DayStatus.PRESENT -> "Hadir"
        DayStatus.LATE -> "Terlambat"
        DayStatus.ABSENT -> "Tidak hadir"
        DayStatus.UNKNOWN -> "Status lain"
    }

    /** A kind of leave. */
    fun leave(type: LeaveType): String = when (type) {
        LeaveType.CUTI -> "Cuti"
        LeaveType.SAKIT -> "Sakit"
        LeaveType.DINAS_LUAR -> "Dinas luar"
        LeaveType.IZIN -> "Izin"
        LeaveType.UNKNOWN -> "Izin lain"
    }

    /** Deduction codes of the TPP tables, spelled out (TL: late arrival; PSW: leaving early). */
    fun deduction(code: String): String {
        val band = code.lastOrNull()?.digitToIntOrNull()
        val minutes = when (band) {
            1 -> "1–30 menit"
            2 -> "31–60 menit"
            3 -> "61–90 menit"
            4 -> "91 menit atau lebih / tanpa absen"
            else -> null
        }
        return when {
            minutes != null && code.startsWith("TL") -> "$code: terlambat $minutes"
            minutes != null && code.startsWith("PSW") -> "$code: pulang sebelum waktunya $minutes"
            else -> code
        }
    }

    /** The flags a supervisor sees on a check-in, spelled out; an unknown code as is. */
    fun flag(code: String): String = when (code) {
        "SHARED_DEVICE" -> "Memakai ponsel rekan"
        "LATE_DELIVERY" -> "Terkirim jauh setelah waktunya"
        "TIME_UNANCHORED", "TIME_UNPROVEN" -> "Waktu tidak terbukti (hanya jam ponsel)"
        "TIME_SKEW" -> "Jam ponsel tidak tepat"
        "TIME_AFTER_RECEIPT" -> "Waktu di ponsel melewati waktu terima"
        "TIME_CONTRADICTED" -> "Waktu bertentangan dengan catatan server"
        "FIX_IMPOSSIBLE_TRAVEL" -> "Perpindahan lokasi tidak wajar"
        "SELFIE_REUSED" -> "Foto sama dengan sebelumnya"
        "SELFIE_NEAR_DUPLICATE" -> "Foto sangat mirip foto sebelumnya"
        "SELFIE_PHASH_MISMATCH" -> "Sidik foto tidak cocok"
        "QR_WAIVED" -> "QR kantor dikecualikan admin hari itu"
        else -> code
    }

    /** `07.45` at the office's offset. */
    fun time(atMs: Long, utcOffsetMinutes: Int): String {
        val t = Instant.ofEpochMilli(atMs).atOffset(ZoneOffset.ofTotalSeconds(utcOffsetMinutes * 60))
        return String.format(Locale.ROOT, "%02d.%02d", t.hour, t.minute)
    }

    /** `Senin, 30 November 2026` at the office's offset. */
    fun date(atMs: Long, utcOffsetMinutes: Int): String {
        val d = Instant.ofEpochMilli(atMs).atOffset(ZoneOffset.ofTotalSeconds(utcOffsetMinutes * 60))
        return "${days[d.dayOfWeek.value - 1]}, ${d.dayOfMonth} ${months[d.monthValue - 1]} ${d.year}"
    }

    /** A `YYYY-MM-DD` date as `Senin, 30 November 2026`. */
    fun isoDate(date: String): String {
        val d = java.time.LocalDate.parse(date)
        return "${days[d.dayOfWeek.value - 1]}, ${d.dayOfMonth} ${months[d.monthValue - 1]} ${d.year}"
    }

    /** The time zone's name: WIB, WITA, WIT (or `UTC+hh.mm`). */
    fun zone(utcOffsetMinutes: Int): String = when (utcOffsetMinutes) {
        420 -> "WIB"
        480 -> "WITA"
        540 -> "WIT"
        else -> String.format(
            Locale.ROOT, "UTC%s%02d.%02d",
            if (utcOffsetMinutes < 0) "-" else "+", Math.abs(utcOffsetMinutes) / 60, Math.abs(utcOffsetMinutes) % 60,
        )
    }

    /** `240 m`, `1,2 km`, `15 km`. */
    fun distance(metres: Double): String = when {
        metres < 1_000 -> "${metres.roundToLong()} m"
        metres < 10_000 -> String.format(Locale.ROOT, "%.1f km", metres / 1_000).replace('.', ',')
        else -> "${(metres / 1_000).roundToLong()} km"
    }

    /** A span as people say it: `baru saja`, `5 menit`, `2 jam`, `3 hari`. */
    fun span(ms: Long): String {
        val minutes = ms / 60_000
        return when {
            minutes < 1 -> "kurang dari 1 menit"
            minutes < 60 -> "$minutes menit"
            minutes < 48 * 60 -> "${minutes / 60} jam"
            else -> "${minutes / (24 * 60)} hari"
        }
    }

    /** `5 menit lalu`, from [thenMs] to [nowMs]. */
    fun ago(thenMs: Long, nowMs: Long): String =
        if (nowMs - thenMs < 60_000) "baru saja" else "${span(nowMs - thenMs)} lalu"

    /** The home screen's sync line. */
    fun lastSync(lastSuccessMs: Long?, nowMs: Long, pending: Int): String {
        val synced = lastSuccessMs?.let { "Terakhir tersinkron ${ago(it, nowMs)}." } ?: "Belum pernah tersinkron."
        val waiting = if (pending == 0) "Semua absen sudah terkirim." else "$pending absen menunggu dikirim."
        return "$synced $waiting"
    }
}
