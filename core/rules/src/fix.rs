//! A GPS fix as the phone's location service reports it, and the checks that decide
//! whether a fix can be believed at all (mock location, staleness, accuracy, impossible
//! travel since the previous fix).
//!
//! `fix` builds on `geofence` (positions, distances, the office's accuracy limit) and
//! never the other way round: the geofence judges a fix through [`Positioned`].

use crate::geofence::{
    DEFAULT_MAX_ACCURACY_M, GeofenceError, GeofenceIndex, GeofenceVerdict, LatLon,
    PositionEstimate, Positioned, format_distance_id, geodesic_distance_m,
};
use serde::{Deserialize, Serialize};

/// Which location provider produced a fix, as the platform reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FixProvider {
    /// Satellite receiver.
    Gps,
    /// Cell towers / Wi-Fi.
    Network,
    /// The platform's fused provider (Android FusedLocationProvider, iOS Core Location).
    Fused,
    /// Anything else, or not reported.
    Unknown,
}

/// One position reading from the phone. Coordinates are WGS84 degrees; the accuracy is
/// the platform's horizontal accuracy radius in metres (68 % confidence on Android).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpsFix {
    /// Latitude in degrees, -90..=90.
    pub latitude: f64,
    /// Longitude in degrees, -180..=180.
    pub longitude: f64,
    /// Horizontal accuracy radius in metres (> 0).
    pub accuracy_m: f64,
    /// When the fix was taken, Unix milliseconds UTC, on the device's trusted timeline.
    pub fix_time_ms: i64,
    /// Which provider produced it.
    pub provider: FixProvider,
    /// The operating system's mock-location flag (Android `Location.isMock`, iOS
    /// `CLLocationSourceInformation.isSimulatedBySoftware`).
    pub is_mock: bool,
}

/// A fix time may run ahead of "now" by this much before it is flagged as
/// [`FixIssue::InFuture`]: the GNSS time in a fix and the corrected device clock can
/// disagree by a few seconds.
pub const FUTURE_TOLERANCE_S: u32 = 30;

/// Limits for believing a fix.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct FixPolicy {
    /// Oldest acceptable fix, in seconds before "now" (default 120).
    pub max_fix_age_s: u32,
    /// Accuracy limit in metres used when the office gives no usable limit (default
    /// [`DEFAULT_MAX_ACCURACY_M`], 50 m).
    pub max_accuracy_m: f64,
    /// Fastest believable travel between two fixes, km/h (default 250: faster than any
    /// road or train journey in Indonesia, slower than a flight, which no one takes
    /// between two check-ins of a working day).
    pub max_speed_kmh: f64,
}

impl Default for FixPolicy {
    fn default() -> Self {
        Self {
            max_fix_age_s: 120,
            max_accuracy_m: DEFAULT_MAX_ACCURACY_M,
            max_speed_kmh: 250.0,
        }
    }
}

/// One reason not to believe a fix. Each has a stable [`FixIssue::code`] and an
/// Indonesian [`FixIssue::staff_message`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FixIssue {
    /// The operating system flagged the fix as coming from a mock-location provider.
    MockLocation,
    /// The fix is older than the policy allows.
    Stale {
        /// Seconds between the fix and now.
        age_s: f64,
        /// The policy's limit.
        limit_s: u32,
    },
    /// The fix is timestamped later than now (beyond [`FUTURE_TOLERANCE_S`]): a wrong or
    /// manipulated clock, or a fabricated fix.
    InFuture {
        /// Seconds the fix is ahead of now.
        ahead_s: f64,
        /// The tolerance.
        limit_s: u32,
    },
    /// The accuracy radius is worse (larger) than the limit.
    Inaccurate {
        /// The fix's accuracy radius, metres.
        accuracy_m: f64,
        /// The limit, metres.
        limit_m: f64,
    },
    /// Getting here from the previous fix would need an impossible speed. `distance_m`
    /// is the distance between the fixes minus both accuracy radii; when both fixes
    /// have the same time, `elapsed_s` is 0 and `speed_kmh` is `f64::MAX`.
    ImpossibleTravel {
        /// Metres between the two fixes beyond both accuracy radii.
        distance_m: f64,
        /// Seconds between the two fixes (absolute).
        elapsed_s: f64,
        /// The implied speed.
        speed_kmh: f64,
        /// The policy's limit.
        limit_kmh: f64,
    },
    /// The fix itself is malformed (coordinates out of range or not finite, accuracy
    /// not > 0); no other check is made.
    InvalidFix {
        /// The validation error's code, e.g. `GEOFENCE_INVALID_COORDINATE`.
        error_code: String,
    },
}

