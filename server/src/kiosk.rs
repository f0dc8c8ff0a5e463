//! The office monitor (the kiosk): the admin operations that enroll, list and revoke
//! kiosks, and the two routes a kiosk screen uses.
//!
//! * `GET /kiosk` serves one self-contained page (`assets/kiosk.html`: HTML, CSS and JS,
//!   no CDN). The page holds nothing secret, so it is served to anyone.
//! * `GET /v1/kiosk/qr` answers the current token of the kiosk's office as an SVG QR
//!   code, the office name and the server's clock, only to a request carrying a valid
//!   kiosk credential in `Authorization: Kiosk <credential>`.
//!
//! The admin opens the page as `https://server/kiosk#<credential>`: the part after `#`
//! (the fragment) is never sent to the server, so the credential does not land in
//! access logs or proxies; the page's script reads it and sends it as the header. A
//! credential is shown once, at enrollment; only its SHA-256 is stored, and every
//! request reads the kiosk from the database, so a revocation holds from the next one.
//! The page moves the credential out of the URL at once (into the browser's
//! localStorage), and each kiosk's last fetch is recorded to the minute (`kiosk list`
//! shows it), so a credential copied to another screen can be noticed.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hadir_core::api::ApiError;
use hadir_core::qr::{token_for_window, window_end_ms, window_of};
use ring::rand::SecureRandom as _;
use serde::{Deserialize, Serialize};

use crate::admin::AdminError;
use crate::storage::{KIOSK_SEEN_RESOLUTION_MS, KioskRecord, Storage, StorageError};
use crate::{AppError, AppState};

/// The monitor page.
pub const KIOSK_HTML: &str = include_str!("../assets/kiosk.html");
/// The scheme of the `Authorization` header a kiosk sends.
pub const AUTH_SCHEME: &str = "Kiosk";
/// Longest credential read from a header (a real one is about 60 characters).
const MAX_CREDENTIAL_LEN: usize = 200;

/// A fresh kiosk id: `kiosk-` and 10 random hex digits.
pub fn new_kiosk_id() -> String {
    format!("kiosk-{}", hadir_core::envelope::hex(&random::<5>()))
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    ring::rand::SystemRandom::new()
        .fill(&mut b)
        .expect("the system random source works");
    b
}

/// A fresh credential for `kiosk_id`: the id, a dot, and 32 random bytes in base64url
/// (256 bits: guessing is hopeless, so a plain hash is enough to store).
pub fn new_credential(kiosk_id: &str) -> String {
    format!(
        "{kiosk_id}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random::<32>())
    )
}

/// What is stored for a credential: SHA-256 hex of it, domain-separated.
pub fn credential_sha256(credential: &str) -> String {
    hadir_core::photo::sha256_hex(format!("hadir-kiosk-v1:{}", credential.trim()).as_bytes())
}

/// Enrolls a kiosk for an office (giving the office its QR secret if it has none yet);
/// returns the kiosk and its credential, which is shown once and never stored.
pub fn enroll_kiosk(
    storage: &dyn Storage,
    office_id: &str,
    label: &str,
) -> Result<(KioskRecord, String), AdminError> {
    let invalid = |e: StorageError| match e {
        StorageError::Invalid(m) => AdminError::Invalid(m),
        e => AdminError::Storage(e),
    };
    storage.ensure_qr_secret(office_id).map_err(invalid)?;
    let kiosk_id = new_kiosk_id();
    let credential = new_credential(&kiosk_id);
    let kiosk = KioskRecord {
        kiosk_id,
        office_id: office_id.to_string(),
        label: label.trim().to_string(),
        credential_sha256: credential_sha256(&credential),
        created_ms: storage.clock().now_ms(),
        revoked_ms: None,
        last_seen_ms: None,
    };
    storage.add_kiosk(kiosk.clone()).map_err(invalid)?;
    Ok((kiosk, credential))
}

/// Why a kiosk request was refused (401, with an [`ApiError`] body).
#[derive(Debug, thiserror::Error)]
pub enum KioskError {
    /// No credential, or one no kiosk holds.
    #[error("no valid kiosk credential")]
    Unauthorized,
    /// The kiosk was revoked by an admin.
    #[error("kiosk revoked")]
    Revoked,
    /// Anything else (storage): answered as the HTTP layer answers it.
    #[error(transparent)]
    App(#[from] AppError),
}

impl IntoResponse for KioskError {
    fn into_response(self) -> Response {
        let (code, message) = match &self {
            KioskError::Unauthorized => (
                "KIOSK_UNAUTHORIZED",
                "Layar ini belum terdaftar sebagai monitor kantor. Minta tautan monitor ke \
                 admin.",
            ),
            KioskError::Revoked => (
                "KIOSK_REVOKED",
                "Monitor ini telah dicabut oleh admin. Minta tautan monitor baru ke admin.",
            ),
            KioskError::App(_) => {
                let KioskError::App(e) = self else {
                    unreachable!()
                };
                return e.into_response();
            }
        };
        let body = ApiError {
            code: code.into(),
            message: message.into(),
            detail: None,
        };
        let mut response = (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
        no_store(response.headers_mut());
        response
    }
}

fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// What a kiosk shows, from `GET /v1/kiosk/qr`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KioskQr {
    /// The kiosk's office.
    pub office_id: String,
    /// Its name, for the screen.
    pub office_name: String,
    /// Its UTC offset, minutes (the screen shows office-local time).
    pub utc_offset_minutes: i32,
    /// The current token (what the QR encodes).
    pub token: String,
    /// Its window, `floor(server_time_ms / 30000)`.
    pub window: i64,
    /// When the next token takes over, Unix ms on the server's clock.
    pub window_ends_ms: i64,
    /// The server's clock when it answered, Unix ms.
    pub server_time_ms: i64,
    /// The token as a QR code, an SVG document.
    pub qr_svg: String,
}

/// The credential of `Authorization: Kiosk <credential>`, if present.
fn credential_of(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credential) = value.trim().split_once(' ')?;
    let credential = credential.trim();
    (scheme.eq_ignore_ascii_case(AUTH_SCHEME)
        && !credential.is_empty()
        && credential.len() <= MAX_CREDENTIAL_LEN)
        .then(|| credential.to_string())
}

