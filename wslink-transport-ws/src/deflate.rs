//! permessage-deflate (RFC 7692): what a connection offers or accepts.
//!
//! Compression is on by default, on both sides, as with the reference server (aiohttp's
//! `compress=True`). The server accepts the client's offer with the parameters of
//! [`Deflate`]; the client ([`connect_with`](crate::connect_with)) offers them. Either side
//! chooses per message: messages smaller than [`Deflate::threshold`] go out uncompressed.
//!
//! # Memory
//!
//! A zlib compressor with a 15-bit window holds about 256 KiB, a decompressor about
//! 40 KiB. With context takeover every connection keeps both for its whole life, which
//! for 10 000 connections is gigabytes. So by default both directions run *without*
//! context takeover and borrow their state from a pool shared by the listener's
//! connections ([`Deflate::pool_size`]) for one message at a time: an idle connection
//! holds no zlib state at all. Context takeover compresses repeated traffic better; turn
//! it on with [`Deflate::server_context_takeover`] and
//! [`Deflate::client_context_takeover`] when there are few connections.
//!
//! # Limits
//!
//! Inflating is bounded by the same `max_message_size` as everything else: a small frame
//! that would inflate past it is refused while inflating, before the memory is used, and
//! the connection is closed with 1009 (message too big).

use yawc::{CompressionLevel, DeflateOptions, DeflatePool};

/// permessage-deflate settings of a listener ([`HttpOptions::deflate`]) or a client
/// ([`ConnectOptions::deflate`]).
///
/// [`HttpOptions::deflate`]: crate::HttpOptions::deflate
/// [`ConnectOptions::deflate`]: crate::ConnectOptions::deflate
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deflate {
    /// Offer (client) or accept (server) permessage-deflate (default `true`; the
    /// reference's `--no-ws-compress` turns it off).
    pub enabled: bool,
    /// zlib compression level, 0 to 9 (default 1: the fastest, which already shrinks
    /// wslink's maps and number arrays several-fold).
    pub level: u32,
    /// Messages with fewer bytes than this are sent uncompressed (default 256).
    pub threshold: usize,
    /// Keep the server's compression context from one message to the next (default
    /// `false`: the server answers `server_no_context_takeover`).
    pub server_context_takeover: bool,
    /// Let the client keep its compression context (default `false`: the server asks
    /// for `client_no_context_takeover`, and a client with this off offers it).
    pub client_context_takeover: bool,
    /// LZ77 window of the server's compressor, 9 to 15 bits (default `None`: 15).
    pub server_max_window_bits: Option<u8>,
    /// LZ77 window of the client's compressor, 9 to 15 bits (default `None`: 15).
    pub client_max_window_bits: Option<u8>,
    /// zlib states a listener keeps idle for reuse between messages without context
    /// takeover (default 64, per window size and direction; 0 makes a new state per
    /// message). A client's connections keep their own.
    pub pool_size: usize,
}

impl Default for Deflate {
    fn default() -> Self {
        Deflate {
            enabled: true,
            level: 1,
            threshold: 256,
            server_context_takeover: false,
            client_context_takeover: false,
            server_max_window_bits: None,
            client_max_window_bits: None,
            pool_size: 64,
        }
    }
}

impl Deflate {
    /// No compression: nothing offered, every offer refused.
    pub fn off() -> Self {
        Deflate {
            enabled: false,
            ..Deflate::default()
        }
    }

    /// The yawc settings, with `pool` shared by the connections made with them (a
    /// client's connections keep their own states).
    pub(crate) fn options(&self, pool: Option<&DeflatePool>) -> Option<DeflateOptions> {
        if !self.enabled {
            return None;
        }
        Some(DeflateOptions {
            level: CompressionLevel::new(self.level.min(9)),
            server_max_window_bits: self.server_max_window_bits,
            client_max_window_bits: self.client_max_window_bits,
            server_no_context_takeover: !self.server_context_takeover,
            client_no_context_takeover: !self.client_context_takeover,
            compression_threshold: self.threshold,
            pool: pool.cloned(),
        })
    }

    /// The pool the connections of one listener (or one client options) share.
    pub(crate) fn pool(&self) -> DeflatePool {
        DeflatePool::new(self.pool_size)
    }
}

/// Whether a `Sec-WebSocket-Extensions` value agrees on permessage-deflate.
pub(crate) fn negotiated(extensions: Option<&str>) -> bool {
    extensions.is_some_and(|value| {
        value
            .split(',')
            .any(|ext| ext.split(';').next().map(str::trim) == Some("permessage-deflate"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_offers_nothing_and_defaults_skip_takeover() {
        let pool = DeflatePool::new(1);
        assert!(Deflate::off().options(Some(&pool)).is_none());
        let on = Deflate::default()
            .options(Some(&pool))
            .expect("on by default");
        assert!(on.server_no_context_takeover && on.client_no_context_takeover);
        assert_eq!(on.compression_threshold, 256);
    }

    #[test]
    fn negotiation_is_read_from_the_header() {
        assert!(negotiated(Some(
            "permessage-deflate; client_max_window_bits"
        )));
        assert!(negotiated(Some("x-foo, permessage-deflate")));
        assert!(!negotiated(Some("x-webkit-deflate-frame")));
        assert!(!negotiated(None));
    }
}
