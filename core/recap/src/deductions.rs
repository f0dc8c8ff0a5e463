//! The deduction table: what each TL/PSW band and each day absent without notice costs,
//! in basis points of the attendance part of TPP. Configuration, never constants: a
//! pemda loads its own from JSON; [`DeductionTable::default`] is one published table,
//! cited below.

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
