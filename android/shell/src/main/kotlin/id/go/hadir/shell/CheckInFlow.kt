/**
 * The check-in as a state machine, from the big "Hadir" button to the server's
 * decision:
 *
 * 1. on a shared phone, pick the person ([CheckInStep.PickPerson]);
 * 2. a fresh fix and the core's verdict, before the camera opens: inside, outside with
 *    the distance, a mock location, no permission, location off ([CheckInStep.Locating],
 *    [CheckInStep.LocationBlocked], [CheckInStep.LocationChecked]);
 * 3. the office monitor's QR where the office asks for it ([CheckInStep.ScanQr]);
 * 4. the front-camera selfie ([CheckInStep.TakeSelfie]);
 * 5. "tercatat" as soon as the outbox holds it ([CheckInStep.Recorded]);
 * 6. the server's decision and its reasons when it comes (same step, `decision` set).
 *
 * Every failure is explained and recoverable: the step says what to do and the action
 * that does it leads back into the flow. Actions are `suspend` and meant for the
 * screen's coroutine scope; an action that does not fit the current step is ignored
 * (a double tap). The quick transitions (proceed, the QR, the kind) are atomic updates, safe
 * from any thread; the ones that call the engine hold the flow's lock.
 */
package id.go.hadir.shell

import id.go.hadir.core.AttendanceKind
import id.go.hadir.core.CheckInReceipt
import id.go.hadir.core.DecisionStatus
import id.go.hadir.core.EnrolledPersonInfo
import id.go.hadir.core.GeofenceStatus
import id.go.hadir.core.HadirEngine
import id.go.hadir.core.LocationFix
import id.go.hadir.core.LocationVerdict
import id.go.hadir.core.OutboxStatus
import id.go.hadir.core.ServerDecision
import id.go.hadir.shell.platform.LocationReading
import id.go.hadir.shell.platform.LocationSource
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock

/** Why the flow cannot go on to the camera. */
enum class LocationBlock { PERMISSION_DENIED, LOCATION_OFF, TIMED_OUT, MOCK_LOCATION, TOO_INACCURATE, NO_OFFICE, CAMERA_DENIED }

/** The server's decision as the screen shows it. */
data class Decision(
    /** True when it counts as attendance (accepted, with or without flags). */
    val accepted: Boolean,
    /** "Diterima", "Ditolak"... */
    val title: String,
    /** The server's own message (Indonesian), when it gave one. */
    val message: String,
    /** The reasons, spelled out: rejection codes, or the flags a supervisor will see. */
    val reasons: List<String>,
) {
    companion object {
        /** A final decision, or null while the server has not decided. */
        fun of(d: ServerDecision): Decision? = when (d.status) {
            DecisionStatus.ACCEPTED, DecisionStatus.ACCEPTED_WITH_FLAGS, DecisionStatus.REJECTED -> Decision(
                accepted = d.status != DecisionStatus.REJECTED,
                title = Teks.decision(d.status),
                message = d.message,
                reasons = d.codes.filter { it != "ACCEPTED" }.map(Teks::flag),
            )
            DecisionStatus.RETRY_LATER, DecisionStatus.UNKNOWN -> null
        }
    }
}

/** Where the check-in stands. */
sealed interface CheckInStep {
    /** Nothing started. */
    data object Idle : CheckInStep

    /** A shared phone: who is checking in? */
    data class PickPerson(val people: List<EnrolledPersonInfo>) : CheckInStep

    /** Waiting for a fresh fix. */
    data class Locating(val person: EnrolledPersonInfo) : CheckInStep

    /** The flow stops here until the person fixes it; [remedy] says how. */
    data class LocationBlocked(
        val person: EnrolledPersonInfo,
        val block: LocationBlock,
        val message: String,
        val remedy: Remedy,
    ) : CheckInStep

    /**
     * The verdict, before the camera opens. Inside: go on. Outside: the distance, try
     * again, or record anyway (the server will very likely refuse; the record is
     * evidence if the office's area is drawn wrong).
     */
    data class LocationChecked(
        val person: EnrolledPersonInfo,
        val verdict: LocationVerdict,
        val fix: LocationFix,
        val kind: AttendanceKind,
        /** True when the phone expects the server to accept. */
        val looksOk: Boolean,
        /** "Anda di dalam area Dinas Kominfo" / "Anda berada 240 m dari Dinas Kominfo". */
        val headline: String,
        /** The attendances the person may choose instead of [kind] (the schedule's next is [kind]). */
        val kinds: List<AttendanceKind> = CHOOSABLE,
    ) : CheckInStep {
        companion object {
            /** Every attendance a check-in can be: the server accepts each at any office. */
            val CHOOSABLE = listOf(AttendanceKind.CHECK_IN, AttendanceKind.BREAK_START, AttendanceKind.BREAK_END, AttendanceKind.CHECK_OUT)
        }
    }

