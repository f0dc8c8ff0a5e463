//! Working-time rules, shared by phone and server so they never disagree about when an
//! attendance time is due or how late someone was.
//!
//! * An [`OfficeSchedule`] gives each weekday up to four [`AttendanceTime`]s (e.g.
//!   07:45 in, 12:00 break, 13:00 back, 16:00 out), date ranges with their own week
//!   (Ramadan) and holidays. Every time is configuration: the national default
//!   ([`OfficeSchedule::perpres_21_2023`]) is only what an office gets until its regency
//!   sets its own.
//! * Times are local to the office; [`local_date`] and [`instant_of`] convert with the
//!   office's fixed UTC offset (Indonesia has no daylight saving), so a check-in lands
//!   on the office's calendar day, never the phone's or the server's.
//! * [`deviation`] measures lateness (TL, arriving after the time) and early leave
//!   (PSW, leaving before it) in the bands the deduction tables use: 1–30, 31–60, 61–90
//!   and ≥ 91 minutes.
//! * A night shift (24-hour units) marks its times after midnight
//!   [`AttendanceTime::next_day`]: they are due the day after the plan's date
//!   ([`AttendanceTime::instant_on`]), and the shift counts toward the day it starts.
//! * [`next_expected`] answers "what should this person record next, and by when?";
//!   [`day_status`] answers "where is this person today?" for a supervisor's team view.
//!
//! Domain facts relied on (DESIGN.md): Perpres 21/2023 sets 37.5 hours a week without
//! breaks, Monday–Friday from 07:30, breaks of 60 minutes (Friday 90); regencies set
//! their own windows on top; Ramadan weeks are shorter (typically 08:00–15:00, Friday
//! 08:00–15:30).

use std::fmt;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::wire::AttendanceKind;

/// Most attendance times in one day.
pub const MAX_TIMES_PER_DAY: usize = 4;

const MS_PER_MINUTE: i64 = 60_000;
const MS_PER_DAY: i64 = 86_400_000;

/// A local time of day, minute precision, written `HH:MM` in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime {
    minutes: u16,
}

impl ClockTime {
    /// `hour:minute`; `None` outside 00:00–23:59.
    pub fn new(hour: u32, minute: u32) -> Option<Self> {
        (hour < 24 && minute < 60).then(|| ClockTime {
            minutes: (hour * 60 + minute) as u16,
        })
    }

    /// Parses `HH:MM` (two-digit hour and minute).
    pub fn parse(text: &str) -> Option<Self> {
        let (h, m) = text.split_once(':')?;
        if h.len() != 2 || m.len() != 2 || !(h.bytes().chain(m.bytes())).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        ClockTime::new(h.parse().ok()?, m.parse().ok()?)
    }

    /// Minutes since local midnight.
    pub fn minutes_of_day(self) -> u32 {
        u32::from(self.minutes)
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.minutes / 60, self.minutes % 60)
    }
}

impl Serialize for ClockTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        ClockTime::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("{text:?} is not a time of day HH:MM (00:00–23:59)"))
        })
    }
}

/// One attendance time of a day: which kind is due and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendanceTime {
    /// Which attendance.
    pub kind: AttendanceKind,
    /// When it is due, office local time.
    pub at: ClockTime,
    /// True when the time falls on the day after the plan's date: the check-out of a
    /// night shift (24-hour units: RSUD, Damkar, Satpol PP), which counts toward the day
    /// the shift starts. Absent from JSON when false, so day-shift schedules read and
    /// write exactly as before.
    #[serde(default, skip_serializing_if = "is_false")]
    pub next_day: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl AttendanceTime {
    fn new(kind: AttendanceKind, hour: u32, minute: u32) -> Self {
        AttendanceTime {
            kind,
            at: ClockTime::new(hour, minute).expect("a valid constant time"),
            next_day: false,
        }
    }

    /// The instant (Unix ms) this time is due on the plan of `date`: the office-local
    /// time on `date`, or on the day after when [`AttendanceTime::next_day`]. The one
    /// place the next-day rule is decided.
    pub fn instant_on(&self, date: NaiveDate, utc_offset_minutes: i32) -> i64 {
        let day_after = if self.next_day { MS_PER_DAY } else { 0 };
        instant_of(date, self.at, utc_offset_minutes) + day_after
    }

    /// Minutes from the start of the plan's date, past 24 h for a next-day time.
    fn minutes_from_plan_start(&self) -> u32 {
        self.at.minutes_of_day() + if self.next_day { 24 * 60 } else { 0 }
    }
}

/// The attendance times of each weekday; a day with none is a day off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekSchedule {
    /// Monday.
    #[serde(default)]
    pub mon: Vec<AttendanceTime>,
    /// Tuesday.
    #[serde(default)]
    pub tue: Vec<AttendanceTime>,
    /// Wednesday.
    #[serde(default)]
    pub wed: Vec<AttendanceTime>,
    /// Thursday.
    #[serde(default)]
    pub thu: Vec<AttendanceTime>,
    /// Friday.
    #[serde(default)]
    pub fri: Vec<AttendanceTime>,
    /// Saturday (units that serve the public directly may keep a 6-day week).
    #[serde(default)]
    pub sat: Vec<AttendanceTime>,
    /// Sunday.
    #[serde(default)]
    pub sun: Vec<AttendanceTime>,
}

impl WeekSchedule {
    /// The times of one weekday.
    pub fn day(&self, weekday: Weekday) -> &[AttendanceTime] {
        match weekday {
            Weekday::Mon => &self.mon,
            Weekday::Tue => &self.tue,
            Weekday::Wed => &self.wed,
            Weekday::Thu => &self.thu,
            Weekday::Fri => &self.fri,
            Weekday::Sat => &self.sat,
            Weekday::Sun => &self.sun,
        }
    }

    fn days(&self) -> [(Weekday, &[AttendanceTime]); 7] {
        [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ]
        .map(|d| (d, self.day(d)))
    }

    /// Working minutes in the week: from the first to the last time of each day (across
    /// midnight for a next-day time), minus the break between `break_start` and
    /// `break_end`.
    pub fn working_minutes(&self) -> u32 {
        self.days()
            .iter()
            .map(|(_, times)| {
                let at = |k: AttendanceKind| {
                    times
                        .iter()
                        .find(|t| t.kind == k)
                        .map(|t| t.minutes_from_plan_start())
                };
                match (times.first(), times.last()) {
                    (Some(first), Some(last)) => {
                        let span = last
                            .minutes_from_plan_start()
                            .saturating_sub(first.minutes_from_plan_start());
                        let pause =
                            match (at(AttendanceKind::BreakStart), at(AttendanceKind::BreakEnd)) {
                                (Some(s), Some(e)) => e.saturating_sub(s),
                                _ => 0,
                            };
                        span.saturating_sub(pause)
                    }
                    _ => 0,
                }
            })
            .sum()
    }
}

/// A date range with its own week, e.g. Ramadan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedulePeriod {
    /// Name shown to staff, e.g. "Ramadan 1448 H".
    pub name: String,
    /// First day, inclusive (`YYYY-MM-DD`).
    #[serde(with = "iso_date")]
    pub from: NaiveDate,
    /// Last day, inclusive.
    #[serde(with = "iso_date")]
    pub to: NaiveDate,
    /// The week that applies in the range.
    pub week: WeekSchedule,
}

