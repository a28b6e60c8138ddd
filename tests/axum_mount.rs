//! The `axum_mount` example run for real: an axum application with its own route and
//! middleware serves wslink at `/ws`. A wslink client calls through it (with
//! permessage-deflate agreed), the application's route still answers, and its middleware
//! stamps the upgrade's answer too.

#[path = "../examples/axum_mount.rs"]
mod example;

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wslink::client::Client;

async fn get(addr: std::net::SocketAddr, request: &str) -> String {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut answer))
        .await
        .expect("an answer in time")
        .unwrap();
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wslink_mounted_in_an_axum_app_serves_beside_its_routes() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = tokio::spawn(example::run(listener));

    let health = get(
        addr,
        "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.ends_with("ok"), "{health}");
    assert!(
        health
            .to_ascii_lowercase()
            .contains("x-served-by: axum-app"),
        "{health}"
    );

    // The upgrade goes through the application's middleware too.
    let upgrade = get(
        addr,
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
    )
    .await;
    let lower = upgrade.to_ascii_lowercase();
    assert!(upgrade.starts_with("HTTP/1.1 101"), "{upgrade}");
    assert!(lower.contains("x-served-by: axum-app"), "{upgrade}");
    assert!(
        lower.contains("sec-websocket-extensions: permessage-deflate"),
        "{upgrade}"
    );
    assert!(
        lower.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
        "{upgrade}"
    );

    // A plain GET on /ws is refused clearly.
    let plain = get(
        addr,
        "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(plain.starts_with("HTTP/1.1 400"), "{plain}");

    let url = format!("ws://{addr}/ws");
    let transport = wslink::ws::connect(&url).await.expect("connects");
    assert!(
        transport.deflate(),
        "deflate agreed: {:?}",
        transport.extensions()
    );
    let client = Client::connect(transport, "s3cret").await.expect("hello");
    let sum: f64 = client
        .call_as("demo.add", vec![1.into(), 2.5.into()])
        .await
        .expect("demo.add");
    assert_eq!(sum, 3.5);
    client.close().await;
    app.abort();
}
