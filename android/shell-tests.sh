#!/usr/bin/env bash
# The :shell tests on the JVM, as CI runs them (no Gradle here): compiles :shell's
# sources and its tests with kotlinc against the generated bindings, then runs them
# against the real host libhadir_ffi and a real hadir-server on 127.0.0.1. The Kotlin
# and coroutines versions are those gradle/libs.versions.toml pins.
set -euo pipefail
cd "$(dirname "$0")/.."
bindings/kotlin-jars.sh
K="$PWD/.tools/node_modules/kotlin-compiler"
CP="$K/lib/kotlinx-coroutines-core-jvm.jar:/usr/share/java/jna.jar"
kdir=target/kotlin
mapfile -t main < <(find android/shell/src/main -name '*.kt' | sort)
mapfile -t tests < <(find android/shell/src/test -name '*.kt' | sort)
"$K/bin/kotlinc" -J-XX:TieredStopAtLevel=1 -Werror "${main[@]}" -cp "$CP:$kdir/bindings.jar" -d "$kdir/shell.jar"
"$K/bin/kotlinc" -J-XX:TieredStopAtLevel=1 -Werror "${tests[@]}" \
  -cp "$CP:$kdir/bindings.jar:$kdir/support.jar:$kdir/shell.jar" -d "$kdir/shell-tests.jar"
HADIR_SERVER_BIN="$PWD/target/debug/hadir-server" \
  java -Djna.library.path="$PWD/target/debug" \
  -cp "$kdir/shell-tests.jar:$kdir/shell.jar:$kdir/support.jar:$kdir/bindings.jar:$K/lib/kotlin-stdlib.jar:$CP" \
  id.go.hadir.shell.test.MainKt
