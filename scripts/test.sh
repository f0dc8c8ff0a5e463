#!/usr/bin/env bash
# The test command: formatting, lints, the Android arm64 and armv7 type checks, the rules
# crate's tests on aarch64 and armv7 under qemu-user, every Rust test (unit, integration,
# end-to-end against the real server binary), the Kotlin tests of the generated bindings
# and of the Android app's :shell against a real server, the independent Python client
# against the real server, and in headless Chromium the office monitor page against a
# server with a test clock and the enrollment slip's QR (tests/kiosk).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
scripts/check-server-deps.sh
scripts/check-android.sh
scripts/test-arm.sh
cargo test --workspace --locked
bindings/kotlin-tests.sh
android/shell-tests.sh
tests/python/run.sh
cargo build -q --workspace --examples --locked && node tests/kiosk/kiosk.test.mjs "${CARGO_TARGET_DIR:-target}/debug/examples/kiosk_harness"
node tests/kiosk/enrollment_qr.test.mjs "${CARGO_TARGET_DIR:-target}/debug/hadir-server"
