//! The endpoints of `docs/PROTOCOL.md`. Every handler that does real work (signature
//! checks, JSON of a whole batch, JPEG decoding, storage) runs it on the blocking pool,
//! so the async workers only move bytes.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hadir_core::api::{
    CheckInBatchResponse, CheckInResult, CheckInStatus, DeviceConfig, DevicePerson, EnrollRequest,
    EnrollResponse, MAX_BATCH, PhoneSuspension, SelfieStored, ServerTime,
};
use hadir_core::attestation::attestation_challenge;
use hadir_core::auth::ENROLL_DEVICE;
use hadir_core::envelope::{base64_decode, check_public_key, key_id};
use hadir_core::geofence::Office;
use hadir_core::photo::{SelfieLimits, inspect_normalised_selfie, sha256_hex};
use hadir_core::roster;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::attestation::{self, AttestationVerdict};
use crate::auth::{
    BATCH_LIMIT, RawSigned, SELFIE_LIMIT, SMALL_LIMIT, Signed, check_window, verify_request,
};
use crate::directory::DeviceEntry;
use crate::error::AppError;
use crate::storage::{EnrollRefusal, NewEnrollment, SelfieMeta, person_key};
use crate::verify::{Prepared, prepare};
use crate::{AppState, OPENAPI_JSON, admin};

/// Parses JSON; the error names the field (`envelopes[3]: invalid type ...`) and the
/// position. Unknown fields are ignored (the rule for HTTP bodies).
pub fn parse_json<'de, T: serde::Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "(body)".to_string()
        } else {
            path
        };
        format!("{field}: {}", e.inner())
    })?;
    de.end().map_err(|e| format!("(body): {e}"))?;
    Ok(value)
}

/// Owned variant of [`parse_json`].
pub fn parse_json_owned<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    parse_json(bytes)
}

/// `GET /v1/time`.
pub async fn time(State(state): State<AppState>) -> Json<ServerTime> {
    Json(ServerTime {
        server_time_ms: state.now_ms(),
    })
}

/// `GET /v1/health`: the process answers.
pub async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// `GET /v1/ready`: the database answers.
pub async fn ready(State(state): State<AppState>) -> Result<Json<serde_json::Value>, AppError> {
    let st = state.clone();
    tokio::task::spawn_blocking(move || st.storage().ping())
        .await?
        .map_err(|e| AppError::NotReady(e.to_string()))?;
    Ok(Json(serde_json::json!({ "status": "ready" })))
}

/// `GET /v1/openapi.json`.
pub async fn openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI_JSON,
    )
        .into_response()
}

/// Any other path.
pub async fn not_found() -> AppError {
    AppError::NotFound
}

/// `POST /v1/enroll`.
pub async fn enroll(
    State(state): State<AppState>,
    raw: RawSigned<SMALL_LIMIT>,
) -> Result<Json<EnrollResponse>, AppError> {
    let st = state.clone();
    Ok(Json(
        tokio::task::spawn_blocking(move || st.enroll(raw)).await??,
    ))
}

fn bad_enroll(detail: impl Into<String>) -> AppError {
    AppError::EnrollBadRequest {
        message: "Data pendaftaran tidak valid. Periksa kembali isian Anda.".into(),
        detail: detail.into(),
    }
}

