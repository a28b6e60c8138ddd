//! The chat example's methods (the seed's `chat-rpc-pub-sub`): say a line to everyone,
//! and make the server talk on its own.
//!
//! The test server (crate `wslink-test-protocol`) includes this file too, so its clients
//! can be checked against the same methods.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;
use wslink_core::{RpcError, Value};
use wslink_server::{Context, Router};

/// The chat topic.
pub const TOPIC: &str = "wslink.communication.channel";

/// What the server says when it talks on its own.
pub const CANNED: &str = "Hello, is anyone there?";

/// `wslink.say.hello`, `wslink.start.talking` and `wslink.stop.talking`, speaking
/// as `name`.
pub fn router(name: &str) -> Router {
    let chat = Chat {
        name: name.into(),
        talker: Arc::default(),
    };
    let (start, stop) = (chat.clone(), chat.clone());
    Router::new()
        .rpc("wslink.say.hello", move |ctx: Context, message: String| {
            let chat = chat.clone();
            async move { chat.say_hello(&ctx, &message).await }
        })
        .rpc(
            "wslink.start.talking",
            move |ctx: Context, period: Option<f64>| {
                let chat = start.clone();
                async move { chat.start_talking(ctx, period) }
            },
        )
        .rpc("wslink.stop.talking", move || {
            let chat = stop.clone();
            async move { chat.stop_talking() }
        })
}

/// The chat's state: who speaks, and the task that talks on its own, if any.
#[derive(Debug, Clone)]
struct Chat {
    name: Arc<str>,
    talker: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl Chat {
    /// Publishes `"<name>: <message>"` on the topic and returns it.
    async fn say_hello(&self, ctx: &Context, message: &str) -> Result<String, RpcError> {
        let line = format!("{}: {message}", self.name);
        ctx.publish(TOPIC, line.clone()).await?;
        Ok(line)
    }

    /// Publishes the canned line every `period` seconds (default 5) from now on, in
    /// place of any earlier talker.
    fn start_talking(&self, ctx: Context, period: Option<f64>) -> Result<Value, RpcError> {
        let period = Duration::from_secs_f64(period.unwrap_or(5.0).clamp(0.05, 86_400.0));
        let line = format!("{}: {CANNED}", self.name);
        let task = tokio::spawn(talk(ctx, line, period));
        if let Some(previous) = self.lock()?.replace(task) {
            previous.abort();
        }
        Ok(Value::Nil)
    }

    /// Stops the talker, if one runs.
    fn stop_talking(&self) -> Result<Value, RpcError> {
        if let Some(task) = self.lock()?.take() {
            task.abort();
        }
        Ok(Value::Nil)
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Option<JoinHandle<()>>>, RpcError> {
        self.talker.lock().map_err(|_| RpcError::exception("lock"))
    }
}

/// Publishes `line` every `period`, until aborted.
async fn talk(ctx: Context, line: String, period: Duration) {
    loop {
        if let Err(e) = ctx.publish(TOPIC, line.clone()).await {
            tracing::warn!(error = ?e, "chat: cannot publish");
        }
        tokio::time::sleep(period).await;
    }
}
