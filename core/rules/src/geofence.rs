//! Office geofences: is this GPS fix inside one of the offices (OPD) a person may check
//! in at, and if not, how far away is the nearest one?
//!
//! The phone calls this for instant feedback and the server calls the very same code to
//! decide, so the two can never disagree.
//!
//! # Model
//!
//! An [`Office`] has one or more [`Zone`]s. A zone is a circle (centre and radius in
//! metres, a geodesic circle on the WGS84 ellipsoid) or a polygon given as GeoJSON rings
//! of `[longitude, latitude]` positions: the first ring is the outer boundary, any
//! others are holes (a courtyard, a neighbouring building that is not the office).
//! As RFC 7946 (GeoJSON) §3.1.1 says, a polygon edge is a straight line in
//! longitude/latitude; point-in-polygon is decided in those coordinates, and a point on
//! the boundary counts as inside. Zones crossing the ±180° meridian are not supported
//! (Indonesia lies between 95° and 141° E).
//!
//! # Distances
//!
//! All distances are geodesic distances on WGS84 in metres ([`geodesic_distance_m`],
//! Karney's algorithm through `geo`'s [`Geodesic`] metric space, checked in
//! `core/tests/geodesic_reference.rs` against GeographicLib to 0.1 m).
//!
//! The distance from a point to a polygon is 0 inside it; outside it (including inside a
//! hole) it is the geodesic distance to the nearest point of the boundary. That nearest
//! point is found in a local tangent plane centred on the point (an equirectangular
//! projection scaled by the ellipsoid's meridional and prime-vertical radii at the
//! point's latitude; it is linear in longitude/latitude, so polygon edges stay straight
//! and the nearest point of an edge is exact in that plane), and the geodesic distance
//! to it is then measured on the ellipsoid. At office scale (edges up to a few km,
//! points up to tens of km away) this agrees with a brute-force geodesic minimum along
//! the edge to well under 0.1 m (tested against GeographicLib on densified edges).
//! The distance from a point to a circle is its geodesic distance to the centre minus
//! the radius (0 inside).
//!
//! # The accuracy rule
//!
//! A phone reports a position and a horizontal accuracy radius `a` (68 % confidence on
//! Android). The rule has to refuse a 300 m fix, whose circle covers the office *and*
//! the street and the warung next door, yet must not refuse an honest 15 m fix taken
//! just inside the door, whose point estimate may land a few metres outside the
//! polygon. With `d` the distance from the fix's point to a zone (0 inside):
//!
//! 1. **Inside** a zone of an office when `a ≤ office.max_accuracy_m` and
//!    `d ≤ min(a, rule.accuracy_grace_cap_m)`. The grace is the fix's own accuracy, so a
//!    precise fix gets no slack it did not claim, and it is capped (default
//!    [`DEFAULT_ACCURACY_GRACE_CAP_M`] = 20 m) so a mediocre fix never stretches an
//!    office by more than a room's width. If several zones accept the fix, the one with
//!    the smallest `d` wins (then the first office, then the first zone, in the order
//!    they were given).
//! 2. Otherwise, take the nearest zone overall (distance `d*`, office `o*`). If the
//!    accuracy circle reaches it (`d* ≤ a`) but `a > o*.max_accuracy_m`, the verdict is
//!    **TooInaccurate**: the fix cannot tell inside from outside; wait for a better one.
//! 3. Otherwise **Outside**, with the nearest office and `d*`: the whole accuracy circle
//!    is away from every office, or the fix is precise enough to say so.
//!
//! So: a 300 m fix is never inside (refused as TooInaccurate near an office, reported as
//! Outside when it is kilometres away); an honest 15 m fix 8 m outside the edge is
//! inside (8 ≤ min(15, 20)); a 15 m fix 40 m outside is outside; a 5 m fix 8 m outside
//! is outside (it claims 5 m and is 8 m out).
//!
//! The default office limit [`DEFAULT_MAX_ACCURACY_M`] is 50 m: a fused fix under open
//! sky is 3–15 m and indoors in a concrete office usually 15–40 m (Wi-Fi assisted), so
//! 50 m accepts staff checking in at their desks; a 100 m circle is wider than a typical
//! kantor dinas compound (50–150 m across) and so says nothing about being inside it.
//!
//! # Index
//!
//! [`GeofenceIndex`] is built once from the offices (a whole province: thousands of
//! zones) and answers through an R-tree (`rstar`, the version `geo` itself uses) of the
//! zones' longitude/latitude bounding boxes. The inside test queries the boxes within
//! the grace distance of the point. The nearest-office search seeds a radius from the
//! zone whose box is nearest (an upper bound of the true nearest distance), queries the
//! boxes within that radius, and returns only once the best distance found is within
//! the searched radius (growing it if not), so it is correct even when the nearest box
//! is not the nearest zone. Local-plane estimates with a property-tested error bound
//! decide most cases cheaply; the exact geodesic distance is computed wherever an
//! estimate could change the answer, and every reported distance is exact.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use geo::coordinate_position::CoordPos;
use geo::validation::InvalidPolygon;
use geo::{Coord, CoordinatePosition, Distance, Geodesic, LineString, Point, Polygon, Validation};
use rstar::{AABB, PointDistance, RTree, RTreeObject};
use serde::{Deserialize, Serialize};

use crate::fix::GpsFix;

/// Default [`Office::max_accuracy_m`]: fixes with a worse (larger) accuracy radius are
/// not accepted as inside. See the module docs for the reasoning.
pub const DEFAULT_MAX_ACCURACY_M: f64 = 50.0;

/// Default [`GeofenceRule::accuracy_grace_cap_m`]: the most a fix's accuracy radius may
/// stretch a zone.
pub const DEFAULT_ACCURACY_GRACE_CAP_M: f64 = 20.0;

/// Largest accepted circle radius, 100 km: anything larger is a configuration mistake,
/// not an office.
pub const MAX_RADIUS_M: f64 = 100_000.0;

/// A WGS84 position in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct LatLon {
    /// Latitude in degrees, -90..=90.
    pub latitude: f64,
    /// Longitude in degrees, -180..=180.
    pub longitude: f64,
}

impl LatLon {
    /// A position from latitude and longitude in degrees (not validated; see
    /// [`validate_coordinates`]).
    pub fn new(latitude: f64, longitude: f64) -> Self {
        Self {
            latitude,
            longitude,
        }
    }
}

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
}

/// Tunable parts of the accuracy rule (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct GeofenceRule {
    /// A fix whose point is outside a zone still counts as inside when its distance to
    /// the zone is at most `min(accuracy_m, accuracy_grace_cap_m)`. Negative or NaN is
    /// treated as 0 (no grace).
    pub accuracy_grace_cap_m: f64,
}

impl Default for GeofenceRule {
    fn default() -> Self {
        Self {
            accuracy_grace_cap_m: DEFAULT_ACCURACY_GRACE_CAP_M,
        }
    }
}

/// The answer to "where is this fix?".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum GeofenceVerdict {
    /// Inside a zone (or within the accuracy grace of it).
    Inside {
        /// The office.
        office_id: String,
        /// Its name, for the staff message.
        office_name: String,
        /// The zone that accepted the fix.
        zone_id: String,
        /// Metres from the fix's point to the zone; 0 if the point itself is inside.
        distance_outside_m: f64,
    },
    /// Not inside any office.
    Outside {
        /// The nearest office.
        nearest_office_id: String,
        /// Its name, for the staff message.
        nearest_office_name: String,
        /// Metres from the fix's point to the nearest zone of that office.
        distance_m: f64,
    },
    /// The accuracy circle reaches an office but is wider than that office accepts.
    /// `accuracy_m` is `f64::MAX` when the fix itself is invalid (NaN, out of range,
    /// accuracy ≤ 0); [`GeofenceIndex::try_locate`] reports that as an error instead.
    TooInaccurate {
        /// The fix's accuracy radius in metres.
        accuracy_m: f64,
        /// The office's limit in metres.
        limit_m: f64,
    },
    /// There is no office to compare with (none configured, or none of the person's).
    NoOffices,
}

impl GeofenceVerdict {
    /// Whether the fix was accepted as inside an office.
    pub fn is_inside(&self) -> bool {
        matches!(self, GeofenceVerdict::Inside { .. })
    }

    /// Stable machine code: `GEOFENCE_INSIDE`, `GEOFENCE_OUTSIDE`,
    /// `GEOFENCE_TOO_INACCURATE` or `GEOFENCE_NO_OFFICES`.
    pub fn code(&self) -> &'static str {
        match self {
            GeofenceVerdict::Inside { .. } => "GEOFENCE_INSIDE",
            GeofenceVerdict::Outside { .. } => "GEOFENCE_OUTSIDE",
            GeofenceVerdict::TooInaccurate { .. } => "GEOFENCE_TOO_INACCURATE",
            GeofenceVerdict::NoOffices => "GEOFENCE_NO_OFFICES",
        }
    }

    /// The message shown to staff, in Indonesian, e.g. "Anda berada 240 m dari Kantor
    /// Dinas Kominfo."
    pub fn staff_message(&self) -> String {
        match self {
            GeofenceVerdict::Inside { office_name, .. } => {
                format!("Anda berada di area {office_name}.")
            }
            GeofenceVerdict::Outside {
                nearest_office_name,
                distance_m,
                ..
            } => format!(
                "Anda berada {} dari {nearest_office_name}.",
                format_distance_id(*distance_m)
            ),
            GeofenceVerdict::TooInaccurate {
                accuracy_m,
                limit_m,
            } => {
                if *accuracy_m >= f64::MAX {
                    "Lokasi GPS tidak valid. Tunggu sebentar lalu coba lagi.".to_string()
                } else {
                    format!(
                        "Akurasi GPS {} melebihi batas {}. Pindah ke tempat terbuka atau \
                         tunggu sebentar lalu coba lagi.",
                        format_distance_id(*accuracy_m),
                        format_distance_id(*limit_m)
                    )
                }
            }
            GeofenceVerdict::NoOffices => "Belum ada kantor yang terdaftar untuk Anda.".to_string(),
        }
    }
}

