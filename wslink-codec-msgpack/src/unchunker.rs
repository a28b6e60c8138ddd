//! Reassembling chunk frames into messages, within limits.
//!
//! Chunks of one message may come in any order and chunks of different messages may be
//! interleaved. When the first chunk of a message arrives, an [`Unchunker`] reserves one
//! buffer of the size the header declares and copies every chunk into its place as it
//! arrives (the frame is dropped right away); the complete message is that buffer, handed
//! over without another copy. A message that arrives whole in one chunk is handed over
//! as it is, not copied at all. So receiving a 64 MiB upload takes 64 MiB, not the chunks
//! plus a copy of them.
//!
//! Reserving what a header claims is what the reference does too, and there it lets a
//! peer make the receiver allocate without sending anything. Here the reservation is
//! bounded before it is made:
//!
//! * the declared size is checked against the message limit in force (the pre-auth limit
//!   until [`Unchunker::set_authenticated`], then the post-auth one);
//! * the declared sizes of all incomplete messages of the connection together stay within
//!   [`DecodeLimits::partial_bytes`] ([`held_bytes`](Unchunker::held_bytes) counts them),
//!   as do their number ([`DecodeLimits::partial_messages`]); the defaults (256 MiB, the
//!   message limit) let a client send one message of the full size;
//! * incomplete messages older than [`DecodeLimits::partial_timeout`] are dropped, their
//!   buffers freed.
//!
//! The buffer's room is reserved, not written: chunks that arrive in order (as every
//! peer sends them) are appended, so memory the peer did not fill is not resident and no
//! byte is written twice; a chunk that arrives ahead of its predecessors has the gap
//! before it zero-filled, and the gap is overwritten when its chunks arrive.
//! Chunks that overlap, repeat, run past the end or change the total are refused (the
//! received ranges are kept, merged when they touch, to check that); a message may
//! arrive in at most [`DecodeLimits::partial_runs`] separate runs, so tiny chunks sent
//! out of order cannot grow that bookkeeping without bound.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use wslink_core::{CodecError, DecodeLimits};

use crate::header::{ChunkHeader, HEADER_LEN};

#[derive(Debug)]
struct Partial {
    total: usize,
    /// The message so far, with room for `total` bytes reserved up front: as long as the
    /// furthest chunk received (a gap before it zero-filled, then overwritten when its
    /// chunk arrives).
    buf: BytesMut,
    received: usize,
    /// Received ranges, start → end: disjoint, and merged when they touch.
    ranges: BTreeMap<usize, usize>,
    started: Instant,
}

impl Partial {
    fn new(total: usize, now: Instant) -> Partial {
        Partial {
            total,
            buf: BytesMut::with_capacity(total),
            received: 0,
            ranges: BTreeMap::new(),
            started: now,
        }
    }

    fn total(&self) -> usize {
        self.total
    }

    /// Whether `start..end` overlaps a range already received.
    fn overlaps(&self, start: usize, end: usize) -> bool {
        let before = self
            .ranges
            .range(..=start)
            .next_back()
            .is_some_and(|(_, &e)| e > start);
        let after = self
            .ranges
            .range(start..)
            .next()
            .is_some_and(|(&s, _)| s < end);
        before || after
    }

    /// How many runs the received ranges make once `start..end` (free) is added.
    fn runs_with(&self, start: usize, end: usize) -> usize {
        let joins_before = self
            .ranges
            .range(..start)
            .next_back()
            .is_some_and(|(_, &e)| e == start);
        let joins_after = self.ranges.contains_key(&end);
        self.ranges.len() + 1 - usize::from(joins_before) - usize::from(joins_after)
    }

