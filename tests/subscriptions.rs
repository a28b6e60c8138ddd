//! Server-side subscriptions (`wslink.subscribe` / `wslink.unsubscribe`): the delivery
//! rule, bad input, subscriber counts and hooks, encodings per publication. Peers speak
//! raw frames, so each test sees exactly what the server sends.

mod common;

use std::sync::{Arc, Mutex};

use common::{hello_message, start, test_server, Raw, SECRET, WAIT};
use wslink::server::{ServerHandle, SubscriberEvent};
use wslink::{map, ClientId, Map, Message, Request, Response, Target, Value, WireError};

/// A raw peer past its hello.
struct Peer {
    raw: Raw,
    id: ClientId,
    calls: u64,
}

impl Peer {
    async fn open(connector: &wslink::memory::MemoryConnector) -> Peer {
        let mut raw = Raw::open(connector).await;
        raw.send(&hello_message(SECRET)).await;
        let Some(Message::Response(Response {
            outcome: Ok(reply), ..
        })) = raw.recv().await
        else {
            panic!("hello reply expected")
        };
        assert_eq!(reply["subscriptions"], Value::Bool(true), "{reply}");
        let id = ClientId::from_wire(reply["clientID"].as_str().unwrap());
        Peer { raw, id, calls: 0 }
    }

    async fn call(&mut self, method: &str, args: Vec<Value>) -> Result<Value, WireError> {
        self.calls += 1;
        let id = format!("rpc:{}:{}", self.id, self.calls);
        self.raw
            .send(&Message::Request(Request {
                id: id.clone(),
                method: method.into(),
                args,
                kwargs: Map::new(),
            }))
            .await;
        match self.raw.recv().await {
            Some(Message::Response(r)) if r.id == id => r.outcome,
            other => panic!("the answer to {method} expected, got {other:?}"),
        }
    }

    async fn subscribe(&mut self, topic: &str, options: Value) {
        let reply = self
            .call("wslink.subscribe", vec![topic.into(), options])
            .await;
        assert_eq!(reply, Ok(map! { "topic" => topic }));
    }

    /// The publications received until the marker `server` sends to this peer alone:
    /// the queue is in order, so whatever else was sent before it is in the list.
    async fn received(&mut self, server: &ServerHandle) -> Vec<(String, Value)> {
        let target = Target::Client(self.id.clone());
        assert_eq!(server.publish_to("marker", "end", target).await.unwrap(), 1);
        let mut out = Vec::new();
        loop {
            match self.raw.recv().await {
                Some(Message::Publication(p)) if p.topic == "marker" => return out,
                Some(Message::Publication(p)) => out.push((p.topic, p.data)),
                other => panic!("publication expected, got {other:?}"),
            }
        }
    }
}

fn temp(room: i64, value: f64) -> Value {
    map! { "kind" => "temp", "room" => room, "value" => value, "unit" => "C" }
}

#[tokio::test]
async fn without_subscriptions_every_connection_gets_every_publication() {
    let (server, connector) = start(test_server());
    let mut a = Peer::open(&connector).await;
    let mut b = Peer::open(&connector).await;
    assert_eq!(server.publish("sensors", temp(1, 20.0)).await.unwrap(), 2);
    for peer in [&mut a, &mut b] {
        assert_eq!(
            peer.received(&server).await,
            [("sensors".into(), temp(1, 20.0))]
        );
    }
}

