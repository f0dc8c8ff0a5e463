#!/usr/bin/env bash
# The test command: formatting, lints, every Rust test (unit, integration, end-to-end
# against the real server binary) and, once the bindings exist, the Kotlin tests.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
if [ -x bindings/kotlin-tests.sh ]; then
  bindings/kotlin-tests.sh
fi
