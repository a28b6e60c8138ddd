//! Values kept by their type: what an application attaches to a connection or to the
//! whole server, and who a client turned out to be.
//!
//! * [`Extensions`] holds at most one value of each type. A server keeps one set for its
//!   application state (read by handlers with the server's `State<T>` extractor) and each
//!   [`Session`](crate::Session) keeps one per connection (its `Extension<T>`), which
//!   tower layers may fill.
//! * [`Identity`] is what an authenticator made of a client's hello: the claims of a
//!   token, a user record, or nothing in particular ([`Identity::anonymous`]).
//!
//! ```
//! use wslink_core::{Extensions, Identity};
//!
//! #[derive(Debug, Clone, PartialEq)]
//! struct Room(u32);
//!
//! let mut ext = Extensions::new();
//! ext.insert(Room(7));
//! assert_eq!(ext.get::<Room>(), Some(&Room(7)));
//! assert_eq!(ext.get::<String>(), None);
//!
//! let who = Identity::new(String::from("alice"));
//! assert_eq!(who.get::<String>().map(String::as_str), Some("alice"));
//! assert!(who.get::<Room>().is_none());
//! ```

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

type Erased = Arc<dyn Any + Send + Sync>;

/// At most one value of each type. Cloning shares the values (they sit behind `Arc`s).
#[derive(Clone, Default)]
pub struct Extensions {
    values: HashMap<TypeId, (Erased, &'static str)>,
}

impl fmt::Debug for Extensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = self.values.values().map(|(_, name)| *name).collect();
        names.sort_unstable();
        f.debug_tuple("Extensions").field(&names).finish()
    }
}

impl Extensions {
    /// An empty set.
    pub fn new() -> Self {
        Extensions::default()
    }

    /// Stores `value`, handing back the value of the same type it replaces.
    pub fn insert<T: Send + Sync + 'static>(&mut self, value: T) -> Option<Arc<T>> {
        self.insert_shared(Arc::new(value))
    }

    /// Stores a value that is already shared.
    pub fn insert_shared<T: Send + Sync + 'static>(&mut self, value: Arc<T>) -> Option<Arc<T>> {
        let previous = self
            .values
            .insert(TypeId::of::<T>(), (value, std::any::type_name::<T>()));
        previous.and_then(|(old, _)| old.downcast::<T>().ok())
    }

    /// The value of type `T`, if one is stored.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.values
            .get(&TypeId::of::<T>())
            .and_then(|(value, _)| value.downcast_ref::<T>())
    }

    /// The value of type `T` as a shared handle.
    pub fn get_shared<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.values
            .get(&TypeId::of::<T>())
            .and_then(|(value, _)| value.clone().downcast::<T>().ok())
    }

    /// Removes the value of type `T`, handing it back.
    pub fn remove<T: Send + Sync + 'static>(&mut self) -> Option<Arc<T>> {
        self.values
            .remove(&TypeId::of::<T>())
            .and_then(|(value, _)| value.downcast::<T>().ok())
    }

    /// How many values are stored.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// `true` if nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// Who a client is, as its authenticator decided from the hello.
///
/// Any `Send + Sync` value can be an identity (token claims, a user id); read it back with
/// [`Identity::get`]. Cheap to clone.
#[derive(Clone)]
pub struct Identity {
    value: Erased,
    type_name: &'static str,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Identity").field(&self.type_name).finish()
    }
}

/// The identity of a client accepted without any detail (for example by a shared
/// secret).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Anonymous;

impl Identity {
    /// An identity carrying `value`.
    pub fn new<T: Send + Sync + 'static>(value: T) -> Self {
        Identity {
            value: Arc::new(value),
            type_name: std::any::type_name::<T>(),
        }
    }

    /// An accepted client about whom nothing more is known (an [`Anonymous`]).
    pub fn anonymous() -> Self {
        Identity::new(Anonymous)
    }

    /// The identity's value, if it is a `T`.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.value.downcast_ref::<T>()
    }

    /// The identity's value as a shared handle, if it is a `T`.
    pub fn get_shared<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.value.clone().downcast::<T>().ok()
    }

    /// The name of the value's type (for logs and error messages).
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_replaces_and_hands_back() {
        let mut ext = Extensions::new();
        assert!(ext.insert(1u32).is_none());
        assert_eq!(ext.insert(2u32).as_deref(), Some(&1));
        assert_eq!(ext.get::<u32>(), Some(&2));
        assert_eq!(ext.len(), 1);
        assert_eq!(ext.remove::<u32>().as_deref(), Some(&2));
        assert!(ext.is_empty());
    }

    #[test]
    fn clones_share_values() {
        let mut ext = Extensions::new();
        ext.insert(String::from("shared"));
        let copy = ext.clone();
        assert!(Arc::ptr_eq(
            &ext.get_shared::<String>().unwrap(),
            &copy.get_shared::<String>().unwrap()
        ));
        assert!(format!("{copy:?}").contains("String"));
    }

    #[test]
    fn identity_downcasts_only_to_its_type() {
        let anonymous = Identity::anonymous();
        assert_eq!(anonymous.get::<Anonymous>(), Some(&Anonymous));
        assert!(anonymous.get::<String>().is_none());
        assert!(anonymous.type_name().ends_with("Anonymous"));
    }
}
