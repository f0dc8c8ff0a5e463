//! Key attestation at enrollment: what the server concludes from the certificate chain
//! an Android phone sends with its first enrollment (`docs/PROTOCOL.md`, "Key
//! attestation").
//!
//! The chain (leaf first) is checked certificate by certificate, each signature by the
//! next certificate's key (x509-parser over ring), and its last certificate against
//! trusted roots matched by public key ([`AttestationRoots`]: Google's, bundled, by
//! default). Validity dates are not checked: attestation leaves often carry bogus ones.
//! The leaf's KeyDescription extension (OID 1.3.6.1.4.1.11129.2.1.17) is read with
//! asn1-rs (as re-exported by x509-parser) for its security level and challenge.
//!
//! [`judge`] is the one place the outcomes are decided: only a proven mismatch (the leaf
//! attests another key, or another challenge) refuses; anything that cannot be verified
//! is accepted as [`AttestationLevel::Unverified`] with a reason, so cheap phones still
//! enroll, and an admin sees the flag.

use std::fmt;
use std::str::FromStr;

use hadir_core::envelope::base64_decode;
use x509_parser::asn1_rs::{Enumerated, FromDer as _, Sequence};
use x509_parser::certificate::X509Certificate;
use x509_parser::oid_registry::Oid;
use x509_parser::pem::Pem;
use x509_parser::x509::SubjectPublicKeyInfo;

/// Google's hardware attestation roots as bundled (`server/assets/`, sources cited
/// there).
pub const GOOGLE_ROOTS_PEM: &str = include_str!("../assets/google_attestation_roots.pem");

/// OID of Android's KeyDescription extension.
pub const KEY_DESCRIPTION_OID: &str = "1.3.6.1.4.1.11129.2.1.17";

/// Most certificates in a chain considered (real chains hold 3 to 5).
pub const MAX_CHAIN_CERTS: usize = 10;

/// Most bytes of DER in a chain considered.
pub const MAX_CHAIN_BYTES: usize = 64 * 1024;

/// How far the server trusts where a device key lives, as recorded with the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttestationLevel {
    /// No chain was sent (iOS, older apps, the Python client).
    None,
    /// A chain verified to a trusted root, attesting a key held in software.
    Software,
    /// A chain verified to a trusted root, attesting a key in a trusted execution
    /// environment.
    Tee,
    /// A chain verified to a trusted root, attesting a key in a StrongBox secure
    /// element.
    StrongBox,
    /// A chain was sent but could not be verified (the reason is recorded).
    Unverified,
}

impl AttestationLevel {
    /// The stable name stored and shown (`none`, `software`, `tee`, `strongbox`,
    /// `unverified`).
    pub fn as_str(self) -> &'static str {
        match self {
            AttestationLevel::None => "none",
            AttestationLevel::Software => "software",
            AttestationLevel::Tee => "tee",
            AttestationLevel::StrongBox => "strongbox",
            AttestationLevel::Unverified => "unverified",
        }
    }

    /// Whether an admin should look at this device: its key is not proven to be in
    /// hardware.
    pub fn is_flagged(self) -> bool {
        matches!(
            self,
            AttestationLevel::None | AttestationLevel::Software | AttestationLevel::Unverified
        )
    }

    /// The level of a KeyDescription `SecurityLevel` value (0 Software, 1
    /// TrustedEnvironment, 2 StrongBox).
    fn from_security_level(value: u32) -> Option<AttestationLevel> {
        match value {
            0 => Some(AttestationLevel::Software),
            1 => Some(AttestationLevel::Tee),
            2 => Some(AttestationLevel::StrongBox),
            _ => None,
        }
    }
}

impl fmt::Display for AttestationLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AttestationLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [
            AttestationLevel::None,
            AttestationLevel::Software,
            AttestationLevel::Tee,
            AttestationLevel::StrongBox,
            AttestationLevel::Unverified,
        ]
        .into_iter()
        .find(|l| l.as_str() == s)
        .ok_or_else(|| format!("unknown attestation level {s:?}"))
    }
}

