/**
 * The first-run consent, as UU No. 27 Tahun 2022 (Pelindungan Data Pribadi) asks: who
 * collects what, why, for how long, and the person's rights, before anything is
 * collected. The regency's build supplies its name and its retention rule; what the
 * phone keeps is stated from the core's own rules. Agreement is stored with the text's
 * version, so a changed text is asked again.
 */
package id.go.hadir.shell

import id.go.hadir.core.PersonRef
import id.go.hadir.shell.platform.SettingsStore

/** The regency running this build of the app (from its build flavour). */
data class Regency(
    /** e.g. "Pemerintah Kota Bengkulu". */
    val name: String,
    /** Who to contact about personal data, e.g. "BKPSDM Kota Bengkulu, ppid@bengkulukota.go.id". */
    val dataContact: String,
    /** How long the regency keeps attendance records, e.g. "5 tahun sesuai jadwal retensi arsip kepegawaian". */
    val serverRetention: String,
)

/** One section of the consent screen. */
data class ConsentSection(val title: String, val body: String)

/** The consent screen and the person's answer. */
class Consent(private val regency: Regency, private val settings: SettingsStore) {
    /** The sections, in order. */
    val sections: List<ConsentSection> = listOf(
        ConsentSection(
            "Siapa yang mengumpulkan",
            "${regency.name} mengelola data absensi Anda melalui aplikasi Hadir, untuk absensi " +
                "pegawai (ASN dan non-ASN) sesuai ketentuan kepegawaian.",
        ),
        ConsentSection(
            "Data yang dikumpulkan",
            "Setiap kali Anda absen: foto wajah (selfie), lokasi GPS beserta akurasinya dan tanda " +
                "lokasi palsu, waktu menurut jam ponsel dan jam server, serta QR kantor bila kantor " +
                "memintanya. Saat pendaftaran: NIP/NI PPPK/nomor pegawai Anda, kunci keamanan " +
                "ponsel ini, dan tanda pengenal perangkat (bukan IMEI kecuali ponsel dinas).",
        ),
        ConsentSection(
            "Untuk apa",
            "Membuktikan kehadiran Anda di kantor pada waktunya, mencegah titip absen dan " +
                "lokasi palsu, menampilkan kehadiran tim kepada atasan langsung, dan menghitung " +
                "bagian kehadiran Tambahan Penghasilan Pegawai (TPP). Data tidak dipakai untuk " +
                "tujuan lain.",
        ),
        ConsentSection(
            "Berapa lama disimpan",
            "Di ponsel: foto dihapus 3 hari setelah server memutuskan absennya; riwayat absen " +
                "tanpa foto tetap tersimpan di aplikasi sampai aplikasi dihapus. Data tidak ikut " +
                "dicadangkan atau dipindahkan ke ponsel lain. Di server ${regency.name}: " +
                "${regency.serverRetention}.",
        ),
        ConsentSection(
            "Hak Anda",
            "Anda berhak mengetahui, mengakses, dan meminta perbaikan data Anda, serta menarik " +
                "persetujuan. Tanpa persetujuan, absensi lewat aplikasi tidak dapat dipakai; " +
                "tanyakan cara absen lain kepada admin kepegawaian. Hubungi: ${regency.dataContact}.",
        ),
    )

    /** True when the person agreed to this version of the text. */
    val accepted: Boolean get() = settings.get(KEY) == VERSION

    /** Records the agreement to this version (the phone's first run, before enrollment). */
    fun accept() = settings.put(KEY, VERSION)

    /** True when [person] agreed to this version (each person on a shared phone agrees for themself). */
    fun acceptedBy(person: PersonRef): Boolean = settings.get(personKey(person)) == VERSION

    /** Records [person]'s agreement to this version. */
    fun acceptFor(person: PersonRef) = settings.put(personKey(person), VERSION)

    private fun personKey(person: PersonRef) = "$KEY.${person.kind.name.lowercase()}:${person.value}"

    companion object {
        /** The text's version; change it whenever the sections change in substance. */
        const val VERSION = "2026-12-01"
        private const val KEY = "consent.version"
    }
}
