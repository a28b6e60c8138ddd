//! The 12-byte chunk header that starts every 2.x binary frame.
//!
//! ```text
//! offset  size  field        encoding
//! 0       4     message_id   u32 little-endian  (same for every chunk of a message)
//! 4       4     offset       u32 little-endian  (where this chunk's payload goes)
//! 8       4     total_size   u32 little-endian  (size of the whole msgpack message)
//! 12      n     payload
//! ```

use wslink_core::CodecError;

/// Bytes in a chunk header.
pub const HEADER_LEN: usize = 12;

/// A parsed chunk header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkHeader {
    /// Identifies the message this chunk belongs to.
    pub message_id: u32,
    /// Byte offset of the payload within the message.
    pub offset: u32,
    /// Size of the whole message.
    pub total_size: u32,
}

impl ChunkHeader {
    /// Reads the header at the start of a frame.
    pub fn parse(frame: &[u8]) -> Result<ChunkHeader, CodecError> {
        let Some(head) = frame.get(..HEADER_LEN) else {
            return Err(CodecError::ShortFrame(frame.len()));
        };
        let field = |i: usize| u32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
        Ok(ChunkHeader {
            message_id: field(0),
            offset: field(4),
            total_size: field(8),
        })
    }

    /// The header's 12 bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..4].copy_from_slice(&self.message_id.to_le_bytes());
        out[4..8].copy_from_slice(&self.offset.to_le_bytes());
        out[8..12].copy_from_slice(&self.total_size.to_le_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_three_little_endian_u32() {
        let h = ChunkHeader {
            message_id: 0x12345678,
            offset: 0x14,
            total_size: 0x53,
        };
        let bytes = h.to_bytes();
        assert_eq!(
            bytes,
            [0x78, 0x56, 0x34, 0x12, 0x14, 0, 0, 0, 0x53, 0, 0, 0]
        );
        assert_eq!(ChunkHeader::parse(&bytes).unwrap(), h);
        assert_eq!(
            ChunkHeader::parse(&bytes[..11]),
            Err(CodecError::ShortFrame(11))
        );
    }
}
