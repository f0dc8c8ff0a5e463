//! Key attestation at enrollment: the verifier on chains built here (a test root, an
//! intermediate and an Android-shaped leaf, with and without a RootOfTrust), Google's
//! revocation status list, then enrollment over a real socket against a server trusting
//! the test root, and the admin's `device list`, `device recheck` and `attestation
//! status-load|status-show` through the real CLI.

mod common;

use common::attest::{
    BOOT_SELF_SIGNED, BOOT_UNVERIFIED, BOOT_VERIFIED, Boot, SOFTWARE, STRONGBOX,
    TRUSTED_ENVIRONMENT, TestCa, base64_chain, key_description, leaf_signed_by,
};
use common::live::{cli, cli_fails, client, try_call};
use common::{Phone, config_in, imei_label};
use hadir_core::api::EnrollRequest;
use hadir_core::attestation::attestation_challenge;
use hadir_core::envelope::{DeviceKey as _, SoftwareDeviceKey, base64_encode};
use hadir_core::ids::PersonId;
use hadir_server::attestation::{
    AttestationLevel, AttestationRoots, AttestationVerdict, DeviceAttestation, chain_serials,
};
use hadir_server::attestation_status::{StatusList, load_status_list, recheck_devices};
use hadir_server::storage::{NewEnrollment, Storage};
use hadir_server::{AppState, admin, app};

const CODE: &str = "ABCD-EFGH-JK";

/// [`hadir_server::attestation::judge`] with no status list loaded.
fn judge(
    chain: &[String],
    key: &[u8],
    challenge: &[u8],
    roots: &AttestationRoots,
) -> AttestationVerdict {
    hadir_server::attestation::judge(chain, key, challenge, roots, &StatusList::none())
}

/// Google's status list JSON listing these serials with this status.
fn status_json(serials: &[&str], status: &str) -> String {
    let entries: serde_json::Map<String, serde_json::Value> = serials
        .iter()
        .map(|s| {
            (
                s.to_string(),
                serde_json::json!({"status": status, "reason": "KEY_COMPROMISE"}),
            )
        })
        .collect();
    serde_json::json!({ "entries": entries }).to_string()
}

fn status_list(serials: &[&str], status: &str) -> StatusList {
    StatusList::parse_json(&status_json(serials, status), 0).unwrap()
}

fn enrolled_key() -> Vec<u8> {
    SoftwareDeviceKey::generate().unwrap().public_key()
}

fn accepted(verdict: AttestationVerdict) -> DeviceAttestation {
    match verdict {
        AttestationVerdict::Accepted(a) => a,
        other => panic!("expected acceptance, got {other:?}"),
    }
}

fn unverified_reason(verdict: AttestationVerdict) -> String {
    let a = accepted(verdict);
    assert_eq!(a.level, AttestationLevel::Unverified, "{a:?}");
    a.reason.expect("an unverified chain says why")
}

#[test]
fn a_valid_chain_records_the_security_level_it_attests() {
    let ca = TestCa::new();
    let key = enrolled_key();
    let challenge = attestation_challenge(CODE);
    for (level, expected) in [
        (TRUSTED_ENVIRONMENT, AttestationLevel::Tee),
        (STRONGBOX, AttestationLevel::StrongBox),
        (SOFTWARE, AttestationLevel::Software),
    ] {
        let chain = base64_chain(&ca.chain(&key, level, &challenge));
        let got = accepted(judge(&chain, &key, &challenge, &ca.roots()));
        assert_eq!(got.level, expected);
        assert_eq!(got.reason, None);
        assert_eq!(got.chain, chain, "the chain is kept for an auditor");
    }
}

#[test]
fn no_chain_is_level_none() {
    let ca = TestCa::new();
    let got = accepted(judge(&[], &enrolled_key(), &[0; 32], &ca.roots()));
    assert_eq!(got, DeviceAttestation::none());
}

#[test]
fn a_leaf_signed_by_another_key_is_unverified() {
    let ca = TestCa::new();
    let impostor = TestCa::new();
    let key = enrolled_key();
    let challenge = attestation_challenge(CODE);
    // The impostor's leaf, presented under the genuine intermediate and root.
    let mut chain = ca.chain(&key, STRONGBOX, &challenge);
    chain[0] = impostor.leaf(&key, key_description(STRONGBOX, &challenge));
    let reason = unverified_reason(judge(&base64_chain(&chain), &key, &challenge, &ca.roots()));
    assert!(reason.contains("certificate 0 is not signed"), "{reason}");
}

