//! The distance from a point to one checked zone, three ways: [`Bounds`] from the
//! local-plane estimate (cheap, with a proven error margin), a cheap upper bound and a
//! lower bound from the zone's box alone (cheaper still, for pruning), and the exact
//! geodesic distance that every reported number comes from.
//!
//! A circle's distance is the geodesic distance to its centre minus the radius (0
//! inside). A polygon's is 0 inside or on the boundary; outside (or in a hole) it is the
//! geodesic distance to the nearest boundary point, found in the local plane as
//! `plane.rs` explains.

use geo::coordinate_position::CoordPos;
use geo::{Coord, CoordinatePosition, LineString, Polygon};
use rstar::AABB;

use super::plane::{
    APPROX_ABS_M, LocalPlane, WGS84_A, approx_distance_m, approx_rel_error, approx_usable,
    bounds_from_estimate,
};
use super::zone::{Geom, prepare_shape};
use super::{GeofenceError, LatLon, Zone, geodesic_distance_m};

/// A validated zone ready for distance queries, with where it came from (its office's
/// position and its own position in that office) and its longitude/latitude box.
#[derive(Debug, Clone)]
pub(super) struct PreparedZone {
    /// Position of its office in the index's office list.
    pub(super) office: usize,
    /// Position of the zone in its office's zone list.
    pub(super) zone: usize,
    /// The checked shape.
    pub(super) geom: Geom,
    /// Its longitude/latitude box.
    pub(super) envelope: AABB<[f64; 2]>,
}

/// Bounds on the distance from a point to a zone; `lo == hi` when exact.
#[derive(Debug, Clone, Copy)]
pub(super) struct Bounds {
    /// The distance is at least this.
    pub(super) lo: f64,
    /// The distance is at most this.
    pub(super) hi: f64,
    /// Whether `lo` is the exact distance.
    pub(super) exact: bool,
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
    pub(super) fn new(office: usize, zone_idx: usize, zone: &Zone) -> Result<Self, GeofenceError> {
        let (geom, envelope) = prepare_shape(zone)?;
        Ok(Self {
            office,
            zone: zone_idx,
            geom,
            envelope,
        })
    }

    /// Cheap bounds on the distance from `p`.
    pub(super) fn bounds(&self, p: LatLon) -> Bounds {
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
    pub(super) fn cheap_upper_bound(&self, p: LatLon) -> f64 {
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
    pub(super) fn envelope_lower_bound(&self, p: LatLon) -> f64 {
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
    pub(super) fn exact_distance(&self, p: LatLon) -> f64 {
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

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use proptest::prelude::*;

    proptest! {
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
