//! The device's HTTP client for the Hadir API: signs every request with the device key
//! (on the blocking pool: a StrongBox signature takes hundreds of ms), speaks TLS through
//! rustls (ring provider, bundled Mozilla roots, optional extra root and certificate
//! pinning) over [`crate::transport`], and classifies failures as retryable or final.
//!
//! Why not the platform verifier: on Android it needs a JNI initialisation and a Kotlin
//! component; bundled roots plus optional pinning work identically on every phone.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, ETAG, IF_NONE_MATCH, RETRY_AFTER};
use hyper::{Method, Request, StatusCode};
use serde::de::DeserializeOwned;

use chrono::NaiveDate;
use hadir_core::api::MAX_TEAM_WAIT_S;
use hadir_core::api::{
    ApiError, CheckInBatch, CheckInBatchResponse, DeviceConfig, EnrollRequest, EnrollResponse,
    SelfieStored, ServerTime, TeamAttendance, TeamEvents,
};
use hadir_core::auth::{self, RequestToSign};
use hadir_core::envelope::DeviceKey;
use hadir_core::ids::PersonId;

use crate::transport::{Answer, Transport, TransportError};

/// How long a request may take unless it says otherwise.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// TLS options of the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// An extra trust anchor (DER), e.g. a province's own CA or a self-signed server.
    pub extra_root_der: Option<Vec<u8>>,
    /// If not empty, the server's end-entity certificate must have one of these SHA-256
    /// fingerprints (lowercase hex of the DER), on top of normal validation.
    pub pinned_cert_sha256: Vec<String>,
}

/// Why a request failed, classified for the sync loop.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClientError {
    /// No answer: connection refused or dropped, DNS, TLS, timeout. Retry with backoff.
    #[error("network error: {0}")]
    Network(String),
    /// The server answered 5xx or 429. Retry with backoff, after `retry_after` if given.
    #[error("server unavailable ({status}): {code}")]
    Unavailable {
        /// HTTP status.
        status: u16,
        /// The error code from the body, if any.
        code: String,
        /// `Retry-After`, seconds.
        retry_after_s: Option<u64>,
    },
    /// The server refused the request (4xx): final for this request as sent.
    #[error("refused ({status}) {}: {}", .error.code, .error.message)]
    Refused {
        /// HTTP status.
        status: u16,
        /// The server's error body.
        error: ApiError,
    },
    /// The answer could not be read.
    #[error("unreadable answer: {0}")]
    BadAnswer(String),
    /// The device key failed to sign.
    #[error("signing failed: {0}")]
    Signing(String),
    /// The client could not be built (bad URL, bad certificate).
    #[error("client configuration: {0}")]
    Config(String),
}

impl ClientError {
    /// True for failures worth retrying later (network, 5xx, 429).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ClientError::Network(_) | ClientError::Unavailable { .. }
        )
    }
}

/// A response to a conditional GET.
#[derive(Debug, Clone, PartialEq)]
pub enum Conditional<T> {
    /// The resource, with its ETag.
    Fresh(T, Option<String>),
    /// 304: what the device has is current.
    NotModified,
}

/// The signed HTTP client.
#[derive(Clone)]
pub struct ApiClient {
    http: Arc<Transport>,
    base_url: String,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("base_url", &self.base_url)
            .finish()
    }
}

/// Optional parts of a request.
#[derive(Debug, Clone, Copy, Default)]
struct Extras<'a> {
    /// `If-None-Match` value.
    if_none_match: Option<&'a str>,
    /// A timeout other than the client's 30 s.
    timeout: Option<Duration>,
}

/// Who signs a request and at what (server-anchored) time.
pub struct Signer<'a> {
    /// The device key.
    pub key: Arc<dyn DeviceKey>,
    /// `Hadir-Device` value.
    pub device: &'a str,
    /// Server-anchored now, Unix ms.
    pub now_ms: i64,
}

