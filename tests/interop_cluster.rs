//! Several test-server processes sharing one real broker (Debian's `nats-server`, then
//! `redis-server`, each started on a free loopback port by the test): publications
//! cross nodes in order and once, `Target::Client` finds its client on another node,
//! and the faults — a broker down at start, restarted mid-run, a stopped (slow) node, a
//! dead node — cost only what they must.

mod common;

use std::str::FromStr;
use std::time::Duration;

use common::child::ChildServer;
use common::cluster::{
    call, client, expect_seqs, namespace, node, publish, wait_linked, Broker, Kind,
};
use common::peers::node as node_script;
use futures_util::FutureExt;
use wslink::Value;

const QUIET: Duration = Duration::from_millis(300);
const LINK: Duration = Duration::from_secs(20);

/// Two nodes on a fresh broker.
async fn two_nodes(kind: Kind, test: &str) -> (Broker, ChildServer, ChildServer) {
    let broker = Broker::start(kind).await;
    let ns = namespace(test);
    let a = node(&broker.url(), &ns).await;
    let b = node(&broker.url(), &ns).await;
    (broker, a, b)
}

async fn js_client_on_a_gets_what_b_publishes(kind: Kind) {
    let (_broker, a, b) = two_nodes(kind, "js").await;
    for gen in ["2", "1"] {
        let (ok, output) = node_script(
            "cluster.js",
            &[&a.url, &b.url, "--gen", gen, "--count", "300"],
            Duration::from_secs(120),
        )
        .await;
        println!("{output}");
        assert!(ok, "npm wslink {gen}.x across two nodes failed:\n{output}");
        assert!(
            output.contains("# fail 0"),
            "node reports no failure:\n{output}"
        );
    }
}

async fn rust_client_on_b_gets_what_a_publishes(kind: Kind) {
    let (_broker, a, b) = two_nodes(kind, "rust").await;
    let (on_a, on_b) = (client(&a).await, client(&b).await);
    let mut probe = on_b.subscribe("cluster.probe").unwrap();
    wait_linked(&on_a, &mut probe, LINK).await;
    let mut sub = on_b.subscribe("cluster.rust").unwrap();
    let mut local = on_a.subscribe("cluster.rust").unwrap();
    publish(&on_a, "cluster.rust", 500).await;
    expect_seqs(&mut sub, 500, QUIET).await;
    expect_seqs(&mut local, 500, QUIET).await;
}

async fn target_client_reaches_its_client_on_another_node(kind: Kind) {
    let (_broker, a, b) = two_nodes(kind, "target").await;
    let (x, y, z) = (client(&a).await, client(&a).await, client(&b).await);
    let mut probe = x.subscribe("cluster.probe").unwrap();
    wait_linked(&z, &mut probe, LINK).await;
    let topic = "cluster.direct";
    let (mut to_x, mut to_y, mut to_z) = (
        x.subscribe(topic).unwrap(),
        y.subscribe(topic).unwrap(),
        z.subscribe(topic).unwrap(),
    );
    let id = call(&x, "test.whoami", vec![]).await;
    assert_eq!(id, Value::from(x.client_id().as_str()));
    // Published on B, for a client of A.
    let n = call(&z, "test.publish_to", vec![id, topic.into(), 50.into()]).await;
    assert_eq!(n, Value::from(50));
    expect_seqs(&mut to_x, 50, QUIET).await;
    // Whatever A or B sent y and z was queued before these answers.
    call(&y, "test.add", vec![1.into(), 2.into()]).await;
    call(&z, "test.add", vec![1.into(), 2.into()]).await;
    assert_eq!(
        to_y.recv().now_or_never(),
        None,
        "another client of node A got it"
    );
    assert_eq!(
        to_z.recv().now_or_never(),
        None,
        "a client of node B got it"
    );
}

async fn broker_restart_mid_run(kind: Kind) {
    let (mut broker, a, b) = two_nodes(kind, "restart").await;
    let (on_a, on_b) = (client(&a).await, client(&b).await);
    let mut probe = on_b.subscribe("cluster.probe").unwrap();
    wait_linked(&on_a, &mut probe, LINK).await;

    broker.stop().await;
    // Local publications still reach local clients while the broker is down.
    let mut local = on_a.subscribe("cluster.local").unwrap();
    publish(&on_a, "cluster.local", 100).await;
    expect_seqs(&mut local, 100, QUIET).await;

    broker.restart().await;
    wait_linked(&on_a, &mut probe, LINK).await;
    let mut sub = on_b.subscribe("cluster.after").unwrap();
    publish(&on_a, "cluster.after", 200).await;
    expect_seqs(&mut sub, 200, QUIET).await;
    let logs = a.logs();
    assert!(
        logs.contains("unreachable"),
        "node A says the broker went away:\n{logs}"
    );
}

