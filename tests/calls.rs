//! Many calls in flight, big binary both ways, failures that must not hang, middleware.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use common::{connect, start, test_server, WAIT};
use wslink::client::{Client, ClientError};
use wslink::server::{ExitPolicy, Server};
use wslink::{memory, Call, Map, RpcError, Value};
use wslink_test_protocol::pattern_bytes;

#[tokio::test]
async fn two_hundred_concurrent_calls_all_answered_correctly() {
    let (_server, connector) = start(test_server());
    common::conformance::two_hundred_concurrent_calls(&connect(&connector).await).await;
}

#[tokio::test]
async fn twenty_mib_binary_both_ways() {
    let (_server, connector) = start(test_server());
    let client = connect(&connector).await;
    let n = 20 * 1024 * 1024;
    common::conformance::big_binary_both_ways(&client, n).await;
    let echoed = client
        .call("test.echo", vec![pattern_bytes(n).into()], Map::new())
        .await
        .unwrap();
    assert_eq!(echoed.as_bytes().unwrap(), &pattern_bytes(n));
}

#[tokio::test]
async fn calls_in_flight_fail_when_the_connection_drops() {
    let server = Server::builder().rpc("hang", || async move {
        std::future::pending::<()>().await;
        Ok(())
    });
    let (handle, connector) = start(server);
    let client = connect(&connector).await;
    let pending = {
        let client = client.clone();
        tokio::spawn(async move { client.call("hang", vec![], Map::new()).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    handle.shutdown();
    let result = tokio::time::timeout(WAIT, pending)
        .await
        .expect("no hang")
        .unwrap();
    assert!(
        matches!(result, Err(ClientError::Disconnected)),
        "{result:?}"
    );
    let after = client.call("test.echo", vec![], Map::new()).await;
    assert!(matches!(after, Err(ClientError::Disconnected)), "{after:?}");
}

#[tokio::test]
async fn request_timeout_fails_the_call_and_the_connection_lives_on() {
    let (_server, connector) = start(test_server());
    let client = Client::builder()
        .request_timeout(Duration::from_millis(100))
        .connect(connector.connect().await.unwrap())
        .await
        .unwrap();
    let slow = client
        .call("test.sleep", vec![2000.into()], Map::new())
        .await;
    assert!(matches!(slow, Err(ClientError::Timeout)), "{slow:?}");
    assert_eq!(
        client
            .call("test.echo", vec![2.into()], Map::new())
            .await
            .unwrap(),
        Value::from(2)
    );
}

/// `?` on any error type turns it into -32001 with the error's message.
async fn read_missing_file() -> Result<String, RpcError> {
    Ok(std::fs::read_to_string("/nonexistent/wslink-rs-test")?)
}

#[tokio::test]
async fn handler_errors_and_argument_errors_map_to_codes() {
    let server = Server::builder()
        .rpc("io", read_missing_file)
        .rpc("needs_two", |a: i64, b: i64| async move { Ok(a * b) })
        .rpc("custom", || async move {
            Err::<(), _>(RpcError::custom(-1, "mine", Some("why".into())))
        });
    let (_server, connector) = start(server);
    let client = connect(&connector).await;
    let e = client.call("io", vec![], Map::new()).await.unwrap_err();
    assert_eq!(e.code(), -32001);
    let exception = e.wire().unwrap().data.as_ref().unwrap()["exception"].clone();
    assert!(
        exception.as_str().unwrap().contains("No such file"),
        "{exception}"
    );
    let e = client
        .call("needs_two", vec![1.into()], Map::new())
        .await
        .unwrap_err();
    assert_eq!(e.code(), -32001);
    assert!(e.to_string().contains("missing argument 2"), "{e}");
    let e = client
        .call("needs_two", vec![1.into(), "x".into()], Map::new())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("argument 2"), "{e}");
    let e = client.call("custom", vec![], Map::new()).await.unwrap_err();
    let wire = e.wire().unwrap();
    assert_eq!(
        (wire.code, wire.message.as_str(), wire.data.clone()),
        (-1, "mine", Some("why".into()))
    );
}

/// A tower layer written by a user: counts calls and refuses one method.
#[derive(Clone)]
struct Audit<S> {
    inner: S,
    seen: Arc<AtomicUsize>,
}

impl<S> tower::Service<Call> for Audit<S>
where
    S: tower::Service<Call, Response = Value, Error = RpcError> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Value;
    type Error = RpcError;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<Value, RpcError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), RpcError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, call: Call) -> Self::Future {
        self.seen.fetch_add(1, Ordering::SeqCst);
        if call.method == "test.fail" {
            return Box::pin(async { Err(RpcError::custom(-40300, "forbidden by policy", None)) });
        }
        Box::pin(self.inner.call(call))
    }
}

