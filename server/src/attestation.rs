//! Key attestation at enrollment: what the server concludes from the certificate chain
//! an Android phone sends with its first enrollment (`docs/PROTOCOL.md`, "Key
//! attestation").
//!
//! The chain (leaf first) is checked certificate by certificate, each signature by the
//! next certificate's key (x509-parser over ring), and its last certificate against
//! trusted roots matched by public key ([`AttestationRoots`]: Google's, bundled, by
//! default). Validity dates are not checked: attestation leaves often carry bogus ones.
//! The leaf's KeyDescription extension (OID 1.3.6.1.4.1.11129.2.1.17) is read with
//! asn1-rs (as re-exported by x509-parser) for its security level, its challenge and the
//! hardware-enforced RootOfTrust (bootloader lock and verified boot state).
//!
//! [`judge`] is the one place the outcomes are decided: only a proven mismatch (the leaf
//! attests another key, or another challenge) refuses; anything that cannot be verified,
//! and a chain with a revoked or suspended serial in Google's status list
//! ([`crate::attestation_status`]), is accepted as [`AttestationLevel::Unverified`] with
//! a reason, so cheap phones still enroll, and an admin sees the flag. A verified chain
//! from an unlocked or unverified-boot device keeps its level with a flag reason.
//!
//! A reason can quote the chain (an issuer name is any bytes the sender chose), so every
//! reason goes through [`sanitize_reason`] before it is recorded or shown.

use std::fmt;
use std::str::FromStr;

use hadir_core::envelope::base64_decode;
use x509_parser::asn1_rs::{Any, Class, Enumerated, FromDer as _, Sequence, Tag};
use x509_parser::certificate::X509Certificate;
use x509_parser::oid_registry::Oid;
use x509_parser::pem::Pem;
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::attestation_status::StatusList;

/// Google's hardware attestation roots as bundled (`server/assets/`, sources cited
/// there).
pub const GOOGLE_ROOTS_PEM: &str = include_str!("../assets/google_attestation_roots.pem");

/// OID of Android's KeyDescription extension.
pub const KEY_DESCRIPTION_OID: &str = "1.3.6.1.4.1.11129.2.1.17";

/// Most certificates in a chain considered (real chains hold 3 to 5).
pub const MAX_CHAIN_CERTS: usize = 10;

/// Most bytes of DER in a chain considered.
pub const MAX_CHAIN_BYTES: usize = 64 * 1024;

/// Most characters of a recorded reason ([`sanitize_reason`]).
pub const MAX_REASON_CHARS: usize = 200;

/// AuthorizationList tag of `rootOfTrust`.
const ROOT_OF_TRUST_TAG: u32 = 704;

/// A reason safe to record and print on one line of a listing: control characters
/// (CR, LF, TAB, ESC, ...) and the invisible Unicode format characters that reorder or
/// hide text are written as Rust escapes (`\n`, `\u{1b}`), and the result is cut to
/// [`MAX_REASON_CHARS`] characters (ending in `…` when cut). Applying it again changes
/// nothing.
pub fn sanitize_reason(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_REASON_CHARS * 4));
    let mut chars = 0;
    for c in text.chars() {
        let piece: String = if c.is_control() || is_invisible_format(c) {
            c.escape_default().collect()
        } else {
            c.to_string()
        };
        let n = piece.chars().count();
        if chars + n > MAX_REASON_CHARS - 1 {
            out.push('…');
            return out;
        }
        out.push_str(&piece);
        chars += n;
    }
    out
}

/// Zero-width and bidirectional-control characters (they can make a line read as
/// another).
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

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
    /// Why a chain is [`AttestationLevel::Unverified`], or what a verified chain's
    /// RootOfTrust shows wrong (`bootloader unlocked`, `verified boot: unverified`):
    /// short, for the admin, passed through [`sanitize_reason`].
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

    /// Whether an admin should look at this device: its key is not proven to be in
    /// hardware, or the chain carries a flag reason (an unlocked bootloader, ...).
    pub fn is_flagged(&self) -> bool {
        self.level.is_flagged() || self.reason.is_some()
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
    /// `teeEnforced.rootOfTrust` ([704]), when the hardware-enforced list has one.
    pub root_of_trust: Option<RootOfTrust>,
}

