//! The CPU cost of verifying one check-in without HTTP or SQLite, beside a raw ring
//! P-256 verify measured in the same run:
//!
//! * `raw_p256_verify`: ring `ECDSA_P256_SHA256_ASN1` over a 32-byte message (the
//!   floor: what `openssl speed ecdsap256` measures).
//! * `envelope_signature`: DSSE pre-authentication encoding + SHA-256 of the ~1 KB
//!   payload + the verify, on an already parsed envelope.
//! * `request_signature_batch10`: the request signature of a 10-envelope batch body
//!   (SHA-256 of ~14 KB + one verify), per check-in (throughput = 10 elements).
//! * `prepare`: what the server does per envelope outside the write transaction
//!   ([`hadir_server::verify::prepare`]): envelope JSON, signature, payload parse and
//!   schema, person on device, trusted time, fix checks, geofence.
//! * `prepare_and_decide`: `prepare` plus [`hadir_server::verify::decide`] against an
//!   in-memory [`Ledger`] (id seen before, selfie present / reused, previous fix for
//!   impossible travel, recent selfies for near-duplicates, and the record): the whole
//!   decision, minus SQL.
//!
//! `cargo bench -p hadir-server --bench verify`

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hadir_core::anchor::AnchorKey;
use hadir_core::api::{CheckInBatch, CheckInResult, Policy};
use hadir_core::auth::{RequestToSign, new_nonce};
use hadir_core::clock::BootObservation;
use hadir_core::envelope::{CHECKIN_PAYLOAD_TYPE, DeviceKey as _, Envelope, SoftwareDeviceKey};
use hadir_core::fix::GpsFix;
use hadir_core::geofence::GeofenceIndex;
use hadir_core::ids::{PersonId, PersonIdKind};
use hadir_server::directory::{DeviceEntry, PersonEntry, StaticDirectory};
use hadir_server::storage::{DeviceMember, StorageError, person_key};
use hadir_server::verify::{
    Ledger, Prepared, PreparedCheckIn, RecentSelfie, SelfieInLedger, TimeRules, decide, prepare,
};
use hadir_test_support::{
    CENTER, OFFICE, SelfieRef, anchored_time, checkin_payload, fix_at, north_of_center,
    seal_anchor, sign_checkin,
};
use ring::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};

/// Distinct envelopes cycled through (the ledger is emptied at each wrap, so every
/// decision takes the full path of a new check-in).
const ENVELOPES: usize = 1000;
/// People (and devices) they are spread over.
const PEOPLE: usize = 100;
const SELFIE_PHASH: u64 = 0x0f0f_3c3c_5a5a_9696;
/// The anchor secret of the benchmark's server.
const ANCHOR_SECRET: &[u8] = b"bench anchor secret, 32 bytes ok";

/// The ledger in memory: what the SQLite writer keeps in its cache (last fix, recent
/// selfies) plus maps standing in for the two indexed lookups (check-in id, selfie).
#[derive(Default)]
struct MemLedger {
    stored: HashMap<String, (String, CheckInResult)>,
    selfies: HashMap<String, SelfieInLedger>,
    last_fix: HashMap<String, GpsFix>,
    recent: HashMap<String, Vec<RecentSelfie>>,
    boots: HashMap<(String, String), BootObservation>,
}

impl MemLedger {
    fn reset(&mut self) {
        self.stored.clear();
        self.last_fix.clear();
        self.recent.clear();
        self.boots.clear();
        for s in self.selfies.values_mut() {
            s.first_checkin = None;
        }
    }
}

impl Ledger for MemLedger {
    type Error = StorageError;

    fn stored(
        &mut self,
        checkin_id: &str,
    ) -> Result<Option<(String, CheckInResult)>, StorageError> {
        Ok(self.stored.get(checkin_id).cloned())
    }

    fn selfie(&mut self, sha256: &str) -> Result<Option<SelfieInLedger>, StorageError> {
        Ok(self.selfies.get(sha256).cloned())
    }

    fn previous_accepted_fix(&mut self, person_key: &str) -> Result<Option<GpsFix>, StorageError> {
        Ok(self.last_fix.get(person_key).cloned())
    }

