//! The counting rules of `docs/RECAP.md` on hand-computed months: November 2026 (1 Nov
//! is a Sunday, 21 working days under Perpres 21/2023), an office in WIB.

use chrono::{Datelike, NaiveDate};
use hadir_core::schedule::{
    AttendanceTime, ClockTime, Holiday, OfficeSchedule, SchedulePeriod, WeekSchedule, instant_of,
};
use hadir_core::wire::AttendanceKind::{self, *};
use hadir_recap::count::{count_person_month, month_dates};
use hadir_recap::deductions::DeductionTable;
use hadir_recap::model::{
    DayOutcome, LeaveSpan, Month, PersonMonth, PersonMonthInput, Punch, RecordSource,
};

const WIB: i32 = 420;
const NOV: Month = Month {
    year: 2026,
    month: 11,
};

fn nov(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, day).unwrap()
}

fn wib(d: NaiveDate, h: u32, m: u32) -> i64 {
    instant_of(d, ClockTime::new(h, m).unwrap(), WIB)
}

fn phone(kind: AttendanceKind, at_ms: i64) -> Punch {
    Punch {
        at_ms,
        kind: Some(kind),
        source: RecordSource::Phone,
        reference: format!("checkin:{kind:?}:{at_ms}"),
    }
}

fn machine(at_ms: i64) -> Punch {
    Punch {
        at_ms,
        kind: None,
        source: RecordSource::Machine,
        reference: format!("machine:1:7:{at_ms}"),
    }
}

/// Every time of the day's plan, recorded on the minute by phone.
fn on_time(schedule: &OfficeSchedule, date: NaiveDate) -> Vec<Punch> {
    schedule
        .day(date)
        .times
        .iter()
        .map(|t| phone(t.kind, t.instant_on(date, WIB)))
        .collect()
}

fn input(schedule: OfficeSchedule, punches: Vec<Punch>) -> PersonMonthInput {
    PersonMonthInput {
        month: NOV,
        schedule,
        utc_offset_minutes: WIB,
        punches,
        leaves: vec![],
        dispensations: vec![],
        manipulation: false,
        tpp_rupiah: Some(5_000_000),
        counted_from: None,
        now_ms: wib(NaiveDate::from_ymd_opt(2026, 12, 5).unwrap(), 9, 0),
    }
}

/// A month recorded on time every working day, except the days `skip` names.
fn month_except(skip: &[u32]) -> Vec<Punch> {
    let s = OfficeSchedule::perpres_21_2023();
    month_dates(NOV)
        .into_iter()
        .filter(|d| !skip.contains(&d.day()))
        .flat_map(|d| on_time(&s, d))
        .collect()
}

fn count(input: &PersonMonthInput) -> PersonMonth {
    count_person_month(input, &DeductionTable::default())
}

/// The days of the month whose outcome is `outcome`.
fn days_with(m: &PersonMonth, outcome: DayOutcome) -> Vec<u32> {
    m.days
        .iter()
        .filter(|d| d.outcome == outcome)
        .map(|d| d.date.day())
        .collect()
}

#[test]
fn r1_a_month_on_time_is_paid_in_full() {
    let m = count(&input(OfficeSchedule::perpres_21_2023(), month_except(&[])));
    assert_eq!((m.working_days, m.present_days, m.tk_days), (21, 21, 0));
    assert_eq!(m.days.len(), 30);
    assert_eq!(
        days_with(&m, DayOutcome::DayOff),
        vec![1, 7, 8, 14, 15, 21, 22, 28, 29]
    );
    assert_eq!((m.tl, m.psw), ([0; 4], [0; 4]));
    assert_eq!((m.deduction_bp, m.paid_share_bp), (0, 10_000));
    assert_eq!(m.attendance_part_rupiah, Some(2_000_000));
    assert_eq!(m.paid_rupiah, Some(2_000_000));
    assert_eq!((m.unmatched_punches, m.machine_days), (0, 0));
}

