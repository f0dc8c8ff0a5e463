//! The devices' key attestation in SQLite (columns added to `devices` by the "key
//! attestation" migration) and the admin's device listing. Plain functions over a
//! [`Connection`], called by [`super::sqlite::SqliteStorage`] inside its enrollment
//! transaction and from its reader pool.

use rusqlite::{Connection, params};

use super::{DeviceListing, DeviceMember, StorageError};
use crate::attestation::{AttestationLevel, DeviceAttestation};

/// Records what was concluded from a new device's attestation chain, with the chain.
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
            attestation.reason,
            chain
        ],
    )?;
    Ok(())
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
        let corrupt = |e: String| StorageError::Corrupt(format!("device {device_id}: {e}"));
        let level: AttestationLevel = level.parse().map_err(corrupt)?;
        let chain: Vec<String> = match chain {
            Some(json) => serde_json::from_str(&json).map_err(|e| corrupt(e.to_string()))?,
            None => Vec::new(),
        };
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
            attestation: DeviceAttestation {
                level,
                reason,
                chain,
            },
        });
    }
    Ok(out)
}
