//! The wslink 2.x wire, written small for the tool's own lean peers: the npm-like client
//! ([`crate::npm_like`]) and the bare server ([`crate::bare`]). Neither goes through the
//! project's codecs, so what they cost is msgpack (`rmpv`) and WebSockets alone.
//!
//! A message is one msgpack map (the envelope). On the wire it is cut into chunks of at
//! most `max_frame` bytes, each one binary WebSocket frame that starts with a 12-byte
//! header of three little-endian `u32`: the message id, the offset of the chunk's
//! payload in the message, and the message's total size.

use std::collections::HashMap;

use rmpv::Value;
use wslink::Bytes;

/// The chunk header's size.
pub(crate) const HEADER_LEN: usize = 12;
/// The frame size both lean peers use (header included): the wslink servers' default
/// `maxMsgSize`.
pub(crate) const MAX_FRAME: usize = 4 * 1024 * 1024;

fn header(message_id: u32, offset: usize, total: usize) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[0..4].copy_from_slice(&message_id.to_le_bytes());
    h[4..8].copy_from_slice(&(offset as u32).to_le_bytes());
    h[8..12].copy_from_slice(&(total as u32).to_le_bytes());
    h
}

/// The frames of `message`, each at most `max_frame` bytes. A message that fits one
/// frame is encoded behind room left for its header (no copy); a bigger one is copied
/// chunk by chunk.
pub(crate) fn frames(message: &Value, message_id: u32, max_frame: usize) -> Vec<Bytes> {
    let mut buf = vec![0u8; HEADER_LEN];
    // Writing into a Vec cannot fail.
    let _ = rmpv::encode::write_value(&mut buf, message);
    let total = buf.len() - HEADER_LEN;
    let content = max_frame.saturating_sub(HEADER_LEN).max(1);
    if total <= content {
        buf[..HEADER_LEN].copy_from_slice(&header(message_id, 0, total));
        return vec![Bytes::from(buf)];
    }
    let body = &buf[HEADER_LEN..];
    (0..total)
        .step_by(content)
        .map(|offset| {
            let end = (offset + content).min(total);
            let mut frame = Vec::with_capacity(HEADER_LEN + end - offset);
            frame.extend_from_slice(&header(message_id, offset, total));
            frame.extend_from_slice(&body[offset..end]);
            Bytes::from(frame)
        })
        .collect()
}

/// One message being reassembled.
#[derive(Debug)]
struct Partial {
    total: usize,
    buf: Vec<u8>,
    got: usize,
}

/// One connection's reassembly of chunks into messages.
#[derive(Debug, Default)]
pub(crate) struct Reassembly {
    pending: HashMap<u32, Partial>,
}

impl Reassembly {
    /// Takes one binary frame; returns the message it completes, if any. A header that
    /// does not add up (short frame, chunk past the end, sizes that disagree) or a
    /// complete message that is not one msgpack value is an error.
    pub(crate) fn push(&mut self, frame: &[u8]) -> Result<Option<Value>, String> {
        if frame.len() < HEADER_LEN {
            return Err(format!("a {}-byte frame has no chunk header", frame.len()));
        }
        let word =
            |i: usize| u32::from_le_bytes([frame[i], frame[i + 1], frame[i + 2], frame[i + 3]]);
        let (id, offset, total) = (word(0), word(4) as usize, word(8) as usize);
        let payload = &frame[HEADER_LEN..];
        if offset + payload.len() > total {
            return Err(format!(
                "chunk at {offset} of {} bytes runs past the message's {total}",
                payload.len()
            ));
        }
        if offset == 0 && payload.len() == total && !self.pending.contains_key(&id) {
            return decode(payload).map(Some);
        }
        let partial = self.pending.entry(id).or_insert_with(|| Partial {
            total,
            buf: vec![0; total],
            got: 0,
        });
        if partial.total != total {
            self.pending.remove(&id);
            return Err(format!("message {id}: total size changed to {total}"));
        }
        partial.buf[offset..offset + payload.len()].copy_from_slice(payload);
        partial.got += payload.len();
        if partial.got < partial.total {
            return Ok(None);
        }
        let done = self.pending.remove(&id).map(|p| p.buf).unwrap_or_default();
        decode(&done).map(Some)
    }
}