    /// Copies a chunk into place (its range checked free) and records its range.
    fn fill(&mut self, start: usize, payload: &[u8]) {
        let end = start + payload.len();
        // In order (what peers do), this is one append into the reserved room: no byte
        // is written twice. Out of order, the gap up to the chunk is zero-filled first.
        if start > self.buf.len() {
            self.buf.resize(start, 0);
        }
        let inside = (self.buf.len() - start).min(payload.len());
        self.buf[start..start + inside].copy_from_slice(&payload[..inside]);
        self.buf.extend_from_slice(&payload[inside..]);
        self.received += payload.len();
        let mut range = (start, end);
        if let Some((&s, &e)) = self.ranges.range(..start).next_back() {
            if e == start {
                self.ranges.remove(&s);
                range.0 = s;
            }
        }
        if let Some(e) = self.ranges.remove(&end) {
            range.1 = e;
        }
        self.ranges.insert(range.0, range.1);
    }
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

    /// Bytes reserved for incomplete messages: their declared sizes, all together
    /// (bounded by [`DecodeLimits::partial_bytes`]).
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// Bytes of incomplete messages that actually arrived, all together.
    pub fn received_bytes(&self) -> usize {
        self.partials.values().map(|p| p.received).sum()
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
        let id = header.message_id;
        if !self.partials.contains_key(&id) {
            if offset == 0 && len == total {
                return Ok(Some(frame.slice(HEADER_LEN..)));
            }
            self.start(id, total, now)?;
        }
        let partial = self.partials.get_mut(&id).expect("started above");
        if partial.total() != total {
            let was = partial.total();
            self.drop_partial(id);
            return Err(CodecError::BadChunk(format!(
                "total size changed from {was} to {total} within message {id}"
            )));
        }
        if partial.overlaps(offset, offset + len) {
            self.drop_partial(id);
            return Err(CodecError::BadChunk(format!(
                "chunk at offset {offset} overlaps data already received"
            )));
        }
        if partial.runs_with(offset, offset + len) > self.limits.partial_runs {
            self.drop_partial(id);
            return Err(CodecError::TooManyPartials(format!(
                "message {id} arrived in more than {} separate runs",
                self.limits.partial_runs
            )));
        }
        partial.fill(offset, &frame[HEADER_LEN..]);
        if partial.received < total {
            return Ok(None);
        }
        let partial = self.partials.remove(&id).expect("present above");
        self.held_bytes -= total;
        debug_assert_eq!(
            partial.buf.len(),
            total,
            "disjoint ranges covering the message"
        );
        Ok(Some(partial.buf.freeze()))
    }

    /// Reserves the buffer of a new incomplete message, within the count and byte bounds.
    fn start(&mut self, id: u32, total: usize, now: Instant) -> Result<(), CodecError> {
        if self.partials.len() >= self.limits.partial_messages {
            return Err(CodecError::TooManyPartials(format!(
                "{} incomplete messages already held",
                self.partials.len()
            )));
        }
        let held = self.held_bytes + total;
        if held > self.limits.partial_bytes {
            return Err(CodecError::TooManyPartials(format!(
                "{held} bytes reserved by incomplete messages, limit {}",
                self.limits.partial_bytes
            )));
        }
        self.held_bytes = held;
        self.partials.insert(id, Partial::new(total, now));
        Ok(())
    }