/// The token as an SVG QR code (error correction M, quiet zone included), without
/// the XML declaration so it can be placed in an HTML page.
pub fn qr_svg(token: &str) -> String {
    let code = qrcode::QrCode::with_error_correction_level(token.as_bytes(), qrcode::EcLevel::M)
        .expect("a token fits a QR code");
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build();
    match svg.find("<svg") {
        Some(start) => svg[start..].to_string(),
        None => svg,
    }
}

/// Everything [`kiosk_qr`] needs, read on the blocking pool.
fn current_qr(state: &AppState, credential: &str) -> Result<KioskQr, KioskError> {
    let storage = state.storage();
    let kiosk = storage
        .kiosk_by_credential(&credential_sha256(credential))
        .map_err(AppError::from)?
        .ok_or(KioskError::Unauthorized)?;
    if kiosk.revoked_ms.is_some() {
        return Err(KioskError::Revoked);
    }
    let now = state.now_ms();
    if kiosk
        .last_seen_ms
        .is_none_or(|seen| now - seen >= KIOSK_SEEN_RESOLUTION_MS)
    {
        storage
            .touch_kiosk(&kiosk.kiosk_id, now)
            .map_err(AppError::from)?;
    }
    state.refresh_directory();
    let office = state
        .directory()
        .statics()
        .geofence
        .office(&kiosk.office_id)
        .cloned()
        .ok_or_else(|| AppError::Internal(format!("kiosk office {} gone", kiosk.office_id)))?;
    let secret = storage
        .qr_secret(&office.id)
        .map_err(AppError::from)?
        .ok_or_else(|| AppError::Internal(format!("office {} has no QR secret", office.id)))?;
    let window = window_of(now);
    let token = token_for_window(&secret, &office.id, window);
    Ok(KioskQr {
        qr_svg: qr_svg(&token),
        token,
        office_id: office.id,
        office_name: office.name,
        utc_offset_minutes: office.utc_offset_minutes,
        window,
        window_ends_ms: window_end_ms(window),
        server_time_ms: now,
    })
}

/// `GET /v1/kiosk/qr`: the current token of the kiosk's office.
pub async fn kiosk_qr(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, KioskError> {
    let credential = credential_of(&headers).ok_or(KioskError::Unauthorized)?;
    let qr = tokio::task::spawn_blocking(move || current_qr(&state, &credential))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
    let mut response = axum::Json(qr).into_response();
    no_store(response.headers_mut());
    Ok(response)
}

/// `GET /kiosk`: the monitor page.
pub async fn kiosk_page() -> Response {
    let mut response = (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; script-src 'unsafe-inline'; style-src \
                     'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'; \
                     frame-ancestors 'none'",
                ),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
        ],
        KIOSK_HTML,
    )
        .into_response();
    no_store(response.headers_mut());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_long_random_and_hashed_with_a_domain() {
        let id = new_kiosk_id();
        assert!(id.starts_with("kiosk-") && id.len() == 16, "{id}");
        let a = new_credential(&id);
        let b = new_credential(&id);
        assert_ne!(a, b);
        assert!(a.starts_with(&format!("{id}.")) && a.len() == id.len() + 1 + 43);
        assert_eq!(credential_sha256(&a), credential_sha256(&format!(" {a}\n")));
        assert_ne!(
            credential_sha256(&a),
            hadir_core::photo::sha256_hex(a.as_bytes())
        );
    }

    #[test]
    fn only_the_kiosk_scheme_is_read() {
        let mut h = HeaderMap::new();
        assert_eq!(credential_of(&h), None);
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Kiosk abc.def"),
        );
        assert_eq!(credential_of(&h).as_deref(), Some("abc.def"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(credential_of(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Kiosk "));
        assert_eq!(credential_of(&h), None);
    }

    #[test]
    fn the_qr_is_an_svg_without_xml_declaration() {
        let svg = qr_svg("v1.kominfo.58816666.3JZDTI3NJVBV2LWR");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{svg}");
    }
}
