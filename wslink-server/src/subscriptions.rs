//! Subscriptions the server knows about: who subscribed to what, with which filter, and
//! the per-topic counts publishers watch.
//!
//! A client subscribes with `wslink.subscribe(topic, options)` (see
//! [`wslink_core::filter`]). The delivery rule, per connection and publication:
//!
//! * a connection with subscriptions covering the topic gets the publication only if one
//!   of them matches, once, keeping the union of the matching subscriptions' `fields`;
//! * a connection without any gets every publication, as with the reference server,
//!   unless the topic is *subscribers-only* ([`ServerBuilder::subscribers_only`]).
//!
//! Counts are kept per subscribed topic as written (`a.*` is its own entry), as the
//! number of connections with at least one subscription on it; hooks hear when a count
//! leaves or returns to zero.
//!
//! [`ServerBuilder::subscribers_only`]: crate::ServerBuilder::subscribers_only

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::watch;
use wslink_core::filter::union_fields;
use wslink_core::{Filter, FilterError, FilterLimits, TopicPattern, Value};

/// Bounds on the subscriptions of one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionLimits {
    /// Subscriptions one connection may hold at once (default 256).
    pub max_per_connection: usize,
    /// Size and depth of one subscription's options (default 4 KiB, depth 8).
    pub filter: FilterLimits,
}

impl Default for SubscriptionLimits {
    fn default() -> Self {
        SubscriptionLimits {
            max_per_connection: 256,
            filter: FilterLimits::default(),
        }
    }
}

/// Why `wslink.subscribe` or `wslink.unsubscribe` failed (sent as -32001 with this text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscribeError {
    /// The topic is not a string following the topic grammar, nor `prefix.*`.
    #[error(
        "invalid topic {0:?}: use dot-separated words of letters, digits and '_', or 'prefix.*'"
    )]
    InvalidTopic(String),
    /// The options were refused.
    #[error(transparent)]
    Options(#[from] FilterError),
    /// The connection holds [`SubscriptionLimits::max_per_connection`] subscriptions.
    #[error("too many subscriptions on this connection (limit {0})")]
    TooMany(usize),
    /// `wslink.unsubscribe` of a topic this connection has no subscription on.
    #[error("not subscribed to {0:?}")]
    NotSubscribed(String),
    /// The connection is closing.
    #[error("connection closed")]
    Closed,
}

/// A subscriber count leaving or returning to zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriberEvent {
    /// The first connection subscribed to this topic (as written, e.g. `a.*`).
    First(String),
    /// The last connection subscribed to this topic unsubscribed or left.
    Last(String),
}

/// Called on every [`SubscriberEvent`], outside the registry's locks.
pub type SubscriberHook = Arc<dyn Fn(&SubscriberEvent) + Send + Sync>;

/// What one connection gets of one publication.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Route {
    /// Nothing.
    Skip,
    /// The payload whole.
    Whole,
    /// The payload keeping only these keys (sorted).
    Fields(Arc<[String]>),
}

#[derive(Debug)]
struct Entry {
    topic: String,
    pattern: TopicPattern,
    filter: Filter,
}

#[derive(Debug, Default)]
struct ConnState {
    entries: Vec<Entry>,
    closed: bool,
}

/// The subscriptions of one connection.
#[derive(Debug, Default)]
pub(crate) struct ConnSubscriptions {
    state: Mutex<ConnState>,
}

impl ConnSubscriptions {
    fn lock(&self) -> MutexGuard<'_, ConnState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The delivery rule for this connection and a publication.
    pub(crate) fn route(&self, topic: &str, data: &Value, subscribers_only: bool) -> Route {
        let state = self.lock();
        let mut covered = false;
        let mut kept: Option<Option<Arc<[String]>>> = None;
        for entry in state.entries.iter().filter(|e| e.pattern.covers(topic)) {
            covered = true;
            if entry.filter.matches(data) {
                kept = Some(match kept {
                    None => entry.filter.kept().cloned(),
                    Some(so_far) => union_fields(so_far.as_ref(), entry.filter.kept()),
                });
            }
        }
        match kept {
            Some(None) => Route::Whole,
            Some(Some(fields)) => Route::Fields(fields),
            None if covered || subscribers_only => Route::Skip,
            None => Route::Whole,
        }
    }
}

