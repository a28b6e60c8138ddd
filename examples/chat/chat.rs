//! The chat server (the seed's `chat-rpc-pub-sub`): one protocol, three methods and a
//! topic. Anyone says a line to everyone; the server can also talk on its own.
//!
//! Read it as a Python `LinkProtocol` with `@exportRPC` methods: `Chat` is the protocol
//! and its state, each `#[rpc("…")]` method is exported under that URI, and
//! [`Chat::CHANNEL`] is the topic the page subscribes to. The test server
//! (crate `wslink-test-protocol`) includes this file too, so clients can be checked
//! against the same methods.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::task::JoinHandle;
use wslink::server::Context;
use wslink::{RpcError, Topic};

/// What the server says when it talks on its own.
pub const CANNED: &str = "Hello, is anyone there?";

/// The chat: the name the server speaks under, and the task that talks on its own.
#[derive(Debug)]
pub struct Chat {
    name: String,
    talker: Mutex<Option<JoinHandle<()>>>,
}

impl Chat {
    /// A chat whose server speaks as `name`.
    pub fn new(name: &str) -> Self {
        Chat {
            name: name.to_owned(),
            talker: Mutex::new(None),
        }
    }
}

#[wslink::protocol]
impl Chat {
    /// Every line said, by anyone, as `"<who>: <text>"`.
    #[topic]
    pub const CHANNEL: Topic<String> = Topic::new("wslink.communication.channel");

    /// Says `message` to everyone: publishes `"<name>: <message>"` and returns it.
    #[rpc("wslink.say.hello")]
    pub async fn say_hello(&self, ctx: Context, message: String) -> Result<String, RpcError> {
        let line = format!("{}: {message}", self.name);
        ctx.publish(&Self::CHANNEL, line.clone()).await?;
        Ok(line)
    }

    /// From now on, says the canned line every `period` seconds, in place of any
    /// earlier talker.
    #[rpc("wslink.start.talking")]
    pub async fn start_talking(
        &self,
        ctx: Context,
        #[default(5.0)] period: f64,
    ) -> Result<(), RpcError> {
        let period = Duration::from_secs_f64(period.clamp(0.05, 86_400.0));
        let line = format!("{}: {CANNED}", self.name);
        let task = tokio::spawn(talk(ctx, line, period));
        if let Some(previous) = self.talker()?.replace(task) {
            previous.abort();
        }
        Ok(())
    }

    /// Stops the server talking on its own.
    #[rpc("wslink.stop.talking")]
    pub async fn stop_talking(&self) -> Result<(), RpcError> {
        if let Some(task) = self.talker()?.take() {
            task.abort();
        }
        Ok(())
    }
}

impl Chat {
    fn talker(&self) -> Result<MutexGuard<'_, Option<JoinHandle<()>>>, RpcError> {
        self.talker.lock().map_err(|_| RpcError::exception("lock"))
    }
}

/// Publishes `line` every `period`, until aborted.
async fn talk(ctx: Context, line: String, period: Duration) {
    loop {
        if let Err(e) = ctx.publish(&Chat::CHANNEL, line.clone()).await {
            tracing::warn!(error = ?e, "chat: cannot publish");
        }
        tokio::time::sleep(period).await;
    }
}