/// A distance for an Indonesian reader: whole metres below 1 km ("240 m"), km with a
/// decimal comma below 100 km ("1,2 km"), whole km beyond ("135 km").
pub fn format_distance_id(distance_m: f64) -> String {
    if !distance_m.is_finite() {
        return "? m".to_string();
    }
    let m = distance_m.max(0.0);
    if m.round() < 1000.0 {
        format!("{} m", m.round() as i64)
    } else if m < 99_950.0 {
        format!("{:.1} km", m / 1000.0).replace('.', ",")
    } else {
        format!("{} km", (m / 1000.0).round() as i64)
    }
}

/// Why offices, zones or a fix were refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeofenceError {
    /// Latitude outside -90..=90, longitude outside -180..=180, or not finite.
    #[error(
        "invalid coordinate (lat {latitude}, lon {longitude}){}",
        zone_suffix(zone_id)
    )]
    InvalidCoordinate {
        /// The zone it was found in, if any.
        zone_id: Option<String>,
        /// Latitude given.
        latitude: f64,
        /// Longitude given.
        longitude: f64,
    },
    /// A fix's accuracy radius is not a finite number > 0.
    #[error("invalid accuracy {accuracy_m} m")]
    InvalidAccuracy {
        /// The accuracy given.
        accuracy_m: f64,
    },
    /// Circle radius ≤ 0, not finite, or above [`MAX_RADIUS_M`].
    #[error("zone {zone_id}: invalid radius {radius_m} m")]
    InvalidRadius {
        /// The zone.
        zone_id: String,
        /// The radius given.
        radius_m: f64,
    },
    /// A circle that crosses the ±180° meridian.
    #[error("zone {zone_id} crosses the 180° meridian")]
    CrossesAntimeridian {
        /// The zone.
        zone_id: String,
    },
    /// A polygon without rings.
    #[error("zone {zone_id}: polygon has no rings")]
    EmptyPolygon {
        /// The zone.
        zone_id: String,
    },
    /// A ring without positions.
    #[error("zone {zone_id}: ring {ring} is empty")]
    EmptyRing {
        /// The zone.
        zone_id: String,
        /// Ring index (0 = outer).
        ring: usize,
    },
    /// A ring with fewer than 4 positions (a closed triangle needs 4), or fewer than 3
    /// distinct ones.
    #[error("zone {zone_id}: ring {ring} has too few points ({points})")]
    TooFewPoints {
        /// The zone.
        zone_id: String,
        /// Ring index (0 = outer).
        ring: usize,
        /// Positions in the ring.
        points: usize,
    },
    /// A ring whose last position differs from its first.
    #[error("zone {zone_id}: ring {ring} is not closed")]
    UnclosedRing {
        /// The zone.
        zone_id: String,
        /// Ring index (0 = outer).
        ring: usize,
    },
    /// A ring that encloses no area (all points on a line).
    #[error("zone {zone_id}: ring {ring} has zero area")]
    ZeroAreaRing {
        /// The zone.
        zone_id: String,
        /// Ring index (0 = outer).
        ring: usize,
    },
    /// A ring that crosses or touches itself.
    #[error("zone {zone_id}: polygon ring intersects itself")]
    SelfIntersecting {
        /// The zone.
        zone_id: String,
    },
    /// A hole that is not inside the outer ring.
    #[error("zone {zone_id}: hole {ring} is not inside the outer ring")]
    HoleOutsideOuter {
        /// The zone.
        zone_id: String,
        /// Ring index of the hole (≥ 1).
        ring: usize,
    },
    /// Two rings of one polygon cross or share an edge.
    #[error("zone {zone_id}: polygon rings intersect each other")]
    RingsIntersect {
        /// The zone.
        zone_id: String,
    },
    /// Two offices with the same id.
    #[error("duplicate office id {office_id}")]
    DuplicateOfficeId {
        /// The id.
        office_id: String,
    },
    /// Two zones with the same id in one office.
    #[error("office {office_id}: duplicate zone id {zone_id}")]
    DuplicateZoneId {
        /// The office.
        office_id: String,
        /// The id.
        zone_id: String,
    },
    /// An empty office id.
    #[error("office with an empty id")]
    EmptyOfficeId,
    /// An empty zone id.
    #[error("office {office_id}: zone with an empty id")]
    EmptyZoneId {
        /// The office.
        office_id: String,
    },
    /// An office without zones.
    #[error("office {office_id} has no zones")]
    OfficeWithoutZones {
        /// The office.
        office_id: String,
    },
    /// An office accuracy limit that is not a finite number > 0.
    #[error("office {office_id}: invalid max_accuracy_m {max_accuracy_m}")]
    InvalidAccuracyLimit {
        /// The office.
        office_id: String,
        /// The limit given.
        max_accuracy_m: f64,
    },
    /// A UTC offset outside -12:00..=+14:00.
    #[error("office {office_id}: invalid utc_offset_minutes {minutes}")]
    InvalidUtcOffset {
        /// The office.
        office_id: String,
        /// The offset given.
        minutes: i32,
    },
}

fn zone_suffix(zone_id: &Option<String>) -> String {
    match zone_id {
        Some(z) => format!(" in zone {z}"),
        None => String::new(),
    }
}

impl GeofenceError {
    /// Stable machine code, e.g. `GEOFENCE_SELF_INTERSECTING`.
    pub fn code(&self) -> &'static str {
        match self {
            GeofenceError::InvalidCoordinate { .. } => "GEOFENCE_INVALID_COORDINATE",
            GeofenceError::InvalidAccuracy { .. } => "GEOFENCE_INVALID_ACCURACY",
            GeofenceError::InvalidRadius { .. } => "GEOFENCE_INVALID_RADIUS",
            GeofenceError::CrossesAntimeridian { .. } => "GEOFENCE_CROSSES_ANTIMERIDIAN",
            GeofenceError::EmptyPolygon { .. } => "GEOFENCE_EMPTY_POLYGON",
            GeofenceError::EmptyRing { .. } => "GEOFENCE_EMPTY_RING",
            GeofenceError::TooFewPoints { .. } => "GEOFENCE_TOO_FEW_POINTS",
            GeofenceError::UnclosedRing { .. } => "GEOFENCE_UNCLOSED_RING",
            GeofenceError::ZeroAreaRing { .. } => "GEOFENCE_ZERO_AREA_RING",
            GeofenceError::SelfIntersecting { .. } => "GEOFENCE_SELF_INTERSECTING",
            GeofenceError::HoleOutsideOuter { .. } => "GEOFENCE_HOLE_OUTSIDE_OUTER",
            GeofenceError::RingsIntersect { .. } => "GEOFENCE_RINGS_INTERSECT",
            GeofenceError::DuplicateOfficeId { .. } => "GEOFENCE_DUPLICATE_OFFICE_ID",
            GeofenceError::DuplicateZoneId { .. } => "GEOFENCE_DUPLICATE_ZONE_ID",
            GeofenceError::EmptyOfficeId => "GEOFENCE_EMPTY_OFFICE_ID",
            GeofenceError::EmptyZoneId { .. } => "GEOFENCE_EMPTY_ZONE_ID",
            GeofenceError::OfficeWithoutZones { .. } => "GEOFENCE_OFFICE_WITHOUT_ZONES",
            GeofenceError::InvalidAccuracyLimit { .. } => "GEOFENCE_INVALID_ACCURACY_LIMIT",
            GeofenceError::InvalidUtcOffset { .. } => "GEOFENCE_INVALID_UTC_OFFSET",
        }
    }

    /// Explanation for admins, in Indonesian.
    pub fn message(&self) -> String {
        fn ring_name(ring: usize) -> String {
            if ring == 0 {
                "batas luar".to_string()
            } else {
                format!("lubang ke-{ring}")
            }
        }
        match self {
            GeofenceError::InvalidCoordinate {
                zone_id,
                latitude,
                longitude,
            } => {
                let place = match zone_id {
                    Some(z) => format!(" pada zona {z}"),
                    None => String::new(),
                };
                format!(
                    "Koordinat tidak valid{place} (lintang {latitude}, bujur {longitude}). \
                     Lintang harus -90 s.d. 90 dan bujur -180 s.d. 180."
                )
            }
            GeofenceError::InvalidAccuracy { accuracy_m } => {
                format!("Akurasi GPS tidak valid ({accuracy_m} m); harus lebih dari 0.")
            }
            GeofenceError::InvalidRadius { zone_id, radius_m } => format!(
                "Radius zona {zone_id} tidak valid ({radius_m} m); harus lebih dari 0 dan \
                 paling besar {MAX_RADIUS_M} m."
            ),
            GeofenceError::CrossesAntimeridian { zone_id } => {
                format!("Zona {zone_id} melintasi garis bujur 180°, tidak didukung.")
            }
            GeofenceError::EmptyPolygon { zone_id } => {
                format!("Poligon zona {zone_id} tidak memiliki titik.")
            }
            GeofenceError::EmptyRing { zone_id, ring } => {
                format!("Poligon zona {zone_id}: {} kosong.", ring_name(*ring))
            }
            GeofenceError::TooFewPoints {
                zone_id,
                ring,
                points,
            } => format!(
                "Poligon zona {zone_id}: {} hanya memiliki {points} titik (berbeda); \
                 minimal 3 titik berbeda dan titik terakhir sama dengan titik pertama.",
                ring_name(*ring)
            ),
            GeofenceError::UnclosedRing { zone_id, ring } => format!(
                "Poligon zona {zone_id}: {} tidak tertutup; titik terakhir harus sama \
                 dengan titik pertama.",
                ring_name(*ring)
            ),
            GeofenceError::ZeroAreaRing { zone_id, ring } => format!(
                "Poligon zona {zone_id}: {} tidak memiliki luas (semua titik segaris).",
                ring_name(*ring)
            ),
            GeofenceError::SelfIntersecting { zone_id } => format!(
                "Poligon zona {zone_id} berpotongan dengan dirinya sendiri. Periksa urutan \
                 titik-titiknya."
            ),
            GeofenceError::HoleOutsideOuter { zone_id, ring } => format!(
                "Poligon zona {zone_id}: {} tidak berada di dalam batas luar.",
                ring_name(*ring)
            ),
            GeofenceError::RingsIntersect { zone_id } => {
                format!("Poligon zona {zone_id}: batas-batasnya saling berpotongan.")
            }
            GeofenceError::DuplicateOfficeId { office_id } => {
                format!("ID kantor {office_id} dipakai lebih dari satu kali.")
            }
            GeofenceError::DuplicateZoneId { office_id, zone_id } => {
                format!("Kantor {office_id}: ID zona {zone_id} dipakai lebih dari satu kali.")
            }
            GeofenceError::EmptyOfficeId => "Ada kantor tanpa ID.".to_string(),
            GeofenceError::EmptyZoneId { office_id } => {
                format!("Kantor {office_id}: ada zona tanpa ID.")
            }
            GeofenceError::OfficeWithoutZones { office_id } => {
                format!("Kantor {office_id} belum memiliki zona (titik lokasi).")
            }
            GeofenceError::InvalidAccuracyLimit {
                office_id,
                max_accuracy_m,
            } => format!(
                "Kantor {office_id}: batas akurasi GPS tidak valid ({max_accuracy_m} m); \
                 harus lebih dari 0."
            ),
            GeofenceError::InvalidUtcOffset { office_id, minutes } => format!(
                "Kantor {office_id}: selisih waktu UTC tidak valid ({minutes} menit). \
                 WIB = 420, WITA = 480, WIT = 540."
            ),
        }
    }
}