impl FixIssue {
    /// Stable machine code: `FIX_MOCK_LOCATION`, `FIX_STALE`, `FIX_IN_FUTURE`,
    /// `FIX_INACCURATE`, `FIX_IMPOSSIBLE_TRAVEL` or `FIX_INVALID`.
    pub fn code(&self) -> &'static str {
        match self {
            FixIssue::MockLocation => "FIX_MOCK_LOCATION",
            FixIssue::Stale { .. } => "FIX_STALE",
            FixIssue::InFuture { .. } => "FIX_IN_FUTURE",
            FixIssue::Inaccurate { .. } => "FIX_INACCURATE",
            FixIssue::ImpossibleTravel { .. } => "FIX_IMPOSSIBLE_TRAVEL",
            FixIssue::InvalidFix { .. } => "FIX_INVALID",
        }
    }

    /// Whether the issue refuses the check-in (true) or only flags it for review
    /// (false). Only impossible travel flags: the previous fix may itself have been
    /// the wrong one. Phone and server both decide through this.
    pub fn rejects(&self) -> bool {
        Self::code_rejects(self.code())
    }

    /// [`FixIssue::rejects`] for an issue known only by its [`FixIssue::code`] (as the
    /// phone stores them). An unknown code rejects.
    pub fn code_rejects(code: &str) -> bool {
        code != "FIX_IMPOSSIBLE_TRAVEL"
    }

    /// What to tell the staff member, in Indonesian.
    pub fn staff_message(&self) -> String {
        match self {
            FixIssue::MockLocation => "Lokasi palsu (mock location) terdeteksi. Matikan \
                aplikasi pengubah lokasi lalu coba lagi."
                .to_string(),
            FixIssue::Stale { age_s, limit_s } => format!(
                "Lokasi GPS sudah terlalu lama ({} detik, batas {limit_s} detik). Tunggu \
                 lokasi terbaru lalu coba lagi.",
                age_s.round() as i64
            ),
            FixIssue::InFuture { ahead_s, .. } => format!(
                "Waktu lokasi GPS {} detik lebih maju dari waktu server. Periksa jam \
                 ponsel lalu coba lagi.",
                ahead_s.round() as i64
            ),
            FixIssue::Inaccurate {
                accuracy_m,
                limit_m,
            } => format!(
                "Akurasi GPS {} melebihi batas {}. Pindah ke tempat terbuka atau tunggu \
                 sebentar lalu coba lagi.",
                format_distance_id(*accuracy_m),
                format_distance_id(*limit_m)
            ),
            FixIssue::ImpossibleTravel {
                distance_m,
                elapsed_s,
                limit_kmh,
                speed_kmh,
            } => {
                if *elapsed_s <= 0.0 {
                    format!(
                        "Perpindahan lokasi tidak wajar: dua lokasi berjarak {} pada waktu \
                         yang sama.",
                        format_distance_id(*distance_m)
                    )
                } else {
                    format!(
                        "Perpindahan lokasi tidak wajar: {} dalam {} detik ({} km/jam, \
                         batas {} km/jam).",
                        format_distance_id(*distance_m),
                        elapsed_s.round() as i64,
                        speed_kmh.round() as i64,
                        limit_kmh.round() as i64
                    )
                }
            }
            FixIssue::InvalidFix { .. } => {
                "Data lokasi GPS tidak valid. Tunggu sebentar lalu coba lagi.".to_string()
            }
        }
    }
}

