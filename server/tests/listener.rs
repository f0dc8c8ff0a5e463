//! Through real sockets: the `hadir-server` binary (admin CLI, `serve` printing its
//! address, restart on the same database) and the in-process `app` on a real listener
//! (overload answered with 503), driven by a real HTTP client (reqwest).

mod common;

use std::process::Command;

use common::live::*;
use common::*;
use hadir_core::api::{CheckInBatch, CheckInStatus};
use hadir_server::{AppState, app, now_ms};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_serves_enrolls_checks_in_and_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hadir.db");
    // Admin CLI.
    let demo_code = cli(&db, &["demo-setup"]).trim().to_string();
    assert!(demo_code.len() >= 8, "{demo_code}");
    let office = TestOffice::kominfo().cli_args();
    cli(&db, &office.iter().map(String::as_str).collect::<Vec<_>>());
    let zone = dir.path().join("zone.geojson");
    std::fs::write(
        &zone,
        r#"{"type":"Polygon","coordinates":[[[102.30,-3.80],[102.31,-3.80],[102.31,-3.81],[102.30,-3.81],[102.30,-3.80]]]}"#,
    )
    .unwrap();
    cli(
        &db,
        &[
            "office",
            "add",
            "--id",
            "bkd",
            "--name",
            "BKD",
            "--utc-offset-minutes",
            "420",
            "--polygon-file",
            zone.to_str().unwrap(),
        ],
    );
    cli(
        &db,
        &[
            "person", "add", "--kind", "nip", "--id", NIP_B, "--name", "Siti", "--office",
            "kominfo", "--office", "bkd",
        ],
    );
    // Supervisors, schedules and leave through the CLI, with the mistakes an admin
    // makes refused in words that say what to do.
    let err = cli_fails(
        &db,
        &[
            "office",
            "add",
            "--id",
            "x",
            "--name",
            "X",
            "--utc-offset-minutes",
            "7",
            "--lat",
            "-3.8",
            "--lon",
            "102.3",
            "--radius-m",
            "50",
        ],
    );
    assert!(err.contains("420 (WIB)"), "{err}");
    cli(
        &db,
        &[
            "person",
            "add",
            "--kind",
            "non-asn",
            "--id",
            "HON-001",
            "--name",
            "Rudi",
            "--office",
            "kominfo",
            "--supervisor",
            NIP_B,
        ],
    );
    // Added again without --supervisor (a name fix): still Siti's; `non-asn:` is
    // understood as well as `non_asn:`.
    let out = Command::new(BIN)
        .arg("--db")
        .arg(&db)
        .args([
            "person", "add", "--kind", "non-asn", "--id", "HON-001", "--name", "Rudi H.",
            "--office", "kominfo",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("supervised by {NIP_B}")),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Leave is a correction: it names its admin (HADIR_ADMIN, see `cli`).
    cli(
        &db,
        &[
            "admin",
            "init",
            "--person",
            TEST_ADMIN,
            "--name",
            "Admin BKPSDM",
        ],
    );
    cli(
        &db,
        &[
            "leave",
            "add",
            "--person",
            "non-asn:HON-001",
            "--kind",
            "dinas-luar",
            "--from",
            "2026-12-01",
            "--to",
            "2026-12-02",
            "--note",
            "ST 090/12",
        ],
    );
    let err = cli_fails(
        &db,
        &[
            "leave",
            "add",
            "--person",
            "non_asn:HON-001",
            "--kind",
            "cuti",
            "--from",
            "01-12-2026",
            "--to",
            "2026-12-02",
        ],
    );
    assert!(err.contains("YYYY-MM-DD"), "{err}");
    let err = cli_fails(
        &db,
        &[
            "person",
            "add",
            "--kind",
            "nip",
            "--id",
            NIP_A,
            "--name",
            "Budi",
            "--office",
            "kominfo",
            "--supervisor",
            "196001011990011001",
        ],
    );
    assert!(
        err.contains("--supervisor") && err.contains("add them first"),
        "{err}"
    );
    let err = cli_fails(
        &db,
        &[
            "leave",
            "add",
            "--person",
            "foo:1",
            "--kind",
            "cuti",
            "--from",
            "2026-12-01",
            "--to",
            "2026-12-01",
        ],
    );
    assert!(
        err.contains("kind:value with kind nip, ni_pppk or non_asn"),
        "{err}"
    );
    let schedule = dir.path().join("schedule.json");
    std::fs::write(
        &schedule,
        r#"{"week": {"Mon": [{"kind": "check_in", "at": "07:45"}]}}"#,
    )
    .unwrap();
    let err = cli_fails(
        &db,
        &[
            "office",
            "schedule",
            "--id",
            "kominfo",
            "--file",
            schedule.to_str().unwrap(),
        ],
    );
    assert!(err.contains("unknown key week.Mon"), "{err}");
    std::fs::write(
        &schedule,
        r#"{"week": {"mon": [{"kind": "check_in", "at": "07:45"}, {"kind": "check_out", "at": "16:00"}]}}"#,
    )
    .unwrap();
    cli(
        &db,
        &[
            "office",
            "schedule",
            "--id",
            "kominfo",
            "--file",
            schedule.to_str().unwrap(),
        ],
    );
    let err = cli_fails(
        &db,
        &[
            "enroll-code",
            "issue",
            "--person",
            NIP_B,
            "--valid-hours",
            "0",
        ],
    );
    assert!(err.contains("valid-hours"), "{err}");

    let code = cli(
        &db,
        &[
            "enroll-code",
            "issue",
            "--person",
            NIP_B,
            "--valid-hours",
            "1",
        ],
    )
    .trim()
    .to_string();
    assert_eq!(code.lines().count(), 1);

    let server = start(&db);
    let http = client();
    let t: serde_json::Value = http
        .get(format!("{}/v1/time", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!((t["server_time_ms"].as_i64().unwrap() - now_ms()).abs() < 5_000);

    // Enroll over HTTP.
    let person = nip(NIP_B);
    let (phone, enrolled) = server.enroll_with_code(&http, &code, &person).await;
    assert_eq!(
        enrolled["person"]["office_ids"],
        serde_json::json!(["kominfo", "bkd"])
    );

    // Selfie, check-in.
    let s = selfie(77, 1);
    assert_eq!(server.upload(&http, &phone, &s).await, 201);
    let envelope = phone.envelope(&payload(
        &phone.device_id,
        &person,
        north_of_center(0.0),
        &s,
    ));
    let first = submit(&http, &server.base, &phone, vec![envelope.clone()]).await;
    assert_eq!(first[0].status, CheckInStatus::Accepted, "{:?}", first[0]);

    // Restart on the same database: everything is still there.
    drop(server);
    let server = start(&db);
    let again = submit(&http, &server.base, &phone, vec![envelope]).await;
    assert_eq!(again, first);
    assert_eq!(server.upload(&http, &phone, &s).await, 200);
    let r = server
        .call(&http, &phone, "GET", "/v1/config", vec![])
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("etag"));
    let config: serde_json::Value = r.json().await.unwrap();
    assert_eq!(config["offices"].as_array().unwrap().len(), 2);

    // Revoked by the CLI while the server runs: refused from the very next request.
    cli(&db, &["device", "revoke", "--device", &phone.device_id]);
    let r = server
        .call(&http, &phone, "GET", "/v1/config", vec![])
        .await;
    assert_eq!(r.status(), 401);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["code"], "AUTH_DEVICE_REVOKED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_listener_sheds_load_with_503() {
    let env = Env::with(|c| {
        c.max_in_flight = 1;
        c.rate_limit_per_second = 0.0; // unlimited
    });
    let router = env.router();
    let phone = Phone::enrolled(&env, &router, &nip(NIP_A)).await;
    let s = selfie(3, 3);
    phone.upload(&router, &s).await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state: AppState = env.state.clone();
    tokio::spawn(async move { axum::serve(listener, app(state)).await.unwrap() });
    let base = format!("http://{addr}");
    let http = client();

    let health = http.get(format!("{base}/v1/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);

    let envelopes: Vec<_> = (0..50)
        .map(|_| {
            phone.envelope(&payload(
                &phone.device_id,
                &nip(NIP_A),
                north_of_center(0.0),
                &s,
            ))
        })
        .collect();
    let body = serde_json::to_vec(&CheckInBatch { envelopes }).unwrap();
    let phone = std::sync::Arc::new(phone);
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let (http, base, phone, body) = (http.clone(), base.clone(), phone.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            // A shed request is answered before its body is read, and the server then
            // closes the connection: the client may see that close instead of the 503.
            let Ok(r) = try_call(
                &http,
                &base,
                &phone,
                &phone.device_id,
                "POST",
                "/v1/checkins",
                body,
            )
            .await
            else {
                return (0, false, serde_json::Value::Null);
            };
            let status = r.status().as_u16();
            let retry = r.headers().get("retry-after").is_some();
            let json: serde_json::Value = r.json().await.unwrap();
            (status, retry, json)
        }));
    }
    let mut ok = 0;
    let mut shed = 0;
    for t in tasks {
        let (status, retry, json) = t.await.unwrap();
        match status {
            200 => ok += 1,
            503 => {
                assert!(retry);
                assert_eq!(json["code"], "OVERLOADED");
                shed += 1;
            }
            0 => shed += 1,
            other => panic!("unexpected {other}: {json}"),
        }
    }
    assert!(ok >= 1 && shed >= 1, "ok {ok}, shed {shed}");
    // Every accepted batch stored the same 50 check-ins exactly once.
    assert_eq!(env.state.storage().checkin_count().unwrap(), 50);
}

