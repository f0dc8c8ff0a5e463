// Kotlin tests of the generated bindings, run on the JVM against a real hadir-server on
// 127.0.0.1. The device key is a java.security EC P-256 key (what Android Keystore
// exposes), so its DER signatures must verify on the server.
// Run by bindings/kotlin-tests.sh; prints "N passed, N failed" last.

import id.go.hadir.core.AttendanceKind
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
import id.go.hadir.core.TeamUpdate
import java.awt.Color
import java.awt.image.BufferedImage
import java.io.ByteArrayOutputStream
import java.io.File
import java.math.BigInteger
import java.nio.file.Files
import java.security.KeyPairGenerator
import java.security.interfaces.ECPublicKey
import java.security.spec.ECGenParameterSpec
import java.util.Random
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import javax.imageio.ImageIO

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

/** A P-256 key from java.security, signing with SHA256withECDSA (DER), like Android Keystore. */
class JavaSecurityDeviceKey : DeviceKeyProvider {
    private val pair = KeyPairGenerator.getInstance("EC").apply {
        initialize(ECGenParameterSpec("secp256r1"))
    }.generateKeyPair()
    @Volatile var signatures = 0

    override fun publicKey(): ByteArray {
        val w = (pair.public as ECPublicKey).w
        return byteArrayOf(0x04) + fixed32(w.affineX) + fixed32(w.affineY)
    }

    override fun sign(message: ByteArray): ByteArray {
        signatures++
        val s = java.security.Signature.getInstance("SHA256withECDSA")
        s.initSign(pair.private)
        s.update(message)
        return s.sign()
    }

    private fun fixed32(n: BigInteger): ByteArray {
        val raw = n.toByteArray().dropWhile { it == 0.toByte() }.toByteArray()
        return ByteArray(32 - raw.size) + raw
    }
}

/** A key whose hardware is gone: every call throws, as a Keystore can. */
class BrokenDeviceKey : DeviceKeyProvider {
    override fun publicKey(): ByteArray = throw IllegalStateException("keystore unavailable")
    override fun sign(message: ByteArray): ByteArray = throw IllegalStateException("keystore unavailable")
}

class CollectingLogger : Logger {
    val lines = ConcurrentLinkedQueue<String>()
    override fun log(level: LogLevel, message: String) { lines.add("$level $message") }
}

/** A camera-like JPEG: a face-like oval over seed-dependent background blocks, with noise. */
fun cameraJpeg(seed: Long): ByteArray {
    val rnd = Random(seed)
    val img = BufferedImage(1280, 960, BufferedImage.TYPE_INT_RGB)
    val blocks = IntArray(24) { 40 + rnd.nextInt(180) }
    val cx = 320 + rnd.nextInt(640); val cy = 280 + rnd.nextInt(400)
    val rx = 150 + rnd.nextInt(120); val ry = 200 + rnd.nextInt(120)
    for (y in 0 until 960) for (x in 0 until 1280) {
        val d = Math.pow((x - cx) / rx.toDouble(), 2.0) + Math.pow((y - cy) / ry.toDouble(), 2.0)
        val base = if (d < 1) 190 - 40 * d else blocks[(y * 4 / 960) * 6 + x * 6 / 1280].toDouble()
        val v = (base + rnd.nextInt(21) - 10).toInt().coerceIn(0, 255)
        img.setRGB(x, y, Color(v, (v * 0.85).toInt(), (v * 0.7).toInt()).rgb)
    }
    val out = ByteArrayOutputStream()
    ImageIO.write(img, "jpg", out)
    return out.toByteArray()
}

class Server(val bin: String, val db: File, val selfies: File) {
    var process: Process? = null
    var address = ""

    fun admin(vararg args: String): String {
        val p = ProcessBuilder(listOf(bin) + args + listOf("--db", db.path)).redirectErrorStream(false).start()
        val out = p.inputStream.bufferedReader().readText()
        val err = p.errorStream.bufferedReader().readText()
        check(p.waitFor() == 0) { "hadir-server ${args.toList()} failed: $err" }
        return out
    }