impl GpsFix {
    /// Checks the fix's data: coordinates finite and in range, accuracy finite and > 0.
    pub fn validate(&self) -> Result<(), GeofenceError> {
        self.position_estimate().validate()
    }

    /// The fix's position.
    pub fn position(&self) -> LatLon {
        LatLon::new(self.latitude, self.longitude)
    }
}

/// The geofence judges a fix by its point and accuracy radius.
impl Positioned for GpsFix {
    fn position_estimate(&self) -> PositionEstimate {
        PositionEstimate {
            point: self.position(),
            accuracy_m: self.accuracy_m,
        }
    }
}

/// The accuracy limit (metres) a fix is held to, given where the geofence placed it:
/// the limit of the office the verdict names (the office it is inside, or the nearest
/// one when outside), else `policy.max_accuracy_m` (too inaccurate, no offices, or an
/// office limit that is not a finite number > 0). The server applies this and the
/// phone predicts with it, so both hold a fix to the same limit.
pub fn accuracy_limit_m(
    verdict: &GeofenceVerdict,
    offices: &GeofenceIndex,
    policy: &FixPolicy,
) -> f64 {
    let office_id = match verdict {
        GeofenceVerdict::Inside { office_id, .. } => Some(office_id.as_str()),
        GeofenceVerdict::Outside {
            nearest_office_id, ..
        } => Some(nearest_office_id.as_str()),
        GeofenceVerdict::TooInaccurate { .. } | GeofenceVerdict::NoOffices => None,
    };
    office_id
        .and_then(|id| offices.office(id))
        .map(|o| o.max_accuracy_m)
        .filter(|m| m.is_finite() && *m > 0.0)
        .unwrap_or(policy.max_accuracy_m)
}

/// Every reason not to believe `fix`, in a fixed order (mock, time, accuracy, travel);
/// empty when it can be believed.
///
/// * `now_ms`: the current instant on the same timeline as `fix.fix_time_ms` (the
///   core's server-anchored time on the phone, the server's clock on the server).
/// * `accuracy_limit_m`: the office's limit ([`crate::geofence::Office::max_accuracy_m`]);
///   if it is not a finite number > 0, `policy.max_accuracy_m` is used.
/// * `previous`: the person's previous fix, for impossible travel. The distance
///   between the fixes minus both accuracy radii (so GPS jitter within the circles is
///   not travel) over the absolute time between them must not exceed
///   `policy.max_speed_kmh`. Fixes at the same instant are fine in the same place and
///   impossible travel in two places whose accuracy circles do not overlap. An invalid
///   previous fix is ignored.
///
/// An invalid `fix` yields only [`FixIssue::InvalidFix`].
pub fn check_fix(
    fix: &GpsFix,
    previous: Option<&GpsFix>,
    now_ms: i64,
    accuracy_limit_m: f64,
    policy: &FixPolicy,
) -> Vec<FixIssue> {
    if let Err(e) = fix.validate() {
        return vec![FixIssue::InvalidFix {
            error_code: e.code().to_string(),
        }];
    }
    let mut issues = Vec::new();
    if fix.is_mock {
        issues.push(FixIssue::MockLocation);
    }
    let age_s = (now_ms as f64 - fix.fix_time_ms as f64) / 1000.0;
    if age_s > f64::from(policy.max_fix_age_s) {
        issues.push(FixIssue::Stale {
            age_s,
            limit_s: policy.max_fix_age_s,
        });
    } else if -age_s > f64::from(FUTURE_TOLERANCE_S) {
        issues.push(FixIssue::InFuture {
            ahead_s: -age_s,
            limit_s: FUTURE_TOLERANCE_S,
        });
    }
    let limit_m = if accuracy_limit_m.is_finite() && accuracy_limit_m > 0.0 {
        accuracy_limit_m
    } else {
        policy.max_accuracy_m
    };
    if fix.accuracy_m > limit_m {
        issues.push(FixIssue::Inaccurate {
            accuracy_m: fix.accuracy_m,
            limit_m,
        });
    }
    if let Some(issue) = previous
        .filter(|p| p.validate().is_ok())
        .and_then(|prev| travel_issue(prev, fix, policy))
    {
        issues.push(issue);
    }
    issues
}

