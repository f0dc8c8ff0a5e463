//! Counting one person's month: punches mapped to the schedule's times, each working
//! day decided (leave, dispensation, present with its TL/PSW codes, absent, not yet),
//! the deduction and the attendance part of TPP in rupiah. The rules, numbered, with the
//! test proving each, are in `docs/RECAP.md`.

use chrono::{Datelike, Days, NaiveDate};
use hadir_core::schedule::{DayPlan, Deviation, RecordedAttendance, day_status};
use hadir_core::wire::AttendanceKind;

use crate::deductions::DeductionTable;
use crate::model::{
    CountedDay, DayOutcome, Month, PersonMonth, PersonMonthInput, Punch, RecordSource,
};

/// A punch with a kind (phone, manual) maps to a time of that kind at most this far.
const KINDED_WINDOW_MS: i64 = 12 * 60 * 60 * 1000;
const MS_PER_MINUTE: i64 = 60_000;
/// 100 % in basis points.
const FULL_BP: u32 = 10_000;

/// One scheduled time of one date: where punches land.
#[derive(Debug, Clone, Copy)]
struct Slot {
    date: NaiveDate,
    kind: AttendanceKind,
    at_ms: i64,
}

/// The punch that counts for a slot: its instant and where it came from.
#[derive(Debug, Clone, Copy)]
struct Counted {
    at_ms: i64,
    source: RecordSource,
}

/// The dates of a month, in order; empty for a month that does not exist.
pub fn month_dates(month: Month) -> Vec<NaiveDate> {
    let Some(first) = NaiveDate::from_ymd_opt(month.year, month.month, 1) else {
        return vec![];
    };
    first
        .iter_days()
        .take_while(|d| d.month() == month.month)
        .collect()
}

/// Counts a person's month with a pemda's deduction table (rules R1–R9 of
/// `docs/RECAP.md`).
pub fn count_person_month(input: &PersonMonthInput, table: &DeductionTable) -> PersonMonth {
    let dates = month_dates(input.month);
    let offset = input.utc_offset_minutes;
    // Slots from the day before the month (its night shift ends in the month) to the
    // day after (only to compete, so next month's punches are not pulled back).
    let slot_dates: Vec<NaiveDate> = match (dates.first(), dates.last()) {
        (Some(first), Some(last)) => {
            let before = first.checked_sub_days(Days::new(1)).unwrap_or(*first);
            let after = last.checked_add_days(Days::new(1)).unwrap_or(*last);
            before.iter_days().take_while(|d| *d <= after).collect()
        }
        _ => vec![],
    };
    let slots: Vec<Slot> = slot_dates
        .iter()
        .flat_map(|date| {
            input.schedule.day(*date).times.into_iter().map(|t| Slot {
                date: *date,
                kind: t.kind,
                at_ms: t.instant_on(*date, offset),
            })
        })
        .collect();

    // R2: each punch to its nearest slot; R3: the earliest arrival, the latest leaving.
    let mut counted: Vec<Option<Counted>> = vec![None; slots.len()];
    let mut unmatched_punches = 0u32;
    for punch in &input.punches {
        match nearest_slot(&slots, punch, table) {
            Some(i) => {
                let arrival = matches!(
                    slots[i].kind,
                    AttendanceKind::CheckIn | AttendanceKind::BreakEnd
                );
                let keep = counted[i].is_none_or(|c| {
                    if arrival {
                        punch.at_ms < c.at_ms
                    } else {
                        punch.at_ms > c.at_ms
                    }
                });
                if keep {
                    counted[i] = Some(Counted {
                        at_ms: punch.at_ms,
                        source: punch.source,
                    });
                }
            }
            None if dates.contains(&hadir_core::schedule::local_date(punch.at_ms, offset)) => {
                unmatched_punches += 1;
            }
            None => {}
        }
    }

    let mut month = PersonMonth {
        working_days: 0,
        present_days: 0,
        dispensation_days: 0,
        tl: [0; 4],
        psw: [0; 4],
        tk_days: 0,
        leave_days: Default::default(),
        machine_days: 0,
        deduction_bp: 0,
        paid_share_bp: 0,
        manipulation: input.manipulation,
        attendance_part_rupiah: None,
        paid_rupiah: None,
        days: Vec::with_capacity(dates.len()),
        unmatched_punches,
    };
    for date in dates {
        let plan = input.schedule.day(date);
        let day_counted: Vec<(Slot, Counted)> = slots
            .iter()
            .zip(&counted)
            .filter(|(s, _)| s.date == date)
            .filter_map(|(s, c)| c.map(|c| (*s, c)))
            .collect();
        let day = count_day(input, &plan, &day_counted);
        month.add(&day);
        month.days.push(day);
    }
    let deduction = deduction_bp(&month, table);
    month.deduction_bp = deduction;
    month.paid_share_bp = if input.manipulation {
        0
    } else {
        FULL_BP.saturating_sub(deduction)
    };
    if let Some(tpp) = input.tpp_rupiah {
        let tpp = i128::from(tpp);
        let weight = i128::from(table.attendance_weight_bp);
        let share = i128::from(month.paid_share_bp);
        month.attendance_part_rupiah = Some(round_half_up(tpp * weight, 10_000));
        month.paid_rupiah = Some(round_half_up(tpp * weight * share, 100_000_000));
    }
    month
}

