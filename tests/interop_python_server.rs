//! The Rust client and the `wslink` CLI against a Python test server running on the real
//! PyPI wslink 2.6.0 (`interop/python/test_server.py`, installed by `interop/setup.sh`).

mod common;

use std::time::Duration;

use common::conformance::{self as check, PYTHON};
use common::peers::{python_server, Peer};
use wslink::client::{Client, ClientError};

const SECRET: &str = "py-secret";

/// A client on a connection that agreed on permessage-deflate (our client offers it, and
/// aiohttp's `compress=True`, the reference's default, accepts it).
async fn client(peer: &Peer) -> Client {
    let transport = wslink::ws::connect(&peer.url)
        .await
        .expect("connect to the Python server");
    assert!(
        transport.deflate(),
        "the Python server agrees on deflate: {:?}",
        transport.extensions()
    );
    Client::connect(transport, SECRET)
        .await
        .expect("hello accepted by the Python server")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_client_runs_the_test_protocol_against_python_wslink_2() {
    let peer = python_server(2, SECRET).await;
    let c = client(&peer).await;
    assert!(c.client_id().as_str().starts_with('c'));
    assert_eq!(
        c.max_frame_size(),
        4194304,
        "maxMsgSize from the Python hello"
    );
    // 20 MiB both ways: the Python server chunks at 4 MiB, we chunk at its maxMsgSize.
    let sizes = check::Sizes {
        publications: 1000,
        big_binary: 20 * 1024 * 1024,
    };
    check::every_row(&c, &client(&peer).await, PYTHON, sizes).await;
    // Python's msgpack hands out ExtType and Timestamp and packs them back the same.
    check::echo_extensions(&c).await;
}

/// The same rows on connections that offer no compression (`Deflate::off`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_client_without_deflate_runs_the_test_protocol_against_python_wslink_2() {
    let peer = python_server(2, SECRET).await;
    let options = wslink::ws::ConnectOptions {
        deflate: wslink::ws::Deflate::off(),
        ..Default::default()
    };
    let plain = || async {
        let transport = wslink::ws::connect_with(&peer.url, &options)
            .await
            .expect("connect to the Python server");
        assert!(!transport.deflate(), "{:?}", transport.extensions());
        Client::connect(transport, SECRET).await.expect("hello")
    };
    let sizes = check::Sizes {
        publications: 200,
        big_binary: 20 * 1024 * 1024,
    };
    check::every_row(&plain().await, &plain().await, PYTHON, sizes).await;
}

/// The typed client of our test protocol (`#[wslink::protocol(client = TestClient)]`)
/// against the Python one: the same signatures work there, and so do arguments by name,
/// which the reference takes as `method(*args, **kwargs)`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_client_and_arguments_by_name_against_python_wslink_2() {
    use wslink::{Map, Value};
    use wslink_test_protocol::{pattern_bytes, TestClient};

    let peer = python_server(2, SECRET).await;
    let test = TestClient::new(client(&peer).await);
    assert_eq!(test.add(2.into(), 3.into()).await.unwrap(), Value::from(5));
    assert_eq!(test.echo(None).await.unwrap(), Value::Nil);
    let described = test.byte_len(pattern_bytes(5000)).await.unwrap();
    assert_eq!(described["len"], Value::from(5000));
    let failure = test.fail(None).await.unwrap_err();
    let data = failure
        .wire()
        .and_then(|w| w.data.clone())
        .unwrap_or_default();
    assert!(
        data["exception"].to_string().contains("test.fail called"),
        "{data}"
    );

    let by_name = |pairs: &[(&str, Value)]| -> Map {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    };
    let c = test.client();
    let blob = Value::Bin(pattern_bytes(300));
    let described = c
        .call("test.byte_len", vec![], by_name(&[("blob", blob)]))
        .await
        .unwrap();
    assert_eq!(described["len"], Value::from(300));
    let sum = c
        .call("test.add", vec!["x".into()], by_name(&[("b", "y".into())]))
        .await;
    assert_eq!(sum.unwrap(), Value::from("xy"));
    // Python's TypeError names the keyword too; our server words it the same way.
    let unknown = c
        .call(
            "test.add",
            vec![1.into(), 2.into()],
            by_name(&[("c", 3.into())]),
        )
        .await;
    let data = unknown
        .unwrap_err()
        .wire()
        .and_then(|w| w.data.clone())
        .unwrap_or_default();
    assert!(
        data["exception"]
            .to_string()
            .contains("unexpected keyword argument 'c'"),
        "{data}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_is_a_typed_auth_error_from_python() {
    let peer = python_server(2, SECRET).await;
    let transport = wslink::ws::connect(&peer.url).await.unwrap();
    let err = Client::connect(transport, "wrong").await.unwrap_err();
    let ClientError::Auth(wire) = err else {
        panic!("auth error expected, got {err:?}")
    };
    assert_eq!(
        (wire.code, wire.message.as_str()),
        (-32000, "Authentication failed")
    );
}