/// A day without attendance: a national holiday or a collective leave day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holiday {
    /// The date (`YYYY-MM-DD`).
    #[serde(with = "iso_date")]
    pub date: NaiveDate,
    /// Its name, e.g. "Hari Raya Idul Fitri".
    pub name: String,
}

/// An office's working time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficeSchedule {
    /// The regular week.
    pub week: WeekSchedule,
    /// Date ranges with their own week (Ramadan); they must not overlap.
    #[serde(default)]
    pub periods: Vec<SchedulePeriod>,
    /// Days without attendance.
    #[serde(default)]
    pub holidays: Vec<Holiday>,
    /// Minutes after an arrival time (or before a leaving time) that do not yet count
    /// as late (or early). 0 unless the regency grants a tolerance.
    #[serde(default)]
    pub tolerance_minutes: u32,
}

impl Default for OfficeSchedule {
    fn default() -> Self {
        OfficeSchedule::perpres_21_2023()
    }
}

/// Why a schedule is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// A day has more than [`MAX_TIMES_PER_DAY`] times.
    #[error("{day}: at most {MAX_TIMES_PER_DAY} attendance times a day")]
    TooManyTimes {
        /// Where.
        day: String,
    },
    /// Times of a day are not strictly increasing (a next-day time comes after every
    /// time of the day itself), or their kinds are out of order (arrival, break start,
    /// break end, leaving), or a kind repeats.
    #[error("{day}: times must increase and follow check_in, break_start, break_end, check_out")]
    OutOfOrder {
        /// Where.
        day: String,
    },
    /// A next-day time is not earlier than the day's first time: a shift must be
    /// shorter than 24 hours.
    #[error(
        "{day}: a next_day time must be earlier than the day's first time (a shift is under 24 hours)"
    )]
    ShiftTooLong {
        /// Where.
        day: String,
    },
    /// A day has a break start without its end, or the reverse.
    #[error("{day}: break_start and break_end go together")]
    UnpairedBreak {
        /// Where.
        day: String,
    },
    /// A period ends before it starts, or overlaps another.
    #[error("period {name:?}: {reason}")]
    BadPeriod {
        /// The period.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The tolerance is implausible (over two hours).
    #[error("tolerance_minutes must be at most 120")]
    BadTolerance,
    /// A time of a day has a kind this build does not know (a typo, or a kind only a
    /// newer version has): refused, so the server never stores what it cannot count.
    #[error("{day}: unknown attendance kind; use check_in, break_start, break_end or check_out")]
    UnknownKind {
        /// Where.
        day: String,
    },
    /// The regular week has no attendance time at all (a typo in the day names?).
    #[error("the week has no working day: write days as mon, tue, wed, thu, fri, sat, sun")]
    NoWorkingDay,
}

impl ScheduleError {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            ScheduleError::TooManyTimes { .. } => "SCHEDULE_TOO_MANY_TIMES",
            ScheduleError::OutOfOrder { .. } => "SCHEDULE_OUT_OF_ORDER",
            ScheduleError::ShiftTooLong { .. } => "SCHEDULE_SHIFT_TOO_LONG",
            ScheduleError::UnpairedBreak { .. } => "SCHEDULE_UNPAIRED_BREAK",
            ScheduleError::BadPeriod { .. } => "SCHEDULE_BAD_PERIOD",
            ScheduleError::BadTolerance => "SCHEDULE_BAD_TOLERANCE",
            ScheduleError::UnknownKind { .. } => "SCHEDULE_UNKNOWN_KIND",
            ScheduleError::NoWorkingDay => "SCHEDULE_NO_WORKING_DAY",
        }
    }
}

/// The place of a kind in the day. [`AttendanceKind::Unknown`] has none that could make
/// a known time "past": schedules refuse it and [`OfficeSchedule::day`] skips it.
fn kind_rank(kind: AttendanceKind) -> u8 {
    match kind {
        AttendanceKind::CheckIn | AttendanceKind::Unknown => 0,
        AttendanceKind::BreakStart => 1,
        AttendanceKind::BreakEnd => 2,
        AttendanceKind::CheckOut => 3,
    }
}

/// The JSON key of a weekday in [`WeekSchedule`].
fn day_key(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

fn validate_week(week: &WeekSchedule, context: &str) -> Result<(), ScheduleError> {
    for (weekday, times) in week.days() {
        let day = format!("{context}week.{}", day_key(weekday));
        if times.len() > MAX_TIMES_PER_DAY {
            return Err(ScheduleError::TooManyTimes { day });
        }
        if times.iter().any(|t| !t.kind.is_known()) {
            return Err(ScheduleError::UnknownKind { day });
        }
        let increasing = times.windows(2).all(|w| {
            (w[0].next_day, w[0].at) < (w[1].next_day, w[1].at)
                && kind_rank(w[0].kind) < kind_rank(w[1].kind)
        });
        if !increasing {
            return Err(ScheduleError::OutOfOrder { day });
        }
        if let Some(first) = times.first()
            && times.iter().any(|t| t.next_day && t.at >= first.at)
        {
            return Err(ScheduleError::ShiftTooLong { day });
        }
        let has = |k| times.iter().any(|t| t.kind == k);
        if has(AttendanceKind::BreakStart) != has(AttendanceKind::BreakEnd) {
            return Err(ScheduleError::UnpairedBreak { day });
        }
    }
    Ok(())
}

/// What a calendar day asks of a person at an office.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayPlan {
    /// The office-local date.
    pub date: NaiveDate,
    /// The times due that day, in order; empty on a day off.
    pub times: Vec<AttendanceTime>,
    /// The holiday's name, if it is one.
    pub holiday: Option<String>,
    /// The special period in effect (Ramadan), if any.
    pub period: Option<String>,
}

impl DayPlan {
    /// True when nothing is due.
    pub fn is_day_off(&self) -> bool {
        self.times.is_empty()
    }

    /// The time due for a kind, if the day has it.
    pub fn time_of(&self, kind: AttendanceKind) -> Option<ClockTime> {
        self.times.iter().find(|t| t.kind == kind).map(|t| t.at)
    }

    /// The instant the time of a kind is due, if the day has it (the day after the
    /// plan's date for a next-day time).
    pub fn instant_of_kind(&self, kind: AttendanceKind, utc_offset_minutes: i32) -> Option<i64> {
        self.times
            .iter()
            .find(|t| t.kind == kind)
            .map(|t| t.instant_on(self.date, utc_offset_minutes))
    }

    /// When the day is over: local midnight after its date, or its last time when that
    /// is later (a night shift's check-out the next morning). Until then a missing
    /// check-out is not yet missing, nor an absent person absent.
    pub fn over_ms(&self, utc_offset_minutes: i32) -> i64 {
        let midnight = day_start_ms(self.date, utc_offset_minutes) + MS_PER_DAY;
        self.times.last().map_or(midnight, |t| {
            t.instant_on(self.date, utc_offset_minutes).max(midnight)
        })
    }
}