#[tokio::test]
async fn user_middleware_wraps_the_router() {
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let server = test_server().layer(tower::layer::layer_fn(move |inner| Audit {
        inner,
        seen: counter.clone(),
    }));
    let (_server, connector) = start(server);
    let client = connect(&connector).await;
    client
        .call("test.echo", vec![1.into()], Map::new())
        .await
        .unwrap();
    let e = client
        .call("test.fail", vec!["x".into()], Map::new())
        .await
        .unwrap_err();
    assert_eq!(e.code(), -40300);
    assert_eq!(
        seen.load(Ordering::SeqCst),
        2,
        "the hello is not seen by inner layers"
    );
}

#[tokio::test]
async fn exit_later_is_refused_while_others_are_connected_by_default() {
    let (handle, connector) = start(test_server());
    let a = connect(&connector).await;
    let _b = connect(&connector).await;
    a.call("application.exit.later", vec![0.into()], Map::new())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!handle.is_shut_down(), "another client is connected");
    a.call("application.exit", vec![], Map::new())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!handle.is_shut_down());
}

#[tokio::test]
async fn exit_is_honoured_for_a_lone_client_and_closes_with_1001() {
    let (handle, connector) = start(test_server());
    let mut raw = common::Raw::open(&connector).await;
    raw.send(&common::hello_message(common::SECRET)).await;
    raw.recv().await;
    raw.send(&wslink::Message::Request(wslink::Request {
        id: "rpc:c:1".into(),
        method: "application.exit".into(),
        args: vec![],
        kwargs: Map::new(),
    }))
    .await;
    assert!(
        matches!(raw.recv().await, Some(wslink::Message::Response(r)) if r.outcome == Ok(Value::Nil))
    );
    assert_eq!(raw.recv().await, None);
    assert_eq!(
        raw.rx.close_frame().unwrap().code,
        wslink::CloseCode::GOING_AWAY
    );
    assert_eq!(raw.rx.close_frame().unwrap().reason, "Server shutdown");
    assert!(handle.is_shut_down());
}

#[tokio::test]
async fn exit_policy_always_matches_the_reference() {
    let (handle, connector) =
        start(test_server().configure(|c| c.exit_policy = ExitPolicy::Always));
    let a = connect(&connector).await;
    let _b = connect(&connector).await;
    a.call("application.exit.later", vec![0.1.into()], Map::new())
        .await
        .unwrap();
    tokio::time::timeout(WAIT, handle.stopped())
        .await
        .expect("stops");
}

#[tokio::test]
async fn idle_timeout_counts_from_the_last_client_leaving() {
    let server = test_server()
        .configure(|c| c.idle_timeout = Some(Duration::from_millis(300)))
        .build();
    let handle = server.handle();
    let (listener, connector) = memory::listener(8);
    let serving = tokio::spawn(server.serve(listener));
    let client = connect(&connector).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(!handle.is_shut_down(), "a client is connected");
    client.close().await;
    drop(client);
    tokio::time::timeout(WAIT, serving)
        .await
        .expect("stops once idle")
        .unwrap();
}

#[tokio::test]
async fn an_application_s_own_exit_method_replaces_the_built_in_one() {
    let server = test_server().rpc("application.exit", || async { Ok("not leaving") });
    let (handle, connector) = start(server);
    let client = connect(&connector).await;
    let answer = client
        .call("application.exit", vec![], Map::new())
        .await
        .unwrap();
    assert_eq!(answer, wslink::Value::from("not leaving"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!handle.is_shut_down());
}
