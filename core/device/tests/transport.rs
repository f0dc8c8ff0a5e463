//! The phone's HTTP/1.1 transport against a real HTTP server on 127.0.0.1 that counts
//! its connections: keep-alive reuse, a kept connection the server has closed, the base
//! URL's path prefix and `Host`, the size cap and the timeout.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use hadir_device::client::{TlsOptions, tls_config};
use hadir_device::transport::{IDLE_LIFETIME, Transport, TransportError};
use http_body_util::Full;
use hyper::{Method, Request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// How the test server treats each connection.
#[derive(Clone, Copy)]
enum Behaviour {
    /// Answers every request on the connection, echoing its request line and `Host`.
    KeepAlive,
    /// Answers one request, then closes the connection without saying so.
    CloseAfterOne,
    /// Reads the request and never answers.
    Silent,
    /// Answers with a body of this many bytes.
    Huge(usize),
}

/// What the server saw: a request's first line and `Host`, or the client closing.
const CLIENT_CLOSED: &str = "client closed";

struct TestServer {
    port: u16,
    connections: Arc<AtomicUsize>,
    /// Each request's first line and `Host` value, in order.
    requests: mpsc::UnboundedReceiver<(String, String)>,
}

async fn serve(behaviour: Behaviour) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let (seen, requests) = mpsc::unbounded_channel();
    let counter = connections.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(answer_connection(tcp, behaviour, seen.clone()));
        }
    });
    TestServer {
        port,
        connections,
        requests,
    }
}

async fn answer_connection(
    mut tcp: TcpStream,
    behaviour: Behaviour,
    seen: mpsc::UnboundedSender<(String, String)>,
) {
    let mut pending = Vec::new();
    loop {
        // One request head at a time (the tests send no bodies).
        let end = loop {
            if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            let mut buf = [0u8; 1024];
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => {
                    let _ = seen.send((CLIENT_CLOSED.into(), String::new()));
                    return;
                }
                Ok(n) => pending.extend_from_slice(&buf[..n]),
            }
        };
        let head = String::from_utf8_lossy(&pending[..end]).to_string();
        pending.drain(..end);
        let line = head.lines().next().unwrap_or_default().to_string();
        let host = head
            .lines()
            .find_map(|l| l.strip_prefix("host: "))
            .unwrap_or_default()
            .to_string();
        let _ = seen.send((line.clone(), host));
        let body = match behaviour {
            Behaviour::Silent => {
                std::future::pending::<()>().await;
                return;
            }
            Behaviour::Huge(n) => "x".repeat(n),
            _ => line,
        };
        let reply = format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if tcp.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
        if matches!(behaviour, Behaviour::CloseAfterOne) {
            drop(tcp);
            let _ = seen.send(("closed".into(), String::new()));
            return;
        }
    }
}

fn transport(url: &str) -> Transport {
    let tls = tls_config(&TlsOptions::default()).unwrap();
    Transport::new(url, tls, "hadir-test").unwrap()
}

fn get(path: &str) -> Request<Full<Bytes>> {
    Request::builder()
        .method(Method::GET)
        .uri(path)
        .body(Full::new(Bytes::new()))
        .unwrap()
}

const LONG: Duration = Duration::from_secs(20);

#[tokio::test]
async fn requests_reuse_one_keep_alive_connection_under_the_path_prefix() {
    let mut server = serve(Behaviour::KeepAlive).await;
    let http = transport(&format!("http://127.0.0.1:{}/hadir/", server.port));
    for n in 0..3 {
        let answer = http
            .send(get(&format!("/v1/time?n={n}")), LONG)
            .await
            .unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(
            answer.body,
            format!("GET /hadir/v1/time?n={n} HTTP/1.1").as_bytes()
        );
        let (_, host) = server.requests.recv().await.unwrap();
        assert_eq!(host, format!("127.0.0.1:{}", server.port));
    }
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
}

/// An unused kept connection is closed by the phone after its idle lifetime, without
/// another request (tokio's paused clock: no real waiting).
#[tokio::test(start_paused = true)]
async fn an_unused_kept_connection_is_closed_after_its_idle_lifetime() {
    let mut server = serve(Behaviour::KeepAlive).await;
    let http = transport(&format!("http://127.0.0.1:{}", server.port));
    http.send(get("/v1/time"), LONG).await.unwrap();
    server.requests.recv().await.unwrap();
    let kept_at = tokio::time::Instant::now();
    assert_eq!(server.requests.recv().await.unwrap().0, CLIENT_CLOSED);
    let after = kept_at.elapsed();
    assert!(
        after >= IDLE_LIFETIME && after < IDLE_LIFETIME + Duration::from_secs(1),
        "{after:?}"
    );
}

#[tokio::test]
async fn a_kept_connection_the_server_closed_is_replaced_and_the_request_still_goes() {
    let mut server = serve(Behaviour::CloseAfterOne).await;
    let http = transport(&format!("http://127.0.0.1:{}", server.port));
    for n in 0..3 {
        let answer = http.send(get(&format!("/n/{n}")), LONG).await.unwrap();
        assert_eq!(answer.body, format!("GET /n/{n} HTTP/1.1").as_bytes());
        server.requests.recv().await.unwrap();
        // The server has closed this connection before the next request is sent, as
        // a server whose idle timeout ran out would have.
        assert_eq!(server.requests.recv().await.unwrap().0, "closed");
    }
    assert_eq!(server.connections.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn no_answer_within_the_timeout_is_a_timeout() {
    let server = serve(Behaviour::Silent).await;
    let http = transport(&format!("http://127.0.0.1:{}", server.port));
    let timeout = Duration::from_millis(200);
    let error = http.send(get("/v1/time"), timeout).await.unwrap_err();
    assert!(
        matches!(error, TransportError::TimedOut(t) if t == timeout),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_answer_over_the_cap_is_refused_not_read_into_memory() {
    let cap = hadir_device::transport::MAX_ANSWER_BYTES;
    let server = serve(Behaviour::Huge(cap + 1)).await;
    let http = transport(&format!("http://127.0.0.1:{}", server.port));
    let error = http.send(get("/big"), LONG).await.unwrap_err();
    assert!(matches!(error, TransportError::Failed(_)), "{error:?}");
}

#[tokio::test]
async fn a_refused_connection_is_a_failure_naming_the_address() {
    // Bind, learn the port, close: nothing listens there now.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let http = transport(&format!("http://127.0.0.1:{port}"));
    match http.send(get("/v1/time"), LONG).await.unwrap_err() {
        TransportError::Failed(text) => {
            assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}")
        }
        other => panic!("{other:?}"),
    }
}