    fun start(listen: String = "127.0.0.1:0") {
        val pb = ProcessBuilder(bin, "serve", "--db", db.path, "--selfie-dir", selfies.path, "--listen", listen)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
        pb.environment()["RUST_LOG"] = "warn"
        val p = pb.start()
        val reader = p.inputStream.bufferedReader()
        while (true) {
            val line = reader.readLine() ?: error("server exited before listening")
            if (line.startsWith("listening on ")) { address = line.removePrefix("listening on ").trim(); break }
        }
        Thread { reader.lineSequence().forEach { } }.apply { isDaemon = true }.start()
        process = p
    }

    fun stop() {
        process?.destroyForcibly()?.waitFor(10, TimeUnit.SECONDS)
        process = null
    }

    val url get() = "http://$address"
}

var passed = 0
var failed = 0

fun test(name: String, body: () -> Unit) {
    try {
        body()
        passed++
        println("ok   $name")
    } catch (e: Throwable) {
        failed++
        println("FAIL $name: $e")
        e.printStackTrace(System.out)
    }
}

fun expect(condition: Boolean, message: () -> String) { if (!condition) throw AssertionError(message()) }

inline fun <reified E : Throwable> expectThrows(body: () -> Unit): E {
    try { body() } catch (e: Throwable) {
        if (e is E) return e
        throw AssertionError("expected ${E::class.simpleName}, got $e")
    }
    throw AssertionError("expected ${E::class.simpleName}, nothing thrown")
}

fun fixAt(lat: Double, lon: Double, mock: Boolean = false) =
    LocationFix(lat, lon, 8.0, System.currentTimeMillis(), LocationProvider.FUSED, mock)

/** The tests' office is in WIB with a midnight schedule: keep clear of the first and last
 *  minutes of the WIB day, where "late" and "due" would flip while a test runs. */
