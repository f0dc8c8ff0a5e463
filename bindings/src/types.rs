//! Records and enums that cross the FFI, with their conversions to and from the core's
//! types. No rule is decided here.

use hadir_core::api::DevicePerson;
use hadir_core::api::{
    CheckInResult, CheckInStatus, LeaveInfo, LeaveKind, TeamAttendance, TeamCheckIn, TeamEvent,
    TeamMember,
};
use hadir_core::fix::{FixProvider, GpsFix};
use hadir_core::geofence::GeofenceVerdict;
use hadir_core::ids::{DeviceLabel, PersonId, PersonIdKind};
use hadir_core::schedule::{DayState, ExpectedAttendance};
use hadir_core::wire;
use hadir_device::device::{self, DeviceError};
use hadir_device::store::{EnrolledPerson, HistoryEntry, OutboxState, StoreError};

use crate::error::HadirError;

/// How to open the engine.
#[derive(Debug, Clone, uniffi::Record)]
pub struct EngineConfig {
    /// Path of the SQLite file in the app's private storage.
    pub database_path: String,
    /// The server's base URL, e.g. `https://hadir.bengkulukota.go.id`.
    pub server_url: String,
    /// SHA-256 fingerprints (hex) of the server certificate to pin; empty: no pinning.
    pub pinned_cert_sha256: Vec<String>,
    /// An extra trusted root certificate (DER), e.g. the province's own CA.
    pub extra_root_cert_der: Option<Vec<u8>>,
    /// The app's version, e.g. `1.0.3 (android)`.
    pub app_version: String,
    /// `android` or `ios`.
    pub platform: String,
}

/// The kind of a person identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PersonKind {
    /// NIP of a PNS (18 digits).
    Nip,
    /// NI PPPK of a contract ASN (18 digits).
    NiPppk,
    /// Regency-issued id of honorer / non-ASN staff.
    NonAsn,
}

/// A person identifier as typed or stored by the shell.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PersonRef {
    /// Its kind.
    pub kind: PersonKind,
    /// The identifier as issued.
    pub value: String,
}

impl PersonRef {
    /// The core's identifier; `field` names the parameter in errors.
    pub(crate) fn to_core(&self, field: &'static str) -> Result<PersonId, DeviceError> {
        let kind = match self.kind {
            PersonKind::Nip => PersonIdKind::Nip,
            PersonKind::NiPppk => PersonIdKind::NiPppk,
            PersonKind::NonAsn => PersonIdKind::NonAsn,
        };
        PersonId::parse(kind, &self.value)
            .map_err(|source| DeviceError::InvalidId { field, source })
    }

    /// A person as the phone's store keys them (`kind:value`); anything else is
    /// `STORE_CORRUPT`.
    pub(crate) fn from_stored(keyed: &str) -> Result<Self, DeviceError> {
        let id: PersonId = keyed.parse().map_err(|e| {
            DeviceError::Store(StoreError::Corrupt(format!("stored person {keyed:?}: {e}")))
        })?;
        Ok(PersonRef::from_core(&id))
    }

    pub(crate) fn from_core(id: &PersonId) -> Self {
        PersonRef {
            kind: match id.kind() {
                PersonIdKind::Nip => PersonKind::Nip,
                PersonIdKind::NiPppk => PersonKind::NiPppk,
                PersonIdKind::NonAsn => PersonKind::NonAsn,
            },
            value: id.value().to_string(),
        }
    }
}

/// The kind of a device label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DeviceLabelKind {
    /// An IMEI (MDM-managed phones only; checked with Luhn).
    Imei,
    /// The platform's per-app device id (`ANDROID_ID`, `identifierForVendor`).
    PlatformId,
}

/// A human label for the phone, recorded by the server (never a secret).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeviceLabelInput {
    /// Its kind.
    pub kind: DeviceLabelKind,
    /// Its value.
    pub value: String,
}