/// What is recorded with a newly enrolled device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAttestation {
    /// The level concluded.
    pub level: AttestationLevel,
    /// Why a chain is [`AttestationLevel::Unverified`] (short, for the admin).
    pub reason: Option<String>,
    /// The chain as received (standard base64 DER, leaf first), so an auditor can
    /// verify it again later; empty when none was sent.
    pub chain: Vec<String>,
}

impl DeviceAttestation {
    /// No chain sent.
    pub fn none() -> DeviceAttestation {
        DeviceAttestation {
            level: AttestationLevel::None,
            reason: None,
            chain: Vec::new(),
        }
    }
}

/// The outcome of [`judge`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttestationVerdict {
    /// Enroll, recording this.
    Accepted(DeviceAttestation),
    /// Refuse the enrollment: the leaf parses and attests another key or another
    /// challenge (the detail is for the log).
    Mismatch(String),
}

/// Why a set of roots could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RootsError {
    /// A PEM block or certificate does not parse.
    #[error("root certificate {index}: {detail}")]
    Invalid {
        /// Position of the certificate in the file.
        index: usize,
        /// What failed.
        detail: String,
    },
    /// No certificate in the input.
    #[error("no root certificate")]
    Empty,
}

/// The public keys (DER SubjectPublicKeyInfo) a chain may end at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationRoots {
    spkis: Vec<Vec<u8>>,
}

impl AttestationRoots {
    /// Google's hardware attestation roots, bundled ([`GOOGLE_ROOTS_PEM`]).
    pub fn google() -> AttestationRoots {
        AttestationRoots::from_pem(GOOGLE_ROOTS_PEM)
            .expect("the bundled Google roots parse (tested)")
    }

    /// The roots in a PEM file (text between the certificates is ignored); each must
    /// be a self-signed certificate whose signature verifies.
    pub fn from_pem(pem: &str) -> Result<AttestationRoots, RootsError> {
        let mut ders = Vec::new();
        for (index, block) in Pem::iter_from_buffer(pem.as_bytes()).enumerate() {
            let block = block.map_err(|e| RootsError::Invalid {
                index,
                detail: e.to_string(),
            })?;
            ders.push(block.contents);
        }
        AttestationRoots::from_der_certificates(&ders)
    }

    /// The roots in these DER certificates; each must be self-signed and verify.
    pub fn from_der_certificates(ders: &[Vec<u8>]) -> Result<AttestationRoots, RootsError> {
        let mut spkis = Vec::new();
        for (index, der) in ders.iter().enumerate() {
            let invalid = |detail: String| RootsError::Invalid { index, detail };
            let (_, cert) = X509Certificate::from_der(der).map_err(|e| invalid(e.to_string()))?;
            cert.verify_signature(None)
                .map_err(|e| invalid(format!("not self-signed: {e}")))?;
            spkis.push(cert.public_key().raw.to_vec());
        }
        if spkis.is_empty() {
            return Err(RootsError::Empty);
        }
        spkis.sort();
        spkis.dedup();
        Ok(AttestationRoots { spkis })
    }

    /// Distinct root public keys (Google's four RSA certificates share one).
    pub fn key_count(&self) -> usize {
        self.spkis.len()
    }

    fn trusts(&self, spki: &SubjectPublicKeyInfo<'_>) -> bool {
        self.spkis.iter().any(|k| k.as_slice() == spki.raw)
    }

    /// Whether `cert` is signed by one of the roots.
    fn signed(&self, cert: &X509Certificate<'_>) -> bool {
        self.spkis.iter().any(|k| {
            SubjectPublicKeyInfo::from_der(k)
                .is_ok_and(|(_, spki)| cert.verify_signature(Some(&spki)).is_ok())
        })
    }
}

/// The fields of Android's KeyDescription the server uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDescription {
    /// `attestationVersion` (e.g. 3 for Keymaster 4, 100+ for KeyMint).
    pub attestation_version: u32,
    /// `attestationSecurityLevel`: 0 Software, 1 TrustedEnvironment, 2 StrongBox.
    pub attestation_security_level: u32,
    /// `keymasterVersion` / `keyMintVersion`.
    pub keymaster_version: u32,
    /// `keymasterSecurityLevel` / `keyMintSecurityLevel`.
    pub keymaster_security_level: u32,
    /// `attestationChallenge`.
    pub attestation_challenge: Vec<u8>,
}