impl AppState {
    /// The blocking part of `POST /v1/enroll`.
    pub fn enroll(&self, raw: RawSigned<SMALL_LIMIT>) -> Result<EnrollResponse, AppError> {
        let h = &raw.headers;
        if h.device != ENROLL_DEVICE {
            return Err(AppError::AuthMissing(format!(
                "header hadir-device must be {ENROLL_DEVICE:?} for an enrollment"
            )));
        }
        let req: EnrollRequest = parse_json(&raw.body).map_err(bad_enroll)?;
        let public_key = base64_decode(&req.public_key)
            .map_err(|_| bad_enroll("public_key: not standard base64"))?;
        check_public_key(&public_key)
            .map_err(|_| bad_enroll("public_key: must be a 65-byte uncompressed P-256 point"))?;
        check_window(h.timestamp_ms, self.now_ms())?;
        verify_request(h, &raw.method, &raw.path_and_query, &raw.body, &public_key)?;
        let key_label = format!("enroll:{}", key_id(&public_key));
        self.nonces().check_and_insert(&key_label, &h.nonce)?;
        self.limiter().check(&key_label)?;
        req.device_label
            .validate()
            .map_err(|e| AppError::EnrollBadRequest {
                message: e.message(),
                detail: format!("device_label: {e}"),
            })?;
        if req.platform.is_empty()
            || req.platform.len() > 16
            || !req
                .platform
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(bad_enroll("platform: 1–16 characters of a-z, 0-9, - or _"));
        }
        if req.app_version.len() > 64 {
            return Err(bad_enroll("app_version: at most 64 characters"));
        }
        // Before the code is consumed: a refused attestation leaves it usable.
        let statuses = if req.attestation.is_empty() {
            crate::attestation_status::StatusList::none()
        } else {
            let statuses = self
                .storage()
                .status_list(Some(&attestation::chain_serials(&req.attestation)))?;
            if let Some(warning) = statuses.staleness(self.now_ms()) {
                tracing::warn!(%warning, "enrollment judged without a fresh status list");
            }
            statuses
        };
        let attestation = match attestation::judge(
            &req.attestation,
            &public_key,
            &attestation_challenge(&req.enrollment_code),
            self.attestation_roots(),
            &statuses,
        ) {
            AttestationVerdict::Accepted(a) => a,
            AttestationVerdict::Mismatch(detail) => {
                tracing::warn!(person = %req.person, %detail, "enrollment attestation refused");
                return Err(AppError::EnrollAttestationMismatch(detail));
            }
        };
        let attestation_level = attestation.level;
        let outcome = self.storage().enroll(NewEnrollment {
            code_hash: admin::code_hash(&req.enrollment_code),
            person: req.person.clone(),
            public_key,
            label: req.device_label.clone(),
            platform: req.platform.clone(),
            app_version: req.app_version.clone(),
            new_device_id: admin::new_device_id(),
            now_ms: self.now_ms(),
            attestation,
        })?;
        let enrolled = match outcome {
            Ok(e) => e,
            Err(EnrollRefusal::CodeInvalid) => return Err(AppError::EnrollCodeInvalid),
            Err(EnrollRefusal::AlreadyOnDevice) => return Err(AppError::EnrollAlreadyOnDevice),
            Err(EnrollRefusal::DeviceRevoked) => return Err(AppError::AuthDeviceRevoked),
        };
        let device_id = enrolled.device.device_id.clone();
        self.directory()
            .apply_enrollment(enrolled.device, enrolled.version);
        let key = person_key(&req.person);
        let mut statics = self.directory().statics();
        if !statics.people.contains_key(&key) {
            // Registered by the CLI since the last refresh.
            self.directory().refresh_now(self.storage().as_ref());
            statics = self.directory().statics();
        }
        let (display_name, office_ids) = statics
            .people
            .get(&key)
            .map(|p| (p.display_name.clone(), p.office_ids.clone()))
            .unwrap_or_default();
        tracing::info!(
            device = %device_id,
            owner = enrolled.is_owner,
            attestation = %attestation_level,
            "device enrolled"
        );
        Ok(EnrollResponse {
            device_id,
            person: DevicePerson {
                is_supervisor: roster::is_supervisor(
                    enrolled.is_owner,
                    statics.direct_reports(&key),
                ),
                person: req.person,
                phone_suspended: statics
                    .people
                    .get(&key)
                    .and_then(|p| statics.phone_suspension(p))
                    .map(phone_suspension),
                display_name,
                office_ids,
                is_device_owner: enrolled.is_owner,
            },
        })
    }

    /// The configuration for a device and its ETag (over everything but the time).
    pub fn device_config(&self, device: &DeviceEntry) -> (DeviceConfig, String) {
        let statics = self.directory().statics();
        let mut offices: Vec<Office> = Vec::new();
        let mut people = Vec::new();
        let mut schedules = std::collections::BTreeMap::new();
        for (member, person) in self.directory().members(device) {
            for id in &person.office_ids {
                if !offices.iter().any(|o| &o.id == id)
                    && let Some(o) = statics.geofence.office(id)
                {
                    offices.push(o.clone());
                    schedules.insert(id.clone(), statics.schedule(id));
                }
            }
            people.push(DevicePerson {
                is_supervisor: roster::is_supervisor(
                    member.is_owner,
                    statics.direct_reports(&member.person_key),
                ),
                phone_suspended: statics.phone_suspension(&person).map(phone_suspension),
                person: person.id,
                display_name: person.display_name,
                office_ids: person.office_ids,
                is_device_owner: member.is_owner,
            });
        }
        let policy = self.config().policy.clone();
        let tag_input =
            serde_json::to_vec(&(&device.device_id, &offices, &people, &policy, &schedules))
                .expect("config serialises");
        let etag = format!("\"{}\"", &sha256_hex(&tag_input)[..32]);
        (
            DeviceConfig {
                device_id: device.device_id.clone(),
                offices,
                people,
                policy,
                schedules,
                server_time_ms: self.now_ms(),
            },
            etag,
        )
    }

    /// The blocking part of `PUT /v1/selfies/{sha256}`.
    pub fn store_selfie(
        &self,
        sha256: &str,
        device: &DeviceEntry,
        body: &[u8],
    ) -> Result<SelfieStored, AppError> {
        if sha256.len() != 64
            || !sha256
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            let shown: String = sha256.chars().take(80).collect();
            return Err(AppError::SelfieBadHash(format!(
                "path: {shown:?} ({} characters) is not a SHA-256: write 64 lowercase hex \
                 digits",
                sha256.chars().count()
            )));
        }
        let computed = sha256_hex(body);
        if computed != sha256 {
            return Err(AppError::SelfieHashMismatch { computed });
        }
        if self.storage().selfie(sha256)?.is_some() {
            // Known; make sure the bytes are there too (a store wiped by hand).
            if !self.selfies().contains(sha256).map_err(internal)? {
                self.selfies().put(sha256, body).map_err(internal)?;
            }
            return Ok(SelfieStored {
                sha256: computed,
                created: false,
            });
        }
        let limits = SelfieLimits {
            max_bytes: SELFIE_LIMIT,
            ..SelfieLimits::default()
        };
        let evidence =
            inspect_normalised_selfie(body, &limits).map_err(|e| AppError::SelfieInvalid {
                message: e.staff_message(),
                detail: format!("{}: {e}", e.code()),
            })?;
        self.selfies().put(sha256, body).map_err(internal)?;
        let created = self.storage().put_selfie(SelfieMeta {
            sha256: computed.clone(),
            phash: evidence.perceptual_hash,
            bytes: body.len() as u64,
            width: evidence.width,
            height: evidence.height,
            uploaded_by: device.device_id.clone(),
            uploaded_ms: self.now_ms(),
        })?;
        Ok(SelfieStored {
            sha256: computed,
            created,
        })
    }

    /// The blocking part of `POST /v1/checkins`.
    pub fn ingest_batch(
        &self,
        device: &DeviceEntry,
        body: &[u8],
    ) -> Result<CheckInBatchResponse, AppError> {
        #[derive(serde::Deserialize)]
        struct RawBatch<'a> {
            #[serde(borrow)]
            envelopes: Vec<&'a RawValue>,
        }
        let batch: RawBatch<'_> = parse_json(body).map_err(AppError::BadJson)?;
        if batch.envelopes.len() > MAX_BATCH {
            return Err(AppError::BatchTooLarge {
                count: batch.envelopes.len(),
                limit: MAX_BATCH,
            });
        }
        let received_ms = self.now_ms();
        let statics = self.directory().statics();
        let policy = &self.config().policy;
        let time_rules = self.time_rules();
        let mut slots: Vec<Option<CheckInResult>> = vec![None; batch.envelopes.len()];
        let mut positions = Vec::new();
        let mut ready = Vec::new();
        for (i, raw) in batch.envelopes.iter().enumerate() {
            match prepare(
                raw.get(),
                device,
                &statics,
                policy,
                received_ms,
                &time_rules,
            ) {
                Prepared::Done(r) => slots[i] = Some(r),
                Prepared::Ready(p) => {
                    positions.push(i);
                    ready.push(*p);
                }
            }
        }
        let people: Vec<String> = ready.iter().map(|p| p.person_key.clone()).collect();
        let decided = self.storage().ingest(ready, policy)?;
        self.live()
            .wake(&statics, people.iter().map(String::as_str));
        for (pos, r) in positions.into_iter().zip(decided) {
            slots[pos] = Some(r);
        }
        let results: Vec<CheckInResult> = slots.into_iter().flatten().collect();
        let count = |s: CheckInStatus| results.iter().filter(|r| r.status == s).count();
        tracing::debug!(
            device = %device.device_id,
            accepted = count(CheckInStatus::Accepted),
            flagged = count(CheckInStatus::AcceptedWithFlags),
            rejected = count(CheckInStatus::Rejected),
            retry_later = count(CheckInStatus::RetryLater),
            "batch decided"
        );
        Ok(CheckInBatchResponse { results })
    }
}

