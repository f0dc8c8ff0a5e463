// Kotlin tests of the generated bindings, run on the JVM against a real hadir-server on
// 127.0.0.1. The device key is a java.security EC P-256 key (what Android Keystore
// exposes), so its DER signatures must verify on the server.
// Run by bindings/kotlin-tests.sh; prints "N passed, N failed" last.

import id.go.hadir.core.AttendanceKind
import id.go.hadir.core.ClockProvider
import id.go.hadir.core.ClockSample
import id.go.hadir.core.DecisionStatus
import id.go.hadir.core.DeviceKeyProvider
import id.go.hadir.core.DeviceLabelInput
import id.go.hadir.core.DeviceLabelKind
import id.go.hadir.core.EngineConfig
import id.go.hadir.core.GeofenceStatus
import id.go.hadir.core.HadirEngine
import id.go.hadir.core.HadirException
import id.go.hadir.core.LocationFix
import id.go.hadir.core.LocationProvider
import id.go.hadir.core.LogLevel
import id.go.hadir.core.Logger
import id.go.hadir.core.OutboxStatus
import id.go.hadir.core.PersonKind
import id.go.hadir.core.PersonRef
import id.go.hadir.core.PlatformException
import id.go.hadir.core.SyncListener
import id.go.hadir.core.SyncReport
import id.go.hadir.core.DayStatus
import id.go.hadir.core.TeamListener
import id.go.hadir.core.TaskHandle
import id.go.hadir.core.TeamUpdate
import id.go.hadir.core.TrustedTimeSource
import id.go.hadir.core.attestationChallenge
import id.go.hadir.testsupport.JavaSecurityDeviceKey
import id.go.hadir.testsupport.Server
import id.go.hadir.testsupport.Tally
import id.go.hadir.testsupport.cameraJpeg
import id.go.hadir.testsupport.expect
import id.go.hadir.testsupport.expectThrows
import id.go.hadir.testsupport.test
import id.go.hadir.testsupport.waitOutWibMidnight
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import java.net.InetAddress
import java.net.ServerSocket
import java.io.File
import java.nio.file.Files
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit

const val OFFICE_LAT = -3.7928
const val OFFICE_LON = 102.2608
const val OWNER_NIP = "198503122010011003"
const val GUEST_ID = "THL-2024/017"
const val SUPERVISOR_NIP = "197803212005012002"

/** Every day: arrive by 00:00, leave at 23:59, so a check-in today is late and the day is never over. */
const val MIDNIGHT_SCHEDULE = """{"week": {"mon": [{"kind": "check_in", "at": "00:00"}, {"kind": "check_out", "at": "23:59"}],
 "tue": [{"kind": "check_in", "at": "00:00"}, {"kind": "check_out", "at": "23:59"}],
 "wed": [{"kind": "check_in", "at": "00:00"}, {"kind": "check_out", "at": "23:59"}],
 "thu": [{"kind": "check_in", "at": "00:00"}, {"kind": "check_out", "at": "23:59"}],
 "fri": [{"kind": "check_in", "at": "00:00"}, {"kind": "check_out", "at": "23:59"}],
 "sat": [{"kind": "check_in", "at": "00:00"}, {"kind": "check_out", "at": "23:59"}],
 "sun": [{"kind": "check_in", "at": "00:00"}, {"kind": "check_out", "at": "23:59"}]}}"""

/** Collects a supervisor's live feed. */
class CollectingTeamListener : TeamListener {
    val updates = java.util.concurrent.LinkedBlockingQueue<TeamUpdate>()
    val problems = ConcurrentLinkedQueue<String>()
    val closed = ConcurrentLinkedQueue<String>()
    override fun onTeamUpdate(update: TeamUpdate) { updates.add(update) }
    override fun onTeamRetrying(code: String, staffMessage: String, retryInMs: ULong) { problems.add(code) }
    override fun onTeamReset() { problems.add("RESET") }
    override fun onTeamClosed(code: String, staffMessage: String) { closed.add(code) }
}

/** The stable code of any HadirException variant. */
val HadirException.errorCode: String get() = when (this) {
    is HadirException.InvalidInput -> code
    is HadirException.NotReady -> code
    is HadirException.Photo -> code
    is HadirException.Storage -> code
    is HadirException.Network -> code
    is HadirException.RateLimited -> code
    is HadirException.Overloaded -> code
    is HadirException.Refused -> code
    is HadirException.Platform -> code
}

/** Calls `body`, which re-enters the engine from a callback, and keeps what it threw. */
fun reenter(errors: ConcurrentLinkedQueue<Throwable>, body: suspend () -> Unit) {
    try { runBlocking { body() } } catch (e: Throwable) { errors.add(e) }
}

