//! The test protocol, checked from the client side. Each check takes a connected client
//! and the facts that differ between servers, so the same checks run against the Rust
//! server (in-process and over WebSockets) and against the Python reference server.
#![allow(dead_code, unreachable_pub)]

use std::time::{Duration, Instant};

use wslink::client::{Client, ClientError};
use wslink::{array, map, Bytes, Ext, Map, Timestamp, Value};
use wslink_test_protocol::pattern_bytes;

use super::WAIT;

/// What differs between the servers under test.
#[derive(Debug, Clone, Copy)]
pub struct Server {
    /// `test.version`'s `implementation`.
    pub implementation: &'static str,
    /// The chat's speaker name.
    pub chat_name: &'static str,
    /// Calls of one connection run concurrently (the Python server runs them in order).
    pub concurrent: bool,
    /// `test.fail` data carries a `trace` (the Python server always sends one).
    pub sends_trace: bool,
}

pub const RUST: Server = Server {
    implementation: "wslink-rs",
    chat_name: "Rust server",
    concurrent: true,
    sends_trace: false,
};
pub const PYTHON: Server = Server {
    implementation: "python-wslink",
    chat_name: "python-wslink",
    concurrent: false,
    sends_trace: true,
};

fn args(values: impl IntoIterator<Item = Value>) -> Vec<Value> {
    values.into_iter().collect()
}

pub async fn echo(client: &Client) {
    let cases = [
        Value::Nil,
        true.into(),
        false.into(),
        0.into(),
        i64::MAX.into(),
        i64::MIN.into(),
        Value::UInt(u64::MAX),
        (-32000).into(),
        1.5.into(),
        f64::MAX.into(),
        f64::INFINITY.into(),
        "".into(),
        "héllo wörld ✓ 日本語 🦀".into(),
        Bytes::from_static(b"\x00\x01\xfe\xff").into(),
        Bytes::new().into(),
        array![1, "two", 3.0, Value::Nil, array![array![]]],
        map! { "nested" => map! { "list" => array![map! { "deep" => true }] }, "" => 0 },
    ];
    for value in cases {
        let got = client
            .call("test.echo", vec![value.clone()], Map::new())
            .await
            .unwrap();
        assert_eq!(got, value);
    }
}

/// msgpack extensions (2.x only): each comes back as the same extension. A timestamp
/// comes back as the same time (a Python server re-encodes it in its smallest form,
/// which ours already is). Application types only (0..=127): Python's `ExtType` refuses
/// the reserved negative ones other than the timestamp, and the Python server then drops
/// the connection.
pub async fn echo_extensions(client: &Client) {
    let cases = [
        Ext::new(5, Bytes::from_static(b"abc")),
        Ext::new(0, Bytes::new()),
        Ext::new(127, Bytes::from(vec![7u8; 16])),
        Ext::new(1, Bytes::from(vec![1u8; 300])),
        Ext::new(42, Bytes::from(vec![2u8; 70_000])),
    ];
    for ext in cases {
        let got = client
            .call("test.echo", vec![ext.clone().into()], Map::new())
            .await
            .unwrap();
        assert_eq!(got, Value::Ext(ext));
    }
    let times = [
        Timestamp::new(0, 0).unwrap(),
        Timestamp::new(1_700_000_000, 0).unwrap(),
        Timestamp::new(1_700_000_000, 123_456_789).unwrap(),
        Timestamp::new(-14_182_940, 250_000_000).unwrap(),
        Timestamp::new(20_000_000_000, 1).unwrap(),
    ];
    for t in times {
        let got = client
            .call("test.echo", vec![map! { "at" => t }], Map::new())
            .await
            .unwrap();
        assert_eq!(got["at"].as_timestamp(), Some(t), "{got}");
    }
}

pub async fn add(client: &Client) {
    let cases = [
        (Value::from(1), Value::from(2), Value::from(3)),
        (Value::from(1), Value::from(2.5), Value::from(3.5)),
        (Value::from(-7), Value::from(7), Value::from(0)),
        (Value::from(i64::MAX), Value::from(1), Value::UInt(1 << 63)),
        // Python's `+`: strings and lists concatenate.
        (Value::from("ab"), Value::from("cd"), Value::from("abcd")),
        (array![1, "x"], array![array![2]], array![1, "x", array![2]]),
    ];
    for (a, b, want) in cases {
        assert_eq!(
            client
                .call("test.add", args([a, b]), Map::new())
                .await
                .unwrap(),
            want
        );
    }
    // Mixed kinds raise Python's TypeError: -32001 with the message in the data.
    for (a, b) in [
        (Value::from("x"), Value::from(1)),
        (array![1], Value::from("x")),
        (map! {}, map! {}),
    ] {
        let err = client
            .call("test.add", args([a, b]), Map::new())
            .await
            .unwrap_err();
        assert_eq!(err.code(), -32001, "{err}");
        let exception = err
            .wire()
            .and_then(|w| w.data.as_ref())
            .map(|d| d["exception"].to_string());
        assert!(
            exception
                .as_deref()
                .is_some_and(|e| e.contains("concatenate") || e.contains("unsupported operand")),
            "the exception names the TypeError: {exception:?}"
        );
    }
}

