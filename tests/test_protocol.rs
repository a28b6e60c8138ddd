//! Every row of the test protocol, Rust client ⇄ Rust server over the in-process transport.

mod common;

use std::time::{Duration, Instant};

use common::{connect, start, test_server, WAIT};
use wslink::client::ClientError;
use wslink::server::test_protocol::pattern_bytes;
use wslink::{array, map, Bytes, Map, Value};

fn args(values: impl IntoIterator<Item = Value>) -> Vec<Value> {
    values.into_iter().collect()
}

#[tokio::test]
async fn echo_returns_every_kind_unchanged() {
    let (_server, connector) = start(test_server());
    let client = connect(&connector).await;
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

#[tokio::test]
async fn add_numbers() {
    let (_server, connector) = start(test_server());
    let client = connect(&connector).await;
    let cases = [
        (Value::from(1), Value::from(2), Value::from(3)),
        (Value::from(1), Value::from(2.5), Value::from(3.5)),
        (Value::from(-7), Value::from(7), Value::from(0)),
        (Value::from(i64::MAX), Value::from(1), Value::UInt(1 << 63)),
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
    let err = client
        .call("test.add", args(["x".into(), 1.into()]), Map::new())
        .await
        .unwrap_err();
    assert_eq!(err.code(), -32001);
}

#[tokio::test]
async fn kwargs_come_back_with_args() {
    let (_server, connector) = start(test_server());
    let client = connect(&connector).await;
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

#[tokio::test]
async fn fail_gives_exception_error_with_method_and_message() {
    let (_server, connector) = start(test_server());
    let client = connect(&connector).await;
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
    assert_eq!(data["exception"], Value::from("boom"));
    assert_eq!(
        data.get("trace"),
        None,
        "no trace unless a debug option asks"
    );
}

#[tokio::test]
async fn bytes_follow_the_pattern() {
    let (_server, connector) = start(test_server());
    let client = connect(&connector).await;
    for n in [0usize, 1, 255, 256, 1000, 70_000] {
        let got = client
            .call("test.bytes", args([n.into()]), Map::new())
            .await
            .unwrap();
        assert_eq!(got, Value::Bin(pattern_bytes(n)), "n = {n}");
    }
}

#[tokio::test]
async fn byte_len_describes_the_upload() {
    let (_server, connector) = start(test_server());
    let client = connect(&connector).await;
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

#[tokio::test]
async fn publish_delivers_every_message_in_order() {
    let (_server, connector) = start(test_server());
    let client = connect(&connector).await;
    let mut sub = client.subscribe("test.stream").unwrap();
    let count = 5000;
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

#[tokio::test]
async fn sleep_does_not_block_other_calls_of_the_connection() {
    let (_server, connector) = start(test_server());
    let client = connect(&connector).await;
    let slow = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .call("test.sleep", args([1500.into()]), Map::new())
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    let fast = client
        .call("test.echo", args(["fast".into()]), Map::new())
        .await
        .unwrap();
    assert_eq!(fast, Value::from("fast"));
    // Ordering, not timing: the fast call is answered while the slow one still runs.
    assert!(
        !slow.is_finished(),
        "echo answered after {:?}, behind the sleep",
        started.elapsed()
    );
    assert_eq!(slow.await.unwrap().unwrap(), Value::from(1500));
}

#[tokio::test]
async fn version_names_the_implementation() {
    let (_server, connector) = start(test_server());
    let client = connect(&connector).await;
    let got = client
        .call("test.version", vec![], Map::new())
        .await
        .unwrap();
    assert_eq!(got["implementation"], Value::from("wslink-rs"));
    assert!(got["version"].as_str().is_some_and(|v| !v.is_empty()));
}

#[tokio::test]
async fn chat_say_hello_publishes_and_returns_the_line() {
    let (_server, connector) = start(test_server());
    let speaker = connect(&connector).await;
    let listener = connect(&connector).await;
    let mut heard = listener.subscribe("wslink.communication.channel").unwrap();
    let got = speaker
        .call("wslink.say.hello", args(["hi all".into()]), Map::new())
        .await
        .unwrap();
    assert_eq!(got, Value::from("Rust server: hi all"));
    let line = tokio::time::timeout(WAIT, heard.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(line, Value::from("Rust server: hi all"));
}

#[tokio::test]
async fn chat_talking_starts_and_stops() {
    let (_server, connector) = start(test_server());
    let client = connect(&connector).await;
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
            line.as_str().unwrap().starts_with("Rust server: "),
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
