//! Typed topics: a topic name with the type of what is published on it.
//!
//! A protocol declares the topics it publishes as constants, and both sides use them:
//! the server publishes on `&Chat::CHANNEL` (a `Topic` derefs to its name), a typed
//! client subscribes and receives values already converted to `T`.
//!
//! ```
//! use wslink_core::Topic;
//!
//! const LINES: Topic<String> = Topic::new("chat.lines");
//! assert_eq!(LINES.name(), "chat.lines");
//! assert!(LINES.is_valid());
//! let as_str: &str = &LINES;
//! assert_eq!(as_str, "chat.lines");
//! ```

use std::fmt;
use std::marker::PhantomData;

use crate::id::is_valid_topic;

/// A topic whose publications carry a `T`.
pub struct Topic<T> {
    name: &'static str,
    _payload: PhantomData<fn() -> T>,
}

impl<T> Topic<T> {
    /// The topic called `name`; see [`Topic::is_valid`] for the names clients accept.
    pub const fn new(name: &'static str) -> Self {
        Topic {
            name,
            _payload: PhantomData,
        }
    }

    /// The topic's name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// `true` if the JS clients can receive publications on this name (dotted words of
    /// ASCII letters, digits and `_`).
    pub fn is_valid(&self) -> bool {
        is_valid_topic(self.name)
    }
}

impl<T> Clone for Topic<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Topic<T> {}

impl<T> fmt::Debug for Topic<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Topic").field(&self.name).finish()
    }
}

impl<T> fmt::Display for Topic<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl<T> std::ops::Deref for Topic<T> {
    type Target = str;
    fn deref(&self) -> &str {
        self.name
    }
}

impl<T> AsRef<str> for Topic<T> {
    fn as_ref(&self) -> &str {
        self.name
    }
}
