//! The phone's HTTP/1.1 transport to its one Hadir server, on hyper's connection API:
//! DNS and TCP through tokio, TLS through rustls, keep-alive connections reused for up
//! to [`IDLE_LIFETIME`], and every request bounded by a timeout.
//!
//! Why not reqwest: a phone talks to one origin over HTTP/1.1, and reqwest's general
//! machinery (URL and IDNA parsing, a pool for any number of hosts, redirects) cost
//! about 200 KB of the phone library's size budget (docs/PERFORMANCE.md). hyper, the
//! HTTP implementation under reqwest, does the protocol; this file only connects and
//! keeps idle connections.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HOST, HeaderMap, HeaderValue, USER_AGENT};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

/// How long connecting (DNS, TCP and the TLS handshake) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an idle keep-alive connection is kept for the next request.
pub const IDLE_LIFETIME: Duration = Duration::from_secs(30);
/// Idle connections kept at most (a sync and a live team poll may overlap).
const MAX_IDLE: usize = 2;
/// The largest answer read (a regency-wide team view is well under 1 MB).
pub const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// Why a request got no answer (the server's own error answers are [`Answer`]s).
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The base URL cannot be used.
    #[error("{0}")]
    Url(String),
    /// DNS, TCP, TLS or HTTP failed, or the answer was too large.
    #[error("{0}")]
    Failed(String),
    /// No answer within the timeout.
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
}

/// The server's answer, read whole.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

/// Where the server is, parsed once from its base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    /// `https` (else plain `http`, for loopback tests and development).
    secure: bool,
    /// Host name or IP address, without IPv6 brackets.
    host: String,
    port: u16,
    /// The `Host` header: host (bracketed if IPv6) and a non-default port.
    host_header: String,
    /// A path the server lives under (`/hadir` in `https://pemda.go.id/hadir`), or empty.
    path_prefix: String,
}

impl Origin {
    /// Parses `http[s]://host[:port][/prefix]`. Anything else (user info, a query, a
    /// fragment, a non-ASCII host) is refused rather than guessed at.
    fn parse(base_url: &str) -> Result<Origin, TransportError> {
        let bad = |why: &str| TransportError::Url(format!("server URL {base_url:?}: {why}"));
        let (secure, rest) = if let Some(rest) = base_url.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = base_url.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(bad("must start with https://"));
        };
        let (authority, prefix) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if rest.contains(['?', '#']) || authority.contains('@') {
            return Err(bad("only scheme, host, port and path are allowed"));
        }
        if !authority.is_ascii() || !prefix.is_ascii() || prefix.contains(' ') {
            return Err(bad(
                "must be ASCII (write an international name in its xn-- form)",
            ));
        }
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let (host, after) = bracketed.split_once(']').ok_or_else(|| bad("unclosed ["))?;
            match after {
                "" => (host, None),
                _ => (
                    host,
                    Some(after.strip_prefix(':').ok_or_else(|| bad("text after ]"))?),
                ),
            }
        } else {
            match authority.split_once(':') {
                Some((_, port)) if port.contains(':') => {
                    return Err(bad("an IPv6 address must be in brackets"));
                }
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let default_port = if secure { 443 } else { 80 };
        let port = match port {
            None => default_port,
            Some(p) => p.parse::<u16>().map_err(|_| bad("bad port"))?,
        };
        let host = host.to_ascii_lowercase();
        ServerName::try_from(host.as_str()).map_err(|_| bad("bad host name"))?;
        let bracketed = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.clone()
        };
        let host_header = if port == default_port {
            bracketed
        } else {
            format!("{bracketed}:{port}")
        };
        Ok(Origin {
            secure,
            host,
            port,
            host_header,
            path_prefix: prefix.trim_end_matches('/').to_string(),
        })
    }
}

/// A byte stream to the server: TCP, or TLS over TCP. Boxed so that one hyper
/// connection type serves both.
trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

type Sender = SendRequest<Full<Bytes>>;

/// A keep-alive connection waiting for the next request.
struct Idle {
    sender: Sender,
    since: Instant,
}

/// Keep-alive connections waiting for the next request, newest last.
type IdlePool = Arc<Mutex<Vec<Idle>>>;

/// HTTP/1.1 to one server. Cheap to share: clone the `Arc` it lives in.
pub struct Transport {
    origin: Origin,
    tls: Option<tokio_rustls::TlsConnector>,
    user_agent: HeaderValue,
    idle: IdlePool,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("origin", &self.origin)
            .finish()
    }
}

