//! The HTTP API's wire types, shared by the sync client and the server, so the two are
//! compiled from one definition. `docs/PROTOCOL.md` describes the exchange; the server
//! also serves an OpenAPI description at `/v1/openapi.json`.
//!
//! Rule for unknown fields in request and response bodies (which are *not* signed
//! payloads): they are ignored, so a newer client can talk to an older server and back.
//! Signed check-in payloads follow the stricter rule of [`crate::wire`].

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::envelope::Envelope;
use crate::fix::FixPolicy;
use crate::geofence::{GeofenceRule, Office};
use crate::ids::{DeviceLabel, PersonId};
use crate::schedule::{DayState, ExpectedAttendance, OfficeSchedule};
use crate::wire::AttendanceKind;

/// Most envelopes accepted in one `POST /v1/checkins`.
pub const MAX_BATCH: usize = 50;

/// `GET /v1/time`: the server's clock (answered before enrollment, unauthenticated).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerTime {
    /// The server's instant, Unix ms UTC.
    pub server_time_ms: i64,
}

/// `POST /v1/enroll`: binds this device's public key to a person, using an enrollment
/// code an admin issued for that person. Signed (request signature) by the key being
/// enrolled, which proves possession of the private key. On an already enrolled device,
/// the same request adds another person to it (a shared device).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollRequest {
    /// The one-time code issued by an admin for this person.
    pub enrollment_code: String,
    /// The person the code was issued for.
    pub person: PersonId,
    /// The device's 65-byte uncompressed P-256 public key, base64.
    pub public_key: String,
    /// A human label of the hardware: IMEI (Luhn-checked) or platform device id.
    pub device_label: DeviceLabel,
    /// `android`, `ios`, or `test`.
    pub platform: String,
    /// The app version.
    pub app_version: String,
    /// The key's attestation certificate chain, leaf first, each certificate standard
    /// base64 DER (Android Keystore's `getCertificateChain`), its challenge derived from
    /// the enrollment code ([`crate::attestation::attestation_challenge`]). Sent once,
    /// by the device's first person; empty (and absent on the wire) for a colleague on a
    /// shared phone, iOS, older apps and the Python client.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attestation: Vec<String>,
}

/// Answer to a successful enrollment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollResponse {
    /// The server-assigned device id; requests carry it in `Hadir-Device`.
    pub device_id: String,
    /// The person now enrolled on this device.
    pub person: DevicePerson,
}

/// A person who may check in on this device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DevicePerson {
    /// Their identifier.
    pub person: PersonId,
    /// Their name as the BKPSDM roster has it.
    pub display_name: String,
    /// The offices where they may check in.
    pub office_ids: Vec<String>,
    /// True for the device's owner; false for a colleague sharing it.
    pub is_device_owner: bool,
    /// True when this person supervises a team and may open it on this device (only
    /// on their own device: a guest on a shared phone never reads a team).
    #[serde(default)]
    pub is_supervisor: bool,
    /// Set while an admin has suspended attendance by phone for this person's pemda or
    /// unit: check-ins made from `since_ms` on are refused with
    /// `PHONE_ATTENDANCE_SUSPENDED`; the phone shows the reason instead of the check-in
    /// button. Absent from an older server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_suspended: Option<PhoneSuspension>,
}

/// Attendance by phone suspended by an admin ("absensi lewat ponsel dihentikan").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneSuspension {
    /// Since when, Unix ms: check-ins made before it still count.
    pub since_ms: i64,
    /// The admin's reason, shown to staff.
    pub reason: String,
}

impl PhoneSuspension {
    /// What the phone shows instead of the check-in button, and the server says when it
    /// refuses a check-in made after the switch (`PHONE_ATTENDANCE_SUSPENDED`).
    pub fn staff_notice(&self) -> String {
        format!(
            "Absensi lewat ponsel dihentikan sementara oleh admin: {}. Absensi yang dibuat \
             sebelumnya tetap dihitung. Gunakan mesin absensi di kantor atau hubungi admin.",
            self.reason.trim()
        )
    }
}