impl OfficeSchedule {
    /// The national default of Perpres 21/2023: Monday–Thursday 07:30–16:00 with a
    /// 12:00–13:00 break, Friday 07:30–16:30 with an 11:30–13:00 break (90 min), which
    /// is 37.5 working hours a week; no Saturday, no holidays configured.
    pub fn perpres_21_2023() -> Self {
        use AttendanceKind::*;
        let weekday = vec![
            AttendanceTime::new(CheckIn, 7, 30),
            AttendanceTime::new(BreakStart, 12, 0),
            AttendanceTime::new(BreakEnd, 13, 0),
            AttendanceTime::new(CheckOut, 16, 0),
        ];
        let friday = vec![
            AttendanceTime::new(CheckIn, 7, 30),
            AttendanceTime::new(BreakStart, 11, 30),
            AttendanceTime::new(BreakEnd, 13, 0),
            AttendanceTime::new(CheckOut, 16, 30),
        ];
        OfficeSchedule {
            week: WeekSchedule {
                mon: weekday.clone(),
                tue: weekday.clone(),
                wed: weekday.clone(),
                thu: weekday,
                fri: friday,
                sat: vec![],
                sun: vec![],
            },
            periods: vec![],
            holidays: vec![],
            tolerance_minutes: 0,
        }
    }

    /// Checks the rules of [`ScheduleError`].
    pub fn validate(&self) -> Result<(), ScheduleError> {
        validate_week(&self.week, "")?;
        if self.week.days().iter().all(|(_, t)| t.is_empty()) {
            return Err(ScheduleError::NoWorkingDay);
        }
        if self.tolerance_minutes > 120 {
            return Err(ScheduleError::BadTolerance);
        }
        for p in &self.periods {
            if p.to < p.from {
                return Err(ScheduleError::BadPeriod {
                    name: p.name.clone(),
                    reason: "ends before it starts".into(),
                });
            }
            validate_week(&p.week, &format!("periods[{:?}].", p.name))?;
        }
        for (i, a) in self.periods.iter().enumerate() {
            if let Some(b) = self.periods[i + 1..]
                .iter()
                .find(|b| a.from <= b.to && b.from <= a.to)
            {
                return Err(ScheduleError::BadPeriod {
                    name: a.name.clone(),
                    reason: format!("overlaps {:?}", b.name),
                });
            }
        }
        Ok(())
    }

    /// What `date` (office-local) asks for. Times of a kind this build does not know
    /// ([`AttendanceKind::Unknown`], from a newer server's schedule) are skipped: a
    /// phone neither asks for nor counts what it cannot name.
    pub fn day(&self, date: NaiveDate) -> DayPlan {
        if let Some(h) = self.holidays.iter().find(|h| h.date == date) {
            return DayPlan {
                date,
                times: vec![],
                holiday: Some(h.name.clone()),
                period: None,
            };
        }
        let period = self.periods.iter().find(|p| p.from <= date && date <= p.to);
        let week = period.map_or(&self.week, |p| &p.week);
        DayPlan {
            date,
            times: week
                .day(date.weekday())
                .iter()
                .filter(|t| t.kind.is_known())
                .copied()
                .collect(),
            holiday: None,
            period: period.map(|p| p.name.clone()),
        }
    }
}

/// The office-local calendar date of an instant.
pub fn local_date(instant_ms: i64, utc_offset_minutes: i32) -> NaiveDate {
    let local_ms = instant_ms + i64::from(utc_offset_minutes) * MS_PER_MINUTE;
    let days = local_ms.div_euclid(MS_PER_DAY);
    NaiveDate::from_num_days_from_ce_opt(
        i32::try_from(days + 719_163).unwrap_or(i32::MAX), // 1970-01-01 is day 719,163
    )
    .unwrap_or(NaiveDate::MAX)
}

/// The instant (Unix ms) of a local time on an office-local date.
pub fn instant_of(date: NaiveDate, at: ClockTime, utc_offset_minutes: i32) -> i64 {
    day_start_ms(date, utc_offset_minutes) + i64::from(at.minutes_of_day()) * MS_PER_MINUTE
}

/// The instant local midnight begins `date`.
pub fn day_start_ms(date: NaiveDate, utc_offset_minutes: i32) -> i64 {
    let days = i64::from(date.num_days_from_ce()) - 719_163;
    days * MS_PER_DAY - i64::from(utc_offset_minutes) * MS_PER_MINUTE
}

/// The 30-minute bands of the deduction tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviationBand {
    /// 1–30 minutes.
    Band1,
    /// 31–60 minutes.
    Band2,
    /// 61–90 minutes.
    Band3,
    /// 91 minutes or more (or no record at all).
    Band4,
}

impl DeviationBand {
    /// The band of a deviation in whole minutes (≥ 1).
    pub fn of_minutes(minutes: u32) -> Self {
        match minutes {
            0..=30 => DeviationBand::Band1,
            31..=60 => DeviationBand::Band2,
            61..=90 => DeviationBand::Band3,
            _ => DeviationBand::Band4,
        }
    }

    /// 1 to 4.
    pub fn number(self) -> u8 {
        match self {
            DeviationBand::Band1 => 1,
            DeviationBand::Band2 => 2,
            DeviationBand::Band3 => 3,
            DeviationBand::Band4 => 4,
        }
    }
}

/// How an attendance deviated from its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deviation {
    /// True for arriving late (check_in, break_end: "TL"); false for leaving early
    /// (break_start, check_out: "PSW").
    pub late: bool,
    /// Whole minutes beyond the time, counted on the clock face the person sees
    /// (07:30:59 is still 07:30, so on time), after the tolerance: a deviation inside
    /// the tolerance is none at all. 0 when `missing`.
    pub minutes: u32,
    /// The deduction band of `minutes` ([`DeviationBand::Band4`] when `missing`).
    pub band: DeviationBand,
    /// True when there is no record at all (no arrival on a day worked, no check-out
    /// on a day over): the tables count it in the last band.
    pub missing: bool,
}

impl Deviation {
    /// The code of the deduction tables: `TL1`–`TL4` or `PSW1`–`PSW4`.
    pub fn code(&self) -> String {
        let prefix = if self.late { "TL" } else { "PSW" };
        format!("{prefix}{}", self.band.number())
    }

    /// No record of an arrival (`late`) or a leaving: counted in the last band.
    pub fn missing(late: bool) -> Self {
        Deviation {
            late,
            minutes: 0,
            band: DeviationBand::Band4,
            missing: true,
        }
    }

    /// Indonesian, e.g. "terlambat 12 menit" or "30 menit lebih awal".
    pub fn staff_phrase(&self) -> String {
        if self.missing {
            return if self.late {
                "tidak ada absen masuk".into()
            } else {
                "tidak ada absen pulang".into()
            };
        }
        if self.late {
            format!("terlambat {} menit", self.minutes)
        } else {
            format!("{} menit lebih awal", self.minutes)
        }
    }
}

/// The deviation of an attendance of `kind` at `actual_ms` from its time `due_ms`, or
/// `None` when on time (within `tolerance_minutes`). Minutes are compared as the clock
/// shows them (seconds dropped): the time on the screen and the minutes counted always
/// agree. The tolerance only decides whether there is a deviation; once there is one, it
/// is measured from the time itself, as the tables do.
pub fn deviation(
    kind: AttendanceKind,
    due_ms: i64,
    actual_ms: i64,
    tolerance_minutes: u32,
) -> Option<Deviation> {
    let late = matches!(kind, AttendanceKind::CheckIn | AttendanceKind::BreakEnd);
    let (due_min, actual_min) = (
        due_ms.div_euclid(MS_PER_MINUTE),
        actual_ms.div_euclid(MS_PER_MINUTE),
    );
    let beyond = if late {
        actual_min - due_min
    } else {
        due_min - actual_min
    };
    if beyond <= 0 || beyond <= i64::from(tolerance_minutes) {
        return None;
    }
    let minutes = u32::try_from(beyond).unwrap_or(u32::MAX);
    Some(Deviation {
        late,
        minutes,
        band: DeviationBand::of_minutes(minutes),
        missing: false,
    })
}

