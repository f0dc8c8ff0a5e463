//! Request authentication (see `core/src/auth.rs` and `docs/PROTOCOL.md`): the
//! [`Signed`] extractor reads the four `Hadir-*` headers, buffers the body up to the
//! route's limit, checks the device, the ±5 min window against the server clock, the
//! signature (on the blocking pool) and the nonce, then the device's rate limit. A
//! handler that takes `Signed<LIMIT>` gets the verified device and the exact bytes.
//!
//! Enrollment has no device yet: [`RawSigned`] only reads headers and body, and the
//! enroll handler verifies with the key in the body (proof of possession) through
//! [`check_window`], [`verify_request`] and [`NonceCache::check_and_insert`].

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::HeaderMap;
use hadir_core::auth::{
    HEADER_DEVICE, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP, REQUEST_WINDOW_MS,
    RequestToSign, nonce_well_formed,
};

use crate::AppState;
use crate::directory::DeviceEntry;
use crate::error::AppError;

/// Body limit of a selfie upload.
pub const SELFIE_LIMIT: usize = 2 * 1024 * 1024;
/// Body limit of a check-in batch.
pub const BATCH_LIMIT: usize = 1024 * 1024;
/// Body limit of every other request.
pub const SMALL_LIMIT: usize = 64 * 1024;

/// The four signature headers, parsed.
#[derive(Debug, Clone)]
pub struct AuthHeaders {
    /// `Hadir-Device`.
    pub device: String,
    /// `Hadir-Timestamp`.
    pub timestamp_ms: i64,
    /// `Hadir-Nonce`.
    pub nonce: String,
    /// `Hadir-Signature`.
    pub signature: String,
}

impl AuthHeaders {
    /// Parses the headers; `AUTH_MISSING` names the one at fault.
    pub fn parse(headers: &HeaderMap) -> Result<Self, AppError> {
        let get = |name: &str| -> Result<String, AppError> {
            let v = headers
                .get(name)
                .ok_or_else(|| AppError::AuthMissing(format!("header {name} is missing")))?;
            let s = v
                .to_str()
                .map_err(|_| AppError::AuthMissing(format!("header {name} is not ASCII")))?
                .trim();
            if s.is_empty() || s.len() > 256 {
                return Err(AppError::AuthMissing(format!(
                    "header {name} is empty or too long"
                )));
            }
            Ok(s.to_string())
        };
        let device = get(HEADER_DEVICE)?;
        let timestamp_ms = get(HEADER_TIMESTAMP)?.parse::<i64>().map_err(|_| {
            AppError::AuthMissing(format!("header {HEADER_TIMESTAMP} is not Unix ms"))
        })?;
        let nonce = get(HEADER_NONCE)?;
        if !nonce_well_formed(&nonce) {
            return Err(AppError::AuthMissing(format!(
                "header {HEADER_NONCE} must be 32 lowercase hex digits"
            )));
        }
        let signature = get(HEADER_SIGNATURE)?;
        Ok(AuthHeaders {
            device,
            timestamp_ms,
            nonce,
            signature,
        })
    }
}

/// Reads a body up to `limit` bytes (413 `BODY_TOO_LARGE` beyond).
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, AppError> {
    if let Some(len) = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > limit as u64
    {
        return Err(AppError::BodyTooLarge { limit });
    }
    match axum::body::to_bytes(body, limit).await {
        Ok(b) => Ok(b),
        Err(e) => {
            let inner = e.into_inner();
            if inner
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                Err(AppError::BodyTooLarge { limit })
            } else {
                Err(AppError::BodyUnreadable(inner.to_string()))
            }
        }
    }
}

/// Refuses a timestamp more than [`REQUEST_WINDOW_MS`] from `now_ms`.
pub fn check_window(timestamp_ms: i64, now_ms: i64) -> Result<(), AppError> {
    if (timestamp_ms.saturating_sub(now_ms)).abs() > REQUEST_WINDOW_MS {
        return Err(AppError::AuthClockWindow {
            server_time_ms: now_ms,
        });
    }
    Ok(())
}

/// Verifies the request signature with `public_key`.
pub fn verify_request(
    h: &AuthHeaders,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    public_key: &[u8],
) -> Result<(), AppError> {
    RequestToSign {
        method,
        path_and_query,
        timestamp_ms: h.timestamp_ms,
        nonce: &h.nonce,
        device: &h.device,
        body,
    }
    .verify(public_key, &h.signature)
    .map_err(|_| AppError::AuthBadSignature)
}

/// A request whose signature headers and body were read but not yet verified (for
/// enrollment, where the key is in the body).
#[derive(Debug)]
pub struct RawSigned<const LIMIT: usize> {
    /// The parsed headers.
    pub headers: AuthHeaders,
    /// Method, upper case.
    pub method: String,
    /// Path and query as sent.
    pub path_and_query: String,
    /// The body bytes.
    pub body: Bytes,
}

impl<const LIMIT: usize> FromRequest<AppState> for RawSigned<LIMIT> {
    type Rejection = AppError;

    async fn from_request(req: Request, _state: &AppState) -> Result<Self, AppError> {
        let (parts, body) = req.into_parts();
        let headers = AuthHeaders::parse(&parts.headers)?;
        let body = read_body(&parts.headers, body, LIMIT).await?;
        Ok(RawSigned {
            headers,
            method: parts.method.as_str().to_string(),
            path_and_query: parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| parts.uri.path().to_string()),
            body,
        })
    }
}

/// A request verified as coming from an enrolled, non-revoked device.
#[derive(Debug)]
pub struct Signed<const LIMIT: usize> {
    /// The device (as cached).
    pub device: Arc<DeviceEntry>,
    /// The exact body bytes the signature covers.
    pub body: Bytes,
}

