//! The wslink 2.x codec: msgpack envelopes split into chunked binary frames.
//!
//! Every message is one msgpack map, split into WebSocket binary frames of at most
//! `max_frame_size` bytes, each starting with a 12-byte header (message id, offset, total
//! size; see [`header`]). Receivers reassemble with an [`Unchunker`], which accepts chunks
//! in any order and interleaved, and enforces the [`DecodeLimits`] before it keeps
//! anything. The bytes are the reference peers' bytes (same key order, same integer and
//! float forms).
//!
//! Large binaries are not copied on the way out: a message holding a binary of
//! [`SHARED_BIN_MIN`] bytes or more is encoded as a [`Rope`] and its chunk frames are
//! [`BinaryParts`](wslink_core::BinaryParts), a header followed by slices of the binary's
//! own buffer ([`rope`]). On the way in, the [`Unchunker`] copies each chunk once, into
//! one buffer reserved for the message ([`unchunker`]).
//!
//! ```
//! use wslink_codec_msgpack::MsgpackCodec;
//! use wslink_core::{Bytes, Codec, DecodeLimits, Decoder, Message, Request, Value};
//!
//! let codec = MsgpackCodec::new();
//! let call = Message::Request(Request {
//!     id: "rpc:c1:0".into(),
//!     method: "test.echo".into(),
//!     args: vec![Value::Bin(Bytes::from(vec![7u8; 100_000]))],
//!     kwargs: Default::default(),
//! });
//! let frames = codec.encode(&call, 4096).unwrap();
//! assert!(frames.frame_count() > 1);
//!
//! let mut decoder = codec.decoder(DecodeLimits::default());
//! decoder.set_authenticated(true); // lift the 512-byte pre-auth limit
//! let mut received = None;
//! for frame in frames.to_frames() {
//!     received = decoder.decode(frame).unwrap();
//! }
//! assert_eq!(received, Some(call));
//! ```

pub mod chunker;
pub mod decode;
pub mod encode;
pub mod header;
pub mod rope;
pub mod unchunker;

use wslink_core::{Codec, CodecError, DecodeLimits, Decoder, Encoded, Frame, Generation, Message};

pub use chunker::{chunk, chunk_rope, frames_in_place, payload_per_frame};
pub use decode::{decode_message, decode_value};
pub use encode::{encode_gapped, encode_message, encode_value, GappedWriter, Out};
pub use header::{ChunkHeader, HEADER_LEN};
pub use rope::{encode_rope, Rope, RopeWriter, SHARED_BIN_MIN};
pub use unchunker::Unchunker;

pub use wslink_core::defaults::{CLIENT_PRE_HELLO_FRAME_SIZE, DEFAULT_MAX_FRAME_SIZE};

/// The 2.x codec.
#[derive(Debug, Clone, Copy, Default)]
pub struct MsgpackCodec {
    _private: (),
}

impl MsgpackCodec {
    /// The codec.
    pub fn new() -> Self {
        MsgpackCodec { _private: () }
    }
}

impl Codec for MsgpackCodec {
    type Decoder = MsgpackDecoder;

    fn generation(&self) -> Generation {
        Generation::V2
    }

    fn encode(&self, message: &Message, max_frame_size: usize) -> Result<Encoded, CodecError> {
        // One walk says how large the message is and whether it holds a large binary.
        let hint = encode::size_hint(message);
        // A message with a large binary: the binary is sent from its own buffer, each
        // frame a header and slices (see `rope`).
        if hint.largest_bin >= SHARED_BIN_MIN {
            let rope = encode_rope(message, SHARED_BIN_MIN)?;
            return chunk_rope(&rope, rand::random(), max_frame_size);
        }
        // Else written with a gap before every chunk's payload, so the frames are slices
        // of one buffer (the message is not copied again to be chunked).
        let payload = payload_per_frame(max_frame_size);
        let buf = encode::encode_gapped_sized(message, payload, hint.bytes)?;
        frames_in_place(buf, rand::random(), payload)
    }

    fn decoder(&self, limits: DecodeLimits) -> MsgpackDecoder {
        MsgpackDecoder {
            max_depth: limits.max_depth,
            unchunker: Unchunker::new(limits),
        }
    }
}

/// One connection's 2.x decoder: an [`Unchunker`] followed by msgpack decoding.
#[derive(Debug)]
pub struct MsgpackDecoder {
    unchunker: Unchunker,
    max_depth: usize,
}

impl MsgpackDecoder {
    /// The reassembly state (for inspection and limits).
    pub fn unchunker(&self) -> &Unchunker {
        &self.unchunker
    }
}

impl Decoder for MsgpackDecoder {
    fn decode(&mut self, frame: Frame) -> Result<Option<Message>, CodecError> {
        let bytes = match frame {
            Frame::Binary(bytes) => bytes,
            Frame::Text(_) => return Err(CodecError::UnexpectedFrame("text")),
        };
        let Some(message) = self.unchunker.push(bytes)? else {
            return Ok(None);
        };
        decode_message(&message, self.max_depth).map(Some)
    }

    fn set_authenticated(&mut self, authenticated: bool) {
        self.unchunker.set_authenticated(authenticated);
    }
}