/// Reads the first five fields of a DER KeyDescription (the rest is not needed).
pub fn parse_key_description(der: &[u8]) -> Result<KeyDescription, String> {
    let fail = |field: &str, e: &dyn fmt::Display| format!("KeyDescription {field}: {e}");
    let (_, seq) = Sequence::from_der(der).map_err(|e| fail("sequence", &e))?;
    let i: &[u8] = &seq.content;
    let (i, attestation_version) = u32::from_der(i).map_err(|e| fail("version", &e))?;
    let (i, Enumerated(attestation_security_level)) =
        Enumerated::from_der(i).map_err(|e| fail("security level", &e))?;
    let (i, keymaster_version) = u32::from_der(i).map_err(|e| fail("keymaster version", &e))?;
    let (i, Enumerated(keymaster_security_level)) =
        Enumerated::from_der(i).map_err(|e| fail("keymaster security level", &e))?;
    let (_, challenge) = <&[u8]>::from_der(i).map_err(|e| fail("challenge", &e))?;
    Ok(KeyDescription {
        attestation_version,
        attestation_security_level,
        keymaster_version,
        keymaster_security_level,
        attestation_challenge: challenge.to_vec(),
    })
}

fn key_description_oid() -> Oid<'static> {
    Oid::from_str(KEY_DESCRIPTION_OID).expect("a valid OID")
}

/// The KeyDescription of a certificate, if it carries one.
fn key_description(cert: &X509Certificate<'_>) -> Option<Result<KeyDescription, String>> {
    let oid = key_description_oid();
    let ext = cert.extensions().iter().find(|e| e.oid == oid)?;
    Some(parse_key_description(ext.value))
}

/// Decides what a chain proves about the key being enrolled: `enrolled_key` is the
/// 65-byte P-256 point of the enrollment, `challenge` the one derived from its code
/// ([`hadir_core::attestation::attestation_challenge`]), `roots` the trusted roots.
pub fn judge(
    chain: &[String],
    enrolled_key: &[u8],
    challenge: &[u8],
    roots: &AttestationRoots,
) -> AttestationVerdict {
    if chain.is_empty() {
        return AttestationVerdict::Accepted(DeviceAttestation::none());
    }
    let unverified = |reason: String| {
        AttestationVerdict::Accepted(DeviceAttestation {
            level: AttestationLevel::Unverified,
            reason: Some(reason),
            chain: chain.to_vec(),
        })
    };
    // The request body limit (64 KiB) bounds the work before these checks.
    if chain.len() > MAX_CHAIN_CERTS {
        return unverified(format!(
            "chain too long ({} certificates, at most {MAX_CHAIN_CERTS})",
            chain.len()
        ));
    }
    let mut ders = Vec::with_capacity(chain.len());
    for (i, text) in chain.iter().enumerate() {
        match base64_decode(text) {
            Ok(der) => ders.push(der),
            Err(_) => return unverified(format!("certificate {i}: not standard base64")),
        }
    }
    if ders.iter().map(Vec::len).sum::<usize>() > MAX_CHAIN_BYTES {
        return unverified(format!("chain over {MAX_CHAIN_BYTES} bytes"));
    }
    let mut certs = Vec::with_capacity(ders.len());
    for (i, der) in ders.iter().enumerate() {
        match X509Certificate::from_der(der) {
            Ok((_, cert)) => certs.push(cert),
            Err(e) => return unverified(format!("certificate {i}: {e}")),
        }
    }
    let leaf = &certs[0];
    let description = match key_description(leaf) {
        None => return unverified("leaf has no KeyDescription extension".into()),
        Some(Err(e)) => return unverified(format!("leaf: {e}")),
        Some(Ok(d)) => d,
    };
    if leaf.public_key().subject_public_key.data.as_ref() != enrolled_key {
        return AttestationVerdict::Mismatch("the leaf attests another key".into());
    }
    if description.attestation_challenge != challenge {
        return AttestationVerdict::Mismatch(
            "the leaf's challenge is not this enrollment code's".into(),
        );
    }
    if let Some(reason) = chain_problem(&certs, roots) {
        return unverified(reason);
    }
    match AttestationLevel::from_security_level(description.attestation_security_level) {
        Some(level) => AttestationVerdict::Accepted(DeviceAttestation {
            level,
            reason: None,
            chain: chain.to_vec(),
        }),
        None => unverified(format!(
            "unknown attestationSecurityLevel {}",
            description.attestation_security_level
        )),
    }
}