fn install_ring_provider() {
    // Installing twice is harmless: the second call reports the existing provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[derive(Debug)]
struct PinningVerifier {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    pins: Vec<String>,
}

impl rustls::client::danger::ServerCertVerifier for PinningVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let verified = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        let fingerprint = hadir_core::photo::sha256_hex(end_entity.as_ref());
        if self
            .pins
            .iter()
            .any(|p| p.eq_ignore_ascii_case(&fingerprint))
        {
            Ok(verified)
        } else {
            Err(rustls::Error::General(
                "server certificate does not match the pinned fingerprint".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Builds the rustls configuration for `tls`.
pub fn tls_config(tls: &TlsOptions) -> Result<rustls::ClientConfig, ClientError> {
    install_ring_provider();
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(der) = &tls.extra_root_der {
        roots
            .add(rustls::pki_types::CertificateDer::from(der.clone()))
            .map_err(|e| ClientError::Config(format!("extra root certificate: {e}")))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Config(e.to_string()))?;
    let config = if tls.pinned_cert_sha256.is_empty() {
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        let inner =
            rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| ClientError::Config(e.to_string()))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinningVerifier {
                inner,
                pins: tls.pinned_cert_sha256.clone(),
            }))
            .with_no_client_auth()
    };
    Ok(config)
}

fn network(e: TransportError) -> ClientError {
    match e {
        TransportError::Url(why) => ClientError::Config(why),
        other => ClientError::Network(other.to_string()),
    }
}

impl ApiClient {
    /// A client for the server at `base_url` (e.g. `https://hadir.bengkulukota.go.id`).
    /// Plain `http://` is accepted for loopback tests and development.
    pub fn new(base_url: &str, tls: &TlsOptions) -> Result<Self, ClientError> {
        let base_url = base_url.trim_end_matches('/').to_string();
        let http = Transport::new(
            &base_url,
            tls_config(tls)?,
            concat!("hadir-device/", env!("CARGO_PKG_VERSION")),
        )
        .map_err(network)?;
        Ok(ApiClient {
            http: Arc::new(http),
            base_url,
        })
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Vec<u8>,
        content_type: &str,
        signer: Option<&Signer<'_>>,
        extras: Extras<'_>,
    ) -> Result<Answer, ClientError> {
        let mut request = Request::builder().method(method.clone()).uri(path);
        let body = match signer {
            Some(s) => {
                let (headers, body) = sign_request(&method, path, body, s).await?;
                for (name, value) in headers {
                    request = request.header(name, value);
                }
                body
            }
            None => body,
        };
        if let Some(tag) = extras.if_none_match {
            request = request.header(IF_NONE_MATCH, tag);
        }
        if !body.is_empty() {
            request = request.header(CONTENT_TYPE, content_type);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| ClientError::Config(format!("request {path:?}: {e}")))?;
        let answer = self
            .http
            .send(request, extras.timeout.unwrap_or(REQUEST_TIMEOUT))
            .await
            .map_err(network)?;
        let status = answer.status;
        if status.is_success() || status == StatusCode::NOT_MODIFIED {
            return Ok(answer);
        }
        let retry_after_s = answer
            .headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let bytes = answer.body;
        let error: ApiError = serde_json::from_slice(&bytes).unwrap_or_else(|_| ApiError {
            code: format!("HTTP_{}", status.as_u16()),
            message: "Server menjawab dengan kesalahan.".into(),
            detail: Some(String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into()),
        });
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            Err(ClientError::Unavailable {
                status: status.as_u16(),
                code: error.code,
                retry_after_s,
            })
        } else {
            Err(ClientError::Refused {
                status: status.as_u16(),
                error,
            })
        }
    }

    fn json<T: DeserializeOwned>(answer: &Answer) -> Result<T, ClientError> {
        serde_json::from_slice(&answer.body).map_err(|e| ClientError::BadAnswer(e.to_string()))
    }

    /// `GET /v1/time`.
    pub async fn server_time(&self) -> Result<ServerTime, ClientError> {
        let r = self
            .send(Method::GET, "/v1/time", vec![], "", None, Extras::default())
            .await?;
        Self::json(&r)
    }

    /// A signed `POST` of a JSON body, answered with JSON.
    async fn post_json<B: serde::Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        signer: &Signer<'_>,
    ) -> Result<T, ClientError> {
        let body = serde_json::to_vec(body).expect("API bodies always serialise");
        let r = self
            .send(
                Method::POST,
                path,
                body,
                "application/json",
                Some(signer),
                Extras::default(),
            )
            .await?;
        Self::json(&r)
    }

    /// `POST /v1/enroll`, signed by the key being enrolled.
    pub async fn enroll(
        &self,
        request: &EnrollRequest,
        signer: &Signer<'_>,
    ) -> Result<EnrollResponse, ClientError> {
        self.post_json("/v1/enroll", request, signer).await
    }

    /// `GET /v1/config`, conditional on `etag`.
    pub async fn config(
        &self,
        etag: Option<&str>,
        signer: &Signer<'_>,
    ) -> Result<Conditional<DeviceConfig>, ClientError> {
        let r = self
            .send(
                Method::GET,
                "/v1/config",
                vec![],
                "",
                Some(signer),
                Extras {
                    if_none_match: etag,
                    timeout: None,
                },
            )
            .await?;
        if r.status == StatusCode::NOT_MODIFIED {
            return Ok(Conditional::NotModified);
        }
        let tag = r
            .headers
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Ok(Conditional::Fresh(Self::json(&r)?, tag))
    }

    /// `PUT /v1/selfies/{sha256}`.
    pub async fn put_selfie(
        &self,
        sha256_hex: &str,
        jpeg: &[u8],
        signer: &Signer<'_>,
    ) -> Result<SelfieStored, ClientError> {
        let r = self
            .send(
                Method::PUT,
                &format!("/v1/selfies/{sha256_hex}"),
                jpeg.to_vec(),
                "image/jpeg",
                Some(signer),
                Extras::default(),
            )
            .await?;
        Self::json(&r)
    }

    /// `POST /v1/anchors`: a signed time anchor for this device.
    pub async fn anchor(
        &self,
        request: &hadir_core::anchor::AnchorRequest,
        signer: &Signer<'_>,
    ) -> Result<hadir_core::anchor::SignedAnchor, ClientError> {
        self.post_json("/v1/anchors", request, signer).await
    }

    /// `POST /v1/checkins`.
    pub async fn post_checkins(
        &self,
        batch: &CheckInBatch,
        signer: &Signer<'_>,
    ) -> Result<CheckInBatchResponse, ClientError> {
        self.post_json("/v1/checkins", batch, signer).await
    }

    /// `GET /v1/team`: the supervisor's team on `date` (office-local), or today.
    pub async fn team(
        &self,
        supervisor: &PersonId,
        date: Option<NaiveDate>,
        signer: &Signer<'_>,
    ) -> Result<TeamAttendance, ClientError> {
        let mut path = format!("/v1/team?supervisor={}", person_query(supervisor));
        if let Some(d) = date {
            path.push_str(&format!("&date={d}"));
        }
        self.get_json(&path, signer, None).await
    }

    /// `GET /v1/team/events`: waits up to `wait_s` seconds (capped at
    /// [`MAX_TEAM_WAIT_S`]) for team check-ins after `after`; with no `after`, answers
    /// at once with the current cursor.
    pub async fn team_events(
        &self,
        supervisor: &PersonId,
        after: Option<i64>,
        wait_s: u32,
        signer: &Signer<'_>,
    ) -> Result<TeamEvents, ClientError> {
        let wait_s = wait_s.min(MAX_TEAM_WAIT_S);
        let mut path = format!(
            "/v1/team/events?supervisor={}&wait_s={wait_s}",
            person_query(supervisor)
        );
        if let Some(a) = after {
            path.push_str(&format!("&after={a}"));
        }
        // The request may legitimately last the whole wait: allow it plus a margin.
        let timeout = Duration::from_secs(u64::from(wait_s) + 15);
        self.get_json(&path, signer, Some(timeout)).await
    }

    /// A signed `GET` answered with JSON, with an optional timeout of its own.
    async fn get_json<T: DeserializeOwned>(
        &self,
        path_and_query: &str,
        signer: &Signer<'_>,
        timeout: Option<Duration>,
    ) -> Result<T, ClientError> {
        let extras = Extras {
            if_none_match: None,
            timeout,
        };
        let r = self
            .send(
                Method::GET,
                path_and_query,
                vec![],
                "",
                Some(signer),
                extras,
            )
            .await?;
        Self::json(&r)
    }
}

