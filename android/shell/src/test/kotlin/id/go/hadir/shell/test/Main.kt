/**
 * The `:shell` tests on the JVM: the screens' logic against the real Hadir library
 * (JNA) and a real hadir-server on 127.0.0.1, the full check-in flow state by state
 * (inside, outside, mock, no permission; QR required and scanned; offline then
 * delivered; a shared phone) and the supervisor's live screen (an update, a reset
 * after a restored database, midnight). Run by android/shell-tests.sh (and Gradle's
 * `:shell:shellTest`); prints "N passed, N failed" last.
 */
package id.go.hadir.shell.test

import id.go.hadir.core.AttendanceKind
import id.go.hadir.core.DeviceKeyProvider
import id.go.hadir.core.DayStatus
import id.go.hadir.core.DeviceLabelInput
import id.go.hadir.core.DeviceLabelKind
import id.go.hadir.core.EngineConfig
import id.go.hadir.core.HadirEngine
import id.go.hadir.core.PersonKind
import id.go.hadir.core.PersonRef
import id.go.hadir.core.attestationChallenge
import id.go.hadir.shell.AppPermission
import id.go.hadir.shell.BackgroundSync
import id.go.hadir.shell.BatteryGuide
import id.go.hadir.shell.CheckInFlow
import id.go.hadir.shell.CheckInStep
import id.go.hadir.shell.Consent
import id.go.hadir.shell.EnrollmentMode
import id.go.hadir.shell.EnrollmentPresenter
import id.go.hadir.shell.HadirSession
import id.go.hadir.shell.HistoryPresenter
import id.go.hadir.shell.HomePresenter
import id.go.hadir.shell.LocationBlock
import id.go.hadir.shell.Liveness
import id.go.hadir.shell.PermissionStatus
import id.go.hadir.shell.Permissions
import id.go.hadir.shell.Regency
import id.go.hadir.shell.Reminders
import id.go.hadir.shell.Remedy
import id.go.hadir.shell.SettingsScreen
import id.go.hadir.shell.TeamPresenter
import id.go.hadir.shell.Teks
import id.go.hadir.shell.platform.EngineOpener
import id.go.hadir.shell.platform.LocationReading
import id.go.hadir.testsupport.Server
import id.go.hadir.testsupport.Tally
import id.go.hadir.testsupport.cameraJpeg
import id.go.hadir.testsupport.expect
import id.go.hadir.testsupport.test
import id.go.hadir.testsupport.waitOutWibMidnight
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import java.io.File
import java.nio.file.Files

const val KOMINFO_LAT = -3.7928
const val KOMINFO_LON = 102.2608
const val DUKCAPIL_LAT = -3.8100
const val DUKCAPIL_LON = 102.2900
const val SUPERVISOR_NIP = "197803212005012002"
const val OWNER_NIP = "198503122010011003"
const val GUEST_ID = "THL-2024/017"
const val PPPK_ID = "199009132025242014"

/** Every day: arrive by 00:00, leave at 23:59 (a check-in today is late; the day is never over). */
val MIDNIGHT_SCHEDULE = "{\"week\": {" + listOf("mon", "tue", "wed", "thu", "fri", "sat", "sun").joinToString(", ") {
    "\"$it\": [{\"kind\": \"check_in\", \"at\": \"00:00\"}, {\"kind\": \"check_out\", \"at\": \"23:59\"}]"
} + "}}"

val REGENCY = Regency("Pemerintah Kota Bengkulu", "BKPSDM Kota Bengkulu", "5 tahun sesuai jadwal retensi arsip kepegawaian")

/** One phone: its own database, key store, settings and location. */
class Phone(work: File, name: String, server: Server, canHoldKeys: Boolean = true, brokenKeystore: Boolean = false) {
    val keys = JavaKeyStore(canHoldKeys, brokenKeystore)
    val settings = MemorySettings()
    val location = ScriptedLocation()
    val session = newSession(work, name, server)

    /** A session over this phone's files, as after the app restarted. */
    fun newSession(work: File, name: String, server: Server) = HadirSession(
        keys,
        object : EngineOpener {
            override fun open(key: DeviceKeyProvider?) = HadirEngine.open(
                EngineConfig(File(work, "$name.db").path, server.url, emptyList(), null, "0.1.0 (shell-test)", "android"),
                key, null, null,
            )
            override fun deleteDatabase() {
                for (suffix in listOf("", "-wal", "-shm")) File(work, "$name.db$suffix").delete()
            }
        },
        settings,
        DeviceLabelInput(DeviceLabelKind.PLATFORM_ID, "shell-test-$name"),
    )
    val consent = Consent(REGENCY, settings)
    val engine: HadirEngine get() = session.requireEngine()

