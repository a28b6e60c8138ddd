//! 1.x frames → [`Message`]s: one connection's attachments, within limits.
//!
//! A [`JsonDecoder`] keeps two things between frames:
//!
//! * the *expected* keys, in order: announced by headers, waiting for their binary frame;
//! * the *received* attachments: key → bytes, waiting for the message that uses them.
//!
//! ```text
//! text header [k]   → k queued                       (no message yet)
//! binary b          → first queued key gets b        (no message yet)
//! text message      → strings equal to k become b, k forgotten → Message
//! ```
//!
//! Unlike the reference Python server (whose queue and store are shared by every
//! connection of an endpoint, so two clients uploading at once can swap their data), the
//! state belongs to one connection. Strings are swapped for bytes anywhere in the
//! message (arguments, keyword arguments, result, error data), however deep; a string
//! that looks like a key but has no received attachment stays a string. Every
//! occurrence of a key in the message gets the bytes, then the attachment is forgotten.
//! An error response discards every pending attachment, as the JS client does.
//!
//! Limits ([`DecodeLimits`]), checked before anything is kept:
//!
//! | what | limit | error |
//! |---|---|---|
//! | a text frame | `pre_auth_message_size` until authenticated, then `message_size` | [`CodecError::TooLarge`] |
//! | a binary frame | refused until authenticated; then `message_size` | [`CodecError::UnexpectedFrame`], [`CodecError::TooLarge`] |
//! | a binary frame nobody announced | — | [`CodecError::UnexpectedFrame`] |
//! | keys expected + attachments received | `attachments` | [`CodecError::TooManyPartials`] |
//! | bytes of received attachments | `partial_bytes` | [`CodecError::TooManyPartials`] |
//! | age of a received attachment | `partial_timeout` (then silently dropped) | — |
//! | JSON nesting | `max_depth` | [`CodecError::Malformed`] |

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Instant;

use bytes::Bytes;
use wslink_core::{CodecError, DecodeLimits, Decoder, Frame, Message, Response, Value};

use crate::attachment::{is_attachment_key, ATTACHMENT_METHOD};
use crate::read::parse_value;

#[derive(Debug)]
struct Received {
    data: Bytes,
    arrived: Instant,
}

/// One connection's 1.x decoder.
#[derive(Debug)]
pub struct JsonDecoder {
    limits: DecodeLimits,
    authenticated: bool,
    expected: VecDeque<String>,
    received: HashMap<String, Received>,
    held_bytes: usize,
}

impl JsonDecoder {
    /// A decoder for an unauthenticated connection.
    pub fn new(limits: DecodeLimits) -> Self {
        JsonDecoder {
            limits,
            authenticated: false,
            expected: VecDeque::new(),
            received: HashMap::new(),
            held_bytes: 0,
        }
    }

    /// The largest text frame accepted now.
    pub fn message_limit(&self) -> usize {
        if self.authenticated {
            self.limits.message_size
        } else {
            self.limits.pre_auth_message_size
        }
    }

    /// Keys announced by headers whose binary frame has not arrived yet, in order.
    pub fn expected_keys(&self) -> impl Iterator<Item = &str> {
        self.expected.iter().map(String::as_str)
    }

    /// Attachments received and not yet used by a message.
    pub fn received_count(&self) -> usize {
        self.received.len()
    }

    /// Bytes held in attachments received and not yet used.
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// Forgets every expected key and received attachment.
    pub fn clear(&mut self) {
        self.expected.clear();
        self.received.clear();
        self.held_bytes = 0;
    }

    /// Drops received attachments that arrived before `now - partial_timeout`; returns
    /// how many.
    pub fn expire(&mut self, now: Instant) -> usize {
        let Some(timeout) = self.limits.partial_timeout else {
            return 0;
        };
        let before = self.received.len();
        let held = &mut self.held_bytes;
        self.received.retain(|_, r| {
            let keep = now.saturating_duration_since(r.arrived) < timeout;
            if !keep {
                *held -= r.data.len();
            }
            keep
        });
        before - self.received.len()
    }

    /// [`Decoder::decode`] with the current time given (for tests).
    pub fn decode_at(&mut self, frame: Frame, now: Instant) -> Result<Option<Message>, CodecError> {
        if !self.received.is_empty() {
            self.expire(now);
        }
        match frame {
            Frame::Text(text) => self.text(&text),
            Frame::Binary(data) => self.binary(data, now).map(|()| None),
        }
    }