/// Phones read `AttendanceKind::Unknown` from a newer server; as input the server
/// refuses it exactly as before that variant existed: over a real socket, a signed
/// check-in of a kind this build does not know is rejected with `PAYLOAD_INVALID`
/// naming the kind, and nothing is stored; an admin's schedule with one is refused
/// with `SCHEDULE_UNKNOWN_KIND`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attendance_kind_the_server_does_not_know_is_refused_as_input() {
    let env = Env::new();
    let router = env.router();
    let phone = Phone::enrolled(&env, &router, &nip(NIP_A)).await;
    let s = selfie(5, 5);
    phone.upload(&router, &s).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state: AppState = env.state.clone();
    tokio::spawn(async move { axum::serve(listener, app(state)).await.unwrap() });
    let http = client();

    let checkin = || payload(&phone.device_id, &nip(NIP_A), north_of_center(0.0), &s);
    for kind in ["overtime_start", "unknown"] {
        let envelope = phone.envelope_edited(&checkin(), |v| v["kind"] = kind.into());
        let result = &submit(&http, &base, &phone, vec![envelope]).await[0];
        assert_eq!(result.status, CheckInStatus::Rejected, "{kind}: {result:?}");
        assert_eq!(result.codes, ["PAYLOAD_INVALID"], "{kind}");
    }
    assert_eq!(env.state.storage().checkin_count().unwrap(), 0);

    // A known kind on the same path is accepted: the refusal above is the kind's.
    let results = submit(&http, &base, &phone, vec![phone.envelope(&checkin())]).await;
    assert!(results[0].status.counts_as_attendance(), "{results:?}");

    let db = env.dir.path().join("cli.db");
    let office = TestOffice::kominfo().cli_args();
    cli(&db, &office.iter().map(String::as_str).collect::<Vec<_>>());
    let schedule = env.dir.path().join("schedule.json");
    std::fs::write(
        &schedule,
        r#"{"week": {"mon": [{"kind": "check_in", "at": "07:30"}, {"kind": "apel", "at": "07:35"}]}}"#,
    )
    .unwrap();
    let err = cli_fails(
        &db,
        &[
            "office",
            "schedule",
            "--id",
            OFFICE,
            "--file",
            schedule.to_str().unwrap(),
        ],
    );
    assert!(err.contains("SCHEDULE_UNKNOWN_KIND"), "{err}");
}