use common::peers::wslink_cli as cli;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_calls_and_subscribes_against_python_wslink_2() {
    let peer = python_server(2, SECRET).await;
    let url = peer.url.as_str();
    let (ok, out, err) = cli(&["call", url, "test.add", "[1, 2.5]", "--secret", SECRET]).await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "3.5");

    let (ok, out, _) = cli(&[
        "call",
        url,
        "test.kwargs",
        "[1]",
        "--kwargs",
        r#"{"b": [true, null], "a": "x"}"#,
        "--secret",
        SECRET,
    ])
    .await;
    assert!(ok);
    assert_eq!(
        out.trim(),
        r#"{"args":[1],"kwargs":{"b":[true,null],"a":"x"}}"#
    );

    let (ok, _, err) = cli(&["call", url, "test.fail", r#"["boom"]"#, "--secret", SECRET]).await;
    assert!(!ok, "a server error exits non-zero");
    assert!(
        err.contains("error -32001: Exception raised") && err.contains("boom"),
        "{err}"
    );

    let (ok, _, err) = cli(&["call", url, "test.echo", "[1]", "--secret", "wrong"]).await;
    assert!(!ok);
    assert!(err.contains("Authentication failed"), "{err}");

    let dir = std::env::temp_dir().join(format!("wslink-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let blob = dir.join("blob.bin");
    let (ok, out, err) = cli(&[
        "call",
        url,
        "test.bytes",
        "[300]",
        "--out",
        blob.to_str().unwrap(),
        "--secret",
        SECRET,
    ])
    .await;
    assert!(ok, "{err}");
    assert!(out.contains("\"len\":300"), "{out}");
    let written = std::fs::read(&blob).unwrap();
    assert_eq!(written, (0..300).map(|i| i as u8).collect::<Vec<_>>());
    let (ok, out, err) = cli(&[
        "call",
        url,
        "test.byte_len",
        "--bin-arg",
        blob.to_str().unwrap(),
        "--secret",
        SECRET,
    ])
    .await;
    assert!(ok, "{err}");
    assert_eq!(
        out.trim(),
        r#"{"len":300,"first":0,"last":43,"pattern":true}"#
    );

    // subscribe prints each publication as a JSON line.
    let listener = tokio::spawn({
        let url = url.to_owned();
        async move {
            cli(&[
                "subscribe",
                &url,
                "test.cli",
                "--count",
                "3",
                "--timeout",
                "30",
                "--secret",
                SECRET,
            ])
            .await
        }
    });
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (ok, _, err) = cli(&[
        "call",
        url,
        "test.publish",
        r#"["test.cli", 3]"#,
        "--secret",
        SECRET,
    ])
    .await;
    assert!(ok, "{err}");
    let (ok, out, err) = listener.await.unwrap();
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            r#"{"seq":0,"pad":""}"#,
            r#"{"seq":1,"pad":""}"#,
            r#"{"seq":2,"pad":""}"#
        ]
    );
    std::fs::remove_dir_all(dir).ok();
}

async fn v1_client(peer: &Peer) -> Client {
    let transport = wslink::ws::connect(&peer.url)
        .await
        .expect("connect to the Python 1.x server");
    assert!(transport.deflate(), "{:?}", transport.extensions());
    wslink::client::ClientBuilder::with_codec(wslink::json::JsonCodec::new())
        .secret(SECRET)
        .connect(transport)
        .await
        .expect("hello accepted by the Python 1.x server")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_1x_client_runs_the_test_protocol_against_python_wslink_1() {
    let peer = python_server(1, SECRET).await;
    let c = v1_client(&peer).await;
    assert_eq!(
        c.max_frame_size(),
        wslink::client::PRE_HELLO_FRAME_SIZE,
        "a 1.x hello has no maxMsgSize"
    );
    // The Python 1.x server refuses WebSocket messages over 4 MiB (no chunking in 1.x).
    let sizes = check::Sizes {
        publications: 500,
        big_binary: 4_000_000,
    };
    check::every_row(&c, &v1_client(&peer).await, PYTHON, sizes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_speaks_1x_to_python_wslink_1() {
    let peer = python_server(1, SECRET).await;
    let url = peer.url.as_str();
    let (ok, out, err) = cli(&[
        "call", url, "test.add", "[1, 2.5]", "--secret", SECRET, "--v1",
    ])
    .await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "3.5");
    let (ok, out, err) = cli(&[
        "--v1",
        "call",
        url,
        "test.byte_len",
        "--bin-arg",
        "Cargo.toml",
        "--secret",
        SECRET,
    ])
    .await;
    assert!(ok, "{err}");
    let len = std::fs::metadata("Cargo.toml").unwrap().len();
    assert!(out.starts_with(&format!("{{\"len\":{len},")), "{out}");
    let (ok, _, err) = cli(&[
        "call",
        url,
        "test.fail",
        r#"["boom"]"#,
        "--secret",
        SECRET,
        "--v1",
    ])
    .await;
    assert!(!ok && err.contains("error -32001"), "{err}");
}
