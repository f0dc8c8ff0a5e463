#!/usr/bin/env bash
# The test command: formatting, lints, every Rust test (unit, integration, end-to-end
# against the real server binary), the Kotlin tests of the generated bindings against a
# real server, the independent Python client against the real server, and the Android
# arm64 type check.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
scripts/check-server-deps.sh
scripts/check-android.sh
cargo test --workspace --locked
bindings/kotlin-tests.sh
tests/python/run.sh
