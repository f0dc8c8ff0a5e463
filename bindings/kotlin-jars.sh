#!/usr/bin/env bash
# Builds what every JVM test needs, once: the host libhadir_ffi and hadir-server, the
# generated Kotlin bindings compiled into target/kotlin/bindings.jar, and the shared
# test support (bindings/kotlin/support) into target/kotlin/support.jar. Each jar is
# rebuilt only when its sources change. Used by bindings/kotlin-tests.sh and
# android/shell-tests.sh. Needs scripts/setup.sh (kotlinc in .tools/, JNA from libjna-java).
set -euo pipefail
cd "$(dirname "$0")/.."
K="$PWD/.tools/node_modules/kotlin-compiler"
JNA=/usr/share/java/jna.jar
[ -x "$K/bin/kotlinc" ] || { echo "kotlinc missing: run scripts/setup.sh" >&2; exit 1; }
[ -f "$JNA" ] || { echo "JNA missing: run scripts/setup.sh" >&2; exit 1; }
out=target/bindings
bindings/generate.sh "$out" >/dev/null
CP="$K/lib/kotlinx-coroutines-core-jvm.jar:$JNA"
kdir=target/kotlin
mkdir -p "$kdir"
# compile NAME CLASSPATH SOURCES...: into $kdir/NAME.jar unless the sources are unchanged.
compile() {
  local name=$1 cp=$2; shift 2
  local sum parts
  IFS=: read -ra parts <<< "$cp"
  sum=$(cat "$@" "${parts[@]}" | sha256sum | cut -d' ' -f1)
  if [ ! -f "$kdir/$name.jar" ] || [ "$(cat "$kdir/$name.sha256" 2>/dev/null)" != "$sum" ]; then
    "$K/bin/kotlinc" -J-XX:TieredStopAtLevel=1 -nowarn "$@" -cp "$cp" -d "$kdir/$name.jar"
    echo "$sum" > "$kdir/$name.sha256"
  fi
}
compile bindings "$CP" "$out/kotlin/id/go/hadir/core/hadir_ffi.kt"
compile support "$CP:$kdir/bindings.jar" bindings/kotlin/support/*.kt
