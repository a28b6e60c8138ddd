//! Reassembling chunk frames into messages, within limits.
//!
//! Chunks of one message may come in any order and chunks of different messages may be
//! interleaved. Unlike the reference (which allocates whatever `total_size` a header
//! claims and counts duplicate chunks twice), an [`Unchunker`]:
//!
//! * checks the declared size against the limit in force *before* keeping anything
//!   (the pre-auth limit until [`Unchunker::set_authenticated`], then the post-auth one);
//! * holds only the bytes that actually arrived, never a buffer of the declared size;
//! * refuses chunks that overlap, repeat, run past the end or change the total;
//! * bounds how many incomplete messages, and how many bytes in them, it holds, and drops
//!   incomplete messages older than `partial_timeout`.
//!
//! A message that arrives whole in one chunk is handed over without a copy.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use wslink_core::{CodecError, DecodeLimits};

use crate::header::{ChunkHeader, HEADER_LEN};

#[derive(Debug)]
struct Partial {
    total: usize,
    received: usize,
    /// Chunk payloads by offset; never overlapping.
    chunks: BTreeMap<usize, Bytes>,
    started: Instant,
}

/// Reassembles one connection's chunks.
#[derive(Debug)]
pub struct Unchunker {
    limits: DecodeLimits,
    authenticated: bool,
    partials: HashMap<u32, Partial>,
    held_bytes: usize,
}

impl Unchunker {
    /// An unchunker for an unauthenticated connection.
    pub fn new(limits: DecodeLimits) -> Self {
        Unchunker {
            limits,
            authenticated: false,
            partials: HashMap::new(),
            held_bytes: 0,
        }
    }

    /// Switches between the pre-auth and post-auth message size limits.
    pub fn set_authenticated(&mut self, authenticated: bool) {
        self.authenticated = authenticated;
    }

    /// The largest message accepted now.
    pub fn message_limit(&self) -> usize {
        if self.authenticated {
            self.limits.message_size
        } else {
            self.limits.pre_auth_message_size
        }
    }

    /// Bytes held in incomplete messages.
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// Incomplete messages held.
    pub fn partial_count(&self) -> usize {
        self.partials.len()
    }

    /// Feeds one binary frame; returns the message it completes, if any.
    ///
    /// On error nothing of the offending chunk is kept, and a message whose chunks
    /// contradict each other is dropped whole.
    pub fn push(&mut self, frame: Bytes) -> Result<Option<Bytes>, CodecError> {
        self.push_at(frame, Instant::now())
    }

    /// Drops incomplete messages that started before `now - partial_timeout`; returns
    /// how many.
    pub fn expire(&mut self, now: Instant) -> usize {
        let Some(timeout) = self.limits.partial_timeout else {
            return 0;
        };
        let expired: Vec<u32> = self
            .partials
            .iter()
            .filter(|(_, p)| now.saturating_duration_since(p.started) >= timeout)
            .map(|(&id, _)| id)
            .collect();
        for id in &expired {
            self.drop_partial(*id);
        }
        expired.len()
    }

