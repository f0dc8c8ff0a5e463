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
//! What is judged is a [`PositionEstimate`]: a point and the radius of its accuracy
//! circle. A phone's [`crate::fix::GpsFix`] is one (it implements [`Positioned`]); this
//! module knows nothing else of fixes, so `fix` depends on `geofence` and never the
//! other way round.
//!
//! # The accuracy rule, in short
//!
//! A fix is inside a zone when its accuracy is within the office's limit
//! ([`Office::max_accuracy_m`], default [`DEFAULT_MAX_ACCURACY_M`]) and its point is at
//! most `min(accuracy, `[`GeofenceRule::accuracy_grace_cap_m`]`)` metres outside the zone.
//! Near an office but too inaccurate to tell is [`GeofenceVerdict::TooInaccurate`];
//! anything else is [`GeofenceVerdict::Outside`] with the distance to the nearest
//! office. The reasoning, with examples, is in `verdict.rs`.
//!
//! # Where things are
//!
//! | file | what it holds |
//! |---|---|
//! | `position.rs` | [`LatLon`], [`PositionEstimate`] and [`Positioned`], coordinate validation, geodesic distance between two points |
//! | `zone.rs` | [`Office`], [`Zone`], [`ZoneShape`] and their validation into a checked shape |
//! | `error.rs` | [`GeofenceError`]: codes and Indonesian messages for admins |
//! | `plane.rs` | the local tangent plane: cheap distance estimates with proven error bounds, search boxes, [`distance_to_segment_m`] |
//! | `distance.rs` | the distance from a point to one checked zone: bounds and the exact value |
//! | `index.rs` | [`GeofenceIndex`]: the R-tree over all zones and the nearest-zone search |
//! | `verdict.rs` | [`GeofenceRule`], [`GeofenceVerdict`] and the accuracy rule ([`GeofenceIndex::locate`]) |
//!
//! All distances are geodesic distances on WGS84 in metres ([`geodesic_distance_m`],
//! Karney's algorithm through `geo`'s `Geodesic` metric space, checked in
//! `core/rules/tests/geodesic_reference.rs` against GeographicLib to 0.1 m).

mod distance;
mod error;
mod index;
mod plane;
mod position;
mod verdict;
mod zone;

#[cfg(test)]
mod test_support;

pub use error::GeofenceError;
pub use index::GeofenceIndex;
pub use plane::distance_to_segment_m;
pub use position::{
    LatLon, PositionEstimate, Positioned, geodesic_distance_m, validate_coordinates,
};
pub use verdict::{
    DEFAULT_ACCURACY_GRACE_CAP_M, GeofenceRule, GeofenceVerdict, format_distance_id,
};
pub use zone::{DEFAULT_MAX_ACCURACY_M, MAX_RADIUS_M, Office, Zone, ZoneShape};
