//! Month's end writes, each one writer job (all-or-nothing): the admin is checked, the
//! months it touches must be open, the correction is appended to the chain and its
//! projection applied in the same transaction. Admin-facing messages are Indonesian,
//! each led by a stable code.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;

use crate::storage::month_tables::{self, NewCorrection};
use crate::storage::sqlite::SqliteStorage;
use crate::storage::{Storage, StorageError};

/// A refusal with its stable code and an Indonesian sentence.
fn refuse(code: &str, message: impl std::fmt::Display) -> StorageError {
    StorageError::Invalid(format!("{code}: {message}"))
}

fn require_admin(c: &Connection, actor: &str) -> Result<(), StorageError> {
    if month_tables::is_admin(c, actor)? {
        Ok(())
    } else if month_tables::admin_count(c)? == 0 {
        Err(refuse(
            "ADMIN_NONE",
            "belum ada admin terdaftar; daftarkan yang pertama dengan `hadir-server admin init`",
        ))
    } else {
        Err(refuse(
            "ADMIN_UNKNOWN",
            format!("{actor} bukan admin terdaftar (--admin nip:...)"),
        ))
    }
}

fn require_open(c: &Connection, months: &[String]) -> Result<(), StorageError> {
    for m in months {
        if month_tables::month_closed_ms(c, m)?.is_some() {
            return Err(refuse(
                "MONTH_CLOSED",
                format!(
                    "bulan {m} sudah dikunci; buka kembali dulu dengan `month reopen --month {m} \
                     --reason ...` bila perubahan ini memang harus masuk"
                ),
            ));
        }
    }
    Ok(())
}

fn require_reason(reason: &str) -> Result<(), StorageError> {
    if reason.trim().is_empty() {
        return Err(refuse(
            "REASON_REQUIRED",
            "setiap koreksi wajib disertai alasan (--reason \"...\")",
        ));
    }
    Ok(())
}

/// What a correction is: everything but who made it and when.
#[derive(Debug, Clone)]
pub struct CorrectionSpec {
    /// Its kind (see `docs/RECAP.md`).
    pub kind: &'static str,
    /// Why.
    pub reason: String,
    /// The person it concerns.
    pub person_key: Option<String>,
    /// The months it touches (`YYYY-MM`); the first is recorded with it. Each must be open
    /// (a closed month refuses), except for `month_reopen`.
    pub months: Vec<String>,
    /// The details.
    pub body: serde_json::Value,
}

/// Appends `spec` as `actor` and runs `apply(connection, seq)` in the same writer job.
pub fn correct<T: Send + 'static>(
    storage: &SqliteStorage,
    actor: &str,
    spec: CorrectionSpec,
    apply: impl FnOnce(&Connection, i64) -> Result<T, StorageError> + Send + 'static,
) -> Result<(i64, T), StorageError> {
    require_reason(&spec.reason)?;
    let actor = actor.to_string();
    let now = storage.clock().now_ms();
    storage.write(move |c, _| {
        require_admin(c, &actor)?;
        if spec.kind != "month_reopen" {
            require_open(c, &spec.months)?;
        }
        let seq = month_tables::append_correction(
            c,
            NewCorrection {
                kind: spec.kind,
                admin_key: actor,
                created_ms: now,
                reason: spec.reason,
                person_key: spec.person_key,
                month: spec.months.first().cloned(),
                body: spec.body,
            },
        )?;
        let out = apply(c, seq)?;
        Ok((seq, out))
    })
}

/// Registers the first admin (only while there is none): the person is added to the
/// roster if new (no office: an admin at BKPSDM need not check in) and the act is the
/// chain's first row.
pub fn init_admin(
    storage: &SqliteStorage,
    person: &hadir_core::ids::PersonId,
    display_name: &str,
) -> Result<i64, StorageError> {
    let key = crate::storage::person_key(person);
    let (kind, value, name) = (
        person.kind().as_str(),
        person.value().to_string(),
        display_name.trim().to_string(),
    );
    if name.is_empty() {
        return Err(refuse("ADMIN_NAME", "nama admin kosong (--name)"));
    }
    let now = storage.clock().now_ms();
    storage.write(move |c, _| {
        if month_tables::admin_count(c)? > 0 {
            return Err(refuse(
                "ADMIN_EXISTS",
                "admin pertama sudah terdaftar; admin berikutnya ditambah oleh admin yang ada \
                 dengan `admin add --admin nip:... --person ...`",
            ));
        }
        c.execute(
            "INSERT INTO people (person_key, kind, value, display_name, updated_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (person_key) DO NOTHING",
            params![key, kind, value, name, now],
        )?;
        let seq = month_tables::append_correction(
            c,
            NewCorrection {
                kind: "admin_init",
                admin_key: key.clone(),
                created_ms: now,
                reason: "admin pertama".into(),
                person_key: Some(key.clone()),
                month: None,
                body: json!({ "name": name }),
            },
        )?;
        c.execute(
            "INSERT INTO admins (person_key, added_seq) VALUES (?1, ?2)",
            params![key, seq],
        )?;
        Ok(seq)
    })
}

/// Registers another admin (a registered person).
pub fn add_admin(
    storage: &SqliteStorage,
    actor: &str,
    person_key: &str,
    reason: &str,
) -> Result<i64, StorageError> {
    let key = person_key.to_string();
    let spec = CorrectionSpec {
        kind: "admin_add",
        reason: reason.into(),
        person_key: Some(key.clone()),
        months: vec![],
        body: json!({}),
    };
    correct(storage, actor, spec, move |c, seq| {
        if !person_registered(c, &key)? {
            return Err(refuse("PERSON_UNKNOWN", format!("{key} belum terdaftar")));
        }
        c.execute(
            "INSERT OR IGNORE INTO admins (person_key, added_seq) VALUES (?1, ?2)",
            params![key, seq],
        )?;
        Ok(())
    })
    .map(|(seq, ())| seq)
}

/// Whether this person key is on the roster.
pub fn person_registered(c: &Connection, key: &str) -> Result<bool, StorageError> {
    Ok(
        c.prepare_cached("SELECT EXISTS (SELECT 1 FROM people WHERE person_key = ?1)")?
            .query_row([key], |r| r.get(0))?,
    )
}

/// Checks (read-only) that `actor` is a registered admin: for exports and listings.
pub fn check_admin(storage: &SqliteStorage, actor: &str) -> Result<(), StorageError> {
    storage.read(|c| require_admin(c, actor))
}

/// Bumps the directory version so running servers reload (people, units, freezes,
/// holidays changed).
pub fn bump_directory(c: &Connection) -> Result<(), StorageError> {
    c.execute(
        "UPDATE meta SET value = value + 1 WHERE key = 'directory_version'",
        [],
    )?;
    Ok(())
}

/// The leave a `leave_add` correction created, still in force: (person key, from, to).
pub fn leave_of_correction(
    c: &Connection,
    leave_seq: i64,
) -> Result<Option<(String, String, String)>, StorageError> {
    Ok(c.query_row(
        "SELECT person_key, from_date, to_date FROM leaves \
             WHERE correction_seq = ?1 AND removed_seq IS NULL",
        [leave_seq],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .optional()?)
}

/// How many admins are registered (0 on a fresh database: setup commands then run
/// unattributed).
pub fn admin_count(storage: &SqliteStorage) -> Result<i64, StorageError> {
    storage.read(month_tables::admin_count)
}
