//! Android-shaped key attestation chains built in the test (rcgen on ring): a test root
//! (P-384, like Google's newest), an intermediate (P-256) and a leaf for the enrolled
//! P-256 key carrying a KeyDescription extension DER-encoded here with the structure
//! Android's Keystore writes (attestation version, security levels, challenge, unique id,
//! the two authorization lists, the hardware-enforced one with or without a RootOfTrust).

use hadir_core::envelope::base64_encode;
use hadir_server::attestation::AttestationRoots;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, IsCa, Issuer, KeyPair,
    PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384, PublicKeyData, SignatureAlgorithm,
};

/// KeyDescription's OID as rcgen takes it.
pub const KEY_DESCRIPTION_ARCS: &[u64] = &[1, 3, 6, 1, 4, 1, 11129, 2, 1, 17];

/// `SecurityLevel` values.
pub const SOFTWARE: u32 = 0;
pub const TRUSTED_ENVIRONMENT: u32 = 1;
pub const STRONGBOX: u32 = 2;

/// A DER tag-length-value.
pub fn tlv(tag: &[u8], content: &[u8]) -> Vec<u8> {
    let mut out = tag.to_vec();
    match content.len() {
        n if n < 0x80 => out.push(n as u8),
        n if n < 0x100 => out.extend([0x81, n as u8]),
        n => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(content);
    out
}

fn unsigned(tag: u8, value: u32) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(3);
    let mut content = bytes[first..].to_vec();
    if content[0] & 0x80 != 0 {
        content.insert(0, 0);
    }
    tlv(&[tag], &content)
}

/// A DER INTEGER.
pub fn integer(value: u32) -> Vec<u8> {
    unsigned(0x02, value)
}

/// A DER ENUMERATED.
pub fn enumerated(value: u32) -> Vec<u8> {
    unsigned(0x0a, value)
}

/// A DER OCTET STRING.
pub fn octets(value: &[u8]) -> Vec<u8> {
    tlv(&[0x04], value)
}

/// A DER SEQUENCE of already encoded items.
pub fn sequence(items: &[Vec<u8>]) -> Vec<u8> {
    tlv(&[0x30], &items.concat())
}

/// `verifiedBootState` values.
pub const BOOT_VERIFIED: u32 = 0;
pub const BOOT_SELF_SIGNED: u32 = 1;
pub const BOOT_UNVERIFIED: u32 = 2;

/// What the leaf's hardware-enforced RootOfTrust says (`None`: no RootOfTrust at all).
#[derive(Debug, Clone, Copy)]
pub struct Boot {
    pub device_locked: bool,
    pub verified_boot_state: u32,
}

/// A locked bootloader and a verified boot: what a stock phone attests.
pub const LOCKED_VERIFIED: Boot = Boot {
    device_locked: true,
    verified_boot_state: BOOT_VERIFIED,
};

/// A KeyDescription (KeyMint version 200) for an EC P-256 signing key, from a locked
/// phone with a verified boot.
pub fn key_description(security_level: u32, challenge: &[u8]) -> Vec<u8> {
    key_description_booted(security_level, challenge, Some(LOCKED_VERIFIED))
}

/// A KeyDescription (KeyMint version 200) for an EC P-256 signing key whose
/// hardware-enforced list carries this RootOfTrust, or none.
pub fn key_description_booted(
    security_level: u32,
    challenge: &[u8],
    boot: Option<Boot>,
) -> Vec<u8> {
    // AuthorizationList entries are EXPLICIT context tags: [1] purpose (SET OF INTEGER,
    // 2 = SIGN), [2] algorithm (3 = EC), [3] keySize, [10] ecCurve (1 = P-256), [702]
    // origin (0 = GENERATED), [704] rootOfTrust (tags over 30 take the multi-byte form:
    // 0xbf, then 704 in base-128 digits 0x85 0x40), [705] osVersion after it.
    let mut hardware = vec![
        tlv(&[0xa1], &tlv(&[0x31], &integer(2))),
        tlv(&[0xa2], &integer(3)),
        tlv(&[0xa3], &integer(256)),
        tlv(&[0xaa], &integer(1)),
        tlv(&[0xbf, 0x85, 0x3e], &integer(0)),
    ];
    if let Some(boot) = boot {
        let root_of_trust = sequence(&[
            octets(&[7; 32]),
            tlv(&[0x01], &[if boot.device_locked { 0xff } else { 0x00 }]),
            enumerated(boot.verified_boot_state),
            octets(&[9; 32]),
        ]);
        hardware.push(tlv(&[0xbf, 0x85, 0x40], &root_of_trust));
    }
    hardware.push(tlv(&[0xbf, 0x85, 0x41], &integer(150000)));
    let hardware_enforced = sequence(&hardware);
    let software_enforced = sequence(&[]);
    sequence(&[
        integer(200),
        enumerated(security_level),
        integer(200),
        enumerated(security_level),
        octets(challenge),
        octets(&[]),
        software_enforced,
        hardware_enforced,
    ])
}

