//! Encoding a message with large binary values as a rope: no copy of the values.
//!
//! A message is normally written into one buffer (with gaps for the chunk headers, see
//! [`encode_gapped`](crate::encode_gapped)), which copies every byte of it, binaries
//! included. For a 64 MiB result that copy is the largest cost of sending it and doubles
//! the memory it takes. A [`RopeWriter`] instead keeps the encoded bytes as a list of
//! parts: runs of small encoded values (copied, that is cheaper than a part of their own)
//! and, for every [`Value::Bin`](wslink_core::Value::Bin) of at least [`SHARED_BIN_MIN`] bytes, a clone of the
//! value's own [`Bytes`] (a reference count, no copy). [`chunk_rope`](crate::chunk_rope)
//! then cuts the rope into chunk frames made of slices of those parts.
//!
//! The bytes are the same as the flat encoding's (a property test holds the two
//! together); only the buffers they live in differ.

use bytes::{Bytes, BytesMut};
use wslink_core::codec::BinaryParts;
use wslink_core::{CodecError, Message};

use crate::encode::{write_message, Out};

/// Binary values of at least this many bytes (64 KiB) are sent from their own buffer
/// instead of being copied into the encoded message. Below it, copying costs less than
/// the bookkeeping of one more part.
pub const SHARED_BIN_MIN: usize = 64 << 10;

/// An encoded message as consecutive parts (none empty): the same shape as a frame made
/// of several buffers, so it is one ([`BinaryParts`]), before it is cut into chunks.
pub type Rope = BinaryParts;

/// An [`Out`] that keeps binary values of at least `min_shared` bytes as parts of their
/// own and copies everything else into runs.
#[derive(Debug)]
pub struct RopeWriter {
    rope: Rope,
    run: BytesMut,
    min_shared: usize,
}

impl RopeWriter {
    /// A writer sharing binaries of `min_shared` bytes or more ([`SHARED_BIN_MIN`] in the
    /// codec).
    pub fn new(min_shared: usize) -> Self {
        RopeWriter {
            rope: Rope::new(),
            run: BytesMut::with_capacity(256),
            min_shared,
        }
    }

    fn end_run(&mut self) {
        let run = self.run.split().freeze();
        self.rope.push(run);
    }

    /// The rope written so far.
    pub fn finish(mut self) -> Rope {
        self.end_run();
        self.rope
    }
}

impl std::io::Write for RopeWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.run.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Out for RopeWriter {
    fn write_bin(&mut self, bin: &Bytes) -> std::io::Result<()> {
        if bin.len() < self.min_shared {
            self.run.extend_from_slice(bin);
        } else {
            self.end_run();
            self.rope.push(bin.clone());
        }
        Ok(())
    }
}

/// Encodes `message` as a [`Rope`], sharing binaries of `min_shared` bytes or more.
pub fn encode_rope(message: &Message, min_shared: usize) -> Result<Rope, CodecError> {
    let mut w = RopeWriter::new(min_shared);
    write_message(&mut w, message)?;
    Ok(w.finish())
}

/// Whether `message` holds a binary value of `min_shared` bytes or more (anywhere in its
/// arguments, result or data).
#[cfg(test)]
fn has_shared_bin(message: &Message, min_shared: usize) -> bool {
    crate::encode::size_hint(message).largest_bin >= min_shared
}

#[cfg(test)]
mod tests {
    use super::*;
    use wslink_core::{Response, Value};

    fn result(value: Value) -> Message {
        Message::Response(Response {
            id: "rpc:c1:0".into(),
            outcome: Ok(value),
        })
    }

    #[test]
    fn a_large_binary_is_a_part_of_its_own_and_not_copied() {
        let big = Bytes::from(vec![3u8; 1000]);
        let message = result(Value::Array(vec![
            Value::Bin(big.clone()),
            Value::Bin(Bytes::from_static(b"small")),
        ]));
        let rope = encode_rope(&message, 1000).unwrap();
        assert_eq!(rope.parts().len(), 3, "head run, the binary, tail run");
        assert_eq!(rope.parts()[1].as_ptr(), big.as_ptr());
        let flat = crate::encode_message(&message).unwrap();
        let joined: Vec<u8> = rope.parts().concat();
        assert_eq!(joined, flat[crate::HEADER_LEN..]);
        assert_eq!(rope.len(), joined.len());
    }

    #[test]
    fn only_binaries_at_the_threshold_count() {
        let nested = |n: usize| {
            let mut map = wslink_core::Map::new();
            map.insert(
                "k".into(),
                Value::Array(vec![Value::Bin(vec![0u8; n].into())]),
            );
            result(Value::Map(map))
        };
        assert!(has_shared_bin(&nested(10), 10));
        assert!(!has_shared_bin(&nested(9), 10));
        let rope = encode_rope(&nested(9), 10).unwrap();
        assert_eq!(rope.parts().len(), 1, "below the threshold: one run");
    }
}
