//! Offices and their zones as admins configure them ([`Office`], [`Zone`],
//! [`ZoneShape`]), and their validation: every coordinate in range, a sane radius,
//! closed rings that enclose an area and do not cross themselves or each other, holes
//! inside the outer ring, unique ids. A zone that passes becomes a [`Geom`], the
//! checked shape the distance code works on.

use geo::validation::InvalidPolygon;
use geo::{LineString, Polygon, Validation};
use rstar::AABB;
use serde::{Deserialize, Serialize};

use super::plane::search_boxes;
use super::{GeofenceError, LatLon, validate_coordinates};

/// Default [`Office::max_accuracy_m`]: fixes with a worse (larger) accuracy radius are
/// not accepted as inside. The reasoning is with the accuracy rule, in `verdict.rs`.
pub const DEFAULT_MAX_ACCURACY_M: f64 = 50.0;

/// Largest accepted circle radius, 100 km: anything larger is a configuration mistake,
/// not an office.
pub const MAX_RADIUS_M: f64 = 100_000.0;

/// The shape of a zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ZoneShape {
    /// A geodesic circle: every point within `radius_m` metres of `center`.
    Circle {
        /// Centre of the circle.
        center: LatLon,
        /// Radius in metres, > 0 and at most [`MAX_RADIUS_M`].
        radius_m: f64,
    },
    /// A polygon as GeoJSON rings of `[longitude, latitude]` positions: the first ring is
    /// the outer boundary, the others are holes. Each ring is closed (last position
    /// equals the first) and has at least 4 positions.
    Polygon {
        /// The rings, `[lon, lat]` as in GeoJSON.
        rings: Vec<Vec<[f64; 2]>>,
    },
}

/// One area of an office where checking in counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct Zone {
    /// Identifier, unique within its office.
    pub id: String,
    /// Name shown to admins (e.g. "Gedung utama").
    pub name: String,
    /// The area.
    pub shape: ZoneShape,
}

fn default_max_accuracy_m() -> f64 {
    DEFAULT_MAX_ACCURACY_M
}

/// An office (OPD) and the zones where its staff may check in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct Office {
    /// Identifier, unique among all offices.
    pub id: String,
    /// Name shown to staff, e.g. "Kantor Dinas Kominfo".
    pub name: String,
    /// Fixed offset of local time from UTC in minutes: 420 WIB, 480 WITA, 540 WIT.
    pub utc_offset_minutes: i32,
    /// The office's zones; at least one.
    pub zones: Vec<Zone>,
    /// Worst accuracy radius (metres) accepted for a check-in here; defaults to
    /// [`DEFAULT_MAX_ACCURACY_M`] when absent from JSON.
    #[serde(default = "default_max_accuracy_m")]
    pub max_accuracy_m: f64,
    /// Whether a check-in here must carry the office QR token shown on the office's
    /// kiosk screen ([`crate::qr`]); false when absent from JSON, so older configs and
    /// phones are unchanged.
    #[serde(default)]
    pub qr_required: bool,
}

/// A zone's shape after validation: what the distance code measures against.
#[derive(Debug, Clone)]
pub(super) enum Geom {
    /// A geodesic circle: centre and radius in metres.
    Circle { center: LatLon, radius_m: f64 },
    /// A polygon in longitude/latitude (`x` = longitude), holes as interior rings.
    Polygon { polygon: Polygon<f64> },
}

fn circle_envelope(center: LatLon, radius_m: f64) -> Option<AABB<[f64; 2]>> {
    match search_boxes(center, radius_m) {
        Some(boxes) if boxes.len() == 1 => Some(boxes[0]),
        _ => None,
    }
}

