#!/usr/bin/env python3
"""Write core/rules/tests/fixtures/geodesic_reference.json: independent reference distances
for hadir-core's geofence module, computed with GeographicLib (Karney's algorithms,
WGS84) -- `pip install geographiclib`.

The fixture is committed so that `cargo test` needs no Python. Re-run this script only
to change the cases; the output is deterministic (fixed seed, fixed rounding).

    python3 scripts/make_geodesic_reference.py

Three kinds of case, all at office scale over Indonesia (95..141 E, 11 S..6 N, both
hemispheres and straddling the equator):

* point_pairs: two points 1 m .. 20 km apart and their geodesic distance.
* point_to_segment: a point and a polygon edge [lon, lat] -> [lon, lat]; the edge is a
  straight line in longitude/latitude (as RFC 7946 says of GeoJSON lines), and the
  reference is the minimum geodesic distance from the point to that edge, found by
  densifying the edge (4,001 samples) and then refining the best sample with a
  golden-section search.
* point_to_polygon: one polygon with a hole (GeoJSON rings) and points inside it, in
  the hole and outside it; the reference is 0 inside, else the minimum over all edges.
"""

import json
import math
import os
import random

from geographiclib.geodesic import Geodesic

WGS84 = Geodesic.WGS84
OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..",
    "core",
    "tests",
    "fixtures",
    "geodesic_reference.json",
)

# Anchor towns: (name, lat, lon). Chosen to cover west to east, north to south, and
# the equator (Pontianak, Bonjol).
ANCHORS = [
    ("Sabang", 5.8940, 95.3180),
    ("Banda Aceh", 5.5483, 95.3238),
    ("Medan", 3.5952, 98.6722),
    ("Bonjol (equator)", 0.0000, 100.2210),
    ("Pekanbaru", 0.5071, 101.4478),
    ("Padang", -0.9471, 100.4172),
    ("Bengkulu", -3.8004, 102.2655),
    ("Palembang", -2.9761, 104.7754),
    ("Jakarta", -6.1754, 106.8272),
    ("Bandung", -6.9175, 107.6191),
    ("Surabaya", -7.2575, 112.7521),
    ("Denpasar", -8.6705, 115.2126),
    ("Pontianak (equator)", -0.0263, 109.3425),
    ("Tarakan", 3.3000, 117.6333),
    ("Makassar", -5.1477, 119.4327),
    ("Manado", 1.4748, 124.8421),
    ("Kupang", -10.1772, 123.6070),
    ("Rote", -10.7500, 123.0500),
    ("Ambon", -3.6954, 128.1814),
    ("Ternate", 0.7893, 127.3756),
    ("Jayapura", -2.5337, 140.7181),
    ("Merauke", -8.4932, 140.4018),
]


def inverse(lat1, lon1, lat2, lon2):
    return WGS84.Inverse(lat1, lon1, lat2, lon2)["s12"]


def r7(x):
    return round(x, 7)


def point_pairs(rng):
    cases = []
    # Log-spaced distances from 1 m to 20 km, cycling through the anchors.
    n = 50
    for i in range(n):
        name, lat, lon = ANCHORS[i % len(ANCHORS)]
        dist = 10 ** (math.log10(1.0) + (math.log10(20000.0) - 0.0) * i / (n - 1))
        lat1 = r7(lat + rng.uniform(-0.05, 0.05))
        lon1 = r7(lon + rng.uniform(-0.05, 0.05))
        azi = rng.uniform(-180.0, 180.0)
        d = WGS84.Direct(lat1, lon1, azi, dist)
        lat2, lon2 = r7(d["lat2"]), r7(d["lon2"])
        cases.append(
            {
                "name": f"{name} {dist:.1f} m az {azi:.0f}",
                "lat1": lat1,
                "lon1": lon1,
                "lat2": lat2,
                "lon2": lon2,
                "distance_m": inverse(lat1, lon1, lat2, lon2),
            }
        )
    # Straddling the equator, north-south and diagonal.
    for lat1, lon1, lat2, lon2, name in [
        (0.0005, 109.3400, -0.0005, 109.3400, "equator N-S 110 m"),
        (0.0200, 100.2200, -0.0300, 100.2500, "equator diagonal 6.5 km"),
        (0.0000, 127.0000, 0.0000, 127.1500, "along the equator 16.7 km"),
        (-0.0001, 101.0000, 0.0001, 101.0000, "equator 22 m"),
    ]:
        cases.append(
            {
                "name": name,
                "lat1": lat1,
                "lon1": lon1,
                "lat2": lat2,
                "lon2": lon2,
                "distance_m": inverse(lat1, lon1, lat2, lon2),
            }
        )
    return cases


