//! [`Message`] → msgpack bytes, keys in the reference order.
//!
//! Everything is written directly with `rmp`'s primitives (no serde walk): integers in
//! their smallest form, floats as float64, strings as str and
//! [`Value::Bin`] as bin — the same bytes the Python and JS peers
//! produce, and the same as `rmp-serde` would write for a [`Value`] (a property test
//! holds the two together).

use bytes::{BufMut, BytesMut};
use wslink_core::envelope::WSLINK_VERSION;
use wslink_core::{CodecError, Message, Value};

use crate::header::HEADER_LEN;

fn fail(e: impl std::fmt::Display) -> CodecError {
    CodecError::Encode(e.to_string())
}

/// Encodes `message` after [`HEADER_LEN`] reserved bytes (for the chunk header).
pub fn encode_message(message: &Message) -> Result<BytesMut, CodecError> {
    let mut w = BytesMut::with_capacity(HEADER_LEN + message_size_hint(message)).writer();
    w.get_mut().put_bytes(0, HEADER_LEN);
    write_message(&mut w, message)?;
    Ok(w.into_inner())
}

/// Writes into a buffer, leaving [`HEADER_LEN`] zero bytes before every `payload` bytes
/// of message, so that chunk frames are slices of the buffer with their headers filled
/// in afterwards: chunking without copying.
#[derive(Debug)]
pub struct GappedWriter {
    buf: BytesMut,
    payload: usize,
    in_chunk: usize,
}

impl GappedWriter {
    /// A writer for chunks of `payload` message bytes each (at least 1).
    pub fn new(payload: usize) -> Self {
        Self::with_capacity(payload, 128)
    }

    /// Like [`new`](Self::new), with room for `message_len` bytes of message (and their
    /// gaps) allocated up front, so that the buffer is not grown (and copied) while
    /// writing.
    pub fn with_capacity(payload: usize, message_len: usize) -> Self {
        let payload = payload.max(1);
        let gaps = message_len / payload + 1;
        let mut buf = BytesMut::with_capacity(message_len.saturating_add(gaps * HEADER_LEN));
        buf.put_bytes(0, HEADER_LEN);
        GappedWriter {
            buf,
            payload,
            in_chunk: 0,
        }
    }

    /// The buffer: `[gap, payload]*`, the last payload possibly shorter.
    pub fn into_inner(self) -> BytesMut {
        self.buf
    }
}