pub async fn kwargs(client: &Client) {
    let mut kwargs = Map::new();
    kwargs.insert("alpha".into(), 1.into());
    kwargs.insert("beta".into(), array!["b"]);
    let got = client
        .call(
            "test.kwargs",
            args([1.into(), "two".into()]),
            kwargs.clone(),
        )
        .await
        .unwrap();
    assert_eq!(
        got,
        map! { "args" => array![1, "two"], "kwargs" => Value::Map(kwargs) }
    );
    let empty = client
        .call("test.kwargs", vec![], Map::new())
        .await
        .unwrap();
    assert_eq!(empty, map! { "args" => array![], "kwargs" => map! {} });
}

pub async fn fail(client: &Client, server: Server) {
    let err = client
        .call("test.fail", args(["boom".into()]), Map::new())
        .await
        .unwrap_err();
    let ClientError::Rpc(wire) = err else {
        panic!("server error expected, got {err:?}")
    };
    assert_eq!(
        (wire.code, wire.message.as_str()),
        (-32001, "Exception raised")
    );
    let data = wire.data.expect("data");
    assert_eq!(data["method"], Value::from("test.fail"));
    assert!(
        data["exception"]
            .as_str()
            .is_some_and(|e| e.contains("boom")),
        "{data}"
    );
    assert_eq!(data.get("trace").is_some(), server.sends_trace, "{data}");
}

pub async fn unknown_method(client: &Client) {
    let err = client
        .call("no.such.method", vec![], Map::new())
        .await
        .unwrap_err();
    let wire = err.wire().expect("a server error");
    assert_eq!(
        (wire.code, wire.message.as_str()),
        (-32601, "Unregistered method called")
    );
    assert_eq!(wire.data, Some(Value::from("no.such.method")));
}

pub async fn bytes(client: &Client) {
    for n in [0usize, 1, 255, 256, 1000, 70_000] {
        let got = client
            .call("test.bytes", args([n.into()]), Map::new())
            .await
            .unwrap();
        assert_eq!(got, Value::Bin(pattern_bytes(n)), "n = {n}");
    }
}

pub async fn byte_len(client: &Client) {
    let got = client
        .call(
            "test.byte_len",
            args([pattern_bytes(1000).into()]),
            Map::new(),
        )
        .await
        .unwrap();
    assert_eq!(
        got,
        map! { "len" => 1000, "first" => 0, "last" => 231, "pattern" => true }
    );
    let got = client
        .call("test.byte_len", args([Bytes::new().into()]), Map::new())
        .await
        .unwrap();
    assert_eq!(
        got,
        map! { "len" => 0, "first" => Value::Nil, "last" => Value::Nil, "pattern" => true }
    );
    let got = client
        .call(
            "test.byte_len",
            args([Bytes::from_static(&[9, 9]).into()]),
            Map::new(),
        )
        .await
        .unwrap();
    assert_eq!(got["pattern"], Value::Bool(false));
}

pub async fn big_binary_both_ways(client: &Client, n: usize) {
    let down = client
        .call("test.bytes", vec![n.into()], Map::new())
        .await
        .unwrap();
    assert_eq!(down.as_bytes().expect("binary"), &pattern_bytes(n));
    let up = client
        .call("test.byte_len", vec![pattern_bytes(n).into()], Map::new())
        .await
        .unwrap();
    assert_eq!(
        up,
        map! { "len" => n, "first" => 0, "last" => (n - 1) % 256, "pattern" => true }
    );
}

