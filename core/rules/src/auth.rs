//! Request signatures: every request from a device is signed by that device's enrolled
//! key, so no password or bearer secret ever travels.
//!
//! The device sends four headers: `Hadir-Device` (its server-assigned id; `enroll` for
//! an enrollment), `Hadir-Timestamp` (Unix ms on the *server-anchored* timeline, see
//! [`crate::clock::anchored_now_ms`]), `Hadir-Nonce` (16 random bytes, hex) and
//! `Hadir-Signature` (base64 ECDSA P-256 / SHA-256, DER). The signature covers the DSSE
//! pre-authentication encoding of type [`REQUEST_PAYLOAD_TYPE`] and the canonical text
//!
//! ```text
//! METHOD \n PATH_AND_QUERY \n TIMESTAMP \n NONCE \n DEVICE \n hex(SHA-256(body))
//! ```
//!
//! The server refuses timestamps outside its window and nonces it has seen.

use crate::envelope::{self, DeviceKey, EnvelopeError, pre_authentication_encoding};

/// Payload type under which request signatures are made (domain separation from
/// check-in envelopes: a request signature can never pass as a check-in).
pub const REQUEST_PAYLOAD_TYPE: &str = "application/vnd.hadir.request.v1";
/// Header: the device id.
pub const HEADER_DEVICE: &str = "hadir-device";
/// Header: the request time, Unix ms on the server-anchored timeline.
pub const HEADER_TIMESTAMP: &str = "hadir-timestamp";
/// Header: a single-use random value, 32 hex digits.
pub const HEADER_NONCE: &str = "hadir-nonce";
/// Header: base64 signature.
pub const HEADER_SIGNATURE: &str = "hadir-signature";
/// The `Hadir-Device` value of an enrollment request (the device has no id yet).
pub const ENROLL_DEVICE: &str = "enroll";
/// How far a request timestamp may be from the server's clock, either way.
pub const REQUEST_WINDOW_MS: i64 = 5 * 60 * 1000;

/// What a request signature covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestToSign<'a> {
    /// HTTP method, upper case.
    pub method: &'a str,
    /// Path and query exactly as sent, e.g. `/v1/config`.
    pub path_and_query: &'a str,
    /// `Hadir-Timestamp`.
    pub timestamp_ms: i64,
    /// `Hadir-Nonce`.
    pub nonce: &'a str,
    /// `Hadir-Device`.
    pub device: &'a str,
    /// The request body.
    pub body: &'a [u8],
}

impl RequestToSign<'_> {
    /// The bytes the signature is computed over.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let body_digest = ring::digest::digest(&ring::digest::SHA256, self.body);
        let canonical = format!(
            "{}\n{}\n{}\n{}\n{}\n{}",
            self.method,
            self.path_and_query,
            self.timestamp_ms,
            self.nonce,
            self.device,
            envelope::hex(body_digest.as_ref())
        );
        pre_authentication_encoding(REQUEST_PAYLOAD_TYPE, canonical.as_bytes())
    }

    /// Signs with the device key; returns the `Hadir-Signature` header value.
    pub fn sign(&self, key: &dyn DeviceKey) -> Result<String, EnvelopeError> {
        let sig = key.sign(&self.signing_bytes())?;
        Ok(envelope::base64_encode(&sig))
    }

    /// Verifies a `Hadir-Signature` header value against `public_key`.
    pub fn verify(&self, public_key: &[u8], signature_b64: &str) -> Result<(), EnvelopeError> {
        let sig = envelope::base64_decode(signature_b64)?;
        envelope::verify_signature(public_key, &self.signing_bytes(), &sig)
    }
}

/// A fresh nonce: 16 random bytes as 32 hex digits.
pub fn new_nonce() -> String {
    let mut bytes = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .expect("the system random source works");
    envelope::hex(&bytes)
}

/// True when a nonce has the required shape (32 lowercase hex digits).
pub fn nonce_well_formed(nonce: &str) -> bool {
    nonce.len() == 32
        && nonce
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::SoftwareDeviceKey;

    #[test]
    fn signed_request_verifies_and_any_change_fails() {
        let key = SoftwareDeviceKey::generate().unwrap();
        let nonce = new_nonce();
        assert!(nonce_well_formed(&nonce));
        let req = RequestToSign {
            method: "POST",
            path_and_query: "/v1/checkins",
            timestamp_ms: 1_795_000_000_000,
            nonce: &nonce,
            device: "dev-1",
            body: b"{\"envelopes\":[]}",
        };
        let sig = req.sign(&key).unwrap();
        req.verify(&key.public_key(), &sig).unwrap();
        let changed = [
            RequestToSign {
                method: "PUT",
                ..req.clone()
            },
            RequestToSign {
                path_and_query: "/v1/config",
                ..req.clone()
            },
            RequestToSign {
                timestamp_ms: 1_795_000_000_001,
                ..req.clone()
            },
            RequestToSign {
                device: "dev-2",
                ..req.clone()
            },
            RequestToSign {
                body: b"{\"envelopes\":[1]}",
                ..req.clone()
            },
        ];
        for c in changed {
            assert!(c.verify(&key.public_key(), &sig).is_err(), "{c:?}");
        }
        let other = SoftwareDeviceKey::generate().unwrap();
        assert!(req.verify(&other.public_key(), &sig).is_err());
        assert!(req.verify(&key.public_key(), "%%%").is_err());
    }
}
