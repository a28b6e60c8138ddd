//! The subscribed connection: connect (retrying), subscribe to the application's
//! channels, deliver what arrives, follow the interest, and start over when Redis goes
//! away.

use std::collections::BTreeSet;

use bytes::Bytes;
use futures_util::StreamExt;
use redis::aio::{PubSubSink, PubSubStream};
use wslink_server::cluster::{retry_delay, Incoming};

use crate::backend::{Publisher, RedisBackend};

/// Keeps this node subscribed until the server stops (the caller's select ends it).
pub(crate) async fn listen(backend: &RedisBackend, publisher: &Publisher, incoming: &Incoming) {
    let mut failures = 0u32;
    loop {
        match session(backend, publisher, incoming).await {
            Ok(()) => return,
            Err(e) => {
                publisher.send_replace(None);
                if failures == 0 {
                    tracing::warn!(error = %e, "pub/sub: Redis unreachable, retrying; publications stay on this node");
                } else {
                    tracing::debug!(error = %e, failures, "pub/sub: Redis still unreachable");
                }
                tokio::time::sleep(retry_delay(failures, backend.max_retry_delay)).await;
                failures = failures.saturating_add(1);
            }
        }
        // A session that got as far as subscribing resets the back-off.
        if publisher.borrow().is_some() {
            failures = 0;
        }
    }
}

/// One connection's life: `Ok` when the interest watch ends (the server is gone).
async fn session(
    backend: &RedisBackend,
    publisher: &Publisher,
    incoming: &Incoming,
) -> Result<(), String> {
    let timeout = backend.timeout;
    let within = |what: &'static str| move |_| format!("{what} timed out");
    let pubsub = tokio::time::timeout(timeout, backend.client.get_async_pubsub())
        .await
        .map_err(within("connecting"))?
        .map_err(|e| e.to_string())?;
    let conn = tokio::time::timeout(timeout, backend.client.get_multiplexed_async_connection())
        .await
        .map_err(within("connecting"))?
        .map_err(|e| e.to_string())?;
    let (mut sink, mut stream) = pubsub.split();
    let channels = &backend.channels;
    let broadcast = channels.broadcast("*");
    tokio::time::timeout(timeout, sink.psubscribe(&broadcast))
        .await
        .map_err(within("subscribing"))?
        .map_err(|e| e.to_string())?;
    let mut interest = incoming.interest();
    let mut listening = BTreeSet::new();
    publisher.send_replace(Some(conn));
    tracing::info!("pub/sub: connected to Redis");
    loop {
        let wanted: BTreeSet<String> = interest
            .borrow_and_update()
            .iter()
            .map(|pattern| channels.interest(pattern, "*"))
            .collect();
        follow(&mut sink, &listening, &wanted, timeout).await?;
        listening = wanted;
        tokio::select! {
            changed = interest.changed() => if changed.is_err() { return Ok(()) },
            message = stream.next() => match message {
                Some(message) => {
                    incoming.deliver(Bytes::copy_from_slice(message.get_payload_bytes())).await;
                    drain(&mut stream, incoming).await;
                }
                None => return Err("connection lost".into()),
            },
        }
    }
}

/// Delivers what has arrived already, before looking at the interest again.
async fn drain(stream: &mut PubSubStream, incoming: &Incoming) {
    use futures_util::FutureExt;
    while let Some(Some(message)) = stream.next().now_or_never() {
        incoming
            .deliver(Bytes::copy_from_slice(message.get_payload_bytes()))
            .await;
    }
}

/// Subscribes to the channels newly wanted, unsubscribes from those no longer wanted.
async fn follow(
    sink: &mut PubSubSink,
    listening: &BTreeSet<String>,
    wanted: &BTreeSet<String>,
    timeout: std::time::Duration,
) -> Result<(), String> {
    for gone in listening.difference(wanted) {
        let done = match gone.ends_with('*') {
            true => tokio::time::timeout(timeout, sink.punsubscribe(gone)).await,
            false => tokio::time::timeout(timeout, sink.unsubscribe(gone)).await,
        };
        done.map_err(|_| "unsubscribing timed out".to_owned())?
            .map_err(|e| e.to_string())?;
        tracing::debug!(channel = %gone, "pub/sub: no longer listening");
    }
    for new in wanted.difference(listening) {
        let done = match new.ends_with('*') {
            true => tokio::time::timeout(timeout, sink.psubscribe(new)).await,
            false => tokio::time::timeout(timeout, sink.subscribe(new)).await,
        };
        done.map_err(|_| "subscribing timed out".to_owned())?
            .map_err(|e| e.to_string())?;
        tracing::debug!(channel = %new, "pub/sub: listening");
    }
    Ok(())
}