    fn text(&mut self, text: &str) -> Result<Option<Message>, CodecError> {
        let limit = self.message_limit();
        if text.len() > limit {
            return Err(CodecError::TooLarge {
                size: text.len(),
                limit,
            });
        }
        let mut value = parse_value(text, self.limits.max_depth)?;
        if let Some(keys) = header_keys(&value)? {
            self.expect(keys)?;
            return Ok(None);
        }
        if !self.received.is_empty() {
            self.attach(&mut value);
        }
        let message = Message::from_value(value)?;
        if let Message::Response(Response {
            outcome: Err(_), ..
        }) = &message
        {
            self.clear();
        }
        Ok(Some(message))
    }

    fn expect(&mut self, keys: Vec<String>) -> Result<(), CodecError> {
        let pending = self.expected.len() + self.received.len();
        if pending + keys.len() > self.limits.attachments {
            return Err(CodecError::TooManyPartials(format!(
                "{} attachments announced with {pending} pending, limit {}",
                keys.len(),
                self.limits.attachments
            )));
        }
        self.expected.extend(keys);
        Ok(())
    }

    fn binary(&mut self, data: Bytes, now: Instant) -> Result<(), CodecError> {
        if !self.authenticated {
            return Err(CodecError::UnexpectedFrame("binary before the hello"));
        }
        let Some(key) = self.expected.pop_front() else {
            return Err(CodecError::UnexpectedFrame("binary"));
        };
        let limit = self.limits.message_size;
        if data.len() > limit {
            return Err(CodecError::TooLarge {
                size: data.len(),
                limit,
            });
        }
        // A key announced again replaces its earlier, unused bytes.
        let replaced = self.received.get(&key).map_or(0, |r| r.data.len());
        let held = self.held_bytes - replaced + data.len();
        if held > self.limits.partial_bytes {
            return Err(CodecError::TooManyPartials(format!(
                "{held} bytes held in attachments, limit {}",
                self.limits.partial_bytes
            )));
        }
        self.held_bytes = held;
        self.received.insert(key, Received { data, arrived: now });
        Ok(())
    }

    /// Swaps strings naming received attachments for their bytes, then forgets them.
    fn attach(&mut self, message: &mut Value) {
        let Value::Map(map) = message else {
            return;
        };
        let mut used = HashSet::new();
        for (key, value) in map.iter_mut() {
            if !matches!(key.as_str(), "wslink" | "id" | "method") {
                swap_keys(value, &self.received, &mut used);
            }
        }
        for key in used {
            if let Some(r) = self.received.remove(&key) {
                self.held_bytes -= r.data.len();
            }
        }
    }
}

/// Replaces, anywhere in `value`, each string that is a key of `received`.
fn swap_keys(value: &mut Value, received: &HashMap<String, Received>, used: &mut HashSet<String>) {
    match value {
        Value::Str(s) => {
            if let Some(r) = received.get(s.as_str()) {
                let key = std::mem::take(s);
                *value = Value::Bin(r.data.clone());
                used.insert(key);
            }
        }
        Value::Array(items) => {
            for item in items {
                swap_keys(item, received, used);
            }
        }
        Value::Map(map) => {
            for item in map.values_mut() {
                swap_keys(item, received, used);
            }
        }
        _ => {}
    }
}

