//! The client's TLS for real: a rustls server on 127.0.0.1 with a self-signed
//! certificate, reached through `ApiClient` with the certificate as an extra root, with
//! and without a matching pin, and without trusting it at all.

use std::sync::Arc;

use hadir_device::client::{ApiClient, ClientError, TlsOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Serves `{"server_time_ms":1234}` to every TLS connection; returns the port and the
/// certificate (DER).
async fn tls_time_server() -> (u16, Vec<u8>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_der = certified.cert.der().to_vec();
    let key_der =
        rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert_der.clone().into()], key_der)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A refused handshake (the client distrusts us) just ends here.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let body = br#"{"server_time_ms":1234}"#;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = tls.write_all(head.as_bytes()).await;
                let _ = tls.write_all(body).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (port, cert_der)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hadir_core::photo::sha256_hex(bytes)
}

#[tokio::test]
async fn trusted_extra_root_and_matching_pin_connect() {
    let (port, cert) = tls_time_server().await;
    let url = format!("https://localhost:{port}");
    let trusted = ApiClient::new(
        &url,
        &TlsOptions {
            extra_root_der: Some(cert.clone()),
            pinned_cert_sha256: vec![],
        },
    )
    .unwrap();
    assert_eq!(trusted.server_time().await.unwrap().server_time_ms, 1234);

    let pinned = ApiClient::new(
        &url,
        &TlsOptions {
            extra_root_der: Some(cert.clone()),
            pinned_cert_sha256: vec!["00".repeat(32), sha256_hex(&cert).to_uppercase()],
        },
    )
    .unwrap();
    assert_eq!(pinned.server_time().await.unwrap().server_time_ms, 1234);
}

#[tokio::test]
async fn a_wrong_pin_or_an_unknown_certificate_is_refused() {
    let (port, cert) = tls_time_server().await;
    let url = format!("https://localhost:{port}");
    let wrong_pin = ApiClient::new(
        &url,
        &TlsOptions {
            extra_root_der: Some(cert.clone()),
            pinned_cert_sha256: vec!["ab".repeat(32)],
        },
    )
    .unwrap();
    match wrong_pin.server_time().await.unwrap_err() {
        ClientError::Network(text) => assert!(text.contains("pinned"), "{text}"),
        e => panic!("expected a network (TLS) error, got {e:?}"),
    }

    // The bundled Mozilla roots do not include a self-signed certificate.
    let untrusted = ApiClient::new(&url, &TlsOptions::default()).unwrap();
    match untrusted.server_time().await.unwrap_err() {
        ClientError::Network(text) => {
            assert!(text.to_lowercase().contains("certificate"), "{text}")
        }
        e => panic!("expected a network (TLS) error, got {e:?}"),
    }
}

#[test]
fn bad_urls_and_certificates_are_configuration_errors() {
    assert!(matches!(
        ApiClient::new("ftp://example", &TlsOptions::default()),
        Err(ClientError::Config(_))
    ));
    assert!(matches!(
        ApiClient::new(
            "https://example",
            &TlsOptions {
                extra_root_der: Some(b"not a certificate".to_vec()),
                pinned_cert_sha256: vec![],
            }
        ),
        Err(ClientError::Config(_))
    ));
}