    /// [`Unchunker::push`] with the current time given (for tests).
    pub fn push_at(&mut self, frame: Bytes, now: Instant) -> Result<Option<Bytes>, CodecError> {
        if !self.partials.is_empty() {
            self.expire(now);
        }
        let header = ChunkHeader::parse(&frame)?;
        let total = header.total_size as usize;
        let offset = header.offset as usize;
        let len = frame.len() - HEADER_LEN;
        if total == 0 {
            return Err(CodecError::BadChunk("a message cannot be empty".into()));
        }
        let limit = self.message_limit();
        if total > limit {
            self.drop_partial(header.message_id);
            return Err(CodecError::TooLarge { size: total, limit });
        }
        if len == 0 {
            return Err(CodecError::BadChunk("empty chunk".into()));
        }
        if offset.checked_add(len).is_none_or(|end| end > total) {
            return Err(CodecError::BadChunk(format!(
                "chunk at offset {offset} with {len} bytes runs past the message end ({total})"
            )));
        }
        let payload = frame.slice(HEADER_LEN..);

        let Some(partial) = self.partials.get_mut(&header.message_id) else {
            if offset == 0 && len == total {
                return Ok(Some(payload));
            }
            if self.partials.len() >= self.limits.partial_messages {
                return Err(CodecError::TooManyPartials(format!(
                    "{} incomplete messages already held",
                    self.partials.len()
                )));
            }
            self.reserve(len)?;
            let mut chunks = BTreeMap::new();
            chunks.insert(offset, payload);
            self.partials.insert(
                header.message_id,
                Partial {
                    total,
                    received: len,
                    chunks,
                    started: now,
                },
            );
            return Ok(None);
        };

        if partial.total != total {
            let was = partial.total;
            self.drop_partial(header.message_id);
            return Err(CodecError::BadChunk(format!(
                "total size changed from {was} to {total} within message {}",
                header.message_id
            )));
        }
        let end = offset + len;
        let overlaps_before = partial
            .chunks
            .range(..=offset)
            .next_back()
            .is_some_and(|(&o, b)| o + b.len() > offset);
        let overlaps_after = partial
            .chunks
            .range(offset..)
            .next()
            .is_some_and(|(&o, _)| o < end);
        if overlaps_before || overlaps_after {
            self.drop_partial(header.message_id);
            return Err(CodecError::BadChunk(format!(
                "chunk at offset {offset} overlaps data already received"
            )));
        }
        self.reserve(len)?;
        let partial = self
            .partials
            .get_mut(&header.message_id)
            .expect("partial checked above");
        partial.chunks.insert(offset, payload);
        partial.received += len;
        if partial.received < partial.total {
            return Ok(None);
        }
        let partial = self
            .partials
            .remove(&header.message_id)
            .expect("partial checked above");
        self.held_bytes -= partial.received;
        let mut message = BytesMut::with_capacity(partial.total);
        for chunk in partial.chunks.into_values() {
            message.extend_from_slice(&chunk);
        }
        Ok(Some(message.freeze()))
    }

    fn reserve(&mut self, len: usize) -> Result<(), CodecError> {
        if self.held_bytes + len > self.limits.partial_bytes {
            return Err(CodecError::TooManyPartials(format!(
                "{} bytes held in incomplete messages, limit {}",
                self.held_bytes + len,
                self.limits.partial_bytes
            )));
        }
        self.held_bytes += len;
        Ok(())
    }