impl Transport {
    /// A transport to `base_url`, with `tls` for `https://`.
    pub fn new(
        base_url: &str,
        mut tls: rustls::ClientConfig,
        user_agent: &'static str,
    ) -> Result<Transport, TransportError> {
        let origin = Origin::parse(base_url)?;
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Transport {
            tls: origin
                .secure
                .then(|| tokio_rustls::TlsConnector::from(Arc::new(tls))),
            origin,
            user_agent: HeaderValue::from_static(user_agent),
            idle: IdlePool::default(),
        })
    }

    /// Sends `request` (its URI is the path and query under the base URL; `Host` and
    /// `User-Agent` are added) and reads the whole answer, all within `timeout`.
    ///
    /// After a failure or timeout every kept connection is dropped: on a phone that
    /// changed networks they are usually all dead, and the caller's retry (signed anew)
    /// should not wait out another one.
    pub async fn send(
        &self,
        request: Request<Full<Bytes>>,
        timeout: Duration,
    ) -> Result<Answer, TransportError> {
        let answer = match tokio::time::timeout(timeout, self.exchange(request)).await {
            Ok(answer) => answer,
            Err(_) => Err(TransportError::TimedOut(timeout)),
        };
        if answer.is_err() {
            self.idle.lock().expect("idle connections lock").clear();
        }
        answer
    }

    async fn exchange(&self, mut request: Request<Full<Bytes>>) -> Result<Answer, TransportError> {
        let uri = format!("{}{}", self.origin.path_prefix, request.uri());
        *request.uri_mut() = uri
            .parse()
            .map_err(|e| TransportError::Url(format!("request path {uri:?}: {e}")))?;
        let host = HeaderValue::from_str(&self.origin.host_header)
            .map_err(|e| TransportError::Url(e.to_string()))?;
        request.headers_mut().insert(HOST, host);
        request
            .headers_mut()
            .insert(USER_AGENT, self.user_agent.clone());

        // A kept connection may have been closed by the server meanwhile; hyper hands
        // the request back unsent then, and it goes out on a fresh connection.
        if let Some(mut sender) = self.take_idle()
            && sender.ready().await.is_ok()
        {
            match sender.try_send_request(request).await {
                Ok(response) => return self.read_answer(sender, response).await,
                Err(mut e) => match e.take_message() {
                    Some(unsent) => request = unsent,
                    None => return Err(failed("request", e.into_error())),
                },
            }
        }
        let mut sender = self.connect().await?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| failed("request", e))?;
        self.read_answer(sender, response).await
    }

    /// Reads the body, then keeps the connection for the next request.
    async fn read_answer(
        &self,
        sender: Sender,
        response: hyper::Response<hyper::body::Incoming>,
    ) -> Result<Answer, TransportError> {
        let (parts, body) = response.into_parts();
        let body = Limited::new(body, MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|e| TransportError::Failed(format!("reading the answer: {e}")))?
            .to_bytes();
        self.keep_idle(sender);
        Ok(Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }

    fn take_idle(&self) -> Option<Sender> {
        let mut idle = self.idle.lock().expect("idle connections lock");
        drop_expired(&mut idle);
        idle.pop().map(|kept| kept.sender)
    }

    /// Keeps a connection for [`IDLE_LIFETIME`]; a timer then drops it if it is still
    /// unused, so an idle phone holds no socket open on the server.
    fn keep_idle(&self, sender: Sender) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().expect("idle connections lock");
        drop_expired(&mut idle);
        if idle.len() >= MAX_IDLE {
            return;
        }
        idle.push(Idle {
            sender,
            since: Instant::now(),
        });
        let pool = Arc::downgrade(&self.idle);
        tokio::spawn(async move {
            tokio::time::sleep(IDLE_LIFETIME).await;
            if let Some(pool) = pool.upgrade() {
                drop_expired(&mut pool.lock().expect("idle connections lock"));
            }
        });
    }

    /// Opens a new connection (DNS, TCP, TLS, HTTP/1.1 handshake) within
    /// [`CONNECT_TIMEOUT`]; its driver runs as a task that ends with the connection.
    async fn connect(&self) -> Result<Sender, TransportError> {
        let deadline = Instant::now() + CONNECT_TIMEOUT;
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, self.open_stream(deadline))
            .await
            .map_err(|_| TransportError::TimedOut(CONNECT_TIMEOUT))??;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| failed("HTTP handshake", e))?;
        tokio::spawn(async move {
            // Ends when the server closes, or when every sender is dropped.
            let _ = connection.await;
        });
        Ok(sender)
    }

    async fn open_stream(&self, deadline: Instant) -> Result<Box<dyn Stream>, TransportError> {
        let origin = &self.origin;
        let addresses: Vec<SocketAddr> =
            tokio::net::lookup_host((origin.host.as_str(), origin.port))
                .await
                .map_err(|e| failed(&format!("DNS lookup of {}", origin.host), e))?
                .collect();
        let tcp = connect_any(&addresses, deadline).await?;
        let Some(tls) = &self.tls else {
            return Ok(Box::new(tcp));
        };
        let name = ServerName::try_from(origin.host.clone())
            .map_err(|e| TransportError::Url(e.to_string()))?;
        let stream = tls
            .connect(name, tcp)
            .await
            .map_err(|e| failed("TLS handshake", e))?;
        Ok(Box::new(stream))
    }
}

