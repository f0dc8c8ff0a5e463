#!/usr/bin/env python3
"""Times Pillow doing the selfie normalisation job that hadir_core::photo::normalise_selfie
does, as the reference the Rust code must not be slower than.

The job, on JPEG bytes already in memory: Image.draft to the reduced DCT scale that still
covers the target, ImageOps.exif_transpose, resize long edge to 640 (LANCZOS, as the Rust
side uses Lanczos3), JPEG encode q85 (4:2:0, baseline, Pillow's default), SHA-256 of the
output, luma standard deviation (the uniformity check) and a 9x8 dHash (box filter).

Usage: pillow_selfie.py RUNS FILE...   prints "pillow <name> <min ms> <median ms> <bytes>"
       pillow_selfie.py --peak FILE     prints the VmHWM (peak RSS) one job adds (Linux)
"""

import hashlib
import io
import math
import os
import statistics
import sys
import time

from PIL import Image, ImageOps, ImageStat

TARGET = 640


def normalise(data: bytes):
    im = Image.open(io.BytesIO(data))
    w, h = im.size
    long_edge = max(w, h)
    if long_edge > TARGET:
        req = (math.ceil(w * TARGET / long_edge), math.ceil(h * TARGET / long_edge))
        im.draft("RGB", req)
    im = ImageOps.exif_transpose(im)
    w, h = im.size
    long_edge = max(w, h)
    if long_edge > TARGET:
        size = (round(w * TARGET / long_edge), round(h * TARGET / long_edge))
        im = im.resize(size, Image.Resampling.LANCZOS)
    gray = im.convert("L")
    stddev = ImageStat.Stat(gray).stddev[0]
    small = gray.resize((9, 8), Image.Resampling.BOX).tobytes()
    dhash = 0
    for row in range(8):
        for col in range(8):
            dhash = (dhash << 1) | (small[row * 9 + col] < small[row * 9 + col + 1])
    out = io.BytesIO()
    im.save(out, "JPEG", quality=85)
    jpeg = out.getvalue()
    sha = hashlib.sha256(jpeg).hexdigest()
    return jpeg, sha, dhash, stddev, im.size


def vm_hwm_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM")


def main() -> None:
    if sys.argv[1] == "--peak":
        with open(sys.argv[2], "rb") as f:
            data = f.read()
        before = vm_hwm_kib()
        normalise(data)
        after = vm_hwm_kib()
        print(f"pillow VmHWM before {before} KiB, after {after} KiB, "
              f"added peak {(after - before) / 1024:.1f} MiB")
        return
    runs = int(sys.argv[1])
    for path in sys.argv[2:]:
        with open(path, "rb") as f:
            data = f.read()
        name = os.path.splitext(os.path.basename(path))[0]
        for _ in range(3):
            normalise(data)
        times = []
        out_len = 0
        for _ in range(runs):
            start = time.perf_counter()
            jpeg, _sha, _dhash, _stddev, _size = normalise(data)
            times.append(time.perf_counter() - start)
            out_len = len(jpeg)
        times.sort()
        print(
            f"pillow {name} {times[0] * 1000:.2f} "
            f"{statistics.median(times) * 1000:.2f} {out_len}",
            flush=True,
        )


if __name__ == "__main__":
    main()
