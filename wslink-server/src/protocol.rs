//! Protocols: a struct whose methods are the server's RPCs, the way a Python
//! `LinkProtocol` class carries `@exportRPC` methods.
//!
//! Put `#[wslink::protocol]` (crate `wslink-macros`, re-exported by the `wslink` facade)
//! on an `impl` block and mark each exported method with its URI. The struct is the
//! protocol's shared state (`&self`); a method may also take extractors ([`Context`],
//! [`State`], [`Extension`], [`Auth`], [`Kwargs`], [`Args`]) beside its wire parameters:
//!
//! ```ignore
//! #[wslink::protocol(client = CounterClient)]
//! impl Counter {
//!     /// Publications of the running total.
//!     #[topic]
//!     pub const TOTAL: Topic<i64> = Topic::new("counter.total");
//!
//!     /// Adds `by` (default 1) and publishes the total.
//!     #[rpc("counter.add")]
//!     pub async fn add(&self, ctx: Context, #[default(1)] by: i64) -> Result<i64, RpcError> {
//!         let total = self.total.fetch_add(by, Ordering::Relaxed) + by;
//!         ctx.publish(&Self::TOTAL, total).await?;
//!         Ok(total)
//!     }
//! }
//!
//! let server = Server::builder().protocol(Counter::default()).build();
//! ```
//!
//! # Arguments by position or by name
//!
//! As in Python, positional arguments fill the wire parameters in order, then keyword
//! arguments fill the rest by name. `Option<T>` parameters and parameters with
//! `#[default(expr)]` may be left out. A keyword that names no parameter, a parameter
//! given twice, a missing required one or one positional argument too many fail with
//! -32001 `Exception raised`, whose data says which parameter
//! ([`wslink_core::ArgumentError`]), unless the method takes what is left:
//! [`Kwargs`] (Python's `**kwargs`) and [`Args`] (`*args`) take the arguments that no
//! other parameter took, wherever they stand.
//!
//! # Several protocols
//!
//! A server takes any number ([`ServerBuilder::protocol`](crate::ServerBuilder::protocol));
//! two that export the same URI make [`ServerBuilder::try_build`](crate::ServerBuilder::try_build)
//! fail.
//!
//! [`Context`]: crate::Context
//! [`State`]: crate::State
//! [`Extension`]: crate::Extension
//! [`Auth`]: crate::Auth
//! [`Kwargs`]: crate::Kwargs
//! [`Args`]: crate::Args

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use wslink_core::{from_value, ArgumentError, RpcError, Value};

use crate::extract::{argument_error, CallParts, FromCall, Positional, Special};
use crate::router::Router;

/// A set of exported methods sharing one state; written by `#[wslink::protocol]`.
pub trait Protocol: Send + Sync + 'static {
    /// The protocol's name (its type's), for error messages.
    const NAME: &'static str;

    /// The URIs it exports, in the order they are written.
    fn uris() -> &'static [&'static str];

    /// Its methods as a router, each calling the shared `self`.
    fn into_router(self: Arc<Self>) -> Router;
}

/// Whether a wire parameter may be left out.
#[derive(Debug)]
pub enum Presence<T> {
    /// It must be given.
    Required,
    /// It may be left out: it is then converted from nil (an `Option<T>` becomes `None`).
    Optional,
    /// It may be left out: it then takes this default.
    Default(fn() -> T),
}

/// Fills one parameter of a protocol method: a wire parameter by position or by `name`,
/// or an extractor. `M` is inferred; you never name it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a parameter of an exported method",
    label = "not a wire argument nor an extractor",
    note = "a wire parameter is any `serde::de::DeserializeOwned + Send` type (`Option<T>` for an optional one)",
    note = "an extractor is a `FromCall` type: `Context`, `State<T>`, `Extension<T>`, `Auth<T>`, `Kwargs<T>`, `Args`"
)]
pub trait FromParam<M>: Sized {
    /// Takes what this parameter needs from the call.
    fn from_param(
        parts: &mut CallParts,
        name: &'static str,
        presence: Presence<Self>,
    ) -> Result<Self, RpcError>;
}

impl<T: DeserializeOwned + Send + 'static> FromParam<Positional> for T {
    fn from_param(
        parts: &mut CallParts,
        name: &'static str,
        presence: Presence<Self>,
    ) -> Result<Self, RpcError> {
        let positional = parts.args.next();
        parts.next_index += 1;
        let keyword = match parts.kwargs.as_mut() {
            Some(kwargs) if !kwargs.is_empty() => kwargs.shift_remove(name),
            _ => None,
        };
        let value = match (positional, keyword) {
            (Some(_), Some(_)) => {
                return Err(argument_error(parts, |function| ArgumentError::Duplicate {
                    function,
                    parameter: name.into(),
                }))
            }
            (Some(value), None) | (None, Some(value)) => value,
            (None, None) => match presence {
                Presence::Required => {
                    return Err(argument_error(parts, |function| ArgumentError::Missing {
                        function,
                        parameter: name.into(),
                    }))
                }
                Presence::Optional => Value::Nil,
                Presence::Default(default) => return Ok(default()),
            },
        };
        from_value(value).map_err(|e| {
            argument_error(parts, |function| ArgumentError::Invalid {
                function,
                parameter: name.into(),
                reason: e.to_string(),
            })
        })
    }
}

impl<T: FromCall<Special>> FromParam<Special> for T {
    fn from_param(
        parts: &mut CallParts,
        _name: &'static str,
        _presence: Presence<Self>,
    ) -> Result<Self, RpcError> {
        T::from_call(parts)
    }
}

impl CallParts {
    /// Takes a call apart for the protocol method implemented by `function`.
    pub fn for_function(call: wslink_core::Call, function: &'static str) -> Self {
        let mut parts = CallParts::new(call);
        parts.function = function;
        parts
    }

    /// Checks that every argument found its parameter: none positional left over, no
    /// keyword that named nothing.
    pub fn finish(mut self) -> Result<(), RpcError> {
        let extra = self.args.len();
        if extra > 0 {
            let accepted = self.next_index;
            return Err(argument_error(&self, |function| {
                ArgumentError::TooManyPositional {
                    function,
                    accepted,
                    given: accepted + extra,
                }
            }));
        }
        let keyword = self
            .kwargs
            .take()
            .and_then(|kwargs| kwargs.into_iter().next().map(|(k, _)| k));
        match keyword {
            Some(keyword) => Err(argument_error(&self, |function| {
                ArgumentError::UnexpectedKeyword { function, keyword }
            })),
            None => Ok(()),
        }
    }
}

/// The reply of a method that returns `Result<R, E>`.
pub fn reply_result<R: Serialize + 'static, E>(result: Result<R, E>) -> Result<Value, RpcError>
where
    RpcError: From<E>,
{
    crate::handler::result_value(result.map_err(RpcError::from)?)
}

/// The reply of a method that returns a plain value.
pub fn reply_plain<R: Serialize + 'static>(result: R) -> Result<Value, RpcError> {
    crate::handler::result_value(result)
}