/// A raw P-256 public point as rcgen's subject key.
struct RawKey(Vec<u8>);

impl PublicKeyData for RawKey {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }
    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &PKCS_ECDSA_P256_SHA256
    }
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
}

/// A test certificate authority shaped like Google's: root → intermediate → leaf.
pub struct TestCa {
    /// The root certificate, DER.
    pub root_der: Vec<u8>,
    /// The intermediate certificate, DER.
    pub intermediate_der: Vec<u8>,
    intermediate: Issuer<'static, KeyPair>,
}

impl TestCa {
    pub fn new() -> TestCa {
        TestCa::with_root_name("Hadir Test Attestation Root")
    }

    /// A CA whose root's common name is `root_name` (the intermediate's issuer).
    pub fn with_root_name(root_name: &str) -> TestCa {
        let root_key = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).unwrap();
        let root_params = ca_params(root_name);
        let root_der = root_params.self_signed(&root_key).unwrap().der().to_vec();
        let root = Issuer::new(root_params, root_key);
        let intermediate_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let intermediate_params = ca_params("Hadir Test Attestation Intermediate");
        let intermediate_der = intermediate_params
            .signed_by(&intermediate_key, &root)
            .unwrap()
            .der()
            .to_vec();
        TestCa {
            root_der,
            intermediate_der,
            intermediate: Issuer::new(intermediate_params, intermediate_key),
        }
    }

    /// The roots a server under test trusts: this CA's.
    pub fn roots(&self) -> AttestationRoots {
        AttestationRoots::from_der_certificates(std::slice::from_ref(&self.root_der)).unwrap()
    }

    /// A leaf for `public_key` (65-byte point) with this KeyDescription, signed by the
    /// intermediate.
    pub fn leaf(&self, public_key: &[u8], description: Vec<u8>) -> Vec<u8> {
        leaf_signed_by(public_key, description, &self.intermediate)
    }

    /// A genuine attested key (its leaf certificate under the intermediate, and the key
    /// as an issuer): what an attacker holding an attested Keystore signing key has.
    pub fn attested_key(&self, description: Vec<u8>) -> (Vec<u8>, Issuer<'static, KeyPair>) {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let params = leaf_params(description);
        let der = params
            .signed_by(&key, &self.intermediate)
            .unwrap()
            .der()
            .to_vec();
        (der, Issuer::new(params, key))
    }

    /// The chain Android would send from a stock phone: leaf, intermediate, root.
    pub fn chain(&self, public_key: &[u8], security_level: u32, challenge: &[u8]) -> Vec<Vec<u8>> {
        self.chain_booted(public_key, security_level, challenge, Some(LOCKED_VERIFIED))
    }

    /// The chain with this RootOfTrust in the leaf (or none).
    pub fn chain_booted(
        &self,
        public_key: &[u8],
        security_level: u32,
        challenge: &[u8],
        boot: Option<Boot>,
    ) -> Vec<Vec<u8>> {
        vec![
            self.leaf(
                public_key,
                key_description_booted(security_level, challenge, boot),
            ),
            self.intermediate_der.clone(),
            self.root_der.clone(),
        ]
    }
}

fn leaf_params(description: Vec<u8>) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "Android Keystore Key");
    params.custom_extensions = vec![CustomExtension::from_oid_content(
        KEY_DESCRIPTION_ARCS,
        description,
    )];
    params
}

/// A leaf for `public_key` (65-byte point) with this KeyDescription, signed by `issuer`.
pub fn leaf_signed_by(
    public_key: &[u8],
    description: Vec<u8>,
    issuer: &Issuer<'_, KeyPair>,
) -> Vec<u8> {
    leaf_params(description)
        .signed_by(&RawKey(public_key.to_vec()), issuer)
        .unwrap()
        .der()
        .to_vec()
}

/// The chain as the wire carries it.
pub fn base64_chain(chain: &[Vec<u8>]) -> Vec<String> {
    chain.iter().map(|der| base64_encode(der)).collect()
}
