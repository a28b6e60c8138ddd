//! The 1.x decoder (JSON text + attachments) over arbitrary frames: never panics, never
//! holds more attachments or bytes than its limits.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use wslink_codec_json::JsonCodec;
use wslink_core::{Codec, DecodeLimits, Decoder, Frame};

fuzz_target!(|data: &[u8]| {
    let limits = DecodeLimits {
        message_size: 1 << 16,
        partial_bytes: 1 << 12,
        attachments: 8,
        max_depth: 32,
        ..DecodeLimits::default()
    };
    let mut decoder = JsonCodec::new().decoder(limits.clone());
    decoder.set_authenticated(data.first().is_some_and(|b| b & 1 == 1));
    // Frames are separated by 0x00; a frame starting with 'B' is binary, else text.
    for piece in data.split(|&b| b == 0).skip(1) {
        let frame = match piece.split_first() {
            Some((b'B', rest)) => Frame::Binary(Bytes::copy_from_slice(rest)),
            _ => Frame::Text(String::from_utf8_lossy(piece).into_owned()),
        };
        let _ = decoder.decode(frame);
        assert!(decoder.held_bytes() <= limits.partial_bytes);
        assert!(decoder.expected_keys().count() + decoder.received_count() <= limits.attachments);
    }
});
