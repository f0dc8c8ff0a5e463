//! Test harness for the kiosk browser test (`tests/kiosk/kiosk.test.mjs`): a real
//! hadir-server (the library's [`app`] over a real SQLite file, on 127.0.0.1) whose
//! clock is a [`ManualClock`] the test moves through stdin. Never shipped: the
//! `hadir-server` binary runs on the system clock and has no way to set it.
//!
//! On start it makes an office that requires its QR, enrolls a kiosk (and a second one
//! it revokes) and a phone, starts listening, and prints one JSON line:
//! `{"url", "credential", "revoked_credential", "now_ms"}`. Then, one command per stdin
//! line, one JSON line of answer each:
//!
//! * `advance MS`: moves the server clock; answers `{"now_ms"}`.
//! * `checkin TOKEN` (or `checkin -` for none): the phone checks in at the office
//!   centre, at the server clock's now, with that token; answers the check-in result.
//! * `stop` / `start`: closes the listener / listens again on the same port (the page's
//!   "server down" and its recovery); answers `{"listening": bool}`.
//!
//! ```text
//! cargo run -p hadir-server --example kiosk_harness
//! ```

use std::io::BufRead as _;
use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use hadir_core::api::{CheckInBatch, CheckInBatchResponse, EnrollResponse};
use hadir_core::auth::new_nonce;
use hadir_core::envelope::{DeviceKey, SoftwareDeviceKey};
use hadir_core::geofence::Office;
use hadir_server::clock::{Clock, ManualClock};
use hadir_server::storage::PersonRecord;
use hadir_server::{AppState, ServerConfig, admin, app, kiosk};
use hadir_test_support as ts;
use serde_json::json;
use tower::ServiceExt as _;

/// 2025-12-01 08:00:10 WIB: the harness's clock starts here, 10 s into a window.
const START_MS: i64 = 1_764_550_810_000;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// A signed request by `key` as `device`, at the server clock's now.
fn signed(
    key: &dyn DeviceKey,
    device: &str,
    method: &str,
    path: &str,
    body: Vec<u8>,
    content_type: &str,
    now_ms: i64,
) -> Request<Body> {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type);
    for (k, v) in ts::signed_headers(key, device, method, path, &body, now_ms, &new_nonce()) {
        b = b.header(k, v);
    }
    b.body(Body::from(body)).expect("a valid request")
}

async fn call(state: &AppState, req: Request<Body>) -> Result<(u16, Vec<u8>), Error> {
    let response = app(state.clone()).oneshot(req).await?;
    let status = response.status().as_u16();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
    Ok((status, body.to_vec()))
}

struct Phone {
    key: SoftwareDeviceKey,
    device_id: String,
    selfies: u64,
}

impl Phone {
    async fn enroll(state: &AppState, clock: &ManualClock) -> Result<Phone, Error> {
        let key = SoftwareDeviceKey::generate()?;
        let person = ts::nip(ts::NIP_A);
        let code = admin::issue_code(state.storage().as_ref(), &person, 72)?;
        let body = ts::enroll_request(&key, &code, &person, ts::imei_label());
        let req = signed(
            &key,
            "enroll",
            "POST",
            "/v1/enroll",
            body,
            "application/json",
            clock.now_ms(),
        );
        let (status, body) = call(state, req).await?;
        if status != 200 {
            return Err(format!("enroll: {status} {}", String::from_utf8_lossy(&body)).into());
        }
        let enrolled: EnrollResponse = serde_json::from_slice(&body)?;
        Ok(Phone {
            key,
            device_id: enrolled.device_id,
            selfies: 0,
        })
    }

    /// Uploads a fresh selfie and checks in at the office centre, now, with `token`.
    async fn check_in(
        &mut self,
        state: &AppState,
        now_ms: i64,
        token: Option<String>,
    ) -> Result<serde_json::Value, Error> {
        self.selfies += 1;
        let selfie = ts::selfie(self.selfies, 0);
        let path = format!("/v1/selfies/{}", selfie.sha256_hex());
        let put = signed(
            &self.key,
            &self.device_id,
            "PUT",
            &path,
            selfie.jpeg.clone(),
            "image/jpeg",
            now_ms,
        );
        let (status, body) = call(state, put).await?;
        if !(200..300).contains(&status) {
            return Err(format!("upload: {status} {}", String::from_utf8_lossy(&body)).into());
        }
        let mut payload = ts::checkin_payload(
            &self.device_id,
            &ts::nip(ts::NIP_A),
            ts::fix_at(
                (ts::CENTER.latitude, ts::CENTER.longitude),
                10.0,
                now_ms - 3_000,
            ),
            &selfie,
            ts::anchored_time(now_ms, 0),
        );
        payload.qr_token = token;
        // Cite an anchor this server signed, as a phone does after `POST /v1/anchors`.
        ts::seal_anchor(&mut payload, &state.storage().anchor_secret()?);
        let batch = CheckInBatch {
            envelopes: vec![ts::sign_checkin(&self.key, &payload)],
        };
        let post = signed(
            &self.key,
            &self.device_id,
            "POST",
            "/v1/checkins",
            serde_json::to_vec(&batch)?,
            "application/json",
            now_ms,
        );
        let (status, body) = call(state, post).await?;
        if status != 200 {
            return Err(format!("checkins: {status} {}", String::from_utf8_lossy(&body)).into());
        }
        let mut answer: CheckInBatchResponse = serde_json::from_slice(&body)?;
        Ok(serde_json::to_value(answer.results.remove(0))?)
    }
}

