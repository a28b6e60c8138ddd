//! msgpack bytes → [`Value`], binary sliced out of the message without copies.
//!
//! The reader trusts nothing: lengths are checked against the bytes that remain before
//! anything is allocated, nesting is bounded, strings must be UTF-8, and the message must
//! be exactly one msgpack object. Map keys that are not strings (a Python peer may write
//! int, float or bytes keys) become strings, as the JS client does; extension values
//! (fixext 1/2/4/8/16, ext 8/16/32, timestamps among them) become [`Value::Ext`], so they
//! are written back as the same extension.
//!
//! Every valid encoding of a value is read, not only the smallest one that the JS and
//! Python encoders write: a map16 holding two entries, a str32 holding `"id"` or a uint64
//! holding 1 are what some other encoders (and hand-built frames) send.

use bytes::Bytes;
use rmp::Marker;
use wslink_core::{CodecError, EnvelopeFields, Ext, Map, Message, Value};

/// Decodes one envelope that fills `bytes` exactly, reading its fields straight into a
/// [`Message`] (no intermediate map). A message that is not a map is reported as
/// [`EnvelopeError::NotAMap`](wslink_core::EnvelopeError::NotAMap), as
/// [`Message::from_value`] would.
pub fn decode_message(bytes: &Bytes, max_depth: usize) -> Result<Message, CodecError> {
    let mut reader = Reader {
        buf: bytes,
        pos: 0,
        depth_left: max_depth,
    };
    let message = match reader.envelope_len()? {
        Some(entries) => {
            let mut fields = EnvelopeFields::default();
            for _ in 0..entries {
                let slot = match reader.envelope_key()? {
                    Some(b"id") => &mut fields.id,
                    Some(b"method") => &mut fields.method,
                    Some(b"args") => &mut fields.args,
                    Some(b"kwargs") => &mut fields.kwargs,
                    Some(b"result") => &mut fields.result,
                    Some(b"error") => &mut fields.error,
                    _ => {
                        reader.value()?; // `wslink` and anything unknown: read, ignore
                        continue;
                    }
                };
                *slot = Some(reader.value()?);
            }
            Message::from_fields(fields)
        }
        None => {
            let value = reader.value()?;
            Message::from_value(value)
        }
    };
    if reader.pos != bytes.len() {
        return Err(malformed(format!(
            "{} trailing bytes after the message",
            bytes.len() - reader.pos
        )));
    }
    Ok(message?)
}

/// Decodes one msgpack object that fills `bytes` exactly.
pub fn decode_value(bytes: &Bytes, max_depth: usize) -> Result<Value, CodecError> {
    let mut reader = Reader {
        buf: bytes,
        pos: 0,
        depth_left: max_depth,
    };
    let value = reader.value()?;
    if reader.pos != bytes.len() {
        return Err(malformed(format!(
            "{} trailing bytes after the message",
            bytes.len() - reader.pos
        )));
    }
    Ok(value)
}

fn malformed(why: impl Into<String>) -> CodecError {
    CodecError::Malformed(why.into())
}