/// Checks a latitude/longitude pair: both finite, latitude in -90..=90, longitude in
/// -180..=180.
pub fn validate_coordinates(latitude: f64, longitude: f64) -> Result<(), GeofenceError> {
    if latitude.is_finite()
        && longitude.is_finite()
        && (-90.0..=90.0).contains(&latitude)
        && (-180.0..=180.0).contains(&longitude)
    {
        Ok(())
    } else {
        Err(GeofenceError::InvalidCoordinate {
            zone_id: None,
            latitude,
            longitude,
        })
    }
}

/// Geodesic distance in metres between two points on the WGS84 ellipsoid (Karney's
/// algorithm, accurate to nanometres). NaN if an input is NaN.
pub fn geodesic_distance_m(a: LatLon, b: LatLon) -> f64 {
    Geodesic.distance(
        Point::new(a.longitude, a.latitude),
        Point::new(b.longitude, b.latitude),
    )
}

/// Geodesic distance in metres from `point` to the edge `a`–`b`, the edge being a
/// straight line in longitude/latitude as in GeoJSON. The nearest point of the edge is
/// found in the local tangent plane of `point` (see the module docs); the distance to
/// it is geodesic.
pub fn distance_to_segment_m(point: LatLon, a: LatLon, b: LatLon) -> f64 {
    let plane = LocalPlane::at(point);
    let (_, t) = plane.segment([a.longitude, a.latitude], [b.longitude, b.latitude]);
    geodesic_distance_m(point, lerp(a, b, t))
}

// ----------------------------------------------------------------------------------
// Local plane and error bounds.

const WGS84_A: f64 = 6_378_137.0;
const WGS84_F: f64 = 1.0 / 298.257_223_563;

/// Absolute margin added to local-plane error bounds, metres.
const APPROX_ABS_M: f64 = 0.05;
const APPROX_MAX_LAT: f64 = 60.0;
const APPROX_MAX_M: f64 = 30_000.0;

/// Metres per degree of latitude and of longitude at a latitude (ellipsoidal radii).
fn metres_per_degree(lat_deg: f64) -> (f64, f64) {
    let e2 = WGS84_F * (2.0 - WGS84_F);
    let phi = lat_deg.to_radians();
    let s = phi.sin();
    let w = (1.0 - e2 * s * s).sqrt();
    let n = WGS84_A / w;
    let m = WGS84_A * (1.0 - e2) / (w * w * w);
    let k = std::f64::consts::PI / 180.0;
    (m * k, n * phi.cos() * k)
}

fn wrap180(mut dlon: f64) -> f64 {
    if dlon > 180.0 {
        dlon -= 360.0;
    } else if dlon < -180.0 {
        dlon += 360.0;
    }
    dlon
}

fn lerp(a: LatLon, b: LatLon, t: f64) -> LatLon {
    LatLon::new(
        a.latitude + (b.latitude - a.latitude) * t,
        a.longitude + (b.longitude - a.longitude) * t,
    )
}

/// Equirectangular projection centred on a point, scaled by the ellipsoid's radii at
/// its latitude. Linear in (lon, lat).
struct LocalPlane {
    lat0: f64,
    lon0: f64,
    ky: f64,
    kx: f64,
}

impl LocalPlane {
    fn at(p: LatLon) -> Self {
        let (ky, kx) = metres_per_degree(p.latitude);
        Self {
            lat0: p.latitude,
            lon0: p.longitude,
            ky,
            kx,
        }
    }

    fn project(&self, pos: [f64; 2]) -> (f64, f64) {
        (
            wrap180(pos[0] - self.lon0) * self.kx,
            (pos[1] - self.lat0) * self.ky,
        )
    }

    /// Planar distance from the origin to segment a–b and the parameter t of the
    /// nearest point (0 at a, 1 at b). Positions are `[lon, lat]`.
    fn segment(&self, a: [f64; 2], b: [f64; 2]) -> (f64, f64) {
        let (ax, ay) = self.project(a);
        let (bx, by) = self.project(b);
        let (dx, dy) = (bx - ax, by - ay);
        let len2 = dx * dx + dy * dy;
        let t = if len2 > 0.0 {
            (-(ax * dx + ay * dy) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let (x, y) = (ax + dx * t, ay + dy * t);
        ((x * x + y * y).sqrt(), t)
    }
}

/// Midpoint equirectangular distance estimate between two points.
fn approx_distance_m(a: LatLon, b: LatLon) -> f64 {
    let (ky, kx) = metres_per_degree((a.latitude + b.latitude) * 0.5);
    let dx = wrap180(b.longitude - a.longitude) * kx;
    let dy = (b.latitude - a.latitude) * ky;
    (dx * dx + dy * dy).sqrt()
}

/// Whether an estimate `d` at latitude `lat` is within the documented error bound.
fn approx_usable(lat: f64, d: f64) -> bool {
    lat.abs() <= APPROX_MAX_LAT && d <= APPROX_MAX_M
}

/// Relative error bound of a local-plane estimate `d` made at latitude `lat`.
///
/// The plane's east-west scale is that of the point's latitude; a point `x` radians
/// away (x ≤ d / 6 300 km) may sit where the true scale differs by up to
/// tan(|φ| + x)·x relative (the first-order change of cos φ), the meridional radius
/// changes by under 0.05·x, and the curvature of geodesics against plane lines is of
/// order x². The bound doubles the first term and is checked by a property test over
/// |lat| ≤ 60° and d ≤ 30 km. These estimates only choose which exact distances to
/// compute; no reported distance is an estimate.
fn approx_rel_error(lat: f64, d: f64) -> f64 {
    let x = d / 6_300_000.0;
    2.0 * (lat.abs().to_radians() + x).tan() * x + 0.05 * x + 10.0 * x * x + 1e-7
}

/// Lower and upper bounds of a true distance, given an estimate `d` made at latitude
/// `lat`.
fn bounds_from_estimate(lat: f64, d: f64) -> (f64, f64) {
    let e = approx_rel_error(lat, d);
    (
        (d * (1.0 - e) - APPROX_ABS_M).max(0.0),
        d * (1.0 + e) + APPROX_ABS_M,
    )
}

/// A conservative lon/lat box around `p` containing every point within `r` metres
/// (geodesic), as one or two boxes (two when it wraps over ±180°), or `None` when it
/// covers the whole world.
fn search_boxes(p: LatLon, r: f64) -> Option<Vec<AABB<[f64; 2]>>> {
    // Metres per degree of latitude are ≥ 110 574 everywhere; of longitude at latitude
    // φ ≥ 111 319·cos φ. Rounded down, so the box is a little larger than needed.
    let dlat = r / 110_000.0;
    if dlat >= 90.0 {
        return None;
    }
    let lat_lo = (p.latitude - dlat).max(-90.0);
    let lat_hi = (p.latitude + dlat).min(90.0);
    let phi_max = lat_lo.abs().max(lat_hi.abs());
    if phi_max >= 89.9 {
        return Some(vec![AABB::from_corners([-180.0, lat_lo], [180.0, lat_hi])]);
    }
    let dlon = r / (111_000.0 * phi_max.to_radians().cos());
    if dlon >= 180.0 {
        return Some(vec![AABB::from_corners([-180.0, lat_lo], [180.0, lat_hi])]);
    }
    let lon_lo = p.longitude - dlon;
    let lon_hi = p.longitude + dlon;
    let mut boxes = vec![AABB::from_corners(
        [lon_lo.max(-180.0), lat_lo],
        [lon_hi.min(180.0), lat_hi],
    )];
    if lon_lo < -180.0 {
        boxes.push(AABB::from_corners(
            [lon_lo + 360.0, lat_lo],
            [180.0, lat_hi],
        ));
    }
    if lon_hi > 180.0 {
        boxes.push(AABB::from_corners(
            [-180.0, lat_lo],
            [lon_hi - 360.0, lat_hi],
        ));
    }
    Some(boxes)
}

// ----------------------------------------------------------------------------------
// Validated, prepared zones.

#[derive(Debug, Clone)]
enum Geom {
    Circle { center: LatLon, radius_m: f64 },
    Polygon { polygon: Polygon<f64> },
}

#[derive(Debug, Clone)]
struct PreparedZone {
    office: usize,
    zone: usize,
    geom: Geom,
    envelope: AABB<[f64; 2]>,
}

/// Bounds on the distance from a point to a zone; `lo == hi` when exact.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    lo: f64,
    hi: f64,
    exact: bool,
}

impl Bounds {
    fn exact(d: f64) -> Self {
        Self {
            lo: d,
            hi: d,
            exact: true,
        }
    }
}

impl PreparedZone {
    fn new(office: usize, zone_idx: usize, zone: &Zone) -> Result<Self, GeofenceError> {
        let (geom, envelope) = prepare_shape(zone)?;
        Ok(Self {
            office,
            zone: zone_idx,
            geom,
            envelope,
        })
    }