/// The office, people, kiosks and phone of the scene; returns (credential, revoked one).
fn set_up(state: &AppState) -> Result<(String, String), Error> {
    let storage = state.storage().as_ref();
    let o = ts::TestOffice::kominfo();
    admin::add_office(
        storage,
        Office {
            qr_required: true,
            ..admin::circle_office(
                o.id,
                o.name,
                o.utc_offset_minutes,
                o.center,
                o.radius_m,
                o.max_accuracy_m,
            )
        },
    )?;
    for p in &ts::TEST_PEOPLE {
        admin::add_person(
            storage,
            PersonRecord {
                id: p.person_id(),
                display_name: p.name.into(),
                office_ids: vec![ts::OFFICE.into()],
                supervisor: None,
            },
        )?;
    }
    let (_, credential) = kiosk::enroll_kiosk(storage, ts::OFFICE, "lobi")?;
    let (revoked, revoked_credential) = kiosk::enroll_kiosk(storage, ts::OFFICE, "gudang")?;
    storage.revoke_kiosk(&revoked.kiosk_id, state.now_ms())?;
    Ok((credential, revoked_credential))
}

/// Serves `state` on `addr` until `stop` fires.
async fn listen(
    state: AppState,
    addr: std::net::SocketAddr,
) -> Result<tokio::sync::oneshot::Sender<()>, Error> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app(state))
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    Ok(stop)
}

fn say(v: serde_json::Value) {
    println!("{v}");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Error> {
    let dir = tempfile::tempdir()?;
    let config = ServerConfig {
        db: dir.path().join("hadir.db"),
        selfie_dir: Some(dir.path().join("selfies")),
        directory_refresh_ms: 0,
        ..ServerConfig::default()
    };
    let clock = ManualClock::starting_at(START_MS);
    let state = {
        let (config, clock) = (config.clone(), clock.clone() as Arc<dyn Clock>);
        tokio::task::spawn_blocking(move || AppState::open_with_clock(&config, clock)).await??
    };
    let (credential, revoked_credential) = {
        let state = state.clone();
        tokio::task::spawn_blocking(move || set_up(&state)).await??
    };
    let mut phone = Phone::enroll(&state, &clock).await?;

    // Bind once to learn a free port, then serve on it (stop/start reuse it).
    let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let mut running = Some(listen(state.clone(), addr).await?);
    say(json!({
        "url": format!("http://{addr}"),
        "credential": credential,
        "revoked_credential": revoked_credential,
        "now_ms": clock.now_ms(),
    }));

    let (lines_tx, mut lines) = tokio::sync::mpsc::channel::<String>(8);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if lines_tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    while let Some(line) = lines.recv().await {
        let (command, arg) = line.trim().split_once(' ').unwrap_or((line.trim(), ""));
        match command {
            "advance" => {
                clock.advance(arg.trim().parse()?);
                say(json!({ "now_ms": clock.now_ms() }));
            }
            "checkin" => {
                let token = (arg.trim() != "-").then(|| arg.trim().to_string());
                say(phone.check_in(&state, clock.now_ms(), token).await?);
            }
            "stop" => {
                if let Some(stop) = running.take() {
                    let _ = stop.send(());
                }
                // Wait until the port refuses connections, so the page sees it down.
                while tokio::net::TcpStream::connect(addr).await.is_ok() {
                    tokio::task::yield_now().await;
                }
                say(json!({ "listening": false }));
            }
            "start" => {
                if running.is_none() {
                    running = Some(listen(state.clone(), addr).await?);
                }
                say(json!({ "listening": true }));
            }
            "" => {}
            other => return Err(format!("unknown command {other:?}").into()),
        }
    }
    Ok(())
}
