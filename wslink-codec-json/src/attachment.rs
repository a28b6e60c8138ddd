//! Attachment keys and the header message that announces them.
//!
//! JSON has no binary type, so 1.x sends each binary value on its own, as a WebSocket
//! binary frame, and leaves a *key* in its place in the JSON text. A key is a string
//! `wslink_bin<N>` ([`is_attachment_key`]). Before the binary frame comes a small text
//! message without an `id`, the *header*, naming the key the binary frame belongs to:
//!
//! ```text
//! text   {"wslink":"1.0","method":"wslink.binary.attachment","args":["wslink_bin7"]}
//! binary <the bytes>
//! text   {"wslink":"1.0","id":"rpc:c1:3","result":{"image":"wslink_bin7"}}
//! ```
//!
//! A receiver queues the keys a header lists, gives each following binary frame the
//! first queued key, and swaps strings equal to a received key for the bytes when the
//! message that uses them arrives.
//!
//! Keys only need to be unique among the attachments in flight on one connection. A
//! server encodes a publication once for every connection, so the counter lives in the
//! codec, shared by its clones ([`AttachmentKeys`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The `method` of an attachment header.
pub const ATTACHMENT_METHOD: &str = "wslink.binary.attachment";

/// What every attachment key starts with; decimal digits follow.
pub const KEY_PREFIX: &str = "wslink_bin";

/// `true` when `s` is an attachment key: [`KEY_PREFIX`] followed by at least one ASCII
/// digit and nothing else (the reference's `^wslink_bin\d+$`).
pub fn is_attachment_key(s: &str) -> bool {
    s.strip_prefix(KEY_PREFIX)
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// A source of fresh attachment keys, `wslink_bin0`, `wslink_bin1`, …
///
/// Clones share one counter, so every clone of a codec hands out different keys.
#[derive(Debug, Clone, Default)]
pub struct AttachmentKeys {
    next: Arc<AtomicU64>,
}

impl AttachmentKeys {
    /// Keys numbered from 0, as the Python server numbers them.
    pub fn new() -> Self {
        Self::starting_at(0)
    }

    /// Keys numbered from `first` (the JS client starts at 1).
    pub fn starting_at(first: u64) -> Self {
        AttachmentKeys {
            next: Arc::new(AtomicU64::new(first)),
        }
    }

    /// A key no clone of this source has handed out before (until the counter wraps
    /// after 2^64 keys).
    pub fn next_key(&self) -> String {
        // Only uniqueness matters, not ordering with other memory: relaxed is enough.
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        format!("{KEY_PREFIX}{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_keys_exactly() {
        for key in ["wslink_bin0", "wslink_bin12", "wslink_bin007"] {
            assert!(is_attachment_key(key), "{key}");
        }
        for not_key in [
            "wslink_bin",
            "wslink_bin-1",
            "wslink_bin1 ",
            " wslink_bin1",
            "wslink_bin1a",
            "WSLINK_BIN1",
            "wslink_bin١", // Arabic-Indic digit one: \d in Python, not here
            "",
        ] {
            assert!(!is_attachment_key(not_key), "{not_key:?}");
        }
    }

    #[test]
    fn clones_share_the_counter() {
        let keys = AttachmentKeys::new();
        let clone = keys.clone();
        assert_eq!(keys.next_key(), "wslink_bin0");
        assert_eq!(clone.next_key(), "wslink_bin1");
        assert_eq!(keys.next_key(), "wslink_bin2");
        assert_eq!(AttachmentKeys::starting_at(1).next_key(), "wslink_bin1");
    }

    #[test]
    fn keys_are_unique_across_threads() {
        let keys = AttachmentKeys::new();
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let keys = keys.clone();
                std::thread::spawn(move || (0..100).map(|_| keys.next_key()).collect::<Vec<_>>())
            })
            .collect();
        let mut all: Vec<String> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 400);
    }
}