#[test]
fn a_tampered_byte_breaks_the_chain() {
    let ca = TestCa::new();
    let key = enrolled_key();
    let challenge = attestation_challenge(CODE);
    let mut chain = ca.chain(&key, TRUSTED_ENVIRONMENT, &challenge);
    // The intermediate's subject name (inside what the root signed), one bit flipped.
    let name = b"Intermediate";
    let at = chain[1]
        .windows(name.len())
        .position(|w| w == name)
        .unwrap();
    chain[1][at] ^= 0x20;
    let reason = unverified_reason(judge(&base64_chain(&chain), &key, &challenge, &ca.roots()));
    assert!(reason.contains("certificate 1 is not signed"), "{reason}");
}

#[test]
fn another_challenge_is_a_refusal() {
    let ca = TestCa::new();
    let key = enrolled_key();
    let chain = base64_chain(&ca.chain(&key, STRONGBOX, &attestation_challenge("ZZZZZZZZZZ")));
    let verdict = judge(&chain, &key, &attestation_challenge(CODE), &ca.roots());
    assert!(
        matches!(&verdict, AttestationVerdict::Mismatch(d) if d.contains("challenge")),
        "{verdict:?}"
    );
}

#[test]
fn a_leaf_for_another_key_is_a_refusal() {
    let ca = TestCa::new();
    let challenge = attestation_challenge(CODE);
    let chain = base64_chain(&ca.chain(&enrolled_key(), TRUSTED_ENVIRONMENT, &challenge));
    let verdict = judge(&chain, &enrolled_key(), &challenge, &ca.roots());
    assert!(
        matches!(&verdict, AttestationVerdict::Mismatch(d) if d.contains("another key")),
        "{verdict:?}"
    );
}

#[test]
fn an_unknown_root_is_unverified() {
    let ca = TestCa::new();
    let key = enrolled_key();
    let challenge = attestation_challenge(CODE);
    let chain = base64_chain(&ca.chain(&key, STRONGBOX, &challenge));
    // Google's roots do not include the test root.
    let reason = unverified_reason(judge(&chain, &key, &challenge, &AttestationRoots::google()));
    assert!(reason.contains("unknown root"), "{reason}");
    // The same chain without its root certificate is judged by the intermediate's
    // issuer: still unknown to Google, trusted by the test root.
    let short = &chain[..2];
    assert!(
        unverified_reason(judge(short, &key, &challenge, &AttestationRoots::google()))
            .contains("unknown root")
    );
    assert_eq!(
        accepted(judge(short, &key, &challenge, &ca.roots())).level,
        AttestationLevel::StrongBox
    );
}

#[test]
fn a_chain_extended_below_an_attested_key_is_unverified() {
    // A genuine attested key used to sign a made-up leaf: the issuer carries a
    // KeyDescription of its own, so only the first one could be trusted.
    let ca = TestCa::new();
    let key = enrolled_key();
    let challenge = attestation_challenge(CODE);
    let (attested_der, attested) = ca.attested_key(key_description(STRONGBOX, b"theirs"));
    let made_up = leaf_signed_by(&key, key_description(STRONGBOX, &challenge), &attested);
    let chain = vec![
        made_up,
        attested_der,
        ca.intermediate_der.clone(),
        ca.root_der.clone(),
    ];
    let reason = unverified_reason(judge(&base64_chain(&chain), &key, &challenge, &ca.roots()));
    assert!(
        reason.contains("certificate 1 carries a KeyDescription"),
        "{reason}"
    );
}

#[test]
fn garbage_and_overlong_chains_are_unverified_never_refused() {
    let ca = TestCa::new();
    let key = enrolled_key();
    let challenge = attestation_challenge(CODE);
    let not_base64 = vec!["%%%".to_string()];
    assert!(
        unverified_reason(judge(&not_base64, &key, &challenge, &ca.roots())).contains("base64")
    );
    let not_x509 = vec![base64_encode(b"not a certificate")];
    assert!(
        unverified_reason(judge(&not_x509, &key, &challenge, &ca.roots()))
            .contains("certificate 0")
    );
    let without_extension = base64_chain(&[ca.intermediate_der.clone(), ca.root_der.clone()]);
    assert!(
        unverified_reason(judge(&without_extension, &key, &challenge, &ca.roots()))
            .contains("KeyDescription")
    );
    let mut long = base64_chain(&ca.chain(&key, STRONGBOX, &challenge));
    while long.len() <= hadir_server::attestation::MAX_CHAIN_CERTS {
        long.push(long[1].clone());
    }
    assert!(unverified_reason(judge(&long, &key, &challenge, &ca.roots())).contains("too long"));
}

