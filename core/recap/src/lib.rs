//! Month's end: a person's month of attendance counted into the recap that decides the
//! attendance part of TPP. The rules are written in `docs/RECAP.md`; each is decided
//! once, here.

pub mod count;
pub mod deductions;
pub mod model;
pub mod yearly;
