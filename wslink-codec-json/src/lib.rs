//! The wslink 1.x codec: JSON text frames, binary values as attachments.
//!
//! In 1.x every message is one WebSocket **text** frame holding the JSON envelope. JSON
//! has no binary type, so each binary value travels as its own **binary** frame, an
//! *attachment*, sent before the message and announced by a header message; the message
//! holds the attachment's key, a string `wslink_bin<N>`, where the bytes belong (see
//! [`attachment`]):
//!
//! ```text
//! text   {"wslink":"1.0","method":"wslink.binary.attachment","args":["wslink_bin0"]}
//! binary 00 01 02
//! text   {"wslink":"1.0","id":"rpc:c1:1","result":{"blob":"wslink_bin0","n":3}}
//! ```
//!
//! A receiver queues the announced keys, gives each binary frame the first queued key,
//! and puts the bytes back in place of the key when the message arrives. There is no
//! chunking: a message is one frame whatever its size, so the `max_frame_size` argument
//! of [`Codec::encode`] is ignored.
//!
//! | module | stage |
//! |---|---|
//! | [`write`](mod@write) | [`Value`](wslink_core::Value) → JSON text, as the reference peers write it ([`Style`]) |
//! | [`encode`] | [`Message`] → frames, binaries swapped for keys |
//! | [`read`] | JSON text → value, with the `NaN`/`Infinity` tokens and a depth limit |
//! | [`decode`] | frames → [`Message`], keys swapped back for binaries, within [`DecodeLimits`] |
//!
//! ```
//! use wslink_codec_json::JsonCodec;
//! use wslink_core::{map, Bytes, Codec, DecodeLimits, Decoder, Frame, Message, Response};
//!
//! let codec = JsonCodec::new();
//! let reply = Message::Response(Response {
//!     id: "rpc:c1:1".into(),
//!     outcome: Ok(map! { "blob" => Bytes::from_static(&[0, 1, 2]), "n" => 3 }),
//! });
//! let encoded = codec.encode(&reply, 0).unwrap();
//! let frames = encoded.to_frames();
//! assert_eq!(frames.len(), 3); // header, binary, message
//! assert_eq!(frames[1], Frame::Binary(Bytes::from_static(&[0, 1, 2])));
//! assert_eq!(
//!     frames[2],
//!     Frame::Text(r#"{"wslink":"1.0","id":"rpc:c1:1","result":{"blob":"wslink_bin0","n":3}}"#.into())
//! );
//!
//! let mut decoder = codec.decoder(DecodeLimits::default());
//! decoder.set_authenticated(true); // binary frames are refused before the hello
//! let mut received = None;
//! for frame in frames {
//!     received = decoder.decode(frame.clone()).unwrap();
//! }
//! assert_eq!(received, Some(reply));
//! ```

pub mod attachment;
pub mod decode;
pub mod encode;
pub mod read;
pub mod write;

use wslink_core::{Codec, CodecError, DecodeLimits, Encoded, Generation, Message};

pub use attachment::{is_attachment_key, AttachmentKeys, ATTACHMENT_METHOD};
pub use decode::JsonDecoder;
pub use encode::{attachment_header, encode_message};
pub use read::parse_value;
pub use write::{write_value, Style};

/// The 1.x codec.
///
/// Clones share one attachment key counter, so a server can encode a publication once
/// and send the same frames on every connection.
#[derive(Debug, Clone, Default)]
pub struct JsonCodec {
    style: Style,
    keys: AttachmentKeys,
}

impl JsonCodec {
    /// A codec writing compact JSON (as the JS client does), keys from `wslink_bin0`.
    pub fn new() -> Self {
        Self::default()
    }

    /// A codec writing JSON with this spacing. [`Style::Python`] gives the reference
    /// server's exact text.
    pub fn with_style(style: Style) -> Self {
        JsonCodec {
            style,
            keys: AttachmentKeys::new(),
        }
    }

    /// The same codec with its attachment keys taken from `keys`.
    pub fn with_keys(self, keys: AttachmentKeys) -> Self {
        JsonCodec { keys, ..self }
    }

    /// The spacing this codec writes.
    pub fn style(&self) -> Style {
        self.style
    }
}

impl Codec for JsonCodec {
    type Decoder = JsonDecoder;

    fn generation(&self) -> Generation {
        Generation::V1
    }

    /// Encodes `message` as `[header, binary]*` followed by the JSON text.
    /// `max_frame_size` is ignored: 1.x has no chunking.
    fn encode(&self, message: &Message, _max_frame_size: usize) -> Result<Encoded, CodecError> {
        Ok(encode_message(message, self.style, &self.keys))
    }

    fn decoder(&self, limits: DecodeLimits) -> JsonDecoder {
        JsonDecoder::new(limits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wslink_core::{Decoder, Frame, Response, Value};

    #[test]
    fn clones_hand_out_different_keys() {
        let codec = JsonCodec::with_style(Style::Python);
        let clone = codec.clone();
        let msg = Message::Response(Response {
            id: "x".into(),
            outcome: Ok(Value::Bin(bytes::Bytes::from_static(b"b"))),
        });
        let last = |e: Encoded| match e.to_frames().last() {
            Some(Frame::Text(t)) => t.clone(),
            _ => panic!(),
        };
        assert!(last(codec.encode(&msg, 0).unwrap()).ends_with(r#""result": "wslink_bin0"}"#));
        assert!(last(clone.encode(&msg, 0).unwrap()).ends_with(r#""result": "wslink_bin1"}"#));
        assert_eq!(codec.generation(), Generation::V1);
        assert_eq!(clone.style(), Style::Python);
    }

    #[test]
    fn an_extension_travels_as_a_type_and_data_map() {
        use wslink_core::{map, Ext, Timestamp};
        let codec = JsonCodec::new();
        let when = Timestamp::new(1_700_000_000, 5).unwrap();
        let msg = Message::Response(Response {
            id: "x".into(),
            outcome: Ok(map! { "at" => when, "raw" => Ext::new(9, &b"ab"[..]) }),
        });
        let frames = codec.encode(&msg, 0).unwrap();
        let mut decoder = codec.decoder(DecodeLimits::default());
        decoder.set_authenticated(true);
        let mut got = None;
        for frame in frames.to_frames() {
            got = decoder.decode(frame.clone()).unwrap().or(got);
        }
        let Some(Message::Response(r)) = got else {
            panic!("a response, got {got:?}")
        };
        let result = r.outcome.unwrap();
        assert_eq!(
            result["raw"],
            map! { "type" => 9, "data" => bytes::Bytes::from_static(b"ab") }
        );
        assert_eq!(result["at"]["type"], Value::Int(-1));
        assert_eq!(
            Timestamp::from_ext_data(result["at"]["data"].as_bytes().unwrap()),
            Some(when)
        );
    }
}
