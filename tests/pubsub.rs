//! Publications: who receives them, in which order, encoded how many times.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{connect, start, test_server, Raw, WAIT};
use wslink::msgpack::MsgpackCodec;
use wslink::server::{Context, ServerBuilder};
use wslink::{Codec, DecodeLimits, Encoded, Map, Message, Target, Value};

#[tokio::test]
async fn two_clients_receive_one_publication_and_unsubscribe_by_drop() {
    let (server, connector) = start(test_server());
    let a = connect(&connector).await;
    let b = connect(&connector).await;
    let mut sa = a.subscribe("news").unwrap();
    let mut sb = b.subscribe("news").unwrap();
    assert_eq!(server.publish("news", "first").await.unwrap(), 2);
    for sub in [&mut sa, &mut sb] {
        assert_eq!(
            tokio::time::timeout(WAIT, sub.recv()).await.unwrap(),
            Some(Value::from("first"))
        );
    }
    drop(sb);
    server.publish("news", "second").await.unwrap();
    assert_eq!(
        tokio::time::timeout(WAIT, sa.recv()).await.unwrap(),
        Some(Value::from("second"))
    );
    // b still gets the publication on the wire, but has no subscriber: it is dropped there.
    let mut sb = b.subscribe("news").unwrap();
    server.publish("news", "third").await.unwrap();
    assert_eq!(
        tokio::time::timeout(WAIT, sb.recv()).await.unwrap(),
        Some(Value::from("third"))
    );
}

#[tokio::test]
async fn targets_one_client_or_all_but_one_exactly_once() {
    let publish_to = |ctx: Context, mode: String| async move {
        let target = match mode.as_str() {
            "me" => Target::Client(ctx.client_id().clone()),
            _ => Target::AllExcept(ctx.client_id().clone()),
        };
        ctx.publish_to("t", mode, target).await
    };
    let (_server, connector) = start(test_server().rpc("pub", publish_to));
    let clients = [
        connect(&connector).await,
        connect(&connector).await,
        connect(&connector).await,
    ];
    let mut subs: Vec<_> = clients.iter().map(|c| c.subscribe("t").unwrap()).collect();
    let sent = clients[0]
        .call("pub", vec!["others".into()], Map::new())
        .await
        .unwrap();
    assert_eq!(sent, Value::from(2));
    let sent = clients[0]
        .call("pub", vec!["me".into()], Map::new())
        .await
        .unwrap();
    assert_eq!(sent, Value::from(1));
    assert_eq!(subs[0].recv().await, Some(Value::from("me")));
    for sub in &mut subs[1..] {
        assert_eq!(sub.recv().await, Some(Value::from("others")));
        assert!(
            tokio::time::timeout(Duration::from_millis(200), sub.recv())
                .await
                .is_err(),
            "exactly once"
        );
    }
}

#[tokio::test]
async fn unauthenticated_connections_get_no_publications() {
    let (server, connector) = start(test_server());
    let mut raw = Raw::open(&connector).await;
    let client = connect(&connector).await;
    let mut sub = client.subscribe("t").unwrap();
    assert_eq!(
        server.publish("t", 1).await.unwrap(),
        1,
        "only the authenticated client"
    );
    assert_eq!(sub.recv().await, Some(Value::from(1)));
    raw.send(&common::hello_message(common::SECRET)).await;
    let first = raw.recv().await.unwrap();
    assert!(
        matches!(first, Message::Response(_)),
        "the hello reply comes first, no publication before: {first:?}"
    );
}

#[tokio::test]
async fn invalid_topics_are_refused_on_both_sides() {
    let (server, connector) = start(test_server());
    let client = connect(&connector).await;
    assert!(server.publish("my-topic", 1).await.is_err());
    assert!(client.subscribe("a b").is_err());
    let e = client
        .call(
            "test.publish",
            vec!["bad/topic".into(), 1.into()],
            Map::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), -32001);
}

/// The msgpack codec, counting how often it encodes a publication.
#[derive(Clone, Default)]
struct CountingCodec {
    publications: Arc<AtomicUsize>,
}

impl Codec for CountingCodec {
    type Decoder = <MsgpackCodec as Codec>::Decoder;
    fn generation(&self) -> wslink::Generation {
        MsgpackCodec::new().generation()
    }
    fn encode(&self, message: &Message, max: usize) -> Result<Encoded, wslink::CodecError> {
        if matches!(message, Message::Publication(_)) {
            self.publications.fetch_add(1, Ordering::SeqCst);
        }
        MsgpackCodec::new().encode(message, max)
    }
    fn decoder(&self, limits: DecodeLimits) -> Self::Decoder {
        MsgpackCodec::new().decoder(limits)
    }
}

