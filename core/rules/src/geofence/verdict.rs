//! The verdict: [`GeofenceVerdict`] for a position, by the accuracy rule below, with
//! its tunable part [`GeofenceRule`] and the Indonesian messages staff see.
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
//! The default office limit [`DEFAULT_MAX_ACCURACY_M`](super::DEFAULT_MAX_ACCURACY_M) is 50 m: a fused fix under open
//! sky is 3–15 m and indoors in a concrete office usually 15–40 m (Wi-Fi assisted), so
//! 50 m accepts staff checking in at their desks; a 100 m circle is wider than a typical
//! kantor dinas compound (50–150 m across) and so says nothing about being inside it.

use super::index::better;
use super::{GeofenceError, GeofenceIndex, LatLon, Positioned};
use serde::{Deserialize, Serialize};

/// Default [`GeofenceRule::accuracy_grace_cap_m`]: the most a fix's accuracy radius may
/// stretch a zone.
pub const DEFAULT_ACCURACY_GRACE_CAP_M: f64 = 20.0;

/// Tunable parts of the accuracy rule (summarised in the [`geofence`](super) docs, in
/// full in `geofence/verdict.rs`).
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

/// The grace a fix of accuracy `accuracy_m` gets: its accuracy, capped by the rule (a
/// negative or NaN cap means none).
pub(super) fn grace(accuracy_m: f64, rule: &GeofenceRule) -> f64 {
    let cap = if rule.accuracy_grace_cap_m.is_nan() {
        0.0
    } else {
        rule.accuracy_grace_cap_m.max(0.0)
    };
    accuracy_m.min(cap)
}

impl GeofenceIndex {
    /// Where is this fix, among all offices? By the accuracy rule (summarised in the
    /// [`geofence`](super) docs, in full in `geofence/verdict.rs`). An invalid fix is
    /// never inside: it comes back as
    /// [`GeofenceVerdict::TooInaccurate`] with `accuracy_m = f64::MAX`.
    pub fn locate<F: Positioned + ?Sized>(&self, fix: &F, rule: &GeofenceRule) -> GeofenceVerdict {
        if self.zones.is_empty() {
            return GeofenceVerdict::NoOffices;
        }
        let estimate = fix.position_estimate();
        if estimate.validate().is_err() {
            return self.invalid_fix_verdict(0..self.offices.len());
        }
        let p = estimate.point;
        let a = estimate.accuracy_m;
        let g = grace(a, rule);
        if let Some((d, zi)) = self.best_inside(p, a, g, self.zones_near(p, g)) {
            return self.inside_verdict(d, zi);
        }
        let nearest = self.nearest_indexed(p);
        self.outside_verdict(a, nearest)
    }

    /// Like [`GeofenceIndex::locate`] but only among the given offices (the ones a
    /// person belongs to). Unknown ids are ignored; if none is known the verdict is
    /// [`GeofenceVerdict::NoOffices`].
    pub fn locate_in<F: Positioned + ?Sized>(
        &self,
        fix: &F,
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
        let estimate = fix.position_estimate();
        if estimate.validate().is_err() {
            return self.invalid_fix_verdict(offices.iter().copied());
        }
        let p = estimate.point;
        let a = estimate.accuracy_m;
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
    pub fn try_locate<F: Positioned + ?Sized>(
        &self,
        fix: &F,
        rule: &GeofenceRule,
    ) -> Result<GeofenceVerdict, GeofenceError> {
        fix.position_estimate().validate()?;
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

    pub(super) fn inside_verdict(&self, d: f64, zi: usize) -> GeofenceVerdict {
        let z = &self.zones[zi];
        let office = &self.offices[z.office];
        GeofenceVerdict::Inside {
            office_id: office.id.clone(),
            office_name: office.name.clone(),
            zone_id: office.zones[z.zone].id.clone(),
            distance_outside_m: d,
        }
    }

    pub(super) fn outside_verdict(&self, a: f64, nearest: Option<(f64, usize)>) -> GeofenceVerdict {
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
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use crate::geofence::{DEFAULT_MAX_ACCURACY_M, GeofenceIndex, geodesic_distance_m};

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
}
