//! Methods only the bench's own Rust server has: for the filter phase, publications with
//! ten fields to project on and the server's count of publication encodings; for the
//! cluster phase, publications stamped with the time they were made.

use std::sync::{Arc, OnceLock};

use wslink::server::{Context, Router, ServerHandle};
use wslink::{Map, Value};

/// Fields `f0` .. `f9` of a `bench.publish_fields` publication.
pub(crate) const FIELDS: usize = 10;

/// Nanoseconds since the Unix epoch: the one clock every process on the machine shares.
pub(crate) fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// `bench.publish_stamped(topic, count, every_us)` publishes `{seq, t}` (`t` from
/// [`now_ns`]) `count` times, `every_us` apart, and answers `count`.
/// `bench.publish_fields(topic, count)` publishes `{seq, kind: "bench", f0..f9}`
/// `count` times and answers `count`; `bench.encodings()` answers
/// [`ServerHandle::encodings`] (0 until `handle` is set).
pub(crate) fn router(handle: Arc<OnceLock<ServerHandle>>) -> Router {
    Router::new()
        .rpc(
            "bench.publish_fields",
            |ctx: Context, topic: String, count: u64| async move {
                let mut payload = Map::new();
                payload.insert("seq".into(), Value::from(0));
                payload.insert("kind".into(), Value::from("bench"));
                for f in 0..FIELDS {
                    payload.insert(format!("f{f}"), Value::from("x".repeat(8)));
                }
                for seq in 0..count {
                    payload.insert("seq".into(), Value::from(seq));
                    ctx.publish(&topic, Value::Map(payload.clone())).await?;
                }
                Ok(count)
            },
        )
        .rpc(
            "bench.publish_stamped",
            |ctx: Context, topic: String, count: u64, every_us: u64| async move {
                for seq in 0..count {
                    let data = wslink::map! { "seq" => seq, "t" => now_ns() };
                    ctx.publish(&topic, data).await?;
                    if every_us > 0 {
                        tokio::time::sleep(std::time::Duration::from_micros(every_us)).await;
                    }
                }
                Ok(count)
            },
        )
        .rpc("bench.encodings", move || {
            let handle = handle.clone();
            async move { Ok(handle.get().map_or(0, ServerHandle::encodings)) }
        })
}
