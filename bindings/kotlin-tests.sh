#!/usr/bin/env bash
# Kotlin (JVM) tests of the generated bindings against a real hadir-server on loopback:
# builds the cdylib and the server, generates the Kotlin (and Swift) bindings, compiles
# the bindings into a jar once, then the tests against it, and runs them with JNA.
# Needs scripts/setup.sh (kotlinc in .tools/, JNA from libjna-java).
set -euo pipefail
cd "$(dirname "$0")/.."
K="$PWD/.tools/node_modules/kotlin-compiler"
JNA=/usr/share/java/jna.jar
[ -x "$K/bin/kotlinc" ] || { echo "kotlinc missing: run scripts/setup.sh" >&2; exit 1; }
[ -f "$JNA" ] || { echo "JNA missing: run scripts/setup.sh" >&2; exit 1; }
out=target/bindings
bindings/generate.sh "$out" >/dev/null
cargo build -p hadir-server --bin hadir-server --locked
CP="$K/lib/kotlinx-coroutines-core-jvm.jar:$JNA"
kdir=target/kotlin-tests
mkdir -p "$kdir"
# The generated bindings change only when the Rust surface does: compile them once.
stamp="$kdir/bindings.sha256"
sum=$(sha256sum "$out/kotlin/id/go/hadir/core/hadir_ffi.kt" | cut -d' ' -f1)
if [ ! -f "$kdir/bindings.jar" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
  "$K/bin/kotlinc" -J-XX:TieredStopAtLevel=1 -nowarn "$out/kotlin/id/go/hadir/core/hadir_ffi.kt" \
    -cp "$CP" -d "$kdir/bindings.jar"
  echo "$sum" > "$stamp"
fi
"$K/bin/kotlinc" -J-XX:TieredStopAtLevel=1 -Werror bindings/kotlin/tests/*.kt \
  -cp "$CP:$kdir/bindings.jar" -d "$kdir/tests.jar"
HADIR_SERVER_BIN="$PWD/target/debug/hadir-server" \
  java -Djna.library.path="$PWD/target/debug" \
  -cp "$kdir/tests.jar:$kdir/bindings.jar:$K/lib/kotlin-stdlib.jar:$CP" MainKt
