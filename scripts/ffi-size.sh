#!/usr/bin/env bash
# Builds the phone library (hadir-ffi) with the `mobile` profile and prints the size of
# a stripped copy: what an app would ship for this CPU (x86_64 here, a proxy for arm64).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked --profile mobile -p hadir-ffi
out=$(mktemp)
cp target/mobile/libhadir_ffi.so "$out"
strip "$out"
echo "stripped libhadir_ffi.so (mobile profile): $(stat -c %s "$out") bytes"
rm -f "$out"