fun waitOutWibMidnight() {
    while (true) {
        val minute = ((System.currentTimeMillis() + 7 * 3_600_000L) % 86_400_000L) / 60_000L
        if (minute in 2..1436) return
        Thread.sleep(30_000)
    }
}

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
        expect(engine.people().map { it.personId }.toSet() == setOf(OWNER_NIP, GUEST_ID)) { engine.people().toString() }
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
        expect(badNip.code == "ID_BAD_BIRTH_DATE") { badNip.code }
        val notJpeg = expectThrows<HadirException.Photo> {
            engine.checkIn(owner, AttendanceKind.CHECK_IN, fixAt(OFFICE_LAT, OFFICE_LON), "bukan foto".toByteArray(), null)
        }
        expect(notJpeg.code == "PHOTO_NOT_JPEG") { notJpeg.code }
        val badFix = expectThrows<HadirException.InvalidInput> {
            engine.checkLocation(owner, fixAt(123.0, OFFICE_LON))
        }
        expect(badFix.code.startsWith("GEOFENCE_")) { badFix.code }
        val used = expectThrows<HadirException.Refused> { engine.enroll(ownerCode, owner, label) }
        expect(used.code == "ENROLL_CODE_INVALID") { used.code }
        val badImei = expectThrows<HadirException.InvalidInput> {
            engine.enroll(ownerCode, owner, DeviceLabelInput(DeviceLabelKind.IMEI, "490154203237517"))
        }
        expect(badImei.code == "ID_BAD_IMEI") { badImei.code }
        expect(engine.pendingCount() == 0u) { "nothing recorded by failed calls" }
    }

    test("a broken hardware key is a Platform exception, not a crash") {
        val e = expectThrows<HadirException.Platform> {
            HadirEngine.open(config.copy(databasePath = File(work, "broken.db").path), BrokenDeviceKey(), null, null)
        }
        expect(e.code == "KEY_UNAVAILABLE") { e.code }
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
                    repeat(perThread) { i ->
                        engine.checkLocation(owner, fixAt(OFFICE_LAT, OFFICE_LON))
                        ids.add(engine.checkIn(owner, AttendanceKind.BREAK_END, fixAt(OFFICE_LAT, OFFICE_LON), cameraJpeg(100L + t * 10 + i), null).checkinId)
                        engine.pendingCount()
                        if (i == 1) engine.syncNow()
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
        Thread.sleep(200)
        expect(handle.isFinished()) { "cancelled" }
        expect(engine.pendingCount() == 0u) { "delivered" }
    }

    test("the supervisor reads the team view and receives a live event") {
        val supervisor = PersonRef(PersonKind.NIP, SUPERVISOR_NIP)
        val supKey = JavaSecurityDeviceKey()
        val supEngine = HadirEngine.open(config.copy(databasePath = File(work, "supervisor.db").path), supKey, null, null)
        val me = supEngine.enroll(supervisorCode, supervisor, DeviceLabelInput(DeviceLabelKind.PLATFORM_ID, "android-id-5f3a9c"))
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
        Thread.sleep(500)
        val receipt = engine.checkIn(owner, AttendanceKind.CHECK_OUT, fixAt(OFFICE_LAT, OFFICE_LON), cameraJpeg(900), null)
        engine.syncNow()
        val update = listener.updates.poll(30, TimeUnit.SECONDS) ?: error("no live event within 30 s")
        expect(update.checkin.checkinId == receipt.checkinId) { update.toString() }
        expect(update.member.person.value == OWNER_NIP && update.member.status == DayStatus.LATE) { update.toString() }
        expect(update.member.checkins.any { it.checkinId == receipt.checkinId }) { update.toString() }
        expect(update.seq > view.cursor) { "seq ${update.seq} after ${view.cursor}" }
        handle.cancel()
        Thread.sleep(200)
        expect(handle.isFinished()) { "cancelled" }
        expect(listener.closed.isEmpty()) { listener.closed.toString() }

        // Staff cannot read a team; a phone cannot speak for someone not on it.
        val notSupervisor = expectThrows<HadirException.Refused> { engine.teamAttendance(owner, null) }
        expect(notSupervisor.code == "TEAM_NOT_SUPERVISOR") { notSupervisor.code }
        expect(notSupervisor.staffMessage.contains("atasan")) { notSupervisor.staffMessage }
        val notHere = expectThrows<HadirException.NotReady> { engine.teamAttendance(supervisor, null) }
        expect(notHere.code == "PERSON_NOT_ON_DEVICE") { notHere.code }
        val badDate = expectThrows<HadirException.InvalidInput> { supEngine.teamAttendance(supervisor, "23-11-2026") }
        expect(badDate.code == "DATE_INVALID") { badDate.code }
        // A past date: nobody checked in then, so both were absent.
        val past = supEngine.teamAttendance(supervisor, "2026-01-05")
        expect(past.members.all { it.status == DayStatus.ABSENT }) { past.toString() }

        // A staff member's subscription ends at once with the server's refusal.
        val refused = CollectingTeamListener()
        val h2 = engine.subscribeTeam(owner, null, refused)
        val deadline = System.currentTimeMillis() + 10_000
        while (refused.closed.isEmpty() && System.currentTimeMillis() < deadline) Thread.sleep(50)
        expect(refused.closed.toList() == listOf("TEAM_NOT_SUPERVISOR")) { refused.closed.toString() }
        expect(h2.isFinished()) { "finished after the refusal" }
    }

    test("the logger bridge receives the engine's lines") {
        expect(logger.lines.any { it.contains("sync:") }) { logger.lines.toString() }
        expect(logger.lines.none { it.contains(OFFICE_LAT.toString()) }) { "no coordinates in logs" }
    }

    server.stop()
    work.deleteRecursively()
    println("$passed passed, $failed failed")
    if (failed > 0) kotlin.system.exitProcess(1)
}
