//! Signing and verifying check-in envelopes (ECDSA P-256 / SHA-256, ring), and the
//! request signature, beside a raw P-256 verify: how much the DSSE encoding and JSON add.
//!
//! `cargo bench -p hadir-core-bench --bench envelope`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hadir_core::auth::RequestToSign;
use hadir_core::envelope::{
    CHECKIN_PAYLOAD_TYPE, DeviceKey, Envelope, SoftwareDeviceKey, verify_signature,
};

fn payload() -> Vec<u8> {
    // About the size of a real check-in payload (~1.2 KB of JSON).
    let mut p = br#"{"version":1,"checkin_id":"0190f1d2-7c1e-7a3b-9d5e-1234567890ab","#.to_vec();
    p.extend(std::iter::repeat_n(b'x', 1100));
    p.extend_from_slice(b"}");
    p
}

fn bench(c: &mut Criterion) {
    let key = SoftwareDeviceKey::generate().unwrap();
    let public_key = key.public_key();
    let envelope = Envelope::sign(CHECKIN_PAYLOAD_TYPE, payload(), &key).unwrap();
    let json = envelope.to_json();
    let message = b"raw message of a typical size for a P-256 verify";
    let raw_sig = key.sign(message).unwrap();

    let mut g = c.benchmark_group("envelope");
    g.throughput(Throughput::Elements(1));
    g.bench_function("sign_checkin_envelope", |b| {
        b.iter(|| Envelope::sign(CHECKIN_PAYLOAD_TYPE, black_box(payload()), &key).unwrap())
    });
    g.bench_function("parse_and_verify_checkin_envelope", |b| {
        b.iter(|| {
            let e = Envelope::from_json(black_box(&json)).unwrap();
            e.verify(CHECKIN_PAYLOAD_TYPE, &public_key).unwrap().len()
        })
    });
    g.bench_function("raw_p256_verify", |b| {
        b.iter(|| verify_signature(&public_key, black_box(message), &raw_sig).unwrap())
    });
    let body = vec![b'{'; 20_000];
    let request = RequestToSign {
        method: "POST",
        path_and_query: "/v1/checkins",
        timestamp_ms: 1_795_000_000_000,
        nonce: "00112233445566778899aabbccddeeff",
        device: "dev-1",
        body: &body,
    };
    let sig = request.sign(&key).unwrap();
    g.bench_function("verify_request_signature_20k_body", |b| {
        b.iter(|| request.verify(&public_key, black_box(&sig)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