/// Verification policy: the same numbers drive the phone's instant feedback and the
/// server's authoritative decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Fix checks (age, accuracy, speed).
    pub fix: FixPolicy,
    /// How the accuracy circle is taken into account at the geofence edge.
    pub geofence: GeofenceRule,
    /// Largest device-clock skew tolerated without a flag, ms.
    pub skew_tolerance_ms: i64,
    /// Hamming distance at or under which two selfies are near-duplicates.
    pub near_duplicate_max_distance: u32,
    /// How many days back a person's selfies are compared.
    pub near_duplicate_window_days: u32,
    /// A check-in reaching the server more than this long after its trusted instant is
    /// flagged `LATE_DELIVERY` with the delay, ms (absent from an older server: the
    /// default, [`DEFAULT_LATE_DELIVERY_WINDOW_MS`]).
    #[serde(default = "default_late_delivery_window_ms")]
    pub late_delivery_window_ms: i64,
}

/// Default [`Policy::late_delivery_window_ms`]: thirty minutes. An online phone
/// delivers within seconds; within the window a check-in may have been made at any
/// moment between its cited anchor and its receipt, so the window is the room a lying
/// phone has to backdate unnoticed. A phone that was offline longer is flagged with
/// its delay for review, never rejected.
pub const DEFAULT_LATE_DELIVERY_WINDOW_MS: i64 = 30 * 60_000;

fn default_late_delivery_window_ms() -> i64 {
    DEFAULT_LATE_DELIVERY_WINDOW_MS
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            fix: FixPolicy::default(),
            geofence: GeofenceRule::default(),
            skew_tolerance_ms: crate::clock::DEFAULT_SKEW_TOLERANCE_MS,
            near_duplicate_max_distance: crate::photo::NEAR_DUPLICATE_MAX_DISTANCE,
            near_duplicate_window_days: 30,
            late_delivery_window_ms: DEFAULT_LATE_DELIVERY_WINDOW_MS,
        }
    }
}

/// `GET /v1/config`: what the phone needs to decide locally. Served with an `ETag`;
/// `If-None-Match` gets `304 Not Modified`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceConfig {
    /// The device this config is for.
    pub device_id: String,
    /// The offices of every person on this device.
    pub offices: Vec<Office>,
    /// The people who may check in on this device.
    pub people: Vec<DevicePerson>,
    /// The verification policy.
    pub policy: Policy,
    /// The working time of each office in `offices`, by office id (absent from an
    /// older server: the phone then assumes [`OfficeSchedule::perpres_21_2023`]).
    #[serde(default)]
    pub schedules: BTreeMap<String, OfficeSchedule>,
    /// The server's instant when it answered, Unix ms.
    pub server_time_ms: i64,
}

impl DeviceConfig {
    /// The schedule of an office: its own, or the national default.
    pub fn schedule(&self, office_id: &str) -> OfficeSchedule {
        crate::roster::office_schedule(self.schedules.get(office_id))
    }

    /// The home of a person on this device registered at `office_ids`: the first office
    /// the configuration knows, its UTC offset and schedule ([`crate::roster::home`]).
    pub fn home(&self, office_ids: &[String]) -> crate::roster::Home<'_> {
        crate::roster::home(
            office_ids,
            |id| self.offices.iter().find(|o| o.id == id),
            |id| self.schedules.get(id),
        )
    }
}

/// `POST /v1/checkins`: a batch of signed check-ins, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckInBatch {
    /// DSSE envelopes, each over a [`crate::wire::CheckInPayload`].
    pub envelopes: Vec<Envelope>,
}

/// The outcome of one check-in.
///
/// Only the server decides it; phones read it. A status a newer server adds arrives as
/// [`CheckInStatus::Unknown`] instead of breaking the whole answer, and counts as the
/// safe reading: not attendance, needs review, not final (the phone keeps the check-in
/// and asks again, so nothing leaves its outbox on an answer it cannot read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckInStatus {
    /// Recorded as attendance, nothing to review.
    Accepted,
    /// Recorded as attendance, with flags a supervisor reviews (shared device, skew,
    /// near-duplicate selfie, ...).
    AcceptedWithFlags,
    /// Not attendance; final. The codes say why.
    Rejected,
    /// Not decided yet (e.g. the selfie has not arrived); send it again.
    RetryLater,
    /// A status this build does not know (a newer server's); the value is not kept.
    /// Never written by this build.
    #[serde(other)]
    Unknown,
}

