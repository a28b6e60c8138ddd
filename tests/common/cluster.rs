//! Real brokers for the cluster tests: Debian's `nats-server` and `redis-server`
//! (installed by `interop/setup.sh`), each on a free loopback port, killed when
//! dropped; and test-server nodes sharing one.
#![allow(dead_code, unreachable_pub)]

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};
use wslink::client::{Client, Subscription};
use wslink::Value;

use super::child::ChildServer;
use super::{SECRET, WAIT};

/// Which broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Nats,
    Redis,
}

/// A broker process on 127.0.0.1, killed when dropped.
pub struct Broker {
    kind: Kind,
    port: u16,
    /// NATS: the HTTP monitoring port (`/connz`).
    monitor: Option<u16>,
    child: Option<Child>,
}

impl Broker {
    /// Starts a broker of `kind` on a free loopback port and waits until it accepts.
    pub async fn start(kind: Kind) -> Broker {
        let mut broker = Broker::stopped(kind);
        broker.restart().await;
        broker
    }

    /// A broker of `kind` on a free port, not started yet (nothing listens there).
    pub fn stopped(kind: Kind) -> Broker {
        let port = free_port();
        let monitor = (kind == Kind::Nats).then(free_port);
        Broker {
            kind,
            port,
            monitor,
            child: None,
        }
    }

    /// Its URL, for `--pubsub`.
    pub fn url(&self) -> String {
        match self.kind {
            Kind::Nats => format!("nats://127.0.0.1:{}", self.port),
            Kind::Redis => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    /// Kills it and waits until it is gone.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Starts it (again) on the same port and waits until it accepts connections.
    pub async fn restart(&mut self) {
        self.stop().await;
        let port = self.port.to_string();
        let mut command = match self.kind {
            Kind::Nats => {
                let mut c = Command::new(require("/usr/sbin/nats-server"));
                let monitor = self.monitor.unwrap().to_string();
                c.args(["-a", "127.0.0.1", "-p", &port, "-m", &monitor]);
                c
            }
            Kind::Redis => {
                let mut c = Command::new(require("/usr/bin/redis-server"));
                c.args(["--bind", "127.0.0.1", "--port", &port, "--save", ""])
                    .args(["--appendonly", "no", "--daemonize", "no"]);
                c
            }
        };
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("the broker starts");
        self.child = Some(child);
        let addr = format!("127.0.0.1:{}", self.port);
        let up = async {
            while tokio::net::TcpStream::connect(&addr).await.is_err() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::time::timeout(WAIT, up)
            .await
            .expect("the broker accepts connections in time");
    }
}

/// A broker binary, or a failure naming the setup script.
fn require(path: &str) -> &str {
    assert!(
        Path::new(path).exists(),
        "{path} is missing: run interop/setup.sh (it installs Debian's nats-server and redis-server)"
    );
    path
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().unwrap().port()
}

/// A test-server node on the broker at `url`, under `namespace`.
pub async fn node(url: &str, namespace: &str) -> ChildServer {
    ChildServer::start(&["--pubsub", url, "--pubsub-namespace", namespace]).await
}

/// A Rust client of a node.
pub async fn client(node: &ChildServer) -> Client {
    let transport = tokio::time::timeout(WAIT, wslink::ws::connect(&node.url))
        .await
        .expect("connects in time")
        .expect("connects");
    tokio::time::timeout(WAIT, Client::connect(transport, SECRET))
        .await
        .expect("hello in time")
        .expect("hello accepted")
}

/// Calls `method` with `args`, bounded.
pub async fn call(client: &Client, method: &str, args: Vec<Value>) -> Value {
    tokio::time::timeout(WAIT, client.call(method, args, Default::default()))
        .await
        .unwrap_or_else(|_| panic!("{method} answers in time"))
        .unwrap_or_else(|e| panic!("{method} fails: {e}"))
}

/// `test.publish(topic, count)` on `client`'s node.
pub async fn publish(client: &Client, topic: &str, count: u64) {
    let n = call(client, "test.publish", vec![topic.into(), count.into()]).await;
    assert_eq!(n, Value::from(count));
}

/// Waits until publications made through `from` reach `to` (the nodes have joined the
/// broker): publishes one probe on `topic` every 100 ms until one arrives. Probes that
/// arrive late are drained by [`expect_seqs`] only if they share its topic, so `topic`
/// is the probes' own.
pub async fn wait_linked(from: &Client, to: &mut Subscription, limit: Duration) {
    let linked = async {
        loop {
            publish(from, to.topic(), 1).await;
            if tokio::time::timeout(Duration::from_millis(100), to.recv())
                .await
                .is_ok()
            {
                return;
            }
        }
    };
    tokio::time::timeout(limit, linked)
        .await
        .expect("publications cross the broker in time");
}

/// Receives `count` publications and checks they are `{seq: 0..count}` in order, each
/// once; then that nothing more arrives within `quiet`.
pub async fn expect_seqs(sub: &mut Subscription, count: u64, quiet: Duration) {
    for want in 0..count {
        let got = tokio::time::timeout(WAIT, sub.recv())
            .await
            .unwrap_or_else(|_| panic!("publication {want} of {count} arrives in time"))
            .expect("the subscription is open");
        assert_eq!(got["seq"], Value::from(want), "publication {want} in order");
    }
    if let Ok(extra) = tokio::time::timeout(quiet, sub.recv()).await {
        panic!("a publication arrived twice or unasked: {extra:?}");
    }
}

/// A namespace of its own for each test, so that tests sharing nothing share no
/// channel either.
pub fn namespace(test: &str) -> String {
    format!("t{}_{test}", std::process::id())
}

impl Broker {
    /// The channels (NATS subjects, Redis channels and patterns) under `prefix` that
    /// some connection of the broker subscribes to, as the broker itself reports them.
    pub async fn subscriptions(&self, prefix: &str) -> Vec<String> {
        let mut found = match self.kind {
            Kind::Nats => self.nats_subscriptions().await,
            Kind::Redis => self.redis_subscriptions().await,
        };
        found.retain(|s| s.starts_with(prefix));
        found.sort();
        found.dedup();
        found
    }

    async fn nats_subscriptions(&self) -> Vec<String> {
        let monitor = self.monitor.expect("a NATS broker has a monitoring port");
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", monitor))
            .await
            .expect("the monitoring port answers");
        let request = "GET /connz?subs=1 HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut body = String::new();
        stream.read_to_string(&mut body).await.unwrap();
        let json = &body[body.find("\r\n\r\n").expect("an HTTP answer") + 4..];
        let connz: serde_json::Value = serde_json::from_str(json).expect("connz is JSON");
        connz["connections"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|c| {
                c["subscriptions_list"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect()
    }

    /// Redis lists subscribed channels (`PUBSUB CHANNELS`), not patterns.
    async fn redis_subscriptions(&self) -> Vec<String> {
        let port = self.port.to_string();
        let out = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &port, "PUBSUB", "CHANNELS"])
            .output()
            .await
            .expect("redis-cli runs (Debian redis-tools, installed with redis-server)");
        assert!(out.status.success(), "redis-cli PUBSUB CHANNELS");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}