/// Why the chain does not verify to a trusted root, if it does not: each certificate
/// signed by the next, no issuer carrying a KeyDescription of its own (a chain extended
/// below a genuine attested key), the last one a trusted root or signed by one.
fn chain_problem(certs: &[X509Certificate<'_>], roots: &AttestationRoots) -> Option<String> {
    for (i, pair) in certs.windows(2).enumerate() {
        if let Err(e) = pair[0].verify_signature(Some(pair[1].public_key())) {
            return Some(format!(
                "certificate {i} is not signed by certificate {}: {e}",
                i + 1
            ));
        }
    }
    if let Some(i) = (1..certs.len()).find(|&i| key_description(&certs[i]).is_some()) {
        return Some(format!("certificate {i} carries a KeyDescription too"));
    }
    let last = certs.last()?;
    if roots.trusts(last.public_key()) || roots.signed(last) {
        None
    } else {
        Some(format!("unknown root ({})", last.issuer()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_google_roots_parse_and_are_self_signed() {
        let blocks: Vec<Vec<u8>> = Pem::iter_from_buffer(GOOGLE_ROOTS_PEM.as_bytes())
            .map(|b| b.unwrap().contents)
            .collect();
        assert_eq!(blocks.len(), 5, "four RSA certificates and the P-384 one");
        // Each block is the certificate its comment names (SHA-256 of the DER).
        let stated: Vec<&str> = GOOGLE_ROOTS_PEM
            .lines()
            .filter_map(|l| l.strip_prefix("# SHA-256 (DER): "))
            .collect();
        let computed: Vec<String> = blocks
            .iter()
            .map(|der| hadir_core::photo::sha256_hex(der))
            .collect();
        assert_eq!(stated, computed);
        for der in &blocks {
            let (_, cert) = X509Certificate::from_der(der).unwrap();
            assert_eq!(cert.subject(), cert.issuer());
            cert.verify_signature(None).unwrap();
        }
        // The RSA root was reissued with the same key: two keys in all.
        assert_eq!(AttestationRoots::google().key_count(), 2);
    }

    #[test]
    fn a_root_that_is_not_self_signed_is_refused() {
        let mut pem = GOOGLE_ROOTS_PEM.to_string();
        // Flip one base64 character inside the first certificate's signature.
        let end = pem.find("-----END CERTIFICATE-----").unwrap();
        let at = end - 10;
        let flipped = if &pem[at..at + 1] == "A" { "B" } else { "A" };
        pem.replace_range(at..at + 1, flipped);
        assert!(matches!(
            AttestationRoots::from_pem(&pem),
            Err(RootsError::Invalid { index: 0, .. })
        ));
        assert_eq!(AttestationRoots::from_pem("no pem"), Err(RootsError::Empty));
    }

    #[test]
    fn levels_round_trip_and_flag_what_is_not_proven_hardware() {
        for level in [
            AttestationLevel::None,
            AttestationLevel::Software,
            AttestationLevel::Tee,
            AttestationLevel::StrongBox,
            AttestationLevel::Unverified,
        ] {
            assert_eq!(level.as_str().parse::<AttestationLevel>(), Ok(level));
        }
        assert!(!AttestationLevel::Tee.is_flagged());
        assert!(!AttestationLevel::StrongBox.is_flagged());
        assert!(AttestationLevel::Software.is_flagged());
        assert!(AttestationLevel::None.is_flagged());
        assert!(AttestationLevel::Unverified.is_flagged());
    }
}