    fn drop_partial(&mut self, message_id: u32) {
        if let Some(p) = self.partials.remove(&message_id) {
            self.held_bytes -= p.total();
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
        assert_eq!(
            (u.held_bytes(), u.received_bytes()),
            (513, 1),
            "the declared size is reserved"
        );
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
        assert_eq!((u.partial_count(), u.held_bytes()), (2, 200));
        assert_eq!(u.received_bytes(), 5);
        // 61 s later: message 1 is gone, message 2 (31 s old) stays.
        u.push_at(
            chunk(3, 0, 1, b"z"),
            t0 + std::time::Duration::from_secs(61),
        )
        .unwrap();
        assert_eq!((u.partial_count(), u.held_bytes()), (1, 100));
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
    fn partial_count_and_declared_bytes_are_bounded() {
        let limits = DecodeLimits {
            partial_messages: 3,
            partial_bytes: 250,
            ..DecodeLimits::default()
        };
        let mut u = authed(limits);
        u.push(chunk(1, 0, 100, b"a")).unwrap();
        u.push(chunk(2, 0, 100, b"a")).unwrap();
        // A third message declaring 100 bytes would reserve 300 > 250, though only 3
        // bytes arrived: refused before anything is allocated.
        let err = u.push(chunk(3, 0, 100, b"a")).unwrap_err();
        assert!(matches!(err, CodecError::TooManyPartials(_)), "{err}");
        assert_eq!((u.partial_count(), u.held_bytes()), (2, 200));
        // 50 more fit; then the count bound applies.
        u.push(chunk(3, 0, 50, b"a")).unwrap();
        assert!(
            matches!(
                u.push(chunk(4, 0, 1, b"a")).unwrap(),
                Some(ref m) if m == "a"
            ),
            "a whole message in one chunk reserves nothing"
        );
        assert!(matches!(
            u.push(chunk(4, 0, 2, b"a")),
            Err(CodecError::TooManyPartials(_))
        ));
        // Completing a message gives its reservation back.
        let rest = vec![b'b'; 99];
        assert_eq!(u.push(chunk(1, 1, 100, &rest)).unwrap().unwrap().len(), 100);
        assert_eq!((u.partial_count(), u.held_bytes()), (2, 150));
        u.push(chunk(5, 0, 100, b"a")).unwrap();
        assert_eq!(u.held_bytes(), 250);
    }

    #[test]
    fn separate_runs_of_one_message_are_bounded() {
        let limits = DecodeLimits {
            partial_runs: 3,
            ..DecodeLimits::default()
        };
        let mut u = authed(limits);
        for offset in [0u32, 2, 4] {
            u.push(chunk(1, offset, 100, b"x")).unwrap();
        }
        // Filling a hole joins two runs: still three at most.
        u.push(chunk(1, 1, 100, b"x")).unwrap();
        u.push(chunk(1, 6, 100, b"x")).unwrap();
        let err = u.push(chunk(1, 8, 100, b"x")).unwrap_err();
        assert!(matches!(err, CodecError::TooManyPartials(_)), "{err}");
        assert_eq!(
            (u.partial_count(), u.held_bytes()),
            (0, 0),
            "the message is dropped"
        );
        // In order, any number of chunks is one run.
        for offset in 0..100u32 {
            let out = u.push(chunk(2, offset, 100, b"y")).unwrap();
            assert_eq!(out.is_some(), offset == 99);
        }
    }

    #[test]
    fn the_default_limits_take_one_message_of_the_full_size() {
        let limits = DecodeLimits::default();
        let total = limits.message_size as u32;
        let mut u = authed(limits);
        assert_eq!(u.push(chunk(1, 0, total, b"x")).unwrap(), None);
        assert_eq!(u.held_bytes(), total as usize);
        assert!(matches!(
            u.push(chunk(2, 0, 2, b"x")),
            Err(CodecError::TooManyPartials(_))
        ));
    }

    #[test]
    fn chunks_are_copied_into_one_buffer_and_their_frames_released() {
        let mut u = authed(DecodeLimits::default());
        let message: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        // Out of order, in uneven pieces.
        let mut pieces: Vec<(usize, usize)> = vec![(6000, 10_000), (0, 1), (1, 4000), (4000, 6000)];
        let last = pieces.pop().unwrap();
        for (a, b) in pieces {
            let frame = chunk(9, a as u32, 10_000, &message[a..b]);
            let weak = frame.clone();
            assert_eq!(u.push(frame).unwrap(), None);
            assert!(
                weak.is_unique(),
                "the unchunker keeps no reference to the frame"
            );
        }
        let out = u
            .push(chunk(9, last.0 as u32, 10_000, &message[last.0..last.1]))
            .unwrap()
            .unwrap();
        assert_eq!(out, message);
        assert_eq!((u.partial_count(), u.held_bytes()), (0, 0));
    }
}
