//! [`BinaryParts`]: one binary frame made of several buffers.
//!
//! A large binary value does not have to be copied to be sent: a codec can describe a
//! frame as its small encoded runs (a chunk header, msgpack heads) followed by slices of
//! the user's own [`Bytes`], and let the transport write the pieces one after the other
//! ([`FrameSink::feed_parts`](crate::FrameSink::feed_parts)). The parts are shared
//! buffers, so cloning a `BinaryParts` (to send one publication to many connections)
//! copies no payload.
//!
//! ```
//! use wslink_core::codec::BinaryParts;
//! use wslink_core::Bytes;
//!
//! let big = Bytes::from(vec![7u8; 1 << 20]);
//! let mut frame = BinaryParts::new();
//! frame.push(Bytes::from_static(b"head"));
//! frame.push(big.slice(..1000));
//! assert_eq!((frame.len(), frame.parts().len()), (1004, 2));
//! assert_eq!(&frame.concat()[..4], b"head");
//! ```

use bytes::{Bytes, BytesMut};

/// One binary frame whose payload is the concatenation of [`parts`](Self::parts).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BinaryParts {
    parts: Vec<Bytes>,
    len: usize,
}

impl BinaryParts {
    /// An empty frame.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty frame with room for `n` parts.
    pub fn with_capacity(n: usize) -> Self {
        BinaryParts {
            parts: Vec::with_capacity(n),
            len: 0,
        }
    }

    /// Appends a part (an empty one is skipped).
    pub fn push(&mut self, part: Bytes) {
        if !part.is_empty() {
            self.len += part.len();
            self.parts.push(part);
        }
    }

    /// The parts in payload order, none of them empty.
    pub fn parts(&self) -> &[Bytes] {
        &self.parts
    }

    /// The payload length (all parts together).
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` for an empty payload.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The payload in one buffer: the only part itself when there is one, else a copy
    /// (for transports that cannot write several buffers as one frame, and for tests).
    pub fn concat(&self) -> Bytes {
        if let [one] = self.parts.as_slice() {
            return one.clone();
        }
        let mut out = BytesMut::with_capacity(self.len);
        for part in &self.parts {
            out.extend_from_slice(part);
        }
        out.freeze()
    }
}

impl FromIterator<Bytes> for BinaryParts {
    fn from_iter<I: IntoIterator<Item = Bytes>>(iter: I) -> Self {
        let mut frame = BinaryParts::new();
        iter.into_iter().for_each(|part| frame.push(part));
        frame
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_parts_are_skipped_and_lengths_add_up() {
        let frame: BinaryParts = [
            Bytes::from_static(b"ab"),
            Bytes::new(),
            Bytes::from_static(b"cde"),
        ]
        .into_iter()
        .collect();
        assert_eq!(frame.parts().len(), 2);
        assert_eq!(frame.len(), 5);
        assert_eq!(frame.concat(), "abcde");
        assert!(BinaryParts::new().is_empty());
    }

    #[test]
    fn one_part_is_handed_back_without_a_copy() {
        let big = Bytes::from(vec![1u8; 4096]);
        let frame: BinaryParts = std::iter::once(big.clone()).collect();
        assert_eq!(frame.concat().as_ptr(), big.as_ptr());
    }
}