/// The keys of an attachment header (a map without `id` whose method is
/// `wslink.binary.attachment`), `None` for any other value.
fn header_keys(value: &Value) -> Result<Option<Vec<String>>, CodecError> {
    let Value::Map(map) = value else {
        return Ok(None);
    };
    if map.contains_key("id")
        || map.get("method").and_then(Value::as_str) != Some(ATTACHMENT_METHOD)
    {
        return Ok(None);
    }
    let bad = |why: &str| CodecError::Malformed(format!("attachment header: {why}"));
    let Some(Value::Array(args)) = map.get("args") else {
        return Err(bad("args must be a list of keys"));
    };
    args.iter()
        .map(|arg| match arg {
            Value::Str(key) if is_attachment_key(key) => Ok(key.clone()),
            Value::Str(key) => Err(bad(&format!("{key:?} is not a wslink_bin<N> key"))),
            other => Err(bad(&format!("a key cannot be {}", other.kind()))),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

impl Decoder for JsonDecoder {
    fn decode(&mut self, frame: Frame) -> Result<Option<Message>, CodecError> {
        self.decode_at(frame, Instant::now())
    }

    fn set_authenticated(&mut self, authenticated: bool) {
        self.authenticated = authenticated;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use wslink_core::{array, map, Request};

    const HEADER: &str =
        r#"{"wslink":"1.0","method":"wslink.binary.attachment","args":["wslink_bin1"]}"#;

    fn authed(limits: DecodeLimits) -> JsonDecoder {
        let mut d = JsonDecoder::new(limits);
        d.set_authenticated(true);
        d
    }

    fn text(s: &str) -> Frame {
        Frame::Text(s.to_owned())
    }

    fn bin(b: &'static [u8]) -> Frame {
        Frame::Binary(Bytes::from_static(b))
    }

    fn header(keys: &[&str]) -> Frame {
        let keys: Vec<Value> = keys.iter().map(|&k| k.into()).collect();
        let mut out = String::new();
        crate::write::write_value(
            &mut out,
            &map! {"wslink" => "1.0", "method" => ATTACHMENT_METHOD, "args" => Value::Array(keys)},
            crate::Style::Compact,
            &mut |_: &Bytes| unreachable!(),
        );
        Frame::Text(out)
    }

    #[test]
    fn attachments_are_swapped_in_at_any_depth_and_forgotten() {
        let mut d = authed(DecodeLimits::default());
        assert_eq!(
            d.decode(header(&["wslink_bin1", "wslink_bin2"])).unwrap(),
            None
        );
        assert_eq!(
            d.expected_keys().collect::<Vec<_>>(),
            ["wslink_bin1", "wslink_bin2"]
        );
        assert_eq!(d.decode(bin(b"one")).unwrap(), None);
        assert_eq!(d.decode(bin(b"two")).unwrap(), None);
        assert_eq!((d.received_count(), d.held_bytes()), (2, 6));
        let call = r#"{"id":"rpc:c1:0","method":"m","args":["wslink_bin1",["wslink_bin2"],"wslink_bin3"],
                       "kwargs":{"again":{"x":"wslink_bin1"}}}"#;
        let Some(Message::Request(r)) = d.decode(text(call)).unwrap() else {
            panic!()
        };
        let one = Value::Bin(Bytes::from_static(b"one"));
        assert_eq!(
            r.args,
            vec![
                one.clone(),
                array![Bytes::from_static(b"two")],
                "wslink_bin3".into()
            ]
        );
        assert_eq!(r.kwargs["again"], map! {"x" => one});
        assert_eq!((d.received_count(), d.held_bytes()), (0, 0));
        // Forgotten: the same key in a later message is just a string.
        let Some(Message::Request(r)) = d.decode(text(call)).unwrap() else {
            panic!()
        };
        assert_eq!(r.args[0], Value::from("wslink_bin1"));
    }

    #[test]
    fn the_whole_result_may_be_an_attachment() {
        let mut d = authed(DecodeLimits::default());
        d.decode(text(HEADER)).unwrap();
        d.decode(bin(b"\x89PNG")).unwrap();
        let got = d
            .decode(text(
                r#"{"wslink": "1.0", "id": "publish:image:0", "result": "wslink_bin1"}"#,
            ))
            .unwrap();
        assert_eq!(
            got,
            Some(Message::Publication(wslink_core::Publication {
                topic: "image".into(),
                counter: 0,
                data: Bytes::from_static(b"\x89PNG").into(),
            }))
        );
    }

    #[test]
    fn the_envelope_fields_are_never_swapped() {
        let mut d = authed(DecodeLimits::default());
        d.decode(text(HEADER)).unwrap();
        d.decode(bin(b"x")).unwrap();
        let got = d
            .decode(text(
                r#"{"id":"wslink_bin1","method":"wslink_bin1","args":[]}"#,
            ))
            .unwrap();
        assert_eq!(
            got,
            Some(Message::Request(Request {
                id: "wslink_bin1".into(),
                method: "wslink_bin1".into(),
                args: vec![],
                kwargs: Default::default(),
            }))
        );
        assert_eq!(d.received_count(), 1);
    }

    #[test]
    fn an_error_response_discards_pending_attachments() {
        let mut d = authed(DecodeLimits::default());
        d.decode(header(&["wslink_bin1", "wslink_bin2"])).unwrap();
        d.decode(bin(b"x")).unwrap();
        let err = r#"{"wslink": "1.0", "id": "rpc:c1:0", "error": {"code": -32001, "message": "Exception raised"}}"#;
        assert!(matches!(
            d.decode(text(err)).unwrap(),
            Some(Message::Response(Response {
                outcome: Err(_),
                ..
            }))
        ));
        assert_eq!(
            (
                d.expected_keys().count(),
                d.received_count(),
                d.held_bytes()
            ),
            (0, 0, 0)
        );
        assert_eq!(
            d.decode(bin(b"y")),
            Err(CodecError::UnexpectedFrame("binary"))
        );
    }

    #[test]
    fn binary_frames_need_authentication_and_an_announcement() {
        let mut d = JsonDecoder::new(DecodeLimits::default());
        d.decode(text(HEADER)).unwrap();
        assert_eq!(
            d.decode(bin(b"x")),
            Err(CodecError::UnexpectedFrame("binary before the hello"))
        );
        d.set_authenticated(true);
        assert_eq!(d.decode(bin(b"x")).unwrap(), None);
        assert_eq!(
            d.decode(bin(b"x")),
            Err(CodecError::UnexpectedFrame("binary"))
        );
    }

    #[test]
    fn size_limits_follow_authentication() {
        let limits = DecodeLimits {
            pre_auth_message_size: 100,
            message_size: 1000,
            ..DecodeLimits::default()
        };
        let mut d = JsonDecoder::new(limits);
        let big = format!(
            r#"{{"id":"x","method":"m","args":["{}"]}}"#,
            "a".repeat(100)
        );
        assert!(matches!(
            d.decode(text(&big)),
            Err(CodecError::TooLarge { limit: 100, .. })
        ));
        d.set_authenticated(true);
        assert!(d.decode(text(&big)).unwrap().is_some());
        d.decode(text(HEADER)).unwrap();
        assert_eq!(
            d.decode(Frame::Binary(Bytes::from(vec![0; 1001]))),
            Err(CodecError::TooLarge {
                size: 1001,
                limit: 1000
            })
        );
    }

    #[test]
    fn pending_attachments_are_bounded() {
        let limits = DecodeLimits {
            attachments: 3,
            partial_bytes: 10,
            ..DecodeLimits::default()
        };
        let mut d = authed(limits);
        d.decode(header(&["wslink_bin1", "wslink_bin2"])).unwrap();
        assert!(matches!(
            d.decode(header(&["wslink_bin3", "wslink_bin4"])),
            Err(CodecError::TooManyPartials(_))
        ));
        d.decode(header(&["wslink_bin3"])).unwrap();
        d.decode(Frame::Binary(Bytes::from(vec![0; 6]))).unwrap();
        assert!(matches!(
            d.decode(Frame::Binary(Bytes::from(vec![0; 5]))),
            Err(CodecError::TooManyPartials(_))
        ));
        assert_eq!(d.held_bytes(), 6);
        d.decode(Frame::Binary(Bytes::from(vec![0; 4]))).unwrap();
        assert_eq!(d.held_bytes(), 10);
    }

    #[test]
    fn reannounced_keys_replace_their_bytes() {
        let mut d = authed(DecodeLimits::default());
        for payload in [&b"first"[..], b"2nd"] {
            d.decode(text(HEADER)).unwrap();
            d.decode(Frame::Binary(Bytes::from_static(payload)))
                .unwrap();
        }
        assert_eq!((d.received_count(), d.held_bytes()), (1, 3));
    }

    #[test]
    fn unused_attachments_expire() {
        let mut d = authed(DecodeLimits {
            partial_timeout: Some(Duration::from_secs(60)),
            ..DecodeLimits::default()
        });
        let t0 = Instant::now();
        d.decode_at(text(HEADER), t0).unwrap();
        d.decode_at(bin(b"abc"), t0).unwrap();
        let call = text(r#"{"id":"i","method":"m","args":["wslink_bin1"]}"#);
        let Some(Message::Request(r)) = d.decode_at(call, t0 + Duration::from_secs(61)).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            r.args[0],
            Value::from("wslink_bin1"),
            "expired: stays a string"
        );
        assert_eq!(d.held_bytes(), 0);
    }

    #[test]
    fn malformed_headers_are_refused() {
        let mut d = authed(DecodeLimits::default());
        for h in [
            r#"{"method":"wslink.binary.attachment"}"#,
            r#"{"method":"wslink.binary.attachment","args":"wslink_bin1"}"#,
            r#"{"method":"wslink.binary.attachment","args":[1]}"#,
            r#"{"method":"wslink.binary.attachment","args":["bin1"]}"#,
        ] {
            assert!(
                matches!(d.decode(text(h)), Err(CodecError::Malformed(_))),
                "{h}"
            );
        }
        // With an id it is a request, not a header.
        let req = d
            .decode(text(
                r#"{"id":"x","method":"wslink.binary.attachment","args":["wslink_bin1"]}"#,
            ))
            .unwrap();
        assert!(matches!(req, Some(Message::Request(_))));
        assert_eq!(d.expected_keys().count(), 0);
        // Another map without an id is addressed to no one; a non-map is not an envelope.
        assert_eq!(
            d.decode(text(r#"{"method":"x"}"#)),
            Err(CodecError::Envelope(wslink_core::EnvelopeError::NoId))
        );
        assert!(matches!(
            d.decode(text("[1]")),
            Err(CodecError::Envelope(_))
        ));
    }
}