fn internal(e: std::io::Error) -> AppError {
    AppError::Internal(format!("selfie store: {e}"))
}

fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    if_none_match.split(',').any(|t| {
        let t = t.trim();
        t == "*" || t.trim_start_matches("W/") == etag
    })
}

/// `GET /v1/config` (ETag / If-None-Match → 304).
pub async fn config(
    State(state): State<AppState>,
    headers: HeaderMap,
    signed: Signed<SMALL_LIMIT>,
) -> Response {
    let (config, etag) = state.device_config(&signed.device);
    let tag = HeaderValue::from_str(&etag).expect("a hex etag is a valid header");
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| etag_matches(v, &etag))
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, tag)]).into_response();
    }
    ([(header::ETAG, tag)], Json(config)).into_response()
}

/// `PUT /v1/selfies/{sha256}`: 201 when stored now, 200 when already there.
pub async fn put_selfie(
    State(state): State<AppState>,
    sha256: Result<Path<String>, PathRejection>,
    signed: Signed<SELFIE_LIMIT>,
) -> Result<(StatusCode, Json<SelfieStored>), AppError> {
    let Path(sha256) =
        sha256.map_err(|e| AppError::SelfieBadHash(format!("path: {}", e.body_text())))?;
    let st = state.clone();
    let stored =
        tokio::task::spawn_blocking(move || st.store_selfie(&sha256, &signed.device, &signed.body))
            .await??;
    let status = if stored.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(stored)))
}

/// `POST /v1/checkins`.
pub async fn checkins(
    State(state): State<AppState>,
    signed: Signed<BATCH_LIMIT>,
) -> Result<Json<CheckInBatchResponse>, AppError> {
    let st = state.clone();
    Ok(Json(
        tokio::task::spawn_blocking(move || st.ingest_batch(&signed.device, &signed.body))
            .await??,
    ))
}

/// The wire form of a switch in force.
fn phone_suspension(freeze: &crate::storage::month_tables::Freeze) -> PhoneSuspension {
    PhoneSuspension {
        since_ms: freeze.since_ms,
        reason: freeze.reason.clone(),
    }
}
