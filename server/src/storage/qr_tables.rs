//! The office QR's tables in SQLite (created by the "office QR and kiosk" migration):
//! each office's QR secret, the enrolled kiosks (credential stored only as a hash) and
//! the recorded waivers. Plain functions over a [`Connection`], called by
//! [`super::sqlite::SqliteStorage`] from its reader pool or writer thread and by its
//! [`crate::ledger::Ledger`] inside the check-in transaction.

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, params};

use super::StorageError;

/// Bytes of an office's QR secret (the HMAC-SHA256 key).
pub const QR_SECRET_BYTES: usize = 32;

/// An enrolled kiosk: a screen in an office that may show its QR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskRecord {
    /// `kiosk-` and 10 random hex digits.
    pub kiosk_id: String,
    /// The office whose QR it shows.
    pub office_id: String,
    /// Where it hangs, for the admin ("lobi lantai 1").
    pub label: String,
    /// SHA-256 hex of its credential (the credential itself is never stored).
    pub credential_sha256: String,
    /// When it was enrolled, Unix ms.
    pub created_ms: i64,
    /// When it was revoked, Unix ms.
    pub revoked_ms: Option<i64>,
    /// When it last fetched its QR, Unix ms (kept to the minute: see
    /// [`KIOSK_SEEN_RESOLUTION_MS`]); `None` before its first fetch.
    pub last_seen_ms: Option<i64>,
}

/// How stale a kiosk's `last_seen_ms` may grow before a fetch records it again: one
/// write a minute per kiosk, not one per poll.
pub const KIOSK_SEEN_RESOLUTION_MS: i64 = 60_000;

/// A recorded waiver: on `local_date` at `office_id`, check-ins need no QR token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrWaiver {
    /// The office.
    pub office_id: String,
    /// The office-local day waived.
    pub local_date: NaiveDate,
    /// Why (e.g. "monitor rusak").
    pub reason: String,
    /// Who waived it.
    pub waived_by: String,
    /// When it was recorded, Unix ms.
    pub created_ms: i64,
}

fn no_office(office_id: &str) -> StorageError {
    StorageError::Invalid(format!("no office with id {office_id:?}"))
}

fn office_exists(c: &Connection, office_id: &str) -> Result<bool, StorageError> {
    Ok(
        c.prepare_cached("SELECT EXISTS (SELECT 1 FROM offices WHERE id = ?1)")?
            .query_row([office_id], |r| r.get(0))?,
    )
}

/// Stores `fresh` as the office's secret unless it has one already (a secret, once
/// made, never changes: changing it would void every token on screen).
pub fn ensure_secret(
    c: &Connection,
    office_id: &str,
    fresh: &[u8; QR_SECRET_BYTES],
    now_ms: i64,
) -> Result<(), StorageError> {
    if !office_exists(c, office_id)? {
        return Err(no_office(office_id));
    }
    c.execute(
        "INSERT OR IGNORE INTO office_qr_secrets (office_id, secret, created_ms) \
         VALUES (?1, ?2, ?3)",
        params![office_id, fresh.as_slice(), now_ms],
    )?;
    Ok(())
}

/// The office's secret, if it has one.
pub fn secret(c: &Connection, office_id: &str) -> Result<Option<Vec<u8>>, StorageError> {
    Ok(
        c.prepare_cached("SELECT secret FROM office_qr_secrets WHERE office_id = ?1")?
            .query_row([office_id], |r| r.get(0))
            .optional()?,
    )
}

/// Stores a new kiosk (its office must exist).
pub fn insert_kiosk(c: &Connection, kiosk: &KioskRecord) -> Result<(), StorageError> {
    if !office_exists(c, &kiosk.office_id)? {
        return Err(no_office(&kiosk.office_id));
    }
    c.execute(
        "INSERT INTO kiosks (kiosk_id, office_id, label, credential_sha256, created_ms, \
         revoked_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            kiosk.kiosk_id,
            kiosk.office_id,
            kiosk.label,
            kiosk.credential_sha256,
            kiosk.created_ms,
            kiosk.revoked_ms
        ],
    )?;
    Ok(())
}

