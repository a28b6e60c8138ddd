//! What a connection does with an inbound frame that gives it nothing to act on: the one
//! policy that servers and clients share, so that no message disappears without a trace.
//!
//! Every such frame falls in one [`Discard`] class. [`judge`] says what to do about it
//! (a [`Verdict`]): go on, answer the sender with an error, or close the connection with
//! a close code. The caller logs the class and the reason, at `warn` level, and counts
//! it in its [`InboundStats`].
//!
//! | class | example | verdict |
//! |---|---|---|
//! | [`Undecodable`](Discard::Undecodable) | a bad chunk header, malformed msgpack or JSON, invalid UTF-8, a limit exceeded | close: 1002 (1009 for a limit) |
//! | [`UnexpectedFrame`](Discard::UnexpectedFrame) | a text frame on a 2.x connection | go on |
//! | [`NotAMap`](Discard::NotAMap) | a message that is an array or a number | go on |
//! | [`NoId`](Discard::NoId) | a map without an `id` | go on |
//! | [`BadId`](Discard::BadId) | an `id` that is not a string (it cannot be answered) | go on |
//! | [`BadMethod`](Discard::BadMethod) | a string `id` and a `method` that is not a string | answer -32601 |
//! | [`Unexpected`](Discard::Unexpected) | a valid message the receiver has no use for: a client's publication, a reply that no call waits for | go on |
//!
//! ```
//! use wslink_core::inbound::{judge, Discard, Verdict};
//! use wslink_core::{CodecError, EnvelopeError};
//!
//! let (class, verdict) = judge(CodecError::Envelope(EnvelopeError::NoId));
//! assert_eq!(class, Discard::NoId);
//! assert!(matches!(verdict, Verdict::Ignore));
//! ```

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::codec::CodecError;
use crate::envelope::EnvelopeError;
use crate::error::{code, message, WireError};
use crate::transport::Close;

/// The classes of inbound frames that give nothing to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Discard {
    /// The frame does not decode, or breaks a limit.
    Undecodable,
    /// A frame of a type this connection's generation does not use.
    UnexpectedFrame,
    /// A message that is not a map.
    NotAMap,
    /// A map without an `id`.
    NoId,
    /// An `id` that is not a string.
    BadId,
    /// A `method` that is not a string, under a string `id`.
    BadMethod,
    /// A valid message that the receiver has no use for.
    Unexpected,
}

impl Discard {
    /// Every class, in the order of [`InboundStats`]'s counters.
    pub const ALL: [Discard; 7] = [
        Discard::Undecodable,
        Discard::UnexpectedFrame,
        Discard::NotAMap,
        Discard::NoId,
        Discard::BadId,
        Discard::BadMethod,
        Discard::Unexpected,
    ];

    /// A short name for logs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Discard::Undecodable => "undecodable",
            Discard::UnexpectedFrame => "unexpected_frame",
            Discard::NotAMap => "not_a_map",
            Discard::NoId => "no_id",
            Discard::BadId => "bad_id",
            Discard::BadMethod => "bad_method",
            Discard::Unexpected => "unexpected",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Discard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What to do about a discarded frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Log it, count it, and go on reading.
    Ignore,
    /// Answer the message's id with this error, and go on (a server does; a client,
    /// which answers nothing, logs it instead).
    Answer {
        /// The id to answer.
        id: String,
        /// The error to send.
        error: WireError,
    },
    /// Close the connection with this code and reason: the stream cannot be trusted.
    Close(Close),
}