impl DeviceLabelInput {
    pub(crate) fn to_core(&self) -> Result<DeviceLabel, DeviceError> {
        let label = match self.kind {
            DeviceLabelKind::Imei => DeviceLabel::Imei(self.value.trim().to_string()),
            DeviceLabelKind::PlatformId => DeviceLabel::PlatformId(self.value.trim().to_string()),
        };
        label.validate().map_err(|source| DeviceError::InvalidId {
            field: "device_label",
            source,
        })?;
        Ok(label)
    }
}

/// Which location provider produced a fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LocationProvider {
    /// Satellites.
    Gps,
    /// Cell towers / Wi-Fi.
    Network,
    /// The platform's fused provider.
    Fused,
    /// Not reported.
    Unknown,
}

/// A GPS fix from the platform.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct LocationFix {
    /// Latitude, WGS84 degrees.
    pub latitude: f64,
    /// Longitude, WGS84 degrees.
    pub longitude: f64,
    /// Horizontal accuracy radius in metres.
    pub accuracy_m: f64,
    /// When the fix was taken, Unix ms (the platform's fix time).
    pub fix_time_ms: i64,
    /// Provider.
    pub provider: LocationProvider,
    /// The OS mock-location flag (`Location.isMock`, `isSimulatedBySoftware`).
    pub is_mock: bool,
}

impl LocationFix {
    pub(crate) fn to_core(&self) -> GpsFix {
        GpsFix {
            latitude: self.latitude,
            longitude: self.longitude,
            accuracy_m: self.accuracy_m,
            fix_time_ms: self.fix_time_ms,
            provider: match self.provider {
                LocationProvider::Gps => FixProvider::Gps,
                LocationProvider::Network => FixProvider::Network,
                LocationProvider::Fused => FixProvider::Fused,
                LocationProvider::Unknown => FixProvider::Unknown,
            },
            is_mock: self.is_mock,
        }
    }
}

/// Which of the day's attendance times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AttendanceKind {
    /// Arrival ("Masuk").
    CheckIn,
    /// Start of the break ("Istirahat").
    BreakStart,
    /// Back from the break ("Kembali").
    BreakEnd,
    /// Leaving ("Pulang").
    CheckOut,
    /// A kind a newer server sent that this version does not know (in a schedule, the
    /// team view, the next expected time): shown as "Lainnya". Checking in with it is
    /// refused (`ATTENDANCE_KIND_UNKNOWN`, field `kind`).
    Unknown,
}

impl AttendanceKind {
    pub(crate) fn to_core(self) -> wire::AttendanceKind {
        match self {
            AttendanceKind::CheckIn => wire::AttendanceKind::CheckIn,
            AttendanceKind::BreakStart => wire::AttendanceKind::BreakStart,
            AttendanceKind::BreakEnd => wire::AttendanceKind::BreakEnd,
            AttendanceKind::CheckOut => wire::AttendanceKind::CheckOut,
            AttendanceKind::Unknown => wire::AttendanceKind::Unknown,
        }
    }

    pub(crate) fn from_core(kind: wire::AttendanceKind) -> Self {
        match kind {
            wire::AttendanceKind::CheckIn => AttendanceKind::CheckIn,
            wire::AttendanceKind::BreakStart => AttendanceKind::BreakStart,
            wire::AttendanceKind::BreakEnd => AttendanceKind::BreakEnd,
            wire::AttendanceKind::CheckOut => AttendanceKind::CheckOut,
            wire::AttendanceKind::Unknown => AttendanceKind::Unknown,
        }
    }
}

/// The geofence outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum GeofenceStatus {
    /// Inside an office zone.
    Inside,
    /// Outside; see the distance.
    Outside,
    /// The fix is too inaccurate to decide; wait for a better one.
    TooInaccurate,
    /// No office is configured for this person.
    NoOffices,
}

/// A failed fix check.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FixProblem {
    /// Stable code, e.g. `FIX_MOCK_LOCATION`.
    pub code: String,
    /// Indonesian message.
    pub message: String,
}