    /** Consent and enrollment through the screen's presenter, as a person would. */
    suspend fun enrollOwner(code: String, kind: PersonKind, id: String) {
        consent.accept()
        val screen = EnrollmentPresenter(session, consent, EnrollmentMode.OWNER)
        screen.onCodeChanged(code)
        screen.onKindChanged(kind)
        screen.onPersonIdChanged(id)
        screen.submit()
        expect(screen.state.value.enrolled != null) { "enrolled: ${screen.state.value}" }
    }

    /** Runs the flow from the button to a recorded check-in at [lat], [lon] with [selfieSeed]. */
    suspend fun checkInAt(flow: CheckInFlow, lat: Double, lon: Double, selfieSeed: Long, pick: PersonRef? = null): CheckInStep.Recorded {
        location.at(lat, lon)
        flow.start()
        if (pick != null) {
            val people = (flow.step.value as CheckInStep.PickPerson).people
            flow.pickPerson(people.first { it.person == pick })
        }
        flow.proceed()
        flow.onSelfieTaken(cameraJpeg(selfieSeed))
        return flow.step.value as? CheckInStep.Recorded ?: throw AssertionError("not recorded: ${flow.step.value}")
    }
}

fun main() {
    waitOutWibMidnight()
    val bin = System.getenv("HADIR_SERVER_BIN") ?: error("set HADIR_SERVER_BIN")
    val work = Files.createTempDirectory("hadir-shell").toFile()
    // Admin changes reach the running server at its next request (no 1 s refresh to wait out).
    val serverConfig = File(work, "server.toml").apply { writeText("directory_refresh_ms = 0\n") }
    val server = Server(bin, File(work, "server.db"), File(work, "selfies"), serverConfig)
    val schedule = File(work, "schedule.json").apply { writeText(MIDNIGHT_SCHEDULE) }
    server.admin("office", "add", "--id", "kominfo", "--name", "Dinas Kominfo", "--utc-offset-minutes", "420",
        "--lat", "$KOMINFO_LAT", "--lon", "$KOMINFO_LON", "--radius-m", "100")
    server.admin("office", "add", "--id", "dukcapil", "--name", "Dinas Dukcapil", "--utc-offset-minutes", "420",
        "--lat", "$DUKCAPIL_LAT", "--lon", "$DUKCAPIL_LON", "--radius-m", "100", "--qr-required")
    for (office in listOf("kominfo", "dukcapil")) server.admin("office", "schedule", "--id", office, "--file", schedule.path)
    server.admin("person", "add", "--kind", "nip", "--id", SUPERVISOR_NIP, "--name", "Rina Kartika", "--office", "kominfo")
    server.admin("person", "add", "--kind", "nip", "--id", OWNER_NIP, "--name", "Budi Santoso", "--office", "kominfo",
        "--supervisor", SUPERVISOR_NIP)
    server.admin("person", "add", "--kind", "non-asn", "--id", GUEST_ID, "--name", "Siti Aminah", "--office", "kominfo",
        "--supervisor", SUPERVISOR_NIP)
    server.admin("person", "add", "--kind", "ni-pppk", "--id", PPPK_ID, "--name", "Dewi Lestari", "--office", "dukcapil")
    val credential = server.admin("kiosk", "enroll", "--office", "dukcapil", "--label", "lobi").trim()
    fun code(person: String) = server.admin("enroll-code", "issue", "--person", person).trim()
    server.start()

    val owner = PersonRef(PersonKind.NIP, OWNER_NIP)
    val guest = PersonRef(PersonKind.NON_ASN, GUEST_ID)
    val supervisor = PersonRef(PersonKind.NIP, SUPERVISOR_NIP)
    val phone = Phone(work, "budi", server)

    formattingTests()

    test("enrollment: consent first, the id checked inline, the slip's QR read, a wrong code explained") {
        val screen = EnrollmentPresenter(phone.session, phone.consent, EnrollmentMode.OWNER)
        screen.onQrScanned("v1.kominfo.59412345.ABCDEFGHIJKLMNOP")
        expect(screen.state.value.problem?.code == "ENROLL_QR_NOT_ENROLLMENT") { "office QR: ${screen.state.value}" }
        screen.onPersonIdChanged("19851312")
        expect(screen.state.value.personError == null) { "no error while typing: ${screen.state.value}" }
        screen.onPersonIdChanged("198513122010011003")
        expect(screen.state.value.personError?.contains("tanggal lahir") == true) { "month 13: ${screen.state.value}" }
        screen.onKindChanged(PersonKind.NON_ASN)
        screen.onPersonIdChanged("")
        screen.onPersonIdDone()
        expect(screen.state.value.personError == "Isi nomor identitas Anda.") { "${screen.state.value}" }
        val realCode = code(OWNER_NIP)
        screen.onQrScanned("hadir-enroll:v1:$realCode:nip:$OWNER_NIP")
        val filled = screen.state.value
        expect(filled.code == realCode && filled.personKind == PersonKind.NIP && filled.personId == OWNER_NIP && filled.personError == null) { "$filled" }
        screen.submit()
        expect(screen.state.value.problem?.code == "CONSENT_REQUIRED") { "consent first: ${screen.state.value}" }
        expect(phone.keys.challenges.isEmpty()) { "no key before consent" }
        phone.consent.accept()
        expect(Consent(REGENCY, phone.settings).accepted) { "consent kept" }
        screen.onCodeChanged("WRONG-CODE-12")
        screen.submit()
        val refused = screen.state.value
        expect(refused.problem?.code == "ENROLL_CODE_INVALID" && refused.problem?.remedy == Remedy.ASK_ADMIN && !refused.busy) { "$refused" }
        screen.onCodeChanged(realCode)
        screen.submit()
        val done = screen.state.value
        expect(done.enrolled?.displayName == "Budi Santoso" && done.enrolled?.isDeviceOwner == true) { "$done" }
        // A new key for each attempt, each attested for its own code.
        expect(phone.keys.challenges.size == 2) { "${phone.keys.challenges.size} keys" }
        expect(phone.keys.challenges[1].contentEquals(attestationChallenge(realCode))) { "challenge of the code" }
        expect(phone.session.isEnrolled) { "enrolled" }
    }

    test("enrollment on a phone whose Keystore throws ends with a problem, not a spinner") {
        val broken = Phone(work, "broken", server, brokenKeystore = true)
        broken.consent.accept()
        val screen = EnrollmentPresenter(broken.session, broken.consent, EnrollmentMode.OWNER)
        screen.onCodeChanged("K7QMX3PAWN")
        screen.onPersonIdChanged(OWNER_NIP)
        screen.submit()
        val s = screen.state.value
        expect(!s.busy && s.problem?.code == "SHELL_UNEXPECTED" && s.problem?.remedy == Remedy.RETRY) { "$s" }
    }

    val flow = CheckInFlow(phone.engine, phone.location)

    test("check-in: no permission, location off and no fix are explained; allowing it goes on") {
        phone.location.next(LocationReading.PermissionDenied)
        flow.start()
        val denied = flow.step.value as CheckInStep.LocationBlocked
        expect(denied.block == LocationBlock.PERMISSION_DENIED && denied.remedy == Remedy.OPEN_SETTINGS) { "$denied" }
        expect(denied.message.contains("izin lokasi")) { denied.message }
        phone.location.next(LocationReading.LocationOff)
        flow.retryLocation()
        expect((flow.step.value as CheckInStep.LocationBlocked).block == LocationBlock.LOCATION_OFF) { "${flow.step.value}" }
        phone.location.next(LocationReading.TimedOut)
        flow.retryLocation()
        val timedOut = flow.step.value as CheckInStep.LocationBlocked
        expect(timedOut.block == LocationBlock.TIMED_OUT && timedOut.remedy == Remedy.RETRY) { "$timedOut" }
        phone.location.at(KOMINFO_LAT, KOMINFO_LON)
        flow.retryLocation()
        val inside = flow.step.value as CheckInStep.LocationChecked
        expect(inside.looksOk && inside.headline == "Anda di dalam area Dinas Kominfo.") { "$inside" }
        expect(inside.kind == AttendanceKind.CHECK_IN) { "the schedule expects arrival first: ${inside.kind}" }
        flow.reset()
    }

    test("check-in: a mock location is blocked with how to turn it off, and never reaches the camera") {
        phone.location.at(KOMINFO_LAT, KOMINFO_LON, mock = true)
        flow.start()
        val mock = flow.step.value as CheckInStep.LocationBlocked
        expect(mock.block == LocationBlock.MOCK_LOCATION && mock.message.contains("Opsi pengembang")) { "$mock" }
        flow.proceed()
        expect(flow.step.value == mock) { "proceed ignored: ${flow.step.value}" }
        flow.reset()
    }

    test("check-in inside: a refused photo is retaken, then tercatat and accepted by the server") {
        phone.location.at(KOMINFO_LAT, KOMINFO_LON)
        flow.start()
        flow.proceed()
        val selfie = flow.step.value as CheckInStep.TakeSelfie
        expect(selfie.qrToken == null && selfie.problem == null) { "no QR at Kominfo: $selfie" }
        flow.onSelfieTaken("bukan foto".toByteArray())
        val retake = flow.step.value as CheckInStep.TakeSelfie
        expect(retake.problem?.code == "PHOTO_NOT_JPEG" && retake.problem?.remedy == Remedy.RETAKE_SELFIE) { "$retake" }
        flow.onSelfieTaken(cameraJpeg(11))
        val recorded = flow.step.value as CheckInStep.Recorded
        expect(Regex("Absen masuk tercatat pukul \\d\\d\\.\\d\\d WIB\\.").matches(recorded.headline)) { recorded.headline }
        val decision = recorded.decision ?: throw AssertionError("decided at once: $recorded")
        expect(decision.accepted && decision.title.startsWith("Diterima")) { "$decision" }
        expect(recorded.delivery == "Terkirim ke server.") { recorded.delivery }
        flow.reset()
    }

    test("check-in outside: the distance before the camera; recorded anyway, the server refuses with its reason") {
        phone.location.at(KOMINFO_LAT + 0.003, KOMINFO_LON)
        flow.start()
        val outside = flow.step.value as CheckInStep.LocationChecked
        expect(!outside.looksOk && Regex("Anda berada 2\\d\\d m dari Dinas Kominfo\\.").matches(outside.headline)) { outside.headline }
        flow.chooseKind(AttendanceKind.BREAK_START)
        flow.proceed()
        flow.onSelfieTaken(cameraJpeg(12))
        val recorded = flow.step.value as CheckInStep.Recorded
        expect(recorded.kind == AttendanceKind.BREAK_START) { "${recorded.kind}" }
        val decision = recorded.decision ?: throw AssertionError("decided: $recorded")
        expect(!decision.accepted && decision.title == "Ditolak" && decision.message.isNotBlank()) { "$decision" }
        flow.reset()
    }

    test("offline: tercatat at once, waits for a signal, delivered when the server is back") {
        val address = server.address
        server.stop()
        val recorded = phone.checkInAt(flow, KOMINFO_LAT, KOMINFO_LON, 13)
        expect(recorded.decision == null && recorded.delivery.startsWith("Belum terkirim:")) { recorded.delivery }
        expect(recorded.delivery.contains("aman di ponsel")) { recorded.delivery }
        val home = HomePresenter(phone.engine, "Xiaomi", BackgroundSync(phone.settings))
        home.refresh()
        expect(home.state.value.pending == 1) { "${home.state.value}" }
        expect(home.state.value.today.count { it.pending } == 1) { "${home.state.value.today}" }
        server.start(address)
        flow.deliver()
        val delivered = flow.step.value as CheckInStep.Recorded
        expect(delivered.decision?.accepted == true && delivered.delivery == "Terkirim ke server.") { "$delivered" }
        home.refresh()
        val state = home.state.value
        expect(state.pending == 0 && state.syncLine.startsWith("Terakhir tersinkron baru saja.")) { state.syncLine }
        expect(state.batteryGuide == null) { "sync ran just now" }
        expect(state.next != null && state.canOpenTeam.not()) { "$state" }
        flow.reset()
    }

    test("shared phone: a colleague enrolls as a guest, is picked, and is flagged as using a colleague's phone") {
        val screen = EnrollmentPresenter(phone.session, phone.consent, EnrollmentMode.GUEST)
        screen.onCodeChanged(code(GUEST_ID))
        screen.onKindChanged(PersonKind.NON_ASN)
        screen.onPersonIdChanged(GUEST_ID)
        screen.submit()
        expect(screen.state.value.problem?.code == "CONSENT_REQUIRED") { "the owner's consent does not cover a colleague: ${screen.state.value}" }
        screen.onGuestConsent(true)
        screen.submit()
        expect(screen.state.value.enrolled?.isDeviceOwner == false) { "${screen.state.value}" }
        expect(phone.consent.acceptedBy(guest) && phone.consent.acceptedBy(owner)) { "each person's consent recorded" }
        expect(phone.keys.challenges.size == 2) { "a guest makes no new key" }
        phone.location.at(KOMINFO_LAT, KOMINFO_LON)
        flow.start()
        val pick = flow.step.value as CheckInStep.PickPerson
        expect(pick.people.map { it.person }.toSet() == setOf(owner, guest)) { "$pick" }
        flow.pickPerson(pick.people.first { it.person == guest })
        flow.proceed()
        flow.onSelfieTaken(cameraJpeg(14))
        val decision = (flow.step.value as CheckInStep.Recorded).decision ?: throw AssertionError("decided")
        expect(decision.accepted && "Memakai ponsel rekan" in decision.reasons) { "$decision" }
        flow.reset()
        val home = HomePresenter(phone.engine, "Samsung", BackgroundSync(phone.settings))
        home.refresh()
        expect(home.state.value.person?.person == owner) { "the owner first" }
        home.choose(guest)
        expect(home.state.value.person?.person == guest && home.state.value.today.size == 1) { "${home.state.value}" }
    }

    test("history: every check-in with its status and the server's reasons") {
        val history = HistoryPresenter(phone.engine)
        history.refresh()
        val rows = history.rows.value
        expect(rows.size == 4 && rows.none { it.pending }) { "$rows" }
        expect(history.people.value.map { it.person }.toSet() == setOf(owner, guest)) { "the filter's people" }
        val refused = rows.single { !it.accepted }
        expect(refused.title == "Mulai istirahat" && refused.status == "Ditolak" && "GEOFENCE_OUTSIDE" in refused.reasons) { "$refused" }
        val guestRow = rows.first()
        expect(guestRow.reasons == listOf("Memakai ponsel rekan")) { "newest first, with its flag: $guestRow" }
        expect(Regex(".+, \\d+ .+ \\d{4}, \\d\\d\\.\\d\\d WIB").matches(guestRow.whenText)) { guestRow.whenText }
    }

    test("QR office: the verdict asks for the monitor's QR; an enrollment slip is refused; the monitor's token is accepted") {
        // Dewi's phone can hold no Keystore key: she enrolls with the engine's software key.
        val dewi = Phone(work, "dewi", server, canHoldKeys = false)
        dewi.enrollOwner(code(PPPK_ID), PersonKind.NI_PPPK, PPPK_ID)
        expect(dewi.keys.existing() == null && dewi.session.isEnrolled) { "enrolled without a platform key" }
        val restarted = dewi.newSession(work, "dewi", server)
        expect(restarted.engine?.deviceId() == dewi.engine.deviceId()) { "the app reopens the same engine after a restart" }
        restarted.engine?.close()
        val qrFlow = CheckInFlow(dewi.engine, dewi.location)
        dewi.location.at(DUKCAPIL_LAT, DUKCAPIL_LON)
        qrFlow.start()
        val checked = qrFlow.step.value as CheckInStep.LocationChecked
        expect(checked.verdict.qrRequired && checked.looksOk) { "${checked.verdict}" }
        qrFlow.proceed()
        expect(qrFlow.step.value is CheckInStep.ScanQr) { "${qrFlow.step.value}" }
        qrFlow.onQrScanned("hadir-enroll:v1:ABCDEFGHJK:ni_pppk:$PPPK_ID")
        val wrong = qrFlow.step.value as CheckInStep.ScanQr
        expect(wrong.problem?.remedy == Remedy.RESCAN_QR) { "$wrong" }
        val token = Regex("\"token\"\\s*:\\s*\"([^\"]+)\"").find(server.get("/v1/kiosk/qr", "Kiosk $credential"))!!.groupValues[1]
        qrFlow.onQrScanned(token)
        val selfie = qrFlow.step.value as CheckInStep.TakeSelfie
        expect(selfie.qrToken == token) { "$selfie" }
        qrFlow.onSelfieTaken(cameraJpeg(15))
        val decision = (qrFlow.step.value as CheckInStep.Recorded).decision ?: throw AssertionError("decided")
        expect(decision.accepted && decision.reasons.isEmpty()) { "$decision" }
    }

    test("supervisor: the team live (an update), a reset after a restored database, and midnight") {
        val rina = Phone(work, "rina", server)
        rina.enrollOwner(code(SUPERVISOR_NIP), PersonKind.NIP, SUPERVISOR_NIP)
        val home = HomePresenter(rina.engine, "vivo", BackgroundSync(rina.settings))
        home.refresh()
        expect(home.state.value.canOpenTeam) { "a supervisor sees the team button" }
        // The backup an admin will restore later: taken before the check-in below.
        val address = server.address
        server.stop()
        server.snapshot(File(work, "backup"))
        server.start(address)

        val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
        var today = rina.engine.localTime(supervisor).date
        val team = TeamPresenter(rina.engine, supervisor, scope) { today }
        try {
            team.start()
            val first = team.state.value
            expect(first.liveness == Liveness.LIVE && first.rows.map { it.name }.toSet() == setOf("Budi Santoso", "Siti Aminah")) { "$first" }
            val budi = first.rows.single { it.person == owner }
            expect(budi.status == DayStatus.LATE && budi.statusText.startsWith("Terlambat ")) { "$budi" }
            expect(budi.deductions.any { Regex("TL[1-4]: terlambat .+").matches(it) }) { "${budi.deductions}" }
            val siti = first.rows.single { it.person == guest }
            expect(siti.flags == listOf("Memakai ponsel rekan") && siti.flagged) { "$siti" }

            val before = budi.checkins.size
            phone.checkInAt(flow, KOMINFO_LAT, KOMINFO_LON, 16, pick = owner)
            flow.reset()
            val live = team.state.await("Budi's check-in live") { s -> s.liveUpdates >= 1 && s.rows.single { it.person == owner }.checkins.size == before + 1 }
            expect(live.liveness == Liveness.LIVE) { "$live" }

            server.stop()
            server.restore(File(work, "backup"))
            server.start(address)
            val reset = team.state.await("the view read again after the reset") { s ->
                s.readAtMs > live.readAtMs && s.liveness == Liveness.LIVE && s.liveUpdates == 0
            }
            expect(reset.rows.single { it.person == owner }.checkins.size == before) { "the restored server lost the check-in: $reset" }

            val beforeMidnight = team.state.value
            team.onTick()
            expect(team.state.value.readAtMs == beforeMidnight.readAtMs) { "same day: no new read" }
            today = "2099-01-01"
            team.onTick()
            expect(team.state.value.readAtMs > beforeMidnight.readAtMs) { "a new day reads the view again" }
            team.stop()
        } finally {
            scope.cancel()
        }
    }

    test("reminder, battery guide, permissions and the lost-phone help") {
        val reminder = Reminders.next(phone.engine, owner) ?: throw AssertionError("the check-out at 23:59 or tomorrow's arrival is ahead")
        expect(Regex("Absen (masuk|pulang) pukul \\d\\d:\\d\\d").matches(reminder.title) && reminder.delayMs >= 0) { "$reminder" }
        // Foreground syncs ran at every check-in above; no background pass ever ran.
        val background = BackgroundSync(MemorySettings())
        val now = phone.engine.localTime(owner).nowMs
        val day = 24 * 3_600_000L
        expect(BatteryGuide.whenStalled(background.lastPassOrFirstAsked(now), now, "Xiaomi") == null) { "first asked now" }
        val stalled = BatteryGuide.whenStalled(background.lastPassOrFirstAsked(now + day), now + day, "Xiaomi")
        expect(stalled?.steps?.any { it.contains("Mulai otomatis") } == true) { "a day with no background pass: $stalled" }
        val report = background.run(phone.engine)
        expect(report.errorCode == null) { "$report" }
        val ran = background.lastPassOrFirstAsked(now + day)
        expect(ran >= now && BatteryGuide.whenStalled(ran, now + day - 1, "Xiaomi") == null) { "a background pass just ran: $ran" }
        val camera = Permissions.explain(AppPermission.CAMERA, PermissionStatus.DENIED_FOREVER)
        expect(camera.opensSettings && camera.required && camera.action!!.contains("Pengaturan")) { "$camera" }
        expect(!Permissions.explain(AppPermission.NOTIFICATIONS, PermissionStatus.DENIED).required) { "notifications optional" }
        val settings = SettingsScreen.read(phone.engine, server.url, "0.1.0").getOrThrow()
        val deviceId = phone.engine.deviceId()!!
        expect(settings.lostPhone.first().contains(deviceId) && settings.people.size == 2) { "$settings" }
    }

    test("a revoked phone is reset and enrolls again with a new code as a new device") {
        val dewi = Phone(work, "dewi2", server)
        dewi.enrollOwner(code(PPPK_ID), PersonKind.NI_PPPK, PPPK_ID)
        val oldDevice = dewi.engine.deviceId()!!
        server.admin("device", "revoke", "--device", oldDevice)
        val refused = dewi.engine.syncNow()
        expect(refused.errorCode == "AUTH_DEVICE_REVOKED") { "$refused" }
        val again = EnrollmentPresenter(dewi.session, dewi.consent, EnrollmentMode.OWNER)
        again.onCodeChanged(code(PPPK_ID))
        again.onKindChanged(PersonKind.NI_PPPK)
        again.onPersonIdChanged(PPPK_ID)
        again.submit()
        expect(again.state.value.problem?.code == "AUTH_DEVICE_REVOKED") { "a revoked key cannot enroll: ${again.state.value}" }
        expect(dewi.session.pendingBeforeReset() == 0) { "nothing to lose" }
        dewi.session.reset()
        expect(dewi.session.engine == null && !dewi.session.isEnrolled) { "forgotten" }
        val fresh = EnrollmentPresenter(dewi.session, dewi.consent, EnrollmentMode.OWNER)
        fresh.onCodeChanged(code(PPPK_ID))
        fresh.onKindChanged(PersonKind.NI_PPPK)
        fresh.onPersonIdChanged(PPPK_ID)
        fresh.submit()
        expect(fresh.state.value.enrolled != null) { "${fresh.state.value}" }
        expect(dewi.engine.deviceId() != oldDevice) { "a new device" }
    }

    // Last: it registers the first admin, after which every admin command names one.
    test("attendance by phone suspended by an admin: home says why instead of offering the button") {
        val admin = "nip:$SUPERVISOR_NIP"
        server.admin("admin", "init", "--person", admin, "--name", "Admin BKPSDM")
        server.admin("freeze", "on", "--reason", "evaluasi aplikasi", "--admin", admin)
        kotlinx.coroutines.runBlocking { phone.engine.refreshConfig() }
        val home = HomePresenter(phone.engine, "Xiaomi", BackgroundSync(phone.settings))
        home.refresh()
        val notice = home.state.value.phoneSuspended
        expect(notice != null && notice.contains("evaluasi aplikasi") && notice.startsWith("Absensi lewat ponsel dihentikan")) { "$notice" }
        server.admin("freeze", "off", "--reason", "evaluasi selesai", "--admin", admin)
        kotlinx.coroutines.runBlocking { phone.engine.refreshConfig() }
        home.refresh()
        expect(home.state.value.phoneSuspended == null) { "${home.state.value.phoneSuspended}" }
    }

    server.stop()
    work.deleteRecursively()
    Tally.finish()
}

