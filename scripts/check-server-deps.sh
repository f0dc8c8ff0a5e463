#!/usr/bin/env bash
# The server links hadir-core's rules and nothing of the phone's engine: no HTTP client,
# no bundled TLS roots, no outbox. Fails if `cargo tree` shows any of them among the
# server's normal (non-dev) dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(cargo tree --locked -p hadir-server -e normal --prefix none --format '{p}')
bad=$(grep -E '^(reqwest|webpki-roots|hadir-device|hadir-ffi|uniffi) ' <<<"$tree" | sort -u || true)
if [ -n "$bad" ]; then
  echo "hadir-server must not link the phone's engine, but its dependency tree has:" >&2
  echo "$bad" >&2
  exit 1
fi
echo "server dependencies: no reqwest, no webpki-roots, no device engine"
