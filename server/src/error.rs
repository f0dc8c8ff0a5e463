//! The one error type of the HTTP layer, [`AppError`], and its mapping to a status code
//! and an [`ApiError`] body with a stable code and an Indonesian message.
//!
//! Storage and internal failures are logged with their detail and answered with a
//! generic body, so no SQL or file path ever reaches a client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hadir_core::api::ApiError;

use crate::storage::StorageError;

/// Everything a request can fail with. Each variant has a stable [`AppError::code`].
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A signature header is missing or malformed (which one is in the detail).
    #[error("missing or malformed authentication header: {0}")]
    AuthMissing(String),
    /// `Hadir-Device` names no enrolled device.
    #[error("unknown device")]
    AuthUnknownDevice,
    /// The device was revoked by an admin.
    #[error("device revoked")]
    AuthDeviceRevoked,
    /// The request signature does not verify with the device's key.
    #[error("bad request signature")]
    AuthBadSignature,
    /// The request timestamp is outside the window around the server clock.
    #[error("timestamp outside the window; server time {server_time_ms}")]
    AuthClockWindow {
        /// The server's clock, Unix ms (so the phone can re-anchor).
        server_time_ms: i64,
    },
    /// The nonce was already used within the window.
    #[error("nonce reused")]
    AuthNonceReused,
    /// The query string is wrong; the detail names the parameter.
    #[error("bad query: {0}")]
    BadQuery(String),
    /// The person named is not this device's owner (or not registered).
    #[error("team view not allowed for this person on this device")]
    TeamForbidden,
    /// The person supervises nobody.
    #[error("not a supervisor")]
    TeamNotSupervisor,
    /// The body is not the JSON expected; the detail names the field.
    #[error("bad JSON: {0}")]
    BadJson(String),
    /// The body could not be read (client went away, broken chunking).
    #[error("body could not be read: {0}")]
    BodyUnreadable(String),
    /// The body exceeds the route's limit.
    #[error("body larger than {limit} bytes")]
    BodyTooLarge {
        /// The route's limit in bytes.
        limit: usize,
    },
    /// More envelopes than [`hadir_core::api::MAX_BATCH`] in one request.
    #[error("batch of {count} envelopes, limit {limit}")]
    BatchTooLarge {
        /// Envelopes sent.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// An enrollment request whose content is wrong (the field is in `detail`).
    #[error("bad enrollment request: {detail}")]
    EnrollBadRequest {
        /// Indonesian message for the person.
        message: String,
        /// The field at fault.
        detail: String,
    },
    /// Unknown, used, expired, or another person's enrollment code (one answer for all).
    #[error("enrollment code invalid")]
    EnrollCodeInvalid,
    /// The person is already enrolled on this device.
    #[error("person already on this device")]
    EnrollAlreadyOnDevice,
    /// The key attestation chain's leaf attests another key or another challenge than
    /// this enrollment's (`crate::attestation::judge`); the code is not consumed.
    #[error("attestation mismatch: {0}")]
    EnrollAttestationMismatch(String),
    /// The `{sha256}` in the path is not 64 lowercase hex digits.
    #[error("selfie path is not a SHA-256: {0}")]
    SelfieBadHash(String),
    /// The uploaded bytes do not hash to the path's SHA-256.
    #[error("selfie hash mismatch: computed {computed}")]
    SelfieHashMismatch {
        /// What the server computed.
        computed: String,
    },
    /// The upload is not a normalised selfie JPEG.
    #[error("invalid selfie: {detail}")]
    SelfieInvalid {
        /// Indonesian message from the photo rules.
        message: String,
        /// Developer detail (the photo error's code and text).
        detail: String,
    },
    /// The device exceeded its request rate.
    #[error("rate limited, retry after {retry_after_s} s")]
    RateLimited {
        /// Seconds until a request will be accepted.
        retry_after_s: u64,
    },
    /// The server is at capacity.
    #[error("overloaded, retry after {retry_after_s} s")]
    Overloaded {
        /// Seconds to wait.
        retry_after_s: u64,
    },
    /// The database does not answer.
    #[error("not ready: {0}")]
    NotReady(String),
    /// No such route.
    #[error("not found")]
    NotFound,
    /// The route exists, but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// An answer the framework produced before any handler ran (a rejected path or
    /// query, an unreadable request): re-dressed as an [`ApiError`] by
    /// [`ensure_api_error`]. `status` is the framework's; the detail is its text.
    #[error("request refused with {status}: {detail}")]
    Refused {
        /// The framework's status (a 4xx or 5xx).
        status: StatusCode,
        /// The framework's text.
        detail: String,
    },
    /// A storage failure.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Anything else that should not happen.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::AuthMissing(_) => "AUTH_MISSING",
            AppError::AuthUnknownDevice => "AUTH_UNKNOWN_DEVICE",
            AppError::AuthDeviceRevoked => "AUTH_DEVICE_REVOKED",
            AppError::AuthBadSignature => "AUTH_BAD_SIGNATURE",
            AppError::AuthClockWindow { .. } => "AUTH_CLOCK_WINDOW",
            AppError::AuthNonceReused => "AUTH_NONCE_REUSED",
            AppError::BadJson(_) => "BAD_JSON",
            AppError::BadQuery(_) => "BAD_QUERY",
            AppError::TeamForbidden => "TEAM_FORBIDDEN",
            AppError::TeamNotSupervisor => "TEAM_NOT_SUPERVISOR",
            AppError::BodyUnreadable(_) => "BODY_UNREADABLE",
            AppError::BodyTooLarge { .. } => "BODY_TOO_LARGE",
            AppError::BatchTooLarge { .. } => "BATCH_TOO_LARGE",
            AppError::EnrollBadRequest { .. } => "ENROLL_BAD_REQUEST",
            AppError::EnrollCodeInvalid => "ENROLL_CODE_INVALID",
            AppError::EnrollAlreadyOnDevice => "ENROLL_ALREADY_ON_DEVICE",
            AppError::EnrollAttestationMismatch(_) => "ENROLL_ATTESTATION_MISMATCH",
            AppError::SelfieBadHash(_) => "SELFIE_BAD_HASH",
            AppError::SelfieHashMismatch { .. } => "SELFIE_HASH_MISMATCH",
            AppError::SelfieInvalid { .. } => "SELFIE_INVALID",
            AppError::RateLimited { .. } => "RATE_LIMITED",
            AppError::Overloaded { .. } => "OVERLOADED",
            AppError::Storage(StorageError::Overloaded) => "OVERLOADED",
            AppError::NotReady(_) => "NOT_READY",
            AppError::NotFound => "NOT_FOUND",
            AppError::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            AppError::Refused { status, .. } => refused_code(*status),
            AppError::Storage(_) | AppError::Internal(_) => "INTERNAL",
        }
    }

    /// HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::AuthMissing(_)
            | AppError::AuthUnknownDevice
            | AppError::AuthDeviceRevoked
            | AppError::AuthBadSignature
            | AppError::AuthClockWindow { .. }
            | AppError::AuthNonceReused => StatusCode::UNAUTHORIZED,
            AppError::TeamForbidden | AppError::TeamNotSupervisor => StatusCode::FORBIDDEN,
            AppError::BadJson(_)
            | AppError::BadQuery(_)
            | AppError::BodyUnreadable(_)
            | AppError::EnrollBadRequest { .. }
            | AppError::SelfieBadHash(_) => StatusCode::BAD_REQUEST,
            AppError::BodyTooLarge { .. } | AppError::BatchTooLarge { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            AppError::EnrollCodeInvalid => StatusCode::FORBIDDEN,
            AppError::EnrollAlreadyOnDevice => StatusCode::CONFLICT,
            AppError::EnrollAttestationMismatch(_) => StatusCode::BAD_REQUEST,
            AppError::SelfieHashMismatch { .. } | AppError::SelfieInvalid { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Overloaded { .. }
            | AppError::NotReady(_)
            | AppError::Storage(StorageError::Overloaded) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Refused { status, .. } => *status,
            AppError::Storage(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Indonesian message for staff.
    pub fn message(&self) -> String {
        match self {
            AppError::AuthMissing(_) => {
                "Permintaan tidak bertanda tangan. Perbarui aplikasi Hadir.".into()
            }
            AppError::AuthUnknownDevice => {
                "Perangkat ini belum terdaftar. Daftarkan dengan kode dari admin.".into()
            }
            AppError::AuthDeviceRevoked => {
                "Perangkat ini telah dicabut oleh admin. Hubungi admin kepegawaian.".into()
            }
            AppError::AuthBadSignature => {
                "Tanda tangan perangkat tidak valid. Daftarkan ulang perangkat.".into()
            }
            AppError::AuthClockWindow { .. } => {
                "Waktu perangkat berbeda jauh dari server; aplikasi akan menyesuaikan lalu \
                 mencoba lagi."
                    .into()
            }
            AppError::AuthNonceReused => "Permintaan ganda terdeteksi dan ditolak.".into(),
            AppError::BadJson(_) => "Format data tidak valid. Perbarui aplikasi Hadir.".into(),
            AppError::BadQuery(_) => "Permintaan tidak valid. Perbarui aplikasi Hadir.".into(),
            AppError::TeamForbidden => "Tim hanya dapat dibuka oleh atasan di perangkatnya \
                sendiri."
                .into(),
            AppError::TeamNotSupervisor => "Anda tidak tercatat sebagai atasan langsung \
                pegawai mana pun. Hubungi admin BKPSDM."
                .into(),
            AppError::BodyUnreadable(_) => "Data tidak terkirim utuh. Coba lagi.".into(),
            AppError::BodyTooLarge { limit } => {
                format!("Data terlalu besar (batas {} KB).", limit.div_ceil(1024))
            }
            AppError::BatchTooLarge { limit, .. } => {
                format!("Terlalu banyak data absensi dalam satu kiriman (batas {limit}).")
            }
            AppError::EnrollBadRequest { message, .. } => message.clone(),
            AppError::EnrollCodeInvalid => "Kode pendaftaran tidak valid, sudah dipakai, \
                kedaluwarsa, atau bukan untuk Anda. Minta kode baru ke admin."
                .into(),
            AppError::EnrollAlreadyOnDevice => "Anda sudah terdaftar di perangkat ini.".into(),
            AppError::EnrollAttestationMismatch(_) => "Bukti kunci perangkat tidak cocok \
                dengan pendaftaran ini. Mulai ulang pendaftaran di aplikasi Hadir dengan kode \
                yang sama."
                .into(),
            AppError::SelfieBadHash(_) => "Alamat foto tidak valid.".into(),
            AppError::SelfieHashMismatch { .. } => {
                "Foto rusak saat dikirim; aplikasi akan mengirim ulang.".into()
            }
            AppError::SelfieInvalid { message, .. } => message.clone(),
            AppError::RateLimited { retry_after_s } => format!(
                "Terlalu banyak permintaan dari perangkat ini. Coba lagi dalam {retry_after_s} \
                 detik."
            ),
            AppError::Overloaded { .. } | AppError::Storage(StorageError::Overloaded) => {
                "Server sedang sibuk. Data Anda aman di ponsel dan akan dikirim otomatis.".into()
            }
            AppError::NotReady(_) => "Server belum siap.".into(),
            AppError::NotFound => "Alamat tidak ditemukan.".into(),
            AppError::MethodNotAllowed => {
                "Metode permintaan ini tidak didukung di alamat ini. Perbarui aplikasi Hadir."
                    .into()
            }
            AppError::Refused { status, .. } if status.is_server_error() => {
                "Terjadi kesalahan di server. Data Anda aman di ponsel dan akan dikirim ulang."
                    .into()
            }
            AppError::Refused { status, .. } if *status == StatusCode::PAYLOAD_TOO_LARGE => {
                "Data terlalu besar.".into()
            }
            AppError::Refused { .. } => "Permintaan tidak valid. Perbarui aplikasi Hadir.".into(),
            AppError::Storage(_) | AppError::Internal(_) => {
                "Terjadi kesalahan di server. Data Anda aman di ponsel dan akan dikirim ulang."
                    .into()
            }
        }
    }

    /// Developer detail, never secrets or internal paths.
    pub fn detail(&self) -> Option<String> {
        match self {
            AppError::AuthMissing(d)
            | AppError::BadJson(d)
            | AppError::BadQuery(d)
            | AppError::BodyUnreadable(d) => Some(d.clone()),
            AppError::AuthClockWindow { server_time_ms } => {
                Some(format!("server_time_ms={server_time_ms}"))
            }
            AppError::BodyTooLarge { limit } => Some(format!("limit={limit} bytes")),
            AppError::BatchTooLarge { count, limit } => {
                Some(format!("envelopes: {count} given, at most {limit}"))
            }
            AppError::EnrollBadRequest { detail, .. } | AppError::SelfieInvalid { detail, .. } => {
                Some(detail.clone())
            }
            AppError::SelfieBadHash(d)
            | AppError::Refused { detail: d, .. }
            | AppError::EnrollAttestationMismatch(d) => Some(d.clone()),
            AppError::SelfieHashMismatch { computed } => Some(format!("computed={computed}")),
            _ => None,
        }
    }

    /// `Retry-After` seconds, for 429 and 503.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::RateLimited { retry_after_s } | AppError::Overloaded { retry_after_s } => {
                Some(*retry_after_s)
            }
            AppError::Storage(StorageError::Overloaded) => Some(1),
            AppError::NotReady(_) => Some(5),
            _ => None,
        }
    }

    /// The JSON body.
    pub fn body(&self) -> ApiError {
        ApiError {
            code: self.code().to_string(),
            message: self.message(),
            detail: self.detail(),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() && !matches!(status, StatusCode::SERVICE_UNAVAILABLE) {
            tracing::error!(error = %self, "request failed");
        } else {
            tracing::debug!(code = self.code(), "request refused");
        }
        let mut response = (status, axum::Json(self.body())).into_response();
        if let Some(seconds) = self.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.closes_connection() {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

impl AppError {
    /// An overloaded server gives back the connection with its refusal: a client told
    /// to retry later must not keep a socket (an open file) the server needs for
    /// check-ins meanwhile.
    pub fn closes_connection(&self) -> bool {
        matches!(
            self,
            AppError::Overloaded { .. } | AppError::Storage(StorageError::Overloaded)
        )
    }
}

/// The stable code of an answer the framework produced itself, by its status.
fn refused_code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "NOT_FOUND",
        StatusCode::METHOD_NOT_ALLOWED => "METHOD_NOT_ALLOWED",
        StatusCode::PAYLOAD_TOO_LARGE => "BODY_TOO_LARGE",
        StatusCode::SERVICE_UNAVAILABLE => "OVERLOADED",
        s if s.is_server_error() => "INTERNAL",
        _ => "BAD_REQUEST",
    }
}

/// Longest framework text kept as the detail of a [`AppError::Refused`].
const MAX_REFUSED_DETAIL: usize = 512;

/// Response middleware (outermost): every 4xx/5xx answer leaves as an [`ApiError`] JSON
/// body. Answers built from [`AppError`] already are; anything else (axum's own 405,
/// a path or query rejection, a body limit hit inside the framework) is re-dressed with
/// the same status and headers (`Allow`, `Retry-After`), its text kept as the detail.
pub async fn ensure_api_error(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_REFUSED_DETAIL * 4)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let detail: String = if text.is_empty() {
        status.canonical_reason().unwrap_or("refused").to_string()
    } else {
        text.chars().take(MAX_REFUSED_DETAIL).collect()
    };
    let error = match status {
        StatusCode::METHOD_NOT_ALLOWED => AppError::MethodNotAllowed,
        _ => AppError::Refused { status, detail },
    };
    let fresh = error.into_response();
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in fresh.headers() {
        parts.headers.insert(name.clone(), value.clone());
    }
    Response::from_parts(parts, fresh.into_body())
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        AppError::Internal(format!("worker task failed: {e}"))
    }
}
