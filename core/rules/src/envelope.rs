//! The signed envelope a check-in travels in, and the device key that signs it.
//!
//! The format is DSSE v1 (secure-systems-lab/dsse `protocol.md`), so any DSSE
//! implementation can check it: the signature covers the pre-authentication encoding
//! `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body` of the payload type and the
//! *exact* payload bytes (lengths as decimal byte counts), never a re-serialisation.
//! In JSON the envelope is `{"payload": base64, "payloadType": "...", "signatures":
//! [{"keyid": "...", "sig": base64}]}`.
//!
//! Signatures are ECDSA P-256 / SHA-256. The canonical form is ASN.1 DER (what Android
//! Keystore's `SHA256withECDSA` and the iOS Secure Enclave's
//! `ecdsaSignatureMessageX962SHA256` produce); the 64-byte fixed `r || s` form is also
//! accepted on verification. Public keys are 65-byte uncompressed points `04 || X || Y`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair as _, UnparsedPublicKey};
use serde::{Deserialize, Serialize};

/// Payload type of a version-1 check-in.
pub const CHECKIN_PAYLOAD_TYPE: &str = "application/vnd.hadir.checkin+json";

/// Length of an uncompressed P-256 public key.
pub const PUBLIC_KEY_LEN: usize = 65;

/// A failure of a [`DeviceKey`] to sign (hardware key unavailable, user not
/// authenticated, ...). Implemented by the platform shells.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("device key failure: {reason}")]
pub struct KeyError {
    /// What the key store reported.
    pub reason: String,
}

/// The device's signing key: P-256 held in Android Keystore / the Secure Enclave by the
/// shells, or a [`SoftwareDeviceKey`] where no hardware key exists.
pub trait DeviceKey: Send + Sync {
    /// The 65-byte uncompressed public point `04 || X || Y`.
    fn public_key(&self) -> Vec<u8>;
    /// Signs `message` with ECDSA P-256 / SHA-256 (the implementation hashes), returning
    /// an ASN.1 DER signature (a 64-byte fixed `r || s` one is accepted too).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError>;
    /// The key's attestation certificate chain, leaf first, each certificate DER: on
    /// Android the Keystore's `getCertificateChain(alias)` of a key created with
    /// `setAttestationChallenge` ([`crate::attestation::attestation_challenge`]). Empty
    /// where the platform attests no key this way (this default, the software key, iOS).
    fn attestation_chain(&self) -> Result<Vec<Vec<u8>>, KeyError> {
        Ok(Vec::new())
    }
}

/// Why an envelope, key or signature was refused. `code()` is stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// The envelope's JSON or base64 does not parse.
    #[error("malformed envelope: {0}")]
    Malformed(String),
    /// The payload type is not the expected one.
    #[error("payload type {found:?}, expected {expected:?}")]
    WrongPayloadType {
        /// The type the verifier wanted.
        expected: String,
        /// The type the envelope declared.
        found: String,
    },
    /// No signature in the envelope carries the expected key id.
    #[error("no signature by key {0}")]
    NoSignatureForKey(String),
    /// The signature does not verify over the payload with the given key.
    #[error("signature does not verify")]
    BadSignature,
    /// The public key is not a 65-byte uncompressed P-256 point.
    #[error("public key is not an uncompressed P-256 point")]
    BadPublicKey,
    /// The private key material could not be loaded.
    #[error("private key rejected: {0}")]
    BadPrivateKey(String),
    /// The device key failed to sign.
    #[error(transparent)]
    Signing(#[from] KeyError),
}

impl EnvelopeError {
    /// Stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            EnvelopeError::Malformed(_) => "ENVELOPE_MALFORMED",
            EnvelopeError::WrongPayloadType { .. } => "ENVELOPE_WRONG_TYPE",
            EnvelopeError::NoSignatureForKey(_) => "ENVELOPE_UNKNOWN_KEY",
            EnvelopeError::BadSignature => "ENVELOPE_BAD_SIGNATURE",
            EnvelopeError::BadPublicKey => "KEY_BAD_PUBLIC_KEY",
            EnvelopeError::BadPrivateKey(_) => "KEY_BAD_PRIVATE_KEY",
            EnvelopeError::Signing(_) => "KEY_SIGNING_FAILED",
        }
    }
}

