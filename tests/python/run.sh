#!/usr/bin/env bash
# The independent Python client (written from docs/PROTOCOL.md alone) against the real
# hadir-server binary on 127.0.0.1 with a temporary database, and its own check of
# docs/vectors/. Needs Debian's python3-cryptography and python3-pil (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --locked -q --workspace  # as the tests build it: no rebuild with other features
target_dir="${CARGO_TARGET_DIR:-target}"
exec /usr/bin/python3 tests/python/test_against_server.py "$target_dir/debug/hadir-server"
