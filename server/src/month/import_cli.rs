//! `hadir-server import ...`: reads the file, parses it ([`super::imports`],
//! [`super::attlog`]), writes it all-or-nothing ([`super::import_store`]) with a
//! progress bar, and prints every error as `file:line: message [CODE]`.

use std::path::Path;

use super::cli::{ImportCommand, progress_bar};
use super::import_store::{self, ImportRefused, ImportSummary, ImportedFile};
use super::imports::{self, ImportError};
use crate::storage::sqlite::SqliteStorage;

/// The file's bytes, its name and SHA-256 (the parsers check the encoding).
fn read(path: &Path) -> Result<(Vec<u8>, ImportedFile), String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("{}: tidak dapat dibaca: {e}", path.display()))?;
    let file = ImportedFile {
        name: path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        ),
        sha256: hadir_core::photo::sha256_hex(&bytes),
    };
    Ok((bytes, file))
}

/// Every error, one per line, and a closing sentence.
fn report(errors: &[ImportError]) -> String {
    let mut out: Vec<String> = errors.iter().map(ToString::to_string).collect();
    out.push(format!(
        "{} kesalahan; tidak ada yang disimpan",
        errors.len()
    ));
    out.join("\n")
}

fn refused(e: ImportRefused) -> String {
    match e {
        ImportRefused::Rows(errors) => report(&errors),
        ImportRefused::Storage(e) => e.to_string(),
    }
}

fn done(what: &str, summary: &ImportSummary) {
    eprintln!(
        "{what}: {} baris disimpan{} (koreksi #{})",
        summary.written,
        if summary.already_stored > 0 {
            format!(", {} sudah ada sebelumnya", summary.already_stored)
        } else {
            String::new()
        },
        summary.seq
    );
}

/// Runs an import as `actor`.
pub fn run(s: &SqliteStorage, actor: &str, command: &ImportCommand) -> Result<(), String> {
    let bar = progress_bar(3, "impor");
    let result = match command {
        ImportCommand::People { file } => {
            let (bytes, f) = read(file)?;
            bar.inc(1);
            let rows = imports::parse_people(&f.name, &bytes).map_err(|e| report(&e))?;
            bar.inc(1);
            let summary = import_store::import_people(s, actor, f, rows).map_err(refused)?;
            ("pegawai", summary)
        }
        ImportCommand::Offices { file } => {
            let (bytes, f) = read(file)?;
            bar.inc(1);
            let geojson = file.extension().is_some_and(|e| {
                e.eq_ignore_ascii_case("geojson") || e.eq_ignore_ascii_case("json")
            });
            let offices = if geojson {
                imports::parse_offices_geojson(&f.name, &bytes)
            } else {
                imports::parse_offices_csv(&f.name, &bytes)
            }
            .map_err(|e| report(&e))?;
            bar.inc(1);
            let offices = offices.into_iter().map(|row| row.office).collect();
            let summary = import_store::import_offices(s, actor, f, offices).map_err(refused)?;
            ("kantor", summary)
        }
        ImportCommand::Holidays { file } => {
            let (bytes, f) = read(file)?;
            bar.inc(1);
            let rows = imports::parse_holidays(&f.name, &bytes).map_err(|e| report(&e))?;
            bar.inc(1);
            let summary = import_store::import_holidays(s, actor, f, rows).map_err(refused)?;
            ("hari libur", summary)
        }
        ImportCommand::Attlog {
            machine,
            file,
            users,
        } => {
            let (user_map, users_file) = match users {
                Some(path) => {
                    let (bytes, f) = read(path)?;
                    let rows =
                        super::attlog::parse_user_map(&f.name, &bytes).map_err(|e| report(&e))?;
                    (rows, f.name)
                }
                None => (Vec::new(), String::new()),
            };
            let (bytes, f) = read(file)?;
            bar.inc(1);
            let log = super::attlog::parse_attlog(&f.name, &bytes).map_err(|e| report(&e))?;
            bar.inc(1);
            if log.duplicates_in_file > 0 {
                eprintln!(
                    "{} baris berulang di berkas dilewati",
                    log.duplicates_in_file
                );
            }
            let summary = import_store::import_attlog(
                s,
                actor,
                machine,
                f,
                log.punches,
                user_map,
                users_file,
            )
            .map_err(refused)?;
            ("log mesin", summary)
        }
    };
    bar.finish_and_clear();
    done(result.0, &result.1);
    Ok(())
}
