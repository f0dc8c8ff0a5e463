//! Throughput smoke test (ignored by default; run with
//! `cargo test --release -p hadir-server --test perf -- --ignored --nocapture`):
//! many enrolled devices post pre-signed batches concurrently through `app` and the
//! verified, stored check-ins per second and latency percentiles are printed. The real
//! load test (loopback, load generator) is recorded in docs/PERFORMANCE.md.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::*;
use hadir_core::api::CheckInBatch;
use hadir_core::ids::{PersonId, PersonIdKind};
use hadir_server::admin;
use hadir_server::storage::PersonRecord;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "throughput measurement; run explicitly in release mode"]
async fn ingest_throughput() {
    let devices: usize = std::env::var("PERF_DEVICES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let per_batch: usize = std::env::var("PERF_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let env = Env::with(|c| {
        c.rate_limit_per_second = 0.0;
        c.max_in_flight = 4096;
        c.directory_refresh_ms = 1000;
    });
    let router = env.router();
    let s = selfie(1, 1);
    let mut phones = Vec::new();
    for i in 0..devices {
        let id = PersonId::parse(PersonIdKind::NonAsn, &format!("PERF-{i:06}")).unwrap();
        admin::add_person(
            env.state.storage().as_ref(),
            PersonRecord {
                id: id.clone(),
                display_name: format!("P{i}"),
                office_ids: vec![OFFICE.into()],
            },
        )
        .unwrap();
        let mut phone = Phone::new();
        phone.enroll(&env, &router, &id).await;
        if i == 0 {
            assert!(phone.upload(&router, &s).await.status.is_success());
        }
        phones.push((phone, id));
    }
    // Pre-sign everything: signing is the phone's cost, not the server's.
    let bodies: Vec<(Arc<Phone>, Vec<u8>)> = phones
        .into_iter()
        .map(|(phone, id)| {
            let envelopes = (0..per_batch)
                .map(|_| phone.envelope(&payload(&phone.device_id, &id, north_of_center(0.0), &s)))
                .collect();
            let body = serde_json::to_vec(&CheckInBatch { envelopes }).unwrap();
            (Arc::new(phone), body)
        })
        .collect();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (phone, body) in bodies {
        let router = router.clone();
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            let r = send(
                &router,
                phone.request("POST", "/v1/checkins", body, "application/json"),
            )
            .await;
            assert_eq!(
                r.status,
                StatusCode::OK,
                "{}",
                String::from_utf8_lossy(&r.body)
            );
            t.elapsed()
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    for t in tasks {
        latencies.push(t.await.unwrap());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let n = devices * per_batch;
    assert_eq!(env.state.storage().checkin_count().unwrap() as usize, n);
    println!(
        "{n} check-ins from {devices} devices in batches of {per_batch}: {:.0}/s; request p50 {:?} p99 {:?} (all requests in flight at once)",
        n as f64 / elapsed.as_secs_f64(),
        latencies[latencies.len() / 2],
        latencies[latencies.len() * 99 / 100],
    );
}
