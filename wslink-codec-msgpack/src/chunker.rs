//! Splitting an encoded message into chunk frames.

use bytes::{Bytes, BytesMut};
use wslink_core::{CodecError, Encoded, Frame};

use crate::header::{ChunkHeader, HEADER_LEN};

/// Splits a message into frames of at most `max_frame_size` bytes (header included),
/// as the reference peers do: payloads of `max(max_frame_size - 12, 1)` bytes in
/// increasing offset order; 0 means one frame whatever the size.
///
/// `buf` holds [`HEADER_LEN`] reserved bytes followed by the message. A message that fits
/// one frame gets its header written into the reserved bytes and is sent without a copy.
pub fn chunk(
    mut buf: BytesMut,
    message_id: u32,
    max_frame_size: usize,
) -> Result<Encoded, CodecError> {
    let total = buf.len() - HEADER_LEN;
    let total_size = u32::try_from(total)
        .map_err(|_| CodecError::Encode(format!("message of {total} bytes is 4 GiB or more")))?;
    let max_payload = match max_frame_size {
        0 => total.max(1),
        n => n.saturating_sub(HEADER_LEN).max(1),
    };
    if total <= max_payload {
        let header = ChunkHeader {
            message_id,
            offset: 0,
            total_size,
        };
        buf[..HEADER_LEN].copy_from_slice(&header.to_bytes());
        return Ok(Encoded::One(Frame::Binary(buf.freeze())));
    }
    let message: Bytes = buf.freeze().slice(HEADER_LEN..);
    let mut frames = Vec::with_capacity(total.div_ceil(max_payload));
    for start in (0..total).step_by(max_payload) {
        let end = (start + max_payload).min(total);
        let header = ChunkHeader {
            message_id,
            offset: start as u32,
            total_size,
        };
        let mut frame = BytesMut::with_capacity(HEADER_LEN + end - start);
        frame.extend_from_slice(&header.to_bytes());
        frame.extend_from_slice(&message[start..end]);
        frames.push(Frame::Binary(frame.freeze()));
    }
    Ok(Encoded::from(frames))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_header_room(message: &[u8]) -> BytesMut {
        let mut buf = BytesMut::zeroed(HEADER_LEN);
        buf.extend_from_slice(message);
        buf
    }

    fn binary(frame: &Frame) -> &[u8] {
        match frame {
            Frame::Binary(b) => b,
            Frame::Text(_) => panic!("text frame"),
        }
    }

    #[test]
    fn small_message_is_one_frame() {
        let out = chunk(with_header_room(b"abc"), 9, 100).unwrap();
        assert_eq!(out.frames().len(), 1);
        assert_eq!(
            binary(&out.frames()[0]),
            [9, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, b'a', b'b', b'c']
        );
    }

    #[test]
    fn frames_never_exceed_the_limit_and_cover_the_message() {
        let message: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        for max in [13usize, 32, 100, 1011, 1012, 1013, 5000] {
            let out = chunk(with_header_room(&message), 1, max).unwrap();
            let mut joined = Vec::new();
            for f in out.frames() {
                let f = binary(f);
                assert!(f.len() <= max.max(HEADER_LEN + 1), "{} > {max}", f.len());
                let h = ChunkHeader::parse(f).unwrap();
                assert_eq!((h.offset as usize, h.total_size), (joined.len(), 1000));
                joined.extend_from_slice(&f[HEADER_LEN..]);
            }
            assert_eq!(joined, message);
        }
    }

    #[test]
    fn a_zero_limit_means_one_frame() {
        let message = vec![7u8; 100_000];
        let out = chunk(with_header_room(&message), 3, 0).unwrap();
        assert_eq!(out.frames().len(), 1);
        assert_eq!(binary(&out.frames()[0]).len(), HEADER_LEN + message.len());
    }

    #[test]
    fn tiny_limits_still_make_progress() {
        let out = chunk(with_header_room(b"xyz"), 1, 5).unwrap();
        assert_eq!(out.frames().len(), 3, "one payload byte per frame");
    }
}