/// The hardware-enforced RootOfTrust: the state of the bootloader and verified boot
/// when the key was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootOfTrust {
    /// `verifiedBootKey`: the key that verified the system image.
    pub verified_boot_key: Vec<u8>,
    /// `deviceLocked`: the bootloader is locked.
    pub device_locked: bool,
    /// `verifiedBootState`: 0 Verified, 1 SelfSigned, 2 Unverified, 3 Failed.
    pub verified_boot_state: u32,
}

impl RootOfTrust {
    /// The flag reasons this RootOfTrust calls for (none for a locked, Verified device).
    pub fn flags(&self) -> Vec<String> {
        let mut flags = Vec::new();
        if !self.device_locked {
            flags.push("bootloader unlocked".to_string());
        }
        let state = match self.verified_boot_state {
            0 => None,
            1 => Some("self-signed".to_string()),
            2 => Some("unverified".to_string()),
            3 => Some("failed".to_string()),
            other => Some(format!("unknown state {other}")),
        };
        if let Some(state) = state {
            flags.push(format!("verified boot: {state}"));
        }
        flags
    }
}

/// Reads a DER KeyDescription: its first five fields, then `uniqueId`,
/// `softwareEnforced` and `teeEnforced`, from which only `rootOfTrust` is kept.
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
    let (i, challenge) = <&[u8]>::from_der(i).map_err(|e| fail("challenge", &e))?;
    let (i, _unique_id) = <&[u8]>::from_der(i).map_err(|e| fail("uniqueId", &e))?;
    let (i, _software) = Sequence::from_der(i).map_err(|e| fail("softwareEnforced", &e))?;
    let (_, tee) = Sequence::from_der(i).map_err(|e| fail("teeEnforced", &e))?;
    let root_of_trust = find_root_of_trust(&tee.content)?;
    Ok(KeyDescription {
        attestation_version,
        attestation_security_level,
        keymaster_version,
        keymaster_security_level,
        attestation_challenge: challenge.to_vec(),
        root_of_trust,
    })
}

