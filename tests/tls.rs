//! TLS end to end on loopback: a server with a self-signed certificate (made here with
//! rcgen, written to PEM files) serves `wss://`; the Rust client trusting that certificate
//! calls through it; a client that does not trust it, and a plain `ws://` client, fail
//! promptly with a transport error while the server keeps serving TLS clients.

mod common;

use std::path::PathBuf;

use common::peers::{host_port, serve_ws};
use common::{test_server, SECRET, WAIT};
use wslink::client::Client;
use wslink::ws::{connect_with, ConnectOptions, HttpOptions, TlsConfig};
use wslink::{Map, TransportError};
use wslink_test_protocol::pattern_bytes;

/// A self-signed certificate for the loopback names, written as PEM into a fresh folder.
struct Certificate {
    dir: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

impl Certificate {
    fn new(tag: &str) -> Certificate {
        let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        let certified = rcgen::generate_simple_self_signed(names).expect("rcgen");
        let dir = std::env::temp_dir().join(format!("wslink-tls-{}-{tag}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        std::fs::write(&cert, certified.cert.pem()).expect("write cert");
        std::fs::write(&key, certified.signing_key.serialize_pem()).expect("write key");
        Certificate { dir, cert, key }
    }
}

impl Drop for Certificate {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Serves the test protocol over TLS; returns the `wss://` URL.
async fn serve_tls(certificate: &Certificate) -> (wslink::server::ServerHandle, String) {
    let tls = TlsConfig::from_pem_files(&certificate.cert, &certificate.key).expect("PEM loads");
    let options = HttpOptions {
        tls: Some(tls),
        ..HttpOptions::default()
    };
    let (handle, url) = serve_ws(test_server(), options).await;
    (handle, url.replacen("ws://", "wss://", 1))
}

fn trusting(certificate: &Certificate) -> ConnectOptions {
    ConnectOptions::default()
        .trust_pem_file(&certificate.cert)
        .expect("cert loads")
}

async fn tls_client(url: &str, options: &ConnectOptions) -> Client {
    let transport = tokio::time::timeout(WAIT, connect_with(url, options))
        .await
        .expect("TLS connect in time")
        .expect("TLS connect succeeds");
    tokio::time::timeout(WAIT, Client::connect(transport, SECRET))
        .await
        .expect("hello in time")
        .expect("hello accepted")
}

async fn still_served(client: &Client) {
    let sum: f64 = tokio::time::timeout(WAIT, client.call_as("test.add", vec![2.into(), 3.into()]))
        .await
        .expect("answer in time")
        .expect("test.add answers");
    assert_eq!(sum, 5.0);
}

/// A connection attempt that must fail with a transport error, promptly.
async fn refused(url: &str, options: &ConnectOptions) -> TransportError {
    match tokio::time::timeout(WAIT, connect_with(url, options))
        .await
        .expect("fails in time, no hang")
    {
        Ok(_) => panic!("{url}: connection unexpectedly succeeded"),
        Err(e) => {
            eprintln!("{url}: {e}");
            e
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusting_client_calls_over_wss() {
    let certificate = Certificate::new("calls");
    let (_server, url) = serve_tls(&certificate).await;
    assert!(url.starts_with("wss://127.0.0.1:"), "{url}");
    let client = tls_client(&url, &trusting(&certificate)).await;

    let sum: f64 = client
        .call_as("test.add", vec![1.into(), 2.5.into()])
        .await
        .unwrap();
    assert_eq!(sum, 3.5);

    let n = 1 << 20;
    let bytes = tokio::time::timeout(
        WAIT,
        client.call("test.bytes", vec![(n as u64).into()], Map::new()),
    )
    .await
    .expect("1 MiB in time")
    .unwrap();
    assert_eq!(bytes.as_bytes().unwrap(), &pattern_bytes(n));

    // The same certificate given as DER bytes works too.
    let der = wslink::ws::tls::load_certificates(&certificate.cert).unwrap();
    let by_der = ConnectOptions::default().trust_der(der[0].to_vec());
    still_served(&tls_client(&url, &by_der).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_not_trusting_the_certificate_fails() {
    let certificate = Certificate::new("untrusted");
    let (_server, url) = serve_tls(&certificate).await;
    let good = tls_client(&url, &trusting(&certificate)).await;

    // Platform roots only: the self-signed certificate is unknown.
    let err = refused(&url, &ConnectOptions::default()).await;
    let text = err.to_string().to_lowercase();
    assert!(text.contains("certificate"), "{err}");

    // Trusting another certificate does not help.
    let other = Certificate::new("other");
    let err = refused(&url, &trusting(&other)).await;
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );

    still_served(&good).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_ws_to_a_tls_port_fails_cleanly() {
    let certificate = Certificate::new("plain");
    let (_server, url) = serve_tls(&certificate).await;
    let good = tls_client(&url, &trusting(&certificate)).await;

    let plain = url.replacen("wss://", "ws://", 1);
    for _ in 0..3 {
        let err = refused(&plain, &ConnectOptions::default()).await;
        assert!(!matches!(err, TransportError::TooLarge(_)), "{err}");
    }
    // A TCP connection that never starts its handshake does not block anyone either.
    let addr = url
        .trim_start_matches("wss://")
        .trim_end_matches("/ws")
        .to_owned();
    let _silent = tokio::net::TcpStream::connect(&addr).await.unwrap();

    still_served(&good).await;
    still_served(&tls_client(&url, &trusting(&certificate)).await).await;
}

#[tokio::test]
async fn a_missing_certificate_file_is_a_clear_error() {
    let missing = std::env::temp_dir().join("wslink-tls-no-such-dir/cert.pem");
    let err = TlsConfig::from_pem_files(&missing, &missing).unwrap_err();
    assert!(err.to_string().contains("cert.pem"), "{err}");
    let err = ConnectOptions::default()
        .trust_pem_file(&missing)
        .unwrap_err();
    assert!(err.to_string().contains("cannot read certificate"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_connection_is_dropped_after_the_handshake_timeout() {
    use tokio::io::AsyncReadExt;
    let certificate = Certificate::new("timeout");
    let tls = TlsConfig::from_pem_files(&certificate.cert, &certificate.key)
        .unwrap()
        .with_handshake_timeout(std::time::Duration::from_millis(200));
    let options = HttpOptions {
        tls: Some(tls),
        ..HttpOptions::default()
    };
    let (_server, url) = serve_ws(test_server(), options).await;
    let addr = host_port(&url);
    let mut silent = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(WAIT, silent.read(&mut buf))
        .await
        .expect("the server hangs up in time");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    let url = url.replacen("ws://", "wss://", 1);
    still_served(&tls_client(&url, &trusting(&certificate)).await).await;
}