/// Validates a zone's shape and returns it checked, with its longitude/latitude box.
pub(super) fn prepare_shape(zone: &Zone) -> Result<(Geom, AABB<[f64; 2]>), GeofenceError> {
    let zid = || zone.id.clone();
    let bad_coord = |lat: f64, lon: f64| GeofenceError::InvalidCoordinate {
        zone_id: Some(zone.id.clone()),
        latitude: lat,
        longitude: lon,
    };
    match &zone.shape {
        ZoneShape::Circle { center, radius_m } => {
            validate_coordinates(center.latitude, center.longitude)
                .map_err(|_| bad_coord(center.latitude, center.longitude))?;
            if !(radius_m.is_finite() && *radius_m > 0.0 && *radius_m <= MAX_RADIUS_M) {
                return Err(GeofenceError::InvalidRadius {
                    zone_id: zid(),
                    radius_m: *radius_m,
                });
            }
            let envelope = circle_envelope(*center, *radius_m)
                .ok_or_else(|| GeofenceError::CrossesAntimeridian { zone_id: zid() })?;
            Ok((
                Geom::Circle {
                    center: *center,
                    radius_m: *radius_m,
                },
                envelope,
            ))
        }
        ZoneShape::Polygon { rings: raw } => {
            if raw.is_empty() {
                return Err(GeofenceError::EmptyPolygon { zone_id: zid() });
            }
            let mut line_strings = Vec::with_capacity(raw.len());
            for (i, ring) in raw.iter().enumerate() {
                if ring.is_empty() {
                    return Err(GeofenceError::EmptyRing {
                        zone_id: zid(),
                        ring: i,
                    });
                }
                for pos in ring {
                    validate_coordinates(pos[1], pos[0]).map_err(|_| bad_coord(pos[1], pos[0]))?;
                }
                if ring.len() < 4 {
                    return Err(GeofenceError::TooFewPoints {
                        zone_id: zid(),
                        ring: i,
                        points: ring.len(),
                    });
                }
                if ring.first() != ring.last() {
                    return Err(GeofenceError::UnclosedRing {
                        zone_id: zid(),
                        ring: i,
                    });
                }
                let mut distinct: Vec<[f64; 2]> = Vec::new();
                for pos in &ring[..ring.len() - 1] {
                    if !distinct.contains(pos) {
                        distinct.push(*pos);
                        if distinct.len() >= 3 {
                            break;
                        }
                    }
                }
                if distinct.len() < 3 {
                    return Err(GeofenceError::TooFewPoints {
                        zone_id: zid(),
                        ring: i,
                        points: distinct.len(),
                    });
                }
                let ls = LineString::from(ring.iter().map(|p| (p[0], p[1])).collect::<Vec<_>>());
                line_strings.push(ls);
            }
            let mut iter = line_strings.into_iter();
            let exterior = iter.next().expect("checked non-empty");
            let polygon = Polygon::new(exterior, iter.collect());
            if let Err(e) = polygon.check_validation() {
                return Err(match e {
                    InvalidPolygon::TooFewPointsInRing(role) => GeofenceError::TooFewPoints {
                        zone_id: zid(),
                        ring: ring_index(role),
                        points: 2,
                    },
                    InvalidPolygon::SelfIntersection(_) => {
                        GeofenceError::SelfIntersecting { zone_id: zid() }
                    }
                    InvalidPolygon::NonFiniteCoord(_, _) => bad_coord(f64::NAN, f64::NAN),
                    InvalidPolygon::InteriorRingNotContainedInExteriorRing(role) => {
                        GeofenceError::HoleOutsideOuter {
                            zone_id: zid(),
                            ring: ring_index(role),
                        }
                    }
                    InvalidPolygon::IntersectingRingsOnALine(_, _)
                    | InvalidPolygon::IntersectingRingsOnAnArea(_, _) => {
                        GeofenceError::RingsIntersect { zone_id: zid() }
                    }
                });
            }
            for (i, ring) in raw.iter().enumerate() {
                if shoelace_area(ring) == 0.0 {
                    return Err(GeofenceError::ZeroAreaRing {
                        zone_id: zid(),
                        ring: i,
                    });
                }
            }
            let (mut min_lon, mut min_lat) = (f64::INFINITY, f64::INFINITY);
            let (mut max_lon, mut max_lat) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
            for c in polygon.exterior().0.iter() {
                min_lon = min_lon.min(c.x);
                max_lon = max_lon.max(c.x);
                min_lat = min_lat.min(c.y);
                max_lat = max_lat.max(c.y);
            }
            Ok((
                Geom::Polygon { polygon },
                AABB::from_corners([min_lon, min_lat], [max_lon, max_lat]),
            ))
        }
    }
}

fn ring_index(role: geo::validation::RingRole) -> usize {
    match role {
        geo::validation::RingRole::Exterior => 0,
        geo::validation::RingRole::Interior(i) => i + 1,
    }
}

fn shoelace_area(ring: &[[f64; 2]]) -> f64 {
    let mut sum = 0.0;
    for w in ring.windows(2) {
        sum += w[0][0] * w[1][1] - w[1][0] * w[0][1];
    }
    sum.abs() / 2.0
}

/// Checks an office's own fields and its zones' ids (not their shapes).
pub(super) fn validate_office(office: &Office) -> Result<(), GeofenceError> {
    if office.id.is_empty() {
        return Err(GeofenceError::EmptyOfficeId);
    }
    if !(office.max_accuracy_m.is_finite() && office.max_accuracy_m > 0.0) {
        return Err(GeofenceError::InvalidAccuracyLimit {
            office_id: office.id.clone(),
            max_accuracy_m: office.max_accuracy_m,
        });
    }
    if !(-720..=840).contains(&office.utc_offset_minutes) {
        return Err(GeofenceError::InvalidUtcOffset {
            office_id: office.id.clone(),
            minutes: office.utc_offset_minutes,
        });
    }
    if office.zones.is_empty() {
        return Err(GeofenceError::OfficeWithoutZones {
            office_id: office.id.clone(),
        });
    }
    for (i, zone) in office.zones.iter().enumerate() {
        if zone.id.is_empty() {
            return Err(GeofenceError::EmptyZoneId {
                office_id: office.id.clone(),
            });
        }
        if office.zones[..i].iter().any(|z| z.id == zone.id) {
            return Err(GeofenceError::DuplicateZoneId {
                office_id: office.id.clone(),
                zone_id: zone.id.clone(),
            });
        }
    }
    Ok(())
}