    /** Scan the office monitor's QR. [problem] when the last scan was refused. */
    data class ScanQr(
        val person: EnrolledPersonInfo,
        val verdict: LocationVerdict,
        val fix: LocationFix,
        val kind: AttendanceKind,
        val problem: Problem? = null,
    ) : CheckInStep

    /** Take the selfie. [problem] when the last one was refused. */
    data class TakeSelfie(
        val person: EnrolledPersonInfo,
        val verdict: LocationVerdict,
        val fix: LocationFix,
        val kind: AttendanceKind,
        val qrToken: String?,
        val problem: Problem? = null,
    ) : CheckInStep

    /** Signing and writing to the outbox. */
    data class Recording(val person: EnrolledPersonInfo, val kind: AttendanceKind) : CheckInStep

    /**
     * In the outbox: "tercatat". [decision] arrives when the server decides;
     * until then [delivery] says whether it is on its way or waits for a signal.
     */
    data class Recorded(
        val person: EnrolledPersonInfo,
        val kind: AttendanceKind,
        val receipt: CheckInReceipt,
        /** "Absen masuk tercatat pukul 07.41 WIB." */
        val headline: String,
        val delivery: String,
        val decision: Decision? = null,
    ) : CheckInStep

    /** Something else failed; [problem] says what and whether to retry. */
    data class Failed(val person: EnrolledPersonInfo?, val problem: Problem) : CheckInStep
}