/// The class of a decoding error and what the connection does about it.
pub fn judge(error: CodecError) -> (Discard, Verdict) {
    match error {
        CodecError::UnexpectedFrame(_) => (Discard::UnexpectedFrame, Verdict::Ignore),
        CodecError::Envelope(EnvelopeError::NotAMap(_)) => (Discard::NotAMap, Verdict::Ignore),
        CodecError::Envelope(EnvelopeError::NoId) => (Discard::NoId, Verdict::Ignore),
        CodecError::Envelope(EnvelopeError::BadId(_)) => (Discard::BadId, Verdict::Ignore),
        CodecError::Envelope(e @ EnvelopeError::BadMethod { .. }) => {
            let reason = e.to_string();
            let EnvelopeError::BadMethod { id, .. } = e else {
                unreachable!("matched above")
            };
            let error = WireError::new(code::METHOD_NOT_FOUND, message::UNREGISTERED_METHOD)
                .with_data(reason);
            (Discard::BadMethod, Verdict::Answer { id, error })
        }
        other => {
            let close = Close::new(other.close_code(), close_reason(&other.to_string()));
            (Discard::Undecodable, Verdict::Close(close))
        }
    }
}

/// A WebSocket close reason holds at most 123 bytes: cut at a character boundary.
pub fn close_reason(reason: &str) -> String {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_owned()
}

/// Counts of discarded inbound frames, per [`Discard`] class (cheap to update from any
/// thread).
#[derive(Debug, Default)]
pub struct InboundStats {
    counts: [AtomicU64; Discard::ALL.len()],
}

impl InboundStats {
    /// Counts one frame of `class`.
    pub fn count(&self, class: Discard) {
        self.counts[class.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// How many frames of `class` were counted.
    pub fn get(&self, class: Discard) -> u64 {
        self.counts[class.index()].load(Ordering::Relaxed)
    }

    /// Every class with its count.
    pub fn snapshot(&self) -> [(Discard, u64); Discard::ALL.len()] {
        Discard::ALL.map(|class| (class, self.get(class)))
    }

    /// All discarded frames together.
    pub fn total(&self) -> u64 {
        Discard::ALL.iter().map(|&class| self.get(class)).sum()
    }

    /// Whether the frame just counted deserves its own log line: every one of the first
    /// 100, then one in a thousand, so that a flood of bad frames cannot flood the log
    /// (the counts go on).
    pub fn worth_logging(&self) -> bool {
        let total = self.total();
        total <= 100 || total % 1000 == 0
    }
}

impl fmt::Display for InboundStats {
    /// `undecodable=0 unexpected_frame=1 …`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (class, n)) in self.snapshot().iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{class}={n}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::CloseCode;

    #[test]
    fn each_error_has_its_class_and_verdict() {
        let cases = [
            (
                CodecError::UnexpectedFrame("text"),
                Discard::UnexpectedFrame,
            ),
            (
                CodecError::Envelope(EnvelopeError::NotAMap("array")),
                Discard::NotAMap,
            ),
            (
                CodecError::Envelope(EnvelopeError::BadId("integer")),
                Discard::BadId,
            ),
            (CodecError::Malformed("x".into()), Discard::Undecodable),
        ];
        for (error, class) in cases {
            assert_eq!(judge(error).0, class);
        }
        let (class, verdict) = judge(CodecError::Envelope(EnvelopeError::BadMethod {
            id: "rpc:c1:0".into(),
            kind: "integer",
        }));
        assert_eq!(class, Discard::BadMethod);
        let Verdict::Answer { id, error } = verdict else {
            panic!("{verdict:?}")
        };
        assert_eq!((id.as_str(), error.code), ("rpc:c1:0", -32601));
        assert!(error.data.unwrap().to_string().contains("integer"));
        let (_, verdict) = judge(CodecError::TooLarge { size: 9, limit: 1 });
        assert!(matches!(verdict, Verdict::Close(c) if c.code == CloseCode::TOO_BIG));
    }

    #[test]
    fn stats_count_per_class() {
        let stats = InboundStats::default();
        stats.count(Discard::NoId);
        stats.count(Discard::NoId);
        stats.count(Discard::Unexpected);
        assert_eq!(stats.get(Discard::NoId), 2);
        assert_eq!(stats.total(), 3);
        assert!(stats.to_string().contains("no_id=2"));
    }

    #[test]
    fn close_reasons_fit_a_close_frame() {
        let long = "é".repeat(100);
        let r = close_reason(&long);
        assert!(r.len() <= 123 && long.starts_with(&r));
        assert_eq!(close_reason("short"), "short");
    }
}
