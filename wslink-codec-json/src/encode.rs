//! [`Message`] → 1.x frames: attachments first, then the JSON text.
//!
//! The envelope is written with the keys in the reference order (see
//! [`Message::into_value`]) without first building it as a [`Value`](wslink_core::Value).
//! Every [`Value::Bin`](wslink_core::Value::Bin) met on the way, at any depth, gets a
//! fresh key from [`AttachmentKeys`]; the key goes into the text and the bytes go into
//! a binary frame, announced by a header, before the message:
//!
//! ```text
//! [header(k0), binary(b0), header(k1), binary(b1), …, message]
//! ```
//!
//! The binary frames share the message's [`Bytes`]: nothing is copied. The same bytes
//! appearing twice become two attachments (the receiver forgets an attachment once a
//! message used it).

use bytes::Bytes;
use wslink_core::envelope::WSLINK_VERSION;
use wslink_core::id::publish_id;
use wslink_core::{Encoded, Frame, Message};

use crate::attachment::{AttachmentKeys, ATTACHMENT_METHOD};
use crate::write::{write_array, write_map, write_str, write_value, Style};

/// Encodes `message` as 1.x frames, attachment keys taken from `keys`.
pub fn encode_message(message: &Message, style: Style, keys: &AttachmentKeys) -> Encoded {
    let mut frames = Vec::new();
    let mut attach = |data: &Bytes| {
        let key = keys.next_key();
        frames.push(Frame::Text(attachment_header(&key, style)));
        frames.push(Frame::Binary(data.clone()));
        key
    };
    let mut text = String::with_capacity(128);
    let mut entries = Entries::open(&mut text, style);
    entries.str("wslink", WSLINK_VERSION);
    match message {
        Message::Request(r) => {
            entries.str("id", &r.id);
            entries.str("method", &r.method);
            write_array(entries.key("args"), &r.args, style, &mut attach);
            write_map(entries.key("kwargs"), &r.kwargs, style, &mut attach);
        }
        Message::Response(r) => {
            entries.str("id", &r.id);
            match &r.outcome {
                Ok(result) => write_value(entries.key("result"), result, style, &mut attach),
                Err(error) => {
                    write_value(entries.key("error"), &error.to_value(), style, &mut attach)
                }
            }
        }
        Message::Publication(p) => {
            entries.str("id", &publish_id(&p.topic, p.counter));
            write_value(entries.key("result"), &p.data, style, &mut attach);
        }
    }
    entries.close();
    frames.push(Frame::Text(text));
    frames.into()
}

/// The header text announcing the attachment `key`:
/// `{"wslink":"1.0","method":"wslink.binary.attachment","args":["<key>"]}`.
pub fn attachment_header(key: &str, style: Style) -> String {
    let mut text = String::with_capacity(96);
    let mut entries = Entries::open(&mut text, style);
    entries.str("wslink", WSLINK_VERSION);
    entries.str("method", ATTACHMENT_METHOD);
    let out = entries.key("args");
    out.push('[');
    write_str(out, key);
    out.push(']');
    entries.close();
    text
}

/// Writes a JSON object entry by entry, separators included.
struct Entries<'a> {
    out: &'a mut String,
    style: Style,
    first: bool,
}

impl<'a> Entries<'a> {
    fn open(out: &'a mut String, style: Style) -> Self {
        out.push('{');
        Entries {
            out,
            style,
            first: true,
        }
    }

    /// Writes the key of the next entry and returns the text for its value.
    fn key(&mut self, key: &str) -> &mut String {
        if !self.first {
            self.out.push_str(self.style.item_separator());
        }
        self.first = false;
        write_str(self.out, key);
        self.out.push_str(self.style.key_separator());
        self.out
    }

    fn str(&mut self, key: &str, value: &str) {
        write_str(self.key(key), value);
    }

    fn close(self) {
        self.out.push('}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wslink_core::{map, Publication, Request, Response, Value, WireError};

    fn texts(encoded: &Encoded) -> Vec<String> {
        encoded
            .to_frames()
            .iter()
            .map(|f| match f {
                Frame::Text(t) => t.clone(),
                Frame::Binary(b) => format!("bin{:?}", b.as_ref()),
            })
            .collect()
    }

    #[test]
    fn same_text_as_serialising_into_value() {
        let messages = [
            Message::Request(Request {
                id: "rpc:c1:0".into(),
                method: "a.b".into(),
                args: vec![1.into(), "x".into(), map! {"k" => 2.5}],
                kwargs: [("z".to_owned(), Value::Nil), ("a".to_owned(), true.into())]
                    .into_iter()
                    .collect(),
            }),
            Message::Response(Response {
                id: "rpc:c1:0".into(),
                outcome: Err(WireError::new(-32001, "Exception raised").with_data("m")),
            }),
            Message::Publication(Publication {
                topic: "t.x".into(),
                counter: 4,
                data: map! {"v" => Value::Nil},
            }),
        ];
        for style in [Style::Compact, Style::Python] {
            for message in &messages {
                let mut via_value = String::new();
                write_value(
                    &mut via_value,
                    &message.clone().into_value(),
                    style,
                    &mut |_: &Bytes| unreachable!(),
                );
                let encoded = encode_message(message, style, &AttachmentKeys::new());
                assert_eq!(texts(&encoded), [via_value]);
            }
        }
    }

    #[test]
    fn binaries_become_header_and_frame_pairs_before_the_message() {
        let a = Bytes::from_static(b"\x00\x01");
        let message = Message::Request(Request {
            id: "rpc:c1:0".into(),
            method: "up".into(),
            args: vec![a.clone().into()],
            kwargs: [("deep".to_owned(), map! {"x" => Bytes::from_static(b"\x02")})]
                .into_iter()
                .collect(),
        });
        let encoded = encode_message(&message, Style::Compact, &AttachmentKeys::new());
        assert_eq!(
            texts(&encoded),
            [
                r#"{"wslink":"1.0","method":"wslink.binary.attachment","args":["wslink_bin0"]}"#,
                "bin[0, 1]",
                r#"{"wslink":"1.0","method":"wslink.binary.attachment","args":["wslink_bin1"]}"#,
                "bin[2]",
                r#"{"wslink":"1.0","id":"rpc:c1:0","method":"up","args":["wslink_bin0"],"kwargs":{"deep":{"x":"wslink_bin1"}}}"#,
            ]
        );
        let Frame::Binary(sent) = encoded.to_frames()[1].clone() else {
            panic!()
        };
        assert_eq!(sent.as_ptr(), a.as_ptr(), "binary frames share the bytes");
    }

    #[test]
    fn a_message_without_binary_is_one_frame() {
        let message = Message::Response(Response {
            id: "x".into(),
            outcome: Ok(Value::Nil),
        });
        let encoded = encode_message(&message, Style::Python, &AttachmentKeys::new());
        assert!(
            matches!(encoded, Encoded::One(Frame::Text(ref t)) if t == r#"{"wslink": "1.0", "id": "x", "result": null}"#)
        );
    }
}