/// Drops the kept connections that are closed or have waited [`IDLE_LIFETIME`].
fn drop_expired(idle: &mut Vec<Idle>) {
    idle.retain(|kept| kept.since.elapsed() < IDLE_LIFETIME && !kept.sender.is_closed());
}

/// Connects to the first address that answers, giving each an equal share of what is
/// left before `deadline` once DNS answered (so an unreachable IPv6 address cannot use
/// it all up).
async fn connect_any(
    addresses: &[SocketAddr],
    deadline: Instant,
) -> Result<tokio::net::TcpStream, TransportError> {
    let mut last_error = String::from("the host name has no address");
    for (tried, address) in addresses.iter().enumerate() {
        let share =
            deadline.saturating_duration_since(Instant::now()) / (addresses.len() - tried) as u32;
        match tokio::time::timeout(share, tokio::net::TcpStream::connect(address)).await {
            Ok(Ok(tcp)) => {
                // Requests are small and answered at once: no Nagle delay.
                let _ = tcp.set_nodelay(true);
                return Ok(tcp);
            }
            Ok(Err(e)) => last_error = format!("connecting to {address}: {e}"),
            Err(_) => last_error = format!("connecting to {address}: no answer within {share:?}"),
        }
    }
    Err(TransportError::Failed(last_error))
}

/// A failure with its whole source chain (the useful part, such as "certificate not
/// trusted" or "connection reset", is often inside).
fn failed(what: &str, e: impl std::error::Error) -> TransportError {
    let mut text = format!("{what}: {e}");
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    TransportError::Failed(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(url: &str) -> Origin {
        Origin::parse(url).unwrap()
    }

    #[test]
    fn base_urls_parse_into_host_port_and_prefix() {
        let o = origin("https://Hadir.BengkuluKota.go.id");
        assert_eq!(
            (o.secure, o.host.as_str(), o.port, o.host_header.as_str()),
            (
                true,
                "hadir.bengkulukota.go.id",
                443,
                "hadir.bengkulukota.go.id"
            )
        );
        assert_eq!(o.path_prefix, "");
        let o = origin("http://127.0.0.1:3000/");
        assert_eq!(
            (o.secure, o.port, o.host_header.as_str()),
            (false, 3000, "127.0.0.1:3000")
        );
        let o = origin("https://[::1]:8443/hadir/");
        assert_eq!((o.host.as_str(), o.port), ("::1", 8443));
        assert_eq!(o.host_header, "[::1]:8443");
        assert_eq!(o.path_prefix, "/hadir");
        assert_eq!(origin("https://[::1]").host_header, "[::1]");
    }

    #[test]
    fn urls_that_would_have_to_be_guessed_at_are_refused() {
        for url in [
            "hadir.go.id",
            "ftp://hadir.go.id",
            "https://",
            "https://:443",
            "https://hadir.go.id:99999",
            "https://hadir.go.id:x",
            "https://user@hadir.go.id",
            "https://hadir.go.id/?a=1",
            "https://hadir.go.id#top",
            "https://hadir.pemda.go.id/a b",
            "https://hädir.go.id",
            "https://[::1",
            "https://[::1]8443",
            "https://[::1]junk",
            "https://::1:8443",
            "https://bad_host!.go.id",
        ] {
            assert!(
                matches!(Origin::parse(url), Err(TransportError::Url(_))),
                "{url} was accepted"
            );
        }
    }
}
