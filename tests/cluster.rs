//! The pub/sub seam without a broker: servers in one process joined by an in-memory
//! bus (a test double of a broker, for what a real one cannot show: which channels a
//! node listens to). The real brokers are in `interop_cluster.rs`.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use common::{connect, start, test_server, WAIT};
use futures_util::FutureExt;
use wslink::client::Client;
use wslink::server::cluster::{Backend, Channels, Incoming, Outgoing};
use wslink::server::ServerHandle;
use wslink::{Target, Value};

/// One member of the bus: where to deliver, and what it listens to.
struct Member {
    incoming: Incoming,
    listening: Arc<Mutex<BTreeSet<String>>>,
}

/// Channels with a trailing `*` match every channel that starts with what precedes it.
fn matches(pattern: &str, channel: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => channel.starts_with(prefix),
        None => pattern == channel,
    }
}

/// The members, and how many packets went on the bus.
#[derive(Clone, Default)]
struct Bus(Arc<Mutex<Vec<Member>>>, Arc<AtomicUsize>);

struct BusBackend {
    bus: Bus,
    channels: Channels,
    listening: Arc<Mutex<BTreeSet<String>>>,
}

impl Bus {
    /// A backend on this bus, and what it will be listening to.
    fn backend(&self) -> (BusBackend, Arc<Mutex<BTreeSet<String>>>) {
        let listening = Arc::new(Mutex::new(BTreeSet::new()));
        let backend = BusBackend {
            bus: self.clone(),
            channels: Channels::new("test").unwrap(),
            listening: listening.clone(),
        };
        (backend, listening)
    }
}

#[async_trait]
impl Backend for BusBackend {
    fn describe(&self) -> String {
        "memory bus".into()
    }

    async fn run(self: Box<Self>, mut outgoing: Outgoing, incoming: Incoming) {
        let (channels, listening) = (self.channels.clone(), self.listening.clone());
        let mut interest = incoming.interest();
        tokio::spawn(async move {
            loop {
                let wanted: BTreeSet<String> = std::iter::once(channels.broadcast("*"))
                    .chain(
                        interest
                            .borrow_and_update()
                            .iter()
                            .map(|p| channels.interest(p, "*")),
                    )
                    .collect();
                *listening.lock().unwrap() = wanted;
                if interest.changed().await.is_err() {
                    return;
                }
            }
        });
        self.bus.0.lock().unwrap().push(Member {
            incoming,
            listening: self.listening.clone(),
        });
        // Like Redis, the bus echoes a node's own packets back to it.
        while let Some(packet) = outgoing.recv().await {
            self.bus.1.fetch_add(1, Ordering::SeqCst);
            let channel = self.channels.of(&packet);
            let receivers: Vec<Incoming> = self
                .bus
                .0
                .lock()
                .unwrap()
                .iter()
                .filter(|m| {
                    m.listening
                        .lock()
                        .unwrap()
                        .iter()
                        .any(|p| matches(p, &channel))
                })
                .map(|m| m.incoming.clone())
                .collect();
            for incoming in receivers {
                incoming.deliver(packet.payload().clone()).await;
            }
        }
    }
}