/** A SyncListener that re-enters the engine, sync and async, on every callback. */
class ReentrantSyncListener(val engine: HadirEngine, val person: PersonRef) : SyncListener {
    val reports = java.util.concurrent.LinkedBlockingQueue<SyncReport>()
    val nested = ConcurrentLinkedQueue<SyncReport>()
    val errors = ConcurrentLinkedQueue<Throwable>()
    val threads = ConcurrentLinkedQueue<Long>()
    override fun onSync(report: SyncReport) {
        threads.add(Thread.currentThread().id)
        reenter(errors) {
            engine.pendingCount()
            engine.history(person, 5u)
            engine.nextExpectedAttendance(person)
            engine.refreshConfig()
            nested.add(engine.syncNow())
        }
        reports.add(report)
    }
}

/** A TeamListener that re-enters the engine, sync and async, on every callback. The
 *  team view may fail where the server is down or refuses; that is recorded, not thrown. */
class ReentrantTeamListener(val engine: HadirEngine, val supervisor: PersonRef) : TeamListener {
    val updates = java.util.concurrent.LinkedBlockingQueue<TeamUpdate>()
    val retrying = java.util.concurrent.LinkedBlockingQueue<String>()
    val closed = java.util.concurrent.LinkedBlockingQueue<String>()
    val views = ConcurrentLinkedQueue<String>()
    val errors = ConcurrentLinkedQueue<Throwable>()
    val threads = ConcurrentLinkedQueue<String>()
    private fun reenterAll() {
        threads.add(Thread.currentThread().name)
        reenter(errors) {
            engine.people()
            engine.pendingCount()
            views.add(try { "${engine.teamAttendance(supervisor, null).members.size} members" } catch (e: HadirException) { e.errorCode })
        }
    }
    override fun onTeamUpdate(update: TeamUpdate) { reenterAll(); updates.add(update) }
    override fun onTeamRetrying(code: String, staffMessage: String, retryInMs: ULong) { reenterAll(); retrying.add(code) }
    override fun onTeamReset() { reenterAll(); retrying.add("RESET") }
    override fun onTeamClosed(code: String, staffMessage: String) { reenterAll(); closed.add(code) }
}

/** A Logger that calls the engine (sync and async) on every line before keeping it. */
class ReentrantLogger : Logger {
    @Volatile var engine: HadirEngine? = null
    val lines = java.util.concurrent.LinkedBlockingQueue<String>()
    val threads = ConcurrentLinkedQueue<String>()
    override fun log(level: LogLevel, message: String) {
        threads.add(Thread.currentThread().name)
        engine?.let { e ->
            e.pendingCount()
            e.deviceId()
            runBlocking { try { e.refreshConfig() } catch (_: HadirException) { } }
        }
        lines.add(message)
    }
}

/** A key whose hardware is gone: every call throws, as a Keystore can. */
class BrokenDeviceKey : DeviceKeyProvider {
    override fun publicKey(): ByteArray = throw IllegalStateException("keystore unavailable")
    override fun sign(message: ByteArray): ByteArray = throw IllegalStateException("keystore unavailable")
    override fun attestationChain(): List<ByteArray> = throw IllegalStateException("keystore unavailable")
}

/** A platform clock that fails, as a shell's can. */
class BrokenClock : ClockProvider {
    override fun read(): ClockSample = throw IllegalStateException("clock service unavailable")
}

class CollectingLogger : Logger {
    val lines = ConcurrentLinkedQueue<String>()
    override fun log(level: LogLevel, message: String) { lines.add("$level $message") }
}

fun fixAt(lat: Double, lon: Double, mock: Boolean = false) =
    LocationFix(lat, lon, 8.0, System.currentTimeMillis(), LocationProvider.FUSED, mock)

