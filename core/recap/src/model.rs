//! The recap's inputs and outputs, shared by the counting rules ([`crate::count`]), the
//! server that feeds them from storage, and the exports that print them. Plain data:
//! every rule lives in the counting code, never here.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use hadir_core::schedule::OfficeSchedule;
use hadir_core::wire::AttendanceKind;
use serde::{Deserialize, Serialize};

/// A calendar month, e.g. 2026-11.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Month {
    /// Year, e.g. 2026.
    pub year: i32,
    /// 1–12.
    pub month: u32,
}

/// Where an attendance record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordSource {
    /// A check-in the server accepted (with or without flags) from a phone.
    Phone,
    /// A punch of a face or fingerprint machine (attlog import): no kind, mapped to the
    /// nearest scheduled time.
    Machine,
    /// An attendance an admin recorded by correction.
    Manual,
}

/// One attendance record that counts: the caller has already dropped rejected and
/// overturned check-ins and added those accepted after review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Punch {
    /// Its trusted instant, Unix ms (a machine's already corrected by its clock offset).
    pub at_ms: i64,
    /// The attendance it records; `None` for a machine punch.
    pub kind: Option<AttendanceKind>,
    /// Where it came from.
    pub source: RecordSource,
    /// The check-in id, `machine:<id>:<user>:<timestamp>` or `correction:<seq>`.
    pub reference: String,
}

/// Approved leave of one kind over a date range (inclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaveSpan {
    /// `cuti`, `sakit`, `dinas_luar`, `izin`, ...
    pub kind: String,
    /// First day.
    pub from: NaiveDate,
    /// Last day, inclusive.
    pub to: NaiveDate,
}

/// Everything one person's month is counted from.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonMonthInput {
    /// The month.
    pub month: Month,
    /// The schedule of the person's first office (week, periods, holidays; the pemda's
    /// holidays already merged in).
    pub schedule: OfficeSchedule,
    /// That office's UTC offset, minutes.
    pub utc_offset_minutes: i32,
    /// The records that count, any order; records outside the month (the day before for
    /// a shift across midnight, the day after for its end) may be included.
    pub punches: Vec<Punch>,
    /// Approved leave (any that overlaps the month).
    pub leaves: Vec<LeaveSpan>,
    /// Whole days of manual attendance ("dispensasi": official duty elsewhere), counted
    /// present without deviation.
    pub dispensations: Vec<NaiveDate>,
    /// Whether an admin recorded proven manipulation for this person and month.
    pub manipulation: bool,
    /// The person's monthly TPP in rupiah, when known.
    pub tpp_rupiah: Option<i64>,
    /// The first day the person's attendance is counted (a new hire, or the pemda's
    /// first day on Hadir): days before it are not working days for them.
    pub counted_from: Option<NaiveDate>,
    /// Now, Unix ms: a day not over yet is not counted absent, nor its check-out missing.
    pub now_ms: i64,
}

/// What a working day came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayOutcome {
    /// Not a working day (weekend, holiday).
    DayOff,
    /// Present (possibly late or leaving early: see the codes).
    Present,
    /// Present by dispensation.
    Dispensation,
    /// On approved leave.
    Leave,
    /// Absent without notice (TK).
    Absent,
    /// A working day not over yet with nothing recorded: counted neither way.
    NotYet,
}

/// One day of the month as counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountedDay {
    /// The office-local date.
    pub date: NaiveDate,
    /// What it came to.
    pub outcome: DayOutcome,
    /// Deduction codes of the day, e.g. `TL2`, `PSW4`, `TK`.
    pub codes: Vec<String>,
    /// The leave kind, on a leave day.
    pub leave_kind: Option<String>,
    /// The holiday's name, on a holiday.
    pub holiday: Option<String>,
    /// The period in effect (Ramadan), if any.
    pub period: Option<String>,
    /// True when a machine punch counted that day.
    pub machine: bool,
}

/// A person's month, counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonMonth {
    /// Working days (schedule, holidays and periods).
    pub working_days: u32,
    /// Days present (records or dispensation).
    pub present_days: u32,
    /// Of which by dispensation.
    pub dispensation_days: u32,
    /// TL1–TL4 counts.
    pub tl: [u32; 4],
    /// PSW1–PSW4 counts.
    pub psw: [u32; 4],
    /// Days absent without notice.
    pub tk_days: u32,
    /// Leave days (working days only) by kind.
    pub leave_days: BTreeMap<String, u32>,
    /// Days on which a machine punch counted.
    pub machine_days: u32,
    /// The month's deduction in basis points of the attendance part, capped.
    pub deduction_bp: u32,
    /// The share of the attendance part paid, basis points (10000 − deduction, or 0
    /// after proven manipulation).
    pub paid_share_bp: u32,
    /// Whether proven manipulation zeroed the month.
    pub manipulation: bool,
    /// The attendance part of TPP in rupiah (TPP × the table's attendance weight),
    /// when the TPP is known.
    pub attendance_part_rupiah: Option<i64>,
    /// What of it is paid, rounded half up to a whole rupiah.
    pub paid_rupiah: Option<i64>,
    /// Every day of the month.
    pub days: Vec<CountedDay>,
    /// Punches of the month's dates that matched no scheduled time (a kinded punch
    /// more than 12 hours from any time of its kind, a machine punch outside the
    /// table's window): they do not count.
    #[serde(default)]
    pub unmatched_punches: u32,
}

/// One person's line in the recap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecapRow {
    /// `kind:value`, e.g. `nip:198503122010011003`.
    pub person_key: String,
    /// The id's kind: `nip`, `ni_pppk`, `non_asn`.
    pub id_kind: String,
    /// The id's value.
    pub id_value: String,
    /// Name as on the roster.
    pub display_name: String,
    /// The unit (OPD) id.
    pub unit_id: String,
    /// The unit's name.
    pub unit_name: String,
    /// The person's monthly TPP in rupiah as on the roster, when known (the exports
    /// print it beside the attendance part computed from it).
    pub tpp_rupiah: Option<i64>,
    /// The month counted.
    pub counted: PersonMonth,
    /// Sequence numbers of the corrections that applied to this person's month.
    pub corrections: Vec<i64>,
    /// Flagged check-ins of the month not yet reviewed (they count until overturned).
    pub flags_pending: u32,
}

/// A pemda's (or one unit's) recap of a month, rows ordered by unit then name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PemdaRecap {
    /// The pemda's name, e.g. "Kabupaten Bengkulu Utara".
    pub pemda: String,
    /// The month.
    pub month: Month,
    /// The table it was counted with.
    pub table: crate::deductions::DeductionTable,
    /// Whether the month is closed (locked).
    pub closed: bool,
    /// When it was computed, Unix ms.
    pub computed_ms: i64,
    /// One row per person.
    pub rows: Vec<RecapRow>,
}