/// The `rootOfTrust` ([704], EXPLICIT) among an AuthorizationList's fields, if present.
fn find_root_of_trust(mut fields: &[u8]) -> Result<Option<RootOfTrust>, String> {
    let fail = |field: &str, e: &dyn fmt::Display| format!("KeyDescription {field}: {e}");
    while !fields.is_empty() {
        let (rest, field) = Any::from_der(fields).map_err(|e| fail("teeEnforced field", &e))?;
        fields = rest;
        if field.header.class() != Class::ContextSpecific
            || field.header.tag() != Tag(ROOT_OF_TRUST_TAG)
        {
            continue;
        }
        let (_, seq) = Sequence::from_der(field.data).map_err(|e| fail("rootOfTrust", &e))?;
        let i: &[u8] = &seq.content;
        let (i, key) = <&[u8]>::from_der(i).map_err(|e| fail("verifiedBootKey", &e))?;
        let (i, locked) = bool::from_der(i).map_err(|e| fail("deviceLocked", &e))?;
        let (_, Enumerated(state)) =
            Enumerated::from_der(i).map_err(|e| fail("verifiedBootState", &e))?;
        return Ok(Some(RootOfTrust {
            verified_boot_key: key.to_vec(),
            device_locked: locked,
            verified_boot_state: state,
        }));
    }
    Ok(None)
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

/// The serial number of a certificate as Google's status list keys it: lowercase hex
/// without leading zeros.
fn serial_hex(cert: &X509Certificate<'_>) -> String {
    format!("{:x}", cert.serial)
}

/// The serials of a chain's certificates as the status list keys them (those that
/// decode), so a caller can fetch only the entries [`judge`] needs.
pub fn chain_serials(chain: &[String]) -> Vec<String> {
    chain
        .iter()
        .take(MAX_CHAIN_CERTS)
        .filter_map(|text| base64_decode(text).ok())
        .filter_map(|der| {
            X509Certificate::from_der(&der)
                .ok()
                .map(|(_, c)| serial_hex(&c))
        })
        .collect()
}

/// Decides what a chain proves about the key being enrolled: `enrolled_key` is the
/// 65-byte P-256 point of the enrollment, `challenge` the one derived from its code
/// ([`hadir_core::attestation::attestation_challenge`]), `roots` the trusted roots,
/// `statuses` Google's revocation status list as loaded (at least the entries for the
/// chain's serials, [`chain_serials`]).
pub fn judge(
    chain: &[String],
    enrolled_key: &[u8],
    challenge: &[u8],
    roots: &AttestationRoots,
    statuses: &StatusList,
) -> AttestationVerdict {
    if chain.is_empty() {
        return AttestationVerdict::Accepted(DeviceAttestation::none());
    }
    let recorded = |level: AttestationLevel, reason: Option<String>| {
        AttestationVerdict::Accepted(DeviceAttestation {
            level,
            reason: reason.map(|r| sanitize_reason(&r)),
            chain: chain.to_vec(),
        })
    };
    let unverified = |reason: String| recorded(AttestationLevel::Unverified, Some(reason));
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
    if let Some(reason) = revoked_serial(&certs, statuses) {
        return unverified(reason);
    }
    let Some(level) = AttestationLevel::from_security_level(description.attestation_security_level)
    else {
        return unverified(format!(
            "unknown attestationSecurityLevel {}",
            description.attestation_security_level
        ));
    };
    let flags = match &description.root_of_trust {
        Some(root_of_trust) => root_of_trust.flags(),
        None => vec!["no rootOfTrust in teeEnforced".to_string()],
    };
    recorded(level, (!flags.is_empty()).then(|| flags.join("; ")))
}

/// Judges a stored chain again (`device recheck`): as [`judge`] with the challenge the
/// leaf carries, which was checked against the enrollment code when the device
/// enrolled (the code is not kept). A mismatch, possible only if the stored key or chain
/// was edited, is recorded as unverified.
pub fn rejudge(
    chain: &[String],
    enrolled_key: &[u8],
    roots: &AttestationRoots,
    statuses: &StatusList,
) -> DeviceAttestation {
    let leaf_challenge = chain
        .first()
        .and_then(|text| base64_decode(text).ok())
        .and_then(|der| {
            let (_, leaf) = X509Certificate::from_der(&der).ok()?;
            key_description(&leaf)?.ok()
        })
        .map(|d| d.attestation_challenge)
        .unwrap_or_default();
    match judge(chain, enrolled_key, &leaf_challenge, roots, statuses) {
        AttestationVerdict::Accepted(a) => a,
        AttestationVerdict::Mismatch(detail) => DeviceAttestation {
            level: AttestationLevel::Unverified,
            reason: Some(sanitize_reason(&format!("on recheck: {detail}"))),
            chain: chain.to_vec(),
        },
    }
}

/// `revoked serial <hex> (STATUS, REASON)` for the first certificate whose serial the
/// status list holds, if any.
fn revoked_serial(certs: &[X509Certificate<'_>], statuses: &StatusList) -> Option<String> {
    certs.iter().find_map(|cert| {
        let serial = serial_hex(cert);
        let entry = statuses.status_of(&serial)?;
        Some(match &entry.reason {
            Some(reason) => format!("revoked serial {serial} ({}, {reason})", entry.status),
            None => format!("revoked serial {serial} ({})", entry.status),
        })
    })
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
    fn reasons_are_one_safe_line_of_bounded_length() {
        let forged = "CN=x\n\tdev-1\tattestation tee\t-\r\u{1b}[2K\u{202e}";
        let safe = sanitize_reason(forged);
        assert_eq!(
            safe,
            "CN=x\\n\\tdev-1\\tattestation tee\\t-\\r\\u{1b}[2K\\u{202e}"
        );
        assert!(!safe.chars().any(|c| c.is_control()));
        assert_eq!(sanitize_reason(&safe), safe, "idempotent");
        assert_eq!(sanitize_reason("Kunci ok"), "Kunci ok");
        let long = sanitize_reason(&"a".repeat(300));
        assert_eq!(long.chars().count(), MAX_REASON_CHARS);
        assert!(long.ends_with('…'));
        assert_eq!(sanitize_reason(&long), long);
        // An escape is never cut in half.
        let escapes = sanitize_reason(&"\n".repeat(300));
        assert!(escapes.chars().count() <= MAX_REASON_CHARS);
        assert!(escapes.ends_with("\\n…"), "{escapes}");
    }

    #[test]
    fn root_of_trust_flags_name_what_is_wrong() {
        let root = |device_locked, verified_boot_state| RootOfTrust {
            verified_boot_key: vec![1; 32],
            device_locked,
            verified_boot_state,
        };
        assert!(root(true, 0).flags().is_empty());
        assert_eq!(root(false, 0).flags(), ["bootloader unlocked"]);
        assert_eq!(
            root(false, 2).flags(),
            ["bootloader unlocked", "verified boot: unverified"]
        );
        assert_eq!(root(true, 1).flags(), ["verified boot: self-signed"]);
        assert_eq!(root(true, 3).flags(), ["verified boot: failed"]);
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
