//! The independent decoder of the differential tests and of the `msgpack_differential`
//! fuzz target: rmpv reads the bytes, and [`expected`] says which [`Value`] our decoder
//! must give for them, or `None` where ours must refuse them.
//!
//! Our decoder's documented rules, applied to rmpv's reading: the message is exactly one
//! object; strings are UTF-8; map keys that are integers, floats, booleans or nil become
//! their text, binary keys their lossy UTF-8, and array, map or extension keys are refused;
//! a later duplicate key replaces the value of the first but keeps its place; at most
//! `max_depth` arrays and maps nest.
//!
//! One known difference is rmpv's, not ours: rmpv reads the byte 0xc1, which msgpack
//! reserves ("never used"), as nil. Ours refuses it, naming its offset;
//! [`agree`] accepts that disagreement only where the offset does hold 0xc1.

use wslink_core::{Bytes, Ext, Map, Value};

/// What our decoder must produce for `bytes` (`None`: it must fail).
pub(crate) fn expected(bytes: &[u8], max_depth: usize) -> Option<Value> {
    let mut rest = bytes;
    let value = rmpv::decode::read_value(&mut rest).ok()?;
    if !rest.is_empty() {
        return None;
    }
    convert(value, max_depth)
}

fn convert(value: rmpv::Value, depth_left: usize) -> Option<Value> {
    Some(match value {
        rmpv::Value::Nil => Value::Nil,
        rmpv::Value::Boolean(b) => Value::Bool(b),
        rmpv::Value::Integer(i) => match i.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::UInt(i.as_u64()?),
        },
        rmpv::Value::F32(f) => Value::Float(f.into()),
        rmpv::Value::F64(f) => Value::Float(f),
        rmpv::Value::String(s) => Value::Str(s.into_str()?),
        rmpv::Value::Binary(b) => Value::Bin(Bytes::from(b)),
        rmpv::Value::Array(items) => {
            let depth = depth_left.checked_sub(1)?;
            Value::Array(
                items
                    .into_iter()
                    .map(|item| convert(item, depth))
                    .collect::<Option<_>>()?,
            )
        }
        rmpv::Value::Map(entries) => {
            let depth = depth_left.checked_sub(1)?;
            let mut map = Map::new();
            for (key, item) in entries {
                let key = map_key(key)?;
                map.insert(key, convert(item, depth)?);
            }
            Value::Map(map)
        }
        rmpv::Value::Ext(tag, data) => Value::Ext(Ext::new(tag, data)),
    })
}

fn map_key(key: rmpv::Value) -> Option<String> {
    Some(match key {
        rmpv::Value::String(s) => s.into_str()?,
        rmpv::Value::Binary(b) => String::from_utf8_lossy(&b).into_owned(),
        rmpv::Value::Nil => "null".to_owned(),
        scalar @ (rmpv::Value::Integer(_)
        | rmpv::Value::F32(_)
        | rmpv::Value::F64(_)
        | rmpv::Value::Boolean(_)) => convert(scalar, 0)?.to_string(),
        rmpv::Value::Array(_) | rmpv::Value::Map(_) | rmpv::Value::Ext(..) => return None,
    })
}

/// Equality with floats compared bit for bit (so NaN equals the same NaN).
pub(crate) fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((kx, vx), (ky, vy))| kx == ky && same(vx, vy))
        }
        _ => a == b,
    }
}

/// Whether our decoder's outcome for `bytes` is the one the model expects.
pub(crate) fn agree(
    bytes: &[u8],
    ours: &Result<Value, wslink_core::CodecError>,
    max_depth: usize,
) -> bool {
    match (ours, expected(bytes, max_depth)) {
        (Ok(a), Some(b)) => same(a, &b),
        (Err(_), None) => true,
        (Err(e), Some(_)) => refused_a_reserved_byte(&e.to_string(), bytes),
        (Ok(_), None) => false,
    }
}

/// Our error names a reserved byte 0xc1 at an offset that holds one.
fn refused_a_reserved_byte(error: &str, bytes: &[u8]) -> bool {
    const SAYS: &str = "reserved byte 0xc1 at offset ";
    error
        .split_once(SAYS)
        .and_then(|(_, rest)| rest.parse::<usize>().ok())
        .is_some_and(|at| bytes.get(at) == Some(&0xc1))
}