/// A node on `bus`: its handle, a connector, and the channels its backend listens to.
async fn node(
    bus: &Bus,
    subscribers_only: Option<&str>,
) -> (
    ServerHandle,
    wslink::memory::MemoryConnector,
    Arc<Mutex<BTreeSet<String>>>,
) {
    let (backend, listening) = bus.backend();
    let mut builder = test_server().pubsub(backend);
    if let Some(topic) = subscribers_only {
        builder = builder.subscribers_only(topic);
    }
    let (handle, connector) = start(builder);
    // The backend starts with the server: wait until it listens.
    let joined = async {
        while listening.lock().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(WAIT, joined)
        .await
        .expect("the backend starts");
    (handle, connector, listening)
}

/// Everything queued for `client` before now has reached it once this returns.
async fn settle(client: &Client) {
    let args = vec![1.into(), 2.into()];
    tokio::time::timeout(WAIT, client.call("test.add", args, Default::default()))
        .await
        .expect("answer in time")
        .expect("test.add answers");
}

async fn next(sub: &mut wslink::client::Subscription) -> Value {
    tokio::time::timeout(WAIT, sub.recv())
        .await
        .expect("a publication in time")
        .expect("subscription open")
}

#[tokio::test]
async fn targets_keep_their_meaning_across_nodes() {
    let bus = Bus::default();
    let (a, conn_a, _) = node(&bus, None).await;
    let (b, conn_b, _) = node(&bus, None).await;
    let (x, y) = (connect(&conn_a).await, connect(&conn_b).await);
    let (mut on_x, mut on_y) = (x.subscribe("news").unwrap(), y.subscribe("news").unwrap());

    // All, from A: each client once (A's own echo is skipped).
    assert_eq!(
        a.publish("news", 1).await.unwrap(),
        1,
        "queued for A's own client"
    );
    assert_eq!(next(&mut on_x).await, Value::from(1));
    assert_eq!(next(&mut on_y).await, Value::from(1));

    // AllExcept(x), from B: y only, though x is on the other node.
    b.publish_to("news", 2, Target::AllExcept(x.client_id()))
        .await
        .unwrap();
    // Client(x), from B: x only.
    b.publish_to("news", 3, Target::Client(x.client_id()))
        .await
        .unwrap();
    assert_eq!(next(&mut on_y).await, Value::from(2));
    assert_eq!(next(&mut on_x).await, Value::from(3));
    settle(&x).await;
    settle(&y).await;
    assert_eq!(on_x.recv().now_or_never(), None, "x got nothing else");
    assert_eq!(on_y.recv().now_or_never(), None, "y got nothing else");
}

#[tokio::test]
async fn a_client_of_the_publishing_node_is_reached_without_the_bus() {
    let bus = Bus::default();
    let (a, conn_a, _) = node(&bus, None).await;
    let (_b, conn_b, _) = node(&bus, None).await;
    let (x, y) = (connect(&conn_a).await, connect(&conn_b).await);
    let (mut on_x, mut on_y) = (
        x.subscribe("direct").unwrap(),
        y.subscribe("direct").unwrap(),
    );
    a.publish_to("direct", "hi", Target::Client(x.client_id()))
        .await
        .unwrap();
    assert_eq!(next(&mut on_x).await, Value::from("hi"));
    settle(&y).await;
    assert_eq!(on_y.recv().now_or_never(), None);
}

#[tokio::test]
async fn each_node_encodes_a_publication_once_for_all_its_clients() {
    let bus = Bus::default();
    let (a, _conn_a, _) = node(&bus, None).await;
    let (b, conn_b, _) = node(&bus, None).await;
    let clients = [
        connect(&conn_b).await,
        connect(&conn_b).await,
        connect(&conn_b).await,
    ];
    let mut subs: Vec<_> = clients
        .iter()
        .map(|c| c.subscribe("image").unwrap())
        .collect();
    a.publish("image", vec![7u8; 1000]).await.unwrap();
    for sub in &mut subs {
        next(sub).await;
    }
    assert_eq!(b.encodings(), 1, "one encoding on B for its three clients");
    assert_eq!(a.encodings(), 0, "A has no client to encode for");
}

#[tokio::test]
async fn a_node_listens_to_a_subscribers_only_topic_only_while_subscribed() {
    let bus = Bus::default();
    let (a, _conn_a, _) = node(&bus, Some("private.*")).await;
    let (_b, conn_b, listening_b) = node(&bus, Some("private.*")).await;
    let everything = BTreeSet::from(["test.b.*".to_owned()]);
    assert_eq!(*listening_b.lock().unwrap(), everything);

    let y = connect(&conn_b).await;
    let mut sub = y.subscribe("private.news").unwrap();
    settle(&y).await;
    let wanted = BTreeSet::from(["test.b.*".to_owned(), "test.s.private.news".to_owned()]);
    assert_eq!(*listening_b.lock().unwrap(), wanted);
    a.publish("private.news", "psst").await.unwrap();
    assert_eq!(next(&mut sub).await, Value::from("psst"));

    drop(sub);
    let stopped = async {
        while *listening_b.lock().unwrap() != everything {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(WAIT, stopped)
        .await
        .expect("B stops listening once nobody subscribes");
}
