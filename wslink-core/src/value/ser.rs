//! Rust values → [`Value`]: `Serialize` for `Value`, and a serializer that builds one.

use std::any::Any;

use bytes::Bytes;
use serde::ser::{self, Serialize};

use super::ext::EXT_STRUCT_NAME;
use super::{Ext, Map, Value, ValueError};

impl Serialize for Value {
    fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Nil => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::UInt(u) => s.serialize_u64(*u),
            Value::Float(f) => s.serialize_f64(*f),
            Value::Str(v) => s.serialize_str(v),
            Value::Bin(b) => s.serialize_bytes(b),
            Value::Array(items) => s.collect_seq(items),
            Value::Map(map) => s.collect_map(map),
            Value::Ext(e) => e.serialize(s),
        }
    }
}

/// Converts any serializable value into a [`Value`] (byte slices written with
/// `serialize_bytes`, as [`Bytes`] and `serde_bytes` do, become [`Value::Bin`]).
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, ValueError> {
    value.serialize(ValueSerializer)
}

/// Like [`to_value`], but takes the value: a [`Value`] or [`Bytes`] is moved as it is (no
/// copy, no serde walk), which is how handler results reach the wire.
pub fn into_value<T: Serialize + 'static>(value: T) -> Result<Value, ValueError> {
    let mut slot = Some(value);
    let any = &mut slot as &mut dyn Any;
    if let Some(v) = any.downcast_mut::<Option<Value>>() {
        return Ok(v.take().unwrap_or_default());
    }
    if let Some(b) = any.downcast_mut::<Option<Bytes>>() {
        return Ok(Value::Bin(b.take().unwrap_or_default()));
    }
    match slot {
        Some(v) => v.serialize(ValueSerializer),
        None => Ok(Value::Nil),
    }
}

/// A serde `Serializer` whose output is a [`Value`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct ValueSerializer;

/// Collects the elements of a sequence, tuple or tuple variant.
#[derive(Debug)]
pub(crate) struct SeqBuilder {
    items: Vec<Value>,
    variant: Option<&'static str>,
}

/// Collects the entries of a map, struct or struct variant.
#[derive(Debug)]
pub(crate) struct MapBuilder {
    map: Map,
    next_key: Option<String>,
    variant: Option<&'static str>,
}

fn wrap_variant(variant: Option<&'static str>, value: Value) -> Value {
    match variant {
        Some(name) => {
            let mut m = Map::with_capacity(1);
            m.insert(name.to_owned(), value);
            Value::Map(m)
        }
        None => value,
    }
}