/// A recorded chain (`tests/data/`) as the wire carries it, and its leaf's public point.
fn recorded_chain(pem: &str) -> (Vec<String>, Vec<u8>) {
    use x509_parser::prelude::FromDer as _;
    let ders: Vec<Vec<u8>> = x509_parser::pem::Pem::iter_from_buffer(pem.as_bytes())
        .map(|b| b.unwrap().contents)
        .collect();
    let (_, leaf) = x509_parser::certificate::X509Certificate::from_der(&ders[0]).unwrap();
    let key = leaf.public_key().subject_public_key.data.to_vec();
    (base64_chain(&ders), key)
}

#[test]
fn a_real_tee_chain_verifies_to_the_bundled_google_root() {
    let (chain, leaf_key) = recorded_chain(include_str!("data/android_ec_tee_chain.pem"));
    let google = AttestationRoots::google();
    let got = accepted(judge(&chain, &leaf_key, b"abc", &google));
    assert_eq!(got.level, AttestationLevel::Tee, "{got:?}");
    // Its RootOfTrust ([704], `deviceLocked` 00, `verifiedBootState` 02, an all-zero
    // boot key): recorded from a developer's unlocked phone.
    assert_eq!(
        got.reason.as_deref(),
        Some("bootloader unlocked; verified boot: unverified")
    );
    assert!(matches!(
        judge(&chain, &leaf_key, b"abd", &google),
        AttestationVerdict::Mismatch(_)
    ));
    assert!(matches!(
        judge(&chain, &enrolled_key(), b"abc", &google),
        AttestationVerdict::Mismatch(_)
    ));
}

#[test]
fn a_real_chain_to_an_unpublished_root_is_unverified() {
    let (chain, leaf_key) = recorded_chain(include_str!("data/android_ec_strongbox_chain.pem"));
    let description = {
        use x509_parser::prelude::FromDer as _;
        let der = hadir_core::envelope::base64_decode(&chain[0]).unwrap();
        let (_, leaf) = x509_parser::certificate::X509Certificate::from_der(&der).unwrap();
        let oid = hadir_server::attestation::KEY_DESCRIPTION_OID
            .parse()
            .unwrap();
        let ext = leaf.extensions().iter().find(|e| e.oid == oid).unwrap();
        hadir_server::attestation::parse_key_description(ext.value).unwrap()
    };
    assert_eq!(description.attestation_security_level, STRONGBOX);
    let challenge = description.attestation_challenge;
    let reason = unverified_reason(judge(
        &chain,
        &leaf_key,
        &challenge,
        &AttestationRoots::google(),
    ));
    assert!(reason.contains("unknown root"), "{reason}");
}

/// Adds the tests' office (a circle around Dinas Kominfo).
fn add_kominfo(storage: &dyn Storage) {
    let office = common::TestOffice::kominfo();
    admin::add_office(
        storage,
        admin::circle_office(
            office.id,
            office.name,
            office.utc_offset_minutes,
            office.center,
            office.radius_m,
            office.max_accuracy_m,
        ),
    )
    .unwrap();
}

