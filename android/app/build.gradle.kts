// :app: the Android application. Thin adapters (Keystore key, clocks, location, CameraX,
// ZXing, WorkManager, notifications) and the Compose UI over :shell; every decision is
// the Rust core's or :shell's. Reviewed, not built, on the project's CI machines (no
// Android SDK there): see ../README.md for building the APK.

import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    alias(libs.plugins.android.application)
    alias(libs.plugins.kotlin.android)
    alias(libs.plugins.kotlin.compose)
}

android {
    namespace = "id.go.hadir.app"
    compileSdk = 35
    // NDK r28 links 16 KB-aligned libraries by default (../build-rust.sh checks it).
    ndkVersion = "28.0.13004108"

    defaultConfig {
        applicationId = "id.go.hadir"
        // 24 (Android 7.0): Keystore key attestation and Settings.Global.BOOT_COUNT;
        // the cheap Android Go phones staff carry run 8.1 or later. See ../README.md.
        minSdk = 24
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
        ndk {
            // What build-rust.sh builds: every phone staff carry is ARM.
            abiFilters += listOf("arm64-v8a", "armeabi-v7a")
        }
    }

    // One flavour per regency: its server and certificate pins come only from here.
    flavorDimensions += "regency"
    productFlavors {
        create("demo") {
            dimension = "regency"
            applicationIdSuffix = ".demo"
            versionNameSuffix = "-demo"
            // The emulator's address of the developer machine, where
            // `hadir-server` listens; cleartext is allowed for it only in this flavour
            // (src/demo/res/xml/network_security_config.xml).
            buildConfigField("String", "SERVER_URL", "\"http://10.0.2.2:8470\"")
            buildConfigField("String[]", "PINNED_CERT_SHA256", "{}")
            // Who runs this build, for the consent screen (UU PDP): :shell's Regency.
            buildConfigField("String", "REGENCY_NAME", "\"Pemerintah Daerah (demo)\"")
            buildConfigField("String", "REGENCY_DATA_CONTACT", "\"Admin kepegawaian (demo)\"")
            buildConfigField("String", "REGENCY_SERVER_RETENTION", "\"5 tahun sesuai jadwal retensi arsip kepegawaian\"")
        }
        create("bengkulukota") {
            dimension = "regency"
            applicationIdSuffix = ".bengkulukota"
            buildConfigField("String", "SERVER_URL", "\"https://hadir.bengkulukota.go.id\"")
            // The regency's Diskominfo puts the SHA-256 fingerprint(s) (hex) of its server
            // certificate here, e.g. {"3f7a...e1"}, current and next, before a release;
            // empty: no pinning, the system's and bundled roots decide.
            buildConfigField("String[]", "PINNED_CERT_SHA256", "{}")
            buildConfigField("String", "REGENCY_NAME", "\"Pemerintah Kota Bengkulu\"")
            buildConfigField("String", "REGENCY_DATA_CONTACT", "\"BKPSDM Kota Bengkulu\"")
            buildConfigField("String", "REGENCY_SERVER_RETENTION", "\"5 tahun sesuai jadwal retensi arsip kepegawaian\"")
        }
    }

    // The regency's release key, never in the repository: android/keystore.properties
    // (git-ignored) or HADIR_SIGNING_* environment variables on a build server. Without
    // them a release build is unsigned (see android/README.md, "A release APK").
    val signing = java.util.Properties().apply {
        rootProject.file("keystore.properties").takeIf { it.exists() }?.inputStream()?.use { load(it) }
    }
    fun signingValue(name: String): String? =
        signing.getProperty(name) ?: System.getenv("HADIR_SIGNING_" + name.uppercase())
    signingConfigs {
        val storeFile = signingValue("storeFile")
        if (storeFile != null) {
            create("release") {
                this.storeFile = rootProject.file(storeFile)
                storePassword = signingValue("storePassword")
                keyAlias = signingValue("keyAlias")
                keyPassword = signingValue("keyPassword")
            }
        }
    }

    buildTypes {
        release {
            signingConfigs.findByName("release")?.let { signingConfig = it }
            // JNA reaches the generated bindings' structures and callbacks by
            // reflection; shrinking would break them, and the APK's size is the
            // native library's anyway.
            isMinifyEnabled = false
        }
    }

    buildFeatures {
        compose = true
        buildConfig = true
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    packaging {
        jniLibs {
            // Stored uncompressed and 16 KB-aligned in the APK (loaded in place).
            useLegacyPackaging = false
        }
    }
}

kotlin {
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_17)
    }
}

dependencies {
    implementation(project(":shell"))
    // JNA as an aar: its classes plus libjnidispatch.so for the phone's ABIs, at the
    // first version whose native library is 16 KB-page aligned (see the catalog).
    implementation(libs.jna.android) {
        artifact { type = "aar" }
    }
    implementation(libs.kotlinx.coroutines.android)
    implementation(libs.zxing.core)
    implementation(libs.androidx.core.ktx)
    implementation(libs.androidx.activity.compose)
    implementation(libs.androidx.lifecycle.runtime.compose)
    implementation(libs.androidx.lifecycle.viewmodel.compose)
    implementation(platform(libs.androidx.compose.bom))
    implementation(libs.androidx.compose.ui)
    implementation(libs.androidx.compose.ui.tooling.preview)
    implementation(libs.androidx.compose.material3)
    debugImplementation(libs.androidx.compose.ui.tooling)
    implementation(libs.androidx.camera.core)
    implementation(libs.androidx.camera.camera2)
    implementation(libs.androidx.camera.lifecycle)
    implementation(libs.androidx.camera.view)
    implementation(libs.androidx.work.runtime.ktx)
    implementation(libs.androidx.navigation.compose)
}

// The phone's native library, built by ../build-rust.sh before anything else (the
// Kotlin bindings come with :shell). Cargo is incremental: the task runs every build.
val ndkDirectory = androidComponents.sdkComponents.ndkDirectory
val buildRustLibs by tasks.registering(Exec::class) {
    description = "Builds libhadir_ffi.so for arm64-v8a and armeabi-v7a into src/main/jniLibs (build-rust.sh --libs-only)."
    group = "build"
    workingDir = rootDir
    commandLine("bash", rootDir.resolve("build-rust.sh").path, "--libs-only")
    doFirst {
        // The NDK Android Studio installed (ndkVersion above), unless one is chosen.
        if (System.getenv("ANDROID_NDK_HOME").isNullOrEmpty()) {
            environment("ANDROID_NDK_HOME", ndkDirectory.get().asFile.path)
        }
    }
}

tasks.named("preBuild") { dependsOn(buildRustLibs) }