/// R2: the nearest slot of the punch's kind within 12 hours, or for a machine punch
/// (no kind) of any kind within the table's window; on a tie the earlier slot.
fn nearest_slot(slots: &[Slot], punch: &Punch, table: &DeductionTable) -> Option<usize> {
    let window_ms = match punch.kind {
        Some(_) => KINDED_WINDOW_MS,
        None => i64::from(table.machine_window_minutes) * MS_PER_MINUTE,
    };
    slots
        .iter()
        .enumerate()
        .filter(|(_, s)| punch.kind.is_none_or(|k| k == s.kind))
        .map(|(i, s)| (i, (s.at_ms - punch.at_ms).abs(), s.at_ms))
        .filter(|(_, distance, _)| *distance <= window_ms)
        .min_by_key(|(_, distance, at)| (*distance, *at))
        .map(|(i, _, _)| i)
}

/// R1, R4, R5: what one date of the month came to.
fn count_day(input: &PersonMonthInput, plan: &DayPlan, counted: &[(Slot, Counted)]) -> CountedDay {
    let mut day = CountedDay {
        date: plan.date,
        outcome: DayOutcome::DayOff,
        codes: vec![],
        leave_kind: None,
        holiday: plan.holiday.clone(),
        period: plan.period.clone(),
        machine: false,
    };
    if plan.is_day_off() || input.counted_from.is_some_and(|from| plan.date < from) {
        return day;
    }
    if let Some(leave) = input
        .leaves
        .iter()
        .find(|l| l.from <= plan.date && plan.date <= l.to)
    {
        day.outcome = DayOutcome::Leave;
        day.leave_kind = Some(leave.kind.clone());
    } else if input.dispensations.contains(&plan.date) {
        day.outcome = DayOutcome::Dispensation;
    } else if !counted.is_empty() {
        let recorded: Vec<RecordedAttendance> = counted
            .iter()
            .map(|(slot, c)| RecordedAttendance {
                kind: slot.kind,
                at_ms: c.at_ms,
            })
            .collect();
        let summary = day_status(
            &input.schedule,
            plan,
            input.utc_offset_minutes,
            input.now_ms,
            false,
            &recorded,
        );
        day.outcome = DayOutcome::Present;
        day.codes = summary
            .arrival
            .iter()
            .chain(summary.others.iter().map(|(_, d)| d))
            .map(Deviation::code)
            .collect();
        day.machine = counted
            .iter()
            .any(|(_, c)| c.source == RecordSource::Machine);
    } else if input.now_ms >= plan.over_ms(input.utc_offset_minutes) {
        day.outcome = DayOutcome::Absent;
        day.codes = vec!["TK".into()];
    } else {
        day.outcome = DayOutcome::NotYet;
    }
    day
}

impl PersonMonth {
    /// Adds one counted day to the month's totals.
    fn add(&mut self, day: &CountedDay) {
        if day.outcome != DayOutcome::DayOff {
            self.working_days += 1;
        }
        match day.outcome {
            DayOutcome::Present => self.present_days += 1,
            DayOutcome::Dispensation => {
                self.present_days += 1;
                self.dispensation_days += 1;
            }
            DayOutcome::Leave => {
                let kind = day.leave_kind.clone().unwrap_or_default();
                *self.leave_days.entry(kind).or_default() += 1;
            }
            DayOutcome::Absent => self.tk_days += 1,
            DayOutcome::DayOff | DayOutcome::NotYet => {}
        }
        if day.machine {
            self.machine_days += 1;
        }
        for code in &day.codes {
            let (counts, band) = if let Some(band) = code.strip_prefix("TL") {
                (&mut self.tl, band)
            } else if let Some(band) = code.strip_prefix("PSW") {
                (&mut self.psw, band)
            } else {
                continue;
            };
            if let Some(n) = band
                .parse::<usize>()
                .ok()
                .and_then(|b| b.checked_sub(1))
                .and_then(|i| counts.get_mut(i))
            {
                *n += 1;
            }
        }
    }
}

/// R6: Σ TL·bp + Σ PSW·bp + TK·bp, capped.
fn deduction_bp(month: &PersonMonth, table: &DeductionTable) -> u32 {
    let bands = |counts: &[u32; 4], bp: &[u32; 4]| -> u64 {
        counts
            .iter()
            .zip(bp)
            .map(|(n, bp)| u64::from(*n) * u64::from(*bp))
            .sum()
    };
    let total = bands(&month.tl, &table.tl_bp)
        + bands(&month.psw, &table.psw_bp)
        + u64::from(month.tk_days) * u64::from(table.tk_bp);
    u32::try_from(total.min(u64::from(table.cap_bp))).unwrap_or(u32::MAX)
}

/// R7: `numerator / denominator` rounded half up to a whole rupiah, once.
fn round_half_up(numerator: i128, denominator: i128) -> i64 {
    let rounded = (2 * numerator + denominator).div_euclid(2 * denominator);
    i64::try_from(rounded).unwrap_or(if rounded < 0 { i64::MIN } else { i64::MAX })
}