/// What the phone concludes from a fix, to tell the person before the camera opens.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct LocationVerdict {
    /// The geofence outcome.
    pub status: GeofenceStatus,
    /// The office inside which, or nearest to which, the fix lies.
    pub office_id: Option<String>,
    /// Its name.
    pub office_name: Option<String>,
    /// The zone inside which the fix lies.
    pub zone_id: Option<String>,
    /// Metres to the nearest office when outside.
    pub distance_m: Option<f64>,
    /// The accuracy limit broken, when too inaccurate.
    pub accuracy_limit_m: Option<f64>,
    /// Failed fix checks.
    pub problems: Vec<FixProblem>,
    /// True when the phone expects the server to accept.
    pub looks_ok: bool,
    /// Indonesian sentence(s) for the screen, e.g. "Anda berada 240 m dari Kantor...".
    pub message: String,
    /// The office named above asks for its monitor's QR: scan it before the selfie and
    /// pass it to `check_in` as `qr_token`.
    pub qr_required: bool,
}

impl LocationVerdict {
    pub(crate) fn from_core(check: &device::LocalCheck) -> Self {
        let (status, office_id, office_name, zone_id, distance_m, accuracy_limit_m) = match &check
            .verdict
        {
            GeofenceVerdict::Inside {
                office_id,
                office_name,
                zone_id,
                ..
            } => (
                GeofenceStatus::Inside,
                Some(office_id.clone()),
                Some(office_name.clone()),
                Some(zone_id.clone()),
                None,
                None,
            ),
            GeofenceVerdict::Outside {
                nearest_office_id,
                nearest_office_name,
                distance_m,
            } => (
                GeofenceStatus::Outside,
                Some(nearest_office_id.clone()),
                Some(nearest_office_name.clone()),
                None,
                Some(*distance_m),
                None,
            ),
            GeofenceVerdict::TooInaccurate { limit_m, .. } => (
                GeofenceStatus::TooInaccurate,
                None,
                None,
                None,
                None,
                Some(*limit_m),
            ),
            GeofenceVerdict::NoOffices => (GeofenceStatus::NoOffices, None, None, None, None, None),
        };
        LocationVerdict {
            status,
            office_id,
            office_name,
            zone_id,
            distance_m,
            accuracy_limit_m,
            problems: check
                .issues
                .iter()
                .map(|i| FixProblem {
                    code: i.code().to_string(),
                    message: i.staff_message(),
                })
                .collect(),
            looks_ok: check.looks_ok(),
            message: check.staff_message(),
            qr_required: check.qr_required,
        }
    }
}

/// Proof that a check-in is safely recorded on the phone.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CheckInReceipt {
    /// The check-in's id.
    pub checkin_id: String,
    /// Its trusted instant, Unix ms.
    pub recorded_at_ms: i64,
    /// Whether that instant is anchored to the server's clock.
    pub time_anchored: bool,
    /// What the phone concluded.
    pub verdict: LocationVerdict,
    /// SHA-256 of the normalised selfie.
    pub selfie_sha256: String,
    /// Check-ins waiting to be sent, this one included.
    pub pending_count: u32,
}

impl CheckInReceipt {
    pub(crate) fn from_core(r: &device::CheckInReceipt) -> Self {
        CheckInReceipt {
            checkin_id: r.checkin_id.clone(),
            recorded_at_ms: r.recorded_at_ms,
            time_anchored: r.time_anchored,
            verdict: LocationVerdict::from_core(&r.local),
            selfie_sha256: r.selfie_sha256.clone(),
            pending_count: r.pending_count,
        }
    }
}

/// The server's decision status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DecisionStatus {
    /// Attendance recorded.
    Accepted,
    /// Recorded, with flags for a supervisor.
    AcceptedWithFlags,
    /// Not attendance (final).
    Rejected,
    /// Not decided yet; the phone sends it again later.
    RetryLater,
    /// A status a newer server sent that this version does not know: not attendance,
    /// for a supervisor to review; the phone keeps the check-in and asks again.
    Unknown,
}

impl DecisionStatus {
    pub(crate) fn from_core(status: CheckInStatus) -> Self {
        match status {
            CheckInStatus::Accepted => DecisionStatus::Accepted,
            CheckInStatus::AcceptedWithFlags => DecisionStatus::AcceptedWithFlags,
            CheckInStatus::Rejected => DecisionStatus::Rejected,
            CheckInStatus::RetryLater => DecisionStatus::RetryLater,
            CheckInStatus::Unknown => DecisionStatus::Unknown,
        }
    }
}

