//! [`Message`] → msgpack bytes, keys in the reference order.
//!
//! The envelope's fixed keys are written directly; arguments, results and errors go
//! through `rmp-serde`, which picks the smallest integer form, writes floats as float64,
//! strings as str and [`Value::Bin`](wslink_core::Value::Bin) as bin — the same bytes the
//! Python and JS peers produce.

use bytes::{BufMut, BytesMut};
use serde::Serialize;
use wslink_core::envelope::WSLINK_VERSION;
use wslink_core::id::publish_id;
use wslink_core::{CodecError, Message};

use crate::header::HEADER_LEN;

fn fail(e: impl std::fmt::Display) -> CodecError {
    CodecError::Encode(e.to_string())
}

/// Encodes `message` after [`HEADER_LEN`] reserved bytes (for the chunk header).
pub fn encode_message(message: &Message) -> Result<BytesMut, CodecError> {
    let mut w = BytesMut::with_capacity(128).writer();
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
        let mut buf = BytesMut::with_capacity(128);
        buf.put_bytes(0, HEADER_LEN);
        GappedWriter {
            buf,
            payload: payload.max(1),
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
    let mut w = GappedWriter::new(payload);
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
            write_serde(w, &r.args)?;
            key(w, "kwargs")?;
            write_serde(w, &r.kwargs)?;
        }
        Message::Response(r) => {
            key(w, &r.id)?;
            match &r.outcome {
                Ok(result) => {
                    key(w, "result")?;
                    write_serde(w, result)?;
                }
                Err(e) => {
                    key(w, "error")?;
                    write_serde(w, &e.to_value())?;
                }
            }
        }
        Message::Publication(p) => {
            key(w, &publish_id(&p.topic, p.counter))?;
            key(w, "result")?;
            write_serde(w, &p.data)?;
        }
    }
    Ok(())
}

fn write_serde<W: std::io::Write, T: Serialize + ?Sized>(
    w: &mut W,
    value: &T,
) -> Result<(), CodecError> {
    value
        .serialize(&mut rmp_serde::Serializer::new(w))
        .map_err(fail)
}
