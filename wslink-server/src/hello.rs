//! The hello handshake, as a tower layer.
//!
//! A client's first message is `wslink.hello` on a `system:` id with `{secret}` as its
//! argument. [`HelloAuth`] answers it: on success it marks the session authenticated and
//! replies `{clientID, maxMsgSize, subscriptions: true}` (2.x) or
//! `{clientID, subscriptions: true}` (1.x); on failure it replies
//! -32000 `Authentication failed` and the client may try again. Until then every other
//! call gets -32000 `Unauthorized: Skip message processing`, and other `system:` methods
//! get -32601 `Unknown system method called`.
//!
//! What counts as a valid hello is an [`Authenticate`]; the default, [`SharedSecret`],
//! compares the secret in constant time. Replace it for tokens, or replace the whole
//! layer. An authenticator returns the client's [`Identity`] (the claims of a token,
//! say), which the session keeps: handlers read it with [`Auth<T>`](crate::Auth), tower
//! layers with `call.session.identity()`.
//!
//! ```
//! use wslink_server::hello::{Authenticate, HelloAuthLayer};
//! use wslink_server::{Auth, Server};
//! use wslink_core::{Identity, Session, Value};
//!
//! /// The team named in a `team-<name>` token.
//! #[derive(Debug, Clone)]
//! struct Team(String);
//!
//! struct TeamToken;
//!
//! #[async_trait::async_trait]
//! impl Authenticate for TeamToken {
//!     async fn authenticate(&self, hello: &Value, _session: &Session) -> Option<Identity> {
//!         let team = hello["secret"].as_str()?.strip_prefix("team-")?;
//!         Some(Identity::new(Team(team.to_owned())))
//!     }
//! }
//!
//! let server = Server::builder()
//!     .authenticate(TeamToken)
//!     .rpc("whoami", |Auth(team): Auth<Team>| async move { Ok(team.0) })
//!     .build();
//! # drop(server);
//! ```

use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use async_trait::async_trait;
use tower::{Layer, Service, ServiceExt};
use wslink_core::filter::HELLO_SUBSCRIPTIONS;
use wslink_core::id::HELLO_METHOD;
use wslink_core::{Call, CallKind, Generation, Identity, Map, RpcError, Session, Value};

use crate::handler::CallFuture;

/// Decides whether a hello is valid, and who the client is.
#[async_trait]
pub trait Authenticate: Send + Sync + 'static {
    /// `hello` is the hello's first argument (usually `{secret: …}`). `Some(identity)`
    /// accepts the client as `identity` ([`Identity::anonymous`] when there is nothing to
    /// say about it); `None` refuses the hello.
    async fn authenticate(&self, hello: &Value, session: &Session) -> Option<Identity>;
}

/// Accepts a hello whose `secret` equals a configured one (compared in constant time).
#[derive(Clone)]
pub struct SharedSecret {
    secret: Arc<str>,
}

impl std::fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedSecret(<redacted>)")
    }
}

impl SharedSecret {
    /// The secret clients must send.
    pub fn new(secret: impl Into<Arc<str>>) -> Self {
        SharedSecret {
            secret: secret.into(),
        }
    }
}

/// Compares two byte strings in time that depends only on their lengths.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u8 | u8::from(a.len() != b.len());
    for i in 0..a.len().max(b.len()) {
        diff |= a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0xff);
    }
    std::hint::black_box(diff) == 0
}

#[async_trait]
impl Authenticate for SharedSecret {
    async fn authenticate(&self, hello: &Value, _session: &Session) -> Option<Identity> {
        hello["secret"]
            .as_str()
            .is_some_and(|s| constant_time_eq(s.as_bytes(), self.secret.as_bytes()))
            .then(Identity::anonymous)
    }
}

/// Wraps a call service with the hello handshake; see the [module docs](self).
pub struct HelloAuth<S> {
    inner: S,
    auth: Arc<dyn Authenticate>,
}

impl<S: Clone> Clone for HelloAuth<S> {
    fn clone(&self) -> Self {
        HelloAuth {
            inner: self.inner.clone(),
            auth: self.auth.clone(),
        }
    }
}

impl<S> std::fmt::Debug for HelloAuth<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HelloAuth")
    }
}

/// The [`Layer`] of [`HelloAuth`].
#[derive(Clone)]
pub struct HelloAuthLayer {
    auth: Arc<dyn Authenticate>,
}

impl std::fmt::Debug for HelloAuthLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HelloAuthLayer")
    }
}

impl HelloAuthLayer {
    /// A hello layer that accepts what `auth` accepts.
    pub fn new(auth: impl Authenticate) -> Self {
        HelloAuthLayer {
            auth: Arc::new(auth),
        }
    }

    /// A hello layer that accepts this secret.
    pub fn secret(secret: impl Into<Arc<str>>) -> Self {
        Self::new(SharedSecret::new(secret))
    }
}

impl<S> Layer<S> for HelloAuthLayer {
    type Service = HelloAuth<S>;
    fn layer(&self, inner: S) -> HelloAuth<S> {
        HelloAuth {
            inner,
            auth: self.auth.clone(),
        }
    }
}

/// The hello reply for a session: `{clientID, maxMsgSize, subscriptions: true}`, or
/// `{clientID, subscriptions: true}` for 1.x. `subscriptions` says that this server
/// answers `wslink.subscribe` (see [`crate::subscriptions`]); the JS clients ignore it.
pub(crate) fn hello_reply(session: &Session) -> Value {
    let mut m = Map::with_capacity(3);
    m.insert("clientID".into(), session.client_id().as_str().into());
    if session.generation() == Generation::V2 {
        m.insert("maxMsgSize".into(), Value::from(session.max_frame_size()));
    }
    m.insert(HELLO_SUBSCRIPTIONS.into(), Value::Bool(true));
    Value::Map(m)
}

impl<S> Service<Call> for HelloAuth<S>
where
    S: Service<Call, Response = Value, Error = RpcError> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Value;
    type Error = RpcError;
    type Future = CallFuture;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), RpcError>> {
        // The inner service is driven to readiness in `call`, only for calls it gets.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, call: Call) -> CallFuture {
        match call.kind {
            CallKind::System if call.method == HELLO_METHOD => {
                let auth = self.auth.clone();
                Box::pin(async move {
                    let hello = call.args.first().cloned().unwrap_or_default();
                    if let Some(identity) = auth.authenticate(&hello, &call.session).await {
                        tracing::debug!(client = %call.session.client_id(), ?identity, "hello accepted");
                        call.session.authenticate_as(identity);
                        Ok(hello_reply(&call.session))
                    } else {
                        // A failed re-hello leaves an authenticated session as it was,
                        // like the reference.
                        tracing::info!(client = %call.session.client_id(), "hello rejected");
                        Err(RpcError::AuthenticationFailed)
                    }
                })
            }
            CallKind::System => Box::pin(std::future::ready(Err(RpcError::UnknownSystemMethod))),
            CallKind::Rpc if !call.session.is_authenticated() => {
                Box::pin(std::future::ready(Err(RpcError::Unauthorized)))
            }
            CallKind::Rpc => {
                let inner = self.inner.clone();
                Box::pin(inner.oneshot(call))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_compares_contents_and_lengths() {
        assert!(constant_time_eq(b"wslink-secret", b"wslink-secret"));
        assert!(constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"wslink-secret", b"wslink-secreT"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"abc", b""));
        // Lengths differing by 256 must not wrap into equality.
        assert!(!constant_time_eq(&[0u8; 256], b""));
    }
}
