//! Geofence lookup speed: 10,000 zones (about 4,900 offices of 1–3 zones, circles and
//! polygons of 5–8 vertices, a fifth of the polygons with a hole) spread over a
//! province-sized area (3° × 3°, about 330 km × 330 km, straddling the equator).
//!
//! ```sh
//! cargo bench -p hadir-core-bench --bench geofence
//! ```
//!
//! Each iteration locates one fix, cycling through 1,024 precomputed fixes so that the
//! figure is not one cached path:
//! * `inside`: the fix's point is inside a zone (15 m accuracy);
//! * `near_outside`: 30–60 m outside a zone's edge, the common "at the gate" case;
//! * `outside`: 1–5 km from a zone (staff at home), nearest-office search;
//! * `random`: uniform over the area, most of it far from any office;
//! * `locate_in`: restricted to the person's own office, point inside.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use geo::{Destination, Geodesic, Point};
use hadir_core::fix::{FixProvider, GpsFix};
use hadir_core::geofence::{GeofenceIndex, GeofenceRule, LatLon, Office, Zone, ZoneShape};

/// splitmix64, deterministic test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next() >> 11) as f64 / (1u64 << 53) as f64)
    }
}

fn dest(from: LatLon, bearing: f64, m: f64) -> LatLon {
    let p = Geodesic.destination(Point::new(from.longitude, from.latitude), bearing, m);
    LatLon::new(p.y(), p.x())
}

/// The offices, and for each zone a point inside it and its "radius" (the smallest
/// distance from that point to the edge used for placing outside points).
fn province() -> (Vec<Office>, Vec<(String, LatLon, f64)>) {
    let mut rng = Rng(7);
    let mut offices = Vec::new();
    let mut centres = Vec::new();
    let mut total = 0;
    while total < 10_000 {
        let n = (1 + rng.next() % 3).min(10_000 - total as u64) as usize;
        let clat = rng.range(-1.5, 1.5);
        let clon = rng.range(100.0, 103.0);
        let office_id = format!("opd-{}", offices.len());
        let mut zones = Vec::new();
        for k in 0..n {
            let c = LatLon::new(
                clat + rng.range(-0.003, 0.003),
                clon + rng.range(-0.003, 0.003),
            );
            let shape = if rng.range(0.0, 1.0) < 0.5 {
                let radius_m = rng.range(40.0, 250.0);
                centres.push((office_id.clone(), c, radius_m));
                ZoneShape::Circle {
                    center: c,
                    radius_m,
                }
            } else {
                let verts = 5 + (rng.next() % 4) as usize;
                let mut outer = Vec::new();
                let mut hole = Vec::new();
                let mut min_r = f64::INFINITY;
                for v in 0..verts {
                    let ang = (v as f64 + rng.range(0.2, 0.8)) / verts as f64 * 360.0;
                    let r = rng.range(80.0, 250.0);
                    min_r = min_r.min(r);
                    let q = dest(c, ang, r);
                    outer.push([q.longitude, q.latitude]);
                    let h = dest(c, ang, 15.0);
                    hole.push([h.longitude, h.latitude]);
                }
                outer.push(outer[0]);
                hole.push(hole[0]);
                let with_hole = rng.range(0.0, 1.0) < 0.2;
                // A point inside: off the centre so it is not in the hole.
                let inside = dest(c, 0.0, 40.0);
                centres.push((office_id.clone(), inside, min_r * 0.5));
                ZoneShape::Polygon {
                    rings: if with_hole {
                        vec![outer, hole]
                    } else {
                        vec![outer]
                    },
                }
            };
            zones.push(Zone {
                id: format!("z{k}"),
                name: format!("Zona {k}"),
                shape,
            });
        }
        total += n;
        offices.push(Office {
            id: office_id,
            name: format!("Kantor OPD {}", offices.len()),
            utc_offset_minutes: 420,
            zones,
            max_accuracy_m: 50.0,
            qr_required: false,
        });
    }
    (offices, centres)
}

fn fix_at(p: LatLon, accuracy_m: f64) -> GpsFix {
    GpsFix {
        latitude: p.latitude,
        longitude: p.longitude,
        accuracy_m,
        fix_time_ms: 1_717_200_000_000,
        provider: FixProvider::Fused,
        is_mock: false,
    }
}

fn bench(c: &mut Criterion) {
    let (offices, centres) = province();
    let index = GeofenceIndex::new(offices).expect("valid province");
    assert_eq!(index.zone_count(), 10_000);
    let rule = GeofenceRule::default();
    let mut rng = Rng(99);
    let pick = |rng: &mut Rng| &centres[(rng.next() % centres.len() as u64) as usize];

    let inside: Vec<GpsFix> = (0..1024).map(|_| fix_at(pick(&mut rng).1, 15.0)).collect();
    let near_outside: Vec<GpsFix> = (0..1024)
        .map(|_| {
            let (_, p, _) = pick(&mut rng);
            // Beyond the farthest possible edge (250 m) by 30–60 m.
            fix_at(
                dest(*p, rng.range(0.0, 360.0), 290.0 + rng.range(0.0, 30.0)),
                10.0,
            )
        })
        .collect();
    let outside: Vec<GpsFix> = (0..1024)
        .map(|_| {
            let (_, p, _) = pick(&mut rng);
            fix_at(
                dest(*p, rng.range(0.0, 360.0), rng.range(1000.0, 5000.0)),
                10.0,
            )
        })
        .collect();
    let random: Vec<GpsFix> = (0..1024)
        .map(|_| {
            fix_at(
                LatLon::new(rng.range(-1.5, 1.5), rng.range(100.0, 103.0)),
                10.0,
            )
        })
        .collect();
    let own: Vec<(String, GpsFix)> = (0..1024)
        .map(|_| {
            let (office, p, _) = pick(&mut rng);
            (office.clone(), fix_at(*p, 15.0))
        })
        .collect();

    // Sanity: the inputs are what their names say.
    let inside_count = inside
        .iter()
        .filter(|f| index.locate(f, &rule).is_inside())
        .count();
    assert_eq!(inside_count, inside.len());

    let mut group = c.benchmark_group("geofence_10k_zones");
    for (name, fixes) in [
        ("inside", &inside),
        ("near_outside", &near_outside),
        ("outside", &outside),
        ("random", &random),
    ] {
        let mut i = 0;
        group.bench_function(name, |b| {
            b.iter(|| {
                i = (i + 1) & 1023;
                black_box(index.locate(black_box(&fixes[i]), &rule))
            })
        });
    }
    let mut i = 0;
    group.bench_function("locate_in", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            let (office, fix) = &own[i];
            black_box(index.locate_in(black_box(fix), &[office.as_str()], &rule))
        })
    });
    group.finish();

    c.bench_function("geofence_index_build_10k_zones", |b| {
        b.iter_batched(
            || province().0,
            |offices| black_box(GeofenceIndex::new(offices).unwrap()),
            criterion::BatchSize::LargeInput,
        )
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
