//! The dynamic value carried in arguments, results and publications.
//!
//! wslink messages hold JSON-like data plus raw binary. [`Value`] models exactly that:
//! nil, booleans, 64-bit integers (signed, and unsigned above `i64::MAX`), 64-bit floats,
//! UTF-8 strings, binary as [`Bytes`] (shared, never re-encoded), arrays, string-keyed
//! maps that keep insertion order (so encoded bytes match the reference peers), and msgpack
//! extension values such as timestamps ([`Ext`], [`Timestamp`]; see [`ext`]).
//!
//! Handlers usually take and return ordinary Rust types; [`to_value`] and [`from_value`]
//! convert through serde. Binary fields use [`Bytes`] (or `serde_bytes`):
//!
//! ```
//! use wslink_core::{from_value, to_value, Value};
//! use bytes::Bytes;
//!
//! #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
//! struct Image { width: u32, pixels: Bytes }
//!
//! let img = Image { width: 2, pixels: Bytes::from_static(&[1, 2, 3, 4]) };
//! let value = to_value(&img).unwrap();
//! assert_eq!(value["width"], Value::from(2));
//! assert_eq!(value["pixels"].as_bytes().unwrap().as_ref(), &[1, 2, 3, 4]);
//! assert_eq!(from_value::<Image>(value).unwrap(), img);
//! ```

mod de;
pub mod ext;
mod ser;

use std::fmt;
use std::ops::Index;

use bytes::Bytes;
use indexmap::IndexMap;

pub use de::{from_value, ValueError};
pub use ext::{Ext, Timestamp, TimestampError};
pub use ser::{into_value, to_value};

/// A map with string keys that keeps insertion order.
pub type Map = IndexMap<String, Value>;

/// A wslink value: what an argument, a result or a publication holds.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    /// msgpack nil, JSON null, Python `None`.
    #[default]
    Nil,
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer above `i64::MAX` (smaller ones are kept as [`Value::Int`]).
    UInt(u64),
    /// A 64-bit float.
    Float(f64),
    /// A UTF-8 string.
    Str(String),
    /// Raw binary, shared without copies.
    Bin(Bytes),
    /// An ordered list.
    Array(Vec<Value>),
    /// A string-keyed map in insertion order.
    Map(Map),
    /// A msgpack extension value (a JS `Date`, a Python `ExtType` or `Timestamp`), kept
    /// as received so it goes back out as the same extension.
    Ext(Ext),
}

static NIL: Value = Value::Nil;

impl Value {
    /// A short name of the kind of value, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::UInt(_) => "integer",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Bin(_) => "binary",
            Value::Array(_) => "array",
            Value::Map(_) => "map",
            Value::Ext(_) => "ext",
        }
    }

    /// `true` for [`Value::Nil`].
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The binary, if this is binary.
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match self {
            Value::Bin(b) => Some(b),
            _ => None,
        }
    }

    /// The integer as `i64`, if it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Int(i) => Some(i),
            Value::UInt(u) => i64::try_from(u).ok(),
            _ => None,
        }
    }

    /// The integer as `u64`, if it is a non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::Int(i) => u64::try_from(i).ok(),
            Value::UInt(u) => Some(u),
            _ => None,
        }
    }

    /// Any number as `f64` (integers are converted, possibly losing precision).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Int(i) => Some(i as f64),
            Value::UInt(u) => Some(u as f64),
            Value::Float(f) => Some(f),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The entries, if this is a map.
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The extension value, if this is one.
    pub fn as_ext(&self) -> Option<&Ext> {
        match self {
            Value::Ext(e) => Some(e),
            _ => None,
        }
    }

    /// The time, if this is a valid msgpack timestamp (extension type −1).
    pub fn as_timestamp(&self) -> Option<Timestamp> {
        self.as_ext().and_then(|e| Timestamp::try_from(e).ok())
    }

    /// Looks up `key` in a map; `None` for a missing key or a value that is not a map.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_map().and_then(|m| m.get(key))
    }
}

/// `value["key"]` on a map and `value[3]` on an array; [`Value::Nil`] when absent.
impl Index<&str> for Value {
    type Output = Value;
    fn index(&self, key: &str) -> &Value {
        self.get(key).unwrap_or(&NIL)
    }
}

