//! The test protocol: a fixed set of methods every test server exposes, so any client can
//! be checked against any server (this one, or the Python reference running the same
//! methods).
//!
//! It is written with `#[wslink::protocol]` ([`TestProtocol`]), so its methods take
//! their arguments by position or by name, and [`TestClient`] calls them typed.
//!
//! | method | arguments | result |
//! |---|---|---|
//! | `test.echo` | `x` | `x` unchanged |
//! | `test.add` | `a`, `b` | `a + b` as Python's `+`: numbers add; strings, lists and binary concatenate |
//! | `test.kwargs` | anything | `{args, kwargs}` |
//! | `test.fail` | `message` = `"test.fail called"` | error -32001 with `{method, exception: message}` |
//! | `test.bytes` | `n` | `n` bytes, byte `i` = `i % 256` |
//! | `test.byte_len` | `blob` | `{len, first, last, pattern}` |
//! | `test.publish` | `topic`, `count`, `size` = 0 | publishes `{seq, pad}` `count` times, returns `count` |
//! | `test.publish_to` | `client`, `topic`, `count` | publishes `{seq, pad: ""}` `count` times to that client only (wherever it is connected, on a cluster), returns `count` |
//! | `test.whoami` | — | the caller's client id |
//! | `test.sleep` | `ms` | waits without blocking other calls, returns `ms` |
//! | `test.version` | — | `{implementation, version}` |
//!
//! And the chat example's protocol ([`chat::Chat`]): `wslink.say.hello`, `wslink.start.talking`,
//! `wslink.stop.talking`, publishing on [`chat::Chat::CHANNEL`]; its home is the chat example
//! (`examples/chat/chat.rs`), included here so the test server exposes them too.
//!
//! This crate is not published: it serves the workspace's tests, benchmarks, examples and
//! the `wslink-test-server` binary.
//!
//! ```
//! use wslink_server::Server;
//!
//! let server = Server::builder()
//!     .protocol(wslink_test_protocol::TestProtocol)
//!     .protocol(wslink_test_protocol::chat::Chat::new("Rust server"))
//!     .build();
//! # drop(server);
//! ```

use std::time::Duration;

use bytes::Bytes;
use wslink::server::{Args, Context, Kwargs, Protocol, Router};
use wslink_core::{map, ClientId, Map, Target, Value};

// `#[wslink::protocol]` and the chat example (included below) name the `wslink` facade;
// this crate stands in for it with the same paths, so that the facade need not be a
// dependency (its `cli` feature depends on this crate).
extern crate self as wslink;
#[doc(hidden)]
pub use wslink_client as client;
#[doc(hidden)]
pub use wslink_core::{RpcError, Topic};
#[doc(hidden)]
pub use wslink_macros::protocol;
#[doc(hidden)]
pub use wslink_server as server;

/// The largest `test.bytes` answer (1 GiB).
pub const MAX_TEST_BYTES: u64 = 1 << 30;

/// `n` bytes where byte `i` is `i % 256`.
pub fn pattern_bytes(n: usize) -> Bytes {
    (0..n).map(|i| i as u8).collect::<Vec<u8>>().into()
}

/// `a + b` as Python's `+` (the reference's `test.add` is `return a + b`): numbers add
/// (booleans count as 0 and 1), strings, lists and binary concatenate, and any other mix
/// fails as Python's `TypeError` does.
fn add(a: Value, b: Value) -> Result<Value, RpcError> {
    match (a, b) {
        (Value::Str(mut x), Value::Str(y)) => {
            x.push_str(&y);
            Ok(Value::Str(x))
        }
        (Value::Array(mut x), Value::Array(y)) => {
            x.extend(y);
            Ok(Value::Array(x))
        }
        (Value::Bin(x), Value::Bin(y)) => Ok(Value::Bin([x, y].concat().into())),
        (a, b) => match (python_number(&a), python_number(&b)) {
            (Some(x), Some(y)) => Ok(add_numbers(x, y)),
            _ => Err(RpcError::exception(python_add_type_error(&a, &b))),
        },
    }
}