/// How the server derived a check-in's trusted instant. A newer server may send a source
/// this version does not know: it arrives as `Unknown`, never as an error.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum TrustedTimeSource {
    /// From a server anchor and the phone's monotonic clock of the same boot (proven).
    Anchored,
    /// From the phone's wall clock alone (no anchor, or a reboot since): unproven.
    DeviceClock,
    /// The phone claimed a time after the server received it; cut to the receipt.
    ServerReceipt,
    /// A source this version does not know, as the server named it.
    Unknown {
        /// The server's name for it.
        value: String,
    },
}

impl TrustedTimeSource {
    /// Converts the wire name (`anchored`, `device_clock`, `server_receipt`).
    pub(crate) fn from_wire(name: &str) -> Self {
        match name {
            "anchored" => TrustedTimeSource::Anchored,
            "device_clock" => TrustedTimeSource::DeviceClock,
            "server_receipt" => TrustedTimeSource::ServerReceipt,
            other => TrustedTimeSource::Unknown {
                value: other.to_string(),
            },
        }
    }
}

/// The server's decision on one check-in.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ServerDecision {
    /// The check-in's id.
    pub checkin_id: String,
    /// The outcome.
    pub status: DecisionStatus,
    /// Reason and flag codes.
    pub codes: Vec<String>,
    /// Indonesian explanation.
    pub message: String,
    /// The trusted instant the server assigned, Unix ms.
    pub trusted_time_ms: Option<i64>,
    /// How that instant was derived.
    pub time_source: Option<TrustedTimeSource>,
    /// Distance to the nearest office when outside, metres.
    pub distance_m: Option<f64>,
    /// With `LATE_DELIVERY`: how long after its trusted instant it reached the server, ms.
    #[uniffi(default = None)]
    pub delivery_delay_ms: Option<i64>,
}

impl ServerDecision {
    pub(crate) fn from_core(r: &CheckInResult) -> Self {
        ServerDecision {
            checkin_id: r.checkin_id.clone(),
            status: DecisionStatus::from_core(r.status),
            codes: r.codes.clone(),
            message: r.message.clone(),
            trusted_time_ms: r.trusted_time_ms,
            time_source: r.time_source.as_deref().map(TrustedTimeSource::from_wire),
            distance_m: r.distance_m,
            delivery_delay_ms: r.delivery_delay_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hadir_core::clock::TimeSource;

    #[test]
    fn every_time_source_the_core_writes_is_known_and_a_new_one_is_kept() {
        for (source, expected) in [
            (TimeSource::Anchored, TrustedTimeSource::Anchored),
            (TimeSource::DeviceClock, TrustedTimeSource::DeviceClock),
            (TimeSource::ServerReceipt, TrustedTimeSource::ServerReceipt),
        ] {
            let wire = serde_json::to_value(source).unwrap();
            let name = wire.as_str().expect("a time source is written as a name");
            assert_eq!(TrustedTimeSource::from_wire(name), expected);
        }
        assert_eq!(
            TrustedTimeSource::from_wire("gnss_time"),
            TrustedTimeSource::Unknown {
                value: "gnss_time".into()
            }
        );
    }
}

/// The outcome of a sync pass.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SyncReport {
    /// Accepted in this pass (with or without flags).
    pub accepted: u32,
    /// Of those, accepted with flags.
    pub flagged: u32,
    /// Rejected in this pass.
    pub rejected: u32,
    /// Still waiting.
    pub pending: u32,
    /// Each decision of this pass, in order.
    pub decisions: Vec<ServerDecision>,
    /// Why the pass stopped early, if it did.
    pub error_code: Option<String>,
    /// Indonesian message for that.
    pub error_message: Option<String>,
}

impl SyncReport {
    pub(crate) fn from_core(r: &device::SyncReport) -> Self {
        SyncReport {
            accepted: r.accepted,
            flagged: r.flagged,
            rejected: r.rejected,
            pending: r.pending,
            decisions: r.results.iter().map(ServerDecision::from_core).collect(),
            error_code: r.error.as_ref().map(|e| e.0.clone()),
            error_message: r.error.as_ref().map(|e| e.1.clone()),
        }
    }

