//! Every inbound message is acted on or leaves a trace: requests in non-minimal msgpack
//! encodings are answered, and each class of message that cannot be acted on gets its
//! error reply or its log line (and is counted), on the server and on the client.

mod common;

use bytes::BytesMut;
use common::{hello_message, start, test_server, Raw, WAIT};
use wslink::client::Client;
use wslink::inbound::Discard;
use wslink::memory::MemoryTransport;
use wslink::msgpack::{chunk, HEADER_LEN};
use wslink::{map, Bytes, CloseCode, Frame, Map, Message, Response, Transport, Value};

/// Logs at the default level of `wslink::cli` servers (info).
fn capture_logs() -> (common::logs::Captured, tracing::subscriber::DefaultGuard) {
    common::logs::capture_at(tracing::Level::INFO)
}

/// One 2.x frame holding `msgpack` as a whole message.
fn frame(msgpack: &[u8]) -> Frame {
    let mut buf = BytesMut::zeroed(HEADER_LEN);
    buf.extend_from_slice(msgpack);
    let encoded = chunk(buf, 1, 0).unwrap();
    encoded.to_frames()[0].clone()
}

fn msgpack(value: &Value) -> Vec<u8> {
    rmp_serde::to_vec(value).unwrap()
}

async fn said_hello(connector: &wslink::memory::MemoryConnector) -> Raw {
    let mut raw = Raw::open(connector).await;
    raw.send(&hello_message(common::SECRET)).await;
    assert!(matches!(raw.recv().await, Some(Message::Response(r)) if r.outcome.is_ok()));
    raw
}

#[tokio::test]
async fn a_request_in_non_minimal_encodings_is_answered() {
    let (_server, connector) = start(test_server());
    let mut raw = said_hello(&connector).await;
    // {"wslink": "1.0", "id": "rpc:c0:1", "method": "test.add", "args": [1, 2], "kwargs": {}}
    // with a map32 header for five entries, str8/str16/str32 strings, array32 for two
    // items, uint64 for 1, int64 for 2 and map16 for the empty map.
    let mut bytes = vec![0xdf, 0, 0, 0, 5];
    let str8 = |s: &str| [vec![0xd9, s.len() as u8], s.as_bytes().to_vec()].concat();
    let str16 = |s: &str| [vec![0xda, 0, s.len() as u8], s.as_bytes().to_vec()].concat();
    let str32 = |s: &str| [vec![0xdb, 0, 0, 0, s.len() as u8], s.as_bytes().to_vec()].concat();
    bytes.extend(str8("wslink"));
    bytes.extend(str16("1.0"));
    bytes.extend(str32("id"));
    bytes.extend(str8("rpc:c0:1"));
    bytes.extend(str16("method"));
    bytes.extend(str32("test.add"));
    bytes.extend(str8("args"));
    bytes.extend([0xdd, 0, 0, 0, 2]);
    bytes.extend([0xcf, 0, 0, 0, 0, 0, 0, 0, 1]);
    bytes.extend([0xd3, 0, 0, 0, 0, 0, 0, 0, 2]);
    bytes.extend(str32("kwargs"));
    bytes.extend([0xde, 0, 0]);
    raw.send_frame(frame(&bytes)).await;
    let reply = raw.recv().await.expect("an answer");
    assert_eq!(
        reply,
        Message::Response(Response {
            id: "rpc:c0:1".into(),
            outcome: Ok(Value::Int(3)),
        })
    );
}