impl CheckInStatus {
    /// True for a final outcome the phone records and stops sending. False for
    /// [`CheckInStatus::Unknown`]: an answer the phone cannot read never takes a
    /// check-in out of its outbox.
    pub fn is_final(self) -> bool {
        !matches!(self, CheckInStatus::RetryLater | CheckInStatus::Unknown)
    }

    /// True for the outcomes that count as attendance: accepted, with or without flags.
    /// The one place this is decided, for the server's decision, the team view, the
    /// storage queries and the phone's own history. False for
    /// [`CheckInStatus::Unknown`]: what this build cannot read never counts.
    pub fn counts_as_attendance(self) -> bool {
        matches!(
            self,
            CheckInStatus::Accepted | CheckInStatus::AcceptedWithFlags
        )
    }

    /// True for the outcomes a supervisor should look at: accepted with flags, or
    /// rejected. True for [`CheckInStatus::Unknown`]: a person looks at what this build
    /// cannot read.
    pub fn needs_review(self) -> bool {
        matches!(
            self,
            CheckInStatus::AcceptedWithFlags | CheckInStatus::Rejected | CheckInStatus::Unknown
        )
    }

    /// The stable names of the outcomes that count as attendance, as stored in the
    /// database (`status IN (...)`), derived from [`CheckInStatus::counts_as_attendance`].
    pub fn attendance_names() -> Vec<&'static str> {
        Self::KNOWN
            .into_iter()
            .filter(|s| s.counts_as_attendance())
            .map(CheckInStatus::as_str)
            .collect()
    }

    /// The statuses this build knows.
    pub const KNOWN: [CheckInStatus; 4] = [
        CheckInStatus::Accepted,
        CheckInStatus::AcceptedWithFlags,
        CheckInStatus::Rejected,
        CheckInStatus::RetryLater,
    ];

    /// The stable snake_case name, as on the wire (`accepted_with_flags`).
    pub fn as_str(self) -> &'static str {
        match self {
            CheckInStatus::Accepted => "accepted",
            CheckInStatus::AcceptedWithFlags => "accepted_with_flags",
            CheckInStatus::Rejected => "rejected",
            CheckInStatus::RetryLater => "retry_later",
            CheckInStatus::Unknown => "unknown",
        }
    }
}

/// The server's decision on one check-in, in the order of the batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckInResult {
    /// The check-in's id (empty when the envelope could not be read at all).
    pub checkin_id: String,
    /// The outcome.
    pub status: CheckInStatus,
    /// Stable reason and flag codes, e.g. `GEOFENCE_OUTSIDE`, `TIME_SKEW`.
    pub codes: Vec<String>,
    /// Indonesian explanation for the person.
    pub message: String,
    /// The trusted instant the server assigned, Unix ms.
    pub trusted_time_ms: Option<i64>,
    /// How that instant was derived (`anchored`, `device_clock`, `server_receipt`).
    pub time_source: Option<String>,
    /// Device clock skew in ms, when known.
    pub device_skew_ms: Option<i64>,
    /// The office the check-in counted for.
    pub office_id: Option<String>,
    /// Distance to the nearest office, metres, when outside.
    pub distance_m: Option<f64>,
    /// How long after its trusted instant it reached the server, ms, when that is
    /// beyond the policy's window (`LATE_DELIVERY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_delay_ms: Option<i64>,
}

/// Answer to `POST /v1/checkins`: one result per envelope, same order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckInBatchResponse {
    /// The results.
    pub results: Vec<CheckInResult>,
}

