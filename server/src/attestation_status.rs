//! Google's key attestation revocation status list, as an admin loads it, and the
//! re-judging of stored chains against it (`docs/PROTOCOL.md`, "The revocation status
//! list").
//!
//! Attestation keys leak ("keyboxes"): a chain built on a leaked key verifies to Google's
//! root while the key it attests lives in software. Google publishes the serial numbers
//! it revoked or suspended at [`STATUS_LIST_URL`] as
//! `{"entries": {"<serial, lowercase hex, no leading zeros>": {"status": "REVOKED" |
//! "SUSPENDED", "reason": "KEY_COMPROMISE" | ..., "comment": ..., "expires": ...}}}`.
//! The server cannot reach it, so an admin downloads it at the office and loads it
//! (`hadir-server attestation status-load --file status.json`); [`StatusList::parse_json`]
//! validates it, the storage replaces the previous one with it, and
//! [`crate::attestation::judge`] consults it at each enrollment. [`recheck_devices`]
//! (`hadir-server device recheck`) judges every stored chain again, so a key revoked after
//! its device enrolled is caught.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use crate::attestation::{self, AttestationRoots, DeviceAttestation};
use crate::storage::{Storage, StorageError};

/// Where Google publishes the list (fetched by an admin, never by the server).
pub const STATUS_LIST_URL: &str = "https://android.googleapis.com/attestation/status";

/// A list loaded longer ago than this is stale: enrollment logs it (and still judges
/// against it), `status-show` and `device recheck` say so.
pub const STALE_AFTER_MS: i64 = 30 * 24 * 60 * 60 * 1000;

/// Most bytes of a status list file read (Google's is well under 1 MiB).
pub const MAX_STATUS_LIST_BYTES: usize = 16 * 1024 * 1024;

/// Most hex digits in a serial (RFC 5280 allows 20 octets).
const MAX_SERIAL_HEX: usize = 40;

/// What Google says about a serial number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SerialStatus {
    /// Revoked for good.
    Revoked,
    /// Suspended (may be lifted); treated as revoked while listed.
    Suspended,
}

impl SerialStatus {
    /// The list's spelling (`REVOKED`, `SUSPENDED`), also what is stored.
    pub fn as_str(self) -> &'static str {
        match self {
            SerialStatus::Revoked => "REVOKED",
            SerialStatus::Suspended => "SUSPENDED",
        }
    }
}

impl fmt::Display for SerialStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SerialStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "REVOKED" => Ok(SerialStatus::Revoked),
            "SUSPENDED" => Ok(SerialStatus::Suspended),
            other => Err(format!("unknown status {other:?}")),
        }
    }
}

/// One listed serial's status and Google's reason (e.g. `KEY_COMPROMISE`), if given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEntry {
    /// Revoked or suspended.
    pub status: SerialStatus,
    /// Google's reason code, as listed.
    pub reason: Option<String>,
}

/// Why a status list file was refused (nothing is stored then).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusListError {
    /// Not JSON, or not shaped like Google's list.
    #[error("not a status list: {0}")]
    Shape(String),
    /// An entry whose serial or status cannot be used.
    #[error("entry {serial:?}: {detail}")]
    Entry {
        /// The key as found in the file (truncated).
        serial: String,
        /// What is wrong.
        detail: String,
    },
    /// `entries` is empty: loading it would silently drop every revocation.
    #[error("the list has no entries (Google's never is empty): refusing to replace the list")]
    Empty,
    /// Larger than [`MAX_STATUS_LIST_BYTES`].
    #[error("the file is over {MAX_STATUS_LIST_BYTES} bytes")]
    TooLarge,
}

/// The revocation status list in effect: when it was loaded and its entries by serial
/// (lowercase hex, no leading zeros). The storage may hand out only the entries a chain
/// needs ([`Storage::status_list`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatusList {
    /// When an admin loaded it, Unix ms on the server's clock; `None` when no list was
    /// ever loaded.
    pub loaded_ms: Option<i64>,
    entries: HashMap<String, StatusEntry>,
}

/// When the stored list was loaded and how many entries it holds (`status-show`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusListSummary {
    /// When it was loaded, Unix ms.
    pub loaded_ms: i64,
    /// Entries in it.
    pub entry_count: u64,
}

impl StatusList {
    /// No list loaded: nothing is revoked.
    pub fn none() -> StatusList {
        StatusList::default()
    }