fn decode(bytes: &[u8]) -> Result<Value, String> {
    let mut reader = bytes;
    let value = rmpv::decode::read_value(&mut reader).map_err(|e| format!("msgpack: {e}"))?;
    if !reader.is_empty() {
        return Err(format!("{} bytes after the message", reader.len()));
    }
    Ok(value)
}

// ---------------------------------------------------------------- envelopes

/// The value at `key` of a map (`None` for a missing key or a non-map).
pub(crate) fn get<'a>(map: &'a Value, key: &str) -> Option<&'a Value> {
    match map {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v),
        _ => None,
    }
}

/// A map with string keys, in this order.
pub(crate) fn map(entries: Vec<(&str, Value)>) -> Value {
    Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect(),
    )
}

/// A request, keys in the JS client's order.
pub(crate) fn request(id: &str, method: &str, args: Vec<Value>) -> Value {
    map(vec![
        ("wslink", "1.0".into()),
        ("id", id.into()),
        ("method", method.into()),
        ("args", Value::Array(args)),
        ("kwargs", Value::Map(Vec::new())),
    ])
}

/// A successful response.
pub(crate) fn response(id: Value, result: Value) -> Value {
    map(vec![
        ("wslink", "1.0".into()),
        ("id", id),
        ("result", result),
    ])
}

/// An error response (`data` left out when nil).
pub(crate) fn error(id: Value, code: i64, message: &str, data: Value) -> Value {
    let mut error = vec![("code", Value::from(code)), ("message", message.into())];
    if !data.is_nil() {
        error.push(("data", data));
    }
    map(vec![
        ("wslink", "1.0".into()),
        ("id", id),
        ("error", map(error)),
    ])
}

/// A publication on `topic`.
pub(crate) fn publication(topic: &str, data: Value) -> Value {
    let id = format!("publish:{topic}:0");
    map(vec![
        ("wslink", "1.0".into()),
        ("id", id.into()),
        ("result", data),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_message_is_one_frame_and_reads_back() {
        let message = request("rpc:c1:7", "a.b", Vec::new());
        let frames = frames(&message, 7, MAX_FRAME);
        assert_eq!(frames.len(), 1);
        // The worked example of the 2.x framing: 49 bytes of msgpack, id 7.
        assert_eq!(&frames[0][..12], &[7, 0, 0, 0, 0, 0, 0, 0, 49, 0, 0, 0]);
        let back = Reassembly::default().push(&frames[0]).unwrap();
        assert_eq!(back, Some(message));
    }

    #[test]
    fn a_big_message_is_chunked_and_reassembled_in_any_order() {
        let message = response("rpc:c1:1".into(), Value::Binary((0..100u8).collect()));
        let mut frames = frames(&message, 9, 32);
        assert!(frames.len() > 3);
        assert!(frames.iter().all(|f| f.len() <= 32));
        frames.swap(0, 2);
        let mut r = Reassembly::default();
        let last = frames.pop().unwrap();
        for f in &frames {
            assert_eq!(r.push(f).unwrap(), None);
        }
        assert_eq!(r.push(&last).unwrap(), Some(message));
    }

    #[test]
    fn bad_headers_are_errors() {
        let mut r = Reassembly::default();
        assert!(r.push(&[0; 5]).is_err());
        let past_end = [&header(1, 8, 10)[..], &[0u8; 4]].concat();
        assert!(r.push(&past_end).is_err());
        r.push(&[&header(2, 0, 10)[..], &[0x93u8; 4]].concat())
            .unwrap();
        assert!(r
            .push(&[&header(2, 4, 11)[..], &[0u8; 4]].concat())
            .is_err());
    }
}