/// `PUT /v1/selfies/{sha256}` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelfieStored {
    /// The SHA-256 the server computed.
    pub sha256: String,
    /// False when the server already had it (uploading twice is harmless).
    pub created: bool,
}

/// Every error response body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    /// Stable machine code, e.g. `AUTH_UNKNOWN_DEVICE`.
    pub code: String,
    /// Indonesian message suitable for staff.
    pub message: String,
    /// Developer detail (the JSON field at fault, ...), never secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Longest wait of `GET /v1/team/events`, seconds (below the client's 30 s timeout and
/// the idle timeouts of common proxies).
pub const MAX_TEAM_WAIT_S: u32 = 25;

/// Kinds of approved leave that excuse a day.
///
/// Phones read it in the team view, so a kind a newer server adds arrives as
/// [`LeaveKind::Unknown`] (still leave: the day stays excused as the server said). As
/// input it is strict: the server refuses to record `Unknown` (`LEAVE_KIND_UNKNOWN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaveKind {
    /// Annual or other cuti.
    Cuti,
    /// Sick leave.
    Sakit,
    /// Official travel or an assignment outside the office.
    DinasLuar,
    /// Permission for a day (izin).
    Izin,
    /// A kind this build does not know (a newer server's); the value is not kept.
    /// Never written by this build.
    #[serde(other)]
    Unknown,
}

impl LeaveKind {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            LeaveKind::Cuti => "cuti",
            LeaveKind::Sakit => "sakit",
            LeaveKind::DinasLuar => "dinas_luar",
            LeaveKind::Izin => "izin",
            LeaveKind::Unknown => "unknown",
        }
    }

    /// The kinds this build knows.
    pub const KNOWN: [LeaveKind; 4] = [
        LeaveKind::Cuti,
        LeaveKind::Sakit,
        LeaveKind::DinasLuar,
        LeaveKind::Izin,
    ];

    /// Parses [`LeaveKind::as_str`]'s output for a known kind; `None` otherwise
    /// (including `"unknown"`).
    pub fn parse(name: &str) -> Option<Self> {
        Self::KNOWN.into_iter().find(|k| k.as_str() == name)
    }
}

/// Approved leave covering a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaveInfo {
    /// What kind.
    pub kind: LeaveKind,
    /// First day, inclusive.
    #[serde(with = "crate::schedule::iso_date")]
    pub from: NaiveDate,
    /// Last day, inclusive.
    #[serde(with = "crate::schedule::iso_date")]
    pub to: NaiveDate,
    /// The admin's note, e.g. the letter number.
    #[serde(default)]
    pub note: String,
}

/// One check-in as a supervisor sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamCheckIn {
    /// The check-in's id.
    pub checkin_id: String,
    /// Which attendance.
    pub kind: AttendanceKind,
    /// The server's decision.
    pub status: CheckInStatus,
    /// Reason and flag codes (`GEOFENCE_OUTSIDE`, `SHARED_DEVICE`, ...).
    pub codes: Vec<String>,
    /// The trusted instant, Unix ms (absent for a check-in rejected before its time
    /// could be read).
    pub trusted_time_ms: Option<i64>,
    /// The office it counted for.
    pub office_id: Option<String>,
    /// Distance to the nearest office when outside, metres.
    pub distance_m: Option<f64>,
    /// The device that carried it.
    pub device_id: String,
    /// How long after its trusted instant it reached the server, ms, when flagged
    /// `LATE_DELIVERY`: the supervisor sees the delay, never a plain "on time".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_delay_ms: Option<i64>,
}