/// The next attendance a person is expected to record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedAttendance {
    /// Which attendance.
    pub kind: AttendanceKind,
    /// The office-local date it belongs to.
    #[serde(with = "iso_date")]
    pub date: NaiveDate,
    /// Its local time.
    pub at: ClockTime,
    /// The instant it is due, Unix ms.
    pub due_ms: i64,
    /// True when its time has passed (recording it now is late, or it is the leaving
    /// time and the day's work is done).
    pub overdue: bool,
}

impl ExpectedAttendance {
    /// One Indonesian sentence for the check-in screen, e.g. "Absen masuk hari ini
    /// pukul 07:30." or "Absen masuk pukul 07:30 sudah lewat." or "Absen berikutnya:
    /// masuk, Senin 30-11-2026 pukul 07:30."
    pub fn staff_message(&self, today: NaiveDate) -> String {
        let label = lower_label(self.kind);
        if self.date != today {
            const DAYS: [&str; 7] = [
                "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu",
            ];
            let day = DAYS[self.date.weekday().num_days_from_monday() as usize];
            format!(
                "Absen berikutnya: {label}, {day} {} pukul {}.",
                iso_date::day_month_year(self.date),
                self.at
            )
        } else if self.overdue
            && matches!(
                self.kind,
                AttendanceKind::BreakStart | AttendanceKind::CheckOut
            )
        {
            format!("Sudah waktunya absen {label} ({}).", self.at)
        } else if self.overdue {
            format!("Absen {label} pukul {} sudah lewat.", self.at)
        } else {
            format!("Absen {label} hari ini pukul {}.", self.at)
        }
    }
}

/// The kind's label in lower case, for the middle of a sentence.
pub fn lower_label(kind: AttendanceKind) -> &'static str {
    match kind {
        AttendanceKind::CheckIn => "masuk",
        AttendanceKind::BreakStart => "istirahat",
        AttendanceKind::BreakEnd => "kembali",
        AttendanceKind::CheckOut => "pulang",
        AttendanceKind::Unknown => "lainnya",
    }
}

/// Dates as `YYYY-MM-DD` for serde, without chrono's general-purpose format parser and
/// formatter (which would add about 50 KB to the phone library for one date shape).
pub mod iso_date {
    use chrono::{Datelike, NaiveDate};
    use serde::{Deserialize, Deserializer, Serializer};

    /// `YYYY-MM-DD`; `None` for anything else or a day that does not exist.
    pub fn parse(text: &str) -> Option<NaiveDate> {
        let b = text.as_bytes();
        let digits = |r: std::ops::Range<usize>| -> Option<u32> {
            b[r].iter().try_fold(0u32, |n, c| {
                c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
            })
        };
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        NaiveDate::from_ymd_opt(digits(0..4)? as i32, digits(5..7)?, digits(8..10)?)
    }

    /// `YYYY-MM-DD`.
    pub fn format(date: NaiveDate) -> String {
        format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
    }

    /// `DD-MM-YYYY`, as dates are written in Indonesia.
    pub fn day_month_year(date: NaiveDate) -> String {
        format!("{:02}-{:02}-{:04}", date.day(), date.month(), date.year())
    }

    /// Serde: serialise as `YYYY-MM-DD`.
    pub fn serialize<S: Serializer>(date: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*date))
    }

    /// Serde: read `YYYY-MM-DD`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not a date YYYY-MM-DD")))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn parses_only_real_iso_dates() {
            assert_eq!(parse("2026-11-23"), NaiveDate::from_ymd_opt(2026, 11, 23));
            assert_eq!(parse("2028-02-29"), NaiveDate::from_ymd_opt(2028, 2, 29));
            for bad in [
                "2026-02-29",
                "2026-13-01",
                "23-11-2026",
                "2026-1-01",
                "2026/11/23",
                "",
                "2026-11-2x",
            ] {
                assert_eq!(parse(bad), None, "{bad}");
            }
            let d = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
            assert_eq!(format(d), "2026-01-05");
            assert_eq!(day_month_year(d), "05-01-2026");
            assert_eq!(format(d), d.to_string(), "the same as chrono's Display");
        }
    }
}

/// How far ahead [`next_expected`] looks for a working day (covers Idul Fitri leave).
const LOOKAHEAD_DAYS: u64 = 21;

/// The next attendance expected at or after `now_ms`, given the kinds already recorded
/// today (office-local). The arrival and the leaving stay expected until local
/// midnight; a break start only until the break return is due (a break not taken is
/// skipped), and a break return only after a break start and until the next time is
/// due. Times before the latest recorded kind are past (nothing follows a check-out).
/// `None` when no working day follows within three weeks.
///
/// A night shift's next-day times are due on the day after (see
/// [`AttendanceTime::instant_on`]) and its leaving stays expected until that time when
/// it is later than midnight; `recorded_today` are then the kinds recorded since the
/// shift began.
pub fn next_expected(
    schedule: &OfficeSchedule,
    utc_offset_minutes: i32,
    now_ms: i64,
    recorded_today: &[AttendanceKind],
) -> Option<ExpectedAttendance> {
    let today = local_date(now_ms, utc_offset_minutes);
    let plan = schedule.day(today);
    // What comes before the latest recorded kind is past: after a check-out nothing
    // more is expected today, after a break start the arrival is not asked for again.
    let latest = recorded_today.iter().map(|k| kind_rank(*k)).max();
    let day_end = plan.over_ms(utc_offset_minutes);
    for (i, t) in plan.times.iter().enumerate() {
        if recorded_today.contains(&t.kind) || latest.is_some_and(|r| kind_rank(t.kind) < r) {
            continue;
        }
        // A break return is asked for only after a break start.
        if t.kind == AttendanceKind::BreakEnd
            && !recorded_today.contains(&AttendanceKind::BreakStart)
        {
            continue;
        }
        let due_ms = t.instant_on(today, utc_offset_minutes);
        // Arrival and leaving stay expected all day; a break time only until the next
        // time is due (a break not taken is skipped, never made up later).
        let closes_ms = match t.kind {
            AttendanceKind::CheckIn | AttendanceKind::CheckOut | AttendanceKind::Unknown => day_end,
            AttendanceKind::BreakStart | AttendanceKind::BreakEnd => plan
                .times
                .get(i + 1)
                .map_or(day_end, |next| next.instant_on(today, utc_offset_minutes)),
        };
        if now_ms < closes_ms {
            return Some(ExpectedAttendance {
                kind: t.kind,
                date: today,
                at: t.at,
                due_ms,
                overdue: now_ms > due_ms,
            });
        }
    }
    (1..=LOOKAHEAD_DAYS).find_map(|n| {
        let date = today.checked_add_days(chrono::Days::new(n))?;
        let first = *schedule.day(date).times.first()?;
        Some(ExpectedAttendance {
            kind: first.kind,
            date,
            at: first.at,
            due_ms: first.instant_on(date, utc_offset_minutes),
            overdue: false,
        })
    })
}

/// An accepted attendance of the day, as [`day_status`] needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordedAttendance {
    /// Which attendance.
    pub kind: AttendanceKind,
    /// Its trusted instant, Unix ms.
    pub at_ms: i64,
}