    /// A pass that could not run at all (e.g. the store failed).
    pub(crate) fn failed(error: &HadirError, pending: u32) -> Self {
        SyncReport {
            accepted: 0,
            flagged: 0,
            rejected: 0,
            pending,
            decisions: vec![],
            error_code: Some(error.code().to_string()),
            error_message: Some(error.staff_message().to_string()),
        }
    }
}

/// When sync last ran and last reached the server: for "terakhir tersinkron" on the
/// home screen, and to notice that the phone's battery saver stopped background sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct SyncStatus {
    /// When the last pass started, Unix ms (server-anchored), if one ever did.
    pub last_attempt_ms: Option<i64>,
    /// When a pass last reached the server, Unix ms (server-anchored).
    pub last_success_ms: Option<i64>,
    /// Check-ins waiting to be sent.
    pub pending: u32,
}

impl SyncStatus {
    pub(crate) fn from_core(s: &device::SyncStatus) -> Self {
        SyncStatus {
            last_attempt_ms: s.last_attempt_ms,
            last_success_ms: s.last_success_ms,
            pending: s.pending,
        }
    }
}

/// Upload state of a check-in on the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum OutboxStatus {
    /// Waiting to be sent or decided.
    Pending,
    /// The server accepted it.
    Accepted,
    /// The server rejected it.
    Rejected,
}

/// One check-in in the history screen.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct HistoryItem {
    /// The check-in's id.
    pub checkin_id: String,
    /// Whose.
    pub person: PersonRef,
    /// Which attendance time.
    pub kind: AttendanceKind,
    /// Trusted instant, Unix ms.
    pub recorded_at_ms: i64,
    /// Upload state.
    pub status: OutboxStatus,
    /// The server's result code once decided.
    pub result_code: Option<String>,
    /// The server's message (rejections).
    pub result_message: Option<String>,
    /// Failed upload attempts so far.
    pub attempts: u32,
    /// The server's whole decision once decided (status with flags, every code, its
    /// message, the trusted time): what the history screen shows as reasons.
    pub decision: Option<ServerDecision>,
}

impl HistoryItem {
    /// Fails on an attendance kind this version does not know (`STORE_CORRUPT`): it is
    /// never shown as another kind.
    pub(crate) fn from_core(h: &HistoryEntry) -> Result<Self, DeviceError> {
        let kind = wire::AttendanceKind::parse(&h.kind).ok_or_else(|| {
            DeviceError::Store(StoreError::Corrupt(format!(
                "check-in {} has an unknown attendance kind {:?}",
                h.checkin_id, h.kind
            )))
        })?;
        Ok(HistoryItem {
            checkin_id: h.checkin_id.clone(),
            person: PersonRef::from_stored(&h.person_id)?,
            kind: AttendanceKind::from_core(kind),
            recorded_at_ms: h.recorded_at_ms,
            status: match h.state {
                OutboxState::Pending => OutboxStatus::Pending,
                OutboxState::Accepted => OutboxStatus::Accepted,
                OutboxState::Rejected => OutboxStatus::Rejected,
            },
            result_code: h.result_code.clone(),
            result_message: h.result_message.clone(),
            attempts: h.attempts,
            decision: h.result().as_ref().map(ServerDecision::from_core),
        })
    }
}

/// A person who may check in on this phone.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EnrolledPersonInfo {
    /// Their identifier, with its kind.
    pub person: PersonRef,
    /// Their name.
    pub display_name: String,
    /// True for the phone's owner; false for a colleague sharing it.
    pub is_device_owner: bool,
    /// Offices where they may check in (from the last config).
    pub office_ids: Vec<String>,
    /// True when they supervise a team they may open on this phone (from the last
    /// config).
    pub is_supervisor: bool,
    /// Set while an admin has suspended attendance by phone for them (from the last
    /// config): the Indonesian notice to show instead of the check-in button. The server
    /// refuses check-ins made after the switch with `PHONE_ATTENDANCE_SUSPENDED`.
    pub phone_suspended_notice: Option<String>,
}

