// :shell: everything of the app that is not an Android adapter or a Compose screen
// (the check-in flow, screen states, Indonesian texts), as a plain Kotlin/JVM library
// over the generated uniffi bindings. CI compiles and tests it with kotlinc; this file
// does the same in Gradle. Sources: src/main/kotlin plus the bindings that
// ../build-rust.sh --bindings-only generates into build/generated/uniffi/kotlin.

import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    alias(libs.plugins.kotlin.jvm)
}

java {
    sourceCompatibility = JavaVersion.VERSION_17
    targetCompatibility = JavaVersion.VERSION_17
}

kotlin {
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_17)
    }
    sourceSets.named("main") {
        kotlin.srcDir(layout.buildDirectory.dir("generated/uniffi/kotlin"))
    }
    // The JVM test support shared with the bindings' own Kotlin tests.
    sourceSets.named("test") {
        kotlin.srcDir(rootDir.parentFile.resolve("bindings/kotlin/support"))
    }
}

dependencies {
    api(libs.kotlinx.coroutines.core)
    // The bindings need JNA's classes to compile; the app packages JNA itself (the aar,
    // with libjnidispatch for the phone's ABIs), so the jar must not ride along.
    compileOnly(libs.jna)
    testImplementation(libs.jna)
}

/** The repository root: the Rust workspace that holds hadir-ffi and hadir-server. */
val repoRoot: File = rootDir.parentFile

// Generates the Kotlin bindings (and the host debug libhadir_ffi the tests load).
// Cargo and the bindgen are incremental, so the task simply runs every build.
val generateBindings by tasks.registering(Exec::class) {
    description = "Generates the uniffi Kotlin bindings into build/generated/uniffi (build-rust.sh --bindings-only)."
    group = "build"
    workingDir = rootDir
    commandLine("bash", rootDir.resolve("build-rust.sh").path, "--bindings-only")
}

tasks.named("compileKotlin") { dependsOn(generateBindings) }

// The real server the tests talk to over 127.0.0.1.
val buildTestServer by tasks.registering(Exec::class) {
    description = "Builds the host hadir-server binary the :shell tests start."
    workingDir = repoRoot
    commandLine("cargo", "build", "-p", "hadir-server", "--bin", "hadir-server", "--locked")
}

// The tests are a main() runner (no JUnit), against the real host library and server.
val shellTest by tasks.registering(JavaExec::class) {
    description = "Runs the :shell tests (id.go.hadir.shell.test.MainKt) against the host libhadir_ffi and a real hadir-server."
    group = "verification"
    dependsOn(generateBindings, buildTestServer, tasks.named("testClasses"))
    classpath = sourceSets["test"].runtimeClasspath
    mainClass.set("id.go.hadir.shell.test.MainKt")
    jvmArgs("-Djna.library.path=${repoRoot.resolve("target/debug").path}")
    environment("HADIR_SERVER_BIN", repoRoot.resolve("target/debug/hadir-server").path)
}

tasks.named("check") { dependsOn(shellTest) }
