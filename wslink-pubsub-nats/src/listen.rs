//! Listening: the application's broadcast subjects, and the subscribers-only subjects
//! this node's connections subscribe to.
//!
//! Each NATS subscription is drained by a task of its own into one queue, which is
//! delivered in order; dropping a subscription's task unsubscribes it.

use std::collections::{BTreeSet, HashMap};

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use wslink_server::cluster::{Channels, Incoming};

/// Messages received but not delivered yet; past this NATS holds them, then drops them
/// as a slow consumer's.
const RECEIVED: usize = 1024;

/// Delivers what arrives until the client closes or the interest watch ends.
pub(crate) async fn listen(client: async_nats::Client, channels: Channels, incoming: Incoming) {
    let (tx, mut rx) = mpsc::channel::<Bytes>(RECEIVED);
    let mut subscriptions = Subscriptions {
        client,
        tx,
        tasks: HashMap::new(),
    };
    if !subscriptions.add(channels.broadcast(">")).await {
        return;
    }
    let mut interest = incoming.interest();
    let mut listening = BTreeSet::new();
    loop {
        let wanted: BTreeSet<String> = interest
            .borrow_and_update()
            .iter()
            .map(|pattern| channels.interest(pattern, ">"))
            .collect();
        for gone in listening.difference(&wanted) {
            subscriptions.remove(gone);
        }
        for new in wanted.difference(&listening) {
            subscriptions.add(new.clone()).await;
        }
        listening = wanted;
        tokio::select! {
            changed = interest.changed() => if changed.is_err() { return },
            payload = rx.recv() => match payload {
                Some(payload) => { incoming.deliver(payload).await; }
                None => return,
            },
        }
        // Deliver what is waiting before looking at the interest again.
        while let Ok(payload) = rx.try_recv() {
            incoming.deliver(payload).await;
        }
    }
}

struct Subscriptions {
    client: async_nats::Client,
    tx: mpsc::Sender<Bytes>,
    tasks: HashMap<String, JoinHandle<()>>,
}

impl Subscriptions {
    /// Subscribes to `subject`; `false` if the client refused.
    async fn add(&mut self, subject: String) -> bool {
        let mut subscriber = match self.client.subscribe(subject.clone()).await {
            Ok(subscriber) => subscriber,
            Err(e) => {
                tracing::error!(error = %e, subject, "pub/sub: cannot subscribe");
                return false;
            }
        };
        tracing::debug!(subject, "pub/sub: listening");
        let tx = self.tx.clone();
        let task = tokio::spawn(async move {
            while let Some(message) = subscriber.next().await {
                if tx.send(message.payload).await.is_err() {
                    return;
                }
            }
        });
        self.tasks.insert(subject, task);
        true
    }

    fn remove(&mut self, subject: &str) {
        if let Some(task) = self.tasks.remove(subject) {
            tracing::debug!(subject, "pub/sub: no longer listening");
            task.abort();
        }
    }
}

impl Drop for Subscriptions {
    fn drop(&mut self) {
        for task in self.tasks.values() {
            task.abort();
        }
    }
}
