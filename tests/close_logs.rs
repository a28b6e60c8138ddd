//! A connection the peer closes is logged with the peer's close code and reason, not as
//! a close of our own: over the in-process transport and over WebSockets, on both server
//! backends.

mod common;

use std::time::Duration;

use common::logs::{self, Captured};
use common::peers::serve_ws;
use common::{start, test_server, Raw, WAIT};
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as WsCloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use wslink::ws::{Deflate, HttpOptions};
use wslink::{Close, CloseCode, FrameSink};

/// Waits until the server logged the end of a connection; returns that line.
async fn disconnected_line(logs: &Captured) -> String {
    let waited = tokio::time::timeout(WAIT, async {
        loop {
            if let Some(line) = logs.text().lines().find(|l| l.contains("disconnected")) {
                return line.to_owned();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    waited.await.expect("the server logs the disconnection")
}

#[tokio::test]
async fn a_peer_close_over_the_in_process_transport_is_logged_with_its_code() {
    let (logs, _guard) = logs::capture();
    let (_server, connector) = start(test_server());
    let mut raw = Raw::open(&connector).await;
    raw.send(&common::hello_message(common::SECRET)).await;
    raw.recv().await.expect("hello reply");
    let bye = Close::new(CloseCode::PROTOCOL_ERROR, "peer says bye");
    raw.tx.close(bye).await.unwrap();

    let line = disconnected_line(&logs).await;
    assert!(
        line.contains("closed by the peer")
            && line.contains("code=1002")
            && line.contains("peer says bye"),
        "{line}"
    );
}

#[tokio::test]
async fn a_peer_close_over_websockets_is_logged_with_its_code_with_deflate_on_and_off() {
    for deflate in [Deflate::default(), Deflate::off()] {
        let (logs, _guard) = logs::capture();
        let options = HttpOptions {
            deflate: deflate.clone(),
            ..HttpOptions::default()
        };
        let (_server, url) = serve_ws(test_server(), options).await;
        let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .unwrap();
        ws.send(WsMessage::Close(Some(CloseFrame {
            code: WsCloseCode::from(4001),
            reason: "going home".into(),
        })))
        .await
        .unwrap();

        let line = disconnected_line(&logs).await;
        assert!(
            line.contains("closed by the peer")
                && line.contains("code=4001")
                && line.contains("going home"),
            "{deflate:?}: {line}"
        );
    }
}

#[tokio::test]
async fn the_client_logs_the_close_code_the_server_sent() {
    let (logs, _guard) = logs::capture_at(tracing::Level::INFO);
    let (server, connector) = start(test_server());
    let client = common::connect(&connector).await;
    assert!(server.disconnect(&client.client_id()));
    let waited = tokio::time::timeout(WAIT, async {
        loop {
            let text = logs.text();
            if let Some(line) = text.lines().find(|l| l.contains("the server closed")) {
                return line.to_owned();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    let line = waited.await.expect("the client logs the close");
    assert!(
        line.contains("code=1000") && line.contains("disconnected by the server"),
        "{line}"
    );
}
