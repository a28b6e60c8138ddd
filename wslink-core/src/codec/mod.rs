//! Codecs: [`Message`] ⇄ WebSocket frames.
//!
//! A codec owns one wire generation's encoding and framing: 2.x writes msgpack split into
//! chunks with a 12-byte header (crate `wslink-codec-msgpack`), 1.x writes JSON text frames
//! with binary attachments. Servers and clients see whole [`Message`]s only.
//!
//! Encoding is stateless (`&self`), so a publication is encoded once and the same
//! [`Encoded`] frames (shared [`Bytes`]) go to every subscriber. A large binary value is
//! not copied while encoding: a frame may be a [`BinaryParts`], small encoded runs and
//! slices of the value's own buffer, that the transport writes piece by piece. Decoding is
//! stateful: each connection gets its own [`Decoder`] that reassembles chunks within
//! [`DecodeLimits`].

use std::time::Duration;

mod binary_parts;
mod dyn_codec;
mod encoded;

pub use binary_parts::BinaryParts;
pub use dyn_codec::DynCodec;
pub use encoded::{Encoded, FrameRef};

use bytes::Bytes;

use crate::envelope::{EnvelopeError, Message};
use crate::transport::CloseCode;

/// One WebSocket data frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A binary frame.
    Binary(Bytes),
    /// A text frame (valid UTF-8).
    Text(String),
}

impl Frame {
    /// The payload length in bytes.
    pub fn len(&self) -> usize {
        match self {
            Frame::Binary(b) => b.len(),
            Frame::Text(t) => t.len(),
        }
    }

    /// `true` for an empty payload.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The wire generation a codec speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Generation {
    /// 1.x: JSON text frames, binary as attachments.
    V1,
    /// 2.x: msgpack in chunked binary frames.
    V2,
}

/// Limits a [`Decoder`] enforces before it allocates anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest message accepted before the hello succeeds (reference: 512 bytes).
    pub pre_auth_message_size: usize,
    /// Largest message accepted after the hello.
    pub message_size: usize,
    /// Bytes held for incomplete messages of one connection, all together. For 2.x, the
    /// declared size of each incomplete message counts from its first chunk on (one
    /// buffer of that size is reserved for it and filled as chunks arrive), so this also
    /// bounds what a peer can make us reserve without sending it; the default (the
    /// message size) lets a client send one message of the full size. For 1.x, the
    /// attachments received and not yet used.
    pub partial_bytes: usize,
    /// Incomplete messages held at once by one connection.
    pub partial_messages: usize,
    /// Separate runs of received bytes one incomplete message may have: chunks that
    /// arrive in order make one run, each hole left by a chunk that came early adds one.
    /// Bounds the bookkeeping a peer can cause with tiny out-of-order chunks.
    pub partial_runs: usize,
    /// 1.x attachments announced or received but not yet used by a message, per
    /// connection (a message with more binary values than this cannot be received).
    pub attachments: usize,
    /// An incomplete message older than this is dropped (its bytes freed); `None` keeps
    /// incomplete messages until the connection ends.
    pub partial_timeout: Option<Duration>,
    /// Nesting depth of arrays and maps in one message (protects the stack).
    pub max_depth: usize,
}

impl DecodeLimits {
    /// Default pre-auth message size, as `WSLINK_AUTH_MSG_SIZE` in the reference.
    pub const DEFAULT_PRE_AUTH_MESSAGE_SIZE: usize = 512;
    /// Default message size after the hello: 256 MiB.
    pub const DEFAULT_MESSAGE_SIZE: usize = 256 << 20;
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            pre_auth_message_size: Self::DEFAULT_PRE_AUTH_MESSAGE_SIZE,
            message_size: Self::DEFAULT_MESSAGE_SIZE,
            partial_bytes: Self::DEFAULT_MESSAGE_SIZE,
            partial_messages: 32,
            partial_runs: 1024,
            attachments: 1024,
            partial_timeout: Some(Duration::from_secs(60)),
            max_depth: 128,
        }
    }
}

/// Why a frame could not be decoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CodecError {
    /// A binary frame shorter than the chunk header.
    #[error("frame of {0} bytes is shorter than the 12-byte chunk header")]
    ShortFrame(usize),
    /// A message larger than the limit in force.
    #[error("message of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The declared (or actual) size.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// A chunk that does not fit its message (bad offset, size change, overlap).
    #[error("invalid chunk: {0}")]
    BadChunk(String),
    /// Too many incomplete messages, or too many bytes held in them.
    #[error("too many incomplete messages: {0}")]
    TooManyPartials(String),
    /// The message bytes are not a valid encoding.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// The message is not a wslink envelope.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// A frame of a type this generation does not use (text for 2.x, for example).
    #[error("unexpected {0} frame")]
    UnexpectedFrame(&'static str),
    /// The message could not be encoded.
    #[error("cannot encode message: {0}")]
    Encode(String),
}

impl CodecError {
    /// The WebSocket close code for a connection that sent this (the one place where
    /// decoding failures map to close codes).
    pub fn close_code(&self) -> CloseCode {
        match self {
            CodecError::TooLarge { .. } | CodecError::TooManyPartials(_) => CloseCode::TOO_BIG,
            CodecError::UnexpectedFrame(_) => CloseCode::UNSUPPORTED_DATA,
            CodecError::Encode(_) => CloseCode::INTERNAL_ERROR,
            CodecError::ShortFrame(_)
            | CodecError::BadChunk(_)
            | CodecError::Malformed(_)
            | CodecError::Envelope(_) => CloseCode::PROTOCOL_ERROR,
        }
    }
}

/// A wire generation's encoding and framing.
pub trait Codec: Clone + Send + Sync + 'static {
    /// The per-connection decoder.
    type Decoder: Decoder;

    /// The generation this codec speaks.
    fn generation(&self) -> Generation;

    /// Encodes a message into frames of at most `max_frame_size` bytes each (header
    /// included), where the generation splits messages; 0 means no limit.
    fn encode(&self, message: &Message, max_frame_size: usize) -> Result<Encoded, CodecError>;

    /// A decoder for one connection.
    fn decoder(&self, limits: DecodeLimits) -> Self::Decoder;
}

/// Turns one connection's incoming frames into messages.
pub trait Decoder: Send + 'static {
    /// Feeds one frame. Returns the message it completes, if any. An error means the
    /// connection sent something it must not (the caller decides whether to close).
    fn decode(&mut self, frame: Frame) -> Result<Option<Message>, CodecError>;

    /// Switches between the pre-auth and post-auth size limits.
    fn set_authenticated(&mut self, authenticated: bool);
}

impl<D: Decoder + ?Sized> Decoder for Box<D> {
    fn decode(&mut self, frame: Frame) -> Result<Option<Message>, CodecError> {
        (**self).decode(frame)
    }

    fn set_authenticated(&mut self, authenticated: bool) {
        (**self).set_authenticated(authenticated)
    }
}