fn travel_issue(prev: &GpsFix, fix: &GpsFix, policy: &FixPolicy) -> Option<FixIssue> {
    let raw = geodesic_distance_m(prev.position(), fix.position());
    let distance_m = (raw - prev.accuracy_m - fix.accuracy_m).max(0.0);
    if distance_m <= 0.0 {
        return None;
    }
    let elapsed_s = (fix.fix_time_ms as f64 - prev.fix_time_ms as f64).abs() / 1000.0;
    let speed_kmh = if elapsed_s > 0.0 {
        distance_m / elapsed_s * 3.6
    } else {
        f64::MAX
    };
    (speed_kmh > policy.max_speed_kmh).then_some(FixIssue::ImpossibleTravel {
        distance_m,
        elapsed_s,
        speed_kmh,
        limit_kmh: policy.max_speed_kmh,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_717_200_000_000;

    fn fix(lat: f64, lon: f64, accuracy_m: f64, t: i64) -> GpsFix {
        GpsFix {
            latitude: lat,
            longitude: lon,
            accuracy_m,
            fix_time_ms: t,
            provider: FixProvider::Gps,
            is_mock: false,
        }
    }

    fn codes(issues: &[FixIssue]) -> Vec<&'static str> {
        issues.iter().map(|i| i.code()).collect()
    }

    #[test]
    fn only_impossible_travel_flags_every_other_issue_rejects() {
        let travel = FixIssue::ImpossibleTravel {
            distance_m: 5_000.0,
            elapsed_s: 10.0,
            speed_kmh: 1_800.0,
            limit_kmh: 250.0,
        };
        assert!(!travel.rejects());
        let rejecting = [
            FixIssue::MockLocation,
            FixIssue::Stale {
                age_s: 300.0,
                limit_s: 120,
            },
            FixIssue::InFuture {
                ahead_s: 60.0,
                limit_s: FUTURE_TOLERANCE_S,
            },
            FixIssue::Inaccurate {
                accuracy_m: 80.0,
                limit_m: 50.0,
            },
            FixIssue::InvalidFix {
                error_code: "GEOFENCE_INVALID_COORDINATE".into(),
            },
        ];
        for issue in &rejecting {
            assert!(issue.rejects(), "{issue:?}");
            assert!(FixIssue::code_rejects(issue.code()), "{issue:?}");
        }
        assert!(!FixIssue::code_rejects(travel.code()));
        assert!(FixIssue::code_rejects("FIX_SOMETHING_NEW"));
    }

    /// One office, a 100 m circle at Monas, accepting fixes up to `limit_m`.
    fn office_index(limit_m: f64) -> GeofenceIndex {
        GeofenceIndex::new(vec![crate::geofence::Office {
            id: "lapangan".into(),
            name: "UPT Lapangan".into(),
            utc_offset_minutes: 420,
            zones: vec![crate::geofence::Zone {
                id: "c".into(),
                name: "c".into(),
                shape: crate::geofence::ZoneShape::Circle {
                    center: LatLon::new(-6.1754, 106.8272),
                    radius_m: 100.0,
                },
            }],
            max_accuracy_m: limit_m,
            qr_required: false,
        }])
        .unwrap()
    }

    #[test]
    fn the_office_limit_applies_over_a_stricter_policy() {
        // Office limit 100 m, policy 50 m, a 70 m fix at the office: accepted.
        let offices = office_index(100.0);
        let policy = FixPolicy {
            max_accuracy_m: 50.0,
            ..FixPolicy::default()
        };
        let f = fix(-6.1754, 106.8272, 70.0, NOW - 5_000);
        let verdict = offices.locate_in(&f, &["lapangan"], &Default::default());
        assert!(verdict.is_inside(), "{verdict:?}");
        let limit = accuracy_limit_m(&verdict, &offices, &policy);
        assert_eq!(limit, 100.0);
        assert!(check_fix(&f, None, NOW, limit, &policy).is_empty());
        // Outside, the nearest office's limit applies.
        let far = fix(-6.1854, 106.8272, 70.0, NOW - 5_000);
        let verdict = offices.locate_in(&far, &["lapangan"], &Default::default());
        assert!(
            matches!(verdict, GeofenceVerdict::Outside { .. }),
            "{verdict:?}"
        );
        assert_eq!(accuracy_limit_m(&verdict, &offices, &policy), 100.0);
    }

    #[test]
    fn without_an_office_the_policy_limit_applies() {
        let offices = office_index(100.0);
        let policy = FixPolicy {
            max_accuracy_m: 50.0,
            ..FixPolicy::default()
        };
        for verdict in [
            GeofenceVerdict::NoOffices,
            GeofenceVerdict::TooInaccurate {
                accuracy_m: 150.0,
                limit_m: 100.0,
            },
            GeofenceVerdict::Outside {
                nearest_office_id: "gone".into(),
                nearest_office_name: "Gone".into(),
                distance_m: 10.0,
            },
        ] {
            assert_eq!(
                accuracy_limit_m(&verdict, &offices, &policy),
                50.0,
                "{verdict:?}"
            );
        }
    }

    #[test]
    fn a_good_fix_has_no_issues() {
        let f = fix(-6.1755, 106.8275, 12.0, NOW - 5_000);
        assert!(check_fix(&f, None, NOW, 50.0, &FixPolicy::default()).is_empty());
    }

    #[test]
    fn mock_location_is_flagged() {
        let mut f = fix(-6.1755, 106.8275, 12.0, NOW);
        f.is_mock = true;
        let issues = check_fix(&f, None, NOW, 50.0, &FixPolicy::default());
        assert_eq!(issues, vec![FixIssue::MockLocation]);
        assert_eq!(issues[0].code(), "FIX_MOCK_LOCATION");
        assert!(issues[0].staff_message().contains("Lokasi palsu"));
    }

    #[test]
    fn stale_and_future_fixes() {
        let p = FixPolicy::default();
        let f = fix(-6.0, 106.0, 10.0, NOW - 120_000);
        assert!(
            check_fix(&f, None, NOW, 50.0, &p).is_empty(),
            "exactly at the limit"
        );
        let f = fix(-6.0, 106.0, 10.0, NOW - 121_500);
        let issues = check_fix(&f, None, NOW, 50.0, &p);
        assert_eq!(
            issues,
            vec![FixIssue::Stale {
                age_s: 121.5,
                limit_s: 120
            }]
        );
        assert_eq!(issues[0].code(), "FIX_STALE");
        assert!(issues[0].staff_message().contains("122 detik"));
        let custom = FixPolicy {
            max_fix_age_s: 600,
            ..FixPolicy::default()
        };
        assert!(check_fix(&f, None, NOW, 50.0, &custom).is_empty());
        // Slightly ahead is clock noise; far ahead is flagged.
        let f = fix(-6.0, 106.0, 10.0, NOW + 10_000);
        assert!(check_fix(&f, None, NOW, 50.0, &p).is_empty());
        let f = fix(-6.0, 106.0, 10.0, NOW + 3_600_000);
        let issues = check_fix(&f, None, NOW, 50.0, &p);
        assert_eq!(codes(&issues), vec!["FIX_IN_FUTURE"]);
        assert!(issues[0].staff_message().contains("3600 detik"));
    }

    #[test]
    fn inaccurate_against_office_or_policy_limit() {
        let p = FixPolicy::default();
        let f = fix(-6.0, 106.0, 80.0, NOW);
        let issues = check_fix(&f, None, NOW, 50.0, &p);
        assert_eq!(
            issues,
            vec![FixIssue::Inaccurate {
                accuracy_m: 80.0,
                limit_m: 50.0
            }]
        );
        assert_eq!(issues[0].code(), "FIX_INACCURATE");
        assert!(
            issues[0]
                .staff_message()
                .starts_with("Akurasi GPS 80 m melebihi batas 50 m")
        );
        assert!(check_fix(&f, None, NOW, 100.0, &p).is_empty());
        // No usable office limit: the policy's default applies.
        for limit in [0.0, -1.0, f64::NAN] {
            assert_eq!(
                check_fix(&f, None, NOW, limit, &p),
                vec![FixIssue::Inaccurate {
                    accuracy_m: 80.0,
                    limit_m: DEFAULT_MAX_ACCURACY_M
                }]
            );
        }
    }

    #[test]
    fn impossible_travel() {
        let p = FixPolicy::default();
        // Jakarta to Surabaya (~660 km) in 10 minutes.
        let prev = fix(-6.1754, 106.8272, 10.0, NOW - 600_000);
        let f = fix(-7.2575, 112.7521, 10.0, NOW);
        let issues = check_fix(&f, Some(&prev), NOW, 50.0, &p);
        assert_eq!(codes(&issues), vec!["FIX_IMPOSSIBLE_TRAVEL"]);
        match &issues[0] {
            FixIssue::ImpossibleTravel {
                distance_m,
                elapsed_s,
                speed_kmh,
                limit_kmh,
            } => {
                assert!((600_000.0..700_000.0).contains(distance_m));
                assert_eq!(*elapsed_s, 600.0);
                assert!((speed_kmh - distance_m / 600.0 * 3.6).abs() < 1e-9);
                assert_eq!(*limit_kmh, 250.0);
            }
            i => panic!("{i:?}"),
        }
        assert!(issues[0].staff_message().contains("km/jam"));
        // The same trip in 3 hours is a car or a plane... 220 km/h: allowed.
        let prev = fix(-6.1754, 106.8272, 10.0, NOW - 3 * 3_600_000);
        assert!(check_fix(&f, Some(&prev), NOW, 50.0, &p).is_empty());
        // Order does not matter: previous "after" the fix uses the absolute interval.
        let later = fix(-6.1754, 106.8272, 10.0, NOW + 600_000);
        assert_eq!(
            codes(&check_fix(&f, Some(&later), NOW, 50.0, &p)),
            vec!["FIX_IMPOSSIBLE_TRAVEL"]
        );
    }

    #[test]
    fn gps_jitter_is_not_travel() {
        let p = FixPolicy::default();
        // 60 m apart one second later, with 30 m + 35 m accuracy: the circles overlap.
        let prev = fix(-6.0, 106.0, 30.0, NOW - 1_000);
        let f = fix(-6.0 + 60.0 / 110_574.0, 106.0, 35.0, NOW);
        assert!(check_fix(&f, Some(&prev), NOW, 50.0, &p).is_empty());
        // Same 60 m with 5 m fixes in one second is 50 m/s = 180 km/h: allowed.
        let prev = fix(-6.0, 106.0, 5.0, NOW - 1_000);
        let f2 = fix(f.latitude, f.longitude, 5.0, NOW);
        assert!(check_fix(&f2, Some(&prev), NOW, 50.0, &p).is_empty());
        // 200 m in one second with 5 m fixes: ~684 km/h, flagged.
        let f3 = fix(-6.0 + 200.0 / 110_574.0, 106.0, 5.0, NOW);
        assert_eq!(
            codes(&check_fix(&f3, Some(&prev), NOW, 50.0, &p)),
            vec!["FIX_IMPOSSIBLE_TRAVEL"]
        );
    }

    #[test]
    fn same_instant() {
        let p = FixPolicy::default();
        let prev = fix(-6.0, 106.0, 5.0, NOW);
        // Same place, same instant: fine.
        assert!(check_fix(&prev.clone(), Some(&prev), NOW, 50.0, &p).is_empty());
        let near = fix(-6.0 + 8.0 / 110_574.0, 106.0, 5.0, NOW);
        assert!(check_fix(&near, Some(&prev), NOW, 50.0, &p).is_empty());
        // Two places 1 km apart at the same instant: impossible.
        let far = fix(-6.0 + 1000.0 / 110_574.0, 106.0, 5.0, NOW);
        let issues = check_fix(&far, Some(&prev), NOW, 50.0, &p);
        match &issues[..] {
            [
                FixIssue::ImpossibleTravel {
                    elapsed_s,
                    speed_kmh,
                    ..
                },
            ] => {
                assert_eq!(*elapsed_s, 0.0);
                assert_eq!(*speed_kmh, f64::MAX);
            }
            i => panic!("{i:?}"),
        }
        assert!(issues[0].staff_message().contains("pada waktu yang sama"));
        // And it survives JSON.
        let json = serde_json::to_string(&issues).unwrap();
        assert_eq!(
            serde_json::from_str::<Vec<FixIssue>>(&json).unwrap(),
            issues
        );
        assert!(json.contains(r#""type":"impossible_travel""#));
    }

    #[test]
    fn several_issues_in_order() {
        let mut f = fix(-7.2575, 112.7521, 90.0, NOW - 300_000);
        f.is_mock = true;
        let prev = fix(-6.1754, 106.8272, 10.0, NOW - 360_000);
        assert_eq!(
            codes(&check_fix(
                &f,
                Some(&prev),
                NOW,
                50.0,
                &FixPolicy::default()
            )),
            vec![
                "FIX_MOCK_LOCATION",
                "FIX_STALE",
                "FIX_INACCURATE",
                "FIX_IMPOSSIBLE_TRAVEL"
            ]
        );
    }

    #[test]
    fn invalid_fixes() {
        for f in [
            fix(f64::NAN, 106.0, 5.0, NOW),
            fix(-6.0, 200.0, 5.0, NOW),
            fix(-95.0, 106.0, 5.0, NOW),
            fix(-6.0, 106.0, 0.0, NOW),
            fix(-6.0, 106.0, f64::INFINITY, NOW),
        ] {
            assert!(f.validate().is_err());
            let issues = check_fix(&f, None, NOW, 50.0, &FixPolicy::default());
            assert_eq!(codes(&issues), vec!["FIX_INVALID"]);
            assert!(issues[0].staff_message().contains("tidak valid"));
        }
        assert_eq!(
            fix(-6.0, 106.0, -1.0, NOW).validate().unwrap_err().code(),
            "GEOFENCE_INVALID_ACCURACY"
        );
        assert_eq!(
            fix(-6.0, 181.0, 1.0, NOW).validate().unwrap_err().code(),
            "GEOFENCE_INVALID_COORDINATE"
        );
        // An invalid previous fix is ignored rather than poisoning the check.
        let prev = fix(f64::NAN, 106.0, 5.0, NOW);
        let f = fix(-6.0, 106.0, 5.0, NOW);
        assert!(check_fix(&f, Some(&prev), NOW, 50.0, &FixPolicy::default()).is_empty());
        assert_eq!(f.position(), LatLon::new(-6.0, 106.0));
    }

    #[test]
    fn the_geofence_judges_a_fix_by_its_point_and_accuracy() {
        let f = fix(-6.1755, 106.8275, 12.0, NOW);
        assert_eq!(
            f.position_estimate(),
            PositionEstimate {
                point: LatLon::new(-6.1755, 106.8275),
                accuracy_m: 12.0
            }
        );
        // One validity rule: the fix's and its estimate's answers are the same.
        let bad = fix(-6.0, 106.0, -1.0, NOW);
        assert_eq!(bad.validate(), bad.position_estimate().validate());
        assert!(bad.validate().is_err());
    }

    #[test]
    fn policy_and_issue_serde() {
        let p: FixPolicy =
            serde_json::from_str(r#"{"max_fix_age_s":60,"max_accuracy_m":30,"max_speed_kmh":120}"#)
                .unwrap();
        assert_eq!(p.max_fix_age_s, 60);
        let i = FixIssue::Stale {
            age_s: 130.0,
            limit_s: 120,
        };
        assert_eq!(
            serde_json::to_string(&i).unwrap(),
            r#"{"type":"stale","age_s":130.0,"limit_s":120}"#
        );
        assert_eq!(
            serde_json::to_string(&FixIssue::MockLocation).unwrap(),
            r#"{"type":"mock_location"}"#
        );
    }
}
