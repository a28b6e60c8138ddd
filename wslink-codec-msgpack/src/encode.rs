//! [`Message`] → msgpack bytes, keys in the reference order.
//!
//! Everything is written directly with `rmp`'s primitives (no serde walk): integers in
//! their smallest form, floats as float64, strings as str and
//! [`Value::Bin`] as bin — the same bytes the Python and JS peers
//! produce, and the same as `rmp-serde` would write for a [`Value`] (a property test
//! holds the two together).

use bytes::{BufMut, Bytes, BytesMut};
use wslink_core::envelope::WSLINK_VERSION;
use wslink_core::{CodecError, Message, Value};

use crate::header::HEADER_LEN;

fn fail(e: impl std::fmt::Display) -> CodecError {
    CodecError::Encode(e.to_string())
}

/// Encodes `message` after [`HEADER_LEN`] reserved bytes (for the chunk header).
pub fn encode_message(message: &Message) -> Result<BytesMut, CodecError> {
    let mut w = BytesMut::with_capacity(HEADER_LEN + size_hint(message).bytes).writer();
    w.get_mut().put_bytes(0, HEADER_LEN);
    write_message(&mut w, message)?;
    Ok(w.into_inner())
}

/// Encodes one [`Value`] alone, with no header: the inverse of
/// [`decode_value`](crate::decode_value).
pub fn encode_value(value: &Value) -> Result<BytesMut, CodecError> {
    let mut w = BytesMut::new().writer();
    write_value(&mut w, value)?;
    Ok(w.into_inner())
}

/// Where the encoder writes: a byte sink that may keep a binary value's buffer instead of
/// copying it (see [`RopeWriter`](crate::rope::RopeWriter)).
pub trait Out: std::io::Write {
    /// Writes a binary value's bytes; the default copies them.
    fn write_bin(&mut self, bin: &Bytes) -> std::io::Result<()> {
        self.write_all(bin)
    }
}

impl Out for bytes::buf::Writer<BytesMut> {}

impl Out for GappedWriter {}

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
    encode_gapped_sized(message, payload, size_hint(message).bytes)
}

/// [`encode_gapped`] with the message's size already estimated ([`size_hint`]).
pub(crate) fn encode_gapped_sized(
    message: &Message,
    payload: usize,
    size: usize,
) -> Result<BytesMut, CodecError> {
    let mut w = GappedWriter::with_capacity(payload, size);
    write_message(&mut w, message)?;
    Ok(w.into_inner())
}