/// Replaces the `kind` punch of each listed day with one `minutes` off its time (later
/// for an arrival, earlier for a leaving).
fn shifted(kind: AttendanceKind, days_minutes: &[(u32, i64)]) -> Vec<Punch> {
    let s = OfficeSchedule::perpres_21_2023();
    let mut punches = month_except(&[]);
    for (day, minutes) in days_minutes {
        let p = punches
            .iter_mut()
            .find(|p| {
                p.kind == Some(kind) && hadir_core::schedule::local_date(p.at_ms, WIB) == nov(*day)
            })
            .unwrap();
        let due = s.day(nov(*day)).instant_of_kind(kind, WIB).unwrap();
        let sign = if matches!(kind, CheckIn | BreakEnd) {
            1
        } else {
            -1
        };
        p.at_ms = due + sign * minutes * 60_000;
    }
    punches
}

const EDGES: [(u32, i64); 6] = [(2, 30), (3, 31), (4, 60), (5, 61), (9, 90), (10, 91)];

#[test]
fn r3_lateness_bands_at_their_edges() {
    let m = count(&input(
        OfficeSchedule::perpres_21_2023(),
        shifted(CheckIn, &EDGES),
    ));
    assert_eq!(m.tl, [1, 2, 2, 1]);
    assert_eq!(m.psw, [0; 4]);
    let codes: Vec<_> = m
        .days
        .iter()
        .filter(|d| !d.codes.is_empty())
        .map(|d| d.codes.join(","))
        .collect();
    assert_eq!(codes, ["TL1", "TL2", "TL2", "TL3", "TL3", "TL4"]);
    // 0.5 + 2 × 1 + 2 × 1.25 + 1.5 = 6.5 %.
    assert_eq!((m.deduction_bp, m.paid_share_bp), (650, 9_350));
    assert_eq!(m.present_days, 21);
    // 5,000,000 × 40 % × 93.5 %.
    assert_eq!(m.paid_rupiah, Some(1_870_000));
}

#[test]
fn r3_early_leave_bands_at_their_edges() {
    let m = count(&input(
        OfficeSchedule::perpres_21_2023(),
        shifted(CheckOut, &EDGES),
    ));
    assert_eq!(m.psw, [1, 2, 2, 1]);
    assert_eq!(m.tl, [0; 4]);
    assert_eq!(m.deduction_bp, 650);
    // A late break return is TL, an early break start PSW, in the same bands.
    let mut punches = shifted(BreakEnd, &[(2, 31)]);
    let s = OfficeSchedule::perpres_21_2023();
    let start = punches
        .iter_mut()
        .find(|p| {
            p.kind == Some(BreakStart)
                && p.at_ms == s.day(nov(3)).instant_of_kind(BreakStart, WIB).unwrap()
        })
        .unwrap();
    start.at_ms -= 61 * 60_000;
    let m = count(&input(s, punches));
    assert_eq!((m.tl, m.psw), ([0, 1, 0, 0], [0, 0, 1, 0]));
}

#[test]
fn r4_a_missing_check_out_or_check_in_is_the_last_band_and_breaks_cost_nothing() {
    let s = OfficeSchedule::perpres_21_2023();
    let mut punches = month_except(&[2, 3, 4]);
    // 2 Nov: arrived, never left. 3 Nov: no arrival. 4 Nov: no breaks.
    punches.push(phone(CheckIn, wib(nov(2), 7, 20)));
    punches.push(phone(CheckOut, wib(nov(3), 16, 5)));
    punches.push(phone(CheckIn, wib(nov(4), 7, 30)));
    punches.push(phone(CheckOut, wib(nov(4), 16, 0)));
    // A break return without a break start is not late.
    punches.push(phone(BreakEnd, wib(nov(4), 13, 40)));
    let m = count(&input(s, punches));
    assert_eq!(m.days[1].codes, ["PSW4"]);
    assert_eq!(m.days[2].codes, ["TL4"]);
    assert!(m.days[3].codes.is_empty());
    assert_eq!((m.tl, m.psw), ([0, 0, 0, 1], [0, 0, 0, 1]));
    assert_eq!((m.present_days, m.tk_days, m.deduction_bp), (21, 0, 300));
}

