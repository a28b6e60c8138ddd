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
    let name: Arc<str> = name.into();
    let talker: Arc<Mutex<Option<JoinHandle<()>>>> = Arc::default();
    let stopper = talker.clone();
    let canned = format!("{name}: {CANNED}");
    Router::new()
        .rpc("wslink.say.hello", move |ctx: Context, message: String| {
            let line = format!("{name}: {message}");
            async move {
                ctx.publish(TOPIC, line.clone()).await?;
                Ok(line)
            }
        })
        .rpc(
            "wslink.start.talking",
            move |ctx: Context, period: Option<f64>| {
                let talker = talker.clone();
                let canned = canned.clone();
                async move {
                    let period =
                        Duration::from_secs_f64(period.unwrap_or(5.0).clamp(0.05, 86_400.0));
                    let task = tokio::spawn(async move {
                        loop {
                            if let Err(e) = ctx.publish(TOPIC, canned.clone()).await {
                                tracing::warn!(error = ?e, "chat: cannot publish");
                            }
                            tokio::time::sleep(period).await;
                        }
                    });
                    let previous = talker
                        .lock()
                        .map_err(|_| RpcError::exception("lock"))?
                        .replace(task);
                    if let Some(previous) = previous {
                        previous.abort();
                    }
                    Ok(Value::Nil)
                }
            },
        )
        .rpc("wslink.stop.talking", move || {
            let stopper = stopper.clone();
            async move {
                if let Some(task) = stopper
                    .lock()
                    .map_err(|_| RpcError::exception("lock"))?
                    .take()
                {
                    task.abort();
                }
                Ok(Value::Nil)
            }
        })
}