    /// A list loaded at `loaded_ms` with these entries (serials normalised by
    /// [`normalise_serial`] beforehand).
    pub fn new(
        loaded_ms: i64,
        entries: impl IntoIterator<Item = (String, StatusEntry)>,
    ) -> StatusList {
        StatusList {
            loaded_ms: Some(loaded_ms),
            entries: entries.into_iter().collect(),
        }
    }

    /// Validates Google's JSON (see the module docs) and keeps it as loaded at
    /// `loaded_ms`. Every key must be a hex serial and every status `REVOKED` or
    /// `SUSPENDED`; fields beyond `status` and `reason` are ignored.
    pub fn parse_json(text: &str, loaded_ms: i64) -> Result<StatusList, StatusListError> {
        if text.len() > MAX_STATUS_LIST_BYTES {
            return Err(StatusListError::TooLarge);
        }
        let shape = |e: &dyn fmt::Display| StatusListError::Shape(e.to_string());
        let root: serde_json::Value = serde_json::from_str(text).map_err(|e| shape(&e))?;
        let entries = root
            .get("entries")
            .and_then(serde_json::Value::as_object)
            .ok_or_else(|| shape(&"no \"entries\" object"))?;
        if entries.is_empty() {
            return Err(StatusListError::Empty);
        }
        let mut out = HashMap::with_capacity(entries.len());
        for (key, value) in entries {
            let entry_err = |detail: String| StatusListError::Entry {
                serial: key.chars().take(48).collect(),
                detail,
            };
            let serial = normalise_serial(key).map_err(entry_err)?;
            let status = value
                .get("status")
                .and_then(serde_json::Value::as_str)
                .ok_or_else(|| entry_err("no \"status\" text".into()))?
                .parse::<SerialStatus>()
                .map_err(entry_err)?;
            let reason = match value.get("reason") {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(r)) => Some(attestation::sanitize_reason(r)),
                Some(_) => return Err(entry_err("\"reason\" is not text".into())),
            };
            if out
                .insert(serial.clone(), StatusEntry { status, reason })
                .is_some()
            {
                return Err(entry_err(format!("serial {serial} listed twice")));
            }
        }
        Ok(StatusList {
            loaded_ms: Some(loaded_ms),
            entries: out,
        })
    }

    /// The status of a serial (lowercase hex, no leading zeros), if listed.
    pub fn status_of(&self, serial_hex: &str) -> Option<&StatusEntry> {
        self.entries.get(serial_hex)
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = (&String, &StatusEntry)> {
        self.entries.iter()
    }

    /// What an admin should hear about this list at `now_ms`: none loaded, or loaded
    /// more than [`STALE_AFTER_MS`] ago; `None` when it is fresh.
    pub fn staleness(&self, now_ms: i64) -> Option<String> {
        match self.loaded_ms {
            None => Some(format!(
                "no attestation status list loaded: revoked attestation keys are not \
                 caught (download {STATUS_LIST_URL}, then `attestation status-load`)"
            )),
            Some(loaded) if now_ms - loaded > STALE_AFTER_MS => Some(format!(
                "the attestation status list is stale: loaded {} days ago (load a fresh \
                 one at least every 30 days)",
                (now_ms - loaded) / (24 * 60 * 60 * 1000)
            )),
            Some(_) => None,
        }
    }
}

/// A serial as the list keys it: hex digits, lower case, without leading zeros (`0`
/// for zero), as Java's `BigInteger.toString(16)` writes it.
pub fn normalise_serial(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("the serial is not hex".into());
    }
    let digits = text.trim_start_matches('0').to_ascii_lowercase();
    if digits.len() > MAX_SERIAL_HEX {
        return Err(format!("the serial has over {MAX_SERIAL_HEX} hex digits"));
    }
    Ok(if digits.is_empty() {
        "0".into()
    } else {
        digits
    })
}

/// Validates the status list file's text and stores it in place of the previous one,
/// loaded now on the storage's clock; its summary.
pub fn load_status_list(
    storage: &dyn Storage,
    text: &str,
) -> Result<StatusListSummary, crate::admin::AdminError> {
    let now_ms = storage.clock().now_ms();
    let list = StatusList::parse_json(text, now_ms)
        .map_err(|e| crate::admin::AdminError::Invalid(e.to_string()))?;
    let summary = StatusListSummary {
        loaded_ms: now_ms,
        entry_count: list.len() as u64,
    };
    storage.replace_status_list(list)?;
    Ok(summary)
}

