//! The router: method names → handlers, as one `tower::Service<Call>`.

use std::collections::HashMap;

use foldhash::fast::RandomState as FastHash;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use wslink_core::{Call, RpcError, Value};

use crate::handler::{CallFuture, Handler};

trait ErasedHandler: Send + Sync {
    fn call(&self, call: Call) -> CallFuture;
}

struct Erased<H, M> {
    handler: H,
    _marker: std::marker::PhantomData<fn() -> M>,
}

impl<H: Handler<M>, M: 'static> ErasedHandler for Erased<H, M> {
    fn call(&self, call: Call) -> CallFuture {
        self.handler.call(call)
    }
}

/// A function of the whole call.
struct CallFn<F>(F);

impl<F: Fn(Call) -> CallFuture + Send + Sync + 'static> ErasedHandler for CallFn<F> {
    fn call(&self, call: Call) -> CallFuture {
        (self.0)(call)
    }
}

/// Method names mapped to handlers. Cheap to clone (shared table).
///
/// As a service, an unknown method answers -32601 `Unregistered method called`.
#[derive(Clone, Default)]
pub struct Router {
    /// Handlers by method name (looked up per call: a fast, randomly seeded hash).
    routes: Arc<HashMap<String, Arc<dyn ErasedHandler>, FastHash>>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut methods: Vec<_> = self.methods().collect();
        methods.sort_unstable();
        f.debug_struct("Router").field("methods", &methods).finish()
    }
}

impl Router {
    /// An empty router.
    pub fn new() -> Self {
        Router::default()
    }

    /// Registers `handler` for `method` (replacing an earlier one of the same name).
    pub fn rpc<H: Handler<M>, M: 'static>(mut self, method: impl Into<String>, handler: H) -> Self {
        let erased: Arc<dyn ErasedHandler> = Arc::new(Erased {
            handler,
            _marker: std::marker::PhantomData,
        });
        Arc::make_mut(&mut self.routes).insert(method.into(), erased);
        self
    }

    /// Registers a function that takes the whole [`Call`] for `method` (what
    /// `#[wslink::protocol]` writes for each exported method; a handler with extractors
    /// is usually what you want).
    pub fn call_fn<F>(mut self, method: impl Into<String>, f: F) -> Self
    where
        F: Fn(Call) -> CallFuture + Send + Sync + 'static,
    {
        let erased: Arc<dyn ErasedHandler> = Arc::new(CallFn(f));
        Arc::make_mut(&mut self.routes).insert(method.into(), erased);
        self
    }

    /// Adds every method of `other` (its methods win on a clash).
    pub fn merge(mut self, other: Router) -> Self {
        let routes = Arc::make_mut(&mut self.routes);
        for (name, handler) in other.routes.iter() {
            routes.insert(name.clone(), handler.clone());
        }
        self
    }

    /// The registered method names, in no particular order.
    pub fn methods(&self) -> impl Iterator<Item = &str> {
        self.routes.keys().map(String::as_str)
    }

    /// `true` if `method` is registered.
    pub fn has(&self, method: &str) -> bool {
        self.routes.contains_key(method)
    }
}

impl tower::Service<Call> for Router {
    type Response = Value;
    type Error = RpcError;
    type Future = CallFuture;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), RpcError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, call: Call) -> CallFuture {
        match self.routes.get(call.method.as_str()) {
            Some(handler) => handler.call(call),
            None => Box::pin(std::future::ready(Err(RpcError::MethodNotFound))),
        }
    }
}