/// A server on 127.0.0.1 over a real SQLite file, trusting `roots`; its base URL.
async fn serve_trusting(dir: &std::path::Path, roots: AttestationRoots) -> (AppState, String) {
    let config = config_in(dir);
    let state = AppState::open(&config)
        .unwrap()
        .with_attestation_roots(roots);
    add_kominfo(state.storage().as_ref());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app(state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (state, base)
}

fn enroll_body(phone: &Phone, code: &str, who: &PersonId, attestation: Vec<String>) -> Vec<u8> {
    serde_json::to_vec(&EnrollRequest {
        enrollment_code: code.into(),
        person: who.clone(),
        public_key: base64_encode(&phone.key.public_key()),
        device_label: imei_label(),
        platform: "android".into(),
        app_version: "0.1.0".into(),
        attestation,
    })
    .unwrap()
}

/// `POST /v1/enroll` of `body`, signed by `phone`'s key.
async fn post_enroll(
    http: &reqwest::Client,
    base: &str,
    phone: &Phone,
    body: Vec<u8>,
) -> reqwest::Response {
    try_call(http, base, phone, "enroll", "POST", "/v1/enroll", body)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_a_socket_a_valid_chain_records_tee_and_a_wrong_challenge_keeps_the_code() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let (state, base) = serve_trusting(dir.path(), ca.roots()).await;
    let storage = state.storage().clone();
    let [owner, other] = [&common::TEST_PEOPLE[0], &common::TEST_PEOPLE[1]].map(|p| {
        let id = p.person_id();
        admin::add_person(
            storage.as_ref(),
            hadir_server::storage::PersonRecord {
                id: id.clone(),
                display_name: p.name.into(),
                office_ids: vec![common::OFFICE.into()],
                supervisor: None,
            },
        )
        .unwrap();
        id
    });
    let http = client();

    // A valid chain whose challenge is the code's, typed in another form.
    let code = admin::issue_code(storage.as_ref(), &owner, 72).unwrap();
    let phone = Phone::new();
    let typed = code.to_lowercase();
    let chain = base64_chain(&ca.chain(
        &phone.key.public_key(),
        TRUSTED_ENVIRONMENT,
        &attestation_challenge(&code),
    ));
    let r = post_enroll(
        &http,
        &base,
        &phone,
        enroll_body(&phone, &typed, &owner, chain.clone()),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let device_id = r.json::<serde_json::Value>().await.unwrap()["device_id"]
        .as_str()
        .unwrap()
        .to_string();
    let listed = storage.devices(Some(&owner)).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].device_id, device_id);
    assert_eq!(listed[0].attestation.level, AttestationLevel::Tee);
    assert_eq!(listed[0].attestation.chain, chain, "the chain as received");

    // A chain attesting another challenge: refused, and the code is still good.
    let code = admin::issue_code(storage.as_ref(), &other, 72).unwrap();
    let phone = Phone::new();
    let wrong = base64_chain(&ca.chain(
        &phone.key.public_key(),
        STRONGBOX,
        &attestation_challenge("ZZZZZZZZZZ"),
    ));
    let r = post_enroll(
        &http,
        &base,
        &phone,
        enroll_body(&phone, &code, &other, wrong),
    )
    .await;
    assert_eq!(r.status(), 400);
    let answer: serde_json::Value = r.json().await.unwrap();
    assert_eq!(answer["code"], "ENROLL_ATTESTATION_MISMATCH");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("Mulai ulang pendaftaran")
    );
    assert!(storage.devices(Some(&other)).unwrap().is_empty());
    let r = post_enroll(
        &http,
        &base,
        &phone,
        enroll_body(&phone, &code, &other, Vec::new()),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let listed = storage.devices(Some(&other)).unwrap();
    assert_eq!(listed[0].attestation, DeviceAttestation::none());

    // The admin's listing, through the real CLI on the same database file.
    let all = cli(&dir.path().join("hadir.db"), &["device", "list"]);
    let lines: Vec<&str> = all.lines().collect();
    assert_eq!(lines.len(), 2, "{all}");
    assert!(lines[0].starts_with(&device_id), "{all}");
    assert!(
        lines[0].contains("\tandroid\t") && lines[0].contains("attestation tee\t-"),
        "{all}"
    );
    assert!(lines[1].contains("attestation none\tFLAG"), "{all}");
    let mine = cli(
        &dir.path().join("hadir.db"),
        &["device", "list", "--person", &other.to_string()],
    );
    assert_eq!(mine.lines().count(), 1, "{mine}");
    assert!(
        mine.contains(&other.to_string()) && mine.contains("active"),
        "{mine}"
    );
}

