//! Differential: our msgpack decoder against rmpv on arbitrary bytes. Whatever one
//! accepts the other must accept with the same value (after our documented rules for map
//! keys, UTF-8 and depth, in `wslink-codec-msgpack/tests/support/rmpv_model.rs`), and the
//! envelope decoder must agree with decoding the value first.
#![no_main]

#[path = "../../wslink-codec-msgpack/tests/support/rmpv_model.rs"]
mod rmpv_model;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use wslink_codec_msgpack::{decode_message, decode_value};
use wslink_core::Message;

const DEPTH: usize = 128;

fuzz_target!(|data: &[u8]| {
    let bytes = Bytes::copy_from_slice(data);
    let ours = decode_value(&bytes, DEPTH);
    let theirs = rmpv_model::expected(data, DEPTH);
    assert!(
        rmpv_model::agree(data, &ours, DEPTH),
        "ours {ours:?}, rmpv {theirs:?}"
    );
    if let (Ok(_), Some(value)) = (&ours, theirs) {
        let direct = decode_message(&bytes, DEPTH);
        let via_value = Message::from_value(value);
        // NaN results would make equal messages compare unequal: compare the shapes.
        assert_eq!(
            format!("{direct:?}"),
            format!("{:?}", via_value.map_err(wslink_core::CodecError::from)),
        );
    }
});
