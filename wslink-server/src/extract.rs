//! Extractors: how a handler's parameters are filled from a call.
//!
//! Each parameter of a handler is filled by [`FromCall`]. A plain deserializable type
//! takes the next positional argument (a missing one counts as nil, so `Option<T>`
//! parameters are optional). The types below take something else:
//!
//! | parameter | what it gets |
//! |---|---|
//! | `T: Deserialize` | the next positional argument |
//! | [`Context`] | the calling client, and publishing |
//! | [`Kwargs<T>`] | the keyword arguments not taken yet, as a map or a struct |
//! | [`Args`] | the positional arguments not taken yet |
//! | [`State<T>`] | the application state of type `T` ([`ServerBuilder::state`](crate::ServerBuilder::state)) |
//! | [`Extension<T>`] | the connection's extension of type `T` ([`Session::extensions`]) |
//! | [`Auth<T>`] | who the client is: the [`Identity`](wslink_core::Identity) its hello gave, as a `T` |
//!
//! In a [protocol](crate::protocol) method, a deserializable parameter is also filled by
//! its name from the keyword arguments (see [`FromParam`](crate::protocol::FromParam)).

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use wslink_core::{
    from_value, into_value, ArgumentError, Call, ClientId, Extensions, Map, PubSub, PublishError,
    RpcError, Session, Target, Value,
};

/// A call taken apart for the extractors, in parameter order.
#[derive(Debug)]
pub struct CallParts {
    method: String,
    pub(crate) args: std::vec::IntoIter<Value>,
    pub(crate) next_index: usize,
    pub(crate) kwargs: Option<Map>,
    session: Arc<Session>,
    pubsub: Arc<dyn PubSub>,
    state: Arc<Extensions>,
    /// The function behind a protocol method (for argument errors), or "".
    pub(crate) function: &'static str,
}

impl CallParts {
    /// Takes a call apart.
    pub(crate) fn new(call: Call) -> Self {
        CallParts {
            method: call.method,
            args: call.args.into_iter(),
            next_index: 0,
            kwargs: Some(call.kwargs),
            session: call.session,
            pubsub: call.pubsub,
            state: call.state,
            function: "",
        }
    }

    /// The method name.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The calling connection's session.
    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    /// The application state.
    pub fn state(&self) -> &Extensions {
        &self.state
    }
}

/// Fills one handler parameter. `M` tells the two kinds apart (positional arguments and
/// everything else) and is inferred; you never name it.
pub trait FromCall<M>: Sized {
    /// Takes what this parameter needs from the call.
    fn from_call(parts: &mut CallParts) -> Result<Self, RpcError>;
}

/// Marker: a parameter filled by the next positional argument.
#[derive(Debug)]
pub enum Positional {}

/// Marker: a parameter filled by something other than a positional argument.
#[derive(Debug)]
pub enum Special {}

impl<T: DeserializeOwned + Send + 'static> FromCall<Positional> for T {
    fn from_call(parts: &mut CallParts) -> Result<Self, RpcError> {
        let index = parts.next_index;
        parts.next_index += 1;
        match parts.args.next() {
            Some(value) => from_value(value)
                .map_err(|e| RpcError::InvalidArguments(format!("argument {}: {e}", index + 1))),
            None => from_value(Value::Nil)
                .map_err(|_| RpcError::InvalidArguments(format!("missing argument {}", index + 1))),
        }
    }
}

/// The keyword arguments (those no named parameter took), converted to `T` (a [`Map`], a
/// `HashMap` or a struct): Python's `**kwargs`.
#[derive(Debug, Clone, PartialEq)]
pub struct Kwargs<T = Map>(pub T);

impl<T: DeserializeOwned + Send + 'static> FromCall<Special> for Kwargs<T> {
    fn from_call(parts: &mut CallParts) -> Result<Self, RpcError> {
        let kwargs = parts.kwargs.take().unwrap_or_default();
        from_value(Value::Map(kwargs))
            .map(Kwargs)
            .map_err(|e| RpcError::InvalidArguments(format!("keyword arguments: {e}")))
    }
}

/// The positional arguments that earlier parameters did not take: Python's `*args`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Args(pub Vec<Value>);

impl FromCall<Special> for Args {
    fn from_call(parts: &mut CallParts) -> Result<Self, RpcError> {
        let rest: Vec<Value> = parts.args.by_ref().collect();
        parts.next_index += rest.len();
        Ok(Args(rest))
    }
}

/// The calling client and the server's publishing, for a handler.
#[derive(Clone)]
pub struct Context {
    method: Arc<str>,
    session: Arc<Session>,
    pubsub: Arc<dyn PubSub>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("method", &self.method)
            .field("client", self.session.client_id())
            .finish()
    }
}

