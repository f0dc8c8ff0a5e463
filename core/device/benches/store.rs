//! Outbox benchmarks: `record_checkin` with full durability (WAL + `synchronous=FULL`,
//! a real file in a temp dir, a 60 KB selfie) and `pending()` of 50 items.
//!
//! Run: `cargo bench -p hadir-core --bench store`. Figures go to docs/PERFORMANCE.md,
//! section "Outbox".

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hadir_device::store::{NewCheckIn, Store, StoreLimits};

const SELFIE_BYTES: usize = 60 * 1024;

fn new_checkin(n: u64) -> NewCheckIn {
    // Incompressible-looking selfie bytes, like a real JPEG.
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let selfie: Vec<u8> = (0..SELFIE_BYTES)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    NewCheckIn {
        checkin_id: format!("0190c0de-0000-7000-8000-{n:012x}"),
        person_id: "198001012005011001".to_string(),
        kind: "in".to_string(),
        recorded_at_ms: 1_700_000_000_000 + n as i64,
        envelope_json: vec![b'e'; 1200],
        selfie_jpeg: selfie,
        selfie_sha256_hex: "ab".repeat(32),
        local_verdict_json: "{\"inside\":true,\"distance_m\":12.5}".to_string(),
    }
}

fn limits() -> StoreLimits {
    StoreLimits {
        max_pending: u32::MAX,
        max_pending_bytes: u64::MAX,
    }
}

fn bench_record(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("bench.db"), limits()).unwrap();
    let counter = AtomicU64::new(0);
    let mut group = c.benchmark_group("outbox");
    group.throughput(Throughput::Elements(1));
    group.sample_size(30);
    group.bench_function("record_checkin_60k_fsync", |b| {
        b.iter_batched(
            || new_checkin(counter.fetch_add(1, Ordering::Relaxed)),
            |ci| store.record_checkin(&ci).unwrap(),
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn bench_pending(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("bench.db"), limits()).unwrap();
    // A realistic backlog: 500 pending (a few days offline for a shared phone).
    for n in 0..500 {
        store.record_checkin(&new_checkin(n)).unwrap();
    }
    let mut group = c.benchmark_group("outbox");
    group.throughput(Throughput::Elements(50));
    group.bench_function("pending_50_of_500", |b| {
        b.iter(|| black_box(store.pending(50, i64::MAX).unwrap()))
    });
    group.bench_function("pending_count_500", |b| {
        b.iter(|| black_box(store.pending_count().unwrap()))
    });
    group.finish();
}

criterion_group!(benches, bench_record, bench_pending);
criterion_main!(benches);