#[tokio::test]
async fn a_subscriber_gets_only_matching_publications_projected_others_get_all() {
    let (server, connector) = start(test_server());
    let mut sub = Peer::open(&connector).await;
    let mut other = Peer::open(&connector).await;
    let options = map! {
        "where" => map! { "room" => 2 },
        "fields" => Value::Array(vec!["value".into(), "room".into()]),
    };
    sub.subscribe("sensors", options).await;
    for room in [1, 2, 3, 2] {
        server.publish("sensors", temp(room, 20.5)).await.unwrap();
    }
    server.publish("elsewhere", 7).await.unwrap();
    let projected = map! { "room" => 2, "value" => 20.5 };
    assert_eq!(
        sub.received(&server).await,
        [
            ("sensors".into(), projected.clone()),
            ("sensors".into(), projected),
            ("elsewhere".into(), Value::from(7)),
        ],
        "matching ones only, projected; a topic never subscribed arrives whole"
    );
    let all: Vec<_> = [1, 2, 3, 2]
        .iter()
        .map(|&r| ("sensors".to_owned(), temp(r, 20.5)))
        .chain([("elsewhere".to_owned(), Value::from(7))])
        .collect();
    assert_eq!(other.received(&server).await, all);
}

#[tokio::test]
async fn several_matching_subscriptions_deliver_once_with_the_union_of_fields() {
    let (server, connector) = start(test_server());
    let mut peer = Peer::open(&connector).await;
    let fields = |f: &[&str]| Value::Array(f.iter().map(|&s| s.into()).collect());
    peer.subscribe("sensors", map! { "fields" => fields(&["room"]) })
        .await;
    peer.subscribe(
        "sensors",
        map! { "where" => map! { "room" => 1 }, "fields" => fields(&["value"]) },
    )
    .await;
    server.publish("sensors", temp(1, 3.0)).await.unwrap();
    server.publish("sensors", temp(2, 4.0)).await.unwrap();
    assert_eq!(
        peer.received(&server).await,
        [
            ("sensors".into(), map! { "room" => 1, "value" => 3.0 }),
            ("sensors".into(), map! { "room" => 2 }),
        ]
    );
}

#[tokio::test]
async fn a_prefix_pattern_covers_the_topics_under_it() {
    let (server, connector) = start(test_server());
    let mut peer = Peer::open(&connector).await;
    peer.subscribe("sensors.*", map! { "where" => map! { "kind" => "temp" } })
        .await;
    server.publish("sensors.a", temp(1, 1.0)).await.unwrap();
    server
        .publish("sensors.b.c", map! { "kind" => "humidity" })
        .await
        .unwrap();
    server.publish("sensors", "not under").await.unwrap();
    assert_eq!(
        peer.received(&server).await,
        [
            ("sensors.a".into(), temp(1, 1.0)),
            ("sensors".into(), Value::from("not under")),
        ]
    );
}

#[tokio::test]
async fn unsubscribing_returns_to_every_publication() {
    let (server, connector) = start(test_server());
    let mut peer = Peer::open(&connector).await;
    peer.subscribe("t", map! { "where" => map! { "x" => 1 } })
        .await;
    server.publish("t", map! { "x" => 2 }).await.unwrap();
    assert_eq!(peer.received(&server).await, []);
    let reply = peer.call("wslink.unsubscribe", vec!["t".into()]).await;
    assert_eq!(reply, Ok(map! { "topic" => "t" }));
    server.publish("t", map! { "x" => 2 }).await.unwrap();
    assert_eq!(
        peer.received(&server).await,
        [("t".into(), map! { "x" => 2 })]
    );
}

#[tokio::test]
async fn a_subscribers_only_topic_reaches_subscribers_only_and_costs_nothing_unheard() {
    let (server, connector) = start(test_server().subscribers_only("private"));
    let mut sub = Peer::open(&connector).await;
    let mut other = Peer::open(&connector).await;
    let before = server.encodings();
    assert_eq!(server.publish("private", 1).await.unwrap(), 0);
    assert_eq!(
        server.encodings(),
        before,
        "nobody listens: nothing encoded"
    );
    sub.subscribe("private", Value::Nil).await;
    assert_eq!(server.publish("private", 2).await.unwrap(), 1);
    assert_eq!(sub.received(&server).await, [("private".into(), 2.into())]);
    assert_eq!(other.received(&server).await, []);
}

