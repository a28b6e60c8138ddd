//! Subscription filters: the topics a subscription covers, the publications it wants, the
//! parts of them it keeps.
//!
//! A server that says `"subscriptions": true` in its hello reply answers
//! `wslink.subscribe(topic, options)` and `wslink.unsubscribe(topic)`. `topic` is a topic
//! or a pattern `prefix.*` ([`TopicPattern`]); `options` is nil or a map with
//! `where` (a map field → value: a map payload matches when each field equals its value)
//! and `fields` (top-level keys to keep). Server and client share this reading
//! ([`Filter`]), so a client routing locally (against a server without subscriptions)
//! delivers exactly what the server would have.

use std::sync::Arc;

use crate::id::is_valid_topic;
use crate::{Map, Value};

/// The method that registers a subscription on the server.
pub const SUBSCRIBE_METHOD: &str = "wslink.subscribe";
/// The method that removes a topic's subscriptions on the server.
pub const UNSUBSCRIBE_METHOD: &str = "wslink.unsubscribe";
/// The key of the hello reply by which a server says it answers [`SUBSCRIBE_METHOD`].
pub const HELLO_SUBSCRIPTIONS: &str = "subscriptions";

/// What a subscription covers: one topic, or every topic under a prefix (`a.*`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TopicPattern {
    /// Exactly this topic.
    Exact(String),
    /// Every topic that starts with this prefix, dot included (`a.*` covers `a.b` and
    /// `a.b.c`, not `a`).
    Prefix(String),
}

impl TopicPattern {
    /// Reads `a.b` or `a.*`; `None` unless the topic (or the part before `.*`) follows
    /// the topic grammar ([`is_valid_topic`]).
    pub fn parse(pattern: &str) -> Option<TopicPattern> {
        match pattern.strip_suffix(".*") {
            Some(prefix) if is_valid_topic(prefix) => {
                Some(TopicPattern::Prefix(format!("{prefix}.")))
            }
            Some(_) => None,
            None if is_valid_topic(pattern) => Some(TopicPattern::Exact(pattern.to_owned())),
            None => None,
        }
    }

    /// `true` if publications on `topic` fall under this pattern.
    pub fn covers(&self, topic: &str) -> bool {
        match self {
            TopicPattern::Exact(t) => t == topic,
            TopicPattern::Prefix(p) => topic.len() > p.len() && topic.starts_with(p.as_str()),
        }
    }
}

impl std::fmt::Display for TopicPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TopicPattern::Exact(t) => f.write_str(t),
            TopicPattern::Prefix(p) => write!(f, "{p}*"),
        }
    }
}

/// Bounds on the options of one subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterLimits {
    /// Size of `where` and `fields` together, counted as 1 per value plus the length of
    /// every key, string and binary (default 4 KiB).
    pub max_bytes: usize,
    /// Nesting depth of a value in `where` (default 8; a scalar is depth 1).
    pub max_depth: usize,
}

impl Default for FilterLimits {
    fn default() -> Self {
        FilterLimits {
            max_bytes: 4 * 1024,
            max_depth: 8,
        }
    }
}

/// Why subscription options were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// The options are neither nil nor a map.
    #[error("options must be a map with 'where' and/or 'fields', got {0}")]
    NotAMap(&'static str),
    /// An option other than `where` and `fields`.
    #[error("unknown subscription option {0:?} (known: 'where', 'fields')")]
    UnknownOption(String),
    /// `where` is not a map.
    #[error("'where' must be a map of field to value, got {0}")]
    WhereNotAMap(&'static str),
    /// `fields` is not a list of strings.
    #[error("'fields' must be a list of strings")]
    FieldsNotStrings,
    /// The options are larger than [`FilterLimits::max_bytes`].
    #[error("subscription options too large (limit {0} bytes)")]
    TooLarge(usize),
    /// A `where` value nests deeper than [`FilterLimits::max_depth`].
    #[error("'where' nests too deep (limit {0})")]
    TooDeep(usize),
}

/// Which publications of a topic a subscription wants, and what it keeps of them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    conditions: Vec<(String, Value)>,
    /// Sorted, without duplicates; `None` keeps everything.
    fields: Option<Arc<[String]>>,
}