#[test]
fn a_chain_with_a_revoked_or_suspended_serial_is_unverified() {
    let ca = TestCa::new();
    let key = enrolled_key();
    let challenge = attestation_challenge(CODE);
    let chain = base64_chain(&ca.chain(&key, STRONGBOX, &challenge));
    let serials = chain_serials(&chain);
    assert_eq!(serials.len(), 3);
    let intermediate = serials[1].as_str();
    for status in ["REVOKED", "SUSPENDED"] {
        let list = status_list(&[intermediate], status);
        let reason = unverified_reason(hadir_server::attestation::judge(
            &chain,
            &key,
            &challenge,
            &ca.roots(),
            &list,
        ));
        assert!(
            reason.starts_with(&format!("revoked serial {intermediate} ({status}")),
            "{reason}"
        );
    }
    // The leaf's serial counts as much as an issuer's.
    let list = status_list(&[serials[0].as_str()], "REVOKED");
    assert_eq!(
        accepted(hadir_server::attestation::judge(
            &chain,
            &key,
            &challenge,
            &ca.roots(),
            &list
        ))
        .level,
        AttestationLevel::Unverified
    );
    // A list naming other serials changes nothing.
    let other = status_list(&["c35747a084470c3135aeefe2b8d40cd6"], "REVOKED");
    let got = accepted(hadir_server::attestation::judge(
        &chain,
        &key,
        &challenge,
        &ca.roots(),
        &other,
    ));
    assert_eq!((got.level, got.reason), (AttestationLevel::StrongBox, None));
}

#[test]
fn serials_are_lowercase_hex_without_leading_zeros() {
    let (chain, _) = recorded_chain(include_str!("data/android_ec_tee_chain.pem"));
    for serial in chain_serials(&chain) {
        assert!(!serial.starts_with('0') || serial == "0", "{serial}");
        assert!(
            serial
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "{serial}"
        );
    }
}

#[test]
fn an_unlocked_or_unverified_boot_keeps_the_level_with_a_flag() {
    let ca = TestCa::new();
    let key = enrolled_key();
    let challenge = attestation_challenge(CODE);
    let judged = |boot: Option<Boot>| {
        let chain = base64_chain(&ca.chain_booted(&key, TRUSTED_ENVIRONMENT, &challenge, boot));
        accepted(judge(&chain, &key, &challenge, &ca.roots()))
    };
    let boot = |device_locked, verified_boot_state| {
        Some(Boot {
            device_locked,
            verified_boot_state,
        })
    };
    let stock = judged(boot(true, BOOT_VERIFIED));
    assert_eq!(
        (stock.level, stock.reason.as_deref()),
        (AttestationLevel::Tee, None)
    );
    assert!(!stock.is_flagged());
    let unlocked = judged(boot(false, BOOT_VERIFIED));
    assert_eq!(unlocked.level, AttestationLevel::Tee);
    assert_eq!(unlocked.reason.as_deref(), Some("bootloader unlocked"));
    assert!(unlocked.is_flagged());
    let unverified_boot = judged(boot(false, BOOT_UNVERIFIED));
    assert_eq!(unverified_boot.level, AttestationLevel::Tee);
    assert_eq!(
        unverified_boot.reason.as_deref(),
        Some("bootloader unlocked; verified boot: unverified")
    );
    assert_eq!(
        judged(boot(true, BOOT_SELF_SIGNED)).reason.as_deref(),
        Some("verified boot: self-signed")
    );
    let without = judged(None);
    assert_eq!(without.level, AttestationLevel::Tee);
    assert_eq!(
        without.reason.as_deref(),
        Some("no rootOfTrust in teeEnforced")
    );
}

#[test]
fn a_forged_issuer_name_cannot_break_a_line() {
    let evil = TestCa::with_root_name("Evil\n\tdev-forged\tandroid\x1b[2K\r");
    let key = enrolled_key();
    let challenge = attestation_challenge(CODE);
    // Without its root, the chain's last certificate names the evil issuer.
    let chain = base64_chain(&evil.chain(&key, TRUSTED_ENVIRONMENT, &challenge)[..2]);
    let reason = unverified_reason(judge(&chain, &key, &challenge, &TestCa::new().roots()));
    assert!(reason.contains("unknown root"), "{reason}");
    assert!(!reason.chars().any(char::is_control), "{reason:?}");
    assert!(
        reason.contains(r"Evil\n\tdev-forged\tandroid\u{1b}[2K\r"),
        "{reason}"
    );
}

