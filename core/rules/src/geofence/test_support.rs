//! Shared test helpers for the geofence modules: positions, offices, circle and
//! polygon zones, and a small office in Jakarta (Kantor Dinas Kominfo) to test against.

use geo::{Destination, Geodesic, Point};

use super::{
    DEFAULT_MAX_ACCURACY_M, GeofenceIndex, LatLon, Office, PositionEstimate, Zone, ZoneShape,
};

/// A position `accuracy_m` metres sure, as a phone's fix would give it.
pub(super) fn fix(lat: f64, lon: f64, accuracy_m: f64) -> PositionEstimate {
    PositionEstimate {
        point: LatLon::new(lat, lon),
        accuracy_m,
    }
}

/// The point `distance_m` from `from` along `bearing_deg` (geodesic).
pub(super) fn dest(from: LatLon, bearing_deg: f64, distance_m: f64) -> LatLon {
    let p = Geodesic.destination(
        Point::new(from.longitude, from.latitude),
        bearing_deg,
        distance_m,
    );
    LatLon::new(p.y(), p.x())
}

/// An office in WIB with the default accuracy limit.
pub(super) fn office(id: &str, name: &str, zones: Vec<Zone>) -> Office {
    Office {
        id: id.to_string(),
        name: name.to_string(),
        utc_offset_minutes: 420,
        zones,
        max_accuracy_m: DEFAULT_MAX_ACCURACY_M,
        qr_required: false,
    }
}

/// A circle zone named after its id.
pub(super) fn circle(id: &str, lat: f64, lon: f64, radius_m: f64) -> Zone {
    Zone {
        id: id.to_string(),
        name: id.to_string(),
        shape: ZoneShape::Circle {
            center: LatLon::new(lat, lon),
            radius_m,
        },
    }
}

/// A polygon zone named after its id.
pub(super) fn polygon(id: &str, rings: Vec<Vec<[f64; 2]>>) -> Zone {
    Zone {
        id: id.to_string(),
        name: id.to_string(),
        shape: ZoneShape::Polygon { rings },
    }
}

/// Closed axis-aligned rectangle ring, [lon, lat].
pub(super) fn rect(lon0: f64, lat0: f64, lon1: f64, lat1: f64) -> Vec<[f64; 2]> {
    vec![
        [lon0, lat0],
        [lon1, lat0],
        [lon1, lat1],
        [lon0, lat1],
        [lon0, lat0],
    ]
}

// Kantor Dinas Kominfo, Jakarta: about 111 m x 111 m.
pub(super) const K_LON0: f64 = 106.8270;
pub(super) const K_LAT0: f64 = -6.1760;
pub(super) const K_LON1: f64 = 106.8280;
pub(super) const K_LAT1: f64 = -6.1750;

/// An index of one office, Kantor Dinas Kominfo, one rectangular zone.
pub(super) fn kominfo() -> GeofenceIndex {
    GeofenceIndex::new(vec![office(
        "kominfo",
        "Kantor Dinas Kominfo",
        vec![polygon(
            "gedung",
            vec![rect(K_LON0, K_LAT0, K_LON1, K_LAT1)],
        )],
    )])
    .unwrap()
}

/// A point `m` metres east of the middle of the east edge.
pub(super) fn east_of_kominfo(m: f64) -> LatLon {
    dest(LatLon::new((K_LAT0 + K_LAT1) / 2.0, K_LON1), 90.0, m)
}
