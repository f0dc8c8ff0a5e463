//! Who a person is to Hadir, decided once for the phone and the server: their home
//! office and the schedule they follow, whether they may read a team on a device, whether
//! a supervisor can be registered above them, whether an enrollment code is still good,
//! and how a team member's day is summed up for their supervisor.
//!
//! Every function here is pure: the server calls it over its directory, the phone over
//! its cached [`crate::api::DeviceConfig`].

use crate::api::CheckInStatus;
use crate::geofence::Office;
use crate::schedule::{DaySummary, OfficeSchedule};

/// The UTC offset assumed for a person without a known office: WIB, where most staff
/// are.
pub const DEFAULT_UTC_OFFSET_MINUTES: i32 = 420;

/// Where a person belongs: the office whose time zone and schedule apply to them.
#[derive(Debug, Clone, PartialEq)]
pub struct Home<'a> {
    /// The first of the person's offices that is known, if any.
    pub office: Option<&'a Office>,
    /// Its UTC offset, minutes ([`DEFAULT_UTC_OFFSET_MINUTES`] without one).
    pub utc_offset_minutes: i32,
    /// Its own schedule, or the national default ([`OfficeSchedule::perpres_21_2023`]),
    /// which also applies to a person without a known office.
    pub schedule: OfficeSchedule,
}

/// The home of a person registered at `office_ids` (in the admin's order): the first
/// one `office_of` knows. `schedule_of` gives an office's own schedule, if it has one.
///
/// On the phone, over its cached configuration:
/// `home(&person.office_ids, |id| config.offices.iter().find(|o| o.id == id),
/// |id| config.schedules.get(id))`.
pub fn home<'a, 's>(
    office_ids: &[String],
    office_of: impl Fn(&str) -> Option<&'a Office>,
    schedule_of: impl Fn(&str) -> Option<&'s OfficeSchedule>,
) -> Home<'a> {
    let office = office_ids.iter().find_map(|id| office_of(id));
    Home {
        office,
        utc_offset_minutes: office.map_or(DEFAULT_UTC_OFFSET_MINUTES, |o| o.utc_offset_minutes),
        schedule: office.map_or_else(OfficeSchedule::perpres_21_2023, |o| {
            office_schedule(schedule_of(&o.id))
        }),
    }
}

/// An office's schedule: its own, or the national default.
pub fn office_schedule(own: Option<&OfficeSchedule>) -> OfficeSchedule {
    own.cloned().unwrap_or_else(OfficeSchedule::perpres_21_2023)
}

/// Why a person may not read a team on a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TeamRefusal {
    /// They are not the device's owner (a guest on a shared phone never reads a team).
    #[error("only the device's owner reads their team on it")]
    NotDeviceOwner,
    /// Nobody is registered under them.
    #[error("supervises nobody")]
    NoDirectReports,
}

/// Whether a person may read their team on a device: they own the device and at least
/// one person is registered under them.
pub fn team_access(is_device_owner: bool, direct_reports: usize) -> Result<(), TeamRefusal> {
    if !is_device_owner {
        return Err(TeamRefusal::NotDeviceOwner);
    }
    if direct_reports == 0 {
        return Err(TeamRefusal::NoDirectReports);
    }
    Ok(())
}

/// Whether the phone shows a person as a supervisor: exactly when [`team_access`]
/// lets them read their team there.
pub fn is_supervisor(is_device_owner: bool, direct_reports: usize) -> bool {
    team_access(is_device_owner, direct_reports).is_ok()
}

/// Why a supervisor cannot be registered above a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SupervisionRefusal {
    /// The person named as their own supervisor.
    #[error("a person cannot be their own supervisor")]
    OwnSupervisor,
    /// The supervisor is already under the person, directly or through others.
    #[error("supervision cannot go in a circle")]
    Circle,
}

/// Longest chain of supervisors followed upwards (far beyond any real hierarchy; a
/// longer stored chain is taken as ending there).
pub const MAX_SUPERVISION_CHAIN: usize = 10_000;

/// Checks that `supervisor` can be registered above `person`: not themselves, and not
/// anyone already under them. `supervisor_of` reads the current supervisor of a person
/// (from the database, a cache...); its error is passed through.
pub fn check_supervision<K: PartialEq, E>(
    person: &K,
    supervisor: K,
    mut supervisor_of: impl FnMut(&K) -> Result<Option<K>, E>,
) -> Result<Result<(), SupervisionRefusal>, E> {
    if supervisor == *person {
        return Ok(Err(SupervisionRefusal::OwnSupervisor));
    }
    let mut above = Some(supervisor);
    for _ in 0..MAX_SUPERVISION_CHAIN {
        let Some(current) = above else { break };
        if current == *person {
            return Ok(Err(SupervisionRefusal::Circle));
        }
        above = supervisor_of(&current)?;
    }
    Ok(Ok(()))
}

/// An enrollment code as issued: to whom, until when, and whether it was used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCode<K> {
    /// The person it was issued to.
    pub person: K,
    /// When it stops being valid, Unix ms.
    pub expires_ms: i64,
    /// Whether a device already enrolled with it (codes are single-use).
    pub used: bool,
}

impl<K: PartialEq> IssuedCode<K> {
    /// Whether `person` may enroll with it at `now_ms`: unused, theirs, not expired.
    pub fn usable_by(&self, person: &K, now_ms: i64) -> bool {
        !self.used && self.person == *person && now_ms < self.expires_ms
    }
}

