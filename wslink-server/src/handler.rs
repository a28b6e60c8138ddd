//! Handlers: async functions that answer calls.
//!
//! Any `Fn(P1, P2, …) -> impl Future<Output = Result<R, RpcError>>` whose parameters are
//! [extractors](crate::extract) and whose result `R` is serializable is a [`Handler`].
//! Returning a [`Value`] or [`Bytes`](wslink_core::Bytes) sends it without conversion.
//!
//! ```
//! use wslink_server::{Context, Kwargs, Router};
//! use wslink_core::{Map, RpcError};
//!
//! async fn greet(ctx: Context, name: String) -> Result<String, RpcError> {
//!     Ok(format!("hello {name}, you are {}", ctx.client_id()))
//! }
//!
//! let router = Router::new()
//!     .rpc("demo.add", |a: i64, b: i64| async move { Ok(a + b) })
//!     .rpc("demo.greet", greet)
//!     .rpc("demo.count_kwargs", |Kwargs(kw): Kwargs<Map>| async move { Ok(kw.len()) });
//! assert_eq!(router.methods().count(), 3);
//! ```

use std::future::Future;
use std::pin::Pin;

use serde::Serialize;
use wslink_core::{into_value, Call, RpcError, Value};

use crate::extract::{CallParts, FromCall};

/// A boxed future answering a call.
pub type CallFuture = Pin<Box<dyn Future<Output = Result<Value, RpcError>> + Send + 'static>>;

/// Something that answers calls; implemented for async functions and closures whose
/// parameters implement [`FromCall`]. `M` is inferred and never named.
pub trait Handler<M>: Clone + Send + Sync + 'static {
    /// Answers one call.
    fn call(&self, call: Call) -> CallFuture;
}

pub(crate) fn result_value<R: Serialize + 'static>(result: R) -> Result<Value, RpcError> {
    into_value(result).map_err(|e| RpcError::ResultNotSerializable(e.to_string()))
}

macro_rules! impl_handler {
    ($($marker:ident $param:ident),*) => {
        #[allow(non_snake_case, unused_mut, unused_variables)]
        impl<F, Fut, R, $($marker, $param,)*> Handler<($($marker, $param,)*)> for F
        where
            F: Fn($($param),*) -> Fut + Clone + Send + Sync + 'static,
            Fut: Future<Output = Result<R, RpcError>> + Send + 'static,
            R: Serialize + Send + 'static,
            $($param: FromCall<$marker> + Send + 'static,)*
        {
            fn call(&self, call: Call) -> CallFuture {
                let mut parts = CallParts::new(call);
                $(
                    let $param = match $param::from_call(&mut parts) {
                        Ok(value) => value,
                        Err(e) => return Box::pin(std::future::ready(Err(e))),
                    };
                )*
                let fut = (self)($($param),*);
                Box::pin(async move { result_value(fut.await?) })
            }
        }
    };
}

impl_handler!();
impl_handler!(M1 T1);
impl_handler!(M1 T1, M2 T2);
impl_handler!(M1 T1, M2 T2, M3 T3);
impl_handler!(M1 T1, M2 T2, M3 T3, M4 T4);
impl_handler!(M1 T1, M2 T2, M3 T3, M4 T4, M5 T5);
impl_handler!(M1 T1, M2 T2, M3 T3, M4 T4, M5 T5, M6 T6);
impl_handler!(M1 T1, M2 T2, M3 T3, M4 T4, M5 T5, M6 T6, M7 T7);
impl_handler!(M1 T1, M2 T2, M3 T3, M4 T4, M5 T5, M6 T6, M7 T7, M8 T8);
