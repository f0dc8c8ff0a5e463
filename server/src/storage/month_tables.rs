//! Month's end in SQLite (migration 8): units, admins, the append-only corrections with
//! their hash chain, the projections the recap reads (reviews of check-ins, manual
//! attendance, manipulation, month locks, freezes, pemda holidays), machine logs, and
//! the snapshot of a closed month. Plain functions over a [`Connection`]; the
//! [`super::sqlite::SqliteStorage`] methods in `crate::month::store` call them from its
//! reader pool or inside one writer job (so an import or a correction is all-or-nothing).
//!
//! **The chain.** Every correction row carries `hash = SHA-256(prev_hash ‖ the row's
//! fields)` and the previous row's hash; the first row's `prev_hash` is 64 zeros. The
//! table refuses UPDATE and DELETE by trigger, so the tool itself can only append;
//! [`verify_chain`] finds a row changed or removed behind its back (anyone with the file
//! can drop the trigger, but not recompute the chain to a head an auditor wrote down).

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::StorageError;

/// Migration 8: month's end (issue #15). Appended to the schema in `sqlite.rs`.
pub const MIGRATION: &str = r#"
    CREATE TABLE units (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        updated_ms INTEGER NOT NULL
    ) STRICT;
    ALTER TABLE people ADD COLUMN unit_id TEXT REFERENCES units(id);
    ALTER TABLE people ADD COLUMN tpp_rupiah INTEGER;
    ALTER TABLE people ADD COLUMN counted_from TEXT;
    CREATE INDEX people_unit ON people (unit_id);
    CREATE TABLE admins (
        person_key TEXT PRIMARY KEY REFERENCES people(person_key),
        added_seq INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE pemda_settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) STRICT;
    CREATE TABLE pemda_holidays (
        date TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        correction_seq INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE corrections (
        seq INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        admin_key TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        reason TEXT NOT NULL,
        person_key TEXT,
        month TEXT,
        body TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    ) STRICT;
    CREATE INDEX corrections_person ON corrections (person_key, month);
    CREATE TRIGGER corrections_append_only_update BEFORE UPDATE ON corrections
        BEGIN SELECT RAISE(ABORT, 'corrections are append-only'); END;
    CREATE TRIGGER corrections_append_only_delete BEFORE DELETE ON corrections
        BEGIN SELECT RAISE(ABORT, 'corrections are append-only'); END;
    ALTER TABLE leaves ADD COLUMN correction_seq INTEGER;
    ALTER TABLE leaves ADD COLUMN removed_seq INTEGER;
    ALTER TABLE qr_waivers ADD COLUMN correction_seq INTEGER;
    CREATE TABLE checkin_reviews (
        checkin_id TEXT PRIMARY KEY,
        verdict TEXT NOT NULL,
        correction_seq INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE manual_attendance (
        correction_seq INTEGER PRIMARY KEY,
        person_key TEXT NOT NULL,
        date TEXT NOT NULL,
        kind TEXT
    ) STRICT;
    CREATE INDEX manual_attendance_date ON manual_attendance (date);
    CREATE TABLE manipulations (
        person_key TEXT NOT NULL,
        month TEXT NOT NULL,
        correction_seq INTEGER NOT NULL,
        PRIMARY KEY (person_key, month)
    ) STRICT;
    CREATE TABLE month_locks (
        month TEXT PRIMARY KEY,
        closed_ms INTEGER NOT NULL,
        correction_seq INTEGER NOT NULL,
        snapshot BLOB NOT NULL
    ) STRICT;
    CREATE TABLE freezes (
        correction_seq INTEGER PRIMARY KEY,
        scope TEXT NOT NULL,
        since_ms INTEGER NOT NULL,
        until_ms INTEGER,
        reason TEXT NOT NULL
    ) STRICT;
    CREATE UNIQUE INDEX freezes_in_force ON freezes (scope) WHERE until_ms IS NULL;
    CREATE TABLE machines (
        id TEXT PRIMARY KEY,
        office_id TEXT NOT NULL REFERENCES offices(id),
        clock_offset_s INTEGER NOT NULL,
        label TEXT NOT NULL
    ) STRICT;
    CREATE TABLE machine_users (
        machine_id TEXT NOT NULL REFERENCES machines(id),
        user_id TEXT NOT NULL,
        person_key TEXT NOT NULL REFERENCES people(person_key),
        PRIMARY KEY (machine_id, user_id)
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE machine_punches (
        machine_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        local_time TEXT NOT NULL,
        person_key TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        verify_mode INTEGER NOT NULL,
        import_seq INTEGER NOT NULL,
        PRIMARY KEY (machine_id, user_id, local_time)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX machine_punches_time ON machine_punches (at_ms, person_key);
    CREATE INDEX checkins_recap ON checkins (trusted_ms, person_key, kind, status);
    CREATE INDEX checkins_received ON checkins (received_ms);
"#;

/// The `prev_hash` of the first correction.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A correction to append: who, why, about whom and which month, and what (JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCorrection {
    /// Its kind, e.g. `leave_add` (see `docs/RECAP.md`).
    pub kind: &'static str,
    /// The admin's person key.
    pub admin_key: String,
    /// When, Unix ms.
    pub created_ms: i64,
    /// Why, in the admin's words.
    pub reason: String,
    /// The person it concerns, if one.
    pub person_key: Option<String>,
    /// The month it concerns (`YYYY-MM`), if one.
    pub month: Option<String>,
    /// The details, as JSON.
    pub body: serde_json::Value,
}

/// A stored correction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    /// Its position in the chain, from 1.
    pub seq: i64,
    /// Its kind.
    pub kind: String,
    /// The admin's person key.
    pub admin_key: String,
    /// When, Unix ms.
    pub created_ms: i64,
    /// Why.
    pub reason: String,
    /// The person it concerns.
    pub person_key: Option<String>,
    /// The month it concerns.
    pub month: Option<String>,
    /// The details (JSON text as stored).
    pub body: String,
    /// The previous row's hash.
    pub prev_hash: String,
    /// This row's hash.
    pub hash: String,
}

/// The hash of a row: SHA-256 over the previous hash and every field, each
/// length-prefixed so no two different rows hash the same text.
pub fn row_hash(prev_hash: &str, c: &Correction) -> String {
    let mut text = String::with_capacity(256 + c.body.len());
    let fields: [&str; 8] = [
        prev_hash,
        &c.seq.to_string(),
        &c.kind,
        &c.admin_key,
        &c.created_ms.to_string(),
        &c.reason,
        c.person_key.as_deref().unwrap_or("\u{0}"),
        c.month.as_deref().unwrap_or("\u{0}"),
    ];
    for f in fields.iter().chain(std::iter::once(&c.body.as_str())) {
        text.push_str(&f.len().to_string());
        text.push(':');
        text.push_str(f);
        text.push('\n');
    }
    hadir_core::photo::sha256_hex(format!("hadir-correction-v1\n{text}").as_bytes())
}

/// Appends a correction after the current head; returns its sequence number.
pub fn append_correction(c: &Connection, new: NewCorrection) -> Result<i64, StorageError> {
    let head: Option<(i64, String)> = c
        .query_row(
            "SELECT seq, hash FROM corrections ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (seq, prev_hash) = match head {
        Some((s, h)) => (s + 1, h),
        None => (1, GENESIS_HASH.to_string()),
    };
    let mut row = Correction {
        seq,
        kind: new.kind.to_string(),
        admin_key: new.admin_key,
        created_ms: new.created_ms,
        reason: new.reason,
        person_key: new.person_key,
        month: new.month,
        body: new.body.to_string(),
        prev_hash: prev_hash.clone(),
        hash: String::new(),
    };
    row.hash = row_hash(&prev_hash, &row);
    c.execute(
        "INSERT INTO corrections (seq, kind, admin_key, created_ms, reason, person_key, month, \
         body, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            row.seq,
            row.kind,
            row.admin_key,
            row.created_ms,
            row.reason,
            row.person_key,
            row.month,
            row.body,
            row.prev_hash,
            row.hash
        ],
    )?;
    Ok(seq)
}

fn correction_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Correction> {
    Ok(Correction {
        seq: r.get(0)?,
        kind: r.get(1)?,
        admin_key: r.get(2)?,
        created_ms: r.get(3)?,
        reason: r.get(4)?,
        person_key: r.get(5)?,
        month: r.get(6)?,
        body: r.get(7)?,
        prev_hash: r.get(8)?,
        hash: r.get(9)?,
    })
}

const CORRECTION_COLUMNS: &str =
    "seq, kind, admin_key, created_ms, reason, person_key, month, body, prev_hash, hash";

/// Corrections, oldest first: all of them, or those about one person and/or month.
pub fn corrections(
    c: &Connection,
    person_key: Option<&str>,
    month: Option<&str>,
) -> Result<Vec<Correction>, StorageError> {
    let mut stmt = c.prepare(&format!(
        "SELECT {CORRECTION_COLUMNS} FROM corrections \
         WHERE (?1 IS NULL OR person_key = ?1) AND (?2 IS NULL OR month = ?2) ORDER BY seq"
    ))?;
    let rows = stmt
        .query_map(params![person_key, month], correction_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// What `audit verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Rows read.
    pub rows: u64,
    /// The last row's sequence number and hash (write it down: a truncated tail is only
    /// visible against a head recorded elsewhere).
    pub head: Option<(i64, String)>,
    /// Every break found, in order, one sentence each.
    pub breaks: Vec<String>,
}

/// Walks the chain from the first row: each row's sequence must follow the previous one,
/// its `prev_hash` must be the previous row's hash and its `hash` must be what its fields
/// hash to, and its admin must have been one then. Then the admins and the locked months
/// (each closed month's paid snapshot against the SHA-256 its close recorded) are
/// compared with what the chain says.
pub fn verify_chain(c: &Connection) -> Result<ChainReport, StorageError> {
    let mut stmt = c.prepare(&format!(
        "SELECT {CORRECTION_COLUMNS} FROM corrections ORDER BY seq"
    ))?;
    let mut rows = stmt.query([])?;
    let mut report = ChainReport {
        rows: 0,
        head: None,
        breaks: Vec::new(),
    };
    let mut expected_prev = GENESIS_HASH.to_string();
    let mut expected_seq = 1i64;
    let mut replay = Replay::default();
    while let Some(r) = rows.next()? {
        let row = correction_row(r)?;
        report.rows += 1;
        if row.seq != expected_seq {
            report.breaks.push(format!(
                "rows {expected_seq}..{} are missing (removed?)",
                row.seq - 1
            ));
        }
        if row.prev_hash != expected_prev {
            report.breaks.push(format!(
                "row {} does not follow the row before it (prev_hash differs): a row before it \
                 was changed or removed",
                row.seq
            ));
        }
        let computed = row_hash(&row.prev_hash, &row);
        if computed != row.hash {
            report.breaks.push(format!(
                "row {} ({}) was changed: its content no longer hashes to its stored hash",
                row.seq, row.kind
            ));
        }
        replay.step(&row, &mut report.breaks);
        expected_prev = row.hash.clone();
        expected_seq = row.seq + 1;
        report.head = Some((row.seq, row.hash));
    }
    drop(rows);
    drop(stmt);
    replay.compare(c, &mut report.breaks)?;
    Ok(report)
}

/// What the chain says the admins and the locked months are, replayed row by row, to
/// compare with the tables the tool reads (which a hand edit could change without
/// touching the chain).
#[derive(Default)]
struct Replay {
    admins: std::collections::BTreeSet<String>,
    /// Locked month → (close row, snapshot SHA-256 it recorded).
    locks: std::collections::BTreeMap<String, (i64, String)>,
}

impl Replay {
    fn step(&mut self, row: &Correction, breaks: &mut Vec<String>) {
        let body: serde_json::Value = serde_json::from_str(&row.body).unwrap_or_default();
        if row.kind != "admin_init" && !self.admins.contains(&row.admin_key) {
            breaks.push(format!(
                "row {} ({}) was made by {}, who was not an admin then",
                row.seq, row.kind, row.admin_key
            ));
        }
        match row.kind.as_str() {
            "admin_init" | "admin_add" => {
                if let Some(p) = &row.person_key {
                    self.admins.insert(p.clone());
                }
            }
            "month_close" => {
                if let Some(m) = &row.month {
                    let sha = body["snapshot_sha256"].as_str().unwrap_or_default();
                    self.locks.insert(m.clone(), (row.seq, sha.to_string()));
                }
            }
            "month_reopen" => {
                if let Some(m) = &row.month {
                    self.locks.remove(m);
                }
            }
            _ => {}
        }
    }

    fn compare(&self, c: &Connection, breaks: &mut Vec<String>) -> Result<(), StorageError> {
        let stored: std::collections::BTreeSet<String> = c
            .prepare("SELECT person_key FROM admins")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for extra in stored.difference(&self.admins) {
            breaks.push(format!(
                "admin {extra} is in the admins table but no row made them one"
            ));
        }
        for missing in self.admins.difference(&stored) {
            breaks.push(format!(
                "admin {missing} was made by the chain but is missing from the admins table"
            ));
        }
        let mut stmt = c.prepare("SELECT month, correction_seq, snapshot FROM month_locks")?;
        let mut rows = stmt.query([])?;
        let mut seen = std::collections::BTreeSet::new();
        while let Some(r) = rows.next()? {
            let (month, seq, snapshot): (String, i64, Vec<u8>) = (r.get(0)?, r.get(1)?, r.get(2)?);
            match self.locks.get(&month) {
                None => breaks.push(format!("month {month} is locked but the chain has it open")),
                Some((close_seq, sha)) => {
                    if *close_seq != seq || *sha != hadir_core::photo::sha256_hex(&snapshot) {
                        breaks.push(format!(
                            "the paid snapshot of {month} is not the one row {close_seq} closed it with"
                        ));
                    }
                }
            }
            seen.insert(month);
        }
        for (month, (seq, _)) in &self.locks {
            if !seen.contains(month) {
                breaks.push(format!(
                    "month {month} was closed by row {seq} but is no longer locked"
                ));
            }
        }
        Ok(())
    }
}

/// Whether a person is a registered admin.
pub fn is_admin(c: &Connection, person_key: &str) -> Result<bool, StorageError> {
    Ok(
        c.prepare_cached("SELECT EXISTS (SELECT 1 FROM admins WHERE person_key = ?1)")?
            .query_row([person_key], |r| r.get(0))?,
    )
}

/// Number of registered admins.
pub fn admin_count(c: &Connection) -> Result<i64, StorageError> {
    Ok(c.query_row("SELECT COUNT(*) FROM admins", [], |r| r.get(0))?)
}

/// A pemda setting (`name`, `deduction_table`), if set.
pub fn setting(c: &Connection, key: &str) -> Result<Option<String>, StorageError> {
    Ok(c.query_row(
        "SELECT value FROM pemda_settings WHERE key = ?1",
        [key],
        |r| r.get(0),
    )
    .optional()?)
}

/// Sets a pemda setting.
pub fn set_setting(c: &Connection, key: &str, value: &str) -> Result<(), StorageError> {
    c.execute(
        "INSERT INTO pemda_settings (key, value) VALUES (?1, ?2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// A window during which attendance by phone was (or is) suspended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Freeze {
    /// `pemda`, or `unit:<id>`.
    pub scope: String,
    /// Check-ins made at or after this instant (Unix ms) are refused.
    pub since_ms: i64,
    /// When the switch was lifted; `None` while it is in force. Check-ins made inside
    /// the window stay refused after it is lifted.
    pub until_ms: Option<i64>,
    /// Why, shown to staff.
    pub reason: String,
}

impl Freeze {
    /// Whether a check-in made at `instant_ms` falls inside the window.
    pub fn covers(&self, instant_ms: i64) -> bool {
        instant_ms >= self.since_ms && self.until_ms.is_none_or(|u| instant_ms < u)
    }

    /// Whether it applies to people of this unit (the pemda's applies to everyone).
    pub fn applies_to(&self, unit_id: &str) -> bool {
        self.scope == "pemda" || self.scope.strip_prefix("unit:") == Some(unit_id)
    }
}

/// Every suspension window, in force or lifted, oldest first.
pub fn freezes(c: &Connection) -> Result<Vec<Freeze>, StorageError> {
    let mut stmt = c.prepare(
        "SELECT scope, since_ms, until_ms, reason FROM freezes ORDER BY since_ms, scope",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Freeze {
                scope: r.get(0)?,
                since_ms: r.get(1)?,
                until_ms: r.get(2)?,
                reason: r.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The unit of every person that has one: (person key, unit id).
pub fn person_units(c: &Connection) -> Result<Vec<(String, String)>, StorageError> {
    let mut stmt = c.prepare("SELECT person_key, unit_id FROM people WHERE unit_id IS NOT NULL")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The pemda's holidays as (date `YYYY-MM-DD`, name).
pub fn pemda_holidays(c: &Connection) -> Result<Vec<(String, String)>, StorageError> {
    let mut stmt = c.prepare("SELECT date, name FROM pemda_holidays ORDER BY date")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The month (`YYYY-MM`) locked, with when it was closed, if it is.
pub fn month_closed_ms(c: &Connection, month: &str) -> Result<Option<i64>, StorageError> {
    Ok(
        c.prepare_cached("SELECT closed_ms FROM month_locks WHERE month = ?1")?
            .query_row([month], |r| r.get(0))
            .optional()?,
    )
}
