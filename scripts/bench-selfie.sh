#!/usr/bin/env bash
# Selfie normalisation: Rust (hadir_core::photo::normalise_selfie, mozjpeg + fast_image_resize)
# against Python Pillow doing the same job on the same files, interleaved in one run
# (rust, pillow, rust, pillow, ...), then the peak memory each adds on the 12 MP input.
#
# Usage: scripts/bench-selfie.sh [ROUNDS=3] [RUNS=30]
# Inputs are generated once into <target>/bench-inputs (delete them to regenerate).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
RUNS=${2:-30}

python3 -c 'import PIL' 2>/dev/null || python3 -m pip install --quiet pillow

TARGET=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
export HADIR_BENCH_INPUTS="$TARGET/bench-inputs"

# Build once and run the bench binary directly, so nothing is rebuilt between rounds.
BENCH=$(cargo bench -p hadir-core-bench --bench selfie --no-run --message-format=json |
  python3 -c '
import json, sys
for line in sys.stdin:
    msg = json.loads(line)
    if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "selfie" \
            and msg.get("executable"):
        print(msg["executable"])')
"$BENCH" --generate-inputs
INPUTS=("$HADIR_BENCH_INPUTS/selfie-12mp.jpg" "$HADIR_BENCH_INPUTS/selfie-1mp.jpg")

python3 -c 'import PIL, platform; print("Pillow", PIL.__version__, "Python", platform.python_version())'
RESULTS=$(mktemp)
for round in $(seq "$ROUNDS"); do
  echo "round $round/$ROUNDS" >&2
  "$BENCH" --table "$RUNS" | tee -a "$RESULTS"
  python3 scripts/pillow_selfie.py "$RUNS" "${INPUTS[@]}" | tee -a "$RESULTS"
done

echo
python3 - "$RESULTS" "$RUNS" "$ROUNDS" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    impl, name, mn, med, size = line.split()
    rows.setdefault((name, impl), []).append((float(mn), float(med), int(size)))
print(f"{sys.argv[3]} rounds x {sys.argv[2]} runs each, times in ms "
      "(min = best of all runs, median = median of the rounds' medians)")
print(f"| input | Rust min | Rust median | Pillow min | Pillow median | Rust/Pillow (min) | output bytes (Rust / Pillow) |")
print("|---|---|---|---|---|---|---|")
for name in sorted({n for n, _ in rows}):
    r, p = rows[(name, "rust")], rows[(name, "pillow")]
    rmin, pmin = min(x[0] for x in r), min(x[0] for x in p)
    rmed = statistics.median(x[1] for x in r)
    pmed = statistics.median(x[1] for x in p)
    print(f"| {name} | {rmin:.1f} | {rmed:.1f} | {pmin:.1f} | {pmed:.1f} | "
          f"{rmin / pmin:.2f} | {r[0][2]} / {p[0][2]} |")
PY
rm -f "$RESULTS"

echo
cargo run --quiet --release -p hadir-core --example selfie_peak_memory -- "${INPUTS[0]}"
python3 scripts/pillow_selfie.py --peak "${INPUTS[0]}"