#[derive(Debug)]
struct Count {
    connections: usize,
    watch: Option<watch::Sender<usize>>,
}

impl Count {
    fn is_unused(&self) -> bool {
        self.connections == 0 && self.watch.as_ref().is_none_or(|w| w.receiver_count() == 0)
    }
}

/// Every connection's subscriptions, counted per topic.
pub(crate) struct Registry {
    /// Subscriptions held over all connections: 0 keeps publishing on the fast path.
    active: AtomicUsize,
    subscribers_only: Vec<TopicPattern>,
    counts: Mutex<HashMap<String, Count>>,
    hooks: Vec<SubscriberHook>,
    limits: SubscriptionLimits,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("active", &self.active.load(Ordering::Relaxed))
            .field("subscribers_only", &self.subscribers_only)
            .field("hooks", &self.hooks.len())
            .field("limits", &self.limits)
            .finish()
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new(SubscriptionLimits::default(), Vec::new(), Vec::new())
    }
}

impl Registry {
    pub(crate) fn new(
        limits: SubscriptionLimits,
        subscribers_only: Vec<TopicPattern>,
        hooks: Vec<SubscriberHook>,
    ) -> Registry {
        Registry {
            active: AtomicUsize::new(0),
            subscribers_only,
            counts: Mutex::new(HashMap::new()),
            hooks,
            limits,
        }
    }

    fn counts(&self) -> MutexGuard<'_, HashMap<String, Count>> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `true` when the delivery rule is "everybody" for this topic: nobody subscribed
    /// anywhere and the topic is not subscribers-only. Allocates nothing.
    pub(crate) fn is_broadcast(&self, topic: &str) -> bool {
        self.active.load(Ordering::Acquire) == 0 && !self.is_subscribers_only(topic)
    }

    /// `true` if the application declared the topic subscribers-only.
    pub(crate) fn is_subscribers_only(&self, topic: &str) -> bool {
        self.subscribers_only.iter().any(|p| p.covers(topic))
    }

    /// Adds a subscription of `conn` (`wslink.subscribe`).
    pub(crate) fn subscribe(
        &self,
        conn: &ConnSubscriptions,
        topic: &Value,
        options: &Value,
    ) -> Result<String, SubscribeError> {
        let (topic, pattern) = read_topic(topic)?;
        let filter = Filter::from_options(options, &self.limits.filter)?;
        let first = {
            let mut state = conn.lock();
            if state.closed {
                return Err(SubscribeError::Closed);
            }
            if state.entries.len() >= self.limits.max_per_connection {
                return Err(SubscribeError::TooMany(self.limits.max_per_connection));
            }
            let new_topic = !state.entries.iter().any(|e| e.topic == topic);
            state.entries.push(Entry {
                topic: topic.clone(),
                pattern,
                filter,
            });
            self.active.fetch_add(1, Ordering::AcqRel);
            new_topic && self.add_connection(&topic)
        };
        if first {
            self.notify(&SubscriberEvent::First(topic.clone()));
        }
        Ok(topic)
    }

    /// Removes every subscription of `conn` on `topic` (`wslink.unsubscribe`).
    pub(crate) fn unsubscribe(
        &self,
        conn: &ConnSubscriptions,
        topic: &Value,
    ) -> Result<String, SubscribeError> {
        let (topic, _) = read_topic(topic)?;
        let last = {
            let mut state = conn.lock();
            let before = state.entries.len();
            state.entries.retain(|e| e.topic != topic);
            let removed = before - state.entries.len();
            if removed == 0 {
                return Err(SubscribeError::NotSubscribed(topic));
            }
            self.active.fetch_sub(removed, Ordering::AcqRel);
            self.remove_connection(&topic)
        };
        if last {
            self.notify(&SubscriberEvent::Last(topic.clone()));
        }
        Ok(topic)
    }

