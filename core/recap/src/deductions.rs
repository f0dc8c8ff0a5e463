//! The deduction table: what each TL/PSW band and each day absent without notice costs,
//! in basis points of the attendance part of TPP. Configuration, never constants: a
//! pemda loads its own from JSON ([`DeductionTable::from_json`]); the default is below.

use serde::{Deserialize, Serialize};

/// A pemda's deduction table. All percentages in basis points (1 % = 100 bp).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeductionTable {
    /// Name of the regulation, e.g. "Perbup Bengkulu Utara No. .. Tahun ....".
    pub source: String,
    /// TL1–TL4: per occurrence.
    pub tl_bp: [u32; 4],
    /// PSW1–PSW4: per occurrence.
    pub psw_bp: [u32; 4],
    /// Per day absent without notice.
    pub tk_bp: u32,
    /// The month's cap (10000 = 100 % of the attendance part).
    pub cap_bp: u32,
    /// The attendance part's weight in TPP (4000 = 40 %).
    pub attendance_weight_bp: u32,
    /// Machine punches map to the nearest scheduled time within this many minutes.
    pub machine_window_minutes: u32,
}

/// What [`DeductionTable::default`] says it rests on (kept in every recap it counts).
pub const DEFAULT_SOURCE: &str = "Hadir default, not one regency's regulation: TL/PSW \
    0.5/1/1.25/1.5 % per occurrence, TK 3 % a day, cap 100 %, attendance part 40 % of TPP \
    (see core/recap/src/deductions.rs); load your Perbup/Perwal's table";

/// 100 % in basis points.
const FULL_BP: u32 = 10_000;
/// The widest machine window: 12 hours.
const MAX_WINDOW_MINUTES: u32 = 720;

/// The default table. **It is not one published regency table**: no regency regulation
/// with the whole table could be read with certainty while writing this (the search
/// corpus gives only each document's opening pages). What was found, and what each
/// number rests on:
///
/// * Kabupaten Tebo (Jambi), Perbup No. 1 Tahun 2022 tentang TPP ASN: its BKPSDM told
///   the press (duasatu.net, 27 July 2022, "Telat absen terjaring razia gabungan") that
///   lateness is cut by band TL1 to TL4, "from the lowest 0.5 percent to the highest
///   1.5 percent". The ends of `tl_bp` (50 and 150) rest on this; the middle bands (100,
///   125) follow DESIGN.md's shape (0.5 / 1 / 1.25 or 1.5 / 1.5–2.5 %). The Perbup's
///   own text was not read.
/// * A national ministry's table (Permentan 68/2012, as published on
///   banten.litbang.pertanian.go.id, "Pengurangan Tunjangan Kinerja Setiap Bulan") uses
///   the same four 30-minute bands for TL and PSW at 0.5 / 1 / 1.5 / 2 % and 4 % a day
///   absent: the same shape, a ministry's numbers, not a regency's.
/// * `psw_bp` mirrors `tl_bp`, as in every table seen; `tk_bp` 300 is the low end of
///   DESIGN.md's 3–5 % a day; the cap is 100 % of the attendance part; the attendance
///   part is 40 % of TPP as in Sumut (DESIGN.md).
/// * `machine_window_minutes` 240: a machine punch maps to the nearest time within
///   4 hours, wide enough for a late arrival, narrower than the gap between a day's
///   first and last times.
///
/// A pemda replaces the whole table with its own (`from_json`), citing its regulation
/// in `source`.
impl Default for DeductionTable {
    fn default() -> Self {
        DeductionTable {
            source: DEFAULT_SOURCE.into(),
            tl_bp: [50, 100, 125, 150],
            psw_bp: [50, 100, 125, 150],
            tk_bp: 300,
            cap_bp: FULL_BP,
            attendance_weight_bp: 4_000,
            machine_window_minutes: 240,
        }
    }
}

/// Why a deduction table is refused. Messages are for the admin who loads it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// Not JSON of the table's shape (a missing or unknown field, a wrong type).
    #[error(
        "the deduction table is not valid JSON of the expected shape ({detail}); fields: \
         source, tl_bp [4], psw_bp [4], tk_bp, cap_bp, attendance_weight_bp, \
         machine_window_minutes"
    )]
    Malformed {
        /// The parser's words, naming the field and position.
        detail: String,
    },
    /// A percentage above 100 % (10000 bp).
    #[error(
        "{field} is {value} bp, over 100 % (10000 bp): percentages are in basis points, 1 % = 100"
    )]
    OverFull {
        /// Which field, e.g. `tl_bp[2]`.
        field: String,
        /// Its value.
        value: u32,
    },
    /// The cap or the weight is zero or over 100 %.
    #[error("{field} is {value} bp; it must be between 1 and 10000 (100 %)")]
    OutOfRange {
        /// Which field.
        field: String,
        /// Its value.
        value: u32,
    },
    /// The machine window is zero or over 12 hours.
    #[error("machine_window_minutes is {value}; it must be between 1 and 720 (12 hours)")]
    BadWindow {
        /// Its value.
        value: u32,
    },
    /// No source named.
    #[error(
        "source is empty: name the regulation the table comes from (e.g. \"Perbup ... No. .. Tahun ....\")"
    )]
    NoSource,
}