#[tokio::test]
async fn a_publication_no_filter_matches_is_not_encoded() {
    let (server, connector) = start(test_server().subscribers_only("t"));
    let mut peer = Peer::open(&connector).await;
    peer.subscribe("t", map! { "where" => map! { "x" => 1 } })
        .await;
    let before = server.encodings();
    assert_eq!(server.publish("t", map! { "x" => 2 }).await.unwrap(), 0);
    assert_eq!(server.encodings(), before);
    let to_other = Target::AllExcept(peer.id.clone());
    assert_eq!(
        server
            .publish_to("t", map! { "x" => 1 }, to_other)
            .await
            .unwrap(),
        0
    );
    assert_eq!(server.encodings(), before, "targets come first");
}

#[tokio::test]
async fn one_encoding_per_distinct_projection_not_per_subscriber() {
    let (server, connector) = start(test_server());
    let fields = |f: &str| Value::Array(vec![f.into()]);
    let mut peers = Vec::new();
    for i in 0..12 {
        let mut peer = Peer::open(&connector).await;
        match i % 3 {
            // Each with its own condition, all with the same projection.
            0 => {
                let options =
                    map! { "where" => map! { "n" => 1, "i" => i }, "fields" => fields("a") };
                peer.subscribe("t", options).await;
            }
            1 => peer.subscribe("t", map! { "fields" => fields("b") }).await,
            _ => {} // never subscribes: the whole payload
        }
        peers.push(peer);
    }
    let data = map! { "n" => 1, "a" => 1, "b" => 2, "c" => 3 };
    let before = server.encodings();
    assert_eq!(server.publish("t", data.clone()).await.unwrap(), 8);
    assert_eq!(
        server.encodings() - before,
        2,
        "{{b}} and the whole payload (no `where` of the {{a}} ones matches)"
    );
    for (i, peer) in peers.iter_mut().enumerate() {
        let want = match i % 3 {
            0 => vec![],
            1 => vec![("t".to_owned(), map! { "b" => 2 })],
            _ => vec![("t".to_owned(), data.clone())],
        };
        assert_eq!(peer.received(&server).await, want, "peer {i}");
    }
    let with_i = |i: i64| map! { "n" => 1, "i" => i, "a" => 1, "b" => 2 };
    let before = server.encodings();
    assert_eq!(server.publish("t", with_i(3)).await.unwrap(), 9);
    assert_eq!(
        server.encodings() - before,
        3,
        "whole, {{a}}, {{b}}: once each, not once per receiver"
    );
}

#[tokio::test]
async fn bad_input_gets_a_clear_error() {
    let (_server, connector) = start(test_server().configure(|c| {
        c.subscriptions.max_per_connection = 2;
        c.subscriptions.filter.max_bytes = 256;
        c.subscriptions.filter.max_depth = 3;
    }));
    let mut peer = Peer::open(&connector).await;
    let nest = |v: Value| Value::Array(vec![v]);
    let cases: Vec<(Vec<Value>, &str)> = vec![
        (vec![], "invalid topic"),
        (vec![1.into()], "invalid topic"),
        (vec!["a b".into()], "invalid topic"),
        (vec!["t".into(), "x".into()], "options must be a map"),
        (
            vec!["t".into(), map! { "when" => 1 }],
            "unknown subscription option",
        ),
        (
            vec!["t".into(), map! { "where" => 1 }],
            "'where' must be a map",
        ),
        (
            vec!["t".into(), map! { "fields" => "a" }],
            "'fields' must be a list",
        ),
        (
            vec![
                "t".into(),
                map! { "where" => map! { "a" => "x".repeat(300) } },
            ],
            "too large",
        ),
        (
            vec![
                "t".into(),
                map! { "where" => map! { "a" => nest(nest(nest(Value::Nil))) } },
            ],
            "too deep",
        ),
    ];
    for (args, text) in cases {
        let e = peer
            .call("wslink.subscribe", args.clone())
            .await
            .unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (-32001, "Exception raised"),
            "{args:?}"
        );
        let exception = e.data.as_ref().unwrap()["exception"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(exception.contains(text), "{args:?}: {exception}");
    }
    peer.subscribe("a", Value::Nil).await;
    peer.subscribe("b", Value::Nil).await;
    let e = peer
        .call("wslink.subscribe", vec!["c".into()])
        .await
        .unwrap_err();
    assert!(e.data.unwrap()["exception"]
        .as_str()
        .unwrap()
        .contains("too many subscriptions on this connection (limit 2)"));
    let e = peer
        .call("wslink.unsubscribe", vec!["never".into()])
        .await
        .unwrap_err();
    assert_eq!(e.code, -32001);
    assert!(e.data.unwrap()["exception"]
        .as_str()
        .unwrap()
        .contains("not subscribed to \"never\""));
}

