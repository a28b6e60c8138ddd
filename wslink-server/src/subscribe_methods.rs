//! `wslink.subscribe` and `wslink.unsubscribe`, on every server.
//!
//! `wslink.subscribe(topic, options?)` answers `{"topic": topic}`;
//! `wslink.unsubscribe(topic)` removes every subscription of the caller on `topic` (as
//! written) and answers the same. Failures are -32001 with a [`SubscribeError`]'s text.

use std::sync::Arc;

use wslink_core::filter::{SUBSCRIBE_METHOD, UNSUBSCRIBE_METHOD};
use wslink_core::{map, RpcError, Value};

use crate::extract::Context;
use crate::hub::Hub;
use crate::router::Router;
use crate::subscriptions::SubscribeError;

/// The two methods, answering from `hub`'s registry.
pub(crate) fn router(hub: Arc<Hub>) -> Router {
    let unsub = hub.clone();
    Router::new()
        .rpc(
            SUBSCRIBE_METHOD,
            move |ctx: Context, topic: Value, options: Value| {
                let hub = hub.clone();
                async move {
                    let conn = hub.subscriptions_of(ctx.client_id());
                    let result = conn
                        .ok_or(SubscribeError::Closed)
                        .and_then(|conn| hub.subscriptions().subscribe(&conn, &topic, &options));
                    answer(&ctx, "subscribed", result)
                }
            },
        )
        .rpc(UNSUBSCRIBE_METHOD, move |ctx: Context, topic: Value| {
            let hub = unsub.clone();
            async move {
                let conn = hub.subscriptions_of(ctx.client_id());
                let result = conn
                    .ok_or(SubscribeError::Closed)
                    .and_then(|conn| hub.subscriptions().unsubscribe(&conn, &topic));
                answer(&ctx, "unsubscribed", result)
            }
        })
}

fn answer(
    ctx: &Context,
    what: &str,
    result: Result<String, SubscribeError>,
) -> Result<Value, RpcError> {
    match result {
        Ok(topic) => {
            tracing::debug!(client = %ctx.client_id(), topic, "{what}");
            Ok(map! { "topic" => topic })
        }
        Err(e) => {
            tracing::info!(client = %ctx.client_id(), method = ctx.method(), error = %e, "refused");
            Err(RpcError::exception(e))
        }
    }
}
