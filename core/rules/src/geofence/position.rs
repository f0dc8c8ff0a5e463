//! Points on the WGS84 ellipsoid: [`LatLon`], the [`PositionEstimate`] the geofence
//! judges (a point and its accuracy radius), the [`Positioned`] trait through which a
//! phone's fix is judged without this module knowing what a fix is, coordinate
//! validation, and the geodesic distance between two points.

use std::fmt;

use geo::{Distance, Geodesic, Point};
use serde::{Deserialize, Serialize};

use super::GeofenceError;

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

impl fmt::Display for LatLon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.6}, {:.6}", self.latitude, self.longitude)
    }
}

/// What the geofence judges: a point and the horizontal accuracy radius around it in
/// metres (68 % confidence on Android), as a phone's location service reports them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PositionEstimate {
    /// The reported point.
    pub point: LatLon,
    /// The accuracy radius in metres (> 0 when valid).
    pub accuracy_m: f64,
}

impl PositionEstimate {
    /// Checks the estimate: coordinates finite and in range, accuracy finite and > 0.
    pub fn validate(&self) -> Result<(), GeofenceError> {
        validate_coordinates(self.point.latitude, self.point.longitude)?;
        if !(self.accuracy_m.is_finite() && self.accuracy_m > 0.0) {
            return Err(GeofenceError::InvalidAccuracy {
                accuracy_m: self.accuracy_m,
            });
        }
        Ok(())
    }
}

/// Anything the geofence can judge: it has a [`PositionEstimate`]. A phone's
/// [`crate::fix::GpsFix`] is the one the app uses; the geofence needs nothing else of
/// it, which keeps `geofence` free of any dependency on `fix`.
pub trait Positioned {
    /// The point and accuracy radius to judge.
    fn position_estimate(&self) -> PositionEstimate;
}

impl Positioned for PositionEstimate {
    fn position_estimate(&self) -> PositionEstimate {
        *self
    }
}

/// So that `&&GpsFix` (as a closure over `iter()` hands it out) works as well.
impl<T: Positioned + ?Sized> Positioned for &T {
    fn position_estimate(&self) -> PositionEstimate {
        (**self).position_estimate()
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn geodesic_distance_known_value() {
        // geo's own documented value (Sofia - Plovdiv), to check the wiring.
        let d = geodesic_distance_m(
            LatLon::new(42.698334, 23.319941),
            LatLon::new(42.136097, 24.742168),
        );
        assert!((d - 132_675.501_858_820_6).abs() < 1e-6);
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
    }
}