#[tokio::test]
async fn counts_can_be_watched_and_hooks_hear_first_and_last() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let log = events.clone();
    let (server, connector) = start(
        test_server()
            .on_subscribers(move |e: &SubscriberEvent| log.lock().unwrap().push(e.clone())),
    );
    let mut watch = server.watch_subscribers("t");
    let mut a = Peer::open(&connector).await;
    let mut b = Peer::open(&connector).await;
    a.subscribe("t", Value::Nil).await;
    tokio::time::timeout(WAIT, watch.wait_for(|n| *n == 1))
        .await
        .unwrap()
        .unwrap();
    b.subscribe("t", Value::Nil).await;
    b.subscribe("t", map! { "where" => map! { "x" => 1 } })
        .await;
    assert_eq!(
        server.subscriber_count("t"),
        2,
        "connections, not subscriptions"
    );
    a.call("wslink.unsubscribe", vec!["t".into()])
        .await
        .unwrap();
    assert_eq!(server.subscriber_count("t"), 1);
    drop(b); // leaving counts as unsubscribing
    tokio::time::timeout(WAIT, watch.wait_for(|n| *n == 0))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        *events.lock().unwrap(),
        [
            SubscriberEvent::First("t".into()),
            SubscriberEvent::Last("t".into())
        ]
    );
}

// --- the Rust client ---------------------------------------------------------------

use std::time::Duration;

use common::connect;
use wslink::client::{Client, ReconnectPolicy, Subscription};
use wslink::Filter;

async fn next(sub: &mut Subscription) -> Value {
    tokio::time::timeout(WAIT, sub.recv())
        .await
        .expect("a publication in time")
        .expect("subscription open")
}

async fn wait_count(server: &ServerHandle, topic: &str, n: usize) {
    let mut watch = server.watch_subscribers(topic);
    tokio::time::timeout(WAIT, watch.wait_for(|c| *c == n))
        .await
        .expect("subscriber count in time")
        .unwrap();
}

#[tokio::test]
async fn the_client_registers_filters_and_each_subscriber_gets_its_own_view() {
    let (server, connector) = start(test_server().subscribers_only("sensors"));
    let client = connect(&connector).await;
    assert!(client.server_takes_subscriptions());
    let room2 = Filter::all().where_eq("room", 2).fields(["value"]);
    let mut hot = client.subscribe_filtered("sensors", room2).await.unwrap();
    let units = Filter::all().fields(["unit"]);
    let mut unit = client.subscribe_filtered("sensors", units).await.unwrap();
    assert_eq!(server.subscriber_count("sensors"), 1);
    assert_eq!(client.subscribe_calls(), 2);
    for room in [1, 2] {
        server.publish("sensors", temp(room, 9.5)).await.unwrap();
    }
    assert_eq!(next(&mut hot).await, map! { "value" => 9.5 });
    assert_eq!(next(&mut unit).await, map! { "unit" => "C" });
    assert_eq!(next(&mut unit).await, map! { "unit" => "C" });
    drop(hot);
    drop(unit);
    wait_count(&server, "sensors", 0).await;
}

#[tokio::test]
async fn a_refused_filter_is_the_error_of_subscribe_filtered() {
    let (_server, connector) =
        start(test_server().configure(|c| c.subscriptions.filter.max_bytes = 8));
    let client = connect(&connector).await;
    let big = Filter::all().where_eq("field", "x".repeat(100));
    let e = client.subscribe_filtered("t", big).await.unwrap_err();
    assert_eq!(e.code(), -32001, "{e}");
}

