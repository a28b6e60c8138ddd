//! [`Value`] → Rust values: `Deserialize` for `Value`, and `Value` as a serde `Deserializer`.

use std::any::Any;
use std::fmt;

use bytes::Bytes;
use serde::de::{
    self, value::MapDeserializer, value::SeqDeserializer, DeserializeOwned, IntoDeserializer,
    Visitor,
};
use serde::forward_to_deserialize_any;

use super::ext::EXT_STRUCT_NAME;
use super::{Ext, Map, Value};

/// A value did not have the shape a Rust type expected (or could not be represented).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(String);

impl ValueError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        ValueError(message.into())
    }
}

impl de::Error for ValueError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ValueError(msg.to_string())
    }
}

impl serde::ser::Error for ValueError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ValueError(msg.to_string())
    }
}

/// Converts a [`Value`] into any deserializable Rust type.
///
/// Asking for a [`Value`] returns it as it is; asking for [`Bytes`] from [`Value::Bin`]
/// hands over the buffer without a copy. Integral floats are accepted where integers are
/// expected (the JS client sends 2^53 and above as float64).
pub fn from_value<T: DeserializeOwned + 'static>(value: Value) -> Result<T, ValueError> {
    let mut out: Option<T> = None;
    let any = &mut out as &mut dyn Any;
    if let Some(slot) = any.downcast_mut::<Option<Value>>() {
        *slot = Some(value);
        return out.ok_or_else(|| ValueError::new("unreachable"));
    }
    if let Some(slot) = any.downcast_mut::<Option<Bytes>>() {
        if let Value::Bin(b) = value {
            *slot = Some(b);
            return out.ok_or_else(|| ValueError::new("unreachable"));
        }
    }
    T::deserialize(value)
}

impl<'de> de::Deserialize<'de> for Value {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any wslink value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Bin(Bytes::copy_from_slice(v)))
    }
    fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Bin(Bytes::from(v)))
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        de::Deserialize::deserialize(d)
    }
    fn visit_newtype_struct<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        de::Deserialize::deserialize(d)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::with_capacity(access.size_hint().unwrap_or(0).min(4096));
        while let Some(MapKey(key)) = access.next_key()? {
            let value = access.next_value()?;
            map.insert(key, value);
        }
        Ok(Value::Map(map))
    }
}

/// A map key from any format: strings as they are; numbers, booleans and byte strings
/// (which a Python peer may write) turned into strings, as the JS client does.
struct MapKey(String);

impl<'de> de::Deserialize<'de> for MapKey {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<MapKey, D::Error> {
        match Value::deserialize(d)? {
            Value::Str(s) => Ok(MapKey(s)),
            Value::Bin(b) => Ok(MapKey(String::from_utf8_lossy(&b).into_owned())),
            v @ (Value::Int(_) | Value::UInt(_) | Value::Float(_) | Value::Bool(_)) => {
                Ok(MapKey(v.to_string()))
            }
            Value::Nil => Ok(MapKey("null".to_owned())),
            other => Err(de::Error::custom(format!(
                "a map key cannot be {}",
                other.kind()
            ))),
        }
    }
}

fn integral(f: f64) -> Option<i64> {
    // ±2^63 are exact in f64; every integral float in [-2^63, 2^63) fits an i64.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f)).then_some(f as i64)
}

impl Value {
    fn unexpected(&self) -> de::Unexpected<'_> {
        match self {
            Value::Nil => de::Unexpected::Unit,
            Value::Bool(b) => de::Unexpected::Bool(*b),
            Value::Int(i) => de::Unexpected::Signed(*i),
            Value::UInt(u) => de::Unexpected::Unsigned(*u),
            Value::Float(f) => de::Unexpected::Float(*f),
            Value::Str(s) => de::Unexpected::Str(s),
            Value::Bin(b) => de::Unexpected::Bytes(b),
            Value::Array(_) => de::Unexpected::Seq,
            Value::Map(_) => de::Unexpected::Map,
            Value::Ext(_) => de::Unexpected::Other("a msgpack extension"),
        }
    }

    fn deserialize_integer<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Value::Float(f) => match integral(f) {
                Some(i) => visitor.visit_i64(i),
                None => visitor.visit_f64(f),
            },
            other => de::Deserializer::deserialize_any(other, visitor),
        }
    }
}

impl IntoDeserializer<'_, ValueError> for Value {
    type Deserializer = Value;
    fn into_deserializer(self) -> Value {
        self
    }
}