impl EnrolledPersonInfo {
    /// A person enrolled here, with what the last config says of them (`listed`).
    pub(crate) fn from_core(
        p: &EnrolledPerson,
        listed: Option<&DevicePerson>,
    ) -> Result<Self, DeviceError> {
        Ok(EnrolledPersonInfo {
            person: PersonRef::from_stored(&p.person_id)?,
            display_name: p.display_name.clone(),
            is_device_owner: p.is_device_owner,
            office_ids: listed.map(|d| d.office_ids.clone()).unwrap_or_default(),
            is_supervisor: listed.is_some_and(|d| d.is_supervisor),
            phone_suspended_notice: listed
                .and_then(|d| d.phone_suspended.as_ref())
                .map(|s| s.staff_notice()),
        })
    }

    /// A person as the server listed them at enrollment.
    pub(crate) fn from_listed(p: &DevicePerson) -> Self {
        EnrolledPersonInfo {
            person: PersonRef::from_core(&p.person),
            display_name: p.display_name.clone(),
            is_device_owner: p.is_device_owner,
            office_ids: p.office_ids.clone(),
            is_supervisor: p.is_supervisor,
            phone_suspended_notice: p.phone_suspended.as_ref().map(|s| s.staff_notice()),
        }
    }
}

/// The time as a person's office keeps it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LocalTime {
    /// The server-anchored now, Unix ms.
    pub now_ms: i64,
    /// The office's UTC offset in minutes (WIB 420, WITA 480, WIT 540).
    pub utc_offset_minutes: i32,
    /// The date there, `YYYY-MM-DD`.
    pub date: String,
}

impl LocalTime {
    pub(crate) fn from_core(t: &device::LocalTime) -> Self {
        LocalTime {
            now_ms: t.now_ms,
            utc_offset_minutes: t.utc_offset_minutes,
            date: t.date.format("%Y-%m-%d").to_string(),
        }
    }
}

/// When an attendance is due.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ExpectedTime {
    /// Which attendance.
    pub kind: AttendanceKind,
    /// Office-local date, `YYYY-MM-DD`.
    pub date: String,
    /// Office-local time, `HH:MM`.
    pub at: String,
    /// The instant it is due, Unix ms.
    pub due_ms: i64,
    /// True when its time has passed.
    pub overdue: bool,
}

impl ExpectedTime {
    pub(crate) fn from_core(e: &ExpectedAttendance) -> Self {
        ExpectedTime {
            kind: AttendanceKind::from_core(e.kind),
            date: hadir_core::schedule::iso_date::format(e.date),
            at: e.at.to_string(),
            due_ms: e.due_ms,
            overdue: e.overdue,
        }
    }
}

/// The next attendance a person is expected to record, for the home screen.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NextAttendance {
    /// The office whose schedule applies.
    pub office_id: String,
    /// Its name.
    pub office_name: String,
    /// What and when.
    pub expected: ExpectedTime,
    /// One Indonesian sentence, e.g. "Absen masuk hari ini pukul 07:30."
    pub staff_message: String,
}

impl NextAttendance {
    pub(crate) fn from_core(n: &device::NextAttendance) -> Self {
        NextAttendance {
            office_id: n.office_id.clone(),
            office_name: n.office_name.clone(),
            expected: ExpectedTime::from_core(&n.expected),
            staff_message: n.staff_message.clone(),
        }
    }
}

/// Where a team member stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DayStatus {
    /// Nothing is due (weekend, holiday).
    DayOff,
    /// On approved leave.
    OnLeave,
    /// The arrival time has not come yet.
    NotYet,
    /// Past the arrival time, no arrival yet; the day is not over.
    NotArrived,
    /// Arrived on time.
    Present,
    /// Arrived late.
    Late,
    /// The day ended with no arrival.
    Absent,
    /// A state a newer server sent that this version does not know.
    Unknown,
}