#[test]
fn r5_leave_across_a_weekend_counts_working_days_only() {
    let mut i = input(
        OfficeSchedule::perpres_21_2023(),
        month_except(&[6, 9, 10, 11]),
    );
    // Friday 6 to Tuesday 10: cuti; Wednesday 11: sakit.
    i.leaves = vec![
        LeaveSpan {
            kind: "cuti".into(),
            from: nov(6),
            to: nov(10),
        },
        LeaveSpan {
            kind: "sakit".into(),
            from: nov(11),
            to: nov(11),
        },
    ];
    let m = count(&i);
    assert_eq!(days_with(&m, DayOutcome::Leave), vec![6, 9, 10, 11]);
    assert_eq!(m.leave_days.get("cuti"), Some(&3));
    assert_eq!(m.leave_days.get("sakit"), Some(&1));
    assert_eq!((m.working_days, m.present_days, m.tk_days), (21, 17, 0));
    assert_eq!(m.days[6].outcome, DayOutcome::DayOff);
    assert_eq!(m.days[5].leave_kind.as_deref(), Some("cuti"));
    assert_eq!(m.deduction_bp, 0);
    // Leave outranks records: a punch on a leave day changes nothing.
    i.punches.push(phone(CheckIn, wib(nov(9), 9, 0)));
    assert_eq!(count(&i), m);
}

#[test]
fn r1_a_holiday_is_a_day_off_not_an_absence() {
    let mut s = OfficeSchedule::perpres_21_2023();
    s.holidays.push(Holiday {
        date: nov(10),
        name: "Hari Pahlawan (contoh)".into(),
    });
    let m = count(&input(s, month_except(&[10])));
    assert_eq!((m.working_days, m.present_days, m.tk_days), (20, 20, 0));
    assert_eq!(m.days[9].outcome, DayOutcome::DayOff);
    assert_eq!(m.days[9].holiday.as_deref(), Some("Hari Pahlawan (contoh)"));
    // Without the holiday the same records are one day absent without notice.
    let m = count(&input(
        OfficeSchedule::perpres_21_2023(),
        month_except(&[10]),
    ));
    assert_eq!(
        (m.tk_days, m.days[9].codes.clone(), m.deduction_bp),
        (1, vec!["TK".to_string()], 300)
    );
}

#[test]
fn r1_a_ramadan_week_is_counted_against_its_own_times() {
    let day = |out: u32| {
        vec![
            AttendanceTime {
                kind: CheckIn,
                at: ClockTime::new(8, 0).unwrap(),
                next_day: false,
            },
            AttendanceTime {
                kind: CheckOut,
                at: ClockTime::new(out, 0).unwrap(),
                next_day: false,
            },
        ]
    };
    let mut s = OfficeSchedule::perpres_21_2023();
    s.periods.push(SchedulePeriod {
        name: "Ramadan (uji)".into(),
        from: nov(16),
        to: nov(20),
        week: WeekSchedule {
            mon: day(15),
            tue: day(15),
            wed: day(15),
            thu: day(15),
            fri: day(15),
            ..WeekSchedule::default()
        },
    });
    s.validate().unwrap();
    let mut punches = month_except(&[16, 17]);
    // 07:55 is on time at 08:00; 08:31 is TL2 (31 minutes after 08:00, not 61 after
    // 07:30); leaving at 15:00 is on time.
    punches.extend([
        phone(CheckIn, wib(nov(16), 7, 55)),
        phone(CheckOut, wib(nov(16), 15, 0)),
        phone(CheckIn, wib(nov(17), 8, 31)),
        phone(CheckOut, wib(nov(17), 15, 0)),
    ]);
    let m = count(&input(s, punches));
    assert_eq!(m.days[15].period.as_deref(), Some("Ramadan (uji)"));
    assert!(m.days[15].codes.is_empty());
    assert_eq!(m.days[16].codes, ["TL2"]);
    assert_eq!((m.tl, m.psw, m.present_days), ([0, 1, 0, 0], [0; 4], 21));
}

