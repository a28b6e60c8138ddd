//! One msgpack message, as the unchunker hands it over: decoding never panics, and what
//! decodes re-encodes to something that decodes to the same message.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use wslink_codec_msgpack::{decode_value, encode_message, HEADER_LEN};
use wslink_core::Message;

fuzz_target!(|data: &[u8]| {
    let bytes = Bytes::copy_from_slice(data);
    let Ok(value) = decode_value(&bytes, 64) else { return };
    let Ok(message) = Message::from_value(value) else { return };
    let again = encode_message(&message).expect("a decoded message encodes");
    let again = again.freeze().slice(HEADER_LEN..);
    let back = Message::from_value(decode_value(&again, 64).expect("our own encoding decodes"));
    // NaN != NaN, so compare encodings rather than values.
    let back = back.expect("still a message");
    let twice = encode_message(&back).unwrap().freeze().slice(HEADER_LEN..);
    assert_eq!(again, twice);
});