/** The check-in flow over the engine and the platform's location. */
class CheckInFlow(
    private val engine: HadirEngine,
    private val location: LocationSource,
) {
    private val mutable = MutableStateFlow<CheckInStep>(CheckInStep.Idle)
    private val lock = Mutex()

    /** The current step. */
    val step: StateFlow<CheckInStep> = mutable

    /** The big button: one person goes straight to the location; several are asked first. */
    suspend fun start() = lock.withLock {
        val people = attempt { engine.people() }.getOrElse { return@withLock fail(null, it) }
        when (people.size) {
            0 -> fail(null, ProblemException(Problem("DEVICE_NOT_ENROLLED", NO_PEOPLE, Remedy.ASK_ADMIN)))
            1 -> locate(people.single())
            else -> mutable.value = CheckInStep.PickPerson(people)
        }
    }

    /** On a shared phone: the person who is checking in. */
    suspend fun pickPerson(person: EnrolledPersonInfo) = lock.withLock {
        if (mutable.value is CheckInStep.PickPerson) locate(person)
    }

    /** Try the location again (after allowing it, switching it on, turning off a mock app, or moving). */
    suspend fun retryLocation() = lock.withLock {
        val person = when (val s = mutable.value) {
            is CheckInStep.LocationBlocked -> s.person
            is CheckInStep.LocationChecked -> s.person
            is CheckInStep.Failed -> s.person
            else -> null
        } ?: return@withLock
        locate(person)
    }

    /** Choose another attendance than the one the schedule expects next. */
    fun chooseKind(kind: AttendanceKind) = mutable.update { s ->
        if (s is CheckInStep.LocationChecked && kind in s.kinds) s.copy(kind = kind) else s
    }

    /**
     * Go on to the QR or the camera. Outside the office this records anyway; a mock
     * location never goes on (it is blocked before this step).
     */
    fun proceed() = mutable.update { s ->
        when {
            s !is CheckInStep.LocationChecked -> s
            s.verdict.qrRequired -> CheckInStep.ScanQr(s.person, s.verdict, s.fix, s.kind)
            else -> CheckInStep.TakeSelfie(s.person, s.verdict, s.fix, s.kind, qrToken = null)
        }
    }

    /** The scanner read a QR on the office monitor (any thread: the camera's analyzer calls it). */
    fun onQrScanned(token: String) = mutable.update { s ->
        val text = token.trim()
        when {
            s !is CheckInStep.ScanQr -> s
            text.startsWith(ENROLLMENT_QR_PREFIX) ->
                s.copy(problem = Problem("QR_NOT_OFFICE", NOT_OFFICE_QR, Remedy.RESCAN_QR, "qr_token"))
            else -> CheckInStep.TakeSelfie(s.person, s.verdict, s.fix, s.kind, qrToken = text)
        }
    }

    /** The camera permission was refused: explained, recoverable from the settings. */
    fun onCameraDenied() = mutable.update { s ->
        val person = when (s) {
            is CheckInStep.ScanQr -> s.person
            is CheckInStep.TakeSelfie -> s.person
            else -> return@update s
        }
        CheckInStep.LocationBlocked(person, LocationBlock.CAMERA_DENIED, CAMERA_DENIED, Remedy.OPEN_SETTINGS)
    }

    /** The selfie was taken: sign it and put it in the outbox, then try to deliver at once. */
    suspend fun onSelfieTaken(jpeg: ByteArray) {
        val s = lock.withLock {
            val s = mutable.value as? CheckInStep.TakeSelfie ?: return
            mutable.value = CheckInStep.Recording(s.person, s.kind)
            s
        }
        val receipt = attempt { engine.checkIn(s.person.person, s.kind, s.fix, jpeg, s.qrToken) }.getOrElse {
            val problem = it.problem
            mutable.value = when (problem.remedy) {
                Remedy.RETAKE_SELFIE -> s.copy(problem = problem)
                Remedy.RESCAN_QR -> CheckInStep.ScanQr(s.person, s.verdict, s.fix, s.kind, problem)
                else -> CheckInStep.Failed(s.person, problem)
            }
            return
        }
        val time = attempt { engine.localTime(s.person.person) }.getOrNull()
        val at = time?.let { "pukul ${Teks.time(receipt.recordedAtMs, it.utcOffsetMinutes)} ${Teks.zone(it.utcOffsetMinutes)}" }
        mutable.value = CheckInStep.Recorded(
            s.person, s.kind, receipt,
            headline = listOfNotNull("${Teks.attendance(s.kind)} tercatat", at).joinToString(" ") + ".",
            delivery = SENDING,
        )
        deliver()
    }

    /**
     * Sends what waits now and shows this check-in's decision if it came. Call it again
     * when the network returns or a background sync ran (it reads the outbox first, so
     * a decision a background pass fetched shows without another request).
     */
    suspend fun deliver() {
        val recorded = mutable.value as? CheckInStep.Recorded ?: return
        if (recorded.decision != null) return
        decisionInOutbox(recorded)?.let { return show(recorded, it, null) }
        val report = attempt { engine.syncNow() }.getOrElse { return show(recorded, null, waiting(it.problem.message)) }
        val mine = report.decisions.lastOrNull { it.checkinId == recorded.receipt.checkinId }
        val decision = mine?.let(Decision::of) ?: decisionInOutbox(recorded)
        val delivery = when {
            decision != null -> DELIVERED
            report.errorMessage != null -> waiting(report.errorMessage!!)
            else -> SENT_WAITING
        }
        show(recorded, decision, delivery)
    }

    /** Back to the start (the screen closed). */
    fun reset() { mutable.value = CheckInStep.Idle }

    private fun show(recorded: CheckInStep.Recorded, decision: Decision?, delivery: String?) {
        mutable.compareAndSet(recorded, recorded.copy(decision = decision, delivery = delivery ?: recorded.delivery))
    }

    /** The decision the outbox holds for this check-in, once final. */
    private fun decisionInOutbox(recorded: CheckInStep.Recorded): Decision? {
        val item = attempt { engine.history(recorded.person.person, 50u) }.getOrNull()
            ?.firstOrNull { it.checkinId == recorded.receipt.checkinId } ?: return null
        if (item.status == OutboxStatus.PENDING) return null
        return item.decision?.let(Decision::of)
    }

    private suspend fun locate(person: EnrolledPersonInfo) {
        mutable.value = CheckInStep.Locating(person)
        val blocked = { block: LocationBlock, message: String, remedy: Remedy ->
            mutable.value = CheckInStep.LocationBlocked(person, block, message, remedy)
        }
        val fix = when (val reading = location.freshFix()) {
            LocationReading.PermissionDenied -> return blocked(LocationBlock.PERMISSION_DENIED, PERMISSION_DENIED, Remedy.OPEN_SETTINGS)
            LocationReading.LocationOff -> return blocked(LocationBlock.LOCATION_OFF, LOCATION_OFF, Remedy.OPEN_SETTINGS)
            LocationReading.TimedOut -> return blocked(LocationBlock.TIMED_OUT, TIMED_OUT, Remedy.RETRY)
            is LocationReading.Fix -> reading.fix
        }
        val verdict = attempt { engine.checkLocation(person.person, fix) }.getOrElse { return fail(person, it) }
        val mock = verdict.problems.firstOrNull { it.code == MOCK_CODE }
        when {
            mock != null -> return blocked(LocationBlock.MOCK_LOCATION, "${mock.message} $MOCK_HELP", Remedy.OPEN_SETTINGS)
            verdict.status == GeofenceStatus.TOO_INACCURATE ->
                return blocked(LocationBlock.TOO_INACCURATE, "${verdict.message} $INACCURATE_HELP", Remedy.RETRY)
            verdict.status == GeofenceStatus.NO_OFFICES -> return blocked(LocationBlock.NO_OFFICE, verdict.message, Remedy.ASK_ADMIN)
        }
        val kind = attempt { engine.nextExpectedAttendance(person.person) }.getOrNull()?.expected?.kind
            ?.takeIf { it != AttendanceKind.UNKNOWN } ?: AttendanceKind.CHECK_IN
        mutable.value = CheckInStep.LocationChecked(person, verdict, fix, kind, verdict.looksOk, headline(verdict))
    }

    private fun headline(v: LocationVerdict): String = when (v.status) {
        GeofenceStatus.INSIDE -> "Anda di dalam area ${v.officeName ?: "kantor"}."
        GeofenceStatus.OUTSIDE -> "Anda berada ${v.distanceM?.let(Teks::distance) ?: "di luar"} dari ${v.officeName ?: "kantor"}."
        else -> v.message
    }

    private fun fail(person: EnrolledPersonInfo?, e: Throwable) {
        mutable.value = CheckInStep.Failed(person, e.problem)
    }

    private companion object {
        const val MOCK_CODE = "FIX_MOCK_LOCATION"
        const val ENROLLMENT_QR_PREFIX = "hadir-enroll:"
        const val NO_PEOPLE = "Ponsel ini belum didaftarkan untuk siapa pun. Daftar dulu dengan kode dari admin."
        const val PERMISSION_DENIED = "Hadir perlu izin lokasi akurat untuk memastikan Anda di kantor. " +
            "Buka Pengaturan > Aplikasi > Hadir > Izin > Lokasi, pilih \"Izinkan hanya saat aplikasi digunakan\" " +
            "dan aktifkan \"Gunakan lokasi akurat\", lalu coba lagi."
        const val LOCATION_OFF = "Lokasi ponsel mati. Aktifkan Lokasi (GPS) dari panel cepat atau Pengaturan > Lokasi, lalu coba lagi."
        const val TIMED_OUT = "Lokasi belum didapat. Pindah ke dekat jendela atau ke luar ruangan sebentar, lalu coba lagi."
        const val MOCK_HELP = "Matikan aplikasi lokasi palsu (Fake GPS) dan hapus pilihannya di Opsi pengembang > " +
            "\"Pilih aplikasi lokasi palsu\", lalu coba lagi. Absen dengan lokasi palsu ditolak server."
        const val INACCURATE_HELP = "Tunggu sebentar di tempat terbuka sampai lokasi lebih akurat, lalu coba lagi."
        const val CAMERA_DENIED = "Hadir perlu kamera untuk foto absen. Buka Pengaturan > Aplikasi > Hadir > Izin > Kamera, " +
            "pilih \"Izinkan hanya saat aplikasi digunakan\", lalu coba lagi."
        const val NOT_OFFICE_QR = "Ini QR pendaftaran, bukan QR kantor. Pindai QR yang tampil di monitor kantor."
        const val SENDING = "Mengirim ke server…"
        const val DELIVERED = "Terkirim ke server."
        const val SENT_WAITING = "Terkirim; server belum memutuskan. Keputusannya muncul di Riwayat."
        fun waiting(reason: String) =
            "Belum terkirim: $reason Absen Anda aman di ponsel dan dikirim otomatis saat ada sinyal."
    }
}
