#!/usr/bin/env bash
# Kotlin (JVM) tests of the generated bindings against a real hadir-server on loopback:
# bindings/kotlin-jars.sh builds the library, the server and the bindings and support
# jars; this compiles the tests against them and runs them with JNA.
set -euo pipefail
cd "$(dirname "$0")/.."
bindings/kotlin-jars.sh
K="$PWD/.tools/node_modules/kotlin-compiler"
CP="$K/lib/kotlinx-coroutines-core-jvm.jar:/usr/share/java/jna.jar"
kdir=target/kotlin
"$K/bin/kotlinc" -J-XX:TieredStopAtLevel=1 -Werror bindings/kotlin/tests/*.kt \
  -cp "$CP:$kdir/bindings.jar:$kdir/support.jar" -d "$kdir/tests.jar"
HADIR_SERVER_BIN="$PWD/target/debug/hadir-server" \
  java -Djna.library.path="$PWD/target/debug" \
  -cp "$kdir/tests.jar:$kdir/support.jar:$kdir/bindings.jar:$K/lib/kotlin-stdlib.jar:$CP" MainKt