impl ser::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = ValueError;
    type SerializeSeq = SeqBuilder;
    type SerializeTuple = SeqBuilder;
    type SerializeTupleStruct = SeqBuilder;
    type SerializeTupleVariant = SeqBuilder;
    type SerializeMap = MapBuilder;
    type SerializeStruct = MapBuilder;
    type SerializeStructVariant = MapBuilder;

    fn serialize_bool(self, v: bool) -> Result<Value, ValueError> {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, ValueError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Value, ValueError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Value, ValueError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Value, ValueError> {
        Ok(Value::Int(v))
    }
    fn serialize_i128(self, v: i128) -> Result<Value, ValueError> {
        if let Ok(i) = i64::try_from(v) {
            Ok(Value::Int(i))
        } else if let Ok(u) = u64::try_from(v) {
            Ok(Value::UInt(u))
        } else {
            Err(ValueError::new(format!(
                "integer {v} does not fit in 64 bits"
            )))
        }
    }
    fn serialize_u8(self, v: u8) -> Result<Value, ValueError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Value, ValueError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Value, ValueError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Value, ValueError> {
        Ok(Value::from(v))
    }
    fn serialize_u128(self, v: u128) -> Result<Value, ValueError> {
        u64::try_from(v)
            .map(Value::from)
            .map_err(|_| ValueError::new(format!("integer {v} does not fit in 64 bits")))
    }
    fn serialize_f32(self, v: f32) -> Result<Value, ValueError> {
        Ok(Value::Float(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<Value, ValueError> {
        Ok(Value::Float(v))
    }
    fn serialize_char(self, v: char) -> Result<Value, ValueError> {
        Ok(Value::Str(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value, ValueError> {
        Ok(Value::Str(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, ValueError> {
        Ok(Value::Bin(Bytes::copy_from_slice(v)))
    }
    fn serialize_none(self) -> Result<Value, ValueError> {
        Ok(Value::Nil)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<Value, ValueError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, ValueError> {
        Ok(Value::Nil)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value, ValueError> {
        Ok(Value::Nil)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value, ValueError> {
        Ok(Value::Str(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Value, ValueError> {
        let inner = value.serialize(self)?;
        if name != EXT_STRUCT_NAME {
            return Ok(inner);
        }
        match inner {
            Value::Array(mut parts) if parts.len() == 2 => {
                let data = parts.pop();
                let tag = parts.pop().and_then(|t| t.as_i64()).map(i8::try_from);
                match (tag, data) {
                    (Some(Ok(tag)), Some(Value::Bin(data))) => Ok(Value::Ext(Ext { tag, data })),
                    _ => Err(ValueError::new("an extension is (i8 type, binary data)")),
                }
            }
            _ => Err(ValueError::new("an extension is (i8 type, binary data)")),
        }
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, ValueError> {
        Ok(wrap_variant(Some(variant), value.serialize(self)?))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqBuilder, ValueError> {
        Ok(SeqBuilder {
            items: Vec::with_capacity(len.unwrap_or(0).min(4096)),
            variant: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqBuilder, ValueError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SeqBuilder, ValueError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqBuilder, ValueError> {
        let mut seq = self.serialize_seq(Some(len))?;
        seq.variant = Some(variant);
        Ok(seq)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapBuilder, ValueError> {
        Ok(MapBuilder {
            map: Map::with_capacity(len.unwrap_or(0).min(4096)),
            next_key: None,
            variant: None,
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<MapBuilder, ValueError> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<MapBuilder, ValueError> {
        let mut map = self.serialize_map(Some(len))?;
        map.variant = Some(variant);
        Ok(map)
    }
}

impl SeqBuilder {
    fn push<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), ValueError> {
        self.items.push(value.serialize(ValueSerializer)?);
        Ok(())
    }
    fn finish(self) -> Result<Value, ValueError> {
        Ok(wrap_variant(self.variant, Value::Array(self.items)))
    }
}

impl ser::SerializeSeq for SeqBuilder {
    type Ok = Value;
    type Error = ValueError;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), ValueError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, ValueError> {
        self.finish()
    }
}

impl ser::SerializeTuple for SeqBuilder {
    type Ok = Value;
    type Error = ValueError;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), ValueError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, ValueError> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for SeqBuilder {
    type Ok = Value;
    type Error = ValueError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), ValueError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, ValueError> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for SeqBuilder {
    type Ok = Value;
    type Error = ValueError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), ValueError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, ValueError> {
        self.finish()
    }
}

/// Map keys must become strings: strings stay, numbers, booleans and chars are written out.
fn key_to_string(key: Value) -> Result<String, ValueError> {
    match key {
        Value::Str(s) => Ok(s),
        Value::Int(_) | Value::UInt(_) | Value::Float(_) | Value::Bool(_) => Ok(key.to_string()),
        other => Err(ValueError::new(format!(
            "map keys must be strings, not {}",
            other.kind()
        ))),
    }
}

impl ser::SerializeMap for MapBuilder {
    type Ok = Value;
    type Error = ValueError;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), ValueError> {
        self.next_key = Some(key_to_string(key.serialize(ValueSerializer)?)?);
        Ok(())
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), ValueError> {
        let key = self
            .next_key
            .take()
            .ok_or_else(|| ValueError::new("map value without a key"))?;
        self.map.insert(key, value.serialize(ValueSerializer)?);
        Ok(())
    }
    fn end(self) -> Result<Value, ValueError> {
        Ok(wrap_variant(self.variant, Value::Map(self.map)))
    }
}

impl ser::SerializeStruct for MapBuilder {
    type Ok = Value;
    type Error = ValueError;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ValueError> {
        self.map
            .insert(key.to_owned(), value.serialize(ValueSerializer)?);
        Ok(())
    }
    fn end(self) -> Result<Value, ValueError> {
        Ok(wrap_variant(self.variant, Value::Map(self.map)))
    }
}

impl ser::SerializeStructVariant for MapBuilder {
    type Ok = Value;
    type Error = ValueError;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ValueError> {
        ser::SerializeStruct::serialize_field(self, key, value)
    }
    fn end(self) -> Result<Value, ValueError> {
        ser::SerializeStruct::end(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{array, map};

    #[test]
    fn value_and_bytes_are_moved_without_serde() {
        let b = Bytes::from(vec![1u8; 1024]);
        let ptr = b.as_ptr();
        let v = into_value(b).unwrap();
        assert_eq!(v.as_bytes().unwrap().as_ptr(), ptr, "no copy of the buffer");
        let inner = map! { "k" => 1 };
        assert_eq!(into_value(inner.clone()).unwrap(), inner);
    }

    #[test]
    fn structs_enums_and_options_map_to_values() {
        #[derive(serde::Serialize)]
        enum Shape {
            Unit,
            Circle { r: f64 },
            Pair(i32, i32),
        }
        #[derive(serde::Serialize)]
        struct S {
            name: &'static str,
            shapes: Vec<Shape>,
            missing: Option<u8>,
            big: u64,
        }
        let v = to_value(&S {
            name: "n",
            shapes: vec![Shape::Unit, Shape::Circle { r: 1.5 }, Shape::Pair(1, 2)],
            missing: None,
            big: u64::MAX,
        })
        .unwrap();
        let expected = map! {
            "name" => "n",
            "shapes" => array!["Unit", map!{ "Circle" => map!{ "r" => 1.5 } }, map!{ "Pair" => array![1, 2] }],
            "missing" => Value::Nil,
            "big" => Value::UInt(u64::MAX),
        };
        assert_eq!(v, expected);
    }

    #[test]
    fn integer_map_keys_become_strings() {
        let mut m = std::collections::BTreeMap::new();
        m.insert(7u32, "seven");
        assert_eq!(to_value(&m).unwrap(), map! { "7" => "seven" });
    }
}
