//! `Listener::serve_inline`: a `WsListener` (or a mounted `WsService`'s acceptor) asked to
//! run connections itself hands every upgraded connection to the given loop, in the task
//! that served its HTTP request, and no longer through `accept`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use wslink_core::{Frame, FrameSink, FrameStream, Listener, ServeConnection, Transport};
use wslink_transport_ws::{connect, HttpOptions, WsListener, WsTransport};

/// A connection loop that echoes frames and reports each connection's request path.
fn echo(paths: mpsc::UnboundedSender<Option<String>>) -> ServeConnection<WsTransport> {
    Arc::new(move |transport: WsTransport| {
        let paths = paths.clone();
        Box::pin(async move {
            let _ = paths.send(transport.peer().path);
            let (mut sink, mut stream) = transport.split();
            while let Some(Ok(frame)) = stream.recv().await {
                if sink.send(frame).await.is_err() {
                    break;
                }
            }
        })
    })
}

async fn bounded<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), future)
        .await
        .expect("finished in time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_run_in_the_listeners_task_once_asked_and_accept_sees_none() {
    let mut listener = WsListener::bind("127.0.0.1:0", HttpOptions::default())
        .await
        .unwrap();
    let (paths, mut served) = mpsc::unbounded_channel();
    assert!(
        listener.serve_inline(echo(paths.clone())),
        "the listener agrees"
    );
    assert!(
        !listener.serve_inline(echo(paths)),
        "a second loop is refused: the first one keeps the connections"
    );
    let url = format!("ws://{}/ws", listener.local_addr());
    for i in 0..3u8 {
        let client = bounded(connect(&url)).await.expect("connects");
        let (mut sink, mut stream) = client.split();
        sink.send(Frame::Binary(vec![i; 3].into())).await.unwrap();
        let echoed = bounded(stream.recv()).await.expect("a frame").unwrap();
        assert_eq!(echoed, Frame::Binary(vec![i; 3].into()));
        assert_eq!(bounded(served.recv()).await, Some(Some("/ws".to_owned())));
    }
    let accepted = tokio::time::timeout(Duration::from_millis(300), listener.accept()).await;
    assert!(accepted.is_err(), "nothing went through accept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_being_asked_connections_come_from_accept() {
    let mut listener = WsListener::bind("127.0.0.1:0", HttpOptions::default())
        .await
        .unwrap();
    let url = format!("ws://{}/ws", listener.local_addr());
    let (client, server) = tokio::join!(connect(&url), listener.accept());
    let (_client, server) = (client.expect("connects"), server.expect("accepted"));
    assert_eq!(server.peer().path.as_deref(), Some("/ws"));
}