/// The `Hadir-*` authentication headers of a request, signed on the blocking pool (a
/// StrongBox or Secure Enclave signature blocks for hundreds of ms, and must not stall
/// the runtime's other work). Hands the body back.
async fn sign_request(
    method: &Method,
    path: &str,
    body: Vec<u8>,
    signer: &Signer<'_>,
) -> Result<([(&'static str, String); 4], Vec<u8>), ClientError> {
    let (method, path, device) = (
        method.to_string(),
        path.to_string(),
        signer.device.to_string(),
    );
    let (key, now_ms) = (signer.key.clone(), signer.now_ms);
    let signing = tokio::task::spawn_blocking(move || {
        let nonce = auth::new_nonce();
        let signature = RequestToSign {
            method: &method,
            path_and_query: &path,
            timestamp_ms: now_ms,
            nonce: &nonce,
            device: &device,
            body: &body,
        }
        .sign(key.as_ref());
        (signature, nonce, device, body)
    });
    let (signature, nonce, device, body) = signing
        .await
        .map_err(|e| ClientError::Signing(format!("signing task: {e}")))?;
    let signature = signature.map_err(|e| ClientError::Signing(e.to_string()))?;
    Ok((
        [
            (auth::HEADER_DEVICE, device),
            (auth::HEADER_TIMESTAMP, now_ms.to_string()),
            (auth::HEADER_NONCE, nonce),
            (auth::HEADER_SIGNATURE, signature),
        ],
        body,
    ))
}

/// `kind:value` as a query value. Ids are digits, letters and `-`; anything else is
/// percent-encoded so the signed path is exactly what is sent.
fn person_query(id: &PersonId) -> String {
    let mut out = String::new();
    for b in id.to_string().bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b':' | b'-' | b'_' | b'.') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
