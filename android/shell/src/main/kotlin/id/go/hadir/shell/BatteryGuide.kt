/**
 * The guide to the phone's battery settings, shown when background sync has not run
 * for a day ([BackgroundSync] records its passes): Xiaomi, Oppo/Realme, Vivo, Samsung and Huawei stop background work of
 * apps they do not know (dontkillmyapp.com). The steps name the menus as the phones
 * show them in Bahasa Indonesia; admins have the same list in android/README.md.
 */
package id.go.hadir.shell


/** What to change on this phone so background sync keeps running. */
data class BatteryGuide(val title: String, val steps: List<String>) {
    companion object {
        /** How long without a sync pass before the guide shows. */
        const val STALLED_AFTER_MS = 24 * 3_600_000L

        /**
         * The guide when no background pass has run for [STALLED_AFTER_MS] (a pass
         * that ran but found no signal counts as running: that is the network, not the
         * battery saver), else null. [lastBackgroundPassMs] comes from
         * [BackgroundSync.lastPassOrFirstAsked].
         */
        fun whenStalled(lastBackgroundPassMs: Long, nowMs: Long, manufacturer: String): BatteryGuide? =
            if (nowMs - lastBackgroundPassMs >= STALLED_AFTER_MS) forManufacturer(manufacturer) else null

        /** The steps for a maker (`Build.MANUFACTURER`, any case). */
        fun forManufacturer(manufacturer: String): BatteryGuide {
            val title = "Sinkronisasi otomatis tidak berjalan sejak kemarin. Izinkan Hadir berjalan di latar belakang:"
            val steps = when (manufacturer.trim().lowercase()) {
                "xiaomi", "redmi", "poco" -> listOf(
                    "Buka Pengaturan > Aplikasi > Kelola aplikasi > Hadir.",
                    "Aktifkan \"Mulai otomatis\" (Autostart).",
                    "Pilih \"Penghemat baterai\" lalu \"Tidak ada pembatasan\".",
                )
                "oppo", "realme", "oneplus" -> listOf(
                    "Buka Pengaturan > Aplikasi > Manajemen aplikasi > Hadir.",
                    "Buka \"Penggunaan baterai\" dan aktifkan \"Izinkan aktivitas latar belakang\" dan \"Izinkan peluncuran otomatis\".",
                )
                "vivo", "iqoo" -> listOf(
                    "Buka Pengaturan > Baterai > Konsumsi daya latar belakang tinggi, lalu aktifkan Hadir.",
                    "Buka Pengaturan > Aplikasi > Mulai otomatis, lalu aktifkan Hadir.",
                )
                "samsung" -> listOf(
                    "Buka Pengaturan > Aplikasi > Hadir > Baterai, lalu pilih \"Tidak dibatasi\".",
                    "Buka Pengaturan > Pemeliharaan perangkat > Baterai > Batas penggunaan latar belakang, " +
                        "lalu masukkan Hadir ke \"Aplikasi yang tidak pernah tidur\".",
                )
                "huawei", "honor" -> listOf(
                    "Buka Pengaturan > Baterai > Peluncuran aplikasi > Hadir.",
                    "Matikan \"Kelola secara otomatis\", lalu aktifkan peluncuran otomatis, peluncuran sekunder, dan jalankan di latar belakang.",
                )
                else -> listOf(
                    "Buka Pengaturan > Aplikasi > Hadir > Baterai, lalu pilih \"Tidak dibatasi\" atau matikan pengoptimalan baterai.",
                )
            }
            return BatteryGuide(title, steps + "Buka Hadir sekali lagi agar absen yang tertunda terkirim.")
        }
    }
}