/// The minutes a team member arrived late, as the supervisor's view shows them: none
/// when on time, and none when there is no arrival at all (that is a deduction band,
/// not a number of minutes).
pub fn late_minutes(day: &DaySummary) -> Option<u32> {
    day.arrival.filter(|d| !d.missing).map(|d| d.minutes)
}

/// Whether a team member's day is flagged for their supervisor: any of its check-ins
/// needs review ([`CheckInStatus::needs_review`]).
pub fn flagged(statuses: impl IntoIterator<Item = CheckInStatus>) -> bool {
    statuses.into_iter().any(CheckInStatus::needs_review)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geofence::{LatLon, Zone, ZoneShape};
    use crate::schedule::{DayState, Deviation, DeviationBand};

    fn office(id: &str, utc_offset_minutes: i32) -> Office {
        Office {
            id: id.into(),
            name: id.into(),
            utc_offset_minutes,
            zones: vec![Zone {
                id: "utama".into(),
                name: "Area kantor".into(),
                shape: ZoneShape::Circle {
                    center: LatLon::new(-3.7956, 102.2592),
                    radius_m: 80.0,
                },
            }],
            max_accuracy_m: 50.0,
            qr_required: false,
        }
    }

    #[test]
    fn home_is_the_first_known_office_with_its_schedule() {
        let offices = [office("bappeda", 420), office("rsud", 480)];
        let mut own = OfficeSchedule::perpres_21_2023();
        own.tolerance_minutes = 7;
        let office_of = |id: &str| offices.iter().find(|o| o.id == id);
        let schedule_of = |id: &str| (id == "rsud").then_some(&own);
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();

        let h = home(&ids(&["gone", "rsud", "bappeda"]), office_of, schedule_of);
        assert_eq!(h.office.map(|o| o.id.as_str()), Some("rsud"));
        assert_eq!(h.utc_offset_minutes, 480);
        assert_eq!(h.schedule.tolerance_minutes, 7);

        let h = home(&ids(&["bappeda", "rsud"]), office_of, schedule_of);
        assert_eq!(h.office.map(|o| o.id.as_str()), Some("bappeda"));
        assert_eq!(h.schedule, OfficeSchedule::perpres_21_2023());

        let h = home(&ids(&["gone"]), office_of, schedule_of);
        assert_eq!(h.office, None);
        assert_eq!(h.utc_offset_minutes, DEFAULT_UTC_OFFSET_MINUTES);
        assert_eq!(h.schedule, OfficeSchedule::perpres_21_2023());
    }

    #[test]
    fn only_an_owner_with_reports_reads_a_team() {
        assert_eq!(team_access(true, 3), Ok(()));
        assert_eq!(team_access(false, 3), Err(TeamRefusal::NotDeviceOwner));
        assert_eq!(team_access(true, 0), Err(TeamRefusal::NoDirectReports));
        assert_eq!(team_access(false, 0), Err(TeamRefusal::NotDeviceOwner));
        assert!(is_supervisor(true, 1));
        assert!(!is_supervisor(false, 1) && !is_supervisor(true, 0));
    }

    #[test]
    fn supervision_never_goes_in_a_circle() {
        // a ← b ← c: a supervises b, b supervises c.
        let chain = |who: &&str| -> Result<Option<&str>, ()> {
            Ok(match *who {
                "c" => Some("b"),
                "b" => Some("a"),
                _ => None,
            })
        };
        assert_eq!(check_supervision(&"x", "c", chain), Ok(Ok(())));
        assert_eq!(
            check_supervision(&"a", "c", chain),
            Ok(Err(SupervisionRefusal::Circle))
        );
        assert_eq!(
            check_supervision(&"b", "c", chain),
            Ok(Err(SupervisionRefusal::Circle))
        );
        assert_eq!(
            check_supervision(&"c", "c", chain),
            Ok(Err(SupervisionRefusal::OwnSupervisor))
        );
        // A failing lookup is passed through.
        assert_eq!(
            check_supervision(&"x", "c", |_: &&str| Err::<Option<&str>, _>("db down")),
            Err("db down")
        );
    }

    #[test]
    fn an_enrollment_code_is_single_use_personal_and_expires() {
        let code = IssuedCode {
            person: "nip:1",
            expires_ms: 1_000,
            used: false,
        };
        assert!(code.usable_by(&"nip:1", 999));
        assert!(!code.usable_by(&"nip:1", 1_000), "expired at its instant");
        assert!(!code.usable_by(&"nip:2", 0), "someone else's");
        let used = IssuedCode { used: true, ..code };
        assert!(!used.usable_by(&"nip:1", 0));
    }

    #[test]
    fn late_minutes_leave_out_a_missing_arrival() {
        let day = |arrival| DaySummary {
            state: DayState::Late,
            arrival,
            others: vec![],
        };
        let late = |minutes, missing| Deviation {
            late: true,
            minutes,
            band: DeviationBand::Band4,
            missing,
        };
        assert_eq!(late_minutes(&day(Some(late(42, false)))), Some(42));
        assert_eq!(late_minutes(&day(Some(late(0, true)))), None);
        assert_eq!(late_minutes(&day(None)), None);
    }

    #[test]
    fn a_day_is_flagged_when_any_check_in_needs_review() {
        use CheckInStatus::*;
        assert!(!flagged([Accepted, RetryLater]));
        assert!(flagged([Accepted, AcceptedWithFlags]));
        assert!(flagged([Rejected]));
        assert!(!flagged([]));
    }
}