impl DayStatus {
    pub(crate) fn from_core(s: DayState) -> Self {
        match s {
            DayState::DayOff => DayStatus::DayOff,
            DayState::OnLeave => DayStatus::OnLeave,
            DayState::NotYet => DayStatus::NotYet,
            DayState::NotArrived => DayStatus::NotArrived,
            DayState::Present => DayStatus::Present,
            DayState::Late => DayStatus::Late,
            DayState::Absent => DayStatus::Absent,
            DayState::Unknown => DayStatus::Unknown,
        }
    }
}

/// Kinds of approved leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LeaveType {
    /// Cuti.
    Cuti,
    /// Sick leave.
    Sakit,
    /// Official travel.
    DinasLuar,
    /// Permission (izin).
    Izin,
    /// A kind of leave a newer server sent that this version does not know (still
    /// leave: the day is excused as the server said).
    Unknown,
}

/// Approved leave covering the day.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LeaveSummary {
    /// Its kind.
    pub kind: LeaveType,
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day, `YYYY-MM-DD`.
    pub to: String,
    /// The admin's note.
    pub note: String,
}

impl LeaveSummary {
    pub(crate) fn from_core(l: &LeaveInfo) -> Self {
        LeaveSummary {
            kind: match l.kind {
                LeaveKind::Cuti => LeaveType::Cuti,
                LeaveKind::Sakit => LeaveType::Sakit,
                LeaveKind::DinasLuar => LeaveType::DinasLuar,
                LeaveKind::Izin => LeaveType::Izin,
                LeaveKind::Unknown => LeaveType::Unknown,
            },
            from: hadir_core::schedule::iso_date::format(l.from),
            to: hadir_core::schedule::iso_date::format(l.to),
            note: l.note.clone(),
        }
    }
}

/// A team member's check-in as the supervisor sees it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct TeamCheckInInfo {
    /// The check-in's id.
    pub checkin_id: String,
    /// Which attendance.
    pub kind: AttendanceKind,
    /// The server's decision.
    pub status: DecisionStatus,
    /// Reason and flag codes.
    pub codes: Vec<String>,
    /// The trusted instant, Unix ms.
    pub trusted_time_ms: Option<i64>,
    /// The office it counted for.
    pub office_id: Option<String>,
    /// Distance to the nearest office when outside, metres.
    pub distance_m: Option<f64>,
    /// The device that carried it.
    pub device_id: String,
    /// With `LATE_DELIVERY`: the delivery delay, ms (show it; never "on time").
    #[uniffi(default = None)]
    pub delivery_delay_ms: Option<i64>,
}

impl TeamCheckInInfo {
    pub(crate) fn from_core(c: &TeamCheckIn) -> Self {
        TeamCheckInInfo {
            checkin_id: c.checkin_id.clone(),
            kind: AttendanceKind::from_core(c.kind),
            status: DecisionStatus::from_core(c.status),
            codes: c.codes.clone(),
            trusted_time_ms: c.trusted_time_ms,
            office_id: c.office_id.clone(),
            distance_m: c.distance_m,
            device_id: c.device_id.clone(),
            delivery_delay_ms: c.delivery_delay_ms,
        }
    }
}

/// One row of the team screen.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct TeamMemberInfo {
    /// Who.
    pub person: PersonRef,
    /// Their name.
    pub display_name: String,
    /// The office-local date the row describes, `YYYY-MM-DD` (an event for a check-in
    /// that arrives late from an offline phone may describe an earlier day).
    pub date: String,
    /// The office whose schedule applies.
    pub office_id: Option<String>,
    /// Where they stand.
    pub status: DayStatus,
    /// Minutes late on arrival, when late.
    pub late_minutes: Option<u32>,
    /// Deduction codes so far (`TL1`…`TL4`, `PSW1`…`PSW4`).
    pub deviation_codes: Vec<String>,
    /// True when a check-in carries flags to review or was rejected.
    pub flagged: bool,
    /// Leave covering the day.
    pub leave: Option<LeaveSummary>,
    /// The holiday's name, if the day is one.
    pub holiday: Option<String>,
    /// The next attendance expected (today only).
    pub next_expected: Option<ExpectedTime>,
    /// The day's check-ins, oldest first.
    pub checkins: Vec<TeamCheckInInfo>,
}

