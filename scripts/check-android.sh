#!/usr/bin/env bash
# Type-checks the phone crates (hadir-core, hadir-device, hadir-ffi) for the two ABIs the
# app ships, Android arm64 (arm64-v8a) and 32-bit Arm (armeabi-v7a, still common on cheap
# phones), so nothing in the core is Linux-desktop-only or 64-bit-only. Without the
# Android NDK, Debian's clang (arm64) and armhf gcc (32-bit) stand in for the C parts (ring, SQLite, libjpeg-turbo) —
# enough for a check, not for linking; a developer with the NDK builds the real .so with
# android/build-rust.sh (cargo-ndk; see android/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
export CC_aarch64_linux_android=clang
export AR_aarch64_linux_android=llvm-ar
export CFLAGS_aarch64_linux_android="--target=aarch64-linux-android21 -isystem /usr/aarch64-linux-gnu/include"
# 32-bit Arm: Debian's clang 14 cannot assemble libjpeg-turbo's NEON file for an Android
# target, so the armhf GNU cross compiler (the one the qemu tests link with) compiles
# the C and assembly; the objects are only for the check, never linked.
export CC_armv7_linux_androideabi=arm-linux-gnueabihf-gcc
export AR_armv7_linux_androideabi=arm-linux-gnueabihf-ar
export CFLAGS_armv7_linux_androideabi="-march=armv7-a -mfpu=neon -D__ARM_PCS_VFP=1"
for target in aarch64-linux-android armv7-linux-androideabi; do
  rustup target add "$target" >/dev/null
  cargo check --locked --target "$target" -p hadir-core -p hadir-device -p hadir-ffi
done