impl TableError {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            TableError::Malformed { .. } => "TABLE_MALFORMED",
            TableError::OverFull { .. } => "TABLE_OVER_FULL",
            TableError::OutOfRange { .. } => "TABLE_OUT_OF_RANGE",
            TableError::BadWindow { .. } => "TABLE_BAD_WINDOW",
            TableError::NoSource => "TABLE_NO_SOURCE",
        }
    }
}

impl DeductionTable {
    /// Reads and checks a pemda's table from JSON (every field required, none unknown).
    pub fn from_json(text: &str) -> Result<Self, TableError> {
        let table: DeductionTable =
            serde_json::from_str(text).map_err(|e| TableError::Malformed {
                detail: e.to_string(),
            })?;
        table.validate()?;
        Ok(table)
    }

    /// Checks every percentage is at most 100 %, the cap and weight are 1..=10000 and
    /// the machine window 1..=720 minutes.
    pub fn validate(&self) -> Result<(), TableError> {
        if self.source.trim().is_empty() {
            return Err(TableError::NoSource);
        }
        let bands = [("tl_bp", &self.tl_bp), ("psw_bp", &self.psw_bp)];
        let per_band = bands.iter().flat_map(|(name, bp)| {
            bp.iter()
                .enumerate()
                .map(move |(i, v)| (format!("{name}[{i}]"), *v))
        });
        for (field, value) in per_band.chain([("tk_bp".to_string(), self.tk_bp)]) {
            if value > FULL_BP {
                return Err(TableError::OverFull { field, value });
            }
        }
        for (field, value) in [
            ("cap_bp", self.cap_bp),
            ("attendance_weight_bp", self.attendance_weight_bp),
        ] {
            if !(1..=FULL_BP).contains(&value) {
                return Err(TableError::OutOfRange {
                    field: field.into(),
                    value,
                });
            }
        }
        if !(1..=MAX_WINDOW_MINUTES).contains(&self.machine_window_minutes) {
            return Err(TableError::BadWindow {
                value: self.machine_window_minutes,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_valid_and_round_trips_through_json() {
        let table = DeductionTable::default();
        table.validate().unwrap();
        assert_eq!(table.machine_window_minutes, 240);
        assert_eq!(table.attendance_weight_bp, 4_000);
        let json = serde_json::to_string(&table).unwrap();
        assert_eq!(DeductionTable::from_json(&json).unwrap(), table);
    }

    fn with(field: &str, value: serde_json::Value) -> String {
        let mut json = serde_json::to_value(DeductionTable::default()).unwrap();
        json[field] = value;
        json.to_string()
    }

    #[test]
    fn a_pemdas_table_is_checked_field_by_field() {
        let err =
            DeductionTable::from_json(&with("tl_bp", serde_json::json!([50, 100, 10001, 150])))
                .unwrap_err();
        assert_eq!(err.code(), "TABLE_OVER_FULL");
        assert!(err.to_string().starts_with("tl_bp[2] is 10001 bp"), "{err}");
        DeductionTable::from_json(&with("psw_bp", serde_json::json!([0, 0, 0, 10000]))).unwrap();
        let err = DeductionTable::from_json(&with("tk_bp", 10_001.into())).unwrap_err();
        assert!(err.to_string().starts_with("tk_bp"), "{err}");
        for (field, bad, good) in [
            ("cap_bp", 0, 1),
            ("cap_bp", 10_001, 10_000),
            ("attendance_weight_bp", 0, 10_000),
        ] {
            let err = DeductionTable::from_json(&with(field, bad.into())).unwrap_err();
            assert_eq!(err.code(), "TABLE_OUT_OF_RANGE");
            assert!(err.to_string().starts_with(field), "{err}");
            DeductionTable::from_json(&with(field, good.into())).unwrap();
        }
        for bad in [0, 721] {
            let err =
                DeductionTable::from_json(&with("machine_window_minutes", bad.into())).unwrap_err();
            assert_eq!(err.code(), "TABLE_BAD_WINDOW");
        }
        for good in [1, 720] {
            DeductionTable::from_json(&with("machine_window_minutes", good.into())).unwrap();
        }
        let err = DeductionTable::from_json(&with("source", " ".into())).unwrap_err();
        assert_eq!(err.code(), "TABLE_NO_SOURCE");
    }

    #[test]
    fn malformed_json_names_the_field() {
        let err = DeductionTable::from_json(&with("tl_bp", serde_json::json!([50, 100, 125])))
            .unwrap_err();
        assert_eq!(err.code(), "TABLE_MALFORMED");
        let err = DeductionTable::from_json(&with("tk_pct", 3.into())).unwrap_err();
        assert!(err.to_string().contains("tk_pct"), "{err}");
        let err = DeductionTable::from_json(&with("tk_bp", (-1).into())).unwrap_err();
        assert_eq!(err.code(), "TABLE_MALFORMED");
        assert!(DeductionTable::from_json("{").is_err());
    }
}