/// `person` registered at the test office of `storage`.
fn register(storage: &dyn Storage, index: usize) -> PersonId {
    let p = &common::TEST_PEOPLE[index];
    let id = p.person_id();
    admin::add_person(
        storage,
        hadir_server::storage::PersonRecord {
            id: id.clone(),
            display_name: p.name.into(),
            office_ids: vec![common::OFFICE.into()],
            supervisor: None,
        },
    )
    .unwrap();
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_a_socket_revocation_flags_and_forged_names_reach_the_listing_as_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let (state, base) = serve_trusting(dir.path(), ca.roots()).await;
    let storage = state.storage().clone();
    let db = dir.path().join("hadir.db");
    let http = client();

    // 1. An unlocked phone: its level, with a flag.
    let unlocked = register(storage.as_ref(), 0);
    let phone = Phone::new();
    let code = admin::issue_code(storage.as_ref(), &unlocked, 72).unwrap();
    let chain = ca.chain_booted(
        &phone.key.public_key(),
        TRUSTED_ENVIRONMENT,
        &attestation_challenge(&code),
        Some(Boot {
            device_locked: false,
            verified_boot_state: BOOT_VERIFIED,
        }),
    );
    let r = post_enroll(
        &http,
        &base,
        &phone,
        enroll_body(&phone, &code, &unlocked, base64_chain(&chain)),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    // 2. Then the intermediate is revoked before a phone enrolls: recorded unverified.
    let owner = register(storage.as_ref(), 1);
    let phone = Phone::new();
    let code = admin::issue_code(storage.as_ref(), &owner, 72).unwrap();
    let chain = ca.chain(
        &phone.key.public_key(),
        STRONGBOX,
        &attestation_challenge(&code),
    );
    let intermediate = chain_serials(&base64_chain(&chain))[1].clone();
    let status_file = dir.path().join("status.json");
    std::fs::write(&status_file, status_json(&[&intermediate], "REVOKED")).unwrap();
    let loaded = cli(
        &db,
        &[
            "attestation",
            "status-load",
            "--file",
            status_file.to_str().unwrap(),
        ],
    );
    assert!(loaded.contains("1 entries"), "{loaded}");
    let r = post_enroll(
        &http,
        &base,
        &phone,
        enroll_body(&phone, &code, &owner, base64_chain(&chain)),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let listed = storage.devices(Some(&owner)).unwrap();
    assert_eq!(listed[0].attestation.level, AttestationLevel::Unverified);
    let reason = listed[0].attestation.reason.clone().unwrap();
    assert!(
        reason.starts_with(&format!("revoked serial {intermediate}")),
        "{reason}"
    );

    // 3. A chain naming a forged issuer: recorded escaped.
    let forger = register(storage.as_ref(), 2);
    let phone = Phone::new();
    let code = admin::issue_code(storage.as_ref(), &forger, 72).unwrap();
    let evil = TestCa::with_root_name("x\ndev-forged\tandroid\x1b[2K");
    let chain = evil.chain(
        &phone.key.public_key(),
        TRUSTED_ENVIRONMENT,
        &attestation_challenge(&code),
    );
    let r = post_enroll(
        &http,
        &base,
        &phone,
        enroll_body(&phone, &code, &forger, base64_chain(&chain[..2])),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    let all = cli(&db, &["device", "list"]);
    let lines: Vec<&str> = all.lines().collect();
    assert_eq!(lines.len(), 3, "{all:?}");
    assert!(!all.contains('\x1b') && !all.contains('\r'), "{all:?}");
    for line in &lines {
        assert_eq!(line.matches('\t').count(), 6, "{line:?}");
    }
    assert!(
        lines[0].contains("attestation tee\tFLAG (bootloader unlocked)"),
        "{all}"
    );
    assert!(
        lines[1].contains(&format!(
            "attestation unverified\tFLAG (revoked serial {intermediate}"
        )),
        "{all}"
    );
    assert!(
        lines[2].contains(
            r"attestation unverified	FLAG (unknown root (CN=x\ndev-forged\tandroid\u{1b}[2K))"
        ),
        "{all}"
    );
    let shown = cli(&db, &["attestation", "status-show"]);
    assert!(
        shown.starts_with("status list loaded ") && shown.ends_with("\t1 entries"),
        "{shown}"
    );
}

#[test]
fn status_load_refuses_what_is_not_googles_list_and_keeps_the_previous() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hadir.db");
    drop(AppState::open(&config_in(dir.path())).unwrap());
    assert_eq!(
        cli(&db, &["attestation", "status-show"]),
        "no status list loaded"
    );
    let file = dir.path().join("status.json");
    std::fs::write(&file, status_json(&["ab", "cd"], "SUSPENDED")).unwrap();
    let path = file.to_str().unwrap();
    cli(&db, &["attestation", "status-load", "--file", path]);
    for bad in [
        "<html>captive portal</html>",
        r#"{"entries": {}}"#,
        r#"{"entries": {"zz": {"status": "REVOKED"}}}"#,
        r#"{"entries": {"ab": {"status": "GONE"}}}"#,
    ] {
        std::fs::write(&file, bad).unwrap();
        let err = cli_fails(&db, &["attestation", "status-load", "--file", path]);
        assert!(err.contains("error:"), "{bad}: {err}");
    }
    let shown = cli(&db, &["attestation", "status-show"]);
    assert!(shown.ends_with("\t2 entries"), "{shown}");
}

#[test]
fn recheck_catches_a_key_revoked_after_enrollment_and_lifts_a_suspension() {
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::open(&config_in(dir.path())).unwrap();
    let storage = state.storage().as_ref();
    add_kominfo(storage);
    // A real phone's TEE chain to Google's root (its challenge is "abc"), enrolled as
    // the handler would record it.
    let (chain, leaf_key) = recorded_chain(include_str!("data/android_ec_tee_chain.pem"));
    let google = AttestationRoots::google();
    let recorded = accepted(judge(&chain, &leaf_key, b"abc", &google));
    assert_eq!(recorded.level, AttestationLevel::Tee);
    let person = register(storage, 0);
    let code = admin::issue_code(storage, &person, 72).unwrap();
    let enrolled = storage
        .enroll(NewEnrollment {
            code_hash: admin::code_hash(&code),
            person: person.clone(),
            public_key: leaf_key,
            label: imei_label(),
            platform: "android".into(),
            app_version: "0.1.0".into(),
            new_device_id: admin::new_device_id(),
            now_ms: storage.clock().now_ms(),
            attestation: recorded.clone(),
        })
        .unwrap()
        .unwrap();
    let device_id = enrolled.device.device_id;
    // Another device without a chain is left alone.
    let other = register(storage, 1);
    let code = admin::issue_code(storage, &other, 72).unwrap();
    storage
        .enroll(NewEnrollment {
            code_hash: admin::code_hash(&code),
            person: other,
            public_key: enrolled_key(),
            label: imei_label(),
            platform: "ios".into(),
            app_version: "0.1.0".into(),
            new_device_id: admin::new_device_id(),
            now_ms: storage.clock().now_ms(),
            attestation: DeviceAttestation::none(),
        })
        .unwrap()
        .unwrap();

    assert_eq!(
        recheck_devices(storage, &google).unwrap(),
        [],
        "nothing changed"
    );
    // Google revokes the chain's intermediate: the next recheck catches it.
    let intermediate = chain_serials(&chain)[1].clone();
    load_status_list(storage, &status_json(&[&intermediate], "SUSPENDED")).unwrap();
    let changed = recheck_devices(storage, &google).unwrap();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0].device_id, device_id);
    assert_eq!(changed[0].before, recorded);
    assert_eq!(changed[0].after.level, AttestationLevel::Unverified);
    let listed = &storage.devices(Some(&person)).unwrap()[0];
    assert_eq!(listed.attestation, changed[0].after);
    assert_eq!(listed.attestation.chain, chain, "the chain is kept");

    // The same through the real CLI: nothing more to change, then the suspension
    // lifted by a newer list.
    let db = dir.path().join("hadir.db");
    assert_eq!(cli(&db, &["device", "recheck"]), "");
    let file = dir.path().join("status.json");
    std::fs::write(
        &file,
        status_json(&["c35747a084470c3135aeefe2b8d40cd6"], "REVOKED"),
    )
    .unwrap();
    cli(
        &db,
        &[
            "attestation",
            "status-load",
            "--file",
            file.to_str().unwrap(),
        ],
    );
    let printed = cli(&db, &["device", "recheck"]);
    assert_eq!(
        printed,
        format!("{device_id}\tunverified -> tee\tbootloader unlocked; verified boot: unverified")
    );
    assert_eq!(
        storage.devices(Some(&person)).unwrap()[0].attestation,
        recorded
    );
    let line = cli(&db, &["device", "list", "--person", &person.to_string()]);
    assert!(
        line.contains("attestation tee\tFLAG (bootloader unlocked; verified boot: unverified)"),
        "{line}"
    );
    std::fs::write(&file, status_json(&[&intermediate], "REVOKED")).unwrap();
    cli(
        &db,
        &[
            "attestation",
            "status-load",
            "--file",
            file.to_str().unwrap(),
        ],
    );
    let printed = cli(&db, &["device", "recheck"]);
    assert!(
        printed.starts_with(&format!(
            "{device_id}\ttee -> unverified\trevoked serial {intermediate} (REVOKED"
        )),
        "{printed}"
    );
}

