#!/usr/bin/env bash
# Type-checks the phone crates (hadir-core, hadir-device, hadir-ffi) for Android arm64, so nothing in
# the core is Linux-desktop-only. Without the Android NDK, Debian's clang stands in for
# the C parts (ring, SQLite, libjpeg-turbo) — enough for a check, not for linking; a
# developer with the NDK builds the real .so with cargo-ndk (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
target=aarch64-linux-android
rustup target add "$target" >/dev/null
export CC_aarch64_linux_android=clang
export AR_aarch64_linux_android=llvm-ar
export CFLAGS_aarch64_linux_android="--target=aarch64-linux-android21 -isystem /usr/aarch64-linux-gnu/include"
cargo check --locked --target "$target" -p hadir-core -p hadir-device -p hadir-ffi