impl Filter {
    /// A filter that takes every publication whole.
    pub fn all() -> Filter {
        Filter::default()
    }

    /// Requires the map payload's `field` to equal `value`.
    pub fn where_eq(mut self, field: impl Into<String>, value: impl Into<Value>) -> Filter {
        let field = field.into();
        self.conditions.retain(|(f, _)| *f != field);
        self.conditions.push((field, value.into()));
        self
    }

    /// Keeps only these top-level keys of a map payload.
    pub fn fields<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Filter {
        self.fields = Some(canonical(fields.into_iter().map(Into::into).collect()));
        self
    }

    /// Reads the `options` of `wslink.subscribe` (nil means no filter).
    pub fn from_options(options: &Value, limits: &FilterLimits) -> Result<Filter, FilterError> {
        let map = match options {
            Value::Nil => return Ok(Filter::all()),
            Value::Map(map) => map,
            other => return Err(FilterError::NotAMap(kind(other))),
        };
        let mut budget = Budget::new(limits);
        let mut filter = Filter::all();
        for (key, value) in map {
            budget.take(1 + key.len())?;
            match key.as_str() {
                "where" => filter.conditions = read_where(value, &mut budget)?,
                "fields" => filter.fields = read_fields(value, &mut budget)?,
                _ => return Err(FilterError::UnknownOption(truncated(key))),
            }
        }
        Ok(filter)
    }

    /// The filter as `wslink.subscribe` options (nil for no filter).
    pub fn to_options(&self) -> Value {
        let mut options = Map::new();
        if !self.conditions.is_empty() {
            let conditions: Map = self.conditions.iter().cloned().collect();
            options.insert("where".into(), Value::Map(conditions));
        }
        if let Some(fields) = &self.fields {
            let list = fields.iter().map(|f| Value::from(f.as_str())).collect();
            options.insert("fields".into(), Value::Array(list));
        }
        if options.is_empty() {
            Value::Nil
        } else {
            Value::Map(options)
        }
    }

    /// `true` when there are no conditions and no projection.
    pub fn is_all(&self) -> bool {
        self.conditions.is_empty() && self.fields.is_none()
    }

    /// The keys kept (sorted), or `None` for the whole payload.
    pub fn kept(&self) -> Option<&Arc<[String]>> {
        self.fields.as_ref()
    }

    /// The fields the conditions look at, sorted.
    pub fn condition_fields(&self) -> Vec<String> {
        let mut fields: Vec<String> = self.conditions.iter().map(|(f, _)| f.clone()).collect();
        fields.sort();
        fields
    }

    /// The filter to register with a server for this one, when the receiver checks the
    /// conditions again itself: the same conditions, keeping also the fields they look
    /// at (so the receiver still sees them).
    pub fn for_server(&self) -> Filter {
        let fields = self.fields.as_ref().map(|kept| {
            let looked_at = canonical(self.condition_fields());
            union_fields(Some(kept), Some(&looked_at)).unwrap_or_else(|| kept.clone())
        });
        Filter {
            conditions: self.conditions.clone(),
            fields,
        }
    }

    /// `true` if a publication with this payload passes the conditions: with conditions,
    /// the payload must be a map whose every named field equals its value (numbers
    /// compare by value: 1 equals 1.0).
    pub fn matches(&self, data: &Value) -> bool {
        if self.conditions.is_empty() {
            return true;
        }
        let Value::Map(map) = data else { return false };
        self.conditions
            .iter()
            .all(|(field, wanted)| map.get(field).is_some_and(|v| same(v, wanted)))
    }

    /// The payload as this subscription receives it: a map payload keeps only the kept
    /// keys; anything else is unchanged.
    pub fn project(&self, data: &Value) -> Value {
        project(data, self.fields.as_deref())
    }
}