    /// Cheap bounds on the distance from `p`.
    fn bounds(&self, p: LatLon) -> Bounds {
        match &self.geom {
            Geom::Circle { center, radius_m } => {
                let c = approx_distance_m(*center, p);
                if approx_usable(p.latitude, c) {
                    let (lo, hi) = bounds_from_estimate(p.latitude, c);
                    let (lo, hi) = ((lo - radius_m).max(0.0), (hi - radius_m).max(0.0));
                    if hi == 0.0 {
                        Bounds::exact(0.0)
                    } else {
                        Bounds {
                            lo,
                            hi,
                            exact: false,
                        }
                    }
                } else {
                    Bounds::exact(self.exact_distance(p))
                }
            }
            Geom::Polygon { polygon } => {
                if polygon_covers(polygon, &self.envelope, p) {
                    return Bounds::exact(0.0);
                }
                let plane = LocalPlane::at(p);
                let s = min_segment_distance(polygon, &plane);
                if approx_usable(p.latitude, s) {
                    let (lo, hi) = bounds_from_estimate(p.latitude, s);
                    Bounds {
                        lo,
                        hi,
                        exact: false,
                    }
                } else {
                    Bounds::exact(self.exact_distance(p))
                }
            }
        }
    }

    /// A cheap upper bound of the distance from `p`: to a circle via its centre, to a
    /// polygon via its first vertex (a point of its boundary). Infinite where the
    /// local-plane estimate is not trusted.
    fn cheap_upper_bound(&self, p: LatLon) -> f64 {
        let (q, minus) = match &self.geom {
            Geom::Circle { center, radius_m } => (*center, *radius_m),
            Geom::Polygon { polygon } => {
                let c = polygon.exterior().0[0];
                (LatLon::new(c.y, c.x), 0.0)
            }
        };
        let d = approx_distance_m(p, q);
        if approx_usable(p.latitude, d) {
            (bounds_from_estimate(p.latitude, d).1 - minus).max(0.0)
        } else {
            f64::INFINITY
        }
    }

    /// A lower bound of the distance from `p` from the zone's box alone. In the
    /// latitude band up to 1° beyond both the point and the box, metres per degree are
    /// at least 110 574 (latitude) and 6 378 137·cos(φ*)·π/180 (longitude); a path
    /// leaving that band is already longer than 110 km.
    fn envelope_lower_bound(&self, p: LatLon) -> f64 {
        let (lo, hi) = (self.envelope.lower(), self.envelope.upper());
        let dlat = (lo[1] - p.latitude).max(p.latitude - hi[1]).max(0.0);
        let mut dlon = (lo[0] - p.longitude).max(p.longitude - hi[0]).max(0.0);
        let phi_star = p.latitude.abs().max(lo[1].abs()).max(hi[1].abs()) + 1.0;
        if dlon > 180.0 || phi_star >= 89.0 {
            dlon = 0.0;
        }
        let lat_m = dlat * 110_574.0;
        let lon_m = dlon.to_radians() * WGS84_A * phi_star.to_radians().cos();
        (lat_m * lat_m + lon_m * lon_m).sqrt().min(110_000.0) * (1.0 - 1e-9)
    }

