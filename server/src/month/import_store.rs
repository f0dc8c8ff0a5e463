//! Imports into storage, each one writer job: the parsed rows ([`super::imports`],
//! [`super::attlog`]) are checked against the database (offices that must exist,
//! supervisors that must be someone, machine users that must map to a person), and
//! either every row is written with the import's correction (file name, SHA-256, rows)
//! or nothing is, and every problem is reported with its file and line.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use rusqlite::{Connection, params};
use serde_json::json;

use super::attlog::{MachinePunch, UserMapRow};
use super::imports::{HolidayRow, ImportError, PersonRow};
use super::store::{CorrectionSpec, bump_directory, correct};
use crate::storage::sqlite::SqliteStorage;
use crate::storage::{StorageError, person_key};

/// What an import wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// The correction that recorded it.
    pub seq: i64,
    /// Rows written (new or updated).
    pub written: u64,
    /// Rows already stored (machine punches re-imported from a cumulative export).
    pub already_stored: u64,
}

/// An import refused: the database's objections, file:line each, or a storage failure.
#[derive(Debug, thiserror::Error)]
pub enum ImportRefused {
    /// Rows the database refuses; nothing was written.
    #[error("{} kesalahan; tidak ada yang disimpan", .0.len())]
    Rows(Vec<ImportError>),
    /// Storage failed (or the admin/month checks refused).
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Carries row errors out of a writer job (which only returns [`StorageError`]).
const ROWS_MARKER: &str = "IMPORT_ROWS\u{0}";

fn rows_error(errors: Vec<ImportError>) -> StorageError {
    let json: Vec<serde_json::Value> = errors
        .iter()
        .map(|e| json!([e.file, e.line, e.code, e.message]))
        .collect();
    StorageError::Invalid(format!("{ROWS_MARKER}{}", serde_json::Value::from(json)))
}

fn unwrap_rows(e: StorageError) -> ImportRefused {
    if let StorageError::Invalid(m) = &e
        && let Some(json) = m.strip_prefix(ROWS_MARKER)
        && let Ok(serde_json::Value::Array(items)) = serde_json::from_str(json)
    {
        let code = |v: &serde_json::Value| match v.as_str().unwrap_or_default() {
            "IMPORT_OFFICE_UNKNOWN" => "IMPORT_OFFICE_UNKNOWN",
            "IMPORT_SUPERVISOR_UNKNOWN" => "IMPORT_SUPERVISOR_UNKNOWN",
            "IMPORT_SUPERVISION_CIRCLE" => "IMPORT_SUPERVISION_CIRCLE",
            "IMPORT_MACHINE_USER_UNKNOWN" => "IMPORT_MACHINE_USER_UNKNOWN",
            "IMPORT_MONTH_CLOSED" => "IMPORT_MONTH_CLOSED",
            _ => "IMPORT_FIELD",
        };
        return ImportRefused::Rows(
            items
                .iter()
                .map(|i| ImportError {
                    file: i[0].as_str().unwrap_or_default().to_string(),
                    line: i[1].as_u64().unwrap_or_default(),
                    code: code(&i[2]),
                    message: i[3].as_str().unwrap_or_default().to_string(),
                })
                .collect(),
        );
    }
    ImportRefused::Storage(e)
}

fn row_error(file: &str, line: u64, code: &'static str, message: String) -> ImportError {
    ImportError {
        file: file.to_string(),
        line,
        code,
        message,
    }
}

/// Where an imported file came from, for the chain.
#[derive(Debug, Clone)]
pub struct ImportedFile {
    /// Its name as given.
    pub name: String,
    /// SHA-256 hex of its bytes.
    pub sha256: String,
}

/// `import people`: units and people (name, unit, offices, supervisor, TPP), upserted.
pub fn import_people(
    s: &SqliteStorage,
    actor: &str,
    file: ImportedFile,
    rows: Vec<PersonRow>,
) -> Result<ImportSummary, ImportRefused> {
    let n = rows.len() as u64;
    let spec = CorrectionSpec {
        kind: "import_people",
        reason: format!("impor pegawai {}", file.name),
        person_key: None,
        months: vec![],
        body: json!({"file": file.name, "sha256": file.sha256, "rows": n}),
    };
    let name = file.name.clone();
    let now = crate::storage::Storage::clock(s).now_ms();
    correct(s, actor, spec, move |c, _| {
        write_people(c, &name, &rows, now)
    })
    .map(|(seq, ())| ImportSummary {
        seq,
        written: n,
        already_stored: 0,
    })
    .map_err(unwrap_rows)
}

fn write_people(
    c: &Connection,
    file: &str,
    rows: &[PersonRow],
    now: i64,
) -> Result<(), StorageError> {
    let offices: HashSet<String> = c
        .prepare("SELECT id FROM offices")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    // The supervision graph after the import: the database's, overwritten by the file.
    let mut supervisor_of: HashMap<String, Option<String>> = c
        .prepare("SELECT person_key, supervisor_key FROM people")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let by_value: HashMap<String, String> = c
        .prepare("SELECT value, person_key FROM people")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let file_by_value: HashMap<&str, String> = rows
        .iter()
        .map(|r| (r.id.value(), person_key(&r.id)))
        .collect();
    let file_keys: HashSet<&str> = file_by_value.values().map(String::as_str).collect();
    let mut errors = Vec::new();
    let mut resolved: Vec<Option<String>> = Vec::with_capacity(rows.len());
    for r in rows {
        for o in &r.offices {
            if !offices.contains(o) {
                errors.push(row_error(
                    file,
                    r.line,
                    "IMPORT_OFFICE_UNKNOWN",
                    format!("kolom \"kantor\": kantor {o:?} belum terdaftar (impor kantor dulu)"),
                ));
            }
        }
        let sup = match &r.supervisor {
            None => None,
            Some(spec) => {
                let key = if spec.contains(':') {
                    spec.parse::<hadir_core::ids::PersonId>()
                        .ok()
                        .map(|id| person_key(&id))
                } else {
                    file_by_value
                        .get(spec.as_str())
                        .cloned()
                        .or_else(|| by_value.get(spec).cloned())
                };
                let known = key.as_ref().is_some_and(|k| {
                    supervisor_of.contains_key(k) || file_keys.contains(k.as_str())
                });
                if !known {
                    errors.push(row_error(
                        file,
                        r.line,
                        "IMPORT_SUPERVISOR_UNKNOWN",
                        format!(
                            "kolom \"atasan\": {spec:?} tidak ada di berkas ini maupun di data \
                             pegawai"
                        ),
                    ));
                }
                key
            }
        };
        resolved.push(sup);
    }
    for (r, sup) in rows.iter().zip(&resolved) {
        supervisor_of.insert(person_key(&r.id), sup.clone());
    }
    for r in rows {
        // Walk up from each imported person: reaching them again is a circle.
        let me = person_key(&r.id);
        let mut at = supervisor_of.get(&me).cloned().flatten();
        let mut steps = 0;
        while let Some(k) = at {
            if k == me {
                errors.push(row_error(
                    file,
                    r.line,
                    "IMPORT_SUPERVISION_CIRCLE",
                    "kolom \"atasan\": rantai atasan kembali ke pegawai ini sendiri".into(),
                ));
                break;
            }
            steps += 1;
            if steps > 64 {
                break;
            }
            at = supervisor_of.get(&k).cloned().flatten();
        }
    }
    if !errors.is_empty() {
        errors.truncate(200);
        return Err(rows_error(errors));
    }
    let mut unit = c.prepare(
        "INSERT INTO units (id, name, updated_ms) VALUES (?1, ?2, ?3) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, updated_ms = excluded.updated_ms",
    )?;
    let mut person = c.prepare(
        "INSERT INTO people (person_key, kind, value, display_name, updated_ms, supervisor_key, \
         unit_id, tpp_rupiah, counted_from) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
         ON CONFLICT (person_key) DO UPDATE SET display_name = excluded.display_name, \
         updated_ms = excluded.updated_ms, supervisor_key = excluded.supervisor_key, \
         unit_id = excluded.unit_id, tpp_rupiah = excluded.tpp_rupiah, \
         counted_from = COALESCE(excluded.counted_from, people.counted_from)",
    )?;
    let mut clear = c.prepare("DELETE FROM person_offices WHERE person_key = ?1")?;
    let mut office = c.prepare(
        "INSERT OR IGNORE INTO person_offices (person_key, office_id, position) VALUES (?1, ?2, ?3)",
    )?;
    let mut units_done = HashSet::new();
    for (r, sup) in rows.iter().zip(&resolved) {
        if units_done.insert(r.unit_id.as_str()) {
            unit.execute(params![r.unit_id, r.unit_name, now])?;
        }
        let key = person_key(&r.id);
        person.execute(params![
            key,
            r.id.kind().as_str(),
            r.id.value(),
            r.name,
            now,
            sup,
            r.unit_id,
            r.tpp_rupiah,
            r.counted_from.map(|d| d.to_string())
        ])?;
        clear.execute([&key])?;
        for (i, o) in r.offices.iter().enumerate() {
            office.execute(params![key, o, i as i64])?;
        }
    }
    bump_directory(c)
}

/// `import offices`: offices (circles or polygons), upserted, each with its QR secret.
pub fn import_offices(
    s: &SqliteStorage,
    actor: &str,
    file: ImportedFile,
    offices: Vec<hadir_core::geofence::Office>,
) -> Result<ImportSummary, ImportRefused> {
    let n = offices.len() as u64;
    let spec = CorrectionSpec {
        kind: "import_offices",
        reason: format!("impor kantor {}", file.name),
        person_key: None,
        months: vec![],
        body: json!({"file": file.name, "sha256": file.sha256, "rows": n}),
    };
    let now = crate::storage::Storage::clock(s).now_ms();
    correct(s, actor, spec, move |c, _| {
        for o in &offices {
            let json = serde_json::to_string(o).expect("an office serialises");
            c.execute(
                "INSERT INTO offices (id, name, office_json, updated_ms) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
                 office_json = excluded.office_json, updated_ms = excluded.updated_ms",
                params![o.id, o.name, json, now],
            )?;
            let mut fresh = [0u8; crate::storage::qr_tables::QR_SECRET_BYTES];
            ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut fresh)
                .map_err(|_| StorageError::Invalid("no system randomness".into()))?;
            crate::storage::qr_tables::ensure_secret(c, &o.id, &fresh, now)?;
        }
        bump_directory(c)
    })
    .map(|(seq, ())| ImportSummary {
        seq,
        written: n,
        already_stored: 0,
    })
    .map_err(unwrap_rows)
}

