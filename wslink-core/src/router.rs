//! Calls and the services that answer them.
//!
//! An RPC is a [`tower::Service`]: a [`Call`] goes in, a [`Value`] or an [`RpcError`]
//! comes out. The server's router is such a service, and so is every middleware wrapped
//! around it (the hello handshake, logging, auth of your own): they are ordinary tower
//! layers over [`Call`].

use std::sync::Arc;

use tower::util::BoxCloneSyncService;

use crate::error::RpcError;
use crate::extensions::Extensions;
use crate::pubsub::PubSub;
use crate::session::Session;
use crate::value::{Map, Value};

/// Whether a call is an ordinary RPC or a `system:` message (the hello).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// An RPC (`rpc:` id, or any other non-system id).
    Rpc,
    /// A system message (`system:` id).
    System,
}

/// One incoming call, with the connection it came from.
pub struct Call {
    /// RPC or system.
    pub kind: CallKind,
    /// The method name.
    pub method: String,
    /// Positional arguments.
    pub args: Vec<Value>,
    /// Keyword arguments.
    pub kwargs: Map,
    /// The calling connection.
    pub session: Arc<Session>,
    /// Where the call's handler can publish.
    pub pubsub: Arc<dyn PubSub>,
    /// The application state the server was built with (shared by every call).
    pub state: Arc<Extensions>,
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("kind", &self.kind)
            .field("method", &self.method)
            .field("args", &self.args.len())
            .field("kwargs", &self.kwargs.len())
            .field("client", self.session.client_id())
            .finish()
    }
}

/// A type-erased call service: what a server runs for each call.
pub type BoxCallService = BoxCloneSyncService<Call, Value, RpcError>;