struct Reader<'a> {
    buf: &'a Bytes,
    pos: usize,
    depth_left: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], CodecError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.buf.len())
            .ok_or_else(|| malformed(format!("needs {n} more bytes at offset {}", self.pos)))?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.take(1)?[0])
    }

    fn be<const N: usize>(&mut self) -> Result<[u8; N], CodecError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn len8(&mut self) -> Result<usize, CodecError> {
        Ok(self.u8()? as usize)
    }

    fn len16(&mut self) -> Result<usize, CodecError> {
        Ok(u16::from_be_bytes(self.be()?) as usize)
    }

    fn len32(&mut self) -> Result<usize, CodecError> {
        Ok(u32::from_be_bytes(self.be()?) as usize)
    }

    fn string(&mut self, len: usize) -> Result<String, CodecError> {
        let at = self.pos;
        let raw = self.take(len)?;
        std::str::from_utf8(raw)
            .map(str::to_owned)
            .map_err(|_| malformed(format!("invalid UTF-8 in string at offset {at}")))
    }

    fn binary(&mut self, len: usize) -> Result<Bytes, CodecError> {
        let start = self.pos;
        self.take(len)?;
        Ok(self.buf.slice(start..start + len))
    }

    fn value(&mut self) -> Result<Value, CodecError> {
        let at = self.pos;
        let marker = Marker::from_u8(self.u8()?);
        Ok(match marker {
            Marker::FixPos(n) => Value::Int(n.into()),
            Marker::FixNeg(n) => Value::Int(n.into()),
            Marker::Null => Value::Nil,
            Marker::True => Value::Bool(true),
            Marker::False => Value::Bool(false),
            Marker::U8 => Value::Int(self.u8()?.into()),
            Marker::U16 => Value::Int(u16::from_be_bytes(self.be()?).into()),
            Marker::U32 => Value::Int(u32::from_be_bytes(self.be()?).into()),
            Marker::U64 => Value::from(u64::from_be_bytes(self.be()?)),
            Marker::I8 => Value::Int(i8::from_be_bytes(self.be()?).into()),
            Marker::I16 => Value::Int(i16::from_be_bytes(self.be()?).into()),
            Marker::I32 => Value::Int(i32::from_be_bytes(self.be()?).into()),
            Marker::I64 => Value::Int(i64::from_be_bytes(self.be()?)),
            Marker::F32 => Value::Float(f32::from_be_bytes(self.be()?).into()),
            Marker::F64 => Value::Float(f64::from_be_bytes(self.be()?)),
            Marker::FixStr(n) => Value::Str(self.string(n.into())?),
            Marker::Str8 => {
                let n = self.len8()?;
                Value::Str(self.string(n)?)
            }
            Marker::Str16 => {
                let n = self.len16()?;
                Value::Str(self.string(n)?)
            }
            Marker::Str32 => {
                let n = self.len32()?;
                Value::Str(self.string(n)?)
            }
            Marker::Bin8 => {
                let n = self.len8()?;
                Value::Bin(self.binary(n)?)
            }
            Marker::Bin16 => {
                let n = self.len16()?;
                Value::Bin(self.binary(n)?)
            }
            Marker::Bin32 => {
                let n = self.len32()?;
                Value::Bin(self.binary(n)?)
            }
            Marker::FixArray(n) => self.array(n.into())?,
            Marker::Array16 => {
                let n = self.len16()?;
                self.array(n)?
            }
            Marker::Array32 => {
                let n = self.len32()?;
                self.array(n)?
            }
            Marker::FixMap(n) => self.map(n.into())?,
            Marker::Map16 => {
                let n = self.len16()?;
                self.map(n)?
            }
            Marker::Map32 => {
                let n = self.len32()?;
                self.map(n)?
            }
            Marker::FixExt1 => self.ext(1)?,
            Marker::FixExt2 => self.ext(2)?,
            Marker::FixExt4 => self.ext(4)?,
            Marker::FixExt8 => self.ext(8)?,
            Marker::FixExt16 => self.ext(16)?,
            Marker::Ext8 => {
                let n = self.len8()?;
                self.ext(n)?
            }
            Marker::Ext16 => {
                let n = self.len16()?;
                self.ext(n)?
            }
            Marker::Ext32 => {
                let n = self.len32()?;
                self.ext(n)?
            }
            Marker::Reserved => {
                return Err(malformed(format!("reserved byte 0xc1 at offset {at}")))
            }
        })
    }

    /// The entry count if a map starts here (consumed); `None`, consuming nothing, if not.
    fn envelope_len(&mut self) -> Result<Option<usize>, CodecError> {
        let marker = Marker::from_u8(
            *self
                .buf
                .get(self.pos)
                .ok_or_else(|| malformed("empty message"))?,
        );
        let len = match marker {
            Marker::FixMap(n) => {
                self.pos += 1;
                n.into()
            }
            Marker::Map16 => {
                self.pos += 1;
                self.len16()?
            }
            Marker::Map32 => {
                self.pos += 1;
                self.len32()?
            }
            _ => return Ok(None),
        };
        self.enter()?;
        Ok(Some(len))
    }

    /// An envelope key: the bytes of a string (or binary) key without allocating, or
    /// `None` for a key of another type (read and dropped). The same keys as
    /// [`Reader::map`] gives, which turns binary keys into their text.
    fn envelope_key(&mut self) -> Result<Option<&[u8]>, CodecError> {
        let marker = Marker::from_u8(
            *self
                .buf
                .get(self.pos)
                .ok_or_else(|| malformed("truncated map"))?,
        );
        let (len, is_str) = match marker {
            Marker::FixStr(n) => {
                self.pos += 1;
                (usize::from(n), true)
            }
            Marker::Str8 | Marker::Bin8 => (self.peek_len(1)?, marker == Marker::Str8),
            Marker::Str16 | Marker::Bin16 => (self.peek_len(2)?, marker == Marker::Str16),
            Marker::Str32 | Marker::Bin32 => (self.peek_len(4)?, marker == Marker::Str32),
            _ => {
                self.value()?;
                return Ok(None);
            }
        };
        let at = self.pos;
        let key = self.take(len)?;
        if is_str && std::str::from_utf8(key).is_err() {
            return Err(malformed(format!("invalid UTF-8 in string at offset {at}")));
        }
        Ok(Some(key))
    }

    /// Skips a marker and reads the `width`-byte big-endian length after it.
    fn peek_len(&mut self, width: usize) -> Result<usize, CodecError> {
        self.pos += 1;
        match width {
            1 => self.len8(),
            2 => self.len16(),
            _ => self.len32(),
        }
    }

    fn enter(&mut self) -> Result<(), CodecError> {
        self.depth_left = self.depth_left.checked_sub(1).ok_or_else(|| {
            malformed(format!(
                "nesting deeper than the limit at offset {}",
                self.pos
            ))
        })?;
        Ok(())
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn array(&mut self, n: usize) -> Result<Value, CodecError> {
        self.enter()?;
        // Every element takes at least one byte: never reserve more than could follow.
        let mut items = Vec::with_capacity(n.min(self.remaining()));
        for _ in 0..n {
            items.push(self.value()?);
        }
        self.depth_left += 1;
        Ok(Value::Array(items))
    }

    fn map(&mut self, n: usize) -> Result<Value, CodecError> {
        self.enter()?;
        let mut map = Map::with_capacity(n.min(self.remaining() / 2));
        for _ in 0..n {
            let at = self.pos;
            let key = match self.value()? {
                Value::Str(s) => s,
                Value::Bin(b) => String::from_utf8_lossy(&b).into_owned(),
                k @ (Value::Int(_) | Value::UInt(_) | Value::Float(_) | Value::Bool(_)) => {
                    k.to_string()
                }
                Value::Nil => "null".to_owned(),
                other => {
                    return Err(malformed(format!(
                        "a map key cannot be {} (offset {at})",
                        other.kind()
                    )))
                }
            };
            let value = self.value()?;
            map.insert(key, value);
        }
        self.depth_left += 1;
        Ok(Value::Map(map))
    }

    fn ext(&mut self, len: usize) -> Result<Value, CodecError> {
        let tag = i8::from_be_bytes(self.be()?);
        let data = self.binary(len)?;
        Ok(Value::Ext(Ext { tag, data }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wslink_core::{array, map};

    fn decode(bytes: &[u8]) -> Result<Value, CodecError> {
        decode_value(&Bytes::copy_from_slice(bytes), 16)
    }

    #[test]
    fn reads_every_integer_width() {
        let cases: &[(&[u8], Value)] = &[
            (&[0x05], Value::Int(5)),
            (&[0xff], Value::Int(-1)),
            (&[0xcc, 0xc8], Value::Int(200)),
            (&[0xd1, 0x83, 0x00], Value::Int(-32000)),
            (&[0xce, 0x00, 0x40, 0x00, 0x00], Value::Int(4194304)),
            (
                &[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
                Value::UInt(u64::MAX),
            ),
            (&[0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0], Value::Int(i64::MIN)),
            (&[0xca, 0x3f, 0xc0, 0, 0], Value::Float(1.5)),
        ];
        for (bytes, want) in cases {
            assert_eq!(&decode(bytes).unwrap(), want, "{bytes:02x?}");
        }
    }

    #[test]
    fn binary_is_a_slice_of_the_message() {
        let msg = Bytes::from_static(&[0x81, 0xa1, b'b', 0xc4, 0x02, 7, 8]);
        let v = decode_value(&msg, 4).unwrap();
        let b = v["b"].as_bytes().unwrap();
        assert_eq!(b.as_ref(), &[7, 8]);
        assert_eq!(b.as_ptr(), msg[5..].as_ptr());
    }

    #[test]
    fn odd_keys_become_strings_and_ext_stays_ext() {
        let v = decode(&[0x82, 0x01, 0xa1, b'x', 0xc4, 0x01, b'k', 0xc0]).unwrap();
        assert_eq!(v, map! { "1" => "x", "k" => Value::Nil });
        let v = decode(&[0xd4, 0x05, 0x09]).unwrap();
        assert_eq!(v, Value::Ext(Ext::new(5, &[9u8][..])));
        // timestamp 32: 0x00000010 seconds
        let v = decode(&[0xd6, 0xff, 0, 0, 0, 0x10]).unwrap();
        assert_eq!(v.as_timestamp().map(|t| t.seconds()), Some(16));
        // ext 8 of 3 bytes, type 127
        let v = decode(&[0xc7, 3, 0x7f, 1, 2, 3]).unwrap();
        assert_eq!(v, Value::Ext(Ext::new(127, &[1u8, 2, 3][..])));
    }

    #[test]
    fn envelope_keys_in_any_string_width() {
        // {str16 "id": "x", str32 "method": "m"} in a map32 header
        let mut msg = vec![0xdf, 0, 0, 0, 2, 0xda, 0, 2, b'i', b'd', 0xa1, b'x'];
        msg.extend_from_slice(&[0xdb, 0, 0, 0, 6]);
        msg.extend_from_slice(b"method");
        msg.extend_from_slice(&[0xd9, 1, b'm']);
        let got = decode_message(&Bytes::from(msg), 8).unwrap();
        let Message::Request(r) = got else {
            panic!("a request, got {got:?}")
        };
        assert_eq!((r.id.as_str(), r.method.as_str()), ("x", "m"));
    }

    #[test]
    fn hostile_input_is_an_error_not_a_panic_or_an_allocation() {
        for bytes in [
            &[0xdd, 0xff, 0xff, 0xff, 0xff][..], // array of 4 billion, nothing follows
            &[0xdf, 0xff, 0xff, 0xff, 0xff],     // map of 4 billion
            &[0xdb, 0xff, 0xff, 0xff, 0xff],     // str of 4 GiB
            &[0xc6, 0xff, 0xff, 0xff, 0xff],     // bin of 4 GiB
            &[0xa2, 0xff, 0xfe],                 // invalid UTF-8
            &[0xc1],                             // reserved
            &[0x81, 0x91, 0x01, 0x02],           // array as a map key
            &[0x01, 0x02],                       // trailing bytes
            &[],                                 // nothing
        ] {
            assert!(
                matches!(decode(bytes), Err(CodecError::Malformed(_))),
                "{bytes:02x?}"
            );
        }
        let deep = vec![0x91u8; 17];
        assert!(
            decode(&deep).is_err(),
            "17 levels exceed a depth limit of 16"
        );
        let mut ok = vec![0x91u8; 15];
        ok.push(0xc0);
        assert_eq!(decode(&ok).unwrap().as_array().unwrap().len(), 1);
        assert_eq!(
            decode(&[0x92, 0x91, 0x01, 0x02]).unwrap(),
            array![array![1], 2]
        );
    }
}