#[test]
fn a_reason_stored_raw_before_the_fix_is_escaped_when_listed() {
    // Servers before this fix recorded the issuer name as sent: such a row, written
    // here as it would stand, must still print as one line.
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::open(&config_in(dir.path())).unwrap();
    let storage = state.storage().as_ref();
    add_kominfo(storage);
    let person = register(storage, 0);
    let code = admin::issue_code(storage, &person, 72).unwrap();
    let device_id = storage
        .enroll(NewEnrollment {
            code_hash: admin::code_hash(&code),
            person,
            public_key: enrolled_key(),
            label: imei_label(),
            platform: "android".into(),
            app_version: "0.1.0".into(),
            new_device_id: admin::new_device_id(),
            now_ms: storage.clock().now_ms(),
            attestation: DeviceAttestation::none(),
        })
        .unwrap()
        .unwrap()
        .device
        .device_id;
    drop(state);
    let db = dir.path().join("hadir.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "UPDATE devices SET attestation_level = 'unverified', attestation_reason = ?1 \
             WHERE device_id = ?2",
            [
                "unknown root (CN=x\n\tdev-forged\tandroid\x1b[2K\r)",
                &device_id,
            ],
        )
        .unwrap();
    let all = cli(&db, &["device", "list"]);
    assert_eq!(all.lines().count(), 1, "{all:?}");
    assert_eq!(all.matches('\t').count(), 6, "{all:?}");
    assert!(
        all.ends_with(r"FLAG (unknown root (CN=x\n\tdev-forged\tandroid\u{1b}[2K\r))"),
        "{all:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enrollment_against_a_stale_list_is_logged_and_still_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hadir.db");
    drop(AppState::open(&config_in(dir.path())).unwrap());
    cli(&db, &["demo-setup"]);
    let server = common::live::start(&db);
    let http = client();
    let ca = TestCa::new();
    let enroll = |index: usize| {
        let who = common::TEST_PEOPLE[index].person_id();
        let (db, http, base) = (db.clone(), http.clone(), server.base.clone());
        let ca = &ca;
        async move {
            let p = &common::TEST_PEOPLE[index];
            cli(
                &db,
                &[
                    "person",
                    "add",
                    "--kind",
                    "nip",
                    "--id",
                    who.value(),
                    "--name",
                    p.name,
                    "--office",
                    admin::DEMO_OFFICE_ID,
                ],
            );
            let code = cli(&db, &["enroll-code", "issue", "--person", &who.to_string()]);
            let phone = Phone::new();
            let chain = ca.chain(
                &phone.key.public_key(),
                STRONGBOX,
                &attestation_challenge(&code),
            );
            let body = enroll_body(&phone, &code, &who, base64_chain(&chain));
            let r = post_enroll(&http, &base, &phone, body).await;
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        }
    };
    let warnings = |log: &str| {
        log.lines()
            .filter(|l| l.contains("without a fresh status list"))
            .count()
    };

    // A fresh list: no warning.
    let file = dir.path().join("status.json");
    std::fs::write(
        &file,
        status_json(&["c35747a084470c3135aeefe2b8d40cd6"], "REVOKED"),
    )
    .unwrap();
    cli(
        &db,
        &[
            "attestation",
            "status-load",
            "--file",
            file.to_str().unwrap(),
        ],
    );
    enroll(0).await;
    assert_eq!(warnings(&server.log()), 0, "{}", server.log());

    // The same list 31 days on (its load time moved back, as the clock cannot be).
    let day_ms = 24 * 60 * 60 * 1000_i64;
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "UPDATE attestation_status_list SET loaded_ms = loaded_ms - ?1",
            [31 * day_ms],
        )
        .unwrap();
    enroll(1).await;
    let log = server.log();
    assert_eq!(warnings(&log), 1, "{log}");
    assert!(log.contains("loaded 31 days ago"), "{log}");
    let shown = common::live::run_cli(&db, &["attestation", "status-show"]);
    assert!(String::from_utf8_lossy(&shown.stderr).contains("stale"));
}
