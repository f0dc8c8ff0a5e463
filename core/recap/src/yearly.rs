//! A person's year of unexcused absence (TK), as PP 94/2021 on the discipline of civil
//! servants escalates it: the days counted over the year, the longest run on
//! consecutive working days, and the thresholds reached, each with what the regulation
//! attaches to it in one Indonesian line.
//!
//! What the regulation says was read from reports quoting it (search, corpus `pages`):
//! Kompas.com 14-09-2021 "Jokowi Teken PP, PNS Bolos Kerja Bisa Kena Sanksi
//! Pemberhentian", GoRiau (quoting Kompas), Parapuan, IndeksNews (quoting Sindonews).
//! They quote Pasal 11 ayat (2) huruf d angka 1–4 (the heavy penalties) and Pasal 15
//! ayat (2) (salary stopped) word for word; for the light and medium penalties they
//! give the day ranges without the article number, so none is cited here. The
//! regulation's bands start at 3, 4, 7, 11, 14, 17, 21, 25 and 28 days in a year, plus
//! 10 working days in a row; all are flagged, which includes the 3, 7, 11, 14, 21 and
//! 28 of issue #15.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::model::{CountedDay, DayOutcome};

/// Days of TK in a year at which PP 94/2021 starts a penalty band.
pub const THRESHOLDS: [u32; 9] = [3, 4, 7, 11, 14, 17, 21, 25, 28];

/// TK on this many consecutive working days is a penalty of its own.
pub const RUN_LIMIT: u32 = 10;

/// A person's year of unexcused absence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearlyAbsence {
    /// The year.
    pub year: i32,
    /// Working days absent without notice (TK).
    pub tk_days: u32,
    /// The longest run of TK on consecutive working days (days off between them do not
    /// break it; a day present, on leave or by dispensation does).
    pub longest_run: u32,
    /// The [`THRESHOLDS`] reached, ascending.
    pub thresholds_reached: Vec<u32>,
    /// Whether the longest run reached [`RUN_LIMIT`].
    pub run_of_ten: bool,
}

/// Counts a year from a person's counted days (any number of months, any order; days
/// of other years are ignored). A gap in the dates (a month not given) breaks a run:
/// a run is only what the records show.
pub fn yearly_absence(year: i32, days: &[CountedDay]) -> YearlyAbsence {
    let mut of_year: Vec<&CountedDay> = days.iter().filter(|d| d.date.year() == year).collect();
    of_year.sort_by_key(|d| d.date);
    of_year.dedup_by_key(|d| d.date);
    let (mut tk_days, mut run, mut longest_run) = (0u32, 0u32, 0u32);
    let mut previous: Option<NaiveDate> = None;
    for day in of_year {
        if previous.is_some_and(|p| p.succ_opt() != Some(day.date)) {
            run = 0;
        }
        previous = Some(day.date);
        match day.outcome {
            DayOutcome::Absent => {
                tk_days += 1;
                run += 1;
                longest_run = longest_run.max(run);
            }
            DayOutcome::Present | DayOutcome::Dispensation | DayOutcome::Leave => run = 0,
            DayOutcome::DayOff | DayOutcome::NotYet => {}
        }
    }
    YearlyAbsence {
        year,
        tk_days,
        longest_run,
        thresholds_reached: THRESHOLDS.into_iter().filter(|t| tk_days >= *t).collect(),
        run_of_ten: longest_run >= RUN_LIMIT,
    }
}

/// What PP 94/2021 attaches to a threshold of TK days in a year, in Indonesian; `None`
/// for a number that is not one of [`THRESHOLDS`].
pub fn threshold_line(days: u32) -> Option<&'static str> {
    Some(match days {
        3 => {
            "3 hari kerja tanpa alasan yang sah dalam 1 tahun: teguran lisan (hukuman disiplin ringan)."
        }
        4 => {
            "4–6 hari kerja tanpa alasan yang sah dalam 1 tahun: teguran tertulis (hukuman disiplin ringan)."
        }
        7 => {
            "7–10 hari kerja tanpa alasan yang sah dalam 1 tahun: pernyataan tidak puas secara tertulis (hukuman disiplin ringan)."
        }
        11 => {
            "11–13 hari kerja tanpa alasan yang sah dalam 1 tahun: pemotongan tunjangan kinerja 25% selama 6 bulan (hukuman disiplin sedang)."
        }
        14 => {
            "14–16 hari kerja tanpa alasan yang sah dalam 1 tahun: pemotongan tunjangan kinerja 25% selama 9 bulan (hukuman disiplin sedang)."
        }
        17 => {
            "17–20 hari kerja tanpa alasan yang sah dalam 1 tahun: pemotongan tunjangan kinerja 25% selama 12 bulan (hukuman disiplin sedang)."
        }
        21 => {
            "21–24 hari kerja tanpa alasan yang sah dalam 1 tahun: penurunan jabatan setingkat lebih rendah selama 12 bulan (hukuman disiplin berat, Pasal 11 ayat (2) huruf d angka 1)."
        }
        25 => {
            "25–27 hari kerja tanpa alasan yang sah dalam 1 tahun: pembebasan dari jabatannya menjadi jabatan pelaksana selama 12 bulan (hukuman disiplin berat, Pasal 11 ayat (2) huruf d angka 2)."
        }
        28 => {
            "28 hari kerja atau lebih tanpa alasan yang sah dalam 1 tahun: pemberhentian dengan hormat tidak atas permintaan sendiri sebagai PNS (hukuman disiplin berat, Pasal 11 ayat (2) huruf d angka 3)."
        }
        _ => return None,
    })
}