impl Office {
    /// Checks the office and its zones without building an index (for an admin form).
    pub fn validate(&self) -> Result<(), GeofenceError> {
        validate_office(self)?;
        for zone in &self.zones {
            zone.validate()?;
        }
        Ok(())
    }
}

impl Zone {
    /// Checks the zone's shape: coordinates, radius, rings, self-intersection.
    pub fn validate(&self) -> Result<(), GeofenceError> {
        prepare_shape(self).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use crate::geofence::{GeofenceIndex, GeofenceRule, GeofenceVerdict};

    #[test]
    fn serde_shapes() {
        let json = r#"{"id":"k","name":"Kantor","utc_offset_minutes":480,"zones":[
            {"id":"a","name":"A","shape":{"type":"circle","center":{"latitude":-8.6,"longitude":115.2},"radius_m":75}},
            {"id":"b","name":"B","shape":{"type":"polygon","rings":[[[115.0,-8.0],[115.001,-8.0],[115.001,-8.001],[115.0,-8.0]]]}}
        ]}"#;
        let o: Office = serde_json::from_str(json).unwrap();
        assert_eq!(o.max_accuracy_m, DEFAULT_MAX_ACCURACY_M);
        assert!(matches!(o.zones[0].shape, ZoneShape::Circle { radius_m, .. } if radius_m == 75.0));
        o.validate().unwrap();
        let v = GeofenceVerdict::TooInaccurate {
            accuracy_m: 80.0,
            limit_m: 50.0,
        };
        let s = serde_json::to_string(&v).unwrap();
        assert_eq!(
            s,
            r#"{"type":"too_inaccurate","accuracy_m":80.0,"limit_m":50.0}"#
        );
        assert_eq!(serde_json::from_str::<GeofenceVerdict>(&s).unwrap(), v);
        assert_eq!(
            serde_json::to_string(&GeofenceVerdict::NoOffices).unwrap(),
            r#"{"type":"no_offices"}"#
        );
        let r: GeofenceRule = serde_json::from_str(r#"{"accuracy_grace_cap_m":10}"#).unwrap();
        assert_eq!(r.accuracy_grace_cap_m, 10.0);
    }

    fn err_of(zone: Zone) -> GeofenceError {
        GeofenceIndex::new(vec![office("o", "O", vec![zone])]).unwrap_err()
    }

