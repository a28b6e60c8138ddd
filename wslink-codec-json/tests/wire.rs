//! The 1.x frames (docs/protocol.md#1x-framing), pinned: what the Python server and the JS
//! client write and read.

use wslink_codec_json::{JsonCodec, Style};
use wslink_core::{
    array, map, Bytes, Codec, CodecError, DecodeLimits, Decoder, Frame, Map, Message, Publication,
    Request, Response, Value,
};

const CLIENT: &str = "c0123456789abcdef0123456789abcdef";

fn frames(codec: &JsonCodec, message: &Message) -> Vec<Frame> {
    codec.encode(message, 0).unwrap().to_frames()
}

fn text(s: &str) -> Frame {
    Frame::Text(s.to_owned())
}

fn authed() -> wslink_codec_json::JsonDecoder {
    let mut d = JsonCodec::new().decoder(DecodeLimits::default());
    d.set_authenticated(true);
    d
}

fn hello() -> Message {
    Message::Request(Request {
        id: "system:c0:0".into(),
        method: "wslink.hello".into(),
        args: vec![map! { "secret" => "s3" }],
        kwargs: Map::new(),
    })
}

#[test]
fn hello_request_as_the_js_client_writes_it() {
    let want = r#"{"wslink":"1.0","id":"system:c0:0","method":"wslink.hello","args":[{"secret":"s3"}],"kwargs":{}}"#;
    assert_eq!(frames(&JsonCodec::new(), &hello()), [text(want)]);
    // It fits the 512-byte pre-auth limit and decodes before authentication.
    let mut d = JsonCodec::new().decoder(DecodeLimits::default());
    assert_eq!(d.decode(text(want)).unwrap(), Some(hello()));
}

#[test]
fn hello_request_in_python_style() {
    let want = r#"{"wslink": "1.0", "id": "system:c0:0", "method": "wslink.hello", "args": [{"secret": "s3"}], "kwargs": {}}"#;
    assert_eq!(
        frames(&JsonCodec::with_style(Style::Python), &hello()),
        [text(want)]
    );
}