/// Keeps only `fields` (sorted) of a map payload; anything else is unchanged.
pub fn project(data: &Value, fields: Option<&[String]>) -> Value {
    match (data, fields) {
        (Value::Map(map), Some(fields)) => Value::Map(
            map.iter()
                .filter(|(k, _)| fields.binary_search(k).is_ok())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        _ => data.clone(),
    }
}

/// The union of two sorted key lists (`None` is "everything").
pub fn union_fields(a: Option<&Arc<[String]>>, b: Option<&Arc<[String]>>) -> Option<Arc<[String]>> {
    let (a, b) = (a?, b?);
    if a == b {
        return Some(a.clone());
    }
    Some(canonical(a.iter().chain(b.iter()).cloned().collect()))
}

fn canonical(mut fields: Vec<String>) -> Arc<[String]> {
    fields.sort();
    fields.dedup();
    fields.into()
}

/// Values equal as the filter sees them: numbers by value, the rest structurally.
fn same(a: &Value, b: &Value) -> bool {
    match (number(a), number(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::UInt(u) => Some(*u as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

fn read_where(value: &Value, budget: &mut Budget) -> Result<Vec<(String, Value)>, FilterError> {
    let map = match value {
        Value::Nil => return Ok(Vec::new()),
        Value::Map(map) => map,
        other => return Err(FilterError::WhereNotAMap(kind(other))),
    };
    let mut conditions = Vec::with_capacity(map.len().min(64));
    for (field, wanted) in map {
        budget.take(1 + field.len())?;
        budget.measure(wanted, 1)?;
        conditions.push((field.clone(), wanted.clone()));
    }
    Ok(conditions)
}

fn read_fields(value: &Value, budget: &mut Budget) -> Result<Option<Arc<[String]>>, FilterError> {
    let list = match value {
        Value::Nil => return Ok(None),
        Value::Array(list) => list,
        _ => return Err(FilterError::FieldsNotStrings),
    };
    let mut fields = Vec::with_capacity(list.len().min(64));
    for item in list {
        let Value::Str(name) = item else {
            return Err(FilterError::FieldsNotStrings);
        };
        budget.take(1 + name.len())?;
        fields.push(name.clone());
    }
    Ok(Some(canonical(fields)))
}

/// What is left of [`FilterLimits`] while options are read.
struct Budget {
    left: usize,
    limit: usize,
    max_depth: usize,
}

impl Budget {
    fn new(limits: &FilterLimits) -> Budget {
        Budget {
            left: limits.max_bytes,
            limit: limits.max_bytes,
            max_depth: limits.max_depth,
        }
    }

    fn take(&mut self, n: usize) -> Result<(), FilterError> {
        self.left = self
            .left
            .checked_sub(n)
            .ok_or(FilterError::TooLarge(self.limit))?;
        Ok(())
    }

    /// Charges a value and everything in it; fails as soon as a limit is passed.
    fn measure(&mut self, value: &Value, depth: usize) -> Result<(), FilterError> {
        if depth > self.max_depth {
            return Err(FilterError::TooDeep(self.max_depth));
        }
        match value {
            Value::Str(s) => self.take(1 + s.len()),
            Value::Bin(b) => self.take(1 + b.len()),
            Value::Ext(e) => self.take(1 + e.data.len()),
            Value::Array(items) => {
                self.take(1)?;
                items.iter().try_for_each(|v| self.measure(v, depth + 1))
            }
            Value::Map(map) => {
                self.take(1)?;
                map.iter().try_for_each(|(k, v)| {
                    self.take(k.len())?;
                    self.measure(v, depth + 1)
                })
            }
            _ => self.take(1),
        }
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Nil => "nil",
        Value::Bool(_) => "a boolean",
        Value::Int(_) | Value::UInt(_) | Value::Float(_) => "a number",
        Value::Str(_) => "a string",
        Value::Bin(_) => "binary",
        Value::Array(_) => "a list",
        Value::Map(_) => "a map",
        Value::Ext(_) => "an extension",
    }
}

fn truncated(s: &str) -> String {
    s.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::map;

    #[test]
    fn patterns_cover_their_topics() {
        let exact = TopicPattern::parse("a.b").unwrap();
        let prefix = TopicPattern::parse("a.*").unwrap();
        assert!(exact.covers("a.b") && !exact.covers("a.b.c") && !exact.covers("a"));
        assert!(prefix.covers("a.b") && prefix.covers("a.b.c"));
        assert!(!prefix.covers("a") && !prefix.covers("ab.c") && !prefix.covers("a."));
        assert_eq!(prefix.to_string(), "a.*");
        for bad in ["", "*", ".*", "a..*", "a.*.b", "a b", "a.", "a.**"] {
            assert_eq!(TopicPattern::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn where_matches_maps_field_by_field_and_numbers_by_value() {
        let f = Filter::all().where_eq("kind", "temp").where_eq("room", 1);
        assert!(f.matches(&map! { "kind" => "temp", "room" => 1.0, "v" => 3 }));
        assert!(!f.matches(&map! { "kind" => "temp", "room" => 2 }));
        assert!(!f.matches(&map! { "kind" => "temp" }));
        assert!(!f.matches(&Value::from("temp")));
        assert!(Filter::all().matches(&Value::from("anything")));
    }

    #[test]
    fn fields_keep_top_level_keys_in_payload_order() {
        let f = Filter::all().fields(["v", "kind", "v"]);
        let data = map! { "kind" => "t", "room" => 1, "v" => 3 };
        assert_eq!(f.project(&data), map! { "kind" => "t", "v" => 3 });
        assert_eq!(f.project(&Value::from(7)), Value::from(7));
        assert_eq!(f.kept().unwrap().as_ref(), ["kind", "v"]);
    }

    #[test]
    fn options_round_trip_and_bad_options_are_refused() {
        let limits = FilterLimits::default();
        let f = Filter::all().where_eq("a", 1).fields(["b"]);
        assert_eq!(Filter::from_options(&f.to_options(), &limits), Ok(f));
        assert_eq!(
            Filter::from_options(&Value::Nil, &limits),
            Ok(Filter::all())
        );
        assert_eq!(Filter::all().to_options(), Value::Nil);
        let refused = |v: Value| Filter::from_options(&v, &limits).unwrap_err();
        assert_eq!(refused(Value::from(1)), FilterError::NotAMap("a number"));
        assert_eq!(
            refused(map! { "when" => 1 }),
            FilterError::UnknownOption("when".into())
        );
        assert_eq!(
            refused(map! { "where" => "x" }),
            FilterError::WhereNotAMap("a string")
        );
        assert_eq!(
            refused(map! { "fields" => Value::Array(vec![1.into()]) }),
            FilterError::FieldsNotStrings
        );
    }

    #[test]
    fn options_are_bounded_in_size_and_depth() {
        let limits = FilterLimits {
            max_bytes: 100,
            max_depth: 3,
        };
        let big = map! { "where" => map! { "a" => "x".repeat(200) } };
        assert_eq!(
            Filter::from_options(&big, &limits),
            Err(FilterError::TooLarge(100))
        );
        let many: Vec<Value> = (0..200).map(|i| Value::from(format!("f{i}"))).collect();
        let many = map! { "fields" => Value::Array(many) };
        assert_eq!(
            Filter::from_options(&many, &limits),
            Err(FilterError::TooLarge(100))
        );
        let nest = |v: Value| Value::Array(vec![v]);
        let deep = map! { "where" => map! { "a" => nest(nest(nest(Value::Nil))) } };
        assert_eq!(
            Filter::from_options(&deep, &limits),
            Err(FilterError::TooDeep(3))
        );
        let ok = map! { "where" => map! { "a" => nest(nest(Value::Nil)) } };
        assert!(Filter::from_options(&ok, &limits).is_ok());
    }

    #[test]
    fn the_server_keeps_the_fields_the_conditions_need() {
        let f = Filter::all().where_eq("room", 1).fields(["value"]);
        assert_eq!(
            f.for_server(),
            Filter::all().where_eq("room", 1).fields(["room", "value"])
        );
        let whole = Filter::all().where_eq("room", 1);
        assert_eq!(whole.for_server(), whole);
    }

    #[test]
    fn union_of_kept_fields() {
        let a: Arc<[String]> = canonical(vec!["a".into(), "c".into()]);
        let b: Arc<[String]> = canonical(vec!["b".into(), "c".into()]);
        assert_eq!(union_fields(Some(&a), None), None);
        assert_eq!(union_fields(Some(&a), Some(&a)), Some(a.clone()));
        assert_eq!(
            union_fields(Some(&a), Some(&b)).unwrap().as_ref(),
            ["a", "b", "c"]
        );
    }
}
