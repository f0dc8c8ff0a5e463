#!/usr/bin/env bash
# Runs the rules crate's tests (hadir-core: geofence, photo, envelope, clock, anchors,
# QR, ids, schedule, the test vectors) on the CPUs staff phones have, under qemu-user:
# 64-bit Arm (aarch64, as arm64-v8a phones) and 32-bit Arm (armv7 hard-float, as
# armeabi-v7a phones: 32-bit usize, another float unit). Linux rather than Android (no
# NDK here), so the code and its C parts (ring, libjpeg-turbo) run for real; the
# Android targets themselves are type-checked by scripts/check-android.sh.
# Only hadir-core runs here: hadir-device and the server are I/O over the same rules,
# tested natively, and the whole workspace under emulation would double CI's time.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian's cross compilers link; qemu runs the test binaries with the target's glibc. Set
# here, not in .cargo/config.toml, so a native arm64 Linux host keeps running its own
# tests natively.
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
export CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_LINKER=arm-linux-gnueabihf-gcc
export CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_RUNNER="qemu-arm -L /usr/arm-linux-gnueabihf"
for target in aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf; do
  rustup target add "$target" >/dev/null
  echo "== hadir-core tests on $target (qemu-user)"
  cargo test --locked --target "$target" -p hadir-core
done