    fn drop_partial(&mut self, message_id: u32) {
        if let Some(p) = self.partials.remove(&message_id) {
            self.held_bytes -= p.received;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(id: u32, offset: u32, total: u32, payload: &[u8]) -> Bytes {
        let mut b = ChunkHeader {
            message_id: id,
            offset,
            total_size: total,
        }
        .to_bytes()
        .to_vec();
        b.extend_from_slice(payload);
        b.into()
    }

    fn authed(limits: DecodeLimits) -> Unchunker {
        let mut u = Unchunker::new(limits);
        u.set_authenticated(true);
        u
    }

    #[test]
    fn whole_message_in_one_chunk_is_not_copied() {
        let mut u = Unchunker::new(DecodeLimits::default());
        let frame = chunk(1, 0, 3, b"abc");
        let out = u.push(frame.clone()).unwrap().unwrap();
        assert_eq!(out, "abc");
        assert_eq!(out.as_ptr(), frame[HEADER_LEN..].as_ptr());
    }

    #[test]
    fn out_of_order_and_interleaved_chunks_reassemble() {
        let mut u = authed(DecodeLimits::default());
        assert_eq!(u.push(chunk(1, 3, 6, b"def")).unwrap(), None);
        assert_eq!(u.push(chunk(2, 0, 4, b"wx")).unwrap(), None);
        assert_eq!(u.push(chunk(1, 0, 6, b"abc")).unwrap().unwrap(), "abcdef");
        assert_eq!(u.push(chunk(2, 2, 4, b"yz")).unwrap().unwrap(), "wxyz");
        assert_eq!((u.partial_count(), u.held_bytes()), (0, 0));
        // An id may be reused once its message completed.
        assert_eq!(u.push(chunk(1, 0, 2, b"ok")).unwrap().unwrap(), "ok");
    }

    #[test]
    fn pre_auth_limit_applies_until_authenticated() {
        let mut u = Unchunker::new(DecodeLimits::default());
        let err = u.push(chunk(1, 0, u32::MAX, b"x")).unwrap_err();
        assert!(
            matches!(err, CodecError::TooLarge { limit: 512, .. }),
            "{err}"
        );
        assert!(matches!(
            u.push(chunk(1, 0, 513, b"x")),
            Err(CodecError::TooLarge { .. })
        ));
        u.set_authenticated(true);
        assert_eq!(u.push(chunk(1, 0, 513, b"x")).unwrap(), None);
        assert_eq!(u.held_bytes(), 1, "only received bytes are held");
    }

    #[test]
    fn lying_headers_are_refused() {
        let mut u = authed(DecodeLimits::default());
        assert!(matches!(
            u.push(chunk(1, 5, 6, b"xy")),
            Err(CodecError::BadChunk(_))
        ));
        assert!(matches!(
            u.push(chunk(1, u32::MAX, 6, b"xy")),
            Err(CodecError::BadChunk(_))
        ));
        assert!(matches!(
            u.push(chunk(1, 0, 0, b"")),
            Err(CodecError::BadChunk(_))
        ));
        assert!(matches!(
            u.push(chunk(1, 0, 6, b"")),
            Err(CodecError::BadChunk(_))
        ));
        assert!(matches!(
            u.push(Bytes::from_static(&[1, 2, 3])),
            Err(CodecError::ShortFrame(3))
        ));
        // Total changes between chunks: the message is dropped whole.
        u.push(chunk(2, 0, 6, b"ab")).unwrap();
        assert!(matches!(
            u.push(chunk(2, 2, 7, b"cd")),
            Err(CodecError::BadChunk(_))
        ));
        assert_eq!((u.partial_count(), u.held_bytes()), (0, 0));
    }

    #[test]
    fn duplicates_and_overlaps_are_refused() {
        for (second_offset, second) in [(0u32, &b"ab"[..]), (1, b"bc"), (2, b"c")] {
            let mut u = authed(DecodeLimits::default());
            u.push(chunk(1, 0, 8, b"abc")).unwrap();
            let r = u.push(chunk(1, second_offset, 8, second));
            assert!(
                matches!(r, Err(CodecError::BadChunk(_))),
                "offset {second_offset}: {r:?}"
            );
            assert_eq!(u.held_bytes(), 0);
        }
        // A chunk that ends where the next one starts is fine.
        let mut u = authed(DecodeLimits::default());
        u.push(chunk(1, 4, 8, b"efgh")).unwrap();
        assert!(matches!(
            u.push(chunk(1, 2, 8, b"cde")),
            Err(CodecError::BadChunk(_))
        ));
        let mut u = authed(DecodeLimits::default());
        u.push(chunk(1, 4, 8, b"efgh")).unwrap();
        u.push(chunk(1, 0, 8, b"abcd"))
            .map(|m| assert_eq!(m.unwrap(), "abcdefgh"))
            .unwrap();
    }

    #[test]
    fn old_partials_expire_and_free_their_bytes() {
        let limits = DecodeLimits {
            partial_timeout: Some(std::time::Duration::from_secs(60)),
            ..DecodeLimits::default()
        };
        let mut u = authed(limits);
        let t0 = Instant::now();
        u.push_at(chunk(1, 0, 100, b"abc"), t0).unwrap();
        u.push_at(
            chunk(2, 0, 100, b"de"),
            t0 + std::time::Duration::from_secs(30),
        )
        .unwrap();
        assert_eq!((u.partial_count(), u.held_bytes()), (2, 5));
        // 61 s later: message 1 is gone, message 2 (31 s old) stays.
        u.push_at(
            chunk(3, 0, 1, b"z"),
            t0 + std::time::Duration::from_secs(61),
        )
        .unwrap();
        assert_eq!((u.partial_count(), u.held_bytes()), (1, 2));
        // A late chunk of the expired message starts a new, incomplete one.
        let late = u
            .push_at(
                chunk(1, 3, 100, &[0; 97]),
                t0 + std::time::Duration::from_secs(62),
            )
            .unwrap();
        assert_eq!(late, None);
    }

    #[test]
    fn partial_count_and_bytes_are_bounded() {
        let limits = DecodeLimits {
            partial_messages: 2,
            partial_bytes: 10,
            ..DecodeLimits::default()
        };
        let mut u = authed(limits);
        u.push(chunk(1, 0, 100, b"a")).unwrap();
        u.push(chunk(2, 0, 100, b"a")).unwrap();
        assert!(matches!(
            u.push(chunk(3, 0, 100, b"a")),
            Err(CodecError::TooManyPartials(_))
        ));
        assert!(matches!(
            u.push(chunk(1, 1, 100, &[0; 9])),
            Err(CodecError::TooManyPartials(_))
        ));
        assert_eq!(u.held_bytes(), 2);
        u.push(chunk(1, 1, 100, &[0; 8])).unwrap();
        assert_eq!(u.held_bytes(), 10);
    }
}