impl Index<usize> for Value {
    type Output = Value;
    fn index(&self, i: usize) -> &Value {
        self.as_array().and_then(|a| a.get(i)).unwrap_or(&NIL)
    }
}

impl fmt::Display for Value {
    /// JSON-like text; binary is shown as its length and first bytes in hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::UInt(u) => write!(f, "{u}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Bin(b) => {
                write!(f, "<{} bytes", b.len())?;
                if !b.is_empty() {
                    f.write_str(": ")?;
                    for byte in b.iter().take(16) {
                        write!(f, "{byte:02x}")?;
                    }
                    if b.len() > 16 {
                        f.write_str("…")?;
                    }
                }
                f.write_str(">")
            }
            Value::Array(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Map(map) => {
                f.write_str("{")?;
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k:?}: {v}")?;
                }
                f.write_str("}")
            }
            Value::Ext(e) => write!(f, "{e}"),
        }
    }
}

macro_rules! from_signed {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self { Value::Int(i64::from(v)) }
        }
    )*};
}
from_signed!(i8, i16, i32, i64, u8, u16, u32);

impl From<u64> for Value {
    fn from(v: u64) -> Self {
        match i64::try_from(v) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::UInt(v),
        }
    }
}

impl From<usize> for Value {
    fn from(v: usize) -> Self {
        Value::from(v as u64)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}

impl From<f32> for Value {
    fn from(v: f32) -> Self {
        Value::Float(f64::from(v))
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(v)
    }
}

impl From<Bytes> for Value {
    fn from(v: Bytes) -> Self {
        Value::Bin(v)
    }
}

impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::Array(v)
    }
}

impl From<Map> for Value {
    fn from(v: Map) -> Self {
        Value::Map(v)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Nil, Into::into)
    }
}

impl FromIterator<Value> for Value {
    fn from_iter<I: IntoIterator<Item = Value>>(iter: I) -> Self {
        Value::Array(iter.into_iter().collect())
    }
}

impl<K: Into<String>> FromIterator<(K, Value)> for Value {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Self {
        Value::Map(iter.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
}

/// Builds a [`Value::Array`] from expressions that convert [`Into<Value>`](Value).
///
/// ```
/// use wslink_core::{array, Value};
/// assert_eq!(array![1, "two", 3.0], Value::Array(vec![1.into(), "two".into(), 3.0.into()]));
/// ```
#[macro_export]
macro_rules! array {
    ($($item:expr),* $(,)?) => {
        $crate::Value::Array(vec![$($crate::Value::from($item)),*])
    };
}

/// Builds a [`Value::Map`] from `key => value` pairs.
///
/// ```
/// use wslink_core::{map, Value};
/// let v = map! { "a" => 1, "b" => "x" };
/// assert_eq!(v["b"], Value::from("x"));
/// ```
#[macro_export]
macro_rules! map {
    ($($key:expr => $value:expr),* $(,)?) => {{
        #[allow(unused_mut)]
        let mut m = $crate::Map::new();
        $( m.insert(::std::string::String::from($key), $crate::Value::from($value)); )*
        $crate::Value::Map(m)
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_returns_nil_for_missing_keys_and_other_kinds() {
        let v = map! { "a" => array![1, 2] };
        assert_eq!(v["a"][1], Value::Int(2));
        assert_eq!(v["missing"], Value::Nil);
        assert_eq!(v["a"]["not a map"], Value::Nil);
        assert_eq!(v["a"][9], Value::Nil);
    }

    #[test]
    fn u64_above_i64_max_stays_unsigned() {
        assert_eq!(Value::from(u64::MAX), Value::UInt(u64::MAX));
        assert_eq!(Value::from(5u64), Value::Int(5));
        assert_eq!(Value::UInt(u64::MAX).as_i64(), None);
        assert_eq!(Value::Int(-1).as_u64(), None);
    }

    #[test]
    fn display_is_json_like_and_short_for_binary() {
        let v = map! { "s" => "x", "b" => Bytes::from_static(&[0xde, 0xad]), "n" => Value::Nil };
        assert_eq!(
            v.to_string(),
            r#"{"s": "x", "b": <2 bytes: dead>, "n": null}"#
        );
    }
}