impl std::io::Write for GappedWriter {
    fn write(&mut self, mut data: &[u8]) -> std::io::Result<usize> {
        let written = data.len();
        while !data.is_empty() {
            if self.in_chunk == self.payload {
                self.buf.put_bytes(0, HEADER_LEN);
                self.in_chunk = 0;
            }
            let n = data.len().min(self.payload - self.in_chunk);
            self.buf.extend_from_slice(&data[..n]);
            self.in_chunk += n;
            data = &data[n..];
        }
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Encodes `message` with a gap for a chunk header before every `payload` bytes (see
/// [`GappedWriter`]).
pub fn encode_gapped(message: &Message, payload: usize) -> Result<BytesMut, CodecError> {
    let mut w = GappedWriter::with_capacity(payload, message_size_hint(message));
    write_message(&mut w, message)?;
    Ok(w.into_inner())
}

fn write_message<W: std::io::Write>(w: &mut W, message: &Message) -> Result<(), CodecError> {
    let key = |w: &mut W, k: &str| rmp::encode::write_str(w, k).map_err(fail);
    let entries = match message {
        Message::Request(_) => 5,
        Message::Response(_) | Message::Publication(_) => 3,
    };
    rmp::encode::write_map_len(w, entries).map_err(fail)?;
    key(w, "wslink")?;
    key(w, WSLINK_VERSION)?;
    key(w, "id")?;
    match message {
        Message::Request(r) => {
            key(w, &r.id)?;
            key(w, "method")?;
            key(w, &r.method)?;
            key(w, "args")?;
            write_array(w, &r.args)?;
            key(w, "kwargs")?;
            write_map(w, &r.kwargs)?;
        }
        Message::Response(r) => {
            key(w, &r.id)?;
            match &r.outcome {
                Ok(result) => {
                    key(w, "result")?;
                    write_value(w, result)?;
                }
                Err(e) => {
                    key(w, "error")?;
                    write_value(w, &e.to_value())?;
                }
            }
        }
        Message::Publication(p) => {
            write_publish_id(w, &p.topic, p.counter)?;
            key(w, "result")?;
            write_value(w, &p.data)?;
        }
    }
    Ok(())
}

/// `publish:<topic>:<counter>` as a msgpack str, without building the string first.
fn write_publish_id<W: std::io::Write>(
    w: &mut W,
    topic: &str,
    counter: u64,
) -> Result<(), CodecError> {
    const PREFIX: &[u8] = b"publish:";
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = counter;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let digits = &digits[at..];
    let len = PREFIX.len() + topic.len() + 1 + digits.len();
    rmp::encode::write_str_len(w, u32::try_from(len).map_err(fail)?).map_err(fail)?;
    for part in [PREFIX, topic.as_bytes(), b":", digits] {
        w.write_all(part).map_err(fail)?;
    }
    Ok(())
}

fn length(n: usize) -> Result<u32, CodecError> {
    u32::try_from(n)
        .map_err(|_| CodecError::Encode(format!("{n} items or bytes: over msgpack's 2^32-1")))
}

fn write_array<W: std::io::Write>(w: &mut W, items: &[Value]) -> Result<(), CodecError> {
    rmp::encode::write_array_len(w, length(items.len())?).map_err(fail)?;
    items.iter().try_for_each(|item| write_value(w, item))
}

fn write_map<W: std::io::Write>(w: &mut W, map: &wslink_core::Map) -> Result<(), CodecError> {
    rmp::encode::write_map_len(w, length(map.len())?).map_err(fail)?;
    for (k, v) in map {
        rmp::encode::write_str(w, k).map_err(fail)?;
        write_value(w, v)?;
    }
    Ok(())
}

/// One [`Value`] in msgpack, the forms `rmp-serde` picks for the same value.
pub(crate) fn write_value<W: std::io::Write>(w: &mut W, value: &Value) -> Result<(), CodecError> {
    match value {
        Value::Nil => rmp::encode::write_nil(w).map_err(fail),
        Value::Bool(b) => rmp::encode::write_bool(w, *b).map_err(fail),
        Value::Int(i) => rmp::encode::write_sint(w, *i).map(drop).map_err(fail),
        Value::UInt(u) => rmp::encode::write_uint(w, *u).map(drop).map_err(fail),
        Value::Float(f) => rmp::encode::write_f64(w, *f).map_err(fail),
        Value::Str(s) => {
            length(s.len())?;
            rmp::encode::write_str(w, s).map_err(fail)
        }
        Value::Bin(b) => {
            length(b.len())?;
            rmp::encode::write_bin(w, b).map_err(fail)
        }
        Value::Array(items) => write_array(w, items),
        Value::Map(map) => write_map(w, map),
    }
}

/// About how many bytes `message` takes in msgpack (at least that many, for the values
/// that dominate: strings and binaries count exactly, scalars at their largest), so the
/// buffer is allocated once.
fn message_size_hint(message: &Message) -> usize {
    const ENVELOPE: usize = 64;
    match message {
        Message::Request(r) => {
            ENVELOPE
                + r.id.len()
                + r.method.len()
                + r.args.iter().map(value_size_hint).sum::<usize>()
                + r.kwargs
                    .iter()
                    .map(|(k, v)| 5 + k.len() + value_size_hint(v))
                    .sum::<usize>()
        }
        Message::Response(r) => {
            ENVELOPE
                + r.id.len()
                + match &r.outcome {
                    Ok(v) => value_size_hint(v),
                    Err(_) => 256,
                }
        }
        Message::Publication(p) => ENVELOPE + 2 * p.topic.len() + value_size_hint(&p.data),
    }
}

fn value_size_hint(value: &Value) -> usize {
    match value {
        Value::Nil | Value::Bool(_) => 1,
        Value::Int(_) | Value::UInt(_) | Value::Float(_) => 9,
        Value::Str(s) => 5 + s.len(),
        Value::Bin(b) => 5 + b.len(),
        Value::Array(items) => 5 + items.iter().map(value_size_hint).sum::<usize>(),
        Value::Map(map) => {
            5 + map
                .iter()
                .map(|(k, v)| 5 + k.len() + value_size_hint(v))
                .sum::<usize>()
        }
    }
}