/** The Indonesian formatting, on fixed values. */
fun formattingTests() = test("texts: distances, office times, dates, zones, deductions and spans in Indonesian") {
    expect(Teks.distance(240.4) == "240 m" && Teks.distance(1234.0) == "1,2 km" && Teks.distance(15_400.0) == "15 km") { "distance" }
    val at = 1_796_012_345_000L // 2026-11-30T04:19:05Z
    expect(Teks.time(at, 420) == "11.19" && Teks.time(at, 540) == "13.19") { Teks.time(at, 420) }
    expect(Teks.date(at, 420) == "Senin, 30 November 2026" && Teks.date(at + 20 * 3_600_000L, 420) == "Selasa, 1 Desember 2026") { Teks.date(at, 420) }
    expect(Teks.isoDate("2026-11-30") == "Senin, 30 November 2026") { Teks.isoDate("2026-11-30") }
    expect(Teks.zone(480) == "WITA" && Teks.zone(330) == "UTC+05.30") { Teks.zone(330) }
    expect(Teks.deduction("TL2") == "TL2: terlambat 31–60 menit" && Teks.deduction("PSW4").startsWith("PSW4: pulang sebelum")) { "deduction" }
    expect(Teks.ago(0, 30_000) == "baru saja" && Teks.ago(0, 3 * 3_600_000L) == "3 jam lalu" && Teks.span(3 * 86_400_000L) == "3 hari") { "span" }
    expect(Teks.lastSync(null, 0, 2) == "Belum pernah tersinkron. 2 absen menunggu dikirim.") { Teks.lastSync(null, 0, 2) }
}