/// DSSE v1 pre-authentication encoding of `payload_type` and `payload`.
pub fn pre_authentication_encoding(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload_type.len() + payload.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// The key id of a public key: the first 16 bytes of its SHA-256, in lowercase hex.
pub fn key_id(public_key: &[u8]) -> String {
    hex(&ring::digest::digest(&ring::digest::SHA256, public_key).as_ref()[..16])
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Checks that `public_key` has the shape of an uncompressed P-256 point. (Whether the
/// point is on the curve is established by the first verification, e.g. the enrollment
/// proof of possession.)
pub fn check_public_key(public_key: &[u8]) -> Result<(), EnvelopeError> {
    if public_key.len() == PUBLIC_KEY_LEN && public_key[0] == 0x04 {
        Ok(())
    } else {
        Err(EnvelopeError::BadPublicKey)
    }
}

/// Verifies an ECDSA P-256 / SHA-256 signature (DER, or 64-byte fixed) over `message`.
pub fn verify_signature(
    public_key: &[u8],
    message: &[u8],
    signature_bytes: &[u8],
) -> Result<(), EnvelopeError> {
    check_public_key(public_key)?;
    let der = UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, public_key);
    if der.verify(message, signature_bytes).is_ok() {
        return Ok(());
    }
    if signature_bytes.len() == 64 {
        let fixed = UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, public_key);
        if fixed.verify(message, signature_bytes).is_ok() {
            return Ok(());
        }
    }
    Err(EnvelopeError::BadSignature)
}

/// A software P-256 device key (ring), for tests and for devices without a hardware key
/// store. Its PKCS#8 document can be persisted and reloaded.
pub struct SoftwareDeviceKey {
    pkcs8: Vec<u8>,
    pair: EcdsaKeyPair,
    rng: SystemRandom,
}

impl std::fmt::Debug for SoftwareDeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the private key.
        f.debug_struct("SoftwareDeviceKey")
            .field("key_id", &key_id(self.pair.public_key().as_ref()))
            .finish()
    }
}

impl SoftwareDeviceKey {
    /// Generates a fresh key pair from the system's secure random source.
    pub fn generate() -> Result<Self, EnvelopeError> {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|_| EnvelopeError::BadPrivateKey("key generation failed".into()))?;
        Self::from_pkcs8(doc.as_ref())
    }

    /// Loads a key from the PKCS#8 document produced by [`Self::pkcs8`].
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, EnvelopeError> {
        let rng = SystemRandom::new();
        let pair =
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8, &rng)
                .map_err(|e| EnvelopeError::BadPrivateKey(e.to_string()))?;
        Ok(SoftwareDeviceKey {
            pkcs8: pkcs8.to_vec(),
            pair,
            rng,
        })
    }

    /// The PKCS#8 v1 document to persist. It is the private key: store it only in the
    /// device's own storage.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }
}

impl DeviceKey for SoftwareDeviceKey {
    fn public_key(&self) -> Vec<u8> {
        self.pair.public_key().as_ref().to_vec()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.pair
            .sign(&self.rng, message)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| KeyError {
                reason: "ring signing failed".into(),
            })
    }
}

/// One signature of a DSSE envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    /// [`key_id`] of the signing key.
    pub keyid: String,
    /// The signature bytes (base64 in JSON).
    #[serde(with = "base64_bytes")]
    pub sig: Vec<u8>,
}

/// A DSSE envelope: the exact payload bytes, their type, and signatures over both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The payload bytes exactly as signed (base64 in JSON).
    #[serde(with = "base64_bytes")]
    pub payload: Vec<u8>,
    /// What the payload is, e.g. [`CHECKIN_PAYLOAD_TYPE`].
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// The signatures; Hadir writes exactly one, by the device key.
    pub signatures: Vec<EnvelopeSignature>,
}

impl Envelope {
    /// Signs `payload` (exact bytes) of `payload_type` with `key`.
    pub fn sign(
        payload_type: &str,
        payload: Vec<u8>,
        key: &dyn DeviceKey,
    ) -> Result<Self, EnvelopeError> {
        let public_key = key.public_key();
        check_public_key(&public_key)?;
        let sig = key.sign(&pre_authentication_encoding(payload_type, &payload))?;
        Ok(Envelope {
            payload,
            payload_type: payload_type.to_string(),
            signatures: vec![EnvelopeSignature {
                keyid: key_id(&public_key),
                sig,
            }],
        })
    }

    /// Checks the envelope's type and its signature by `public_key`, and returns the
    /// payload bytes that signature covers.
    pub fn verify(
        &self,
        expected_payload_type: &str,
        public_key: &[u8],
    ) -> Result<&[u8], EnvelopeError> {
        if self.payload_type != expected_payload_type {
            return Err(EnvelopeError::WrongPayloadType {
                expected: expected_payload_type.to_string(),
                found: self.payload_type.clone(),
            });
        }
        let wanted = key_id(public_key);
        let signature = self
            .signatures
            .iter()
            .find(|s| s.keyid == wanted)
            .ok_or(EnvelopeError::NoSignatureForKey(wanted))?;
        verify_signature(
            public_key,
            &pre_authentication_encoding(&self.payload_type, &self.payload),
            &signature.sig,
        )?;
        Ok(&self.payload)
    }

    /// The envelope as JSON bytes.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an envelope always serialises")
    }

    /// Parses an envelope from JSON bytes.
    pub fn from_json(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        serde_json::from_slice(bytes).map_err(|e| EnvelopeError::Malformed(e.to_string()))
    }
}

/// Serde adapter: bytes as standard base64 strings.
pub mod base64_bytes {
    use super::BASE64;
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialises bytes as a base64 string.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&BASE64.encode(bytes))
    }

    /// Deserialises a base64 string into bytes.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        BASE64
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