/// What PP 94/2021 attaches to [`RUN_LIMIT`] working days of TK in a row.
pub const RUN_LINE: &str = "10 hari kerja berturut-turut tanpa alasan yang sah: pemberhentian \
    dengan hormat tidak atas permintaan sendiri sebagai PNS (Pasal 11 ayat (2) huruf d angka 4); \
    pembayaran gaji dihentikan sejak bulan berikutnya (Pasal 15 ayat (2)).";

impl YearlyAbsence {
    /// One Indonesian line per threshold reached, then the run of ten if reached: what
    /// a supervisor reads next to the counts.
    pub fn lines(&self) -> Vec<&'static str> {
        self.thresholds_reached
            .iter()
            .filter_map(|t| threshold_line(*t))
            .chain(self.run_of_ten.then_some(RUN_LINE))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026 from 5 January (a Monday): `pattern` read one character a day,
    /// `A` absent, `P` present, `L` leave, `-` day off, `N` not yet.
    fn days(start: NaiveDate, pattern: &str) -> Vec<CountedDay> {
        start
            .iter_days()
            .zip(pattern.chars())
            .map(|(date, c)| CountedDay {
                date,
                outcome: match c {
                    'A' => DayOutcome::Absent,
                    'P' => DayOutcome::Present,
                    'L' => DayOutcome::Leave,
                    'N' => DayOutcome::NotYet,
                    _ => DayOutcome::DayOff,
                },
                codes: vec![],
                leave_kind: None,
                holiday: None,
                period: None,
                machine: false,
            })
            .collect()
    }

    fn jan(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, day).unwrap()
    }

    #[test]
    fn a_run_continues_across_a_weekend_and_breaks_on_a_day_present() {
        // Mon–Fri absent, weekend, Mon–Fri absent: ten working days in a row.
        let y = yearly_absence(2026, &days(jan(5), "AAAAA--AAAAA"));
        assert_eq!((y.tk_days, y.longest_run, y.run_of_ten), (10, 10, true));
        assert_eq!(y.thresholds_reached, vec![3, 4, 7]);
        assert_eq!(y.lines().last(), Some(&RUN_LINE));
        // A day present (or on leave) in the middle breaks it.
        let y = yearly_absence(2026, &days(jan(5), "AAAAA--AAAAPAA"));
        assert_eq!((y.tk_days, y.longest_run, y.run_of_ten), (11, 9, false));
        let y = yearly_absence(2026, &days(jan(5), "AAAAL--AAAAAA"));
        assert_eq!((y.longest_run, y.run_of_ten), (6, false));
        // A day not over yet neither breaks nor extends it.
        let y = yearly_absence(2026, &days(jan(5), "AAAAA--AAAN"));
        assert_eq!(y.longest_run, 8);
    }

    #[test]
    fn months_given_in_any_order_join_and_a_missing_month_breaks_a_run() {
        let end_of_jan = days(jan(26), "PPPAAA"); // 26–31 January
        let feb = days(NaiveDate::from_ymd_opt(2026, 2, 1).unwrap(), "-AAAAA--AA");
        let mut both = feb.clone();
        both.extend(end_of_jan.clone());
        let y = yearly_absence(2026, &both);
        assert_eq!((y.tk_days, y.longest_run, y.run_of_ten), (10, 10, true));
        // Without 1 February the dates have a gap: the run is only what is recorded.
        let y = yearly_absence(2026, &[end_of_jan, feb[1..].to_vec()].concat());
        assert_eq!((y.tk_days, y.longest_run), (10, 7));
        // Other years are not counted.
        assert_eq!(yearly_absence(2025, &both).tk_days, 0);
    }

    #[test]
    fn thresholds_follow_pp_94_2021() {
        let count = |n: usize| {
            // n absences spread one a week (never a run).
            let pattern = "AP-----".repeat(n);
            yearly_absence(2026, &days(jan(5), &pattern))
        };
        assert!(count(2).thresholds_reached.is_empty());
        assert_eq!(count(3).thresholds_reached, vec![3]);
        assert_eq!(count(13).thresholds_reached, vec![3, 4, 7, 11]);
        assert_eq!(count(14).thresholds_reached, vec![3, 4, 7, 11, 14]);
        assert_eq!(
            count(27).thresholds_reached,
            vec![3, 4, 7, 11, 14, 17, 21, 25]
        );
        let y = count(28);
        assert_eq!(y.thresholds_reached, THRESHOLDS.to_vec());
        assert!(!y.run_of_ten);
        let lines = y.lines();
        assert_eq!(lines.len(), 9);
        assert!(lines[0].contains("teguran lisan"));
        assert!(lines[2].contains("pernyataan tidak puas secara tertulis"));
        assert!(lines[6].contains("penurunan jabatan setingkat lebih rendah selama 12 bulan"));
        assert!(lines[8].contains("pemberhentian dengan hormat tidak atas permintaan sendiri"));
        assert!(THRESHOLDS.iter().all(|t| threshold_line(*t).is_some()));
        assert_eq!(threshold_line(5), None);
    }
}
