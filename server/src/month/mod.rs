//! Month's end on the server: imports (people, offices, holidays, machine logs), the
//! recap fed from storage, corrections with their hash-chained audit trail, and the
//! XLSX/CSV exports. The counting rules themselves live in the `hadir-recap` crate.

pub mod attlog;
pub mod cli;
pub mod close;
pub mod corrections;
pub mod export;
pub mod import_cli;
pub mod import_store;
pub mod imports;
pub mod recap;
pub mod store;