/// `import holidays`: the pemda's holidays and cuti bersama (every office keeps them on
/// top of its own schedule). A date in a closed month is refused.
pub fn import_holidays(
    s: &SqliteStorage,
    actor: &str,
    file: ImportedFile,
    rows: Vec<HolidayRow>,
) -> Result<ImportSummary, ImportRefused> {
    let n = rows.len() as u64;
    // A yearly file imported again touches only the months whose holidays it changes: an
    // unchanged line of a closed month is no change to a paid month.
    let stored: HashMap<String, (String, String)> = s.read(|c| {
        Ok(c.prepare("SELECT date, name, kind FROM pemda_holidays")?
            .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?
            .collect::<Result<_, _>>()?)
    })?;
    let mut months: Vec<String> = rows
        .iter()
        .filter(|r| {
            stored.get(&r.date.to_string()) != Some(&(r.name.clone(), r.kind.as_str().to_string()))
        })
        .map(|r| super::corrections::month_key(r.date))
        .collect();
    months.sort();
    months.dedup();
    let spec = CorrectionSpec {
        kind: "import_holidays",
        reason: format!("impor hari libur {}", file.name),
        person_key: None,
        months,
        body: json!({"file": file.name, "sha256": file.sha256, "rows": n}),
    };
    correct(s, actor, spec, move |c, seq| {
        let mut stmt = c.prepare(
            "INSERT INTO pemda_holidays (date, name, kind, correction_seq) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (date) DO UPDATE SET name = excluded.name, kind = excluded.kind, \
             correction_seq = excluded.correction_seq",
        )?;
        for r in &rows {
            stmt.execute(params![r.date.to_string(), r.name, r.kind.as_str(), seq])?;
        }
        bump_directory(c)
    })
    .map(|(seq, ())| ImportSummary {
        seq,
        written: n,
        already_stored: 0,
    })
    .map_err(unwrap_rows)
}