/// Where a person stands on a day, as a supervisor sees it.
///
/// Only the server decides it for the team view; phones read it. A state a newer
/// server adds arrives as [`DayState::Unknown`] instead of breaking the whole answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayState {
    /// Nothing is due: weekend or holiday.
    DayOff,
    /// On approved leave (cuti, sick, official travel).
    OnLeave,
    /// The arrival time has not come yet.
    NotYet,
    /// The arrival time has passed and there is no arrival yet; the day is not over.
    NotArrived,
    /// Arrived on time.
    Present,
    /// Arrived late.
    Late,
    /// The day is over with no arrival (TK unless excused later).
    Absent,
    /// A state this build does not know (a newer server's); the value is not kept.
    /// Never decided by this build.
    #[serde(other)]
    Unknown,
}

impl DayState {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            DayState::DayOff => "day_off",
            DayState::OnLeave => "on_leave",
            DayState::NotYet => "not_yet",
            DayState::NotArrived => "not_arrived",
            DayState::Present => "present",
            DayState::Late => "late",
            DayState::Absent => "absent",
            DayState::Unknown => "unknown",
        }
    }

    /// Indonesian label for a supervisor's screen.
    pub fn label(self) -> &'static str {
        match self {
            DayState::DayOff => "Libur",
            DayState::OnLeave => "Cuti/izin",
            DayState::NotYet => "Belum waktunya",
            DayState::NotArrived => "Belum hadir",
            DayState::Present => "Hadir",
            DayState::Late => "Terlambat",
            DayState::Absent => "Tidak hadir",
            DayState::Unknown => "Tidak diketahui",
        }
    }
}

/// A person's day: their state and how each recorded time deviated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaySummary {
    /// The state.
    pub state: DayState,
    /// Lateness of the arrival, if late.
    pub arrival: Option<Deviation>,
    /// Deviations of the other recorded times (kind, deviation), in day order.
    pub others: Vec<(AttendanceKind, Deviation)>,
}