#[tokio::test]
async fn a_plain_subscribe_reaches_a_subscribers_only_topic() {
    let (server, connector) = start(test_server().subscribers_only("private"));
    let client = connect(&connector).await;
    let mut sub = client.subscribe("private").unwrap();
    wait_count(&server, "private", 1).await;
    assert_eq!(server.publish("private", 5).await.unwrap(), 1);
    assert_eq!(next(&mut sub).await, Value::from(5));
    drop(sub);
    wait_count(&server, "private", 0).await;
    assert_eq!(server.publish("private", 6).await.unwrap(), 0);
}

#[tokio::test]
async fn subscriptions_are_sent_again_after_a_reconnect() {
    let (server, connector) = start(test_server().subscribers_only("sensors"));
    let dial = connector.clone();
    let policy = ReconnectPolicy {
        initial_delay: Duration::from_millis(10),
        max_attempts: Some(50),
        ..ReconnectPolicy::default()
    };
    let client = Client::builder()
        .secret(SECRET)
        .reconnect(policy)
        .connect_with(move || {
            let dial = dial.clone();
            async move { dial.connect().await }
        })
        .await
        .unwrap();
    let filter = Filter::all().where_eq("room", 2).fields(["value"]);
    let mut sub = client.subscribe_filtered("sensors", filter).await.unwrap();
    let first = client.client_id();
    assert!(server.disconnect(&first));
    wait_count(&server, "sensors", 0).await;
    wait_count(&server, "sensors", 1).await;
    assert_ne!(client.client_id(), first);
    assert_eq!(client.subscribe_calls(), 2);
    server.publish("sensors", temp(1, 1.0)).await.unwrap();
    server.publish("sensors", temp(2, 2.0)).await.unwrap();
    assert_eq!(next(&mut sub).await, map! { "value" => 2.0 });
}

#[tokio::test]
async fn each_form_is_encoded_once_per_wire_generation() {
    use wslink::json::JsonCodec;
    let (server, connector) = start(test_server().codec(JsonCodec::new()));
    let v2 = connect(&connector).await;
    let transport = connector.connect().await.unwrap();
    let v1 = wslink::client::ClientBuilder::with_codec(JsonCodec::new())
        .secret(SECRET)
        .connect(transport)
        .await
        .unwrap();
    assert!(
        v1.server_takes_subscriptions(),
        "1.x hello replies say so too"
    );
    let filter = || Filter::all().where_eq("room", 2).fields(["value"]);
    let mut subs = Vec::new();
    for client in [&v2, &v2, &v1, &v1] {
        subs.push(
            client
                .subscribe_filtered("sensors", filter())
                .await
                .unwrap(),
        );
    }
    let before = server.encodings();
    assert_eq!(server.publish("sensors", temp(2, 7.5)).await.unwrap(), 2);
    assert_eq!(server.encodings() - before, 2, "one form, two generations");
    for sub in &mut subs {
        assert_eq!(next(sub).await, map! { "value" => 7.5 });
    }
}

#[tokio::test]
async fn a_client_may_keep_its_subscriptions_to_itself() {
    let (server, connector) = start(test_server());
    let transport = connector.connect().await.unwrap();
    let client = Client::builder()
        .secret(SECRET)
        .configure(|c| c.server_subscriptions = false)
        .connect(transport)
        .await
        .unwrap();
    assert!(!client.server_takes_subscriptions());
    let filter = Filter::all().where_eq("room", 2).fields(["value"]);
    let mut sub = client.subscribe_filtered("sensors", filter).await.unwrap();
    server.publish("sensors", temp(1, 1.0)).await.unwrap();
    server.publish("sensors", temp(2, 2.0)).await.unwrap();
    assert_eq!(
        next(&mut sub).await,
        map! { "value" => 2.0 },
        "filtered here"
    );
    assert_eq!(client.subscribe_calls(), 0);
    assert_eq!(server.subscriber_count("sensors"), 0);
}
