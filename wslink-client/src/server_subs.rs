//! Telling the server about subscriptions, when it says it listens.
//!
//! A server whose hello reply carries `"subscriptions": true` answers `wslink.subscribe`
//! and `wslink.unsubscribe` (see [`wslink_core::filter`]). One task per client sends
//! them, in the order subscribers come and go: `wslink.subscribe(topic, options)` for
//! each new local subscriber (its filter widened to keep the fields its conditions look
//! at, since the client checks them again), `wslink.unsubscribe(topic)` when a topic's
//! last local subscriber leaves, and every subscription again on each new link. Against
//! any other server (the Python one) nothing is sent: it broadcasts, and local routing
//! alone delivers the same.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Weak;

use tokio::sync::{mpsc, oneshot};
use wslink_core::filter::{SUBSCRIBE_METHOD, UNSUBSCRIBE_METHOD};
use wslink_core::{Filter, Value};

use crate::error::ClientError;

/// Where a waiting `subscribe_filtered` hears the server's answer.
pub(crate) type Done = oneshot::Sender<Result<(), ClientError>>;

/// A change to tell the server about.
#[derive(Debug)]
pub(crate) enum Command {
    /// A local subscriber came.
    Add {
        key: u64,
        topic: String,
        filter: Filter,
        done: Option<Done>,
    },
    /// A local subscriber left; `last` when it was its topic's last.
    Remove { key: u64, topic: String, last: bool },
    /// A new link passed its hello: its server knows nothing yet.
    Relink,
}

/// What the task needs of the client.
pub(crate) trait Remote: Send + Sync + 'static {
    /// Calls `method` on the current link if its server takes subscriptions; `None`
    /// when it does not, or while there is no link (a new one gets [`Command::Relink`]).
    fn call_if_listening(
        &self,
        method: &'static str,
        args: Vec<Value>,
    ) -> impl Future<Output = Option<Result<Value, ClientError>>> + Send;

    /// The current link, if any.
    fn link_id(&self) -> Option<u64>;

    /// Every local subscription's key, topic and filter.
    fn subscriptions(&self) -> Vec<(u64, String, Filter)>;
}

/// What the current link's server was told: subscription keys and their topics.
#[derive(Debug, Default)]
struct Told {
    link: Option<u64>,
    keys: HashMap<u64, String>,
}

impl Told {
    /// Forgets everything when the link changed: a new server knows nothing.
    fn follow(&mut self, link: Option<u64>) {
        if self.link != link {
            self.link = link;
            self.keys.clear();
        }
    }
}

/// Runs the commands until the client is gone.
pub(crate) async fn run<R: Remote>(
    remote: Weak<R>,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let mut told = Told::default();
    while let Some(command) = commands.recv().await {
        let Some(remote) = remote.upgrade() else {
            return;
        };
        told.follow(remote.link_id());
        match command {
            Command::Add {
                key,
                topic,
                filter,
                done,
            } => {
                let result = tell(&*remote, &mut told, key, &topic, &filter).await;
                if let Some(done) = done {
                    let _ = done.send(result);
                }
            }
            Command::Remove { key, topic, last } => {
                told.keys.remove(&key);
                if last {
                    told.keys.retain(|_, t| *t != topic);
                    remove(&*remote, &topic).await;
                }
            }
            Command::Relink => {
                for (key, topic, filter) in remote.subscriptions() {
                    let _ = tell(&*remote, &mut told, key, &topic, &filter).await;
                }
            }
        }
    }
}

/// Sends one subscription unless this link's server was told it already.
async fn tell<R: Remote>(
    remote: &R,
    told: &mut Told,
    key: u64,
    topic: &str,
    filter: &Filter,
) -> Result<(), ClientError> {
    if told.keys.contains_key(&key) {
        return Ok(());
    }
    add(remote, topic, filter).await?;
    told.keys.insert(key, topic.to_owned());
    Ok(())
}

async fn add<R: Remote>(remote: &R, topic: &str, filter: &Filter) -> Result<(), ClientError> {
    let args = vec![topic.into(), filter.for_server().to_options()];
    match remote.call_if_listening(SUBSCRIBE_METHOD, args).await {
        None => Ok(()),
        Some(Ok(_)) => {
            tracing::debug!(topic, "subscribed on the server");
            Ok(())
        }
        Some(Err(e)) => {
            tracing::warn!(topic, error = %e, "the server refused a subscription");
            Err(e)
        }
    }
}

async fn remove<R: Remote>(remote: &R, topic: &str) {
    let args = vec![topic.into()];
    if let Some(Err(e)) = remote.call_if_listening(UNSUBSCRIBE_METHOD, args).await {
        // E.g. the subscription was refused, or the link changed meanwhile.
        tracing::debug!(topic, error = %e, "unsubscribe failed");
    }
}
