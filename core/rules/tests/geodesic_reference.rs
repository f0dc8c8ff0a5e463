//! hadir-core's geodesic distances against independent reference values from
//! GeographicLib (Python `geographiclib`, WGS84), written by
//! `scripts/make_geodesic_reference.py` into `tests/fixtures/geodesic_reference.json`.
//! Tolerance 0.1 m, as the geofence module promises.

use hadir_core::fix::{FixProvider, GpsFix};
use hadir_core::geofence::{
    GeofenceIndex, GeofenceRule, GeofenceVerdict, LatLon, Office, Zone, ZoneShape,
    distance_to_segment_m, geodesic_distance_m,
};
use serde::Deserialize;

const TOLERANCE_M: f64 = 0.1;

#[derive(Deserialize)]
struct Fixture {
    point_pairs: Vec<Pair>,
    point_to_segment: Vec<Segment>,
    point_to_polygon: PolygonCases,
}

#[derive(Deserialize)]
struct Pair {
    name: String,
    lat1: f64,
    lon1: f64,
    lat2: f64,
    lon2: f64,
    distance_m: f64,
}

#[derive(Deserialize)]
struct Segment {
    name: String,
    lat: f64,
    lon: f64,
    a: [f64; 2],
    b: [f64; 2],
    distance_m: f64,
}

#[derive(Deserialize)]
struct PolygonCases {
    rings: Vec<Vec<[f64; 2]>>,
    points: Vec<PolygonPoint>,
}

#[derive(Deserialize)]
struct PolygonPoint {
    name: String,
    lat: f64,
    lon: f64,
    distance_m: f64,
}

fn fixture() -> Fixture {
    serde_json::from_str(include_str!("fixtures/geodesic_reference.json")).expect("fixture")
}

#[test]
fn point_pairs_match_geographiclib() {
    let f = fixture();
    assert!(f.point_pairs.len() >= 50);
    let (mut min, mut max) = (f64::INFINITY, 0.0f64);
    let (mut north, mut south) = (false, false);
    for c in &f.point_pairs {
        let a = LatLon::new(c.lat1, c.lon1);
        let b = LatLon::new(c.lat2, c.lon2);
        let d = geodesic_distance_m(a, b);
        assert!(
            (d - c.distance_m).abs() <= TOLERANCE_M,
            "{}: {d} vs {}",
            c.name,
            c.distance_m
        );
        assert!((geodesic_distance_m(b, a) - c.distance_m).abs() <= TOLERANCE_M);
        min = min.min(c.distance_m);
        max = max.max(c.distance_m);
        north |= c.lat1 > 0.0;
        south |= c.lat1 < 0.0;
    }
    assert!(min <= 1.01 && max >= 19_999.0, "covers 1 m .. 20 km");
    assert!(north && south, "covers both hemispheres");
}

#[test]
fn point_to_edge_matches_densified_geographiclib() {
    for c in fixture().point_to_segment {
        let d = distance_to_segment_m(
            LatLon::new(c.lat, c.lon),
            LatLon::new(c.a[1], c.a[0]),
            LatLon::new(c.b[1], c.b[0]),
        );
        assert!(
            (d - c.distance_m).abs() <= TOLERANCE_M,
            "{}: {d} vs {}",
            c.name,
            c.distance_m
        );
    }
}

#[test]
fn point_to_polygon_with_hole_matches_geographiclib() {
    let cases = fixture().point_to_polygon;
    let office = Office {
        id: "pnk".into(),
        name: "Kantor Pontianak".into(),
        utc_offset_minutes: 420,
        zones: vec![Zone {
            id: "gedung".into(),
            name: "Gedung".into(),
            shape: ZoneShape::Polygon { rings: cases.rings },
        }],
        max_accuracy_m: 50.0,
        qr_required: false,
    };
    let index = GeofenceIndex::new(vec![office]).expect("valid polygon");
    let rule = GeofenceRule::default();
    for c in cases.points {
        let p = LatLon::new(c.lat, c.lon);
        let d = index.distance_to_office_m("pnk", p).unwrap();
        assert!(
            (d - c.distance_m).abs() <= TOLERANCE_M,
            "{}: {d} vs {}",
            c.name,
            c.distance_m
        );
        // And locate agrees with the rule for a 15 m fix.
        let fix = GpsFix {
            latitude: c.lat,
            longitude: c.lon,
            accuracy_m: 15.0,
            fix_time_ms: 0,
            provider: FixProvider::Fused,
            is_mock: false,
        };
        match index.locate(&fix, &rule) {
            GeofenceVerdict::Inside {
                distance_outside_m, ..
            } => {
                assert!(c.distance_m <= 15.0 + TOLERANCE_M, "{}", c.name);
                assert!((distance_outside_m - c.distance_m).abs() <= TOLERANCE_M);
            }
            GeofenceVerdict::Outside { distance_m, .. } => {
                assert!(c.distance_m > 15.0 - TOLERANCE_M, "{}", c.name);
                assert!((distance_m - c.distance_m).abs() <= TOLERANCE_M);
            }
            v => panic!("{}: {v:?}", c.name),
        }
    }
}