    /// Forgets a connection that left; later subscribes on it fail.
    pub(crate) fn drop_connection(&self, conn: &ConnSubscriptions) {
        let emptied: Vec<String> = {
            let mut state = conn.lock();
            state.closed = true;
            let entries = std::mem::take(&mut state.entries);
            self.active.fetch_sub(entries.len(), Ordering::AcqRel);
            let mut topics: Vec<String> = entries.into_iter().map(|e| e.topic).collect();
            topics.sort();
            topics.dedup();
            topics
                .into_iter()
                .filter(|t| self.remove_connection(t))
                .collect()
        };
        for topic in emptied {
            self.notify(&SubscriberEvent::Last(topic));
        }
    }

    /// Connections with a subscription on `topic` (as written).
    pub(crate) fn subscriber_count(&self, topic: &str) -> usize {
        self.counts().get(topic).map_or(0, |c| c.connections)
    }

    /// Watches [`Registry::subscriber_count`] of `topic`.
    pub(crate) fn watch(&self, topic: &str) -> watch::Receiver<usize> {
        let mut counts = self.counts();
        counts.retain(|_, c| !c.is_unused());
        let count = counts.entry(topic.to_owned()).or_insert(Count {
            connections: 0,
            watch: None,
        });
        let n = count.connections;
        count
            .watch
            .get_or_insert_with(|| watch::channel(n).0)
            .subscribe()
    }

    /// One more connection on `topic`; `true` if it is the first.
    fn add_connection(&self, topic: &str) -> bool {
        let mut counts = self.counts();
        let count = counts.entry(topic.to_owned()).or_insert(Count {
            connections: 0,
            watch: None,
        });
        count.connections += 1;
        if let Some(w) = &count.watch {
            w.send_replace(count.connections);
        }
        count.connections == 1
    }

    /// One connection fewer on `topic`; `true` if it was the last.
    fn remove_connection(&self, topic: &str) -> bool {
        let mut counts = self.counts();
        let Some(count) = counts.get_mut(topic) else {
            return false;
        };
        count.connections = count.connections.saturating_sub(1);
        if let Some(w) = &count.watch {
            w.send_replace(count.connections);
        }
        let last = count.connections == 0;
        if count.is_unused() {
            counts.remove(topic);
        }
        last
    }

    fn notify(&self, event: &SubscriberEvent) {
        tracing::debug!(?event, "subscribers");
        for hook in &self.hooks {
            hook(event);
        }
    }
}