/// Summarises a day from the accepted attendances of that office-local date. The
/// earliest record of each kind counts (a repeated arrival does not erase lateness);
/// for leaving times the latest counts (staying longer is never early leave). A missing
/// record counts in the last band, as the deduction tables do: no arrival on a day with
/// other records is `TL4` (and the person is late, not absent); no check-out once the
/// day is over is `PSW4`. Missing break records are not deductions, and a break return
/// without a recorded break start is not a late return.
pub fn day_status(
    schedule: &OfficeSchedule,
    plan: &DayPlan,
    utc_offset_minutes: i32,
    now_ms: i64,
    on_leave: bool,
    recorded: &[RecordedAttendance],
) -> DaySummary {
    let counted = |kind: AttendanceKind| -> Option<i64> {
        let times = recorded.iter().filter(|r| r.kind == kind).map(|r| r.at_ms);
        match kind {
            AttendanceKind::CheckIn | AttendanceKind::BreakEnd => times.min(),
            AttendanceKind::BreakStart | AttendanceKind::CheckOut => times.max(),
            AttendanceKind::Unknown => None,
        }
    };
    let day_end = plan.over_ms(utc_offset_minutes);
    let worked = !recorded.is_empty();
    let mut others = Vec::new();
    for t in plan
        .times
        .iter()
        .filter(|t| t.kind != AttendanceKind::CheckIn)
    {
        let due = t.instant_on(plan.date, utc_offset_minutes);
        match counted(t.kind) {
            // A break return without a recorded break start is not a late return.
            Some(_)
                if t.kind == AttendanceKind::BreakEnd
                    && counted(AttendanceKind::BreakStart).is_none() => {}
            Some(at) => {
                if let Some(d) = deviation(t.kind, due, at, schedule.tolerance_minutes) {
                    others.push((t.kind, d));
                }
            }
            None if t.kind == AttendanceKind::CheckOut && worked && now_ms >= day_end => {
                others.push((t.kind, Deviation::missing(false)));
            }
            None => {}
        }
    }
    let arrival_due = plan.instant_of_kind(AttendanceKind::CheckIn, utc_offset_minutes);
    let arrival = match (arrival_due, counted(AttendanceKind::CheckIn)) {
        (Some(due), Some(at)) => {
            deviation(AttendanceKind::CheckIn, due, at, schedule.tolerance_minutes)
        }
        (Some(_), None) if worked => Some(Deviation::missing(true)),
        _ => None,
    };
    let state = if on_leave {
        DayState::OnLeave
    } else if plan.is_day_off() {
        DayState::DayOff
    } else if worked {
        if arrival.is_some() {
            DayState::Late
        } else {
            DayState::Present
        }
    } else {
        match arrival_due {
            Some(due) if now_ms <= due => DayState::NotYet,
            _ if now_ms < day_end => DayState::NotArrived,
            _ => DayState::Absent,
        }
    };
    DaySummary {
        state,
        arrival,
        others,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AttendanceKind::*;

    const WIB: i32 = 420;
    const WIT: i32 = 540;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn at(h: u32, m: u32) -> ClockTime {
        ClockTime::new(h, m).unwrap()
    }

    /// Unix ms of a WIB wall time.
    fn wib(d: NaiveDate, h: u32, m: u32) -> i64 {
        instant_of(d, at(h, m), WIB)
    }

    #[test]
    fn perpres_default_is_37_5_hours_from_07_30() {
        let s = OfficeSchedule::perpres_21_2023();
        s.validate().unwrap();
        assert_eq!(s.week.working_minutes(), 37 * 60 + 30);
        assert_eq!(s.week.mon[0].at, at(7, 30));
        assert_eq!(
            s.week.fri[2].at.minutes_of_day() - s.week.fri[1].at.minutes_of_day(),
            90
        );
        assert!(s.week.sat.is_empty() && s.week.sun.is_empty());
    }

    #[test]
    fn ramadan_week_is_32_5_hours_when_configured_so() {
        // 08:00–15:00 with a 30-minute break, Friday 08:00–15:30 with 60 minutes.
        let day = |brk: (u32, u32), out: (u32, u32)| {
            vec![
                AttendanceTime::new(CheckIn, 8, 0),
                AttendanceTime::new(BreakStart, brk.0, brk.1),
                AttendanceTime::new(BreakEnd, 12, 30),
                AttendanceTime::new(CheckOut, out.0, out.1),
            ]
        };
        let ramadan = WeekSchedule {
            mon: day((12, 0), (15, 0)),
            tue: day((12, 0), (15, 0)),
            wed: day((12, 0), (15, 0)),
            thu: day((12, 0), (15, 0)),
            fri: day((11, 30), (15, 30)),
            ..WeekSchedule::default()
        };
        assert_eq!(ramadan.working_minutes(), 32 * 60 + 30);
        let mut s = OfficeSchedule::perpres_21_2023();
        s.periods.push(SchedulePeriod {
            name: "Ramadan 1448 H".into(),
            from: date(2027, 2, 8),
            to: date(2027, 3, 9),
            week: ramadan,
        });
        s.validate().unwrap();
        let plan = s.day(date(2027, 2, 10));
        assert_eq!(plan.period.as_deref(), Some("Ramadan 1448 H"));
        assert_eq!(plan.time_of(CheckIn), Some(at(8, 0)));
        assert_eq!(s.day(date(2027, 3, 10)).time_of(CheckIn), Some(at(7, 30)));
    }

    #[test]
    fn json_uses_hh_mm_and_refuses_nonsense() {
        let json = r#"{"week":{"mon":[{"kind":"check_in","at":"07:45"},{"kind":"break_start","at":"12:00"},
            {"kind":"break_end","at":"13:00"},{"kind":"check_out","at":"16:00"}]},
            "holidays":[{"date":"2026-12-25","name":"Hari Raya Natal"}]}"#;
        let s: OfficeSchedule = serde_json::from_str(json).unwrap();
        s.validate().unwrap();
        assert_eq!(s.week.mon[0].at.to_string(), "07:45");
        assert!(s.week.tue.is_empty());
        let back = serde_json::to_string(&s).unwrap();
        assert!(back.contains(r#""at":"07:45""#), "{back}");
        assert!(serde_json::from_str::<ClockTime>(r#""24:00""#).is_err());
        assert!(serde_json::from_str::<ClockTime>(r#""7:45""#).is_err());
        assert!(serde_json::from_str::<ClockTime>(r#""07:60""#).is_err());
        let plan = s.day(date(2026, 12, 25));
        assert!(plan.is_day_off());
        assert_eq!(plan.holiday.as_deref(), Some("Hari Raya Natal"));
    }

    #[test]
    fn invalid_schedules_are_refused_with_codes() {
        let mut s = OfficeSchedule::perpres_21_2023();
        s.week.mon.swap(0, 1);
        assert_eq!(s.validate().unwrap_err().code(), "SCHEDULE_OUT_OF_ORDER");
        let mut s = OfficeSchedule::perpres_21_2023();
        s.week.tue.push(AttendanceTime::new(CheckOut, 17, 0));
        assert_eq!(s.validate().unwrap_err().code(), "SCHEDULE_TOO_MANY_TIMES");
        let mut s = OfficeSchedule::perpres_21_2023();
        s.week.wed.remove(2);
        assert_eq!(s.validate().unwrap_err().code(), "SCHEDULE_UNPAIRED_BREAK");
        let mut s = OfficeSchedule::perpres_21_2023();
        let week = s.week.clone();
        s.periods = vec![
            SchedulePeriod {
                name: "a".into(),
                from: date(2027, 1, 1),
                to: date(2027, 1, 10),
                week: week.clone(),
            },
            SchedulePeriod {
                name: "b".into(),
                from: date(2027, 1, 10),
                to: date(2027, 1, 20),
                week,
            },
        ];
        assert_eq!(s.validate().unwrap_err().code(), "SCHEDULE_BAD_PERIOD");
        let empty = OfficeSchedule {
            week: WeekSchedule::default(),
            ..OfficeSchedule::perpres_21_2023()
        };
        assert_eq!(
            empty.validate().unwrap_err().code(),
            "SCHEDULE_NO_WORKING_DAY"
        );
        let mut s = OfficeSchedule::perpres_21_2023();
        s.week.thu.swap(1, 2);
        assert!(
            s.validate()
                .unwrap_err()
                .to_string()
                .starts_with("week.thu:")
        );
    }

    #[test]
    fn a_newer_servers_kind_parses_is_skipped_in_plans_and_refused_as_input() {
        // 2026-11-30 is a Monday.
        let json = r#"{"week":{"mon":[{"kind":"check_in","at":"07:30"},{"kind":"apel_pagi","at":"07:35"},
            {"kind":"check_out","at":"16:00"}]}}"#;
        let s: OfficeSchedule = serde_json::from_str(json).unwrap();
        assert_eq!(s.week.mon[1].kind, Unknown);
        let plan = s.day(date(2026, 11, 30));
        assert_eq!(
            plan.times.iter().map(|t| t.kind).collect::<Vec<_>>(),
            vec![CheckIn, CheckOut]
        );
        let next = next_expected(&s, WIB, wib(date(2026, 11, 30), 7, 32), &[CheckIn]).unwrap();
        assert_eq!(next.kind, CheckOut);
        let err = s.validate().unwrap_err();
        assert_eq!(err.code(), "SCHEDULE_UNKNOWN_KIND");
        assert!(err.to_string().starts_with("week.mon:"), "{err}");
    }

    #[test]
    fn day_states_round_trip_and_a_newer_one_reads_as_unknown() {
        use DayState as D;
        for state in [
            D::DayOff,
            D::OnLeave,
            D::NotYet,
            D::NotArrived,
            D::Present,
            D::Late,
            D::Absent,
        ] {
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.as_str()));
            assert_eq!(serde_json::from_str::<DayState>(&json).unwrap(), state);
        }
        assert_eq!(
            serde_json::from_str::<DayState>("\"half_day\"").unwrap(),
            D::Unknown
        );
    }

    #[test]
    fn local_dates_follow_the_office_not_utc() {
        // 2026-11-23 23:30 UTC is already the 24th in WIB (06:30) and WIT (08:30).
        let t = instant_of(date(2026, 11, 23), at(23, 30), 0);
        assert_eq!(local_date(t, 0), date(2026, 11, 23));
        assert_eq!(local_date(t, WIB), date(2026, 11, 24));
        assert_eq!(local_date(t, WIT), date(2026, 11, 24));
        // Before 1970 too (div_euclid, not truncation).
        let old = instant_of(date(1969, 12, 31), at(23, 0), WIB);
        assert_eq!(local_date(old, WIB), date(1969, 12, 31));
        for offset in [WIB, 480, WIT] {
            let d = date(2026, 11, 23);
            assert_eq!(local_date(day_start_ms(d, offset), offset), d);
            assert_eq!(
                local_date(day_start_ms(d, offset) - 1, offset),
                date(2026, 11, 22)
            );
        }
        // 07:30 WIB is 00:30 UTC.
        assert_eq!(
            wib(date(2026, 11, 23), 7, 30) % MS_PER_DAY,
            30 * MS_PER_MINUTE
        );
    }

    #[test]
    fn lateness_bands_match_the_deduction_tables() {
        let due = wib(date(2026, 11, 23), 7, 30);
        let m = MS_PER_MINUTE;
        assert_eq!(deviation(CheckIn, due, due, 0), None);
        assert_eq!(deviation(CheckIn, due, due - 5 * m, 0), None);
        // Minutes as the clock shows them: 07:30:59 is 07:30, on time; 07:31 is late.
        assert_eq!(deviation(CheckIn, due, due + 59_000, 0), None);
        let one_minute = deviation(CheckIn, due, due + 60_000, 0).unwrap();
        assert_eq!(
            (one_minute.minutes, one_minute.code()),
            (1, "TL1".to_string())
        );
        // Leaving at 15:59:30 is a minute early (15:59 on the clock).
        let out = due + 510 * m; // 16:00
        assert_eq!(
            deviation(CheckOut, out, out - 30_000, 0).unwrap().minutes,
            1
        );
        assert_eq!(deviation(CheckOut, out, out + 30_000, 0), None);
        for (late_min, code) in [
            (30, "TL1"),
            (31, "TL2"),
            (60, "TL2"),
            (61, "TL3"),
            (90, "TL3"),
            (91, "TL4"),
            (400, "TL4"),
        ] {
            let d = deviation(CheckIn, due, due + late_min * m, 0).unwrap();
            assert_eq!((d.minutes as i64, d.code().as_str()), (late_min, code));
        }
        let out_due = wib(date(2026, 11, 23), 16, 0);
        let early = deviation(CheckOut, out_due, out_due - 45 * m, 0).unwrap();
        assert_eq!((early.late, early.code().as_str()), (false, "PSW2"));
        assert_eq!(early.staff_phrase(), "45 menit lebih awal");
        assert_eq!(deviation(CheckOut, out_due, out_due + 60 * m, 0), None);
        // A tolerance only decides whether it counts.
        assert_eq!(deviation(CheckIn, due, due + 5 * m, 5), None);
        assert_eq!(deviation(CheckIn, due, due + 6 * m, 5).unwrap().minutes, 6);
    }

    #[test]
    fn next_expected_walks_the_day_and_skips_to_the_next_working_day() {
        let s = OfficeSchedule::perpres_21_2023();
        let mon = date(2026, 11, 23); // a Monday
        assert_eq!(mon.weekday(), Weekday::Mon);
        let e = next_expected(&s, WIB, wib(mon, 6, 0), &[]).unwrap();
        assert_eq!(
            (e.kind, e.at, e.overdue, e.date),
            (CheckIn, at(7, 30), false, mon)
        );
        assert_eq!(e.due_ms, wib(mon, 7, 30));
        let e = next_expected(&s, WIB, wib(mon, 8, 0), &[]).unwrap();
        assert_eq!((e.kind, e.overdue), (CheckIn, true));
        let e = next_expected(&s, WIB, wib(mon, 8, 0), &[CheckIn]).unwrap();
        assert_eq!((e.kind, e.overdue), (BreakStart, false));
        // Not arrived yet at 12:10: the arrival is still what is asked for.
        let e = next_expected(&s, WIB, wib(mon, 12, 10), &[]).unwrap();
        assert_eq!((e.kind, e.overdue), (CheckIn, true));
        // Arrived, no break taken, the break is over: the check-out is next, not a
        // break return.
        let e = next_expected(&s, WIB, wib(mon, 13, 57), &[CheckIn]).unwrap();
        assert_eq!((e.kind, e.overdue), (CheckOut, false));
        assert_eq!(e.staff_message(mon), "Absen pulang hari ini pukul 16:00.");
        // In the break window the break start is asked for.
        let e = next_expected(&s, WIB, wib(mon, 12, 5), &[CheckIn]).unwrap();
        assert_eq!((e.kind, e.overdue), (BreakStart, true));
        let e = next_expected(&s, WIB, wib(mon, 17, 0), &[CheckIn, BreakStart, BreakEnd]).unwrap();
        assert_eq!((e.kind, e.overdue), (CheckOut, true));
        // Nothing follows a check-out, even with the breaks missing.
        let e = next_expected(&s, WIB, wib(mon, 16, 30), &[CheckIn, CheckOut]).unwrap();
        assert_eq!((e.kind, e.date), (CheckIn, date(2026, 11, 24)));
        // After a break start, the missed arrival is not asked for again.
        let e = next_expected(&s, WIB, wib(mon, 12, 10), &[BreakStart]).unwrap();
        assert_eq!(e.kind, BreakEnd);
        // Messages: a passed leaving time is "time to go", a passed arrival "missed".
        let out =
            next_expected(&s, WIB, wib(mon, 16, 10), &[CheckIn, BreakStart, BreakEnd]).unwrap();
        assert_eq!(
            out.staff_message(mon),
            "Sudah waktunya absen pulang (16:00)."
        );
        let late = next_expected(&s, WIB, wib(mon, 8, 0), &[]).unwrap();
        assert_eq!(
            late.staff_message(mon),
            "Absen masuk pukul 07:30 sudah lewat."
        );
        let soon = next_expected(&s, WIB, wib(mon, 7, 0), &[]).unwrap();
        assert_eq!(soon.staff_message(mon), "Absen masuk hari ini pukul 07:30.");
        // All done on Friday evening: Monday morning.
        let fri = date(2026, 11, 27);
        let e = next_expected(
            &s,
            WIB,
            wib(fri, 17, 0),
            &[CheckIn, BreakStart, BreakEnd, CheckOut],
        )
        .unwrap();
        assert_eq!(
            (e.kind, e.date, e.at),
            (CheckIn, date(2026, 11, 30), at(7, 30))
        );
        // A holiday on Monday moves it to Tuesday.
        let mut s2 = s.clone();
        s2.holidays.push(Holiday {
            date: date(2026, 11, 30),
            name: "Libur".into(),
        });
        let e = next_expected(
            &s2,
            WIB,
            wib(fri, 17, 0),
            &[CheckIn, BreakStart, BreakEnd, CheckOut],
        )
        .unwrap();
        assert_eq!(e.date, date(2026, 12, 1));
        // No working days at all.
        let empty = OfficeSchedule {
            week: WeekSchedule::default(),
            ..s
        };
        assert_eq!(next_expected(&empty, WIB, wib(fri, 17, 0), &[]), None);
    }

    #[test]
    fn day_status_covers_a_supervisors_states() {
        let s = OfficeSchedule::perpres_21_2023();
        let mon = date(2026, 11, 23);
        let plan = s.day(mon);
        let rec = |kind, h, m| RecordedAttendance {
            kind,
            at_ms: wib(mon, h, m),
        };
        let st = |now, leave, r: &[RecordedAttendance]| day_status(&s, &plan, WIB, now, leave, r);
        assert_eq!(st(wib(mon, 7, 0), false, &[]).state, DayState::NotYet);
        assert_eq!(st(wib(mon, 9, 0), false, &[]).state, DayState::NotArrived);
        assert_eq!(st(wib(mon, 9, 0), true, &[]).state, DayState::OnLeave);
        let next_day = day_start_ms(mon, WIB) + MS_PER_DAY;
        assert_eq!(st(next_day, false, &[]).state, DayState::Absent);
        let on_time = st(wib(mon, 9, 0), false, &[rec(CheckIn, 7, 25)]);
        assert_eq!((on_time.state, on_time.arrival), (DayState::Present, None));
        let late = st(
            wib(mon, 9, 0),
            false,
            &[rec(CheckIn, 7, 42), rec(CheckIn, 7, 20)],
        );
        // The earliest arrival counts.
        assert_eq!(late.state, DayState::Present);
        let late = st(wib(mon, 9, 0), false, &[rec(CheckIn, 7, 42)]);
        assert_eq!(late.state, DayState::Late);
        assert_eq!(late.arrival.unwrap().minutes, 12);
        let left_early = st(next_day, false, &[rec(CheckIn, 7, 0), rec(CheckOut, 15, 0)]);
        assert_eq!(
            left_early.others,
            vec![(
                CheckOut,
                deviation(CheckOut, wib(mon, 16, 0), wib(mon, 15, 0), 0).unwrap()
            )]
        );
        // Forgot to check in but worked: late with TL4, not absent.
        let no_arrival = st(
            next_day,
            false,
            &[rec(BreakStart, 12, 0), rec(CheckOut, 16, 5)],
        );
        assert_eq!(no_arrival.state, DayState::Late);
        let missing = no_arrival.arrival.unwrap();
        assert!(missing.missing && missing.late);
        assert_eq!(missing.code(), "TL4");
        assert_eq!(missing.staff_phrase(), "tidak ada absen masuk");
        // Arrived, never checked out: PSW4 once the day is over, nothing before.
        let no_out = st(next_day, false, &[rec(CheckIn, 7, 20)]);
        assert_eq!(no_out.state, DayState::Present);
        assert_eq!(no_out.others.len(), 1);
        assert_eq!(
            (no_out.others[0].0, no_out.others[0].1.code()),
            (CheckOut, "PSW4".to_string())
        );
        assert!(
            st(wib(mon, 15, 0), false, &[rec(CheckIn, 7, 20)])
                .others
                .is_empty()
        );
        // A break return with no break start recorded is not late.
        let no_break = st(
            next_day,
            false,
            &[
                rec(CheckIn, 7, 0),
                rec(BreakEnd, 13, 57),
                rec(CheckOut, 16, 0),
            ],
        );
        assert_eq!(
            (no_break.state, no_break.others.len()),
            (DayState::Present, 0)
        );
        let sat = date(2026, 11, 28);
        let off = day_status(
            &s,
            &s.day(sat),
            WIB,
            instant_of(sat, at(9, 0), WIB),
            false,
            &[],
        );
        assert_eq!(off.state, DayState::DayOff);
    }

    /// A 24-hour unit's night shift: 19:00 in, 07:00 out the next morning.
    fn night_shift() -> OfficeSchedule {
        let night = vec![
            AttendanceTime::new(CheckIn, 19, 0),
            AttendanceTime {
                next_day: true,
                ..AttendanceTime::new(CheckOut, 7, 0)
            },
        ];
        OfficeSchedule {
            week: WeekSchedule {
                mon: night.clone(),
                tue: night.clone(),
                wed: night.clone(),
                thu: night.clone(),
                fri: night.clone(),
                sat: night.clone(),
                sun: night,
            },
            ..OfficeSchedule::perpres_21_2023()
        }
    }

    #[test]
    fn next_day_is_absent_from_json_unless_set_and_reads_back() {
        let day = serde_json::to_string(&AttendanceTime::new(CheckIn, 7, 30)).unwrap();
        assert_eq!(day, r#"{"kind":"check_in","at":"07:30"}"#);
        let s = night_shift();
        s.validate().unwrap();
        let json = serde_json::to_string(&s.week.mon).unwrap();
        assert_eq!(
            json,
            r#"[{"kind":"check_in","at":"19:00"},{"kind":"check_out","at":"07:00","next_day":true}]"#
        );
        let back: Vec<AttendanceTime> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s.week.mon);
    }

    #[test]
    fn instant_on_moves_a_next_day_time_to_the_morning_after() {
        let s = night_shift();
        let mon = date(2026, 11, 23);
        let [check_in, check_out] = [s.week.mon[0], s.week.mon[1]];
        assert_eq!(check_in.instant_on(mon, WIB), wib(mon, 19, 0));
        assert_eq!(
            check_out.instant_on(mon, WIB),
            wib(date(2026, 11, 24), 7, 0)
        );
        let plan = s.day(mon);
        assert_eq!(
            plan.instant_of_kind(CheckOut, WIB),
            Some(wib(date(2026, 11, 24), 7, 0))
        );
        assert_eq!(plan.over_ms(WIB), wib(date(2026, 11, 24), 7, 0));
        // A day shift is over at midnight.
        let day = OfficeSchedule::perpres_21_2023().day(mon);
        assert_eq!(day.over_ms(WIB), day_start_ms(date(2026, 11, 24), WIB));
    }

    #[test]
    fn working_minutes_count_across_midnight() {
        // Seven 12-hour nights.
        assert_eq!(night_shift().week.working_minutes(), 7 * 12 * 60);
        // A break after midnight: 19:00–07:00 with 01:00–02:00 off is 11 hours.
        let mut s = night_shift();
        s.week = WeekSchedule {
            mon: vec![
                AttendanceTime::new(CheckIn, 19, 0),
                AttendanceTime {
                    next_day: true,
                    ..AttendanceTime::new(BreakStart, 1, 0)
                },
                AttendanceTime {
                    next_day: true,
                    ..AttendanceTime::new(BreakEnd, 2, 0)
                },
                AttendanceTime {
                    next_day: true,
                    ..AttendanceTime::new(CheckOut, 7, 0)
                },
            ],
            ..WeekSchedule::default()
        };
        s.validate().unwrap();
        assert_eq!(s.week.working_minutes(), 11 * 60);
    }

    #[test]
    fn next_day_times_follow_the_day_and_stay_under_24_hours() {
        // A same-day time after a next-day one is out of order.
        let mut s = night_shift();
        s.week.mon = vec![
            AttendanceTime::new(CheckIn, 19, 0),
            AttendanceTime {
                next_day: true,
                ..AttendanceTime::new(BreakStart, 1, 0)
            },
            AttendanceTime::new(BreakEnd, 23, 0),
            AttendanceTime {
                next_day: true,
                ..AttendanceTime::new(CheckOut, 7, 0)
            },
        ];
        assert_eq!(s.validate().unwrap_err().code(), "SCHEDULE_OUT_OF_ORDER");
        // 19:00 to 19:00 the next day is 24 hours: refused, as is anything longer.
        for (h, m) in [(19, 0), (19, 1)] {
            let mut s = night_shift();
            s.week.tue[1].at = at(h, m);
            let err = s.validate().unwrap_err();
            assert_eq!(err.code(), "SCHEDULE_SHIFT_TOO_LONG");
            assert!(err.to_string().starts_with("week.tue:"), "{err}");
        }
        let mut s = night_shift();
        s.week.tue[1].at = at(18, 59);
        s.validate().unwrap();
        // A day that starts on the next day is refused too.
        let mut s = night_shift();
        s.week.wed[0].next_day = true;
        assert!(s.validate().is_err());
    }

    #[test]
    fn a_night_shifts_check_out_is_due_the_next_morning() {
        let s = night_shift();
        let mon = date(2026, 11, 23);
        let tue = date(2026, 11, 24);
        let e = next_expected(&s, WIB, wib(mon, 20, 0), &[CheckIn]).unwrap();
        assert_eq!((e.kind, e.date, e.at), (CheckOut, mon, at(7, 0)));
        assert_eq!((e.due_ms, e.overdue), (wib(tue, 7, 0), false));
        let e = next_expected(&s, WIB, wib(mon, 18, 0), &[]).unwrap();
        assert_eq!((e.kind, e.due_ms), (CheckIn, wib(mon, 19, 0)));

        let plan = s.day(mon);
        let rec = |kind, d, h, m| RecordedAttendance {
            kind,
            at_ms: wib(d, h, m),
        };
        // Leaving at 06:30 the next morning is 30 minutes early (PSW1), not 11.5 h late.
        let early = day_status(
            &s,
            &plan,
            WIB,
            wib(tue, 8, 0),
            false,
            &[rec(CheckIn, mon, 18, 55), rec(CheckOut, tue, 6, 30)],
        );
        assert_eq!(early.state, DayState::Present);
        assert_eq!(early.others.len(), 1);
        assert_eq!(
            (early.others[0].1.minutes, early.others[0].1.code()),
            (30, "PSW1".to_string())
        );
        // No check-out: not missing at 02:00 nor at 06:59, PSW4 from 07:00.
        let only_in = [rec(CheckIn, mon, 19, 0)];
        for (now, missing) in [
            (wib(tue, 2, 0), false),
            (wib(tue, 6, 59), false),
            (wib(tue, 7, 0), true),
        ] {
            let st = day_status(&s, &plan, WIB, now, false, &only_in);
            assert_eq!(!st.others.is_empty(), missing, "at {now}");
        }
        // Nobody came: not absent before the shift is over.
        let st = |now| day_status(&s, &plan, WIB, now, false, &[]).state;
        assert_eq!(st(wib(tue, 1, 0)), DayState::NotArrived);
        assert_eq!(st(wib(tue, 7, 0)), DayState::Absent);
    }
}
