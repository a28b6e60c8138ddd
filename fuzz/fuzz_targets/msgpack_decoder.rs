//! The whole 2.x decoder (unchunker + msgpack + envelope) over arbitrary frames.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use wslink_codec_msgpack::MsgpackCodec;
use wslink_core::{Codec, DecodeLimits, Decoder, Frame};

fuzz_target!(|data: &[u8]| {
    let mut decoder = MsgpackCodec::new().decoder(DecodeLimits {
        message_size: 1 << 16,
        partial_bytes: 1 << 14,
        ..DecodeLimits::default()
    });
    decoder.set_authenticated(data.first().is_some_and(|b| b & 1 == 1));
    for frame in data.split(|&b| b == 0xc1).skip(1) {
        let _ = decoder.decode(Frame::Binary(Bytes::copy_from_slice(frame)));
    }
});
