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
    let key =
        |w: &mut bytes::buf::Writer<BytesMut>, k: &str| rmp::encode::write_str(w, k).map_err(fail);
    let entries = match message {
        Message::Request(_) => 5,
        Message::Response(_) | Message::Publication(_) => 3,
    };
    rmp::encode::write_map_len(&mut w, entries).map_err(fail)?;
    key(&mut w, "wslink")?;
    key(&mut w, WSLINK_VERSION)?;
    key(&mut w, "id")?;
    match message {
        Message::Request(r) => {
            key(&mut w, &r.id)?;
            key(&mut w, "method")?;
            key(&mut w, &r.method)?;
            key(&mut w, "args")?;
            write_serde(&mut w, &r.args)?;
            key(&mut w, "kwargs")?;
            write_serde(&mut w, &r.kwargs)?;
        }
        Message::Response(r) => {
            key(&mut w, &r.id)?;
            match &r.outcome {
                Ok(result) => {
                    key(&mut w, "result")?;
                    write_serde(&mut w, result)?;
                }
                Err(e) => {
                    key(&mut w, "error")?;
                    write_serde(&mut w, &e.to_value())?;
                }
            }
        }
        Message::Publication(p) => {
            key(&mut w, &publish_id(&p.topic, p.counter))?;
            key(&mut w, "result")?;
            write_serde(&mut w, &p.data)?;
        }
    }
    Ok(w.into_inner())
}

fn write_serde<T: Serialize + ?Sized>(
    w: &mut bytes::buf::Writer<BytesMut>,
    value: &T,
) -> Result<(), CodecError> {
    value
        .serialize(&mut rmp_serde::Serializer::new(w))
        .map_err(fail)
}