/// A machine as stored.
#[derive(Debug, Clone)]
struct Machine {
    office_offset_minutes: i32,
    clock_offset_s: i64,
}

/// The instant of a machine's local reading: the office's zone, minus how far the
/// machine's clock runs ahead.
pub fn machine_instant(
    local: NaiveDateTime,
    office_offset_minutes: i32,
    clock_offset_s: i64,
) -> i64 {
    local.and_utc().timestamp_millis()
        - i64::from(office_offset_minutes) * 60_000
        - clock_offset_s * 1000
}

/// `import attlog`: a machine's punches, mapped to people by the machine's user map
/// (`user_map`, from the file given with `--users`, merged into the stored one) or, for
/// a user id that is itself an 18-digit NIP / NI PPPK of a registered person, to them.
/// Punches already stored (same machine, user and local time) are skipped, so a
/// cumulative export imports again without double counting.
pub fn import_attlog(
    s: &SqliteStorage,
    actor: &str,
    machine_id: &str,
    file: ImportedFile,
    punches: Vec<MachinePunch>,
    user_map: Vec<UserMapRow>,
    users_file: String,
) -> Result<ImportSummary, ImportRefused> {
    let machine_id = machine_id.to_string();
    let n = punches.len() as u64;
    let spec = CorrectionSpec {
        kind: "import_attlog",
        reason: format!("impor log mesin {machine_id} {}", file.name),
        person_key: None,
        months: vec![],
        body: json!({"machine": machine_id, "file": file.name, "sha256": file.sha256,
                     "rows": n, "users": user_map.len()}),
    };
    let name = file.name.clone();
    correct(s, actor, spec, move |c, seq| {
        write_punches(c, &name, &machine_id, seq, &punches, &user_map, &users_file)
    })
    .map(|(seq, (written, already_stored))| ImportSummary {
        seq,
        written,
        already_stored,
    })
    .map_err(unwrap_rows)
}