impl FromCall<Special> for Context {
    fn from_call(parts: &mut CallParts) -> Result<Self, RpcError> {
        Ok(Context {
            method: parts.method.as_str().into(),
            session: parts.session.clone(),
            pubsub: parts.pubsub.clone(),
        })
    }
}

impl Context {
    /// The method being called.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The calling client's id.
    pub fn client_id(&self) -> &ClientId {
        self.session.client_id()
    }

    /// The calling client's session.
    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    /// Publishes `data` on `topic` to every authenticated client.
    pub async fn publish(
        &self,
        topic: &str,
        data: impl Serialize + Send + 'static,
    ) -> Result<usize, RpcError> {
        self.publish_to(topic, data, Target::All).await
    }

    /// Publishes to every authenticated client except the caller.
    pub async fn publish_to_others(
        &self,
        topic: &str,
        data: impl Serialize + Send + 'static,
    ) -> Result<usize, RpcError> {
        let target = Target::AllExcept(self.client_id().clone());
        self.publish_to(topic, data, target).await
    }

    /// Publishes to the clients of `target`.
    pub async fn publish_to(
        &self,
        topic: &str,
        data: impl Serialize + Send + 'static,
        target: Target,
    ) -> Result<usize, RpcError> {
        let data = into_value(data)?;
        self.pubsub
            .publish(topic, data, target)
            .await
            .map_err(|e: PublishError| RpcError::exception(e))
    }
}

/// The application state of type `T`, given to the server with
/// [`ServerBuilder::state`](crate::ServerBuilder::state) (cloned per call: keep it an
/// `Arc` or a handle). A server built without one answers -32001 and logs why.
///
/// ```
/// use std::sync::Arc;
/// use wslink_server::{Server, State};
///
/// #[derive(Clone)]
/// struct Db(Arc<Vec<&'static str>>);
///
/// let server = Server::builder()
///     .state(Db(Arc::new(vec!["a", "b"])))
///     .rpc("db.count", |State(db): State<Db>| async move { Ok(db.0.len()) })
///     .build();
/// # drop(server);
/// ```
#[derive(Debug, Clone)]
pub struct State<T>(pub T);

impl<T: Clone + Send + Sync + 'static> FromCall<Special> for State<T> {
    fn from_call(parts: &mut CallParts) -> Result<Self, RpcError> {
        match parts.state.get::<T>() {
            Some(value) => Ok(State(value.clone())),
            None => Err(missing(
                "application state",
                std::any::type_name::<T>(),
                parts,
            )),
        }
    }
}

/// The calling connection's extension of type `T` (see [`Session::extensions`]), which
/// a tower layer or an earlier call attached. A connection without one answers -32001.
#[derive(Debug, Clone)]
pub struct Extension<T>(pub T);

impl<T: Clone + Send + Sync + 'static> FromCall<Special> for Extension<T> {
    fn from_call(parts: &mut CallParts) -> Result<Self, RpcError> {
        match parts.session.extension::<T>() {
            Some(value) => Ok(Extension(value)),
            None => Err(missing(
                "connection extension",
                std::any::type_name::<T>(),
                parts,
            )),
        }
    }
}

/// Who the caller is: the [`Identity`](wslink_core::Identity) that the server's
/// [`Authenticate`](crate::Authenticate) made of its hello, as a `T`. A caller whose
/// identity is not a `T` gets -32000 `Unauthorized`.
#[derive(Debug, Clone)]
pub struct Auth<T>(pub T);

impl<T: Clone + Send + Sync + 'static> FromCall<Special> for Auth<T> {
    fn from_call(parts: &mut CallParts) -> Result<Self, RpcError> {
        let identity = parts.session.identity();
        match identity.as_ref().and_then(|id| id.get::<T>()) {
            Some(value) => Ok(Auth(value.clone())),
            None => {
                tracing::debug!(
                    method = %parts.method,
                    wanted = std::any::type_name::<T>(),
                    identity = ?identity,
                    "refusing a call: the caller's identity is not what the method needs"
                );
                Err(RpcError::Unauthorized)
            }
        }
    }
}

fn missing(what: &str, type_name: &str, parts: &CallParts) -> RpcError {
    tracing::error!(method = %parts.method, type_name, "no {what} of this type on the server");
    RpcError::exception(format!("the server has no {what} of type {type_name}"))
}

/// An argument error for the call's function.
pub(crate) fn argument_error(
    parts: &CallParts,
    make: impl FnOnce(String) -> ArgumentError,
) -> RpcError {
    let function = if parts.function.is_empty() {
        parts.method.clone()
    } else {
        parts.function.to_owned()
    };
    RpcError::Argument(make(function))
}
