/**
 * The settings screen and the permission explanations: why each permission is asked,
 * what to do when it was refused (for good, in the phone's settings), the phone's
 * identity for the admin, and what to do when a phone is lost or replaced.
 */
package id.go.hadir.shell

import id.go.hadir.core.HadirEngine

/** A permission the app asks for. */
enum class AppPermission { LOCATION, CAMERA, NOTIFICATIONS }

/** What the platform says about a permission. */
enum class PermissionStatus {
    GRANTED,

    /** Refused once: the app may ask again, after explaining. */
    DENIED,

    /** Refused for good ("jangan tanya lagi"): only the phone's settings can allow it. */
    DENIED_FOREVER,
}

/** What the screen shows for one permission. */
data class PermissionExplanation(
    val permission: AppPermission,
    val status: PermissionStatus,
    /** Why Hadir needs it. */
    val why: String,
    /** What to do now, when not granted. */
    val action: String?,
    /** Whether the button opens the phone's settings (else it asks again). */
    val opensSettings: Boolean,
    /** Without it, can attendance still be recorded? (notifications: yes). */
    val required: Boolean,
)

/** Permission explanations, decided in one place. */
object Permissions {
    /** The explanation of [permission] in [status]. */
    fun explain(permission: AppPermission, status: PermissionStatus): PermissionExplanation {
        val (why, required) = when (permission) {
            AppPermission.LOCATION -> "Lokasi akurat dipakai hanya saat Anda menekan Hadir, untuk memastikan Anda berada di area kantor." to true
            AppPermission.CAMERA -> "Kamera depan dipakai untuk foto absen dan untuk memindai QR kantor atau QR pendaftaran." to true
            AppPermission.NOTIFICATIONS -> "Notifikasi mengingatkan waktu absen berikutnya. Tanpa notifikasi, absen tetap bisa dilakukan." to false
        }
        val action = when (status) {
            PermissionStatus.GRANTED -> null
            PermissionStatus.DENIED -> "Ketuk Izinkan, lalu pilih \"Saat aplikasi digunakan\"."
            PermissionStatus.DENIED_FOREVER -> "Izin ini sudah ditolak. Buka Pengaturan > Aplikasi > Hadir > Izin, lalu izinkan."
        }
        return PermissionExplanation(permission, status, why, action, status == PermissionStatus.DENIED_FOREVER, required)
    }
}

/** What the settings screen shows. */
data class SettingsState(
    val serverUrl: String,
    val deviceId: String?,
    val people: List<String>,
    val appVersion: String,
    val lostPhone: List<String>,
)

/** The settings screen, read from the engine. */
object SettingsScreen {
    /** Reads the phone's identity and the people on it. */
    fun read(engine: HadirEngine?, serverUrl: String, appVersion: String): Result<SettingsState> = attempt {
        val deviceId = engine?.deviceId()
        SettingsState(
            serverUrl = serverUrl,
            deviceId = deviceId,
            people = engine?.people()?.map { p -> "${p.displayName} (${p.person.value})" + if (p.isDeviceOwner) "" else " · tamu" }
                ?: emptyList(),
            appVersion = appVersion,
            lostPhone = lostPhoneSteps(deviceId),
        )
    }

    /** What staff do when this phone is lost or replaced, naming the id the admin needs. */
    fun lostPhoneSteps(deviceId: String?): List<String> = listOf(
        "Laporkan ke admin kepegawaian (BKPSDM/BKD) dan minta perangkat lama dicabut" +
            (deviceId?.let { " (ID perangkat: $it)" } ?: "") + ", agar tidak bisa dipakai absen atas nama Anda.",
        "Minta kode pendaftaran baru untuk ponsel baru; kode lama tidak berlaku lagi.",
        "Pasang Hadir di ponsel baru, setujui pemberitahuan data, lalu daftar dengan kode baru.",
        "Absen yang belum terkirim dari ponsel lama tidak bisa dipindahkan; bila ada, sampaikan ke atasan untuk koreksi.",
    )

    /** The button that forgets this phone's enrollment ([HadirSession.reset]). */
    const val RESET_ACTION = "Daftarkan ulang ponsel ini"

    /**
     * What the person confirms before [HadirSession.reset]: it is for a revoked phone,
     * and what waits in the outbox is lost.
     */
    fun resetWarning(pending: Int): String =
        "Semua pendaftaran di ponsel ini dihapus, lalu ponsel bisa didaftarkan lagi dengan kode baru dari admin. " +
            "Lakukan hanya bila admin sudah mencabut perangkat ini atau ponsel diserahkan ke orang lain. " +
            if (pending > 0) "$pending absen yang belum terkirim akan HILANG: laporkan ke atasan untuk koreksi." else "Tidak ada absen yang belum terkirim."

    /** The message when the server has revoked this device (`AUTH_DEVICE_REVOKED`). */
    fun revoked(deviceId: String?): String =
        "Perangkat ini sudah dicabut oleh admin. Bila ini ponsel Anda yang baru atau ditemukan kembali, minta kode " +
            "pendaftaran baru ke admin" + (deviceId?.let { " dan sebutkan ID perangkat $it" } ?: "") +
            ", lalu pilih \"$RESET_ACTION\" di Pengaturan."
}