/// A 24-hour unit: every day 19:00 in, 07:00 out the next morning.
fn night_shift() -> OfficeSchedule {
    let night = vec![
        AttendanceTime {
            kind: CheckIn,
            at: ClockTime::new(19, 0).unwrap(),
            next_day: false,
        },
        AttendanceTime {
            kind: CheckOut,
            at: ClockTime::new(7, 0).unwrap(),
            next_day: true,
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
fn r2_a_shift_across_midnight_counts_toward_the_day_it_starts() {
    let s = night_shift();
    s.validate().unwrap();
    let oct31 = NaiveDate::from_ymd_opt(2026, 10, 31).unwrap();
    let dec1 = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    // October's last shift ends on 1 November: it counts for October, not November.
    let mut punches = on_time(&s, oct31);
    for d in month_dates(NOV).into_iter().filter(|d| d.day() < 30) {
        punches.extend(on_time(&s, d));
    }
    // 30 November: 10 minutes late in, 10 minutes early out on 1 December.
    punches.push(phone(CheckIn, wib(nov(30), 19, 10)));
    punches.push(phone(CheckOut, wib(dec1, 6, 50)));
    // And December's first shift, which is not November's.
    punches.extend(on_time(&s, dec1));
    let m = count(&input(s.clone(), punches.clone()));
    assert_eq!((m.working_days, m.present_days, m.tk_days), (30, 30, 0));
    assert_eq!(m.days[29].codes, ["TL1", "PSW1"]);
    assert_eq!(
        (m.tl, m.psw, m.unmatched_punches),
        ([1, 0, 0, 0], [1, 0, 0, 0], 0)
    );

    // Only October's last shift recorded: 1 November is absent, whatever the
    // check-out at 07:00 on its date.
    let mut i = input(s.clone(), on_time(&s, oct31));
    i.now_ms = wib(nov(2), 8, 0);
    let m = count(&i);
    assert_eq!(m.days[0].outcome, DayOutcome::Absent);
    // 1 November's own shift ends at 07:00 on the 2nd: absent from then, and a shift
    // in progress is not yet absent.
    assert_eq!(m.days[1].outcome, DayOutcome::NotYet);
    let mut i = input(s.clone(), vec![phone(CheckIn, wib(nov(1), 19, 0))]);
    i.now_ms = wib(nov(2), 6, 59);
    assert!(count(&i).days[0].codes.is_empty());
    i.now_ms = wib(nov(2), 7, 0);
    assert_eq!(count(&i).days[0].codes, ["PSW4"]);
    // A machine punch at 06:55 goes to the night's check-out, not the evening's check-in.
    let mut i = input(
        s.clone(),
        vec![
            phone(CheckIn, wib(nov(1), 19, 0)),
            machine(wib(nov(2), 6, 55)),
        ],
    );
    i.now_ms = wib(nov(3), 8, 0);
    let m = count(&i);
    assert_eq!(m.days[0].codes, ["PSW1"]);
    assert!(m.days[0].machine);
}

#[test]
fn r5_a_dispensation_is_present_without_codes() {
    let mut punches = month_except(&[12, 13]);
    // Late on the 13th, but on official duty elsewhere that day.
    punches.push(phone(CheckIn, wib(nov(13), 10, 0)));
    let mut i = input(OfficeSchedule::perpres_21_2023(), punches);
    i.dispensations = vec![nov(12), nov(13), nov(14)];
    let m = count(&i);
    assert_eq!(days_with(&m, DayOutcome::Dispensation), vec![12, 13]);
    assert_eq!(
        m.days[13].outcome,
        DayOutcome::DayOff,
        "a Saturday stays a day off"
    );
    assert!(m.days[12].codes.is_empty());
    assert_eq!((m.present_days, m.dispensation_days, m.tk_days), (21, 2, 0));
    assert_eq!((m.tl, m.deduction_bp), ([0; 4], 0));
}

#[test]
fn r6_proven_manipulation_zeroes_the_month() {
    let mut i = input(
        OfficeSchedule::perpres_21_2023(),
        shifted(CheckIn, &[(2, 5)]),
    );
    i.manipulation = true;
    let m = count(&i);
    assert!(m.manipulation);
    assert_eq!((m.deduction_bp, m.paid_share_bp), (50, 0));
    assert_eq!(m.attendance_part_rupiah, Some(2_000_000));
    assert_eq!(m.paid_rupiah, Some(0));
}

#[test]
fn r2_machine_punches_go_to_the_nearest_time_within_the_window() {
    let s = OfficeSchedule::perpres_21_2023();
    let mon = nov(2);
    let mut punches = month_except(&[2, 3, 4]);
    // Monday: 07:40 is the arrival (10 minutes late); 12:29 the break start (29
    // minutes from 12:00, 31 from 13:00; leaving for a break after its time is no
    // PSW); 13:00 the return; 16:10 the check-out.
    punches.extend([
        machine(wib(mon, 7, 40)),
        machine(wib(mon, 12, 29)),
        machine(wib(mon, 13, 0)),
        machine(wib(mon, 16, 10)),
    ]);
    // Tuesday: 12:30 is as near 12:00 as 13:00: the earlier time, the break start.
    // No other break record, so the return is not late either way.
    punches.extend([
        machine(wib(nov(3), 7, 30)),
        machine(wib(nov(3), 12, 30)),
        machine(wib(nov(3), 16, 0)),
    ]);
    // Wednesday, with a one-hour window: 17:00 is the check-out (60 minutes after
    // 16:00), 17:01 would match nothing.
    punches.extend([machine(wib(nov(4), 7, 30)), machine(wib(nov(4), 17, 0))]);
    let table = DeductionTable {
        machine_window_minutes: 60,
        ..DeductionTable::default()
    };
    let m = count_person_month(&input(s.clone(), punches.clone()), &table);
    assert_eq!(m.days[1].codes, ["TL1"]);
    assert!(m.days[1].machine && m.days[2].machine && m.days[3].machine);
    assert!(m.days[2].codes.is_empty(), "{:?}", m.days[2].codes);
    assert!(m.days[3].codes.is_empty());
    assert_eq!(
        (m.machine_days, m.unmatched_punches, m.present_days),
        (3, 0, 21)
    );

    // The tie went to the break start: with a break return at 13:45 the return is
    // counted (45 minutes late, TL2), which it would not be without a break start.
    let mut with_return = punches.clone();
    with_return.push(phone(BreakEnd, wib(nov(3), 13, 45)));
    let m = count_person_month(&input(s.clone(), with_return), &table);
    assert_eq!(m.days[2].codes, ["TL2"]);

    // 17:01 is outside the window: unmatched, and Wednesday has no check-out.
    let last = punches.len() - 1;
    punches[last].at_ms += 60_000;
    let m = count_person_month(&input(s, punches), &table);
    assert_eq!(m.unmatched_punches, 1);
    assert_eq!(m.days[3].codes, ["PSW4"]);
}

#[test]
fn r2_a_phone_punch_goes_to_its_own_kind_within_12_hours() {
    let mut punches = month_except(&[]);
    // A check-in on a Saturday is 24 h from any arrival time: it does not count.
    punches.push(phone(CheckIn, wib(nov(7), 10, 0)));
    // A check-out at 08:00 is an early leaving (8 hours), not a late arrival.
    let mut i = input(OfficeSchedule::perpres_21_2023(), month_except(&[2]));
    i.punches.extend([
        phone(CheckIn, wib(nov(2), 7, 30)),
        phone(CheckOut, wib(nov(2), 8, 0)),
    ]);
    let m = count(&i);
    assert_eq!(m.days[1].codes, ["PSW4"]);
    assert_eq!(m.tl, [0; 4]);
    let m = count(&input(OfficeSchedule::perpres_21_2023(), punches));
    assert_eq!(
        (m.unmatched_punches, m.days[6].outcome),
        (1, DayOutcome::DayOff)
    );
}

#[test]
fn r7_rupiah_round_half_up_once() {
    // One TL1: 99.5 % paid. 5,001,250 × 40 % × 99.5 % = 1,990,497.5 → 1,990,498.
    let mut i = input(
        OfficeSchedule::perpres_21_2023(),
        shifted(CheckIn, &[(2, 5)]),
    );
    i.tpp_rupiah = Some(5_001_250);
    let m = count(&i);
    assert_eq!(m.paid_share_bp, 9_950);
    assert_eq!(m.attendance_part_rupiah, Some(2_000_500));
    assert_eq!(m.paid_rupiah, Some(1_990_498));
    // 5,001,251: part 2,000,500.4 → 2,000,500; paid 1,990,497.898 → 1,990,498.
    i.tpp_rupiah = Some(5_001_251);
    let m = count(&i);
    assert_eq!(
        (m.attendance_part_rupiah, m.paid_rupiah),
        (Some(2_000_500), Some(1_990_498))
    );
    // 1,001 × 40 % = 400.4 → 400; × 99.5 % = 398.398 → 398.
    i.tpp_rupiah = Some(1_001);
    let m = count(&i);
    assert_eq!(
        (m.attendance_part_rupiah, m.paid_rupiah),
        (Some(400), Some(398))
    );
    // Unknown TPP: shares only.
    i.tpp_rupiah = None;
    let m = count(&i);
    assert_eq!((m.attendance_part_rupiah, m.paid_rupiah), (None, None));
}

#[test]
fn r6_the_deduction_is_capped() {
    // Absent every working day: 21 × 3 % = 63 %, under the cap.
    let m = count(&input(OfficeSchedule::perpres_21_2023(), vec![]));
    assert_eq!(
        (m.tk_days, m.deduction_bp, m.paid_share_bp),
        (21, 6_300, 3_700)
    );
    // At 5 % a day it would be 105 %: capped at 100 %, nothing paid.
    let table = DeductionTable {
        tk_bp: 500,
        ..DeductionTable::default()
    };
    let m = count_person_month(&input(OfficeSchedule::perpres_21_2023(), vec![]), &table);
    assert_eq!(
        (m.deduction_bp, m.paid_share_bp, m.paid_rupiah),
        (10_000, 0, Some(0))
    );
    // A pemda's lower cap.
    let table = DeductionTable {
        cap_bp: 2_500,
        ..DeductionTable::default()
    };
    let m = count_person_month(&input(OfficeSchedule::perpres_21_2023(), vec![]), &table);
    assert_eq!((m.deduction_bp, m.paid_share_bp), (2_500, 7_500));
}

#[test]
fn r5_a_day_not_over_is_not_yet_counted() {
    // Wednesday 18 November, 10:00: arrived on time, not left yet.
    let mut punches: Vec<Punch> = month_except(&[17, 18])
        .into_iter()
        .filter(|p| p.at_ms < wib(nov(18), 0, 0))
        .collect();
    punches.push(phone(CheckIn, wib(nov(18), 7, 25)));
    let mut i = input(OfficeSchedule::perpres_21_2023(), punches);
    i.now_ms = wib(nov(18), 10, 0);
    let m = count(&i);
    assert_eq!(m.days[17].outcome, DayOutcome::Present);
    assert!(
        m.days[17].codes.is_empty(),
        "no PSW4 before the day is over"
    );
    assert_eq!(days_with(&m, DayOutcome::Absent), vec![17]);
    assert_eq!(
        days_with(&m, DayOutcome::NotYet),
        vec![19, 20, 23, 24, 25, 26, 27, 30]
    );
    assert_eq!((m.working_days, m.present_days, m.tk_days), (21, 12, 1));
}

#[test]
fn month_dates_cover_the_calendar() {
    assert_eq!(month_dates(NOV).len(), 30);
    assert_eq!(
        month_dates(Month {
            year: 2028,
            month: 2
        })
        .len(),
        29
    );
    assert_eq!(
        month_dates(Month {
            year: 2026,
            month: 12
        })
        .last(),
        NaiveDate::from_ymd_opt(2026, 12, 31).as_ref()
    );
    assert!(
        month_dates(Month {
            year: 2026,
            month: 13
        })
        .is_empty()
    );
}

#[test]
fn r1_days_before_a_person_is_counted_from_are_not_working_days() {
    // Hired on Monday 16 November, recorded nothing before: the 10 working days before
    // are not theirs to miss; from the 16th, 11 working days, all absent but one.
    let s = OfficeSchedule::perpres_21_2023();
    let mut i = input(s.clone(), on_time(&s, nov(16)));
    i.counted_from = Some(nov(16));
    let m = count(&i);
    assert_eq!((m.working_days, m.present_days, m.tk_days), (11, 1, 10));
    i.counted_from = None;
    assert_eq!(
        count(&i).working_days,
        21,
        "without the date, the whole month counts"
    );
}
