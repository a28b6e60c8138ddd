//! permessage-deflate between our client and our listener: agreed by default, refused
//! when either side turns it off, and messages up to the size limit pass compressed
//! while one byte more is refused with 1009.

use std::time::Duration;

use wslink_core::{Frame, FrameSink, FrameStream, Listener, Transport, TransportError};
use wslink_transport_ws::{connect_with, ConnectOptions, Deflate, HttpOptions, WsListener};

const LIMIT: usize = 4 * 1024 * 1024 + 4096;

async fn pair(
    server: Deflate,
    client: Deflate,
) -> (
    wslink_transport_ws::WsTransport,
    wslink_transport_ws::WsTransport,
) {
    let options = HttpOptions {
        deflate: server,
        max_message_size: LIMIT,
        ..HttpOptions::default()
    };
    let mut listener = WsListener::bind("127.0.0.1:0", options).await.unwrap();
    let url = format!("ws://{}/ws", listener.local_addr());
    let connect = ConnectOptions {
        deflate: client,
        ..ConnectOptions::default()
    };
    let (client, server) = tokio::join!(connect_with(&url, &connect), listener.accept());
    (client.expect("connects"), server.expect("accepted"))
}

/// `future`, which must finish within a minute.
async fn bounded<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), future)
        .await
        .expect("finished in time")
}

fn pattern(n: usize) -> bytes::Bytes {
    (0..n).map(|i| (i % 251) as u8).collect::<Vec<u8>>().into()
}

#[tokio::test]
async fn deflate_is_agreed_by_default_and_refused_when_either_side_is_off() {
    let (client, server) = pair(Deflate::default(), Deflate::default()).await;
    assert!(
        client.deflate() && server.deflate(),
        "{:?}",
        server.extensions()
    );
    let (client, server) = pair(Deflate::off(), Deflate::default()).await;
    assert!(!client.deflate() && !server.deflate());
    let (client, server) = pair(Deflate::default(), Deflate::off()).await;
    assert!(!client.deflate() && !server.deflate());
}

#[tokio::test]
async fn compressed_messages_up_to_the_limit_pass_both_ways_and_one_byte_more_is_refused() {
    let (client, server) = pair(Deflate::default(), Deflate::default()).await;
    let (mut ctx, mut crx) = client.split();
    let (mut stx, mut srx) = server.split();
    for n in [1000, 1 << 20, 4_000_000, 4_190_000, LIMIT] {
        let sent = pattern(n);
        // Sent and received at once: a large frame does not fit the socket buffers.
        let (out, got) =
            bounded(async { tokio::join!(ctx.send(Frame::Binary(sent.clone())), srx.recv()) })
                .await;
        out.unwrap();
        match got {
            Some(Ok(Frame::Binary(b))) => assert!(b == sent, "{n} bytes to the server"),
            other => panic!("{n} bytes to the server: {other:?}"),
        }
        let (out, got) =
            bounded(async { tokio::join!(stx.send(Frame::Binary(sent.clone())), crx.recv()) })
                .await;
        out.unwrap();
        match got {
            Some(Ok(Frame::Binary(b))) => assert!(b == sent, "{n} bytes to the client"),
            other => panic!("{n} bytes to the client: {other:?}"),
        }
    }
    let (_, got) =
        bounded(async { tokio::join!(ctx.send(Frame::Binary(pattern(LIMIT + 1))), srx.recv()) })
            .await;
    assert!(
        matches!(got, Some(Err(TransportError::TooLarge(_)))),
        "{got:?}"
    );
}
