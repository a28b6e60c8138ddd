//! Splitting an encoded message into chunk frames.
//!
//! Three inputs, the same frames: a buffer with room for one header ([`chunk`], which
//! copies when it has to split), a buffer with a gap before every chunk's payload
//! ([`frames_in_place`], no copy), and a [`Rope`] ([`chunk_rope`], no copy of its
//! parts: each frame is its header followed by slices of the parts).

use bytes::{Bytes, BytesMut};
use wslink_core::{BinaryParts, CodecError, Encoded, Frame};

use crate::header::{ChunkHeader, HEADER_LEN};
use crate::rope::Rope;

fn total_size(total: usize) -> Result<u32, CodecError> {
    u32::try_from(total)
        .map_err(|_| CodecError::Encode(format!("message of {total} bytes is 4 GiB or more")))
}

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
    let total_size = total_size(total)?;
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

/// Turns a buffer written by [`GappedWriter`](crate::encode::GappedWriter) with chunks of
/// `payload` bytes into frames, writing each header into its gap: no byte of the message
/// is copied.
pub fn frames_in_place(
    mut buf: BytesMut,
    message_id: u32,
    payload: usize,
) -> Result<Encoded, CodecError> {
    let payload = payload.max(1);
    let stride = HEADER_LEN + payload;
    let chunks = buf.len().div_ceil(stride);
    let total = buf.len() - chunks * HEADER_LEN;
    let total_size = total_size(total)?;
    for i in 0..chunks {
        let header = ChunkHeader {
            message_id,
            offset: (i * payload) as u32,
            total_size,
        };
        buf[i * stride..i * stride + HEADER_LEN].copy_from_slice(&header.to_bytes());
    }
    if chunks == 1 {
        return Ok(Encoded::One(Frame::Binary(buf.freeze())));
    }
    let buf = buf.freeze();
    let frames: Vec<Frame> = (0..chunks)
        .map(|i| Frame::Binary(buf.slice(i * stride..((i + 1) * stride).min(buf.len()))))
        .collect();
    Ok(Encoded::from(frames))
}

/// Splits a [`Rope`] into chunk frames of at most `max_frame_size` bytes (header
/// included; 0: one frame), the same frames as [`chunk`] gives for the flat message, as
/// [`BinaryParts`]: a 12-byte header, then slices of the rope's parts.
pub fn chunk_rope(
    rope: &Rope,
    message_id: u32,
    max_frame_size: usize,
) -> Result<Encoded, CodecError> {
    let total = rope.len();
    let total_size = total_size(total)?;
    let max_payload = payload_per_frame(max_frame_size).min(total.max(1));
    let mut parts = rope.parts().iter();
    // The part being cut and how much of it went into earlier frames.
    let mut current: Option<(&Bytes, usize)> = None;
    let mut frames = Vec::with_capacity(total.div_ceil(max_payload));
    for start in (0..total).step_by(max_payload) {
        let header = ChunkHeader {
            message_id,
            offset: start as u32,
            total_size,
        };
        let mut frame = BinaryParts::with_capacity(3);
        frame.push(Bytes::copy_from_slice(&header.to_bytes()));
        let mut want = max_payload.min(total - start);
        while want > 0 {
            let (part, used) = match current.take() {
                Some(c) => c,
                None => (parts.next().expect("the parts cover the rope"), 0),
            };
            let take = want.min(part.len() - used);
            frame.push(part.slice(used..used + take));
            want -= take;
            if used + take < part.len() {
                current = Some((part, used + take));
            }
        }
        frames.push(frame);
    }
    Ok(Encoded::from(frames))
}

/// The message bytes per chunk for a frame limit (0: no limit).
pub fn payload_per_frame(max_frame_size: usize) -> usize {
    match max_frame_size {
        0 => usize::MAX - HEADER_LEN,
        n => n.saturating_sub(HEADER_LEN).max(1),
    }
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
        assert_eq!(out.to_frames().len(), 1);
        assert_eq!(
            binary(&out.to_frames()[0]),
            [9, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, b'a', b'b', b'c']
        );
    }

    #[test]
    fn frames_never_exceed_the_limit_and_cover_the_message() {
        let message: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        for max in [13usize, 32, 100, 1011, 1012, 1013, 5000] {
            let out = chunk(with_header_room(&message), 1, max).unwrap();
            let mut joined = Vec::new();
            for f in out.to_frames() {
                let f = binary(&f);
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
        assert_eq!(out.to_frames().len(), 1);
        assert_eq!(
            binary(&out.to_frames()[0]).len(),
            HEADER_LEN + message.len()
        );
    }

    #[test]
    fn in_place_frames_equal_copied_frames() {
        use crate::encode::GappedWriter;
        use std::io::Write;
        let message: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        for max in [13usize, 32, 100, 1012, 1013, 4096, 20_000, 0] {
            let copied = chunk(with_header_room(&message), 5, max).unwrap();
            let payload = payload_per_frame(max);
            let mut w = GappedWriter::new(payload);
            // Written in odd pieces, as a serializer would.
            for piece in message.chunks(7) {
                w.write_all(piece).unwrap();
            }
            let in_place = frames_in_place(w.into_inner(), 5, payload).unwrap();
            assert_eq!(copied.to_frames(), in_place.to_frames(), "max {max}");
        }
    }

    #[test]
    fn rope_frames_equal_copied_frames() {
        use crate::rope::RopeWriter;
        use crate::Out;
        use std::io::Write;
        let big = Bytes::from((0..=255u8).cycle().take(5000).collect::<Vec<u8>>());
        let mut w = RopeWriter::new(100);
        w.write_all(b"head").unwrap();
        w.write_bin(&big).unwrap();
        w.write_all(b"middle").unwrap();
        w.write_bin(&big.slice(..3000)).unwrap();
        w.write_all(b"t").unwrap();
        let rope = w.finish();
        assert_eq!(rope.parts().len(), 5);
        let flat: Vec<u8> = rope.parts().concat();
        for max in [13usize, 14, 17, 100, 1012, 4096, 5010, 5011, 8023, 9000, 0] {
            let copied = chunk(with_header_room(&flat), 5, max).unwrap();
            let roped = chunk_rope(&rope, 5, max).unwrap();
            assert!(matches!(roped, Encoded::Parts(_)));
            assert_eq!(copied.to_frames(), roped.to_frames(), "max {max}");
        }
    }

    #[test]
    fn tiny_limits_still_make_progress() {
        let out = chunk(with_header_room(b"xyz"), 1, 5).unwrap();
        assert_eq!(out.to_frames().len(), 3, "one payload byte per frame");
    }
}