async fn broker_down_at_start(kind: Kind) {
    let mut broker = Broker::stopped(kind);
    let ns = namespace("late");
    // Nothing listens on the broker's port yet: the nodes start all the same.
    let a = node(&broker.url(), &ns).await;
    let b = node(&broker.url(), &ns).await;
    let (on_a, on_b) = (client(&a).await, client(&b).await);
    let mut local = on_a.subscribe("cluster.local").unwrap();
    publish(&on_a, "cluster.local", 20).await;
    expect_seqs(&mut local, 20, QUIET).await;

    broker.restart().await;
    let mut probe = on_b.subscribe("cluster.probe").unwrap();
    wait_linked(&on_a, &mut probe, LINK).await;
    let mut sub = on_b.subscribe("cluster.late").unwrap();
    publish(&on_a, "cluster.late", 100).await;
    expect_seqs(&mut sub, 100, QUIET).await;
    let logs = a.logs();
    assert!(
        logs.contains("pub/sub: connecting"),
        "node A says it connects:\n{logs}"
    );
}

/// A subscribers-only topic: the broker sends it to a node only while one of its
/// connections subscribes (seen in the broker's own list of subscriptions), and the
/// subscriber gets it. (Who else gets it is the delivery rule, in `tests/cluster.rs`.)
async fn subscribers_only_topics_reach_only_subscribed_nodes(kind: Kind) {
    let broker = Broker::start(kind).await;
    let ns = namespace("private");
    let flags = [
        "--pubsub",
        &broker.url(),
        "--pubsub-namespace",
        &ns,
        "--subscribers-only",
        "private.*",
    ];
    let a = ChildServer::start(&flags).await;
    let b = ChildServer::start(&flags).await;
    let (on_a, on_b) = (client(&a).await, client(&b).await);
    let mut probe = on_b.subscribe("cluster.probe").unwrap();
    wait_linked(&on_a, &mut probe, LINK).await;
    let private = format!("{ns}.s.");
    assert_eq!(broker.subscriptions(&private).await, Vec::<String>::new());

    let mut sub = on_b.subscribe("private.news").unwrap();
    let wanted = vec![format!("{ns}.s.private.news")];
    let listening = async {
        while broker.subscriptions(&private).await != wanted {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(LINK, listening)
        .await
        .expect("node B subscribes to the topic's channel at the broker");
    publish(&on_a, "private.news", 50).await;
    expect_seqs(&mut sub, 50, QUIET).await;

    drop(sub);
    let gone = async {
        while !broker.subscriptions(&private).await.is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(LINK, gone)
        .await
        .expect("node B leaves the channel once nobody subscribes");
}

/// Three nodes on a fresh broker, linked (C's client hears A).
async fn three_nodes(
    kind: Kind,
    test: &str,
) -> (Broker, [ChildServer; 3], [wslink::client::Client; 3]) {
    let broker = Broker::start(kind).await;
    let ns = namespace(test);
    let nodes = [
        node(&broker.url(), &ns).await,
        node(&broker.url(), &ns).await,
        node(&broker.url(), &ns).await,
    ];
    let clients = [
        client(&nodes[0]).await,
        client(&nodes[1]).await,
        client(&nodes[2]).await,
    ];
    for (from, to) in [(1, 0), (1, 2), (0, 1)] {
        let mut probe = clients[to].subscribe("cluster.probe").unwrap();
        wait_linked(&clients[from], &mut probe, LINK).await;
    }
    (broker, nodes, clients)
}

async fn stopped_node_does_not_stall_the_others(kind: Kind) {
    let (_broker, nodes, clients) = three_nodes(kind, "slow").await;
    let [on_a, on_b, on_c] = &clients;
    let topic = "cluster.slow";
    let (mut sub_a, _sub_c) = (
        on_a.subscribe(topic).unwrap(),
        on_c.subscribe(topic).unwrap(),
    );
    // Node C stops reading anything (SIGSTOP): the slowest node there can be.
    signal(&nodes[2], "-STOP").await;
    let n = 20_000u64;
    let args = vec![topic.into(), n.into(), 1000.into()];
    // Received while they are published: more than a client subscription buffers.
    let (published, ()) = tokio::join!(
        call(on_b, "test.publish", args),
        expect_seqs(&mut sub_a, n, QUIET)
    );
    assert_eq!(published, Value::from(n));
    signal(&nodes[2], "-CONT").await;
}

async fn dead_node_takes_only_its_own_clients(kind: Kind) {
    let (_broker, mut nodes, clients) = three_nodes(kind, "dead").await;
    let [on_a, on_b, _on_c] = &clients;
    let topic = "cluster.dead";
    let (mut sub_a, mut sub_b) = (
        on_a.subscribe(topic).unwrap(),
        on_b.subscribe(topic).unwrap(),
    );
    nodes[2].kill().await;
    publish(on_b, topic, 200).await;
    expect_seqs(&mut sub_a, 200, QUIET).await;
    expect_seqs(&mut sub_b, 200, QUIET).await;
}

/// The two-node chat: two chat servers (the chat example's methods and page) on one
/// broker, and two Chromium browsers, each on a different node, chatting.
async fn two_browsers_chat_across_nodes(kind: Kind) {
    use common::peers::{page_url, repo, require, serve_ws};
    require("/usr/bin/chromium".into(), "Debian chromium");
    let www = repo().join("examples/chat/www");
    require(
        www.join("node_modules/wslink2/dist/wslink.js"),
        "the chat page's npm wslink client",
    );
    let broker = Broker::start(kind).await;
    let mut pages = Vec::new();
    let mut servers = Vec::new();
    for name in ["Node A", "Node B"] {
        let options = wslink::ws::HttpOptions {
            content: Some(www.clone()),
            ..Default::default()
        };
        let builder = wslink::cli::BrokerUrl::from_str(&broker.url())
            .unwrap()
            .apply(
                wslink::server::Server::builder()
                    .protocol(wslink_test_protocol::chat::Chat::new(name)),
                &namespace("chat"),
            );
        let (handle, ws_url) = serve_ws(builder, options).await;
        servers.push((handle, ws_url.clone()));
        pages.push(page_url(&ws_url));
    }
    // The browsers say one line each: wait until the nodes have joined the broker.
    let watcher = {
        let transport = wslink::ws::connect(&servers[1].1).await.unwrap();
        wslink::client::Client::connect(transport, common::SECRET)
            .await
            .unwrap()
    };
    let mut probe = watcher.subscribe("cluster.probe").unwrap();
    let linked = async {
        loop {
            servers[0].0.publish("cluster.probe", 1).await.unwrap();
            let arrived = tokio::time::timeout(Duration::from_millis(100), probe.recv()).await;
            if arrived.is_ok() {
                return;
            }
        }
    };
    tokio::time::timeout(LINK, linked)
        .await
        .expect("the chat servers link through the broker");
    let dir = repo().join("target/interop-logs");
    std::fs::create_dir_all(&dir).unwrap();
    let shots = [
        dir.join(format!("chat-cluster-{kind:?}-a.png")),
        dir.join(format!("chat-cluster-{kind:?}-b.png")),
    ];
    let (ok, output) = node_script(
        "chat_cluster_browser.js",
        &[
            &pages[0],
            &pages[1],
            shots[0].to_str().unwrap(),
            shots[1].to_str().unwrap(),
        ],
        Duration::from_secs(120),
    )
    .await;
    println!("{output}");
    assert!(ok, "the two-node chat failed:\n{output}");
    assert!(
        output.contains("browser B got: Node A: hello from browser A"),
        "{output}"
    );
    assert!(
        output.contains("browser A got: Node B: hello from browser B"),
        "{output}"
    );
}

async fn signal(node: &ChildServer, sig: &str) {
    let status = tokio::process::Command::new("kill")
        .args([sig, &node.pid().to_string()])
        .status()
        .await
        .expect("kill runs");
    assert!(status.success(), "kill {sig} {}", node.pid());
}

macro_rules! cases {
    ($module:ident, $kind:expr) => {
        mod $module {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn js_client_on_a_gets_what_b_publishes_in_order_once() {
                super::js_client_on_a_gets_what_b_publishes($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn rust_client_on_b_gets_what_a_publishes() {
                super::rust_client_on_b_gets_what_a_publishes($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn target_client_reaches_its_client_on_another_node() {
                super::target_client_reaches_its_client_on_another_node($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn broker_restarted_mid_run() {
                super::broker_restart_mid_run($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn broker_down_at_start() {
                super::broker_down_at_start($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn stopped_node_does_not_stall_the_others() {
                super::stopped_node_does_not_stall_the_others($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn subscribers_only_topics_reach_only_subscribed_nodes() {
                super::subscribers_only_topics_reach_only_subscribed_nodes($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn two_browsers_chat_across_nodes() {
                super::two_browsers_chat_across_nodes($kind).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn dead_node_takes_only_its_own_clients() {
                super::dead_node_takes_only_its_own_clients($kind).await;
            }
        }
    };
}

cases!(nats, Kind::Nats);
cases!(redis, Kind::Redis);