/// A device whose recorded attestation [`recheck_devices`] changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rechecked {
    /// The device.
    pub device_id: String,
    /// What was recorded before.
    pub before: DeviceAttestation,
    /// What is recorded now.
    pub after: DeviceAttestation,
}

/// Judges every stored chain again against `roots` and the stored status list
/// ([`attestation::rejudge`]) and records the devices whose level or reason changed;
/// those, oldest first. Devices without a chain keep `none`.
pub fn recheck_devices(
    storage: &dyn Storage,
    roots: &AttestationRoots,
) -> Result<Vec<Rechecked>, StorageError> {
    let statuses = storage.status_list(None)?;
    let mut changed = Vec::new();
    for device in storage.attested_devices()? {
        let after = attestation::rejudge(
            &device.attestation.chain,
            &device.public_key,
            roots,
            &statuses,
        );
        if after.level != device.attestation.level || after.reason != device.attestation.reason {
            storage.update_attestation(&device.device_id, after.clone())?;
            changed.push(Rechecked {
                device_id: device.device_id,
                before: device.attestation,
                after,
            });
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn googles_shape_parses_with_serials_normalised() {
        let text = r#"{"entries": {
            "6681152659205225093": {"status": "REVOKED", "reason": "KEY_COMPROMISE"},
            "00CC66e9a93713b6e643b26c15879786f7": {"status": "SUSPENDED",
                "reason": "KEY_COMPROMISE", "comment": "Entry for testing only"},
            "c35747a084470c3135aeefe2b8d40cd6": {"status": "REVOKED", "expires": "2020-11-13"}
        }}"#;
        let list = StatusList::parse_json(text, 5).unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list.loaded_ms, Some(5));
        assert_eq!(
            list.status_of("cc66e9a93713b6e643b26c15879786f7"),
            Some(&StatusEntry {
                status: SerialStatus::Suspended,
                reason: Some("KEY_COMPROMISE".into())
            })
        );
        assert_eq!(
            list.status_of("c35747a084470c3135aeefe2b8d40cd6")
                .unwrap()
                .reason,
            None
        );
        assert!(list.status_of("6681152659205225093").is_some());
    }

    #[test]
    fn what_is_not_googles_list_is_refused() {
        let refused = |text: &str| StatusList::parse_json(text, 0).unwrap_err();
        assert!(matches!(refused("not json"), StatusListError::Shape(_)));
        assert!(matches!(refused("{}"), StatusListError::Shape(_)));
        assert!(matches!(
            refused(r#"{"entries": []}"#),
            StatusListError::Shape(_)
        ));
        assert_eq!(refused(r#"{"entries": {}}"#), StatusListError::Empty);
        for bad in [
            r#"{"entries": {"xyz": {"status": "REVOKED"}}}"#,
            r#"{"entries": {"ab": {"status": "REVOKED_MAYBE"}}}"#,
            r#"{"entries": {"ab": {}}}"#,
            r#"{"entries": {"ab": {"status": "REVOKED", "reason": 3}}}"#,
            r#"{"entries": {"ab": {"status": "REVOKED"}, "0AB": {"status": "REVOKED"}}}"#,
        ] {
            assert!(
                matches!(refused(bad), StatusListError::Entry { .. }),
                "{bad}"
            );
        }
        let long = format!(
            r#"{{"entries": {{"{}": {{"status": "REVOKED"}}}}}}"#,
            "f".repeat(41)
        );
        assert!(matches!(refused(&long), StatusListError::Entry { .. }));
    }

    #[test]
    fn serials_are_keyed_as_java_writes_them() {
        assert_eq!(normalise_serial("00Ab"), Ok("ab".into()));
        assert_eq!(normalise_serial("000"), Ok("0".into()));
        assert!(normalise_serial("-1").is_err());
        assert!(normalise_serial("").is_err());
    }

    #[test]
    fn a_list_is_stale_after_thirty_days_and_missing_is_said() {
        let day = 24 * 60 * 60 * 1000;
        let list = StatusList::new(0, []);
        assert_eq!(list.staleness(30 * day), None);
        let stale = list.staleness(30 * day + 1).expect("stale");
        assert!(
            stale.contains("stale") && stale.contains("30 days ago"),
            "{stale}"
        );
        let missing = StatusList::none().staleness(0).expect("missing");
        assert!(missing.contains("no attestation status list"), "{missing}");
    }
}