#[test]
fn hello_reply_has_no_max_msg_size() {
    let reply = Message::Response(Response {
        id: "system:c0:0".into(),
        outcome: Ok(map! { "clientID" => CLIENT }),
    });
    let python = format!(
        r#"{{"wslink": "1.0", "id": "system:c0:0", "result": {{"clientID": "{CLIENT}"}}}}"#
    );
    let compact =
        format!(r#"{{"wslink":"1.0","id":"system:c0:0","result":{{"clientID":"{CLIENT}"}}}}"#);
    assert_eq!(
        frames(&JsonCodec::with_style(Style::Python), &reply),
        [text(&python)]
    );
    assert_eq!(frames(&JsonCodec::new(), &reply), [text(&compact)]);
    for wire in [python, compact] {
        let mut d = JsonCodec::new().decoder(DecodeLimits::default());
        assert_eq!(d.decode(text(&wire)).unwrap(), Some(reply.clone()));
    }
}

#[test]
fn hello_failure_as_the_python_server_writes_it() {
    let failure = Message::Response(Response {
        id: "system:c0:0".into(),
        outcome: Err(wslink_core::WireError::new(-32000, "Authentication failed")),
    });
    assert_eq!(
        frames(&JsonCodec::with_style(Style::Python), &failure),
        [text(
            r#"{"wslink": "1.0", "id": "system:c0:0", "error": {"code": -32000, "message": "Authentication failed"}}"#
        )]
    );
}

/// What the Python 1.x server sends, seen on the wire, for
/// `return {"blob": addAttachment(b"\x00\x01\x02"), "n": 3}` (docs/protocol.md#attachments).
#[test]
fn result_with_one_attachment() {
    let result = Message::Response(Response {
        id: "rpc:c1:1".into(),
        outcome: Ok(map! { "blob" => Bytes::from_static(&[0, 1, 2]), "n" => 3 }),
    });
    let want = [
        text(r#"{"wslink": "1.0", "method": "wslink.binary.attachment", "args": ["wslink_bin0"]}"#),
        Frame::Binary(Bytes::from_static(&[0, 1, 2])),
        text(r#"{"wslink": "1.0", "id": "rpc:c1:1", "result": {"blob": "wslink_bin0", "n": 3}}"#),
    ];
    let codec = JsonCodec::with_style(Style::Python);
    assert_eq!(frames(&codec, &result), want);

    let mut d = authed();
    assert_eq!(d.decode(want[0].clone()).unwrap(), None);
    assert_eq!(d.decode(want[1].clone()).unwrap(), None);
    assert_eq!(d.decode(want[2].clone()).unwrap(), Some(result.clone()));

    // The next message from the same codec uses the next key.
    assert_eq!(
        frames(&codec, &result)[0],
        text(r#"{"wslink": "1.0", "method": "wslink.binary.attachment", "args": ["wslink_bin1"]}"#)
    );
}

#[test]
fn non_finite_floats_are_bare_tokens() {
    let result = Message::Response(Response {
        id: "rpc:c1:2".into(),
        outcome: Ok(array![
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            2.0,
            1e16,
            0.1
        ]),
    });
    assert_eq!(
        frames(&JsonCodec::new(), &result),
        [text(
            r#"{"wslink":"1.0","id":"rpc:c1:2","result":[NaN,Infinity,-Infinity,2.0,1e+16,0.1]}"#
        )]
    );
    assert_eq!(
        frames(&JsonCodec::with_style(Style::Python), &result),
        [text(
            r#"{"wslink": "1.0", "id": "rpc:c1:2", "result": [NaN, Infinity, -Infinity, 2.0, 1e+16, 0.1]}"#
        )]
    );
}

#[test]
fn reads_the_python_server_style() {
    let wire = "{\"wslink\": \"1.0\", \"id\": \"publish:chat.room:0\", \"result\": \
                {\"text\": \"héllo ✓ 😀\", \"n\": [1, 2.5, -Infinity, NaN], \"big\": 18446744073709551615, \
                \"esc\": \"tab\\there \\u00e9\"}}";
    let Some(Message::Publication(p)) = authed().decode(text(wire)).unwrap() else {
        panic!("a publication")
    };
    assert_eq!((p.topic.as_str(), p.counter), ("chat.room", 0));
    assert_eq!(p.data["text"], Value::from("héllo ✓ 😀"));
    assert_eq!(p.data["n"][0], Value::Int(1));
    assert_eq!(p.data["n"][1], Value::Float(2.5));
    assert_eq!(p.data["n"][2], Value::Float(f64::NEG_INFINITY));
    assert!(p.data["n"][3].as_f64().unwrap().is_nan());
    assert_eq!(p.data["big"], Value::UInt(u64::MAX));
    assert_eq!(p.data["esc"], Value::from("tab\there é"));
}

#[test]
fn reads_the_js_client_style_with_attachments_numbered_from_one() {
    let id = format!("rpc:{CLIENT}:0");
    let wire = [
        text(r#"{"wslink":"1.0","method":"wslink.binary.attachment","args":["wslink_bin1"]}"#),
        Frame::Binary(Bytes::from_static(b"first")),
        text(r#"{"wslink":"1.0","method":"wslink.binary.attachment","args":["wslink_bin2"]}"#),
        Frame::Binary(Bytes::from_static(b"second")),
        Frame::Text(format!(
            r#"{{"wslink":"1.0","id":"{id}","method":"file.upload","args":["wslink_bin1",null],"kwargs":{{"meta":{{"thumb":"wslink_bin2","name":"wslink_bin9"}}}}}}"#
        )),
    ];
    let mut d = authed();
    let mut got = None;
    for frame in wire {
        got = d.decode(frame).unwrap();
    }
    let want = Message::Request(Request {
        id,
        method: "file.upload".into(),
        args: vec![Bytes::from_static(b"first").into(), Value::Nil],
        kwargs: [(
            "meta".to_owned(),
            // A key-like string without an attachment stays a string.
            map! { "thumb" => Bytes::from_static(b"second"), "name" => "wslink_bin9" },
        )]
        .into_iter()
        .collect(),
    });
    assert_eq!(got, Some(want));
    assert_eq!((d.received_count(), d.held_bytes()), (0, 0));
}

#[test]
fn reads_a_publication_whose_whole_result_is_an_attachment() {
    let mut d = authed();
    d.decode(text(
        r#"{"wslink": "1.0", "method": "wslink.binary.attachment", "args": ["wslink_bin4"]}"#,
    ))
    .unwrap();
    d.decode(Frame::Binary(Bytes::from_static(b"\x89PNG")))
        .unwrap();
    let got = d
        .decode(text(
            r#"{"wslink": "1.0", "id": "publish:image:0", "result": "wslink_bin4"}"#,
        ))
        .unwrap();
    assert_eq!(
        got,
        Some(Message::Publication(Publication {
            topic: "image".into(),
            counter: 0,
            data: Bytes::from_static(b"\x89PNG").into(),
        }))
    );
}

#[test]
fn hostile_input_is_an_error_not_a_crash() {
    // 100k levels of nesting: an error at the depth limit, not a stack overflow.
    let deep = format!(r#"{{"id":"x","method":"m","args":{}"#, "[".repeat(100_000));
    assert!(matches!(
        authed().decode(Frame::Text(deep)),
        Err(CodecError::Malformed(_))
    ));
    let deep_maps = r#"{"a":"#.repeat(100_000);
    assert!(matches!(
        authed().decode(Frame::Text(deep_maps)),
        Err(CodecError::Malformed(_))
    ));

    // A binary frame that nobody announced.
    assert_eq!(
        authed().decode(Frame::Binary(Bytes::from_static(b"x"))),
        Err(CodecError::UnexpectedFrame("binary"))
    );

    // A header announcing 10k keys.
    let keys: Vec<String> = (0..10_000).map(|n| format!("\"wslink_bin{n}\"")).collect();
    let header = format!(
        r#"{{"wslink":"1.0","method":"wslink.binary.attachment","args":[{}]}}"#,
        keys.join(",")
    );
    let mut d = authed();
    assert!(matches!(
        d.decode(Frame::Text(header)),
        Err(CodecError::TooManyPartials(_))
    ));
    assert_eq!(d.expected_keys().count(), 0, "nothing kept");

    // Before the hello: big text frames and any binary frame are refused.
    let mut d = JsonCodec::new().decoder(DecodeLimits::default());
    assert!(matches!(
        d.decode(Frame::Text(format!("[{}0]", "0,".repeat(300)))),
        Err(CodecError::TooLarge { limit: 512, .. })
    ));
    assert_eq!(
        d.decode(Frame::Binary(Bytes::from_static(b"{}"))),
        Err(CodecError::UnexpectedFrame("binary before the hello"))
    );

    // Not JSON, not a map, not a string id.
    let mut d = authed();
    for (wire, is_envelope_error) in [
        ("", false),
        ("\u{0}", false),
        ("{\"id\": \"x\", \"method\": \"m\"", false),
        ("{\"id\": 1}", true),
        ("42", true),
        ("null", true),
    ] {
        let err = d.decode(text(wire)).unwrap_err();
        assert_eq!(
            matches!(err, CodecError::Envelope(_)),
            is_envelope_error,
            "{wire:?}: {err}"
        );
    }
}
