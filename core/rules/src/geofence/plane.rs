//! The local tangent plane: where distances are estimated cheaply, and how far those
//! estimates can be trusted.
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
//!
//! The same plane gives distance estimates with a property-tested error bound
//! ([`bounds_from_estimate`]), which decide most index queries cheaply; and
//! [`search_boxes`] turns "within r metres" into longitude/latitude boxes for the R-tree.

use rstar::AABB;

use super::{LatLon, geodesic_distance_m};

/// Geodesic distance in metres from `point` to the edge `a`–`b`, the edge being a
/// straight line in longitude/latitude as in GeoJSON. The nearest point of the edge is
/// found in the local tangent plane of `point` (see `geofence/plane.rs`); the distance to
/// it is geodesic.
pub fn distance_to_segment_m(point: LatLon, a: LatLon, b: LatLon) -> f64 {
    let plane = LocalPlane::at(point);
    let (_, t) = plane.segment([a.longitude, a.latitude], [b.longitude, b.latitude]);
    geodesic_distance_m(point, lerp(a, b, t))
}

pub(super) const WGS84_A: f64 = 6_378_137.0;
const WGS84_F: f64 = 1.0 / 298.257_223_563;

/// Absolute margin added to local-plane error bounds, metres.
pub(super) const APPROX_ABS_M: f64 = 0.05;
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
pub(super) struct LocalPlane {
    lat0: f64,
    lon0: f64,
    ky: f64,
    kx: f64,
}

impl LocalPlane {
    pub(super) fn at(p: LatLon) -> Self {
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
    pub(super) fn segment(&self, a: [f64; 2], b: [f64; 2]) -> (f64, f64) {
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
pub(super) fn approx_distance_m(a: LatLon, b: LatLon) -> f64 {
    let (ky, kx) = metres_per_degree((a.latitude + b.latitude) * 0.5);
    let dx = wrap180(b.longitude - a.longitude) * kx;
    let dy = (b.latitude - a.latitude) * ky;
    (dx * dx + dy * dy).sqrt()
}

/// Whether an estimate `d` at latitude `lat` is within the documented error bound.
pub(super) fn approx_usable(lat: f64, d: f64) -> bool {
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
pub(super) fn approx_rel_error(lat: f64, d: f64) -> f64 {
    let x = d / 6_300_000.0;
    2.0 * (lat.abs().to_radians() + x).tan() * x + 0.05 * x + 10.0 * x * x + 1e-7
}

/// Lower and upper bounds of a true distance, given an estimate `d` made at latitude
/// `lat`.
pub(super) fn bounds_from_estimate(lat: f64, d: f64) -> (f64, f64) {
    let e = approx_rel_error(lat, d);
    (
        (d * (1.0 - e) - APPROX_ABS_M).max(0.0),
        d * (1.0 + e) + APPROX_ABS_M,
    )
}

/// A conservative lon/lat box around `p` containing every point within `r` metres
/// (geodesic), as one or two boxes (two when it wraps over ±180°), or `None` when it
/// covers the whole world.
pub(super) fn search_boxes(p: LatLon, r: f64) -> Option<Vec<AABB<[f64; 2]>>> {
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
