//! Signed time anchors: the server's word on "at this boot-elapsed reading of this
//! device, my clock said T", which a phone can cite but never make up.
//!
//! An enrolled device asks `POST /v1/anchors` with an [`AnchorRequest`] (its boot id and
//! its boot-elapsed clock read just before sending). The server answers a
//! [`SignedAnchor`]: those two values as the phone sent them, the device id of the
//! request's signature, the server's instant when it handled the request, and an
//! HMAC-SHA256 over [`anchor_mac_input`], keyed by a secret only the server holds. A
//! check-in (payload version 2) cites the anchor; the server recomputes the MAC
//! ([`AnchorKey::verify`]) and refuses one it did not issue or issued to another device.
//!
//! What the MAC covers is what the phone *sent*: `boot_elapsed_ms` is the phone's reading
//! before the request left, `server_time_ms` the server's clock when it answered, so the
//! pair places the server's instant at most one round trip after that elapsed reading.
//! Trusted times computed from it are therefore late by at most the request's round
//! trip (which the phone keeps beside the anchor, unsigned, as `round_trip_ms`), never
//! early.
//!
//! The MAC input is DSSE-like, so any language can rebuild it byte for byte:
//!
//! ```text
//! "HadirTimeAnchorV1" SP LEN(device_id) SP device_id SP LEN(boot_id) SP boot_id
//!     SP boot_elapsed_ms SP server_time_ms
//! ```
//!
//! `SP` is one space (0x20), `LEN(s)` the decimal byte length of the UTF-8 string `s`,
//! integers in decimal ASCII with a leading `-` when negative and no leading zeros. The
//! MAC travels as 64 lowercase hex digits.

use ring::hmac;
use serde::{Deserialize, Serialize};

/// The domain string that opens every anchor MAC input.
pub const ANCHOR_MAC_DOMAIN: &str = "HadirTimeAnchorV1";

/// Longest boot id accepted, bytes.
pub const MAX_BOOT_ID_LEN: usize = 64;

/// `POST /v1/anchors`: what the phone reports of its clocks as it sends the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnchorRequest {
    /// The device's current boot id.
    pub boot_id: String,
    /// The device's boot-elapsed milliseconds, read just before sending.
    pub boot_elapsed_ms: i64,
}

impl AnchorRequest {
    /// Checks the shape: a boot id of 1–64 printable ASCII bytes, an elapsed reading in
    /// `0..=`[`crate::clock::MAX_TIME_MS`]. The error names the field.
    pub fn check(&self) -> Result<(), String> {
        check_boot_id(&self.boot_id)?;
        if !(0..=crate::clock::MAX_TIME_MS).contains(&self.boot_elapsed_ms) {
            return Err(format!(
                "boot_elapsed_ms: must be 0..={}",
                crate::clock::MAX_TIME_MS
            ));
        }
        Ok(())
    }
}

/// Checks a boot id: 1–64 bytes of printable ASCII (no spaces).
pub fn check_boot_id(boot_id: &str) -> Result<(), String> {
    if boot_id.is_empty()
        || boot_id.len() > MAX_BOOT_ID_LEN
        || !boot_id.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(format!(
            "boot_id: 1–{MAX_BOOT_ID_LEN} printable ASCII characters without spaces"
        ));
    }
    Ok(())
}

/// The server's answer to `POST /v1/anchors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedAnchor {
    /// The device the anchor was issued to (the request's `Hadir-Device`).
    pub device_id: String,
    /// The boot id the phone sent.
    pub boot_id: String,
    /// The boot-elapsed reading the phone sent, ms.
    pub boot_elapsed_ms: i64,
    /// The server's instant when it handled the request, Unix ms UTC.
    pub server_time_ms: i64,
    /// HMAC-SHA256 over [`anchor_mac_input`], 64 lowercase hex digits.
    pub mac: String,
}

/// The exact bytes the anchor MAC covers (see the module doc).
pub fn anchor_mac_input(
    device_id: &str,
    boot_id: &str,
    boot_elapsed_ms: i64,
    server_time_ms: i64,
) -> Vec<u8> {
    format!(
        "{ANCHOR_MAC_DOMAIN} {} {device_id} {} {boot_id} {boot_elapsed_ms} {server_time_ms}",
        device_id.len(),
        boot_id.len()
    )
    .into_bytes()
}

/// Why a cited anchor is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AnchorError {
    /// The MAC does not match: the anchor was made up or altered.
    #[error("the anchor's MAC does not verify")]
    Forged,
    /// A genuine anchor, issued to another device.
    #[error("the anchor was issued to another device")]
    OtherDevice,
}