fn write_punches(
    c: &Connection,
    file: &str,
    machine_id: &str,
    seq: i64,
    punches: &[MachinePunch],
    user_map: &[UserMapRow],
    users_file: &str,
) -> Result<(u64, u64), StorageError> {
    let machine: Option<Machine> = {
        use rusqlite::OptionalExtension as _;
        c.query_row(
            "SELECT o.office_json, m.clock_offset_s FROM machines m \
             JOIN offices o ON o.id = m.office_id WHERE m.id = ?1",
            [machine_id],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
        )
        .optional()?
        .map(|(json, clock_offset_s)| Machine {
            office_offset_minutes: serde_json::from_str::<hadir_core::geofence::Office>(&json)
                .map_or(420, |o| o.utc_offset_minutes),
            clock_offset_s,
        })
    };
    let Some(machine) = machine else {
        return Err(StorageError::Invalid(format!(
            "MACHINE_UNKNOWN: mesin {machine_id:?} belum terdaftar; daftarkan dengan \
             `machine set --id {machine_id} --office ...`"
        )));
    };
    let mut errors = Vec::new();
    let registered: HashMap<String, String> = c
        .prepare("SELECT value, person_key FROM people")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut mapped: HashMap<String, String> = c
        .prepare("SELECT user_id, person_key FROM machine_users WHERE machine_id = ?1")?
        .query_map([machine_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let known_keys: HashSet<&str> = registered.values().map(String::as_str).collect();
    let mut map_insert = c.prepare(
        "INSERT INTO machine_users (machine_id, user_id, person_key) VALUES (?1, ?2, ?3) \
         ON CONFLICT (machine_id, user_id) DO UPDATE SET person_key = excluded.person_key",
    )?;
    for UserMapRow {
        line,
        user_id: user,
        person,
    } in user_map
    {
        let key = if person.contains(':') {
            person
                .parse::<hadir_core::ids::PersonId>()
                .ok()
                .map(|id| person_key(&id))
        } else {
            registered.get(person.as_str()).cloned()
        };
        match key.filter(|k| known_keys.contains(k.as_str())) {
            Some(k) => {
                map_insert.execute(params![machine_id, user, k])?;
                mapped.insert(user.clone(), k);
            }
            None => errors.push(row_error(
                users_file,
                *line,
                "IMPORT_MACHINE_USER_UNKNOWN",
                format!("kolom \"orang\": {person:?} bukan pegawai terdaftar"),
            )),
        }
    }
    // Punches of a closed month are stored too: `review list` shows them, the paid
    // snapshot never changes.
    let mut insert = c.prepare(
        "INSERT OR IGNORE INTO machine_punches (machine_id, user_id, local_time, person_key, \
         at_ms, verify_mode, import_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let (mut written, mut already) = (0u64, 0u64);
    for p in punches {
        // Unmapped: only an 18-digit NIP / NI PPPK of a registered person maps itself (a
        // short PIN such as 105 must never land on an honorer whose id happens to be 105).
        let person = mapped.get(&p.user_id).or_else(|| {
            let nip_like = p.user_id.len() == 18 && p.user_id.bytes().all(|b| b.is_ascii_digit());
            registered
                .get(&p.user_id)
                .filter(|k| nip_like && (k.starts_with("nip:") || k.starts_with("ni_pppk:")))
        });
        let Some(person) = person else {
            errors.push(row_error(
                file,
                p.line,
                "IMPORT_MACHINE_USER_UNKNOWN",
                format!(
                    "pengguna mesin {:?} tidak dikenal: petakan ke pegawai dengan --users \
                     (kolom user_id,orang)",
                    p.user_id
                ),
            ));
            if errors.len() >= 200 {
                break;
            }
            continue;
        };
        if !errors.is_empty() {
            continue;
        }
        let at_ms = machine_instant(
            p.local,
            machine.office_offset_minutes,
            machine.clock_offset_s,
        );
        let local = p.local.format("%Y-%m-%d %H:%M:%S").to_string();
        if insert.execute(params![
            machine_id,
            p.user_id,
            local,
            person,
            at_ms,
            p.verify_mode,
            seq
        ])? == 1
        {
            written += 1;
        } else {
            already += 1;
        }
    }
    if !errors.is_empty() {
        return Err(rows_error(errors));
    }
    Ok((written, already))
}