pub async fn publish_in_order(client: &Client, count: u64) {
    let mut sub = client.subscribe("test.stream").unwrap();
    let got = client
        .call(
            "test.publish",
            args(["test.stream".into(), count.into(), 10.into()]),
            Map::new(),
        )
        .await
        .unwrap();
    assert_eq!(got, Value::from(count));
    for seq in 0..count {
        let item = tokio::time::timeout(WAIT, sub.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(item, map! { "seq" => seq, "pad" => "xxxxxxxxxx" });
    }
    assert_eq!(sub.lagged(), 0);
}

/// A slow call (1.5 s) and then a fast one on the same connection: where the server runs
/// calls concurrently the fast one is answered long before the slow one could finish;
/// where it does not (the Python server), only after. The margins (under half, or more
/// than two thirds, of the sleep) make this a check of behaviour, not of speed.
pub async fn sleep(client: &Client, server: Server) {
    let started = Instant::now();
    let slow = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .call("test.sleep", args([1500.into()]), Map::new())
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let fast = client
        .call("test.echo", args(["fast".into()]), Map::new())
        .await
        .unwrap();
    let waited = started.elapsed();
    assert_eq!(fast, Value::from("fast"));
    if server.concurrent {
        assert!(
            waited < Duration::from_millis(750),
            "the fast call waited {waited:?} behind test.sleep"
        );
    } else {
        assert!(
            waited >= Duration::from_millis(1000),
            "answered after {waited:?}: expected in call order"
        );
    }
    assert_eq!(slow.await.unwrap().unwrap(), Value::from(1500));
}

pub async fn version(client: &Client, server: Server) {
    let got = client
        .call("test.version", vec![], Map::new())
        .await
        .unwrap();
    assert_eq!(got["implementation"], Value::from(server.implementation));
    assert!(got["version"].as_str().is_some_and(|v| !v.is_empty()));
}

pub async fn chat_say_hello(speaker: &Client, listener: &Client, server: Server) {
    let mut heard = listener.subscribe("wslink.communication.channel").unwrap();
    let got = speaker
        .call("wslink.say.hello", args(["hi all".into()]), Map::new())
        .await
        .unwrap();
    let line = format!("{}: hi all", server.chat_name);
    assert_eq!(got, Value::from(line.as_str()));
    let heard_line = tokio::time::timeout(WAIT, heard.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(heard_line, Value::from(line.as_str()));
}

pub async fn chat_talking(client: &Client, server: Server) {
    let mut heard = client.subscribe("wslink.communication.channel").unwrap();
    client
        .call("wslink.start.talking", args([0.1.into()]), Map::new())
        .await
        .unwrap();
    for _ in 0..3 {
        let line = tokio::time::timeout(WAIT, heard.recv())
            .await
            .unwrap()
            .unwrap();
        assert!(
            line.as_str()
                .unwrap()
                .starts_with(&format!("{}: ", server.chat_name)),
            "{line}"
        );
    }
    client
        .call("wslink.stop.talking", vec![], Map::new())
        .await
        .unwrap();
    // Drain what was in flight, then nothing more comes.
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(300), heard.recv()).await {}
    assert!(
        tokio::time::timeout(Duration::from_millis(400), heard.recv())
            .await
            .is_err()
    );
}

pub async fn two_hundred_concurrent_calls(client: &Client) {
    let calls = (0..200i64).map(|i| {
        let client = client.clone();
        async move {
            let method = if i % 2 == 0 { "test.add" } else { "test.sleep" };
            let args = if i % 2 == 0 {
                vec![i.into(), 1000.into()]
            } else {
                vec![(i % 7).into()]
            };
            (i, client.call(method, args, Map::new()).await)
        }
    });
    let results = tokio::time::timeout(WAIT, futures_util::future::join_all(calls))
        .await
        .expect("all answered");
    for (i, result) in results {
        let want = if i % 2 == 0 {
            Value::from(i + 1000)
        } else {
            Value::from(i % 7)
        };
        assert_eq!(result.unwrap(), want, "call {i}");
    }
}

/// Sizes for [`every_row`].
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// Publications in the ordering check.
    pub publications: u64,
    /// Bytes each way in the large binary check.
    pub big_binary: usize,
}

/// Every row of the test protocol, one after another, on `client` (`listener` is a second
/// client of the same server, for the chat's publication).
pub async fn every_row(client: &Client, listener: &Client, server: Server, sizes: Sizes) {
    version(client, server).await;
    echo(client).await;
    add(client).await;
    kwargs(client).await;
    fail(client, server).await;
    unknown_method(client).await;
    bytes(client).await;
    byte_len(client).await;
    publish_in_order(client, sizes.publications).await;
    sleep(client, server).await;
    two_hundred_concurrent_calls(client).await;
    chat_say_hello(client, listener, server).await;
    chat_talking(client, server).await;
    big_binary_both_ways(client, sizes.big_binary).await;
}