    #[test]
    fn zone_errors() {
        let sq = rect(106.0, -6.0, 106.001, -5.999);
        let cases: Vec<(Zone, &str)> = vec![
            (
                circle("z", 91.0, 106.0, 10.0),
                "GEOFENCE_INVALID_COORDINATE",
            ),
            (
                circle("z", f64::NAN, 106.0, 10.0),
                "GEOFENCE_INVALID_COORDINATE",
            ),
            (
                circle("z", -6.0, f64::INFINITY, 10.0),
                "GEOFENCE_INVALID_COORDINATE",
            ),
            (circle("z", -6.0, 106.0, 0.0), "GEOFENCE_INVALID_RADIUS"),
            (circle("z", -6.0, 106.0, -3.0), "GEOFENCE_INVALID_RADIUS"),
            (
                circle("z", -6.0, 106.0, f64::NAN),
                "GEOFENCE_INVALID_RADIUS",
            ),
            (circle("z", -6.0, 106.0, 1e6), "GEOFENCE_INVALID_RADIUS"),
            (
                circle("z", 0.0, 179.9999, 100.0),
                "GEOFENCE_CROSSES_ANTIMERIDIAN",
            ),
            (polygon("z", vec![]), "GEOFENCE_EMPTY_POLYGON"),
            (polygon("z", vec![vec![]]), "GEOFENCE_EMPTY_RING"),
            (
                polygon("z", vec![sq.clone(), vec![]]),
                "GEOFENCE_EMPTY_RING",
            ),
            (
                polygon("z", vec![vec![[106.0, -6.0], [106.1, -6.0], [106.0, -6.0]]]),
                "GEOFENCE_TOO_FEW_POINTS",
            ),
            (
                polygon(
                    "z",
                    vec![vec![
                        [106.0, -6.0],
                        [106.1, -6.0],
                        [106.1, -6.0],
                        [106.0, -6.0],
                    ]],
                ),
                "GEOFENCE_TOO_FEW_POINTS",
            ),
            (
                polygon("z", vec![sq[..3].to_vec()]),
                "GEOFENCE_TOO_FEW_POINTS",
            ),
            (
                polygon(
                    "z",
                    vec![vec![
                        [106.0, -6.0],
                        [106.1, -6.0],
                        [106.1, -5.9],
                        [106.0, -5.9],
                    ]],
                ),
                "GEOFENCE_UNCLOSED_RING",
            ),
            (
                polygon(
                    "z",
                    vec![vec![
                        [106.0, -6.0],
                        [106.1, -6.0],
                        [106.2, -6.0],
                        [106.0, -6.0],
                    ]],
                ),
                "GEOFENCE_ZERO_AREA_RING",
            ),
            (
                // a bow tie
                polygon(
                    "z",
                    vec![vec![
                        [106.0, -6.0],
                        [106.1, -5.9],
                        [106.1, -6.0],
                        [106.0, -5.9],
                        [106.0, -6.0],
                    ]],
                ),
                "GEOFENCE_SELF_INTERSECTING",
            ),
            (
                polygon(
                    "z",
                    vec![vec![
                        [106.0, 95.0],
                        [106.1, -6.0],
                        [106.1, -5.9],
                        [106.0, 95.0],
                    ]],
                ),
                "GEOFENCE_INVALID_COORDINATE",
            ),
            (
                polygon("z", vec![sq.clone(), rect(107.0, -6.0, 107.001, -5.999)]),
                "GEOFENCE_HOLE_OUTSIDE_OUTER",
            ),
            (
                polygon(
                    "z",
                    vec![
                        sq.clone(),
                        rect(106.0002, -5.9998, 106.0006, -5.9994),
                        rect(106.0004, -5.9996, 106.0008, -5.9992),
                    ],
                ),
                "GEOFENCE_RINGS_INTERSECT",
            ),
        ];
        for (zone, code) in cases {
            let e = err_of(zone.clone());
            assert_eq!(e.code(), code, "{zone:?} -> {e:?}");
            assert!(!e.message().is_empty());
            assert!(!e.to_string().is_empty());
            assert_eq!(zone.validate().unwrap_err().code(), code);
        }
    }

    #[test]
    fn office_errors() {
        let z = || circle("z", -6.0, 106.0, 50.0);
        let dup = GeofenceIndex::new(vec![
            office("a", "A", vec![z()]),
            office("a", "B", vec![z()]),
        ])
        .unwrap_err();
        assert_eq!(dup.code(), "GEOFENCE_DUPLICATE_OFFICE_ID");
        assert!(dup.message().contains("a"));
        let e = GeofenceIndex::new(vec![office("a", "A", vec![])]).unwrap_err();
        assert_eq!(e.code(), "GEOFENCE_OFFICE_WITHOUT_ZONES");
        let e = GeofenceIndex::new(vec![office("", "A", vec![z()])]).unwrap_err();
        assert_eq!(e.code(), "GEOFENCE_EMPTY_OFFICE_ID");
        let e = GeofenceIndex::new(vec![office("a", "A", vec![z(), z()])]).unwrap_err();
        assert_eq!(e.code(), "GEOFENCE_DUPLICATE_ZONE_ID");
        let e = GeofenceIndex::new(vec![office("a", "A", vec![circle("", -6.0, 106.0, 5.0)])])
            .unwrap_err();
        assert_eq!(e.code(), "GEOFENCE_EMPTY_ZONE_ID");
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let mut o = office("a", "A", vec![z()]);
            o.max_accuracy_m = bad;
            assert_eq!(
                GeofenceIndex::new(vec![o.clone()]).unwrap_err().code(),
                "GEOFENCE_INVALID_ACCURACY_LIMIT"
            );
            assert!(o.validate().is_err());
        }
        let mut o = office("a", "A", vec![z()]);
        o.utc_offset_minutes = 10_000;
        assert_eq!(
            GeofenceIndex::new(vec![o]).unwrap_err().code(),
            "GEOFENCE_INVALID_UTC_OFFSET"
        );
        assert_eq!(validate_coordinates(-6.0, 106.0), Ok(()));
        for (lat, lon) in [
            (90.1, 0.0),
            (-90.1, 0.0),
            (0.0, 180.1),
            (0.0, -180.1),
            (f64::NAN, 0.0),
        ] {
            let e = validate_coordinates(lat, lon).unwrap_err();
            assert_eq!(e.code(), "GEOFENCE_INVALID_COORDINATE");
            assert!(e.message().starts_with("Koordinat tidak valid"));
        }
    }
}
