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
for target in aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf; do
  rustup target add "$target" >/dev/null
  echo "== hadir-core tests on $target (qemu-user)"
  cargo test --locked --target "$target" -p hadir-core
done
