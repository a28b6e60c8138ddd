//! The unchunker fed arbitrary frames: never panics, never reserves more than its limits.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use wslink_codec_msgpack::Unchunker;
use wslink_core::DecodeLimits;

fuzz_target!(|data: &[u8]| {
    let limits = DecodeLimits {
        pre_auth_message_size: 512,
        message_size: 1 << 16,
        partial_bytes: 1 << 14,
        partial_messages: 8,
        partial_runs: 16,
        ..DecodeLimits::default()
    };
    let mut unchunker = Unchunker::new(limits.clone());
    // Frames are separated by a length byte; a length of 0xff toggles authentication.
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        if len == 0xff {
            unchunker.set_authenticated(true);
            rest = tail;
            continue;
        }
        let n = (len as usize).min(tail.len());
        let (frame, tail) = tail.split_at(n);
        rest = tail;
        if let Ok(Some(message)) = unchunker.push(Bytes::copy_from_slice(frame)) {
            assert!(message.len() <= limits.message_size);
        }
        // Declared sizes are reserved (and bounded); what arrived is within them.
        assert!(unchunker.held_bytes() <= limits.partial_bytes);
        assert!(unchunker.received_bytes() <= unchunker.held_bytes());
        assert!(unchunker.partial_count() <= limits.partial_messages);
    }
});
