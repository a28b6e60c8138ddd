//! Typed calls and subscriptions: what a typed client (written by `#[wslink::protocol]`)
//! is made of, usable by hand too.
//!
//! [`Arguments`] collects a call's arguments the way a typed client sends them:
//! required ones by position, then each optional one that is given; once an optional one
//! is left out, the ones after it go by name, so that none lands in the wrong
//! parameter. [`TypedSubscription`] converts each publication of a [`Topic<T>`] to `T`.
//!
//! ```
//! use wslink_client::Arguments;
//!
//! let mut arguments = Arguments::new();
//! arguments.required("topic", "news").unwrap();
//! arguments.optional("count", None::<u32>).unwrap();
//! arguments.optional("size", Some(10)).unwrap();
//! let (args, kwargs) = arguments.into_parts();
//! assert_eq!(args, vec!["news".into()]);
//! assert_eq!(kwargs["size"], 10.into());
//! ```

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use serde::de::DeserializeOwned;
use serde::Serialize;
use wslink_core::{from_value, into_value, Map, Topic, Value, ValueError};

use crate::{Client, ClientError, Subscription};

/// A call's arguments as a typed client sends them: required ones by position, then each
/// optional one that is given; once an optional one is left out, the later ones go by
/// name, so that none lands in the wrong parameter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Arguments {
    args: Vec<Value>,
    kwargs: Map,
    by_name: bool,
}

impl Arguments {
    /// No arguments.
    pub fn new() -> Self {
        Arguments::default()
    }

    /// A parameter the method needs.
    pub fn required(
        &mut self,
        name: &str,
        value: impl Serialize + 'static,
    ) -> Result<(), ClientError> {
        let value = into_value(value)?;
        if self.by_name {
            self.kwargs.insert(name.to_owned(), value);
        } else {
            self.args.push(value);
        }
        Ok(())
    }

    /// A parameter the method may go without: left out when `None` (the server's
    /// default applies), and every later one is then sent by name.
    pub fn optional<T: Serialize + 'static>(
        &mut self,
        name: &str,
        value: Option<T>,
    ) -> Result<(), ClientError> {
        match value {
            Some(value) => self.required(name, value),
            None => {
                self.by_name = true;
                Ok(())
            }
        }
    }

    /// More positional arguments (for a method that takes `*args`).
    pub fn rest(&mut self, args: Vec<Value>) {
        self.args.extend(args);
    }

    /// Keyword arguments (for a method that takes `**kwargs`): `kwargs` must serialize
    /// to a map.
    pub fn keywords(&mut self, kwargs: impl Serialize + 'static) -> Result<(), ClientError> {
        match into_value(kwargs)? {
            Value::Map(map) => {
                self.kwargs.extend(map);
                Ok(())
            }
            Value::Nil => Ok(()),
            other => Err(ClientError::Value(ValueError::new(format!(
                "keyword arguments must be a map, not {other:?}"
            )))),
        }
    }

    /// The positional and keyword arguments.
    pub fn into_parts(self) -> (Vec<Value>, Map) {
        (self.args, self.kwargs)
    }

    /// Calls `method` with these arguments on `client` and converts the result.
    pub async fn call_as<R: DeserializeOwned + 'static>(
        self,
        client: &Client,
        method: &str,
    ) -> Result<R, ClientError> {
        let (args, kwargs) = self.into_parts();
        let value = client.call(method, args, kwargs).await?;
        Ok(from_value(value)?)
    }
}

/// The publications of a [`Topic<T>`], each converted to `T`. Dropping it unsubscribes.
#[derive(Debug)]
pub struct TypedSubscription<T> {
    inner: Subscription,
    _payload: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned + 'static> TypedSubscription<T> {
    /// The next publication, converted; `None` once the connection is closed. A
    /// publication that does not convert to `T` is an error, and the next one may be
    /// received after it.
    pub async fn recv(&mut self) -> Option<Result<T, ClientError>> {
        let value = self.inner.recv().await?;
        Some(from_value(value).map_err(ClientError::from))
    }

    /// The untyped subscription underneath.
    pub fn into_inner(self) -> Subscription {
        self.inner
    }

    /// Publications dropped because this subscriber was too far behind.
    pub fn lagged(&self) -> u64 {
        self.inner.lagged()
    }
}

impl<T: DeserializeOwned + 'static> futures_util::Stream for TypedSubscription<T> {
    type Item = Result<T, ClientError>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.inner)
            .poll_next(cx)
            .map(|item| item.map(|value| from_value(value).map_err(ClientError::from)))
    }
}

impl Client {
    /// Receives the publications of `topic`, converted to `T`; see [`Client::subscribe`].
    pub fn subscribe_to<T: DeserializeOwned + 'static>(
        &self,
        topic: Topic<T>,
    ) -> Result<TypedSubscription<T>, ClientError> {
        Ok(TypedSubscription {
            inner: self.subscribe(topic.name())?,
            _payload: PhantomData,
        })
    }
}