/// A number as Python sees one for `+`: `bool` is an `int`.
fn python_number(v: &Value) -> Option<Value> {
    match v {
        Value::Bool(b) => Some(Value::Int(i64::from(*b))),
        Value::Int(_) | Value::UInt(_) | Value::Float(_) => Some(v.clone()),
        _ => None,
    }
}

fn add_numbers(a: Value, b: Value) -> Value {
    let integer = |v: &Value| match *v {
        Value::Int(i) => Some(i128::from(i)),
        Value::UInt(u) => Some(i128::from(u)),
        _ => None,
    };
    if let (Some(x), Some(y)) = (integer(&a), integer(&b)) {
        let wide = x + y;
        if let Ok(i) = i64::try_from(wide) {
            return Value::Int(i);
        }
        if let Ok(u) = u64::try_from(wide) {
            return Value::from(u);
        }
    }
    Value::Float(a.as_f64().unwrap_or(f64::NAN) + b.as_f64().unwrap_or(f64::NAN))
}

/// The name Python gives the type a value decodes to.
fn python_type(v: &Value) -> &'static str {
    match v {
        Value::Nil => "NoneType",
        Value::Bool(_) => "bool",
        Value::Int(_) | Value::UInt(_) => "int",
        Value::Float(_) => "float",
        Value::Str(_) => "str",
        Value::Bin(_) => "bytes",
        Value::Array(_) => "list",
        Value::Map(_) => "dict",
        Value::Ext(e) if e.tag == wslink_core::Timestamp::EXT_TYPE => "Timestamp",
        Value::Ext(_) => "ExtType",
    }
}