impl<const LIMIT: usize> FromRequest<AppState> for Signed<LIMIT> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, AppError> {
        let raw = RawSigned::<LIMIT>::from_request(req, state).await?;
        let st = state.clone();
        tokio::task::spawn_blocking(move || st.authenticate(raw)).await?
    }
}

impl AppState {
    /// The blocking half of [`Signed`]: device (cached flag), window, signature,
    /// revocation (database), nonce, rate.
    pub fn authenticate<const LIMIT: usize>(
        &self,
        raw: RawSigned<LIMIT>,
    ) -> Result<Signed<LIMIT>, AppError> {
        self.refresh_directory();
        let h = &raw.headers;
        let device = self
            .directory()
            .device(&h.device)
            .ok_or(AppError::AuthUnknownDevice)?;
        // The cached flag costs nothing; it answers most revoked devices at once.
        if device.revoked {
            return Err(AppError::AuthDeviceRevoked);
        }
        check_window(h.timestamp_ms, self.now_ms())?;
        verify_request(
            h,
            &raw.method,
            &raw.path_and_query,
            &raw.body,
            &device.public_key,
        )?;
        // The cache may be up to a refresh behind an admin's `device revoke`; the
        // database is not, so a revocation holds from the very next request. Read only
        // once the signature holds: an unauthenticated request costs no database read
        // and cannot learn whether a device id was revoked.
        if self.storage().device_revoked(&h.device)? != Some(false) {
            return Err(AppError::AuthDeviceRevoked);
        }
        self.nonces().check_and_insert(&h.device, &h.nonce)?;
        self.limiter().check(&h.device)?;
        Ok(Signed {
            device,
            body: raw.body,
        })
    }
}

struct NonceShard {
    seen: HashSet<(Box<str>, Box<str>)>,
    order: VecDeque<(Instant, Box<str>, Box<str>)>,
}

/// Nonces seen within the window, per device. An entry is kept for two windows after
/// it was seen (a replay carrying the same timestamp is then outside the window anyway).
/// Memory is bounded: beyond `max` live entries new requests get 503 OVERLOADED rather
/// than a nonce being forgotten early. The cache is in memory: after a restart, a replay
/// within 5 minutes would pass authentication, which is harmless because every write is
/// idempotent (check-ins by id, selfies by hash) and enrollment codes are single-use.
pub struct NonceCache {
    shards: Vec<Mutex<NonceShard>>,
    max_per_shard: usize,
    keep: std::time::Duration,
}

impl std::fmt::Debug for NonceCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NonceCache").finish_non_exhaustive()
    }
}

const NONCE_SHARDS: usize = 16;

impl NonceCache {
    /// A cache holding at most `max` nonces.
    pub fn new(max: usize) -> Self {
        NonceCache {
            shards: (0..NONCE_SHARDS)
                .map(|_| {
                    Mutex::new(NonceShard {
                        seen: HashSet::new(),
                        order: VecDeque::new(),
                    })
                })
                .collect(),
            max_per_shard: max.div_ceil(NONCE_SHARDS).max(1),
            keep: std::time::Duration::from_millis(2 * REQUEST_WINDOW_MS as u64),
        }
    }

    /// Records the nonce; `AUTH_NONCE_REUSED` if it was seen for this device.
    pub fn check_and_insert(&self, device: &str, nonce: &str) -> Result<(), AppError> {
        let idx = nonce
            .bytes()
            .take(4)
            .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize))
            % NONCE_SHARDS;
        let mut shard = self.shards[idx].lock().expect("nonce lock");
        let now = Instant::now();
        while let Some((seen_at, _, _)) = shard.order.front() {
            if now.duration_since(*seen_at) < self.keep {
                break;
            }
            let (_, d, n) = shard.order.pop_front().expect("front exists");
            shard.seen.remove(&(d, n));
        }
        let key: (Box<str>, Box<str>) = (device.into(), nonce.into());
        if shard.seen.contains(&key) {
            return Err(AppError::AuthNonceReused);
        }
        if shard.seen.len() >= self.max_per_shard {
            return Err(AppError::Overloaded { retry_after_s: 5 });
        }
        shard.order.push_back((now, key.0.clone(), key.1.clone()));
        shard.seen.insert(key);
        Ok(())
    }
}

/// Per-device token buckets (429 `RATE_LIMITED` with `Retry-After`).
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("per_second", &self.per_second)
            .field("burst", &self.burst)
            .finish()
    }
}

/// Buckets kept before idle (full) ones are dropped.
const MAX_BUCKETS: usize = 100_000;

impl RateLimiter {
    /// `per_second` tokens refill, up to `burst`.
    pub fn new(per_second: f64, burst: u32) -> Self {
        RateLimiter {
            per_second: if per_second.is_finite() && per_second > 0.0 {
                per_second
            } else {
                f64::INFINITY
            },
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`.
    pub fn check(&self, key: &str) -> Result<(), AppError> {
        if self.per_second.is_infinite() {
            return Ok(());
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().expect("rate lock");
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(key) {
            let (rate, burst) = (self.per_second, self.burst);
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * rate < burst
            });
        }
        let (tokens, at) = buckets.entry(key.to_string()).or_insert((self.burst, now));
        let refilled =
            (*tokens + now.duration_since(*at).as_secs_f64() * self.per_second).min(self.burst);
        *at = now;
        if refilled >= 1.0 {
            *tokens = refilled - 1.0;
            Ok(())
        } else {
            *tokens = refilled;
            let wait = ((1.0 - refilled) / self.per_second).ceil().max(1.0);
            Err(AppError::RateLimited {
                retry_after_s: wait as u64,
            })
        }
    }
}
