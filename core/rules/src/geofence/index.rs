//! [`GeofenceIndex`]: all offices' zones, validated once, behind an R-tree, and the
//! searches the accuracy rule (`verdict.rs`) is built on.
//!
//! The index is built once from the offices (a whole province: thousands of zones) and
//! answers through an R-tree (`rstar`, the version `geo` itself uses) of the zones'
//! longitude/latitude bounding boxes. The inside test queries the boxes within the grace
//! distance of the point ([`GeofenceIndex::zones_near`]). The nearest-office search
//! seeds a radius from the zone whose box is nearest (an upper bound of the true nearest
//! distance), queries the boxes within that radius, and returns only once the best
//! distance found is within the searched radius (growing it if not), so it is correct
//! even when the nearest box is not the nearest zone. Local-plane estimates with a
//! property-tested error bound decide most cases cheaply; the exact geodesic distance is
//! computed wherever an estimate could change the answer, and every reported distance is
//! exact.

use std::collections::HashMap;
use std::ops::Range;

use rstar::{AABB, PointDistance, RTree, RTreeObject};

use super::distance::{Bounds, PreparedZone};
use super::plane::search_boxes;
use super::zone::validate_office;
use super::{GeofenceError, LatLon, Office, validate_coordinates};

/// All offices of a deployment (up to a whole province or more), validated and indexed
/// for fast lookups. Built once; cheap to share between threads (`Send + Sync`).
#[derive(Debug, Clone)]
pub struct GeofenceIndex {
    /// The offices, in the order given.
    pub(super) offices: Vec<Office>,
    /// Each office's position in `offices`, by id.
    pub(super) by_id: HashMap<String, usize>,
    /// Zones in office order, then zone order; the position is the tie-breaker.
    pub(super) zones: Vec<PreparedZone>,
    /// Each office's range in `zones`.
    pub(super) office_zones: Vec<Range<usize>>,
    /// The zones' boxes.
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

    /// Every zone whose box may hold a point within `r` metres of `p` (every zone when
    /// that reaches round the world), as positions in `zones`.
    pub(super) fn zones_near(&self, p: LatLon, r: f64) -> impl Iterator<Item = usize> + '_ {
        let boxes = search_boxes(p, r);
        let everywhere = if boxes.is_none() {
            0..self.zones.len()
        } else {
            0..0
        };
        boxes
            .into_iter()
            .flatten()
            .flat_map(|b| self.tree.locate_in_envelope_intersecting(&b))
            .map(|z| z.idx)
            .chain(everywhere)
    }

    /// The zone with the smallest (exact distance, position) among `candidates`.
    pub(super) fn nearest_among(
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
    pub(super) fn nearest_indexed(&self, p: LatLon) -> Option<(f64, usize)> {
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

/// Whether `candidate` (distance, zone position) beats `best`: nearer, or as near and
/// earlier.
pub(super) fn better(candidate: (f64, usize), best: Option<(f64, usize)>) -> bool {
    match best {
        None => true,
        Some((bd, bi)) => candidate.0 < bd || (candidate.0 == bd && candidate.1 < bi),
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

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use crate::geofence::verdict::grace;
    use crate::geofence::zone::Geom;
    use crate::geofence::{GeofenceRule, GeofenceVerdict, PositionEstimate, geodesic_distance_m};
    use proptest::prelude::*;
    use std::sync::OnceLock;

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
    fn index_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<GeofenceIndex>();
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
    fn brute_force(
        idx: &GeofenceIndex,
        f: &PositionEstimate,
        rule: &GeofenceRule,
    ) -> GeofenceVerdict {
        let p = f.point;
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
}
