//! The devices' key attestation in SQLite (columns added to `devices` by the "key
//! attestation" migration), the admin's device listing, and Google's revocation status
//! list (the "status list" migration). Plain functions over a [`Connection`], called by
//! [`super::sqlite::SqliteStorage`] inside its write transactions and from its reader
//! pool.

use rusqlite::{Connection, OptionalExtension, params};

use super::{AttestedDevice, DeviceListing, DeviceMember, StorageError};
use crate::attestation::{AttestationLevel, DeviceAttestation, sanitize_reason};
use crate::attestation_status::{StatusEntry, StatusList, StatusListSummary};

/// Records what was concluded from a new device's attestation chain, with the chain; the
/// reason goes through [`sanitize_reason`] whoever built it.
pub fn record_attestation(
    c: &Connection,
    device_id: &str,
    attestation: &DeviceAttestation,
) -> Result<(), StorageError> {
    let chain = (!attestation.chain.is_empty())
        .then(|| serde_json::to_string(&attestation.chain))
        .transpose()
        .map_err(|e| StorageError::Invalid(format!("attestation chain: {e}")))?;
    c.execute(
        "UPDATE devices SET attestation_level = ?2, attestation_reason = ?3, \
         attestation_chain = ?4 WHERE device_id = ?1",
        params![
            device_id,
            attestation.level.as_str(),
            attestation.reason.as_deref().map(sanitize_reason),
            chain
        ],
    )?;
    Ok(())
}

/// Records a stored chain's new judgement (level and reason; the chain is unchanged).
pub fn update_attestation(
    c: &Connection,
    device_id: &str,
    attestation: &DeviceAttestation,
) -> Result<bool, StorageError> {
    let n = c.execute(
        "UPDATE devices SET attestation_level = ?2, attestation_reason = ?3 \
         WHERE device_id = ?1",
        params![
            device_id,
            attestation.level.as_str(),
            attestation.reason.as_deref().map(sanitize_reason),
        ],
    )?;
    Ok(n == 1)
}

/// Every device with a stored chain, oldest first.
pub fn attested_devices(c: &Connection) -> Result<Vec<AttestedDevice>, StorageError> {
    let mut stmt = c.prepare_cached(
        "SELECT device_id, public_key, attestation_level, attestation_reason, \
         attestation_chain FROM devices WHERE attestation_chain IS NOT NULL \
         ORDER BY created_ms, device_id",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(device_id, public_key, level, reason, chain)| {
            let attestation = stored_attestation(&device_id, &level, reason, Some(chain))?;
            Ok(AttestedDevice {
                device_id,
                public_key,
                attestation,
            })
        })
        .collect()
}

/// A device's attestation columns read back.
fn stored_attestation(
    device_id: &str,
    level: &str,
    reason: Option<String>,
    chain: Option<String>,
) -> Result<DeviceAttestation, StorageError> {
    let corrupt = |e: String| StorageError::Corrupt(format!("device {device_id}: {e}"));
    let level: AttestationLevel = level.parse().map_err(corrupt)?;
    let chain: Vec<String> = match chain {
        Some(json) => serde_json::from_str(&json).map_err(|e| corrupt(e.to_string()))?,
        None => Vec::new(),
    };
    Ok(DeviceAttestation {
        level,
        reason,
        chain,
    })
}

/// Replaces the stored status list (entries and summary) with `list`.
pub fn replace_status_list(c: &Connection, list: &StatusList) -> Result<(), StorageError> {
    let loaded_ms = list
        .loaded_ms
        .ok_or_else(|| StorageError::Invalid("a status list without its load time".into()))?;
    c.execute("DELETE FROM attestation_status_entries", [])?;
    let mut insert = c.prepare_cached(
        "INSERT INTO attestation_status_entries (serial, status, reason) VALUES (?1, ?2, ?3)",
    )?;
    for (serial, entry) in list.entries() {
        insert.execute(params![serial, entry.status.as_str(), entry.reason])?;
    }
    c.execute(
        "INSERT INTO attestation_status_list (id, loaded_ms, entry_count) VALUES (1, ?1, ?2) \
         ON CONFLICT (id) DO UPDATE SET loaded_ms = excluded.loaded_ms, \
         entry_count = excluded.entry_count",
        params![loaded_ms, list.len() as i64],
    )?;
    Ok(())
}

/// When the stored status list was loaded, and its entry count.
pub fn status_list_summary(c: &Connection) -> Result<Option<StatusListSummary>, StorageError> {
    Ok(c.query_row(
        "SELECT loaded_ms, entry_count FROM attestation_status_list WHERE id = 1",
        [],
        |r| {
            Ok(StatusListSummary {
                loaded_ms: r.get(0)?,
                entry_count: r.get::<_, i64>(1)? as u64,
            })
        },
    )
    .optional()?)
}

/// The stored status list, whole or only the entries for `only_serials`.
pub fn status_list(
    c: &Connection,
    only_serials: Option<&[String]>,
) -> Result<StatusList, StorageError> {
    let Some(summary) = status_list_summary(c)? else {
        return Ok(StatusList::none());
    };
    let row = |r: &rusqlite::Row<'_>| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
        ))
    };
    let rows = match only_serials {
        None => c
            .prepare_cached("SELECT serial, status, reason FROM attestation_status_entries")?
            .query_map([], row)?
            .collect::<Result<Vec<_>, _>>()?,
        // A chain holds at most `MAX_CHAIN_CERTS` serials: one indexed read each.
        Some(serials) => {
            let mut stmt = c.prepare_cached(
                "SELECT serial, status, reason FROM attestation_status_entries \
                 WHERE serial = ?1",
            )?;
            let mut rows = Vec::new();
            for serial in serials {
                rows.extend(stmt.query_row([serial], row).optional()?);
            }
            rows
        }
    };
    let mut entries = Vec::with_capacity(rows.len());
    for (serial, status, reason) in rows {
        let status = status
            .parse()
            .map_err(|e| StorageError::Corrupt(format!("status list entry {serial}: {e}")))?;
        entries.push((serial, StatusEntry { status, reason }));
    }
    Ok(StatusList::new(summary.loaded_ms, entries))
}

/// Every device, oldest first, or only those `person_key` is enrolled on.
pub fn devices(
    c: &Connection,
    person_key: Option<&str>,
) -> Result<Vec<DeviceListing>, StorageError> {
    let mut stmt = c.prepare_cached(
        "SELECT device_id, platform, created_ms, revoked_ms, attestation_level, \
         attestation_reason, attestation_chain FROM devices \
         WHERE ?1 IS NULL OR device_id IN \
           (SELECT device_id FROM device_people WHERE person_key = ?1) \
         ORDER BY created_ms, device_id",
    )?;
    let rows = stmt
        .query_map([person_key], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut members = c.prepare_cached(
        "SELECT person_key, is_owner FROM device_people WHERE device_id = ?1 \
         ORDER BY is_owner DESC, enrolled_ms, person_key",
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for (device_id, platform, created_ms, revoked_ms, level, reason, chain) in rows {
        let attestation = stored_attestation(&device_id, &level, reason, chain)?;
        let people = members
            .query_map([&device_id], |r| {
                Ok(DeviceMember {
                    person_key: r.get(0)?,
                    is_owner: r.get(1)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        out.push(DeviceListing {
            device_id,
            platform,
            created_ms,
            revoked_ms,
            people,
            attestation,
        });
    }
    Ok(out)
}