macro_rules! integer_methods {
    ($($method:ident),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
            self.deserialize_integer(visitor)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Value {
    type Error = ValueError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Value::Nil => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Int(i) => visitor.visit_i64(i),
            Value::UInt(u) => visitor.visit_u64(u),
            Value::Float(f) => visitor.visit_f64(f),
            Value::Str(s) => visitor.visit_string(s),
            Value::Bin(b) => visitor.visit_byte_buf(Vec::from(b)),
            Value::Array(items) => {
                let mut seq = SeqDeserializer::new(items.into_iter());
                let out = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(out)
            }
            Value::Map(map) => {
                let mut access = MapDeserializer::new(map.into_iter());
                let out = visitor.visit_map(&mut access)?;
                access.end()?;
                Ok(out)
            }
            // As the JS client shows an extension it does not know: `{type, data}`.
            Value::Ext(Ext { tag, data }) => {
                let entries = [("type", Value::Int(tag.into())), ("data", Value::Bin(data))];
                let mut access = MapDeserializer::new(entries.into_iter());
                let out = visitor.visit_map(&mut access)?;
                access.end()?;
                Ok(out)
            }
        }
    }

    integer_methods!(
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128
    );

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Value::Nil => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        match self {
            Value::Ext(Ext { tag, data }) if name == EXT_STRUCT_NAME => visitor
                .visit_newtype_struct(Value::Array(vec![Value::Int(tag.into()), Value::Bin(data)])),
            other => visitor.visit_newtype_struct(other),
        }
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.deserialize_byte_buf(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Value::Bin(b) => visitor.visit_byte_buf(Vec::from(b)),
            Value::Str(s) => visitor.visit_string(s),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            // `Vec<u8>` and friends ask for a sequence: give them the bytes one by one.
            Value::Bin(b) => {
                let mut seq = SeqDeserializer::new(b.into_iter());
                let out = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(out)
            }
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        match self {
            Value::Str(s) => visitor.visit_enum(s.into_deserializer()),
            Value::Map(map) if map.len() == 1 => {
                let (variant, value) = map.into_iter().next().expect("one entry");
                visitor.visit_enum(EnumAccess { variant, value })
            }
            other => Err(de::Error::invalid_type(
                other.unexpected(),
                &"a string or a map with one entry",
            )),
        }
    }

    forward_to_deserialize_any! {
        bool f32 f64 char str string unit unit_struct tuple tuple_struct map struct
        identifier ignored_any
    }
}

struct EnumAccess {
    variant: String,
    value: Value,
}

impl<'de> de::EnumAccess<'de> for EnumAccess {
    type Error = ValueError;
    type Variant = Value;
    fn variant_seed<S: de::DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Value), ValueError> {
        let variant: de::value::StringDeserializer<ValueError> = self.variant.into_deserializer();
        Ok((seed.deserialize(variant)?, self.value))
    }
}

impl<'de> de::VariantAccess<'de> for Value {
    type Error = ValueError;
    fn unit_variant(self) -> Result<(), ValueError> {
        match self {
            Value::Nil => Ok(()),
            other => Err(de::Error::invalid_type(other.unexpected(), &"unit variant")),
        }
    }
    fn newtype_variant_seed<S: de::DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<S::Value, ValueError> {
        seed.deserialize(self)
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, v: V) -> Result<V::Value, ValueError> {
        de::Deserializer::deserialize_seq(self, v)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, ValueError> {
        de::Deserializer::deserialize_map(self, v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{array, map, to_value};

    #[test]
    fn bytes_are_handed_over_without_copy() {
        let b = Bytes::from(vec![7u8; 4096]);
        let ptr = b.as_ptr();
        let out: Bytes = from_value(Value::Bin(b)).unwrap();
        assert_eq!(out.as_ptr(), ptr);
        let v: Vec<u8> = from_value(Value::Bin(Bytes::from_static(b"ab"))).unwrap();
        assert_eq!(v, b"ab");
    }

    #[test]
    fn integral_floats_fill_integers_but_fractions_do_not() {
        assert_eq!(
            from_value::<i64>(Value::Float(9007199254740992.0)).unwrap(),
            1 << 53
        );
        assert!(from_value::<i64>(Value::Float(1.5)).is_err());
        assert_eq!(from_value::<f64>(Value::Int(3)).unwrap(), 3.0);
        assert!(from_value::<u8>(Value::Int(300)).is_err());
    }

    #[test]
    fn round_trip_through_serde_types() {
        #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
        enum E {
            A,
            B(i32),
            C { x: Option<String> },
        }
        #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
        struct S {
            list: Vec<E>,
            #[serde(with = "bytes_helper")]
            data: Vec<u8>,
            n: Option<u64>,
        }
        mod bytes_helper {
            pub(super) fn serialize<S: serde::Serializer>(
                v: &[u8],
                s: S,
            ) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(v)
            }
            pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(
                d: D,
            ) -> Result<Vec<u8>, D::Error> {
                let b: bytes::Bytes = serde::Deserialize::deserialize(d)?;
                Ok(b.to_vec())
            }
        }
        let s = S {
            list: vec![
                E::A,
                E::B(-4),
                E::C {
                    x: Some("y".into()),
                },
                E::C { x: None },
            ],
            data: vec![0, 255],
            n: Some(u64::MAX),
        };
        let v = to_value(&s).unwrap();
        assert_eq!(v["data"], Value::Bin(Bytes::from_static(&[0, 255])));
        let back: S = from_value(v).unwrap();
        assert_eq!(back.list[1], E::B(-4));
        assert_eq!(back.n, Some(u64::MAX));
    }

    #[test]
    fn deserialize_value_from_json_keeps_order_and_kinds() {
        let v: Value = serde_json::from_str(r#"{"z": 1, "a": [true, null, 2.5, "s"]}"#).unwrap();
        assert_eq!(
            v,
            map! { "z" => 1, "a" => array![true, Value::Nil, 2.5, "s"] }
        );
        assert_eq!(v.as_map().unwrap().keys().next().unwrap(), "z");
    }

    #[test]
    fn wrong_shapes_give_errors_not_panics() {
        assert!(from_value::<String>(Value::Int(1)).is_err());
        assert!(from_value::<(i32, i32)>(array![1]).is_err());
        assert!(from_value::<Vec<i32>>(map! {"a" => 1}).is_err());
    }
}