    /// Exact distance from `p` (0 inside).
    fn exact_distance(&self, p: LatLon) -> f64 {
        match &self.geom {
            Geom::Circle { center, radius_m } => {
                (geodesic_distance_m(*center, p) - radius_m).max(0.0)
            }
            Geom::Polygon { polygon } => {
                if polygon_covers(polygon, &self.envelope, p) {
                    return 0.0;
                }
                let plane = LocalPlane::at(p);
                let s_min = min_segment_distance(polygon, &plane);
                // Segments whose planar distance is close enough to the minimum that
                // their geodesic distance might be smaller; all of them when the plane
                // is not trusted (far away or near the poles).
                let window = if approx_usable(p.latitude, s_min) {
                    s_min * (1.0 + 3.0 * approx_rel_error(p.latitude, s_min)) + 3.0 * APPROX_ABS_M
                } else {
                    f64::INFINITY
                };
                let mut best = f64::INFINITY;
                // Adjacent edges often share their nearest point (a vertex): measure
                // each point once.
                let mut last: Option<LatLon> = None;
                for ring in rings(polygon) {
                    for w in ring.0.windows(2) {
                        let a = [w[0].x, w[0].y];
                        let b = [w[1].x, w[1].y];
                        let (s, t) = plane.segment(a, b);
                        if s <= window {
                            let q = LatLon::new(a[1] + (b[1] - a[1]) * t, a[0] + (b[0] - a[0]) * t);
                            if last != Some(q) {
                                best = best.min(geodesic_distance_m(p, q));
                                last = Some(q);
                            }
                        }
                    }
                }
                best
            }
        }
    }
}

impl RTreeObject for PreparedZoneRef {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

impl PointDistance for PreparedZoneRef {
    /// Squared distance in degrees from a `[lon, lat]` point to the zone's box; only
    /// used to seed the nearest-office search.
    fn distance_2(&self, point: &[f64; 2]) -> f64 {
        self.envelope.distance_2(point)
    }
}

/// What the R-tree stores: a zone's box and its index in `GeofenceIndex::zones`.
#[derive(Debug, Clone)]
struct PreparedZoneRef {
    idx: usize,
    envelope: AABB<[f64; 2]>,
}

fn rings(polygon: &Polygon<f64>) -> impl Iterator<Item = &LineString<f64>> {
    std::iter::once(polygon.exterior()).chain(polygon.interiors().iter())
}

/// Whether `p` is inside or on the boundary of the polygon whose box is `envelope`.
fn polygon_covers(polygon: &Polygon<f64>, envelope: &AABB<[f64; 2]>, p: LatLon) -> bool {
    let (lo, hi) = (envelope.lower(), envelope.upper());
    if p.longitude < lo[0] || p.longitude > hi[0] || p.latitude < lo[1] || p.latitude > hi[1] {
        return false;
    }
    polygon.coordinate_position(&Coord {
        x: p.longitude,
        y: p.latitude,
    }) != CoordPos::Outside
}

fn min_segment_distance(polygon: &Polygon<f64>, plane: &LocalPlane) -> f64 {
    let mut best = f64::INFINITY;
    for ring in rings(polygon) {
        for w in ring.0.windows(2) {
            let (s, _) = plane.segment([w[0].x, w[0].y], [w[1].x, w[1].y]);
            best = best.min(s);
        }
    }
    best
}

fn circle_envelope(center: LatLon, radius_m: f64) -> Option<AABB<[f64; 2]>> {
    match search_boxes(center, radius_m) {
        Some(boxes) if boxes.len() == 1 => Some(boxes[0]),
        _ => None,
    }
}

fn prepare_shape(zone: &Zone) -> Result<(Geom, AABB<[f64; 2]>), GeofenceError> {
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

fn validate_office(office: &Office) -> Result<(), GeofenceError> {
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

// ----------------------------------------------------------------------------------
// The index.

/// All offices of a deployment (up to a whole province or more), validated and indexed
/// for fast lookups. Built once; cheap to share between threads (`Send + Sync`).
#[derive(Debug, Clone)]
pub struct GeofenceIndex {
    offices: Vec<Office>,
    by_id: HashMap<String, usize>,
    /// Zones in office order, then zone order; the position is the tie-breaker.
    zones: Vec<PreparedZone>,
    /// Each office's range in `zones`.
    office_zones: Vec<Range<usize>>,
    tree: RTree<PreparedZoneRef>,
}

/// Starting radius of the nearest-office search.
const NEAREST_START_M: f64 = 250.0;
/// Growth factor of the nearest-office search radius.
const NEAREST_GROWTH: f64 = 3.0;
/// Beyond this radius the search covers the whole Earth.
const NEAREST_MAX_M: f64 = 20_100_000.0;

impl GeofenceIndex {
    /// Validates the offices and builds the index. Fails on the first invalid office
    /// or zone, with an error an admin can act on.
    pub fn new(offices: Vec<Office>) -> Result<Self, GeofenceError> {
        let mut by_id = HashMap::with_capacity(offices.len());
        let mut zones = Vec::new();
        let mut office_zones = Vec::with_capacity(offices.len());
        for (oi, office) in offices.iter().enumerate() {
            validate_office(office)?;
            if by_id.insert(office.id.clone(), oi).is_some() {
                return Err(GeofenceError::DuplicateOfficeId {
                    office_id: office.id.clone(),
                });
            }
            let start = zones.len();
            for (zi, zone) in office.zones.iter().enumerate() {
                zones.push(PreparedZone::new(oi, zi, zone)?);
            }
            office_zones.push(start..zones.len());
        }
        let tree = RTree::bulk_load(
            zones
                .iter()
                .enumerate()
                .map(|(idx, z)| PreparedZoneRef {
                    idx,
                    envelope: z.envelope,
                })
                .collect(),
        );
        Ok(Self {
            offices,
            by_id,
            zones,
            office_zones,
            tree,
        })
    }

    /// The office with this id.
    pub fn office(&self, id: &str) -> Option<&Office> {
        self.by_id.get(id).map(|&i| &self.offices[i])
    }

    /// All offices, in the order given.
    pub fn offices(&self) -> &[Office] {
        &self.offices
    }

    /// Number of zones over all offices.
    pub fn zone_count(&self) -> usize {
        self.zones.len()
    }

    /// Geodesic distance in metres from `point` to the nearest zone of an office (0
    /// inside one); `None` for an unknown office or an invalid point.
    pub fn distance_to_office_m(&self, office_id: &str, point: LatLon) -> Option<f64> {
        validate_coordinates(point.latitude, point.longitude).ok()?;
        let oi = *self.by_id.get(office_id)?;
        self.office_zones[oi]
            .clone()
            .map(|zi| self.zones[zi].exact_distance(point))
            .reduce(f64::min)
    }

    /// Where is this fix, among all offices? See the module docs for the rule. An
    /// invalid fix is never inside: it comes back as
    /// [`GeofenceVerdict::TooInaccurate`] with `accuracy_m = f64::MAX`.
    pub fn locate(&self, fix: &GpsFix, rule: &GeofenceRule) -> GeofenceVerdict {
        if self.zones.is_empty() {
            return GeofenceVerdict::NoOffices;
        }
        if fix.validate().is_err() {
            return self.invalid_fix_verdict(0..self.offices.len());
        }
        let p = LatLon::new(fix.latitude, fix.longitude);
        let a = fix.accuracy_m;
        let g = grace(a, rule);
        let inside = match search_boxes(p, g) {
            Some(boxes) => self.best_inside(
                p,
                a,
                g,
                boxes
                    .iter()
                    .flat_map(|b| self.tree.locate_in_envelope_intersecting(b))
                    .map(|r| r.idx),
            ),
            None => self.best_inside(p, a, g, 0..self.zones.len()),
        };
        if let Some((d, zi)) = inside {
            return self.inside_verdict(d, zi);
        }
        let nearest = self.nearest_indexed(p);
        self.outside_verdict(a, nearest)
    }

    /// Like [`GeofenceIndex::locate`] but only among the given offices (the ones a
    /// person belongs to). Unknown ids are ignored; if none is known the verdict is
    /// [`GeofenceVerdict::NoOffices`].
    pub fn locate_in(
        &self,
        fix: &GpsFix,
        office_ids: &[&str],
        rule: &GeofenceRule,
    ) -> GeofenceVerdict {
        let mut offices: Vec<usize> = office_ids
            .iter()
            .filter_map(|id| self.by_id.get(*id).copied())
            .collect();
        offices.sort_unstable();
        offices.dedup();
        if offices.is_empty() {
            return GeofenceVerdict::NoOffices;
        }
        if fix.validate().is_err() {
            return self.invalid_fix_verdict(offices.iter().copied());
        }
        let p = LatLon::new(fix.latitude, fix.longitude);
        let a = fix.accuracy_m;
        let g = grace(a, rule);
        let zone_ids = || offices.iter().flat_map(|&oi| self.office_zones[oi].clone());
        if let Some((d, zi)) = self.best_inside(p, a, g, zone_ids()) {
            return self.inside_verdict(d, zi);
        }
        let nearest = self.nearest_among(p, zone_ids());
        self.outside_verdict(a, nearest)
    }

    /// Like [`GeofenceIndex::locate`], but an invalid fix is an error instead of a
    /// `TooInaccurate` verdict.
    pub fn try_locate(
        &self,
        fix: &GpsFix,
        rule: &GeofenceRule,
    ) -> Result<GeofenceVerdict, GeofenceError> {
        fix.validate()?;
        Ok(self.locate(fix, rule))
    }

    fn invalid_fix_verdict(&self, offices: impl Iterator<Item = usize>) -> GeofenceVerdict {
        let limit_m = offices
            .map(|oi| self.offices[oi].max_accuracy_m)
            .fold(f64::INFINITY, f64::min);
        GeofenceVerdict::TooInaccurate {
            accuracy_m: f64::MAX,
            limit_m,
        }
    }

    fn inside_verdict(&self, d: f64, zi: usize) -> GeofenceVerdict {
        let z = &self.zones[zi];
        let office = &self.offices[z.office];
        GeofenceVerdict::Inside {
            office_id: office.id.clone(),
            office_name: office.name.clone(),
            zone_id: office.zones[z.zone].id.clone(),
            distance_outside_m: d,
        }
    }

    fn outside_verdict(&self, a: f64, nearest: Option<(f64, usize)>) -> GeofenceVerdict {
        let Some((d, zi)) = nearest else {
            return GeofenceVerdict::NoOffices;
        };
        let office = &self.offices[self.zones[zi].office];
        if d <= a && a > office.max_accuracy_m {
            GeofenceVerdict::TooInaccurate {
                accuracy_m: a,
                limit_m: office.max_accuracy_m,
            }
        } else {
            GeofenceVerdict::Outside {
                nearest_office_id: office.id.clone(),
                nearest_office_name: office.name.clone(),
                distance_m: d,
            }
        }
    }

    /// The accepting zone with the smallest (distance, position) among `candidates`,
    /// which must include every zone within `g` metres of `p`.
    fn best_inside(
        &self,
        p: LatLon,
        a: f64,
        g: f64,
        candidates: impl Iterator<Item = usize>,
    ) -> Option<(f64, usize)> {
        let mut best: Option<(f64, usize)> = None;
        for zi in candidates {
            let z = &self.zones[zi];
            if a > self.offices[z.office].max_accuracy_m {
                continue;
            }
            let b = z.bounds(p);
            if b.lo > g || best.is_some_and(|(bd, _)| b.lo > bd) {
                continue;
            }
            let d = if b.exact { b.lo } else { z.exact_distance(p) };
            if d <= g && better((d, zi), best) {
                best = Some((d, zi));
            }
        }
        best
    }

    /// The zone with the smallest (exact distance, position) among `candidates`.
    fn nearest_among(
        &self,
        p: LatLon,
        candidates: impl Iterator<Item = usize>,
    ) -> Option<(f64, usize)> {
        let candidates: Vec<usize> = candidates.collect();
        self.nearest_of(p, &candidates).0
    }

    /// The nearest of `candidates`, and an upper bound of its distance (infinite when
    /// there are none). Three passes: a cheap upper bound per zone (distance to a
    /// circle's centre or a polygon's first vertex) and a lower bound from its box;
    /// full bounds only for zones whose box lower bound can beat the best cheap upper
    /// bound; exact distances only for zones whose lower bound can beat the best upper
    /// bound.
    fn nearest_of(&self, p: LatLon, candidates: &[usize]) -> (Option<(f64, usize)>, f64) {
        let mut min_hi = f64::INFINITY;
        for &zi in candidates {
            min_hi = min_hi.min(self.zones[zi].cheap_upper_bound(p));
        }
        let mut with_bounds: Vec<(usize, Bounds)> = Vec::with_capacity(candidates.len().min(64));
        for &zi in candidates {
            let z = &self.zones[zi];
            if z.envelope_lower_bound(p) > min_hi {
                continue;
            }
            let b = z.bounds(p);
            min_hi = min_hi.min(b.hi);
            with_bounds.push((zi, b));
        }
        let mut best: Option<(f64, usize)> = None;
        for &(zi, b) in &with_bounds {
            if b.lo > min_hi || best.is_some_and(|(bd, _)| b.lo > bd) {
                continue;
            }
            let d = if b.exact {
                b.lo
            } else {
                self.zones[zi].exact_distance(p)
            };
            if better((d, zi), best) {
                best = Some((d, zi));
            }
        }
        (best, min_hi)
    }

    /// The nearest zone overall, through the R-tree: query growing boxes until the
    /// best upper bound found lies within the searched radius (every zone outside the
    /// box is farther than the radius, so none can be nearer).
    fn nearest_indexed(&self, p: LatLon) -> Option<(f64, usize)> {
        // Seed the radius with the zone whose box is nearest in degrees: its cheap
        // upper bound is a radius that surely holds the nearest zone, so one more box
        // query usually finishes. (Degrees are not metres, so the seed need not be
        // the nearest zone; the box query settles that.)
        let mut r = self
            .tree
            .nearest_neighbor(&[p.longitude, p.latitude])
            .map(|z| self.zones[z.idx].cheap_upper_bound(p))
            .filter(|u| u.is_finite())
            .unwrap_or(NEAREST_START_M)
            .max(1.0);
        let mut candidates: Vec<usize> = Vec::new();
        loop {
            candidates.clear();
            let boxes = if r >= NEAREST_MAX_M {
                None
            } else {
                search_boxes(p, r)
            };
            match &boxes {
                Some(boxes) => {
                    for b in boxes {
                        candidates
                            .extend(self.tree.locate_in_envelope_intersecting(b).map(|z| z.idx));
                    }
                }
                None => candidates.extend(0..self.zones.len()),
            }
            if !candidates.is_empty() {
                let (best, min_hi) = self.nearest_of(p, &candidates);
                if boxes.is_none() || min_hi <= r {
                    return best;
                }
                // One more query, of a box that surely holds the nearest zone.
                r = min_hi.max(r * NEAREST_GROWTH);
            } else if boxes.is_none() {
                return None;
            } else {
                r *= NEAREST_GROWTH;
            }
        }
    }
}

fn better(candidate: (f64, usize), best: Option<(f64, usize)>) -> bool {
    match best {
        None => true,
        Some((bd, bi)) => candidate.0 < bd || (candidate.0 == bd && candidate.1 < bi),
    }
}

fn grace(accuracy_m: f64, rule: &GeofenceRule) -> f64 {
    let cap = if rule.accuracy_grace_cap_m.is_nan() {
        0.0
    } else {
        rule.accuracy_grace_cap_m.max(0.0)
    };
    accuracy_m.min(cap)
}

impl fmt::Display for LatLon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.6}, {:.6}", self.latitude, self.longitude)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::FixProvider;
    use geo::Destination;
    use proptest::prelude::*;
    use std::sync::OnceLock;

    fn fix(lat: f64, lon: f64, accuracy_m: f64) -> GpsFix {
        GpsFix {
            latitude: lat,
            longitude: lon,
            accuracy_m,
            fix_time_ms: 1_717_200_000_000,
            provider: FixProvider::Fused,
            is_mock: false,
        }
    }

    /// The point `distance_m` from `from` along `bearing_deg` (geodesic).
    fn dest(from: LatLon, bearing_deg: f64, distance_m: f64) -> LatLon {
        let p = Geodesic.destination(
            Point::new(from.longitude, from.latitude),
            bearing_deg,
            distance_m,
        );
        LatLon::new(p.y(), p.x())
    }

    fn office(id: &str, name: &str, zones: Vec<Zone>) -> Office {
        Office {
            id: id.to_string(),
            name: name.to_string(),
            utc_offset_minutes: 420,
            zones,
            max_accuracy_m: DEFAULT_MAX_ACCURACY_M,
        }
    }

    fn circle(id: &str, lat: f64, lon: f64, radius_m: f64) -> Zone {
        Zone {
            id: id.to_string(),
            name: id.to_string(),
            shape: ZoneShape::Circle {
                center: LatLon::new(lat, lon),
                radius_m,
            },
        }
    }

    fn polygon(id: &str, rings: Vec<Vec<[f64; 2]>>) -> Zone {
        Zone {
            id: id.to_string(),
            name: id.to_string(),
            shape: ZoneShape::Polygon { rings },
        }
    }

    /// Closed axis-aligned rectangle ring, [lon, lat].
    fn rect(lon0: f64, lat0: f64, lon1: f64, lat1: f64) -> Vec<[f64; 2]> {
        vec![
            [lon0, lat0],
            [lon1, lat0],
            [lon1, lat1],
            [lon0, lat1],
            [lon0, lat0],
        ]
    }

    // Kantor Dinas Kominfo, Jakarta: about 111 m x 111 m.
    const K_LON0: f64 = 106.8270;
    const K_LAT0: f64 = -6.1760;
    const K_LON1: f64 = 106.8280;
    const K_LAT1: f64 = -6.1750;

    fn kominfo() -> GeofenceIndex {
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
    fn east_of_kominfo(m: f64) -> LatLon {
        dest(LatLon::new((K_LAT0 + K_LAT1) / 2.0, K_LON1), 90.0, m)
    }

    #[test]
    fn geodesic_distance_known_value() {
        // geo's own documented value (Sofia - Plovdiv), to check the wiring.
        let d = geodesic_distance_m(
            LatLon::new(42.698334, 23.319941),
            LatLon::new(42.136097, 24.742168),
        );
        assert!((d - 132_675.501_858_820_6).abs() < 1e-6);
    }

    #[test]
    fn point_inside_polygon_is_inside_with_zero_distance() {
        let idx = kominfo();
        let v = idx.locate(&fix(-6.1755, 106.8275, 10.0), &GeofenceRule::default());
        assert_eq!(
            v,
            GeofenceVerdict::Inside {
                office_id: "kominfo".into(),
                office_name: "Kantor Dinas Kominfo".into(),
                zone_id: "gedung".into(),
                distance_outside_m: 0.0,
            }
        );
        assert!(v.is_inside());
        assert_eq!(v.code(), "GEOFENCE_INSIDE");
    }

    #[test]
    fn point_on_boundary_is_inside() {
        let idx = kominfo();
        let v = idx.locate(&fix(-6.1755, K_LON1, 3.0), &GeofenceRule::default());
        assert!(v.is_inside(), "{v:?}");
    }

    #[test]
    fn honest_15m_fix_8m_outside_is_accepted() {
        let idx = kominfo();
        let p = east_of_kominfo(8.0);
        match idx.locate(
            &fix(p.latitude, p.longitude, 15.0),
            &GeofenceRule::default(),
        ) {
            GeofenceVerdict::Inside {
                distance_outside_m, ..
            } => assert!(
                (distance_outside_m - 8.0).abs() < 0.05,
                "{distance_outside_m}"
            ),
            v => panic!("expected inside, got {v:?}"),
        }
    }

    #[test]
    fn fifteen_metre_fix_40m_outside_is_refused() {
        let idx = kominfo();
        let p = east_of_kominfo(40.0);
        match idx.locate(
            &fix(p.latitude, p.longitude, 15.0),
            &GeofenceRule::default(),
        ) {
            GeofenceVerdict::Outside {
                nearest_office_id,
                distance_m,
                ..
            } => {
                assert_eq!(nearest_office_id, "kominfo");
                assert!((distance_m - 40.0).abs() < 0.05, "{distance_m}");
            }
            v => panic!("expected outside, got {v:?}"),
        }
    }

    #[test]
    fn precise_fix_gets_no_grace_it_did_not_claim() {
        let idx = kominfo();
        let p = east_of_kominfo(8.0);
        let v = idx.locate(&fix(p.latitude, p.longitude, 5.0), &GeofenceRule::default());
        assert_eq!(v.code(), "GEOFENCE_OUTSIDE", "{v:?}");
        // and 4 m out with 5 m accuracy is in
        let p = east_of_kominfo(4.0);
        let v = idx.locate(&fix(p.latitude, p.longitude, 5.0), &GeofenceRule::default());
        assert!(v.is_inside(), "{v:?}");
    }

    #[test]
    fn grace_is_capped() {
        let idx = kominfo();
        // 45 m accuracy (within the 50 m limit), 30 m out: grace is min(45, 20) = 20.
        let p = east_of_kominfo(30.0);
        let v = idx.locate(
            &fix(p.latitude, p.longitude, 45.0),
            &GeofenceRule::default(),
        );
        assert_eq!(v.code(), "GEOFENCE_OUTSIDE", "{v:?}");
        // A looser rule lets it in; a negative or NaN cap means no grace.
        let loose = GeofenceRule {
            accuracy_grace_cap_m: 40.0,
        };
        assert!(
            idx.locate(&fix(p.latitude, p.longitude, 45.0), &loose)
                .is_inside()
        );
        let p = east_of_kominfo(1.0);
        for cap in [-5.0, f64::NAN] {
            let rule = GeofenceRule {
                accuracy_grace_cap_m: cap,
            };
            assert_eq!(
                idx.locate(&fix(p.latitude, p.longitude, 10.0), &rule)
                    .code(),
                "GEOFENCE_OUTSIDE"
            );
        }
    }

    #[test]
    fn fix_of_300m_is_refused_even_at_the_centre() {
        let idx = kominfo();
        let v = idx.locate(&fix(-6.1755, 106.8275, 300.0), &GeofenceRule::default());
        assert_eq!(
            v,
            GeofenceVerdict::TooInaccurate {
                accuracy_m: 300.0,
                limit_m: DEFAULT_MAX_ACCURACY_M
            }
        );
        // 200 m away: the circle reaches the office, still too inaccurate.
        let p = east_of_kominfo(200.0);
        let v = idx.locate(
            &fix(p.latitude, p.longitude, 300.0),
            &GeofenceRule::default(),
        );
        assert_eq!(v.code(), "GEOFENCE_TOO_INACCURATE");
        // 5 km away: the whole circle is outside; say how far.
        let p = east_of_kominfo(5000.0);
        let v = idx.locate(
            &fix(p.latitude, p.longitude, 300.0),
            &GeofenceRule::default(),
        );
        match v {
            GeofenceVerdict::Outside { distance_m, .. } => {
                assert!((distance_m - 5000.0).abs() < 0.5, "{distance_m}")
            }
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn office_limit_is_per_office() {
        let mut o = office(
            "lapangan",
            "UPT Lapangan",
            vec![circle("c", -6.2, 106.8, 100.0)],
        );
        o.max_accuracy_m = 100.0;
        let idx = GeofenceIndex::new(vec![o]).unwrap();
        assert!(
            idx.locate(&fix(-6.2, 106.8, 80.0), &GeofenceRule::default())
                .is_inside()
        );
        assert_eq!(
            idx.locate(&fix(-6.2, 106.8, 120.0), &GeofenceRule::default()),
            GeofenceVerdict::TooInaccurate {
                accuracy_m: 120.0,
                limit_m: 100.0
            }
        );
    }

    #[test]
    fn circle_inside_edge_and_outside_distance() {
        let c = LatLon::new(0.0005, 109.34); // at the equator
        let idx = GeofenceIndex::new(vec![office(
            "pnk",
            "Kantor Pontianak",
            vec![circle("c", c.latitude, c.longitude, 100.0)],
        )])
        .unwrap();
        let rule = GeofenceRule::default();
        for (bearing, dist, acc, inside, expect) in [
            (0.0, 50.0, 5.0, true, 0.0),
            (180.0, 99.9, 5.0, true, 0.0),
            (45.0, 110.0, 15.0, true, 10.0),
            (270.0, 125.0, 15.0, false, 25.0),
            (135.0, 1100.0, 10.0, false, 1000.0),
        ] {
            let p = dest(c, bearing, dist);
            let v = idx.locate(&fix(p.latitude, p.longitude, acc), &rule);
            match v {
                GeofenceVerdict::Inside {
                    distance_outside_m, ..
                } if inside => assert!((distance_outside_m - expect).abs() < 1e-6),
                GeofenceVerdict::Outside { distance_m, .. } if !inside => {
                    assert!((distance_m - expect).abs() < 1e-6, "{distance_m}")
                }
                v => panic!("{bearing} {dist}: {v:?}"),
            }
        }
    }

    #[test]
    fn polygon_hole_is_outside_with_distance_to_hole_edge() {
        // 0.002° square with a 0.0008° square hole in the middle, just south of the equator.
        let outer = rect(109.3400, -0.0030, 109.3420, -0.0010);
        let hole = rect(109.3406, -0.0024, 109.3414, -0.0016);
        let idx = GeofenceIndex::new(vec![office(
            "o",
            "Kantor",
            vec![polygon("z", vec![outer, hole])],
        )])
        .unwrap();
        let rule = GeofenceRule::default();
        // Centre of the hole: 0.0004° from every hole edge.
        let centre = LatLon::new(-0.0020, 109.3410);
        let v = idx.locate(&fix(centre.latitude, centre.longitude, 5.0), &rule);
        // Nearest are the hole's north and south edges: 0.0004° of latitude is shorter
        // than 0.0004° of longitude at the equator.
        let expect = geodesic_distance_m(centre, LatLon::new(-0.0016, 109.3410));
        assert!(expect < geodesic_distance_m(centre, LatLon::new(-0.0020, 109.3414)));
        match v {
            GeofenceVerdict::Outside { distance_m, .. } => {
                assert!(
                    (distance_m - expect).abs() < 0.01,
                    "{distance_m} vs {expect}"
                );
                assert!((40.0..50.0).contains(&distance_m));
            }
            v => panic!("{v:?}"),
        }
        // In the hole 8 m from its edge, 15 m fix: accepted by the grace rule.
        let p = dest(LatLon::new(-0.0020, 109.3414), 270.0, 8.0);
        match idx.locate(&fix(p.latitude, p.longitude, 15.0), &rule) {
            GeofenceVerdict::Inside {
                distance_outside_m, ..
            } => assert!((distance_outside_m - 8.0).abs() < 0.05),
            v => panic!("{v:?}"),
        }
        // Between hole and outer edge: inside.
        assert!(idx.locate(&fix(-0.0012, 109.3410, 5.0), &rule).is_inside());
        assert_eq!(
            idx.distance_to_office_m("o", LatLon::new(-0.0012, 109.3410)),
            Some(0.0)
        );
        assert_eq!(idx.distance_to_office_m("x", centre), None);
        assert_eq!(
            idx.distance_to_office_m("o", LatLon::new(f64::NAN, 0.0)),
            None
        );
    }

    #[test]
    fn nearest_bbox_is_not_nearest_zone() {
        // A thin diagonal strip whose box contains the point, and a small circle just
        // outside that box that is much nearer to the point than the strip is.
        let strip = vec![
            [110.000, -7.000],
            [110.100, -6.900],
            [110.1005, -6.9005],
            [110.0005, -7.0005],
            [110.000, -7.000],
        ];
        let p = LatLon::new(-6.901, 110.001); // top-left corner of the strip's box
        let c = dest(p, 270.0, 600.0); // 600 m west, outside the box
        let idx = GeofenceIndex::new(vec![
            office("strip", "Kantor Strip", vec![polygon("s", vec![strip])]),
            office(
                "dot",
                "Kantor Dot",
                vec![circle("c", c.latitude, c.longitude, 50.0)],
            ),
        ])
        .unwrap();
        match idx.locate(
            &fix(p.latitude, p.longitude, 10.0),
            &GeofenceRule::default(),
        ) {
            GeofenceVerdict::Outside {
                nearest_office_id,
                distance_m,
                ..
            } => {
                assert_eq!(nearest_office_id, "dot");
                assert!((distance_m - 550.0).abs() < 1e-3, "{distance_m}");
            }
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn nearest_office_among_many_and_locate_in() {
        let mut offices = Vec::new();
        for i in 0..20 {
            for j in 0..20 {
                let lat = -8.0 + i as f64 * 0.05;
                let lon = 112.0 + j as f64 * 0.05;
                offices.push(office(
                    &format!("o{i}-{j}"),
                    &format!("Kantor {i}-{j}"),
                    vec![circle("c", lat, lon, 80.0)],
                ));
            }
        }
        let idx = GeofenceIndex::new(offices).unwrap();
        let p = LatLon::new(-7.5012, 112.3013);
        let rule = GeofenceRule::default();
        match idx.locate(&fix(p.latitude, p.longitude, 10.0), &rule) {
            GeofenceVerdict::Outside {
                nearest_office_id,
                nearest_office_name,
                distance_m,
            } => {
                assert_eq!(nearest_office_id, "o10-6");
                assert_eq!(nearest_office_name, "Kantor 10-6");
                let expect = geodesic_distance_m(p, LatLon::new(-7.5, 112.3)) - 80.0;
                assert!((distance_m - expect).abs() < 1e-6);
            }
            v => panic!("{v:?}"),
        }
        // Restricted to the person's offices: the nearest of those.
        match idx.locate_in(
            &fix(p.latitude, p.longitude, 10.0),
            &["o0-0", "o19-19", "nope"],
            &rule,
        ) {
            GeofenceVerdict::Outside {
                nearest_office_id, ..
            } => assert_eq!(nearest_office_id, "o0-0"), // ~64 km, vs ~87 km
            v => panic!("{v:?}"),
        }
        // Inside an office that is not theirs is not inside.
        let f = fix(-7.5, 112.3, 10.0);
        assert!(idx.locate(&f, &rule).is_inside());
        assert!(idx.locate_in(&f, &["o10-6"], &rule).is_inside());
        assert_eq!(
            idx.locate_in(&f, &["o0-0"], &rule).code(),
            "GEOFENCE_OUTSIDE"
        );
        assert_eq!(
            idx.locate_in(&f, &["nope"], &rule),
            GeofenceVerdict::NoOffices
        );
        assert_eq!(idx.locate_in(&f, &[], &rule), GeofenceVerdict::NoOffices);
        // Far outside the province: still finds the nearest (growing search).
        let far = fix(-2.0, 120.0, 10.0);
        match idx.locate(&far, &rule) {
            GeofenceVerdict::Outside {
                nearest_office_id, ..
            } => assert_eq!(nearest_office_id, "o19-19"),
            v => panic!("{v:?}"),
        }
        assert_eq!(idx.offices().len(), 400);
        assert_eq!(idx.zone_count(), 400);
        assert_eq!(idx.office("o3-4").unwrap().name, "Kantor 3-4");
        assert!(idx.office("zzz").is_none());
    }

    #[test]
    fn overlapping_zones_pick_nearest_then_first() {
        let idx = GeofenceIndex::new(vec![
            office("a", "A", vec![circle("a1", -6.0, 106.0, 100.0)]),
            office(
                "b",
                "B",
                vec![
                    circle("b1", -6.0, 106.0, 100.0),
                    circle("b2", -6.0, 106.0, 500.0),
                ],
            ),
        ])
        .unwrap();
        match idx.locate(&fix(-6.0, 106.0, 5.0), &GeofenceRule::default()) {
            GeofenceVerdict::Inside {
                office_id, zone_id, ..
            } => assert_eq!((office_id.as_str(), zone_id.as_str()), ("a", "a1")),
            v => panic!("{v:?}"),
        }
        // 110 m from the centre: inside b2 (distance 0) beats the grace of a1 (10 m).
        let p = dest(LatLon::new(-6.0, 106.0), 0.0, 110.0);
        match idx.locate(
            &fix(p.latitude, p.longitude, 15.0),
            &GeofenceRule::default(),
        ) {
            GeofenceVerdict::Inside {
                office_id, zone_id, ..
            } => assert_eq!((office_id.as_str(), zone_id.as_str()), ("b", "b2")),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn no_offices_and_invalid_fixes() {
        let empty = GeofenceIndex::new(vec![]).unwrap();
        let rule = GeofenceRule::default();
        assert_eq!(
            empty.locate(&fix(0.0, 0.0, 5.0), &rule),
            GeofenceVerdict::NoOffices
        );
        let idx = kominfo();
        for f in [
            fix(f64::NAN, 106.0, 5.0),
            fix(-6.0, f64::INFINITY, 5.0),
            fix(91.0, 106.0, 5.0),
            fix(-6.0, 181.0, 5.0),
            fix(-6.1755, 106.8275, 0.0),
            fix(-6.1755, 106.8275, -1.0),
            fix(-6.1755, 106.8275, f64::NAN),
        ] {
            let v = idx.locate(&f, &rule);
            assert_eq!(
                v,
                GeofenceVerdict::TooInaccurate {
                    accuracy_m: f64::MAX,
                    limit_m: 50.0
                }
            );
            assert_eq!(
                v.staff_message(),
                "Lokasi GPS tidak valid. Tunggu sebentar lalu coba lagi."
            );
            assert!(idx.try_locate(&f, &rule).is_err());
            assert!(!idx.locate_in(&f, &["kominfo"], &rule).is_inside());
        }
        assert!(
            idx.try_locate(&fix(-6.1755, 106.8275, 5.0), &rule)
                .unwrap()
                .is_inside()
        );
    }

    #[test]
    fn staff_messages_in_indonesian() {
        let v = GeofenceVerdict::Outside {
            nearest_office_id: "kominfo".into(),
            nearest_office_name: "Kantor Dinas Kominfo".into(),
            distance_m: 240.4,
        };
        assert_eq!(
            v.staff_message(),
            "Anda berada 240 m dari Kantor Dinas Kominfo."
        );
        let v = GeofenceVerdict::TooInaccurate {
            accuracy_m: 300.0,
            limit_m: 50.0,
        };
        assert!(
            v.staff_message()
                .starts_with("Akurasi GPS 300 m melebihi batas 50 m.")
        );
        assert_eq!(format_distance_id(0.2), "0 m");
        assert_eq!(format_distance_id(999.4), "999 m");
        assert_eq!(format_distance_id(999.6), "1,0 km");
        assert_eq!(format_distance_id(1234.0), "1,2 km");
        assert_eq!(format_distance_id(135_400.0), "135 km");
        assert_eq!(format_distance_id(f64::NAN), "? m");
        assert!(
            GeofenceVerdict::NoOffices
                .staff_message()
                .contains("Belum ada kantor")
        );
    }

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

    #[test]
    fn index_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<GeofenceIndex>();
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

    // ------------------------------------------------------------------------------
    // Index against brute force.

    /// splitmix64: a tiny deterministic generator for test data.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
        fn range(&mut self, lo: f64, hi: f64) -> f64 {
            lo + (hi - lo) * self.unit()
        }
    }

    /// 10,000 zones over a 3° x 3° province straddling the equator: circles and
    /// star-shaped polygons (some with a hole), 1–3 zones per office, varying limits.
    fn province() -> &'static GeofenceIndex {
        static INDEX: OnceLock<GeofenceIndex> = OnceLock::new();
        INDEX.get_or_init(|| {
            let mut rng = Rng(42);
            let mut offices = Vec::new();
            let mut zones_total = 0;
            while zones_total < 10_000 {
                let n = (1 + rng.next() % 3).min(10_000 - zones_total as u64) as usize;
                let clat = rng.range(-1.5, 1.5);
                let clon = rng.range(100.0, 103.0);
                let mut zones = Vec::new();
                for k in 0..n {
                    let c = LatLon::new(
                        clat + rng.range(-0.003, 0.003),
                        clon + rng.range(-0.003, 0.003),
                    );
                    let id = format!("z{k}");
                    if rng.unit() < 0.5 {
                        zones.push(circle(&id, c.latitude, c.longitude, rng.range(20.0, 300.0)));
                    } else {
                        let verts = 3 + (rng.next() % 6) as usize;
                        let mut ring = Vec::new();
                        let mut hole = Vec::new();
                        for v in 0..verts {
                            let ang = (v as f64 + rng.range(0.1, 0.9)) / verts as f64 * 360.0;
                            let r = rng.range(60.0, 300.0);
                            let q = dest(c, ang, r);
                            ring.push([q.longitude, q.latitude]);
                            let h = dest(c, ang, 10.0);
                            hole.push([h.longitude, h.latitude]);
                        }
                        ring.push(ring[0]);
                        hole.push(hole[0]);
                        // A hole only where it surely fits: 6+ vertices at >= 60 m keep
                        // every edge > 50 m from the centre; the hole is 10 m across.
                        let rings = if verts >= 6 && rng.unit() < 0.4 {
                            vec![ring, hole]
                        } else {
                            vec![ring]
                        };
                        zones.push(polygon(&id, rings));
                    }
                }
                zones_total += n;
                let mut o = office(&format!("o{}", offices.len()), "O", zones);
                o.max_accuracy_m = [30.0, 50.0, 100.0][(rng.next() % 3) as usize];
                offices.push(o);
            }
            GeofenceIndex::new(offices).unwrap()
        })
    }

    /// The rule applied by looking at every zone, without the R-tree. To keep debug
    /// test time short, the exact distance is skipped for zones whose cheap lower
    /// bound already rules them out (those bounds are checked on their own by
    /// `estimates_are_within_their_bounds`).
    fn brute_force(idx: &GeofenceIndex, f: &GpsFix, rule: &GeofenceRule) -> GeofenceVerdict {
        let p = f.position();
        let a = f.accuracy_m;
        let g = grace(a, rule);
        let bounds: Vec<Bounds> = idx.zones.iter().map(|z| z.bounds(p)).collect();
        let min_hi = bounds.iter().map(|b| b.hi).fold(f64::INFINITY, f64::min);
        let mut inside: Option<(f64, usize)> = None;
        let mut nearest: Option<(f64, usize)> = None;
        for (zi, z) in idx.zones.iter().enumerate() {
            if bounds[zi].lo > min_hi.max(g) {
                continue;
            }
            let d = z.exact_distance(p);
            if a <= idx.offices[z.office].max_accuracy_m && d <= g && better((d, zi), inside) {
                inside = Some((d, zi));
            }
            if better((d, zi), nearest) {
                nearest = Some((d, zi));
            }
        }
        match inside {
            Some((d, zi)) => idx.inside_verdict(d, zi),
            None => idx.outside_verdict(a, nearest),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]

        #[test]
        fn index_matches_brute_force(
            zone in 0usize..10_000,
            bearing in 0.0f64..360.0,
            log_dist in -1.0f64..4.5,
            accuracy in prop_oneof![1.0f64..60.0, 60.0f64..400.0],
            far in prop::bool::weighted(0.1),
        ) {
            let idx = province();
            let z = &idx.zones[zone];
            let base = match &z.geom {
                Geom::Circle { center, .. } => *center,
                Geom::Polygon { polygon } => {
                    let c = polygon.exterior().0[0];
                    LatLon::new(c.y, c.x)
                }
            };
            let dist = if far { 200_000.0 } else { 10f64.powf(log_dist) };
            let p = dest(base, bearing, dist);
            let f = fix(p.latitude, p.longitude, accuracy);
            let rule = GeofenceRule::default();
            prop_assert_eq!(idx.locate(&f, &rule), brute_force(idx, &f, &rule));
        }
    }

    proptest! {

        #[test]
        fn geodesic_is_symmetric_and_zero_on_itself(
            lat1 in -11.0f64..6.0, lon1 in 95.0f64..141.0,
            lat2 in -11.0f64..6.0, lon2 in 95.0f64..141.0,
        ) {
            let a = LatLon::new(lat1, lon1);
            let b = LatLon::new(lat2, lon2);
            let ab = geodesic_distance_m(a, b);
            let ba = geodesic_distance_m(b, a);
            prop_assert!((ab - ba).abs() <= 1e-9 * ab.max(1.0));
            prop_assert_eq!(geodesic_distance_m(a, a), 0.0);
            prop_assert!(ab >= 0.0);
        }

        /// The local-plane estimates stay inside the bounds the index relies on.
        #[test]
        fn estimates_are_within_their_bounds(
            lat in -60.0f64..60.0, lon in -179.0f64..179.0,
            bearing in 0.0f64..360.0, log_dist in -1.0f64..4.47,
            seg_bearing in 0.0f64..360.0, seg_len in 1.0f64..3000.0,
        ) {
            let p = LatLon::new(lat, lon);
            let q = dest(p, bearing, 10f64.powf(log_dist));
            if q.latitude.abs() > 60.0 {
                return Ok(());
            }
            let exact = geodesic_distance_m(p, q);
            let est = approx_distance_m(p, q);
            let (lo, hi) = bounds_from_estimate(lat, est);
            prop_assert!(lo <= exact && exact <= hi, "{est} vs {exact}");
            // A triangle with one vertex at q, evaluated from p.
            let r = dest(q, seg_bearing, seg_len);
            let s = dest(q, seg_bearing + 100.0, seg_len);
            let zone = polygon("t", vec![vec![
                [q.longitude, q.latitude], [r.longitude, r.latitude],
                [s.longitude, s.latitude], [q.longitude, q.latitude],
            ]]);
            if let Ok(pz) = PreparedZone::new(0, 0, &zone) {
                let b = pz.bounds(p);
                let d = pz.exact_distance(p);
                prop_assert!(b.lo <= d && d <= b.hi, "{b:?} vs {d}");
                prop_assert!(pz.envelope_lower_bound(p) <= d);
                prop_assert!(d <= pz.cheap_upper_bound(p));
            }
            let zone = circle("c", q.latitude, q.longitude, seg_len);
            if let Ok(pz) = PreparedZone::new(0, 0, &zone) {
                let b = pz.bounds(p);
                let d = pz.exact_distance(p);
                prop_assert!(b.lo <= d && d <= b.hi, "{b:?} vs {d}");
                prop_assert!(pz.envelope_lower_bound(p) <= d);
                prop_assert!(d <= pz.cheap_upper_bound(p));
            }
        }
    }
}