pub(crate) fn write_message<W: Out>(w: &mut W, message: &Message) -> Result<(), CodecError> {
    let key = |w: &mut W, k: &str| put_str(w, k);
    let entries = match message {
        Message::Request(_) => 5,
        Message::Response(_) | Message::Publication(_) => 3,
    };
    put_head(w, &map_head(entries))?;
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
fn write_publish_id<W: Out>(w: &mut W, topic: &str, counter: u64) -> Result<(), CodecError> {
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
    put_head(w, &str_head(length(len)?))?;
    for part in [PREFIX, topic.as_bytes(), b":", digits] {
        w.write_all(part).map_err(fail)?;
    }
    Ok(())
}

fn length(n: usize) -> Result<u32, CodecError> {
    u32::try_from(n)
        .map_err(|_| CodecError::Encode(format!("{n} items or bytes: over msgpack's 2^32-1")))
}

fn write_array<W: Out>(w: &mut W, items: &[Value]) -> Result<(), CodecError> {
    put_head(w, &array_head(length(items.len())?))?;
    items.iter().try_for_each(|item| write_value(w, item))
}

fn write_map<W: Out>(w: &mut W, map: &wslink_core::Map) -> Result<(), CodecError> {
    put_head(w, &map_head(length(map.len())?))?;
    for (k, v) in map {
        put_str(w, k)?;
        write_value(w, v)?;
    }
    Ok(())
}

/// One [`Value`] in msgpack, the forms `rmp-serde` picks for the same value.
pub(crate) fn write_value<W: Out>(w: &mut W, value: &Value) -> Result<(), CodecError> {
    match value {
        Value::Nil => put_head(w, &[0xc0]),
        Value::Bool(b) => put_head(w, &[if *b { 0xc3 } else { 0xc2 }]),
        Value::Int(i) => put_head(w, &int_head(*i)),
        Value::UInt(u) => put_head(w, &uint_head(*u)),
        Value::Float(f) => {
            let mut head = Head::new(0xcb);
            head.extend(&f.to_be_bytes());
            put_head(w, &head)
        }
        Value::Str(s) => put_str(w, s),
        Value::Bin(b) => {
            put_head(w, &bin_head(length(b.len())?))?;
            w.write_bin(b).map_err(fail)
        }
        Value::Array(items) => write_array(w, items),
        Value::Map(map) => write_map(w, map),
        Value::Ext(e) => {
            put_head(w, &ext_head(length(e.data.len())?, e.tag))?;
            w.write_all(&e.data).map_err(fail)
        }
    }
}

// msgpack heads (marker and length or value), built on the stack and written with one
// call: the smallest form for each, as the msgpack spec defines them and as rmp writes
// them (the property tests compare the bytes).

/// A marker and up to 8 bytes after it.
struct Head {
    bytes: [u8; 9],
    len: usize,
}

impl Head {
    fn new(marker: u8) -> Head {
        let mut bytes = [0; 9];
        bytes[0] = marker;
        Head { bytes, len: 1 }
    }

    fn extend(&mut self, more: &[u8]) {
        self.bytes[self.len..self.len + more.len()].copy_from_slice(more);
        self.len += more.len();
    }

    fn with(marker: u8, more: &[u8]) -> Head {
        let mut head = Head::new(marker);
        head.extend(more);
        head
    }
}

impl std::ops::Deref for Head {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

fn put_head<W: Out>(w: &mut W, head: &[u8]) -> Result<(), CodecError> {
    w.write_all(head).map_err(fail)
}

fn put_str<W: Out>(w: &mut W, s: &str) -> Result<(), CodecError> {
    put_head(w, &str_head(length(s.len())?))?;
    w.write_all(s.as_bytes()).map_err(fail)
}

fn uint_head(u: u64) -> Head {
    if u < 128 {
        Head::new(u as u8)
    } else if u < 256 {
        Head::with(0xcc, &[u as u8])
    } else if u < 65536 {
        Head::with(0xcd, &(u as u16).to_be_bytes())
    } else if u < 1 << 32 {
        Head::with(0xce, &(u as u32).to_be_bytes())
    } else {
        Head::with(0xcf, &u.to_be_bytes())
    }
}

fn int_head(i: i64) -> Head {
    if i >= 0 {
        uint_head(i as u64)
    } else if i >= -32 {
        Head::new(i as i8 as u8)
    } else if i >= -128 {
        Head::with(0xd0, &(i as i8).to_be_bytes())
    } else if i >= -32768 {
        Head::with(0xd1, &(i as i16).to_be_bytes())
    } else if i >= -(1 << 31) {
        Head::with(0xd2, &(i as i32).to_be_bytes())
    } else {
        Head::with(0xd3, &i.to_be_bytes())
    }
}

fn str_head(len: u32) -> Head {
    if len < 32 {
        Head::new(0xa0 | len as u8)
    } else if len < 256 {
        Head::with(0xd9, &[len as u8])
    } else if len < 65536 {
        Head::with(0xda, &(len as u16).to_be_bytes())
    } else {
        Head::with(0xdb, &len.to_be_bytes())
    }
}

fn bin_head(len: u32) -> Head {
    if len < 256 {
        Head::with(0xc4, &[len as u8])
    } else if len < 65536 {
        Head::with(0xc5, &(len as u16).to_be_bytes())
    } else {
        Head::with(0xc6, &len.to_be_bytes())
    }
}

/// fixext 1/2/4/8/16 for those sizes, else ext 8/16/32; then the type byte.
fn ext_head(len: u32, tag: i8) -> Head {
    let tag = tag as u8;
    match len {
        1 => Head::with(0xd4, &[tag]),
        2 => Head::with(0xd5, &[tag]),
        4 => Head::with(0xd6, &[tag]),
        8 => Head::with(0xd7, &[tag]),
        16 => Head::with(0xd8, &[tag]),
        _ if len < 256 => Head::with(0xc7, &[len as u8, tag]),
        _ if len < 65536 => {
            let [a, b] = (len as u16).to_be_bytes();
            Head::with(0xc8, &[a, b, tag])
        }
        _ => {
            let [a, b, c, d] = len.to_be_bytes();
            Head::with(0xc9, &[a, b, c, d, tag])
        }
    }
}

fn array_head(len: u32) -> Head {
    if len < 16 {
        Head::new(0x90 | len as u8)
    } else if len < 65536 {
        Head::with(0xdc, &(len as u16).to_be_bytes())
    } else {
        Head::with(0xdd, &len.to_be_bytes())
    }
}

fn map_head(len: u32) -> Head {
    if len < 16 {
        Head::new(0x80 | len as u8)
    } else if len < 65536 {
        Head::with(0xde, &(len as u16).to_be_bytes())
    } else {
        Head::with(0xdf, &len.to_be_bytes())
    }
}

/// What one walk over a message tells before it is encoded: about how many bytes it
/// takes in msgpack (at least that many, for the values that dominate: strings and
/// binaries count exactly, scalars at their largest), so the buffer is allocated once;
/// and its largest binary value, which decides how it is written (see
/// [`SHARED_BIN_MIN`](crate::SHARED_BIN_MIN)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SizeHint {
    pub(crate) bytes: usize,
    pub(crate) largest_bin: usize,
}

impl SizeHint {
    fn add(&mut self, other: SizeHint) {
        self.bytes += other.bytes;
        self.largest_bin = self.largest_bin.max(other.largest_bin);
    }
}

pub(crate) fn size_hint(message: &Message) -> SizeHint {
    const ENVELOPE: usize = 64;
    let mut hint = SizeHint {
        bytes: ENVELOPE,
        largest_bin: 0,
    };
    match message {
        Message::Request(r) => {
            hint.bytes += r.id.len() + r.method.len();
            r.args.iter().for_each(|v| hint.add(value_size_hint(v)));
            for (k, v) in &r.kwargs {
                hint.bytes += 5 + k.len();
                hint.add(value_size_hint(v));
            }
        }
        Message::Response(r) => {
            hint.bytes += r.id.len();
            match &r.outcome {
                Ok(v) => hint.add(value_size_hint(v)),
                Err(_) => hint.bytes += 256,
            }
        }
        Message::Publication(p) => {
            hint.bytes += 2 * p.topic.len();
            hint.add(value_size_hint(&p.data));
        }
    }
    hint
}

fn value_size_hint(value: &Value) -> SizeHint {
    let bytes = |bytes| SizeHint {
        bytes,
        largest_bin: 0,
    };
    match value {
        Value::Nil | Value::Bool(_) => bytes(1),
        Value::Int(_) | Value::UInt(_) | Value::Float(_) => bytes(9),
        Value::Str(s) => bytes(5 + s.len()),
        Value::Bin(b) => SizeHint {
            bytes: 5 + b.len(),
            largest_bin: b.len(),
        },
        Value::Ext(e) => bytes(6 + e.data.len()),
        Value::Array(items) => {
            let mut hint = bytes(5);
            items.iter().for_each(|v| hint.add(value_size_hint(v)));
            hint
        }
        Value::Map(map) => {
            let mut hint = bytes(5);
            for (k, v) in map {
                hint.bytes += 5 + k.len();
                hint.add(value_size_hint(v));
            }
            hint
        }
    }
}
