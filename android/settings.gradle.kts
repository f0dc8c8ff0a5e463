// The Hadir Android project: `:shell` (plain Kotlin/JVM: the check-in flow, screen
// states, texts; compiled and tested on CI with kotlinc) and `:app` (the Android
// adapters and Compose UI; reviewed, not built, on CI). See README.md.

pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "hadir-android"
include(":shell", ":app")
