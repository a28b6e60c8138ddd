//! The hello handshake and what the server answers before it, seen frame by frame.

mod common;

use common::{start, test_server, Raw, SECRET};
use wslink::client::{Client, ClientError};
use wslink::msgpack::ChunkHeader;
use wslink::{
    Bytes, CloseCode, Frame, FrameStream, Map, Message, Request, Response, Value, WireError,
};

fn request(id: &str, method: &str, args: Vec<Value>) -> Message {
    Message::Request(Request {
        id: id.into(),
        method: method.into(),
        args,
        kwargs: Map::new(),
    })
}

use common::hello_message as hello;

fn error_of(message: Option<Message>) -> (String, WireError) {
    match message {
        Some(Message::Response(Response {
            id,
            outcome: Err(e),
        })) => (id, e),
        other => panic!("expected an error response, got {other:?}"),
    }
}

#[tokio::test]
async fn hello_reply_carries_client_id_and_max_msg_size() {
    let (_server, connector) = start(test_server());
    let mut raw = Raw::open(&connector).await;
    raw.send(&hello(SECRET)).await;
    let Some(Message::Response(Response {
        id,
        outcome: Ok(result),
    })) = raw.recv().await
    else {
        panic!("hello result expected")
    };
    assert_eq!(id, "system:c0:0");
    let client_id = result["clientID"].as_str().unwrap();
    assert_eq!(client_id.len(), 33);
    assert!(client_id.starts_with('c') && client_id[1..].bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(result["maxMsgSize"], Value::from(4194304));
}

#[tokio::test]
async fn wrong_secret_is_rejected_and_the_client_may_retry() {
    let (_server, connector) = start(test_server());
    let mut raw = Raw::open(&connector).await;
    raw.send(&hello("nope")).await;
    let (id, e) = error_of(raw.recv().await);
    assert_eq!(
        (id.as_str(), e.code, e.message.as_str(), e.data),
        ("system:c0:0", -32000, "Authentication failed", None)
    );
    // Still unauthenticated.
    raw.send(&request("rpc:x:1", "test.echo", vec![1.into()]))
        .await;
    let (_, e) = error_of(raw.recv().await);
    assert_eq!(e.message, "Unauthorized: Skip message processing");
    // The connection stays open and a right hello works.
    raw.send(&hello(SECRET)).await;
    assert!(matches!(
        raw.recv().await,
        Some(Message::Response(Response { outcome: Ok(_), .. }))
    ));
    raw.send(&request("rpc:x:2", "test.echo", vec![1.into()]))
        .await;
    assert_eq!(
        raw.recv().await,
        Some(Message::Response(Response {
            id: "rpc:x:2".into(),
            outcome: Ok(1.into())
        }))
    );
}

#[tokio::test]
async fn client_reports_auth_failure_as_a_typed_error() {
    let (_server, connector) = start(test_server());
    let err = Client::connect(connector.connect().await.unwrap(), "wrong")
        .await
        .unwrap_err();
    let ClientError::Auth(wire) = err else {
        panic!("auth error expected, got {err:?}")
    };
    assert_eq!(
        (wire.code, wire.message.as_str()),
        (-32000, "Authentication failed")
    );
}

#[tokio::test]
async fn requests_before_hello_are_unauthorized_and_unknown_system_methods_refused() {
    let (_server, connector) = start(test_server());
    let mut raw = Raw::open(&connector).await;
    raw.send(&request("rpc:c1:0", "test.echo", vec![1.into()]))
        .await;
    let (id, e) = error_of(raw.recv().await);
    assert_eq!(
        (id.as_str(), e.code, e.message.as_str()),
        ("rpc:c1:0", -32000, "Unauthorized: Skip message processing")
    );
    raw.send(&request("system:c0:0", "wslink.other", vec![]))
        .await;
    let (_, e) = error_of(raw.recv().await);
    assert_eq!(
        (e.code, e.message.as_str(), e.data),
        (-32601, "Unknown system method called", None)
    );
}

#[tokio::test]
async fn unknown_method_names_the_method() {
    let (_server, connector) = start(test_server());
    let mut raw = Raw::open(&connector).await;
    raw.send(&hello(SECRET)).await;
    raw.recv().await;
    raw.send(&request("rpc:c1:0", "no.such.method", vec![]))
        .await;
    let (_, e) = error_of(raw.recv().await);
    assert_eq!(
        (e.code, e.message.as_str(), e.data),
        (
            -32601,
            "Unregistered method called",
            Some("no.such.method".into())
        )
    );
}

#[tokio::test]
async fn an_id_without_method_is_answered_not_fatal() {
    let (_server, connector) = start(test_server());
    let mut raw = Raw::open(&connector).await;
    raw.send(&hello(SECRET)).await;
    raw.recv().await;
    raw.send(&Message::Response(Response {
        id: "rpc:c1:5".into(),
        outcome: Ok(Value::Nil),
    }))
    .await;
    let (id, e) = error_of(raw.recv().await);
    assert_eq!((id.as_str(), e.code), ("rpc:c1:5", -32601));
    raw.send(&request("rpc:c1:6", "test.echo", vec!["still here".into()]))
        .await;
    assert!(matches!(
        raw.recv().await,
        Some(Message::Response(Response { outcome: Ok(_), .. }))
    ));
}

#[tokio::test]
async fn oversized_message_before_hello_closes_with_1009() {
    let (server, connector) = start(test_server());
    let mut raw = Raw::open(&connector).await;
    let mut frame = ChunkHeader {
        message_id: 1,
        offset: 0,
        total_size: u32::MAX,
    }
    .to_bytes()
    .to_vec();
    frame.extend_from_slice(&[0x80]);
    raw.send_frame(Frame::Binary(frame.into())).await;
    assert_eq!(raw.recv().await, None, "the server closes");
    assert_eq!(raw.rx.close_frame().unwrap().code, CloseCode::TOO_BIG);
    // Other clients are unaffected.
    let client = common::connect(&connector).await;
    assert_eq!(
        client
            .call("test.echo", vec![1.into()], Map::new())
            .await
            .unwrap(),
        Value::from(1)
    );
    assert_eq!(server.connection_count(), 1);
}

#[tokio::test]
async fn a_513_byte_hello_is_refused_but_512_bytes_pass() {
    // 72 bytes of envelope around the secret: secret of 440 bytes → 512-byte message.
    let (_server, connector) = start(test_server().secret("s".repeat(440)));
    let mut raw = Raw::open(&connector).await;
    raw.send(&hello(&"s".repeat(440))).await;
    assert!(matches!(
        raw.recv().await,
        Some(Message::Response(Response { outcome: Ok(_), .. }))
    ));

    let mut raw = Raw::open(&connector).await;
    raw.send(&hello(&"s".repeat(441))).await;
    assert_eq!(raw.recv().await, None);
    assert_eq!(raw.rx.close_frame().unwrap().code, CloseCode::TOO_BIG);
}

#[tokio::test]
async fn garbage_closes_with_protocol_error_and_text_frames_are_ignored() {
    let (_server, connector) = start(test_server());
    let mut raw = Raw::open(&connector).await;
    raw.send(&hello(SECRET)).await;
    raw.recv().await;
    // After the hello, a text frame is ignored by a 2.x server (as the reference does).
    raw.send_frame(Frame::Text("{\"not\": \"2.x\"}".into()))
        .await;
    raw.send(&request("rpc:c1:0", "test.echo", vec![1.into()]))
        .await;
    assert!(
        matches!(
            raw.recv().await,
            Some(Message::Response(Response { outcome: Ok(_), .. }))
        ),
        "text ignored"
    );
    raw.send_frame(Frame::Binary(Bytes::from_static(&[1, 2, 3])))
        .await;
    assert_eq!(raw.recv().await, None);
    assert_eq!(
        raw.rx.close_frame().unwrap().code,
        CloseCode::PROTOCOL_ERROR
    );
    assert!(raw.rx.recv().await.is_none());
}

#[tokio::test]
async fn a_client_that_never_says_hello_is_closed_with_1008() {
    let server =
        test_server().configure(|c| c.hello_timeout = Some(std::time::Duration::from_millis(200)));
    let (handle, connector) = start(server);
    let mut silent = Raw::open(&connector).await;
    let client = common::connect(&connector).await;
    assert_eq!(silent.recv().await, None, "closed by the server");
    assert_eq!(
        silent.rx.close_frame().unwrap().code,
        CloseCode::POLICY_VIOLATION
    );
    // The authenticated client is not affected by the deadline.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        client
            .call("test.echo", vec![2.into()], Map::new())
            .await
            .unwrap(),
        Value::from(2)
    );
    assert_eq!(handle.connection_count(), 1);
}

#[tokio::test]
async fn connections_over_the_limit_are_closed_with_1013() {
    let (handle, connector) = start(test_server().configure(|c| c.max_connections = 2));
    let _a = common::connect(&connector).await;
    let _b = common::connect(&connector).await;
    let mut third = Raw::open(&connector).await;
    assert_eq!(third.recv().await, None);
    assert_eq!(third.rx.close_frame().unwrap().code, CloseCode(1013));
    assert_eq!(handle.connection_count(), 2);
}