fn read_topic(topic: &Value) -> Result<(String, TopicPattern), SubscribeError> {
    let Value::Str(topic) = topic else {
        return Err(SubscribeError::InvalidTopic(format!("{topic}")));
    };
    match TopicPattern::parse(topic) {
        Some(pattern) => Ok((topic.clone(), pattern)),
        None => Err(SubscribeError::InvalidTopic(
            topic.chars().take(128).collect(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex as StdMutex;
    use wslink_core::map;

    fn registry_with_log() -> (Registry, Arc<StdMutex<Vec<SubscriberEvent>>>) {
        let log = Arc::new(StdMutex::new(Vec::new()));
        let sink = log.clone();
        let hook: SubscriberHook = Arc::new(move |e| sink.lock().unwrap().push(e.clone()));
        let only = vec![TopicPattern::parse("secret").unwrap()];
        (
            Registry::new(SubscriptionLimits::default(), only, vec![hook]),
            log,
        )
    }

    #[test]
    fn route_follows_the_delivery_rule() {
        let (reg, _) = registry_with_log();
        let conn = ConnSubscriptions::default();
        let data = map! { "kind" => "a", "v" => 1, "w" => 2 };
        assert_eq!(conn.route("t", &data, false), Route::Whole);
        assert_eq!(conn.route("secret", &data, true), Route::Skip);
        let options =
            map! { "where" => map! { "kind" => "a" }, "fields" => Value::Array(vec!["v".into()]) };
        reg.subscribe(&conn, &"t".into(), &options).unwrap();
        let Route::Fields(f) = conn.route("t", &data, false) else {
            panic!("projected")
        };
        assert_eq!(f.as_ref(), ["v"]);
        assert_eq!(conn.route("t", &map! { "kind" => "b" }, false), Route::Skip);
        let w = map! { "fields" => Value::Array(vec!["w".into()]) };
        reg.subscribe(&conn, &"t".into(), &w).unwrap();
        let Route::Fields(f) = conn.route("t", &data, false) else {
            panic!("projected")
        };
        assert_eq!(f.as_ref(), ["v", "w"], "union of the matching ones");
        reg.subscribe(&conn, &"t.*".into(), &Value::Nil).unwrap();
        assert_eq!(conn.route("t.x", &data, false), Route::Whole);
        assert_eq!(
            conn.route("u", &data, false),
            Route::Whole,
            "never subscribed"
        );
    }

    #[test]
    fn counts_hooks_and_cleanup() {
        let (reg, log) = registry_with_log();
        let (a, b) = (ConnSubscriptions::default(), ConnSubscriptions::default());
        let mut watch = reg.watch("t");
        assert!(reg.is_broadcast("t"));
        assert!(!reg.is_broadcast("secret"));
        reg.subscribe(&a, &"t".into(), &Value::Nil).unwrap();
        reg.subscribe(&a, &"t".into(), &Value::Nil).unwrap();
        reg.subscribe(&b, &"t".into(), &Value::Nil).unwrap();
        assert_eq!(reg.subscriber_count("t"), 2);
        assert!(watch.has_changed().unwrap());
        assert_eq!(*watch.borrow_and_update(), 2);
        assert!(!reg.is_broadcast("t"));
        reg.unsubscribe(&a, &"t".into()).unwrap();
        assert_eq!(
            reg.unsubscribe(&a, &"t".into()),
            Err(SubscribeError::NotSubscribed("t".into()))
        );
        reg.drop_connection(&b);
        assert_eq!(reg.subscriber_count("t"), 0);
        assert_eq!(*watch.borrow(), 0);
        assert!(reg.is_broadcast("t"));
        assert_eq!(
            reg.subscribe(&b, &"t".into(), &Value::Nil),
            Err(SubscribeError::Closed)
        );
        assert_eq!(
            *log.lock().unwrap(),
            [
                SubscriberEvent::First("t".into()),
                SubscriberEvent::Last("t".into())
            ]
        );
        drop(watch);
        reg.watch("other");
        assert!(reg.counts().len() <= 1, "unused entries are dropped");
    }

    #[test]
    fn bad_input_is_refused_with_bounded_state() {
        let limits = SubscriptionLimits {
            max_per_connection: 2,
            ..SubscriptionLimits::default()
        };
        let reg = Registry::new(limits, Vec::new(), Vec::new());
        let conn = ConnSubscriptions::default();
        for bad in [Value::from(1), Value::from("a b"), Value::from("*")] {
            assert!(matches!(
                reg.subscribe(&conn, &bad, &Value::Nil),
                Err(SubscribeError::InvalidTopic(_))
            ));
        }
        assert!(matches!(
            reg.subscribe(&conn, &"t".into(), &Value::from("x")),
            Err(SubscribeError::Options(FilterError::NotAMap(_)))
        ));
        reg.subscribe(&conn, &"t".into(), &Value::Nil).unwrap();
        reg.subscribe(&conn, &"u".into(), &Value::Nil).unwrap();
        assert_eq!(
            reg.subscribe(&conn, &"v".into(), &Value::Nil),
            Err(SubscribeError::TooMany(2))
        );
        assert_eq!(reg.active.load(Ordering::Relaxed), 2);
    }
}