def interp(a, b, t):
    """Point at fraction t along the lon/lat-straight edge a -> b ([lon, lat])."""
    return (a[1] + (b[1] - a[1]) * t, a[0] + (b[0] - a[0]) * t)


def dist_to_segment(lat, lon, a, b):
    def f(t):
        plat, plon = interp(a, b, t)
        return inverse(lat, lon, plat, plon)

    samples = 4000
    best_i = min(range(samples + 1), key=lambda i: f(i / samples))
    lo = max(0.0, (best_i - 1) / samples)
    hi = min(1.0, (best_i + 1) / samples)
    g = (math.sqrt(5) - 1) / 2
    x1, x2 = hi - g * (hi - lo), lo + g * (hi - lo)
    f1, f2 = f(x1), f(x2)
    for _ in range(100):
        if f1 < f2:
            hi, x2, f2 = x2, x1, f1
            x1 = hi - g * (hi - lo)
            f1 = f(x1)
        else:
            lo, x1, f1 = x1, x2, f2
            x2 = lo + g * (hi - lo)
            f2 = f(x2)
    return min(f(lo), f(hi), f1, f2, f(0.0), f(1.0))


def point_to_segment(rng):
    cases = []
    anchors = ANCHORS[::2]
    for i in range(20):
        name, lat, lon = anchors[i % len(anchors)]
        # An edge of 20 m .. 2 km.
        length = 10 ** rng.uniform(math.log10(20.0), math.log10(2000.0))
        azi = rng.uniform(-180.0, 180.0)
        a_lat, a_lon = r7(lat + rng.uniform(-0.02, 0.02)), r7(lon + rng.uniform(-0.02, 0.02))
        d = WGS84.Direct(a_lat, a_lon, azi, length)
        a = [a_lon, a_lat]
        b = [r7(d["lon2"]), r7(d["lat2"])]
        # A point near the edge: from a point along it (sometimes beyond an end) step
        # sideways 1 m .. 5 km.
        t = rng.choice(
            [rng.uniform(0.05, 0.95), rng.uniform(0.05, 0.95), rng.uniform(-0.6, -0.05), rng.uniform(1.05, 1.6)]
        )
        base_lat, base_lon = interp(a, b, t)
        off = 10 ** rng.uniform(0.0, math.log10(5000.0))
        side = azi + rng.choice([-90.0, 90.0]) + rng.uniform(-30.0, 30.0)
        p = WGS84.Direct(base_lat, base_lon, side, off)
        plat, plon = r7(p["lat2"]), r7(p["lon2"])
        cases.append(
            {
                "name": f"{name} edge {length:.0f} m, t={t:.2f}, offset {off:.1f} m",
                "lat": plat,
                "lon": plon,
                "a": a,
                "b": b,
                "distance_m": dist_to_segment(plat, plon, a, b),
            }
        )
    return cases


def point_in_ring(lat, lon, ring):
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        if (y1 > lat) != (y2 > lat):
            x = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lon < x:
                inside = not inside
    return inside


def point_to_polygon():
    # An office compound at the equator near Pontianak, roughly 300 m x 200 m, with a
    # courtyard (hole) that is not part of the geofence.
    outer = [
        [109.3400, -0.0270],
        [109.3427, -0.0272],
        [109.3429, -0.0253],
        [109.3412, -0.0251],
        [109.3401, -0.0255],
        [109.3400, -0.0270],
    ]
    hole = [
        [109.3410, -0.0265],
        [109.3418, -0.0265],
        [109.3418, -0.0259],
        [109.3410, -0.0259],
        [109.3410, -0.0265],
    ]
    rings = [outer, hole]
    points = [
        ("inside", -0.0268, 109.3405),
        ("in hole centre", -0.0262, 109.3414),
        ("in hole near edge", -0.02645, 109.34140),
        ("outside south 30 m", -0.02728, 109.3410),
        ("outside east 8 m", -0.0262, 109.34289),
        ("outside north-west corner", -0.0249, 109.3395),
        ("outside 2 km", -0.0450, 109.3500),
    ]
    cases = []
    for name, lat, lon in points:
        inside = point_in_ring(lat, lon, outer) and not point_in_ring(lat, lon, hole)
        if inside:
            d = 0.0
        else:
            d = min(
                dist_to_segment(lat, lon, a, b)
                for ring in rings
                for a, b in zip(ring, ring[1:])
            )
        cases.append({"name": name, "lat": lat, "lon": lon, "distance_m": d})
    return {"rings": rings, "points": cases}


def main():
    rng = random.Random(20240601)
    data = {
        "source": "GeographicLib (Python geographiclib), WGS84; scripts/make_geodesic_reference.py",
        "point_pairs": point_pairs(rng),
        "point_to_segment": point_to_segment(rng),
        "point_to_polygon": point_to_polygon(),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
