//! [`GeofenceError`]: why offices, zones or a fix were refused, each with a stable
//! machine code and an Indonesian message an admin can act on.

use super::MAX_RADIUS_M;

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
