//! A broker for the cluster phase: Debian's `nats-server` or `redis-server` (installed
//! by `interop/setup.sh`) on a free loopback port, stopped when dropped.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::ValueEnum;

/// Which broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum BrokerKind {
    Nats,
    Redis,
}

impl BrokerKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            BrokerKind::Nats => "nats",
            BrokerKind::Redis => "redis",
        }
    }
}

/// A broker process; killed when dropped.
pub(crate) struct Broker {
    child: Child,
    pub(crate) url: String,
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Broker {
    /// Starts one and waits (at most 10 s) until it accepts connections.
    pub(crate) fn start(kind: BrokerKind) -> Result<Broker, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port()
            .to_string();
        let (program, args, url): (&str, Vec<&str>, String) = match kind {
            BrokerKind::Nats => (
                "/usr/sbin/nats-server",
                vec!["-a", "127.0.0.1", "-p", &port],
                format!("nats://127.0.0.1:{port}"),
            ),
            BrokerKind::Redis => (
                "/usr/bin/redis-server",
                vec![
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    &port,
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                format!("redis://127.0.0.1:{port}"),
            ),
        };
        let child = Command::new(program)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {program} ({e}): run interop/setup.sh"))?;
        let broker = Broker { child, url };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(format!("127.0.0.1:{port}")).is_err() {
            if Instant::now() > deadline {
                return Err(format!("{program} did not accept connections within 10 s"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(broker)
    }
}