#[tokio::test]
async fn a_publication_is_encoded_once_for_all_subscribers() {
    let codec = CountingCodec::default();
    let server = ServerBuilder::with_codec(codec.clone())
        .secret(common::SECRET)
        .build();
    let handle = server.handle();
    let (listener, connector) = wslink::memory::listener(64);
    tokio::spawn(server.serve(listener));
    let mut clients = Vec::new();
    let mut subs = Vec::new();
    for _ in 0..5 {
        let client = connect(&connector).await;
        subs.push(client.subscribe("fan.out").unwrap());
        clients.push(client);
    }
    assert_eq!(
        handle.publish("fan.out", "x".repeat(1000)).await.unwrap(),
        5
    );
    for sub in &mut subs {
        assert_eq!(sub.recv().await.unwrap().as_str().map(str::len), Some(1000));
    }
    assert_eq!(codec.publications.load(Ordering::SeqCst), 1);
}

/// The whole stalled-reader run: 3000 publications, one of them waiting out the 200 ms
/// of the slow-client policy.
const STALLED_RUN_DEADLINE: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_client_that_never_reads_does_not_stop_the_others() {
    use wslink::FrameSink as _;
    let (server, connector) = start(test_server().configure(|c| {
        c.outbox_capacity = 16;
        c.slow_client = wslink::server::SlowClientPolicy::Wait(Duration::from_millis(200));
    }));
    // A raw client that says hello and then never reads again.
    let mut stalled = Raw::open(&connector).await;
    stalled.send(&common::hello_message(common::SECRET)).await;
    stalled.recv().await;
    let reader = connect(&connector).await;
    let mut sub = reader.subscribe("flood").unwrap();
    let count = 3000;
    let started = std::time::Instant::now();
    let publisher = tokio::spawn(async move {
        for i in 0..count {
            server.publish("flood", i).await.unwrap();
        }
    });
    // The stalled client may hold up one publication for its 200 ms, not each of them:
    // waiting 200 ms per publication would take 600 s, waiting every 50th 12 s.
    let everything = async {
        for i in 0..count {
            assert_eq!(sub.recv().await, Some(Value::from(i)));
        }
        publisher.await.unwrap();
    };
    tokio::time::timeout(STALLED_RUN_DEADLINE, everything)
        .await
        .unwrap_or_else(|_| {
            panic!(
                "{count} publications not all delivered within {STALLED_RUN_DEADLINE:?} \
                 (after {:?}): the stalled client holds up the publisher",
                started.elapsed()
            )
        });
    stalled
        .tx
        .close(wslink::Close::new(wslink::CloseCode::NORMAL, ""))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_publish_counter_increments() {
    let (server, connector) = start(test_server());
    let mut raw = Raw::open(&connector).await;
    raw.send(&common::hello_message(common::SECRET)).await;
    raw.recv().await;
    server.publish("t", 1).await.unwrap();
    server.publish("t", 2).await.unwrap();
    let counters: Vec<u64> = [raw.recv().await, raw.recv().await]
        .into_iter()
        .map(|m| match m {
            Some(Message::Publication(p)) => p.counter,
            other => panic!("publication expected, got {other:?}"),
        })
        .collect();
    assert!(counters[1] > counters[0], "{counters:?}");
}

/// As in the reference: a handler's publications leave after its reply when it returns
/// without waiting, and before it when it waits in between.
#[tokio::test]
async fn a_reply_goes_before_what_its_handler_published_meanwhile() {
    let server = test_server().rpc("t.publish_then_wait", |ctx: Context| async move {
        ctx.publish("t.early", 1).await?;
        tokio::time::sleep(Duration::from_millis(20)).await;
        ctx.publish("t.late", 2).await?;
        Ok::<_, wslink::RpcError>("done")
    });
    let (_server, connector) = start(server);
    let mut raw = Raw::open(&connector).await;
    raw.send(&common::hello_message(common::SECRET)).await;
    raw.recv().await;
    let call = |id: &str, method: &str, args: Vec<Value>| {
        Message::Request(wslink::Request {
            id: id.into(),
            method: method.into(),
            args,
            kwargs: Map::new(),
        })
    };
    // Answered at once: the reply, then the three publications in order.
    raw.send(&call(
        "rpc:c0:1",
        "test.publish",
        vec!["t.now".into(), 3.into()],
    ))
    .await;
    let mut order = Vec::new();
    for _ in 0..4 {
        order.push(match raw.recv().await {
            Some(Message::Response(r)) => r.id,
            Some(Message::Publication(p)) => format!("{}#{}", p.topic, p.data["seq"]),
            other => panic!("{other:?}"),
        });
    }
    assert_eq!(order, ["rpc:c0:1", "t.now#0", "t.now#1", "t.now#2"]);
    // Published, then waited, then published and returned.
    raw.send(&call("rpc:c0:2", "t.publish_then_wait", vec![]))
        .await;
    let mut order = Vec::new();
    for _ in 0..3 {
        order.push(match raw.recv().await {
            Some(Message::Response(r)) => r.id,
            Some(Message::Publication(p)) => p.topic,
            other => panic!("{other:?}"),
        });
    }
    assert_eq!(order, ["t.early", "rpc:c0:2", "t.late"]);
}