/// A team member's day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamMember {
    /// Who.
    pub person: PersonId,
    /// Roster name.
    pub display_name: String,
    /// The office-local date this row describes (a late-arriving offline check-in's
    /// event may describe an earlier day than today).
    #[serde(with = "crate::schedule::iso_date")]
    pub date: NaiveDate,
    /// The office whose schedule applies (their first office).
    pub office_id: Option<String>,
    /// Where they stand.
    pub state: DayState,
    /// Minutes late on arrival, when late (absent when the arrival was not recorded at
    /// all: `deviation_codes` then holds `TL4`).
    pub late_minutes: Option<u32>,
    /// Deduction codes of the day so far (`TL2`, `PSW1`, ...).
    pub deviation_codes: Vec<String>,
    /// True when an accepted check-in of the day carries flags to review, or a
    /// check-in was rejected.
    pub flagged: bool,
    /// The leave covering the day, if any.
    pub leave: Option<LeaveInfo>,
    /// The holiday's name when the day is one.
    pub holiday: Option<String>,
    /// The next attendance expected of them (only for today).
    pub next_expected: Option<ExpectedAttendance>,
    /// The day's check-ins, oldest first, rejected ones included.
    pub checkins: Vec<TeamCheckIn>,
}

/// `GET /v1/team`: a supervisor's team on one office-local date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamAttendance {
    /// The supervisor.
    pub supervisor: PersonId,
    /// The date (each member's day is that date in their own office's time zone).
    #[serde(with = "crate::schedule::iso_date")]
    pub date: NaiveDate,
    /// The members, by name.
    pub members: Vec<TeamMember>,
    /// Position in the live feed at the time of this view: pass it as `after` to
    /// `GET /v1/team/events` so that no check-in falls between the two.
    pub cursor: i64,
    /// The server's instant, Unix ms.
    pub server_time_ms: i64,
}

/// One new check-in of a team member, with the member's updated day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamEvent {
    /// Position in the feed (increasing).
    pub seq: i64,
    /// The check-in.
    pub checkin: TeamCheckIn,
    /// The member's day including it (replace the member's row with it).
    pub member: TeamMember,
}

/// `GET /v1/team/events`: what happened after a cursor (a long poll).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamEvents {
    /// New events, oldest first (empty when the wait ran out).
    pub events: Vec<TeamEvent>,
    /// Pass as `after` next time.
    pub cursor: i64,
    /// True when `after` was beyond anything the server has stored (its database was
    /// restored, or the cursor came from another server): reload `GET /v1/team` and
    /// continue from this answer's cursor.
    #[serde(default)]
    pub reset: bool,
    /// The server's instant, Unix ms.
    pub server_time_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_statuses_round_trip_and_a_newer_one_reads_as_unknown() {
        for status in CheckInStatus::KNOWN {
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
            assert_eq!(
                serde_json::from_str::<CheckInStatus>(&json).unwrap(),
                status
            );
        }
        let newer: CheckInStatus = serde_json::from_str("\"accepted_pending_face_match\"").unwrap();
        assert_eq!(newer, CheckInStatus::Unknown);
    }

    #[test]
    fn an_unknown_status_never_counts_needs_review_and_stays_in_the_outbox() {
        let unknown = CheckInStatus::Unknown;
        assert!(!unknown.counts_as_attendance());
        assert!(unknown.needs_review());
        assert!(!unknown.is_final());
        assert_eq!(
            CheckInStatus::attendance_names(),
            vec!["accepted", "accepted_with_flags"]
        );
    }

    #[test]
    fn a_result_with_a_newer_status_still_parses_whole() {
        let json = r#"{"checkin_id":"x","status":"escalated","codes":["FACE_MISMATCH"],
            "message":"m","trusted_time_ms":null,"time_source":null,"device_skew_ms":null,
            "office_id":null,"distance_m":null}"#;
        let result: CheckInResult = serde_json::from_str(json).unwrap();
        assert_eq!(result.status, CheckInStatus::Unknown);
        assert_eq!(result.codes, vec!["FACE_MISMATCH".to_string()]);
    }

    #[test]
    fn leave_kinds_round_trip_and_a_newer_one_reads_as_unknown() {
        for kind in LeaveKind::KNOWN {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<LeaveKind>(&json).unwrap(), kind);
            assert_eq!(LeaveKind::parse(kind.as_str()), Some(kind));
        }
        let newer: LeaveKind = serde_json::from_str("\"cuti_melahirkan\"").unwrap();
        assert_eq!(newer, LeaveKind::Unknown);
        assert_eq!(LeaveKind::parse("unknown"), None);
    }
}
