#!/usr/bin/env bash
# The main job: builds and starts hadir-server on SQLite with a demo office and person,
# then runs the demo phone (the real core client) against it: enroll, check in inside
# and outside the geofence, one check-in queued offline and synced later; then the
# person's supervisor opens the team on her own phone and sees a check-in arrive live. The server
# keeps running afterwards for you to try; Ctrl-C stops it. HADIR_DEMO_EXIT=1 stops it
# after the demo instead.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --minimal
cargo build --locked -p hadir-server -p hadir-e2e --bins
dir="${HADIR_DEMO_DIR:-$(mktemp -d -t hadir-demo.XXXXXX)}"
mkdir -p "$dir"
db="$dir/hadir.db"
code=$(target/debug/hadir-server demo-setup --db "$db" 2> "$dir/setup.log")
supervisor_nip=197803212005012002
supervisor_code=$(target/debug/hadir-server enroll-code issue --db "$db" \
  --person "$supervisor_nip" 2>> "$dir/setup.log")
target/debug/hadir-server serve --db "$db" --selfie-dir "$dir/selfies" \
  --listen "${HADIR_LISTEN:-127.0.0.1:8470}" > "$dir/server.out" 2> "$dir/server.log" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  grep -q '^listening on ' "$dir/server.out" 2>/dev/null && break
  kill -0 $server 2>/dev/null || { echo "the server did not start" >&2; exit 1; }
  sleep 0.1
done
addr=$(sed -n 's/^listening on //p' "$dir/server.out" | head -1)
echo "hadir-server listening on http://$addr (database $db, log $dir/server.log)"
echo
target/debug/demo-phone --server "http://$addr" --code "$code" --nip 198503122010011003 \
  --supervisor-code "$supervisor_code" --supervisor-nip "$supervisor_nip"
echo
if [ "${HADIR_DEMO_EXIT:-0}" = 1 ]; then
  exit 0
fi
echo "The server is still running at http://$addr (OpenAPI: http://$addr/v1/openapi.json)."
echo "Press Ctrl-C to stop it."
wait $server