    fn recent_selfies(
        &mut self,
        person_key: &str,
        since_ms: i64,
    ) -> Result<Vec<RecentSelfie>, StorageError> {
        Ok(self
            .recent
            .get(person_key)
            .map(|l| {
                l.iter()
                    .filter(|s| s.trusted_ms >= since_ms)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    fn qr_secret(&mut self, _office_id: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(None)
    }

    fn qr_waived(
        &mut self,
        _office_id: &str,
        _local_date: chrono::NaiveDate,
    ) -> Result<bool, StorageError> {
        Ok(false)
    }

    fn boot_record(
        &mut self,
        device_id: &str,
        boot_id: &str,
    ) -> Result<Option<BootObservation>, StorageError> {
        Ok(self
            .boots
            .get(&(device_id.to_string(), boot_id.to_string()))
            .copied())
    }

    fn device_has_anchors(&mut self, device_id: &str) -> Result<bool, Self::Error> {
        Ok(self.boots.keys().any(|(d, _)| d == device_id))
    }

    fn observe_boot(
        &mut self,
        device_id: &str,
        boot_id: &str,
        observation: BootObservation,
    ) -> Result<(), StorageError> {
        self.boots
            .insert((device_id.to_string(), boot_id.to_string()), observation);
        Ok(())
    }

    fn record(
        &mut self,
        item: &PreparedCheckIn,
        result: &CheckInResult,
        server_phash: u64,
    ) -> Result<(), StorageError> {
        // What the SQLite record serialises besides the row itself.
        let result_json = serde_json::to_string(result).expect("serialises");
        let fix_json = serde_json::to_string(&item.payload.fix).expect("serialises");
        black_box((result_json, fix_json));
        self.stored.insert(
            item.checkin_id.clone(),
            (item.payload_sha256.clone(), result.clone()),
        );
        if let Some(s) = self.selfies.get_mut(&item.payload.selfie_sha256)
            && s.first_checkin.is_none()
        {
            s.first_checkin = Some(item.checkin_id.clone());
        }
        self.last_fix
            .insert(item.person_key.clone(), item.payload.fix.clone());
        self.recent
            .entry(item.person_key.clone())
            .or_default()
            .push(RecentSelfie {
                trusted_ms: item.trusted.instant_ms,
                phash: server_phash,
                sha256: item.payload.selfie_sha256.clone(),
            });
        Ok(())
    }
}

struct Fixture {
    devices: Vec<DeviceEntry>,
    directory: StaticDirectory,
    /// (device index, raw envelope JSON).
    envelopes: Vec<(usize, String)>,
    ledger: MemLedger,
    received_ms: i64,
}

fn fixture() -> (Fixture, Vec<SoftwareDeviceKey>) {
    let office = hadir_server::admin::circle_office(OFFICE, "Kominfo", 420, CENTER, 80.0, 50.0);
    let mut people = HashMap::new();
    let mut devices = Vec::new();
    let mut keys = Vec::new();
    let mut ledger = MemLedger::default();
    for i in 0..PEOPLE {
        let id = PersonId::parse(PersonIdKind::NonAsn, &format!("BENCH-{i:06}")).unwrap();
        let key = SoftwareDeviceKey::generate().unwrap();
        people.insert(
            person_key(&id),
            PersonEntry {
                id: id.clone(),
                display_name: format!("P{i}"),
                office_ids: vec![OFFICE.into()],
                supervisor_key: None,
                unit_id: None,
            },
        );
        devices.push(DeviceEntry {
            device_id: format!("dev-bench-{i:06}"),
            public_key: key.public_key(),
            revoked: false,
            members: vec![DeviceMember {
                person_key: person_key(&id),
                is_owner: true,
            }],
        });
        ledger.selfies.insert(
            selfie_sha(i),
            SelfieInLedger {
                phash: SELFIE_PHASH,
                first_checkin: None,
            },
        );
        keys.push(key);
    }
    let directory = StaticDirectory {
        people,
        geofence: Arc::new(GeofenceIndex::new(vec![office]).unwrap()),
        teams: Default::default(),
        schedules: Default::default(),
        freezes: Vec::new(),
    };
    let now = hadir_server::now_ms();
    let envelopes = (0..ENVELOPES)
        .map(|n| {
            let i = n % PEOPLE;
            let d = &devices[i];
            let person = directory.people[&d.members[0].person_key].id.clone();
            let mut p = checkin_payload(
                &d.device_id,
                &person,
                fix_at(north_of_center(20.0), 12.0, now - 2_000),
                SelfieRef {
                    sha256_hex: selfie_sha(i),
                    phash: SELFIE_PHASH,
                },
                anchored_time(now, 0),
            );
            seal_anchor(&mut p, ANCHOR_SECRET);
            let e = sign_checkin(&keys[i], &p);
            (i, serde_json::to_string(&e).unwrap())
        })
        .collect();
    (
        Fixture {
            devices,
            directory,
            envelopes,
            ledger,
            received_ms: now,
        },
        keys,
    )
}

fn selfie_sha(i: usize) -> String {
    hadir_core::photo::sha256_hex(format!("selfie {i}").as_bytes())
}

fn bench(c: &mut Criterion) {
    let (mut fx, keys) = fixture();
    let policy = Policy::default();
    let anchor_key = AnchorKey::new(ANCHOR_SECRET);
    let time_rules = TimeRules {
        anchor_key: &anchor_key,
        v1_accepted_until_ms: i64::MAX,
    };

    // Sanity: the fixture's check-ins are accepted (flags allowed) and verify.
    let mut ledger = MemLedger {
        selfies: fx.ledger.selfies.clone(),
        ..MemLedger::default()
    };
    for (d, raw) in &fx.envelopes {
        let Prepared::Ready(item) = prepare(
            raw,
            &fx.devices[*d],
            &fx.directory,
            &policy,
            fx.received_ms,
            &time_rules,
        ) else {
            panic!("refused before the ledger");
        };
        let r = decide(&item, &mut ledger, &policy).unwrap();
        assert!(r.status.counts_as_attendance(), "{r:?}");
    }

    let mut g = c.benchmark_group("verify");
    g.throughput(Throughput::Elements(1));

    let raw_key = &keys[0];
    let message = [0x5au8; 32];
    let raw_sig = raw_key.sign(&message).unwrap();
    let raw_public = raw_key.public_key();
    g.bench_function("raw_p256_verify", |b| {
        let pk = UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &raw_public);
        b.iter(|| pk.verify(black_box(&message), black_box(&raw_sig)).unwrap())
    });

    let parsed: Vec<Envelope> = fx
        .envelopes
        .iter()
        .take(PEOPLE)
        .map(|(_, raw)| serde_json::from_str(raw).unwrap())
        .collect();
    let mut k = 0usize;
    g.bench_function("envelope_signature", |b| {
        b.iter(|| {
            k = (k + 1) % PEOPLE;
            parsed[k]
                .verify(CHECKIN_PAYLOAD_TYPE, &fx.devices[k].public_key)
                .unwrap()
                .len()
        })
    });

    let body = serde_json::to_vec(&CheckInBatch {
        envelopes: parsed[..10].to_vec(),
    })
    .unwrap();
    let nonce = new_nonce();
    let request = RequestToSign {
        method: "POST",
        path_and_query: "/v1/checkins",
        timestamp_ms: fx.received_ms,
        nonce: &nonce,
        device: &fx.devices[0].device_id,
        body: &body,
    };
    let request_sig = request.sign(raw_key).unwrap();
    g.throughput(Throughput::Elements(10));
    g.bench_function("request_signature_batch10", |b| {
        b.iter(|| {
            request
                .verify(&raw_public, black_box(&request_sig))
                .unwrap()
        })
    });
    g.throughput(Throughput::Elements(1));

    let mut n = 0usize;
    g.bench_function("prepare", |b| {
        b.iter(|| {
            n = (n + 1) % ENVELOPES;
            let (d, raw) = &fx.envelopes[n];
            prepare(
                raw,
                &fx.devices[*d],
                &fx.directory,
                &policy,
                fx.received_ms,
                &time_rules,
            )
        })
    });

    let mut n = 0usize;
    g.bench_function("prepare_and_decide", |b| {
        b.iter(|| {
            n += 1;
            if n == ENVELOPES {
                n = 0;
                fx.ledger.reset();
            }
            let (d, raw) = &fx.envelopes[n];
            let Prepared::Ready(item) = prepare(
                raw,
                &fx.devices[*d],
                &fx.directory,
                &policy,
                fx.received_ms,
                &time_rules,
            ) else {
                unreachable!("checked above");
            };
            decide(&item, &mut fx.ledger, &policy).unwrap()
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