/// Python's `TypeError` message for `a + b`.
fn python_add_type_error(a: &Value, b: &Value) -> String {
    let (left, right) = (python_type(a), python_type(b));
    match left {
        "str" | "list" => format!("can only concatenate {left} (not \"{right}\") to {left}"),
        "bytes" => format!("can't concat {right} to bytes"),
        _ => format!("unsupported operand type(s) for +: '{left}' and '{right}'"),
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

/// The test protocol: no state of its own.
#[derive(Debug, Default, Clone, Copy)]
pub struct TestProtocol;

#[wslink::protocol(client = TestClient)]
impl TestProtocol {
    /// `x` unchanged (nil when left out, as the reference's `x=None`). A `Value`
    /// parameter, not an `Option<Value>`: a `Value` is taken as it came, extensions and
    /// binary included, without a serde round trip.
    #[rpc("test.echo")]
    pub async fn echo(&self, #[default] x: Value) -> Value {
        x
    }

    /// `a + b` as Python's `+`.
    #[rpc("test.add")]
    pub async fn add(&self, a: Value, b: Value) -> Result<Value, RpcError> {
        add(a, b)
    }

    /// The arguments as received: `{args, kwargs}`.
    #[rpc("test.kwargs")]
    pub async fn kwargs(&self, Args(args): Args, Kwargs(kwargs): Kwargs<Map>) -> Value {
        map! { "args" => Value::Array(args), "kwargs" => Value::Map(kwargs) }
    }

    /// Fails with -32001 and `message` as the exception.
    #[rpc("test.fail")]
    pub async fn fail(
        &self,
        #[default("test.fail called")] message: String,
    ) -> Result<Value, RpcError> {
        Err(RpcError::exception(message))
    }

    /// `n` bytes, byte `i` being `i % 256` (at most [`MAX_TEST_BYTES`]).
    #[rpc("test.bytes")]
    pub async fn bytes(&self, n: u64) -> Result<Bytes, RpcError> {
        if n > MAX_TEST_BYTES {
            return Err(RpcError::InvalidArguments(format!(
                "n must be at most {MAX_TEST_BYTES}"
            )));
        }
        Ok(pattern_bytes(n as usize))
    }

    /// `{len, first, last, pattern}` of `blob`.
    #[rpc("test.byte_len")]
    pub async fn byte_len(&self, blob: Bytes) -> Value {
        describe_blob(&blob)
    }

    /// Publishes `{seq, pad}` on `topic` `count` times (`pad` being `size` times `x`),
    /// then answers `count`.
    #[rpc("test.publish")]
    pub async fn publish(
        &self,
        ctx: Context,
        topic: String,
        count: u64,
        #[default(0u64)] size: u64,
    ) -> Result<u64, RpcError> {
        let pad = "x".repeat(size.min(MAX_TEST_BYTES) as usize);
        for seq in 0..count {
            ctx.publish(&topic, map! { "seq" => seq, "pad" => pad.as_str() })
                .await?;
        }
        Ok(count)
    }

    /// Publishes `{seq, pad: ""}` on `topic` `count` times to one client only
    /// (`Target::Client`, wherever it is connected), then answers `count`.
    #[rpc("test.publish_to")]
    pub async fn publish_to(
        &self,
        ctx: Context,
        client: String,
        topic: String,
        count: u64,
    ) -> Result<u64, RpcError> {
        let target = Target::Client(ClientId::from_wire(client));
        for seq in 0..count {
            let data = map! { "seq" => seq, "pad" => "" };
            ctx.publish_to(&topic, data, target.clone()).await?;
        }
        Ok(count)
    }

    /// The caller's client id (ours only: the reference has no per-call caller).
    #[rpc("test.whoami")]
    pub async fn whoami(&self, ctx: Context) -> String {
        ctx.client_id().as_str().to_owned()
    }

    /// Waits `ms` milliseconds without holding up other calls, then answers `ms`.
    #[rpc("test.sleep")]
    pub async fn sleep(&self, ms: u64) -> u64 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        ms
    }

    /// `{implementation, version}`.
    #[rpc("test.version")]
    pub async fn version(&self) -> Value {
        map! { "implementation" => "wslink-rs", "version" => env!("CARGO_PKG_VERSION") }
    }
}

/// The `test.*` methods as a router (for `Router::merge` and the benches).
pub fn router() -> Router {
    std::sync::Arc::new(TestProtocol).into_router()
}

#[path = "../../examples/chat/chat.rs"]
pub mod chat;

#[cfg(test)]
mod tests {
    use super::*;
    use wslink_core::array;

    #[test]
    fn add_keeps_integers_and_widens_when_needed() {
        assert_eq!(add(1.into(), 2.into()).unwrap(), Value::Int(3));
        assert_eq!(add(1.into(), 2.5.into()).unwrap(), Value::Float(3.5));
        assert_eq!(add(true.into(), 2.into()).unwrap(), Value::Int(3));
        assert_eq!(
            add(i64::MAX.into(), 1.into()).unwrap(),
            Value::UInt(1 << 63)
        );
        assert_eq!(
            add(i64::MIN.into(), (-1).into()).unwrap(),
            Value::Float(i64::MIN as f64 - 1.0)
        );
    }

    #[test]
    fn add_concatenates_like_python() {
        assert_eq!(add("ab".into(), "cd".into()).unwrap(), Value::from("abcd"));
        assert_eq!(
            add(array![1, "x"], array![Value::Nil]).unwrap(),
            array![1, "x", Value::Nil]
        );
        let joined = add(
            Bytes::from_static(b"ab").into(),
            Bytes::from_static(b"c").into(),
        )
        .unwrap();
        assert_eq!(joined.as_bytes().unwrap().as_ref(), b"abc");
    }

    #[test]
    fn add_refuses_mixed_kinds_as_python_does() {
        let message = |a: Value, b: Value| match add(a, b) {
            Err(RpcError::Exception { message, .. }) => message,
            other => panic!("expected an exception, got {other:?}"),
        };
        assert_eq!(
            message("a".into(), 1.into()),
            "can only concatenate str (not \"int\") to str"
        );
        assert_eq!(
            message(array![], "x".into()),
            "can only concatenate list (not \"str\") to list"
        );
        assert_eq!(
            message(1.into(), "x".into()),
            "unsupported operand type(s) for +: 'int' and 'str'"
        );
        assert_eq!(
            message(map! {}, map! {}),
            "unsupported operand type(s) for +: 'dict' and 'dict'"
        );
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