fun main() {
    waitOutWibMidnight()
    val bin = System.getenv("HADIR_SERVER_BIN") ?: error("set HADIR_SERVER_BIN")
    val work = Files.createTempDirectory("hadir-kotlin").toFile()
    val server = Server(bin, File(work, "server.db"), File(work, "selfies"))
    server.admin("office", "add", "--id", "kominfo", "--name", "Dinas Kominfo", "--utc-offset-minutes", "420",
        "--lat", OFFICE_LAT.toString(), "--lon", OFFICE_LON.toString(), "--radius-m", "100")
    val scheduleFile = File(work, "schedule.json").apply { writeText(MIDNIGHT_SCHEDULE) }
    server.admin("office", "schedule", "--id", "kominfo", "--file", scheduleFile.path)
    server.admin("person", "add", "--kind", "nip", "--id", SUPERVISOR_NIP, "--name", "Rina Kartika", "--office", "kominfo")
    server.admin("person", "add", "--kind", "nip", "--id", OWNER_NIP, "--name", "Budi Santoso", "--office", "kominfo",
        "--supervisor", "nip:$SUPERVISOR_NIP")
    server.admin("person", "add", "--kind", "non-asn", "--id", GUEST_ID, "--name", "Siti Aminah", "--office", "kominfo",
        "--supervisor", SUPERVISOR_NIP)
    val ownerCode = server.admin("enroll-code", "issue", "--person", OWNER_NIP).trim()
    val guestCode = server.admin("enroll-code", "issue", "--person", GUEST_ID).trim()
    val supervisorCode = server.admin("enroll-code", "issue", "--person", SUPERVISOR_NIP).trim()
    server.start()

    val owner = PersonRef(PersonKind.NIP, OWNER_NIP)
    val guest = PersonRef(PersonKind.NON_ASN, GUEST_ID)
    val key = JavaSecurityDeviceKey()
    val logger = CollectingLogger()
    val config = EngineConfig(File(work, "phone.db").path, server.url, emptyList(), null, "0.1.0 (kotlin-test)", "android")
    val engine = HadirEngine.open(config, key, null, logger)
    val label = DeviceLabelInput(DeviceLabelKind.IMEI, "490154203237518")

    test("a fresh engine is not enrolled and cannot check in") {
        expect(engine.deviceId() == null) { "device id before enrollment" }
        val e = expectThrows<HadirException.NotReady> {
            engine.checkIn(owner, AttendanceKind.CHECK_IN, fixAt(OFFICE_LAT, OFFICE_LON), cameraJpeg(1), null)
        }
        expect(e.code == "DEVICE_NOT_ENROLLED") { e.code }
        expect(e.staffMessage.contains("belum didaftarkan")) { e.staffMessage }
    }

    test("enroll with the java.security key: its DER signatures verify on the server") {
        val before = key.signatures
        val person = engine.enroll(ownerCode, owner, label)
        expect(person.isDeviceOwner) { "owner" }
        expect(person.displayName == "Budi Santoso") { person.displayName }
        expect(person.officeIds == listOf("kominfo")) { person.officeIds.toString() }
        expect(engine.deviceId() != null) { "device id after enrollment" }
        expect(key.signatures > before) { "the Kotlin key signed the requests" }
        expect(engine.publicKey().contentEquals(key.publicKey())) { "engine uses the Kotlin key" }
    }

    test("a colleague without a phone is added as a guest on the same device") {
        val person = engine.enroll(guestCode, guest, label)
        expect(!person.isDeviceOwner) { "guest" }
        expect(engine.people().map { it.person }.toSet() == setOf(owner, guest)) { engine.people().toString() }
    }

    test("the attestation challenge is the core's: SHA-256 of the domain and the normalised code") {
        val expected = java.security.MessageDigest.getInstance("SHA-256")
            .digest("hadir-attest-v1\nABCDEFGHJK".toByteArray())
        expect(attestationChallenge("abcd-efgh jk").contentEquals(expected)) { "challenge differs" }
        expect(attestationChallenge(" ABCD-EFGH-JK ").size == 32) { "32 bytes" }
    }

    test("a key with an attestation chain sends it at the first enrollment only; the server records it") {
        val firstNip = "199001012015031001"
        val secondNip = "199202022016032002"
        for ((nip, name) in listOf(firstNip to "Andi Wijaya", secondNip to "Dewi Lestari")) {
            server.admin("person", "add", "--kind", "nip", "--id", nip, "--name", name, "--office", "kominfo")
        }
        // Not a certificate: the server cannot verify it, records it as such, and enrolls.
        val attested = JavaSecurityDeviceKey(listOf("bukan sertifikat".toByteArray(), byteArrayOf(0x30, 0x00)))
        val phone = HadirEngine.open(config.copy(databasePath = File(work, "attested.db").path), attested, null, null)
        phone.enroll(server.admin("enroll-code", "issue", "--person", firstNip).trim(), PersonRef(PersonKind.NIP, firstNip), label)
        expect(attested.chainReads == 1) { "chain read ${attested.chainReads} times" }
        phone.enroll(server.admin("enroll-code", "issue", "--person", secondNip).trim(), PersonRef(PersonKind.NIP, secondNip), label)
        expect(attested.chainReads == 1) { "a colleague on the same phone sends no chain" }
        val listed = server.admin("device", "list", "--person", firstNip).trim()
        expect(listed.startsWith(phone.deviceId()!!)) { listed }
        expect(listed.contains("\tandroid\t") && listed.contains("attestation unverified\tFLAG (certificate 0")) { listed }
        expect(listed.contains("nip:$firstNip,nip:$secondNip")) { listed }
        val plain = server.admin("device", "list", "--person", OWNER_NIP).trim()
        expect(plain.contains("attestation none\tFLAG")) { plain }
    }

    test("the verdict before the camera opens tells the distance in Indonesian") {
        val outside = engine.checkLocation(owner, fixAt(OFFICE_LAT + 0.003, OFFICE_LON))
        expect(outside.status == GeofenceStatus.OUTSIDE) { outside.toString() }
        val d = outside.distanceM ?: error("distance")
        expect(d > 200 && d < 260) { "distance $d" }
        expect(outside.message.contains("Dinas Kominfo")) { outside.message }
        expect(!outside.looksOk) { "outside does not look ok" }
        val inside = engine.checkLocation(owner, fixAt(OFFICE_LAT, OFFICE_LON))
        expect(inside.status == GeofenceStatus.INSIDE && inside.looksOk) { inside.toString() }
        expect(inside.officeId == "kominfo") { inside.toString() }
    }

    test("check in inside is accepted, outside is rejected with the distance") {
        val a = engine.checkIn(owner, AttendanceKind.CHECK_IN, fixAt(OFFICE_LAT, OFFICE_LON), cameraJpeg(2), null)
        val b = engine.checkIn(owner, AttendanceKind.CHECK_OUT, fixAt(OFFICE_LAT + 0.003, OFFICE_LON), cameraJpeg(3), null)
        expect(a.verdict.looksOk && a.timeAnchored) { a.toString() }
        expect(b.verdict.status == GeofenceStatus.OUTSIDE) { b.toString() }
        expect(engine.pendingCount() == 2u) { "pending ${engine.pendingCount()}" }
        val report = engine.syncNow()
        expect(report.errorCode == null) { report.toString() }
        val byId = report.decisions.associateBy { it.checkinId }
        expect(byId[a.checkinId]?.status == DecisionStatus.ACCEPTED) { report.toString() }
        expect(byId[a.checkinId]?.timeSource == TrustedTimeSource.Anchored) { "proven time: ${byId[a.checkinId]}" }
        val rejected = byId[b.checkinId] ?: error("no decision for outside")
        expect(rejected.status == DecisionStatus.REJECTED && "GEOFENCE_OUTSIDE" in rejected.codes) { rejected.toString() }
        expect((rejected.distanceM ?: 0.0) > 200) { rejected.toString() }
        expect(engine.pendingCount() == 0u) { "pending after sync" }
        val history = engine.history(owner, 10u)
        expect(history.any { it.checkinId == a.checkinId && it.status == OutboxStatus.ACCEPTED }) { history.toString() }
        expect(history.any { it.checkinId == b.checkinId && it.status == OutboxStatus.REJECTED && it.resultCode == "GEOFENCE_OUTSIDE" }) { history.toString() }
    }

    test("the next expected attendance follows the office schedule and today's check-ins") {
        val next = engine.nextExpectedAttendance(owner) ?: error("something is expected")
        expect(next.officeName == "Dinas Kominfo") { next.toString() }
        // Arrived today (the accepted check-in above); the outside check-out was rejected.
        expect(next.expected.kind == AttendanceKind.CHECK_OUT && next.expected.at == "23:59") { next.toString() }
        // In the day's last minute (23:59 office time) the check-out is already due.
        if (!next.expected.overdue) {
            expect(next.staffMessage == "Absen pulang hari ini pukul 23:59.") { next.staffMessage }
        } else {
            expect(next.staffMessage == "Sudah waktunya absen pulang (23:59).") { next.staffMessage }
        }
        val guestNext = engine.nextExpectedAttendance(guest) ?: error("guest")
        expect(guestNext.expected.kind == AttendanceKind.CHECK_IN && guestNext.expected.overdue) { guestNext.toString() }
        expect(guestNext.staffMessage.contains("sudah lewat")) { guestNext.staffMessage }
    }

    test("a guest's check-in is accepted and flagged as made on a shared device") {
        engine.checkIn(guest, AttendanceKind.CHECK_IN, fixAt(OFFICE_LAT, OFFICE_LON), cameraJpeg(4), null)
        val d = engine.syncNow().decisions.single()
        expect(d.status == DecisionStatus.ACCEPTED_WITH_FLAGS && "SHARED_DEVICE" in d.codes) { d.toString() }
    }

    test("bad input raises the Kotlin exception with the right code") {
        val badNip = expectThrows<HadirException.InvalidInput> {
            engine.checkLocation(PersonRef(PersonKind.NIP, "198502302010011003"), fixAt(OFFICE_LAT, OFFICE_LON))
        }
        expect(badNip.code == "ID_BAD_BIRTH_DATE" && badNip.field == "person") { "${badNip.code} ${badNip.field}" }
        val notJpeg = expectThrows<HadirException.Photo> {
            engine.checkIn(owner, AttendanceKind.CHECK_IN, fixAt(OFFICE_LAT, OFFICE_LON), "bukan foto".toByteArray(), null)
        }
        expect(notJpeg.code == "PHOTO_NOT_JPEG") { notJpeg.code }
        val badFix = expectThrows<HadirException.InvalidInput> {
            engine.checkLocation(owner, fixAt(123.0, OFFICE_LON))
        }
        expect(badFix.code.startsWith("GEOFENCE_") && badFix.field == "fix") { "${badFix.code} ${badFix.field}" }
        val used = expectThrows<HadirException.Refused> { engine.enroll(ownerCode, owner, label) }
        expect(used.code == "ENROLL_CODE_INVALID") { used.code }
        val badImei = expectThrows<HadirException.InvalidInput> {
            engine.enroll(ownerCode, owner, DeviceLabelInput(DeviceLabelKind.IMEI, "490154203237517"))
        }
        expect(badImei.code == "ID_BAD_IMEI" && badImei.field == "device_label") { "${badImei.code} ${badImei.field}" }
        expect(engine.pendingCount() == 0u) { "nothing recorded by failed calls" }
    }

    test("a broken hardware key is a Platform exception, not a crash") {
        val e = expectThrows<HadirException.Platform> {
            HadirEngine.open(config.copy(databasePath = File(work, "broken.db").path), BrokenDeviceKey(), null, null)
        }
        expect(e.code == "KEY_UNAVAILABLE") { e.code }
        val clockless = HadirEngine.open(config.copy(databasePath = File(work, "clockless.db").path), null, BrokenClock(), null)
        val noClock = expectThrows<HadirException.Platform> { clockless.enroll(ownerCode, owner, label) }
        expect(noClock.code == "CLOCK_UNAVAILABLE") { "no fallback clock: ${noClock.code}" }
    }

    test("check-ins queued while the server is down arrive once it is back") {
        val port = server.address.substringAfterLast(':')
        server.stop()
        val ids = (0 until 3).map {
            engine.checkIn(owner, AttendanceKind.BREAK_START, fixAt(OFFICE_LAT, OFFICE_LON), cameraJpeg(10L + it), null).checkinId
        }
        val offline = engine.syncNow()
        expect(offline.errorCode == "NETWORK" && offline.pending == 3u) { offline.toString() }
        expect(offline.errorMessage?.contains("tersimpan") == true) { offline.toString() }
        server.start("127.0.0.1:$port")
        val online = engine.syncNow()
        expect(online.errorCode == null && online.pending == 0u) { online.toString() }
        expect(online.decisions.map { it.checkinId } == ids) { "in order: ${online.decisions}" }
        expect(online.decisions.all { it.status == DecisionStatus.ACCEPTED || it.status == DecisionStatus.ACCEPTED_WITH_FLAGS }) { online.toString() }
    }

    test("several Kotlin threads call the engine at once") {
        val threads = 4
        val perThread = 3
        val errors = ConcurrentLinkedQueue<Throwable>()
        val ids = ConcurrentLinkedQueue<String>()
        val start = CountDownLatch(1)
        val workers = (0 until threads).map { t ->
            Thread {
                start.await()
                try {
                    runBlocking {
                        repeat(perThread) { i ->
                            engine.checkLocation(owner, fixAt(OFFICE_LAT, OFFICE_LON))
                            ids.add(engine.checkIn(owner, AttendanceKind.BREAK_END, fixAt(OFFICE_LAT, OFFICE_LON), cameraJpeg(100L + t * 10 + i), null).checkinId)
                            engine.pendingCount()
                            if (i == 1) engine.syncNow()
                        }
                    }
                } catch (e: Throwable) { errors.add(e) }
            }.apply { start() }
        }
        start.countDown()
        workers.forEach { it.join(120_000) }
        expect(errors.isEmpty()) { "errors: ${errors.toList()}" }
        expect(ids.toSet().size == threads * perThread) { "distinct ids ${ids.size}" }
        engine.syncNow()
        expect(engine.pendingCount() == 0u) { "all delivered" }
        val history = engine.history(owner, 100u).map { it.checkinId }.toSet()
        expect(history.containsAll(ids)) { "every check-in in history" }
    }

    test("the background sync delivers and can be cancelled") {
        val reports = ConcurrentLinkedQueue<SyncReport>()
        val got = CountDownLatch(1)
        engine.checkIn(owner, AttendanceKind.CHECK_OUT, fixAt(OFFICE_LAT, OFFICE_LON), cameraJpeg(500), null)
        val handle = engine.startBackgroundSync(5u, object : SyncListener {
            override fun onSync(report: SyncReport) { reports.add(report); got.countDown() }
        })
        expect(got.await(30, TimeUnit.SECONDS)) { "a report arrived" }
        expect(reports.first().accepted == 1u) { reports.toString() }
        handle.cancel()
        withTimeout(10_000) { handle.join() }
        expect(handle.isFinished()) { "cancelled" }
        expect(engine.pendingCount() == 0u) { "delivered" }
    }

    test("a SyncListener that calls the engine on every callback: no panic, no deadlock, nothing lost") {
        val listener = ReentrantSyncListener(engine, owner)
        val first = engine.checkIn(owner, AttendanceKind.CHECK_OUT, fixAt(OFFICE_LAT, OFFICE_LON), cameraJpeg(600), null)
        val handle = engine.startBackgroundSync(5u, listener)
        val one = listener.reports.poll(30, TimeUnit.SECONDS) ?: error("first report")
        // The next pass runs after the listener's own syncNow: both come through.
        val second = engine.checkIn(owner, AttendanceKind.CHECK_OUT, fixAt(OFFICE_LAT, OFFICE_LON), cameraJpeg(601), null)
        val two = listener.reports.poll(30, TimeUnit.SECONDS) ?: error("second report")
        handle.cancel()
        withTimeout(10_000) { handle.join() }
        expect(listener.errors.isEmpty()) { "errors in callbacks: ${listener.errors.toList()}" }
        // (The delivery thread's name is checked in Rust: JNA names attached threads itself.)
        expect(Thread.currentThread().id !in listener.threads) { "never on the caller's thread" }
        val decided = (listOf(one, two) + listener.nested).flatMap { r -> r.decisions.map { it.checkinId } }
        expect(first.checkinId in decided && second.checkinId in decided) { "both delivered: $decided" }
        expect(listener.nested.size >= 2) { "syncNow from inside each callback: ${listener.nested}" }
        expect(engine.pendingCount() == 0u) { "nothing pending" }
    }

    test("cancelling the coroutine that awaits a call aborts the work: the server sees the connection go") {
        // A server that accepts and never answers: enroll's first request hangs there.
        ServerSocket(0, 1, InetAddress.getLoopbackAddress()).use { silent ->
            silent.soTimeout = 30_000
            val phone = HadirEngine.open(config.copy(databasePath = File(work, "silent.db").path,
                serverUrl = "http://127.0.0.1:${silent.localPort}"), null, null, null)
            val call = async(Dispatchers.IO) { phone.enroll("ABCD-EFGH", owner, label) }
            val connection = silent.accept()
            // Well inside the client's own 30 s timeout: only an abort closes it this soon.
            connection.soTimeout = 10_000
            call.cancel()
            // The aborted request's connection is closed by the engine: EOF, not a timeout.
            val read = connection.getInputStream().let { input -> generateSequence { input.read().takeIf { it >= 0 } }.count() }
            expect(read > 0) { "the request had been sent" }
            expect(call.isCancelled) { "cancelled" }
            expect(phone.deviceId() == null) { "nothing recorded" }
            connection.close()
        }
    }

    var supEngineSlot: HadirEngine? = null
    test("the supervisor reads the team view and receives a live event") {
        val supervisor = PersonRef(PersonKind.NIP, SUPERVISOR_NIP)
        val supKey = JavaSecurityDeviceKey()
        val supEngine = HadirEngine.open(config.copy(databasePath = File(work, "supervisor.db").path), supKey, null, null)
        val me = supEngine.enroll(supervisorCode, supervisor, DeviceLabelInput(DeviceLabelKind.PLATFORM_ID, "android-id-5f3a9c"))
        supEngineSlot = supEngine
        expect(me.isSupervisor && me.isDeviceOwner) { me.toString() }
        expect(supEngine.people().single().isSupervisor) { supEngine.people().toString() }
        expect(engine.people().none { it.isSupervisor }) { engine.people().toString() }

        val view = supEngine.teamAttendance(supervisor, null)
        expect(view.members.map { it.displayName } == listOf("Budi Santoso", "Siti Aminah")) { view.toString() }
        val budi = view.members.first { it.person.value == OWNER_NIP }
        expect(budi.status == DayStatus.LATE && (budi.lateMinutes ?: 0u) > 0u) { budi.toString() }
        expect(budi.deviationCodes.first().startsWith("TL")) { budi.toString() }
        expect(budi.flagged) { "Budi had a rejected check-in today: $budi" }
        expect(budi.checkins.any { it.status == DecisionStatus.REJECTED && "GEOFENCE_OUTSIDE" in it.codes }) { budi.toString() }
        val siti = view.members.first { it.person.value == GUEST_ID }
        expect(siti.checkins.any { "SHARED_DEVICE" in it.codes }) { siti.toString() }

        val listener = CollectingTeamListener()
        val handle = supEngine.subscribeTeam(supervisor, view.cursor, listener)
        val receipt = engine.checkIn(owner, AttendanceKind.CHECK_OUT, fixAt(OFFICE_LAT, OFFICE_LON), cameraJpeg(900), null)
        engine.syncNow()
        val update = listener.updates.poll(30, TimeUnit.SECONDS) ?: error("no live event within 30 s")
        expect(update.checkin.checkinId == receipt.checkinId) { update.toString() }
        expect(update.member.person.value == OWNER_NIP && update.member.status == DayStatus.LATE) { update.toString() }
        expect(update.member.checkins.any { it.checkinId == receipt.checkinId }) { update.toString() }
        expect(update.seq > view.cursor) { "seq ${update.seq} after ${view.cursor}" }
        handle.cancel()
        withTimeout(10_000) { handle.join() }
        expect(handle.isFinished()) { "cancelled" }
        expect(listener.closed.isEmpty()) { listener.closed.toString() }

        // Staff cannot read a team; a phone cannot speak for someone not on it.
        val notSupervisor = expectThrows<HadirException.Refused> { engine.teamAttendance(owner, null) }
        expect(notSupervisor.code == "TEAM_NOT_SUPERVISOR") { notSupervisor.code }
        expect(notSupervisor.staffMessage.contains("atasan")) { notSupervisor.staffMessage }
        val notHere = expectThrows<HadirException.NotReady> { engine.teamAttendance(supervisor, null) }
        expect(notHere.code == "PERSON_NOT_ON_DEVICE") { notHere.code }
        val badDate = expectThrows<HadirException.InvalidInput> { supEngine.teamAttendance(supervisor, "23-11-2026") }
        expect(badDate.code == "DATE_INVALID" && badDate.field == "date") { "${badDate.code} ${badDate.field}" }
        // A past date: nobody checked in then, so both were absent.
        val past = supEngine.teamAttendance(supervisor, "2026-01-05")
        expect(past.members.all { it.status == DayStatus.ABSENT }) { past.toString() }

        // A staff member's subscription ends at once with the server's refusal.
        val refused = CollectingTeamListener()
        val h2 = engine.subscribeTeam(owner, null, refused)
        // join returns once the feed has ended by itself and its last callback returned.
        withTimeout(10_000) { h2.join() }
        expect(refused.closed.toList() == listOf("TEAM_NOT_SUPERVISOR")) { refused.closed.toString() }
        expect(h2.isFinished()) { "finished after the refusal" }
    }

    test("a TeamListener that calls the engine on every callback, through an outage, a refusal and cancellation") {
        val sup = supEngineSlot ?: error("the supervisor test enrolled no phone")
        val supervisor = PersonRef(PersonKind.NIP, SUPERVISOR_NIP)
        val view = sup.teamAttendance(supervisor, null)
        val listener = ReentrantTeamListener(sup, supervisor)
        val handle = sup.subscribeTeam(supervisor, view.cursor, listener)
        // The owner of the subscription is a coroutine: cancelling it stops the feed.
        val owner_ = launch(Dispatchers.IO, start = CoroutineStart.UNDISPATCHED) { handle.join() }
        // An outage: the feed reports it retries (its callback re-enters the engine).
        val port = server.address.substringAfterLast(':')
        server.stop()
        val code = listener.retrying.poll(60, TimeUnit.SECONDS) ?: error("no retrying callback")
        expect(code == "NETWORK" || code == "SERVER_UNAVAILABLE") { code }
        server.start("127.0.0.1:$port")
        // Back online: a new check-in arrives live, and the callback reads the team view.
        val receipt = engine.checkIn(owner, AttendanceKind.CHECK_OUT, fixAt(OFFICE_LAT, OFFICE_LON), cameraJpeg(950), null)
        expect(engine.syncNow().errorCode == null) { "delivered" }
        var update = listener.updates.poll(60, TimeUnit.SECONDS) ?: error("no live event after the outage")
        while (update.checkin.checkinId != receipt.checkinId) {
            update = listener.updates.poll(60, TimeUnit.SECONDS) ?: error("the new check-in never came")
        }
        owner_.cancel()
        withTimeout(10_000) { handle.join() }
        expect(handle.isFinished()) { "stopped with its coroutine" }
        expect(listener.closed.isEmpty()) { "cancelled, not closed: ${listener.closed}" }
        expect(listener.errors.isEmpty()) { "errors in callbacks: ${listener.errors.toList()}" }
        expect(listener.views.any { it.endsWith("members") }) { "the view was read from a callback: ${listener.views}" }

        // A refused feed closes; the closing callback re-enters too.
        val staff = ReentrantTeamListener(engine, owner)
        val refused = engine.subscribeTeam(owner, null, staff)
        withTimeout(10_000) { refused.join() }
        expect(staff.closed.toList() == listOf("TEAM_NOT_SUPERVISOR")) { staff.closed.toString() }
        expect(staff.views.toList() == listOf("TEAM_NOT_SUPERVISOR")) { staff.views.toString() }
        expect(staff.errors.isEmpty()) { staff.errors.toString() }
    }

    test("a cursor beyond the server's latest gets onTeamReset; the callback re-reads the view and the feed goes on") {
        val sup = supEngineSlot ?: error("the supervisor test enrolled no phone")
        val supervisor = PersonRef(PersonKind.NIP, SUPERVISOR_NIP)
        val latest = sup.teamAttendance(supervisor, null).cursor
        val beyond = 1_000_000L
        expect(beyond > latest) { "the server's latest cursor $latest is not below $beyond" }
        val listener = ReentrantTeamListener(sup, supervisor)
        val handle = sup.subscribeTeam(supervisor, beyond, listener)
        // The first thing the feed says is the reset; its callback re-enters the engine
        // (people, pendingCount, teamAttendance) before it records "RESET".
        val first = listener.retrying.poll(30, TimeUnit.SECONDS) ?: error("no onTeamReset within 30 s")
        expect(first == "RESET") { "expected RESET first, got $first" }
        expect(listener.errors.isEmpty()) { "errors in the reset callback: ${listener.errors.toList()}" }
        expect(listener.views.toList() == listOf("2 members")) { "the view re-read inside onTeamReset: ${listener.views}" }
        // The feed then goes on from the server's current cursor: a new check-in arrives.
        val receipt = engine.checkIn(owner, AttendanceKind.CHECK_OUT, fixAt(OFFICE_LAT, OFFICE_LON), cameraJpeg(975), null)
        expect(engine.syncNow().errorCode == null) { "delivered" }
        val update = listener.updates.poll(30, TimeUnit.SECONDS) ?: error("no live event after the reset")
        expect(update.checkin.checkinId == receipt.checkinId) { "the new check-in, not ${update.checkin.checkinId}" }
        expect(update.seq > latest && update.seq < beyond) { "seq ${update.seq} follows the server's $latest" }
        handle.cancel()
        withTimeout(10_000) { handle.join() }
        expect(handle.isFinished()) { "cancelled" }
        expect(listener.retrying.isEmpty()) { "one reset only: ${listener.retrying}" }
        expect(listener.closed.isEmpty()) { "cancelled, not closed: ${listener.closed}" }
        expect(listener.errors.isEmpty()) { "errors in callbacks: ${listener.errors.toList()}" }
    }

    test("checking in with AttendanceKind.UNKNOWN (only ever read from a newer server) is refused with its field") {
        val pending = engine.pendingCount()
        val e = expectThrows<HadirException.InvalidInput> {
            engine.checkIn(owner, AttendanceKind.UNKNOWN, fixAt(OFFICE_LAT, OFFICE_LON), cameraJpeg(990), null)
        }
        expect(e.code == "ATTENDANCE_KIND_UNKNOWN" && e.field == "kind") { "${e.code} ${e.field}" }
        expect(engine.pendingCount() == pending) { "nothing recorded" }
    }

    test("a Logger that calls the engine on every line gets each line once, never an echo") {
        val reentrant = ReentrantLogger()
        val quiet = HadirEngine.open(config.copy(databasePath = File(work, "logged.db").path), null, null, reentrant)
        reentrant.engine = quiet
        val seen = mutableListOf<String>()
        fun drainTo(prefix: String) {
            while (seen.none { it.startsWith(prefix) }) {
                seen.add(reentrant.lines.poll(10, TimeUnit.SECONDS) ?: error("no '$prefix' line; lines so far: $seen"))
            }
        }
        expectThrows<HadirException.NotReady> { quiet.refreshConfig() }
        // The logger records a line only after its own engine calls have returned, so
        // once this line is seen, any echo those calls logged is already queued.
        drainTo("refresh_config failed")
        val before = seen.size
        // A sentinel, queued after any such echo: every line before it is an echo.
        expectThrows<HadirException.NotReady> { quiet.checkLocation(owner, fixAt(OFFICE_LAT, OFFICE_LON)) }
        drainTo("check_location failed")
        val afterFirst = seen.drop(before)
        expect(afterFirst.size == 1 && afterFirst[0].startsWith("check_location failed")) { "an echo: $seen" }
        expect(seen.count { it.startsWith("refresh_config failed") } == 1) { seen.toString() }
    }

    test("a real 429 from the server reaches Kotlin with retry_after_s and a message that says it") {
        val dir = File(work, "limited").apply { mkdirs() }
        val limitedConfig = File(dir, "server.toml").apply { writeText("rate_limit_per_second = 0.01\nrate_limit_burst = 5\n") }
        val limited = Server(bin, File(dir, "server.db"), File(dir, "selfies"), limitedConfig)
        limited.admin("office", "add", "--id", "kominfo", "--name", "Dinas Kominfo", "--utc-offset-minutes", "420",
            "--lat", OFFICE_LAT.toString(), "--lon", OFFICE_LON.toString(), "--radius-m", "100")
        limited.admin("person", "add", "--kind", "nip", "--id", OWNER_NIP, "--name", "Budi Santoso", "--office", "kominfo")
        val code = limited.admin("enroll-code", "issue", "--person", OWNER_NIP).trim()
        limited.start()
        try {
            val phone = HadirEngine.open(config.copy(databasePath = File(dir, "phone.db").path, serverUrl = limited.url), null, null, null)
            phone.enroll(code, owner, label)
            var limitedBy: HadirException.RateLimited? = null
            for (i in 0 until 20) {
                try { phone.refreshConfig() } catch (e: HadirException.RateLimited) { limitedBy = e; break }
            }
            val e = limitedBy ?: error("never rate limited")
            expect(e.code == "RATE_LIMITED") { e.code }
            val wait = e.retryAfterS ?: error("no retry_after_s")
            expect(wait > 0u) { "retry after $wait" }
            expect(e.staffMessage.contains("$wait detik")) { e.staffMessage }
        } finally {
            limited.stop()
        }
    }

    test("the logger bridge receives the engine's lines") {
        expect(logger.lines.any { it.contains("sync:") }) { logger.lines.toString() }
        expect(logger.lines.none { it.contains(OFFICE_LAT.toString()) }) { "no coordinates in logs" }
    }

    server.stop()
    work.deleteRecursively()
    Tally.finish()
}
