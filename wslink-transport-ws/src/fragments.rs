//! A frame made of several buffers ([`BinaryParts`]) as the fragments of one WebSocket
//! message.
//!
//! A chunk frame that carries a slice of a large binary value is its 12-byte header, a
//! few bytes of msgpack, then the slice: copying it into one buffer first would copy the
//! value once more than needed. WebSocket lets one message go as several frames (the
//! first `Binary` with FIN clear, then `Continuation` frames, the last with FIN set); the
//! peer sees one message either way. So each large part is a fragment of its own, and the
//! small parts between them are gathered into one fragment (a copy of a few bytes,
//! cheaper than a frame header each). With permessage-deflate agreed, yawc compresses
//! the fragments as one stream, RSV1 on the first only, as RFC 7692 has it.

use bytes::{Bytes, BytesMut};
use wslink_core::BinaryParts;

/// Parts shorter than this are gathered with their neighbours into one fragment.
pub(crate) const GATHER_BELOW: usize = 16 << 10;

/// The payloads of the fragments to send `frame` as: large parts as they are (no copy),
/// consecutive small parts gathered. Never empty for a non-empty frame.
pub(crate) fn fragments(frame: &BinaryParts) -> Vec<Bytes> {
    let mut out = Vec::with_capacity(frame.parts().len());
    let mut gathered = BytesMut::new();
    for part in frame.parts() {
        if part.len() < GATHER_BELOW {
            gathered.extend_from_slice(part);
            continue;
        }
        if !gathered.is_empty() {
            out.push(gathered.split().freeze());
        }
        out.push(part.clone());
    }
    if !gathered.is_empty() {
        out.push(gathered.freeze());
    }
    out
}

/// The yawc frames for the fragment payloads: `Binary` first, `Continuation` after, FIN
/// on the last only.
pub(crate) fn ws_frames(payloads: Vec<Bytes>) -> impl Iterator<Item = yawc::Frame> {
    let last = payloads.len().saturating_sub(1);
    payloads.into_iter().enumerate().map(move |(i, payload)| {
        let frame = if i == 0 {
            yawc::Frame::binary(payload)
        } else {
            yawc::Frame::continuation(payload)
        };
        frame.with_fin(i == last)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use yawc::OpCode;

    #[test]
    fn small_parts_are_gathered_and_large_ones_kept() {
        let big = Bytes::from(vec![1u8; GATHER_BELOW]);
        let frame: BinaryParts = [
            Bytes::from_static(b"header"),
            Bytes::from_static(b"msgpack"),
            big.clone(),
            Bytes::from_static(b"tail"),
        ]
        .into_iter()
        .collect();
        let payloads = fragments(&frame);
        assert_eq!(payloads.len(), 3);
        assert_eq!(payloads[0], "headermsgpack");
        assert_eq!(payloads[1].as_ptr(), big.as_ptr(), "not copied");
        assert_eq!(payloads[2], "tail");
        let frames: Vec<yawc::Frame> = ws_frames(payloads).collect();
        let kinds: Vec<(OpCode, bool)> = frames.iter().map(|f| (f.opcode(), f.is_fin())).collect();
        assert_eq!(
            kinds,
            [
                (OpCode::Binary, false),
                (OpCode::Continuation, false),
                (OpCode::Continuation, true)
            ]
        );
    }

    #[test]
    fn a_frame_of_small_parts_is_one_final_binary_frame() {
        let frame: BinaryParts = [Bytes::from_static(b"a"), Bytes::from_static(b"b")]
            .into_iter()
            .collect();
        let frames: Vec<yawc::Frame> = ws_frames(fragments(&frame)).collect();
        assert_eq!(frames.len(), 1);
        assert_eq!(
            (frames[0].opcode(), frames[0].is_fin()),
            (OpCode::Binary, true)
        );
    }
}