impl TeamMemberInfo {
    pub(crate) fn from_core(m: &TeamMember) -> Self {
        TeamMemberInfo {
            person: PersonRef::from_core(&m.person),
            display_name: m.display_name.clone(),
            date: hadir_core::schedule::iso_date::format(m.date),
            office_id: m.office_id.clone(),
            status: DayStatus::from_core(m.state),
            late_minutes: m.late_minutes,
            deviation_codes: m.deviation_codes.clone(),
            flagged: m.flagged,
            leave: m.leave.as_ref().map(LeaveSummary::from_core),
            holiday: m.holiday.clone(),
            next_expected: m.next_expected.as_ref().map(ExpectedTime::from_core),
            checkins: m.checkins.iter().map(TeamCheckInInfo::from_core).collect(),
        }
    }
}

/// A supervisor's team on one day.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct TeamView {
    /// The supervisor.
    pub supervisor: PersonRef,
    /// The office-local date, `YYYY-MM-DD`.
    pub date: String,
    /// The members, by name.
    pub members: Vec<TeamMemberInfo>,
    /// Pass to [`crate::engine::HadirEngine::subscribe_team`] so no check-in is missed
    /// between this view and the live feed.
    pub cursor: i64,
    /// The server's instant, Unix ms.
    pub server_time_ms: i64,
}

impl TeamView {
    pub(crate) fn from_core(t: &TeamAttendance) -> Self {
        TeamView {
            supervisor: PersonRef::from_core(&t.supervisor),
            date: hadir_core::schedule::iso_date::format(t.date),
            members: t.members.iter().map(TeamMemberInfo::from_core).collect(),
            cursor: t.cursor,
            server_time_ms: t.server_time_ms,
        }
    }
}

/// A team member's new check-in, with their updated row.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct TeamUpdate {
    /// Position in the feed.
    pub seq: i64,
    /// The check-in.
    pub checkin: TeamCheckInInfo,
    /// The member's day including it: replace their row with it.
    pub member: TeamMemberInfo,
}

impl TeamUpdate {
    pub(crate) fn from_core(e: &TeamEvent) -> Self {
        TeamUpdate {
            seq: e.seq,
            checkin: TeamCheckInInfo::from_core(&e.checkin),
            member: TeamMemberInfo::from_core(&e.member),
        }
    }
}

#[cfg(test)]
mod unknown_values {
    use super::*;

    /// What a newer server sends and this version does not know reaches the shells as
    /// `Unknown`, never as an error; known values map one to one.
    #[test]
    fn a_newer_servers_values_reach_the_shells_as_unknown() {
        let read = |json: &str| -> (wire::AttendanceKind, CheckInStatus, DayState, LeaveKind) {
            (
                serde_json::from_str(json).unwrap(),
                serde_json::from_str(json).unwrap(),
                serde_json::from_str(json).unwrap(),
                serde_json::from_str(json).unwrap(),
            )
        };
        let (kind, status, state, leave) = read("\"from_a_newer_server\"");
        assert_eq!(AttendanceKind::from_core(kind), AttendanceKind::Unknown);
        assert_eq!(DecisionStatus::from_core(status), DecisionStatus::Unknown);
        assert_eq!(DayStatus::from_core(state), DayStatus::Unknown);
        let summary = LeaveSummary::from_core(&LeaveInfo {
            kind: leave,
            from: hadir_core::schedule::iso_date::parse("2026-12-01").unwrap(),
            to: hadir_core::schedule::iso_date::parse("2026-12-01").unwrap(),
            note: String::new(),
        });
        assert_eq!(summary.kind, LeaveType::Unknown);
        for kind in wire::AttendanceKind::KNOWN {
            assert_eq!(AttendanceKind::from_core(kind).to_core(), kind);
        }
        assert_eq!(
            DecisionStatus::from_core(CheckInStatus::AcceptedWithFlags),
            DecisionStatus::AcceptedWithFlags
        );
        assert_eq!(DayStatus::from_core(DayState::Late), DayStatus::Late);
    }
}