#[tokio::test]
async fn each_message_that_cannot_be_acted_on_leaves_its_trace() {
    let (logs, _guard) = capture_logs();
    let (server, connector) = start(test_server());
    let mut raw = said_hello(&connector).await;

    let not_a_map = msgpack(&wslink::array![1, 2]);
    let no_id = msgpack(&map! { "method" => "test.echo", "args" => wslink::array![1] });
    let bad_id = msgpack(&map! { "id" => 5, "method" => "test.echo" });
    let publication = msgpack(&map! { "id" => "publish:a.b:0", "result" => 1 });
    for bytes in [not_a_map, no_id, bad_id, publication] {
        raw.send_frame(frame(&bytes)).await;
    }
    raw.send_frame(Frame::Text("{}".into())).await;
    // A string id with a method that is not a string: answered.
    let bad_method = msgpack(&map! { "id" => "rpc:c0:7", "method" => 7 });
    raw.send_frame(frame(&bad_method)).await;
    let Some(Message::Response(reply)) = raw.recv().await else {
        panic!("an error reply for a non-string method")
    };
    assert_eq!(reply.id, "rpc:c0:7");
    let error = reply.outcome.unwrap_err();
    assert_eq!(error.code, -32601);
    assert!(error.data.unwrap().to_string().contains("integer"));
    // The connection is still in service.
    let add = msgpack(&map! {
        "id" => "rpc:c0:8", "method" => "test.add", "args" => wslink::array![1, 2], "kwargs" => map! {}
    });
    raw.send_frame(frame(&add)).await;
    let Some(Message::Response(sum)) = raw.recv().await else {
        panic!("an answer")
    };
    assert_eq!(sum.outcome, Ok(Value::Int(3)));

    let stats = server.inbound_stats();
    for class in [
        Discard::NotAMap,
        Discard::NoId,
        Discard::BadId,
        Discard::UnexpectedFrame,
        Discard::BadMethod,
        Discard::Unexpected,
    ] {
        assert_eq!(stats.get(class), 1, "{class}: {stats}");
    }
    let text = logs.text();
    for needle in [
        "class=not_a_map",
        "class=no_id",
        "class=bad_id",
        "class=unexpected_frame",
        "class=bad_method",
        "ignoring a publication sent by a client",
    ] {
        assert!(
            text.contains(needle),
            "no log line with {needle:?}:\n{text}"
        );
    }
    assert!(text.contains(" WARN "), "at warning level:\n{text}");

    // A frame that does not decode closes this connection with 1002 and says why.
    raw.send_frame(frame(&[0x81, 0xa2, b'i', b'd', 0xc1])).await;
    let end = tokio::time::timeout(WAIT, raw.recv()).await.unwrap();
    assert_eq!(end, None, "the server closed");
    let close = raw.rx.close_frame().expect("a close frame").clone();
    assert_eq!(close.code, CloseCode::PROTOCOL_ERROR);
    assert!(close.reason.contains("0xc1"), "{close:?}");
    assert_eq!(stats.get(Discard::Undecodable), 1);
    let text = logs.text();
    assert!(
        text.contains("class=undecodable") && text.contains("closing: protocol error"),
        "{text}"
    );
}

#[tokio::test]
async fn the_client_counts_and_logs_what_it_cannot_use() {
    let (logs, _guard) = capture_logs();
    let (client_side, server_side) = MemoryTransport::pair(64);
    let (tx, rx) = server_side.split();
    let mut server = Raw::from_parts(tx, rx);
    let serve = async {
        let Some(Message::Request(hello)) = server.recv().await else {
            panic!("a hello")
        };
        server
            .send(&Message::Response(Response {
                id: hello.id,
                outcome: Ok(map! { "clientID" => "c1", "maxMsgSize" => 4_194_304 }),
            }))
            .await;
        server
    };
    let (client, mut server) = tokio::join!(Client::connect(client_side, "secret"), serve);
    let client = client.expect("hello accepted");
    let _wanted = client.subscribe("topic.wanted").unwrap();

    // A response nobody waits for, a publication on a topic nobody here subscribed to
    // (twice: the topic is named once), and a map without an id.
    server
        .send(&Message::Response(Response {
            id: "rpc:c1:999".into(),
            outcome: Ok(Value::Nil),
        }))
        .await;
    for counter in 0..2 {
        server
            .send(&Message::Publication(wslink::Publication {
                topic: "topic.unwanted".into(),
                counter,
                data: Value::Nil,
            }))
            .await;
    }
    server
        .send_frame(frame(&msgpack(&map! { "result" => 1 })))
        .await;
    // Then a call that is answered: everything before it was read.
    let call = client.call("x.y", vec![], Map::new());
    let answer = async {
        let Some(Message::Request(r)) = server.recv().await else {
            panic!("a call")
        };
        server
            .send(&Message::Response(Response {
                id: r.id,
                outcome: Ok(Value::Bin(Bytes::from_static(b"ok"))),
            }))
            .await;
    };
    let (result, ()) = tokio::join!(call, answer);
    assert_eq!(result.unwrap().as_bytes().unwrap().as_ref(), b"ok");

    let stats = client.inbound_stats();
    assert_eq!(stats.get(Discard::Unexpected), 3, "{stats}");
    assert_eq!(stats.get(Discard::NoId), 1, "{stats}");
    let text = logs.text();
    assert!(text.contains("no call waits for"), "{text}");
    assert_eq!(
        text.matches("topic.unwanted").count(),
        1,
        "named once:\n{text}"
    );
    assert!(text.contains("class=no_id"), "{text}");
}