fn kiosk_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<KioskRecord> {
    Ok(KioskRecord {
        kiosk_id: r.get(0)?,
        office_id: r.get(1)?,
        label: r.get(2)?,
        credential_sha256: r.get(3)?,
        created_ms: r.get(4)?,
        revoked_ms: r.get(5)?,
        last_seen_ms: r.get(6)?,
    })
}

const KIOSK_COLUMNS: &str =
    "kiosk_id, office_id, label, credential_sha256, created_ms, revoked_ms, last_seen_ms";

/// Every kiosk, revoked ones too, by office then id.
pub fn kiosks(c: &Connection) -> Result<Vec<KioskRecord>, StorageError> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {KIOSK_COLUMNS} FROM kiosks ORDER BY office_id, kiosk_id"
    ))?;
    let rows = stmt.query_map([], kiosk_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The kiosk holding the credential with this hash (one indexed read).
pub fn kiosk_by_credential(
    c: &Connection,
    credential_sha256: &str,
) -> Result<Option<KioskRecord>, StorageError> {
    Ok(c.prepare_cached(&format!(
        "SELECT {KIOSK_COLUMNS} FROM kiosks WHERE credential_sha256 = ?1"
    ))?
    .query_row([credential_sha256], kiosk_row)
    .optional()?)
}

/// Marks a kiosk revoked; false if there is no such kiosk. Revoking twice keeps the
/// first time.
pub fn revoke_kiosk(c: &Connection, kiosk_id: &str, now_ms: i64) -> Result<bool, StorageError> {
    c.execute(
        "UPDATE kiosks SET revoked_ms = ?2 WHERE kiosk_id = ?1 AND revoked_ms IS NULL",
        params![kiosk_id, now_ms],
    )?;
    Ok(c.query_row(
        "SELECT EXISTS (SELECT 1 FROM kiosks WHERE kiosk_id = ?1)",
        [kiosk_id],
        |r| r.get(0),
    )?)
}

/// Records that a kiosk fetched its QR at `now_ms`, unless it was recorded less than
/// [`KIOSK_SEEN_RESOLUTION_MS`] before (never moving it backwards).
pub fn touch_kiosk(c: &Connection, kiosk_id: &str, now_ms: i64) -> Result<(), StorageError> {
    c.execute(
        "UPDATE kiosks SET last_seen_ms = ?2 WHERE kiosk_id = ?1 \
         AND (last_seen_ms IS NULL OR last_seen_ms <= ?2 - ?3)",
        params![kiosk_id, now_ms, KIOSK_SEEN_RESOLUTION_MS],
    )?;
    Ok(())
}

/// Records a waiver (its office must exist).
pub fn insert_waiver(c: &Connection, waiver: &QrWaiver) -> Result<(), StorageError> {
    if !office_exists(c, &waiver.office_id)? {
        return Err(no_office(&waiver.office_id));
    }
    c.execute(
        "INSERT INTO qr_waivers (office_id, local_date, reason, waived_by, created_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            waiver.office_id,
            waiver.local_date.to_string(),
            waiver.reason,
            waiver.waived_by,
            waiver.created_ms
        ],
    )?;
    Ok(())
}

/// Whether the office's QR is waived on that office-local day.
pub fn waived(
    c: &Connection,
    office_id: &str,
    local_date: NaiveDate,
) -> Result<bool, StorageError> {
    Ok(c.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM qr_waivers WHERE office_id = ?1 AND local_date = ?2)",
    )?
    .query_row(params![office_id, local_date.to_string()], |r| r.get(0))?)
}

/// Every waiver recorded, oldest first.
pub fn waivers(c: &Connection) -> Result<Vec<QrWaiver>, StorageError> {
    let mut stmt = c.prepare_cached(
        "SELECT office_id, local_date, reason, waived_by, created_ms FROM qr_waivers \
         ORDER BY created_ms, id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    rows.map(|row| {
        let (office_id, date, reason, waived_by, created_ms) = row?;
        let local_date = hadir_core::schedule::iso_date::parse(&date)
            .ok_or_else(|| StorageError::Corrupt(format!("waiver date {date:?}")))?;
        Ok(QrWaiver {
            office_id,
            local_date,
            reason,
            waived_by,
            created_ms,
        })
    })
    .collect()
}