/// Encodes bytes as standard base64.
pub fn base64_encode(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

/// Decodes standard base64.
pub fn base64_decode(text: &str) -> Result<Vec<u8>, EnvelopeError> {
    BASE64
        .decode(text.as_bytes())
        .map_err(|e| EnvelopeError::Malformed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TYPE: &str = CHECKIN_PAYLOAD_TYPE;

    #[test]
    fn pae_matches_the_dsse_spec_example() {
        // protocol.md: PAE("http://example.com/HelloWorld", "hello world")
        let pae = pre_authentication_encoding("http://example.com/HelloWorld", b"hello world");
        assert_eq!(
            pae,
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
        // Lengths are byte lengths of UTF-8, not character counts.
        let pae = pre_authentication_encoding("tipe/é", "ñ".as_bytes());
        assert_eq!(pae, "DSSEv1 7 tipe/é 2 ñ".as_bytes().to_vec());
    }

    #[test]
    fn round_trip_through_json_and_persisted_key() {
        let key = SoftwareDeviceKey::generate().unwrap();
        let reloaded = SoftwareDeviceKey::from_pkcs8(key.pkcs8()).unwrap();
        assert_eq!(key.public_key(), reloaded.public_key());
        assert_eq!(key.public_key().len(), PUBLIC_KEY_LEN);

        let payload = br#"{"hello":"dunia"}"#.to_vec();
        let envelope = Envelope::sign(TYPE, payload.clone(), &reloaded).unwrap();
        let parsed = Envelope::from_json(&envelope.to_json()).unwrap();
        assert_eq!(
            parsed.verify(TYPE, &key.public_key()).unwrap(),
            &payload[..]
        );
        assert!(format!("{key:?}").contains("key_id"));
    }

    #[test]
    fn every_tampering_fails() {
        let key = SoftwareDeviceKey::generate().unwrap();
        let other = SoftwareDeviceKey::generate().unwrap();
        let pk = key.public_key();
        let envelope = Envelope::sign(TYPE, b"payload bytes".to_vec(), &key).unwrap();

        for i in 0..envelope.payload.len() {
            let mut e = envelope.clone();
            e.payload[i] ^= 0x01;
            assert_eq!(e.verify(TYPE, &pk), Err(EnvelopeError::BadSignature));
        }
        for i in 0..envelope.signatures[0].sig.len() {
            let mut e = envelope.clone();
            e.signatures[0].sig[i] ^= 0x80;
            assert!(e.verify(TYPE, &pk).is_err(), "flipped signature byte {i}");
        }
        let mut truncated = envelope.clone();
        truncated.signatures[0].sig.pop();
        assert_eq!(
            truncated.verify(TYPE, &pk),
            Err(EnvelopeError::BadSignature)
        );

        assert_eq!(
            envelope
                .verify(TYPE, &other.public_key())
                .unwrap_err()
                .code(),
            "ENVELOPE_UNKNOWN_KEY"
        );
        // The same key id but another key's signature still fails.
        let mut forged = Envelope::sign(TYPE, b"payload bytes".to_vec(), &other).unwrap();
        forged.signatures[0].keyid = key_id(&pk);
        assert_eq!(forged.verify(TYPE, &pk), Err(EnvelopeError::BadSignature));

        assert_eq!(
            envelope
                .verify("application/other", &pk)
                .unwrap_err()
                .code(),
            "ENVELOPE_WRONG_TYPE"
        );
        let mut retyped = envelope.clone();
        retyped.payload_type = "application/other".into();
        assert_eq!(
            retyped.verify("application/other", &pk),
            Err(EnvelopeError::BadSignature)
        );
        assert_eq!(
            verify_signature(&pk[..64], b"x", &[0; 70]),
            Err(EnvelopeError::BadPublicKey)
        );
    }

    #[test]
    fn accepts_fixed_size_signatures_too() {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            doc.as_ref(),
            &rng,
        )
        .unwrap();
        let message = pre_authentication_encoding(TYPE, b"abc");
        let sig = pair.sign(&rng, &message).unwrap();
        assert_eq!(sig.as_ref().len(), 64);
        verify_signature(pair.public_key().as_ref(), &message, sig.as_ref()).unwrap();
    }

    #[test]
    fn malformed_json_is_a_clear_error() {
        assert_eq!(
            Envelope::from_json(b"{\"payload\":\"***\"}")
                .unwrap_err()
                .code(),
            "ENVELOPE_MALFORMED"
        );
        assert!(SoftwareDeviceKey::from_pkcs8(b"not a key").is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn any_payload_round_trips(payload in proptest::collection::vec(any::<u8>(), 0..512),
                                   flip in any::<prop::sample::Index>()) {
            let key = SoftwareDeviceKey::generate().unwrap();
            let envelope = Envelope::sign(TYPE, payload.clone(), &key).unwrap();
            let parsed = Envelope::from_json(&envelope.to_json()).unwrap();
            prop_assert_eq!(parsed.verify(TYPE, &key.public_key()).unwrap(), &payload[..]);
            if !payload.is_empty() {
                let mut edited = parsed.clone();
                let i = flip.index(payload.len());
                edited.payload[i] = edited.payload[i].wrapping_add(1);
                prop_assert!(edited.verify(TYPE, &key.public_key()).is_err());
            }
        }
    }
}