impl AnchorError {
    /// Stable machine code.
    pub fn code(self) -> &'static str {
        match self {
            AnchorError::Forged => "TIME_ANCHOR_FORGED",
            AnchorError::OtherDevice => "TIME_ANCHOR_OTHER_DEVICE",
        }
    }

    /// Indonesian text for staff.
    pub fn staff_message(self) -> &'static str {
        match self {
            AnchorError::Forged => {
                "Bukti waktu pada data absensi tidak diterbitkan server; data ditolak."
            }
            AnchorError::OtherDevice => {
                "Bukti waktu pada data absensi milik perangkat lain; data ditolak."
            }
        }
    }
}

/// The server's anchor key (HMAC-SHA256). Only the server holds one.
pub struct AnchorKey {
    key: hmac::Key,
}

impl std::fmt::Debug for AnchorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AnchorKey(..)")
    }
}

impl AnchorKey {
    /// A key over `secret` (the server generates 32 random bytes once).
    pub fn new(secret: &[u8]) -> AnchorKey {
        AnchorKey {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    /// Issues an anchor.
    pub fn sign(
        &self,
        device_id: &str,
        boot_id: &str,
        boot_elapsed_ms: i64,
        server_time_ms: i64,
    ) -> SignedAnchor {
        let input = anchor_mac_input(device_id, boot_id, boot_elapsed_ms, server_time_ms);
        SignedAnchor {
            device_id: device_id.to_string(),
            boot_id: boot_id.to_string(),
            boot_elapsed_ms,
            server_time_ms,
            mac: crate::photo::hex(hmac::sign(&self.key, &input).as_ref()),
        }
    }

    /// Checks a cited anchor: its MAC first (a made-up anchor naming another device is
    /// made up), then that it was issued to `requesting_device`. One HMAC.
    pub fn verify(
        &self,
        anchor: &SignedAnchor,
        requesting_device: &str,
    ) -> Result<(), AnchorError> {
        let mac = decode_hex_32(&anchor.mac).ok_or(AnchorError::Forged)?;
        let input = anchor_mac_input(
            &anchor.device_id,
            &anchor.boot_id,
            anchor.boot_elapsed_ms,
            anchor.server_time_ms,
        );
        hmac::verify(&self.key, &input, &mac).map_err(|_| AnchorError::Forged)?;
        if anchor.device_id != requesting_device {
            return Err(AnchorError::OtherDevice);
        }
        Ok(())
    }
}

fn decode_hex_32(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let nibble = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        out[i] = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mac_input_is_length_prefixed() {
        assert_eq!(
            anchor_mac_input("dev-01", "boot a", 5_000, 1_795_000_000_000),
            b"HadirTimeAnchorV1 6 dev-01 6 boot a 5000 1795000000000".to_vec()
        );
    }

    #[test]
    fn a_genuine_anchor_verifies_and_any_edit_does_not() {
        let key = AnchorKey::new(b"secret secret secret secret 1234");
        let a = key.sign("dev-01", "boot-1", 5_000, 1_795_000_000_000);
        assert_eq!(a.mac.len(), 64);
        assert_eq!(key.verify(&a, "dev-01"), Ok(()));
        assert_eq!(key.verify(&a, "dev-02"), Err(AnchorError::OtherDevice));
        let mut earlier = a.clone();
        earlier.server_time_ms -= 8 * 3_600_000;
        assert_eq!(key.verify(&earlier, "dev-01"), Err(AnchorError::Forged));
        let mut stolen = a.clone();
        stolen.device_id = "dev-02".into();
        assert_eq!(key.verify(&stolen, "dev-02"), Err(AnchorError::Forged));
        let mut garbage = a.clone();
        garbage.mac = "zz".repeat(32);
        assert_eq!(key.verify(&garbage, "dev-01"), Err(AnchorError::Forged));
        let other_key = AnchorKey::new(b"another secret, another server!!");
        assert_eq!(other_key.verify(&a, "dev-01"), Err(AnchorError::Forged));
    }

    #[test]
    fn requests_are_checked() {
        let ok = AnchorRequest {
            boot_id: "0f1e-boot".into(),
            boot_elapsed_ms: 0,
        };
        assert!(ok.check().is_ok());
        for bad in [
            AnchorRequest {
                boot_id: String::new(),
                boot_elapsed_ms: 1,
            },
            AnchorRequest {
                boot_id: "a b".into(),
                boot_elapsed_ms: 1,
            },
            AnchorRequest {
                boot_id: "x".repeat(65),
                boot_elapsed_ms: 1,
            },
            AnchorRequest {
                boot_id: "b".into(),
                boot_elapsed_ms: -1,
            },
            AnchorRequest {
                boot_id: "b".into(),
                boot_elapsed_ms: i64::MAX,
            },
            AnchorRequest {
                boot_id: "b".into(),
                boot_elapsed_ms: i64::MIN,
            },
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
    }
}
