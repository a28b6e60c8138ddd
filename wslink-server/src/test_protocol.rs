//! The test protocol: a fixed set of methods every test server exposes, so any client can
//! be checked against any server (this one, or the Python reference running the same
//! methods).
//!
//! | method | arguments | result |
//! |---|---|---|
//! | `test.echo` | `x` | `x` unchanged |
//! | `test.add` | `a`, `b` | `a + b` |
//! | `test.kwargs` | anything | `{args, kwargs}` |
//! | `test.fail` | `message` | error -32001 with `{method, exception: message}` |
//! | `test.bytes` | `n` | `n` bytes, byte `i` = `i % 256` |
//! | `test.byte_len` | `blob` | `{len, first, last, pattern}` |
//! | `test.publish` | `topic`, `count`, `size` = 0 | publishes `{seq, pad}` `count` times, returns `count` |
//! | `test.sleep` | `ms` | waits without blocking other calls, returns `ms` |
//! | `test.version` | — | `{implementation, version}` |
//!
//! And the chat example's methods ([`chat`]): `wslink.say.hello`, `wslink.start.talking`,
//! `wslink.stop.talking`, publishing on [`chat::TOPIC`].

use std::time::Duration;

use bytes::Bytes;
use wslink_core::{map, Map, RpcError, Value};

use crate::extract::{Args, Context, Kwargs};
use crate::router::Router;

/// The largest `test.bytes` answer (1 GiB).
pub const MAX_TEST_BYTES: u64 = 1 << 30;

/// `n` bytes where byte `i` is `i % 256`.
pub fn pattern_bytes(n: usize) -> Bytes {
    (0..n).map(|i| i as u8).collect::<Vec<u8>>().into()
}

fn add(a: Value, b: Value) -> Result<Value, RpcError> {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        if let Some(sum) = x.checked_add(y) {
            return Ok(Value::Int(sum));
        }
        let wide = i128::from(x) + i128::from(y);
        if let Ok(u) = u64::try_from(wide) {
            return Ok(Value::from(u));
        }
    }
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => Ok(Value::Float(x + y)),
        _ => Err(RpcError::InvalidArguments(format!(
            "test.add needs two numbers, got {} and {}",
            a.kind(),
            b.kind()
        ))),
    }
}

fn describe_blob(blob: &[u8]) -> Value {
    map! {
        "len" => blob.len(),
        "first" => blob.first().copied().map(Value::from),
        "last" => blob.last().copied().map(Value::from),
        "pattern" => blob.iter().enumerate().all(|(i, &b)| b == i as u8),
    }
}

/// The `test.*` methods.
pub fn router() -> Router {
    Router::new()
        .rpc("test.echo", |x: Value| async move { Ok(x) })
        .rpc("test.add", |a: Value, b: Value| async move { add(a, b) })
        .rpc(
            "test.kwargs",
            |Args(args): Args, Kwargs(kwargs): Kwargs<Map>| async move {
                Ok(map! { "args" => Value::Array(args), "kwargs" => Value::Map(kwargs) })
            },
        )
        .rpc("test.fail", |message: Option<String>| async move {
            Err::<Value, _>(RpcError::exception(
                message.unwrap_or_else(|| "failure requested".into()),
            ))
        })
        .rpc("test.bytes", |n: u64| async move {
            if n > MAX_TEST_BYTES {
                return Err(RpcError::InvalidArguments(format!(
                    "n must be at most {MAX_TEST_BYTES}"
                )));
            }
            Ok(pattern_bytes(n as usize))
        })
        .rpc("test.byte_len", |blob: Bytes| async move {
            Ok(describe_blob(&blob))
        })
        .rpc(
            "test.publish",
            |ctx: Context, topic: String, count: u64, size: Option<u64>| async move {
                let pad = "x".repeat(size.unwrap_or(0).min(MAX_TEST_BYTES) as usize);
                for seq in 0..count {
                    ctx.publish(&topic, map! { "seq" => seq, "pad" => pad.as_str() })
                        .await?;
                }
                Ok(count)
            },
        )
        .rpc("test.sleep", |ms: u64| async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(ms)
        })
        .rpc("test.version", || async move {
            Ok(map! { "implementation" => "wslink-rs", "version" => env!("CARGO_PKG_VERSION") })
        })
}

pub mod chat {
    //! The chat example's methods (the seed's `chat-rpc-pub-sub`).

    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use tokio::task::JoinHandle;
    use wslink_core::{RpcError, Value};

    use crate::extract::Context;
    use crate::router::Router;

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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_keeps_integers_and_widens_when_needed() {
        assert_eq!(add(1.into(), 2.into()).unwrap(), Value::Int(3));
        assert_eq!(add(1.into(), 2.5.into()).unwrap(), Value::Float(3.5));
        assert_eq!(
            add(i64::MAX.into(), 1.into()).unwrap(),
            Value::UInt(1 << 63)
        );
        assert_eq!(
            add(i64::MIN.into(), (-1).into()).unwrap(),
            Value::Float(i64::MIN as f64 - 1.0)
        );
        assert!(add("a".into(), 1.into()).is_err());
    }

    #[test]
    fn blob_description() {
        assert_eq!(
            describe_blob(&[]),
            map! {"len" => 0, "first" => Value::Nil, "last" => Value::Nil, "pattern" => true}
        );
        let v = describe_blob(&pattern_bytes(300));
        assert_eq!(
            (
                v["len"].as_i64(),
                v["last"].as_i64(),
                v["pattern"].as_bool()
            ),
            (Some(300), Some(43), Some(true))
        );
        assert_eq!(describe_blob(&[1])["pattern"], Value::Bool(false));
    }
}
