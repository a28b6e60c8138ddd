//! Property tests: messages ⇄ 1.x frames, the JSON text against `serde_json`, and
//! arbitrary frames never panicking.

use proptest::prelude::*;
use wslink_codec_json::{parse_value, write_value, JsonCodec, JsonDecoder, Style};
use wslink_core::{
    Bytes, Codec, DecodeLimits, Decoder, Encoded, Frame, Map, Message, Publication, Request,
    Response, Value, WireError,
};

fn leaf(binary: bool) -> BoxedStrategy<Value> {
    let mut leaves = vec![
        Just(Value::Nil).boxed(),
        any::<bool>().prop_map(Value::Bool).boxed(),
        any::<i64>().prop_map(Value::Int).boxed(),
        (i64::MAX as u64 + 1..=u64::MAX)
            .prop_map(Value::UInt)
            .boxed(),
        // NaN != NaN: NaN has its own test below.
        any::<f64>()
            .prop_filter("NaN", |f| !f.is_nan())
            .prop_map(Value::Float)
            .boxed(),
        prop_oneof![
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(-0.0),
            Just(2.0)
        ]
        .prop_map(Value::Float)
        .boxed(),
        ".{0,40}".prop_map(Value::Str).boxed(),
    ];
    if binary {
        leaves.push(
            proptest::collection::vec(any::<u8>(), 0..300)
                .prop_map(|b| Value::Bin(Bytes::from(b)))
                .boxed(),
        );
    }
    proptest::strategy::Union::new(leaves).boxed()
}

fn value_with(binary: bool) -> impl Strategy<Value = Value> {
    leaf(binary).prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::vec((".{0,12}", inner), 0..8)
                .prop_map(|entries| Value::Map(entries.into_iter().collect::<Map>())),
        ]
    })
}

fn value() -> impl Strategy<Value = Value> {
    value_with(true)
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        (
            "[a-z:0-9]{1,20}",
            "[a-z.]{1,12}",
            proptest::collection::vec(value(), 0..5),
            proptest::collection::vec(("[a-z]{1,6}", value()), 0..4),
        )
            .prop_map(|(id, method, args, kwargs)| {
                Message::Request(Request {
                    id: format!("rpc:{id}"),
                    method,
                    args,
                    kwargs: kwargs.into_iter().collect(),
                })
            }),
        ("[a-z0-9]{1,8}", value()).prop_map(|(id, v)| Message::Response(Response {
            id: format!("rpc:c1:{id}"),
            outcome: Ok(v),
        })),
        (any::<i64>(), ".{0,20}", value()).prop_map(|(code, text, data)| {
            Message::Response(Response {
                id: "rpc:c1:9".into(),
                outcome: Err(WireError::new(code, text).with_data(data)),
            })
        }),
        ("[a-z_]{1,8}(\\.[a-z0-9]{1,5}){0,2}", any::<u64>(), value()).prop_map(
            |(topic, counter, data)| Message::Publication(Publication {
                topic,
                counter,
                data,
            })
        ),
    ]
}

fn roomy_decoder() -> JsonDecoder {
    let mut d = JsonCodec::new().decoder(DecodeLimits {
        attachments: 10_000,
        max_depth: 64,
        ..DecodeLimits::default()
    });
    d.set_authenticated(true);
    d
}

/// Feeds every frame; only the last may complete a message.
fn decode_all(d: &mut JsonDecoder, encoded: &Encoded) -> Result<Option<Message>, TestCaseError> {
    let frames = encoded.to_frames();
    for f in &frames[..frames.len() - 1] {
        prop_assert_eq!(d.decode(f.clone()).unwrap(), None);
    }
    Ok(d.decode(frames[frames.len() - 1].clone()).unwrap())
}

fn count_binaries(v: &Value) -> usize {
    match v {
        Value::Bin(_) => 1,
        Value::Array(items) => items.iter().map(count_binaries).sum(),
        Value::Map(m) => m.values().map(count_binaries).sum(),
        _ => 0,
    }
}

/// Equal, floats within a relative 1e-15.
fn nearly_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x == y || ((x - y) / y).abs() < 1e-15,
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| nearly_equal(x, y))
        }
        (Value::Map(a), Value::Map(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|((ka, va), (kb, vb))| ka == kb && nearly_equal(va, vb))
        }
        _ => a == b,
    }
}

fn no_binary(_: &Bytes) -> String {
    unreachable!("no binary in this value")
}

proptest! {
    #[test]
    fn messages_round_trip_through_frames(msg in message(), python in any::<bool>()) {
        let style = if python { Style::Python } else { Style::Compact };
        let codec = JsonCodec::with_style(style);
        let encoded = codec.encode(&msg, 0).unwrap();
        let binaries = count_binaries(&msg.clone().into_value());
        prop_assert_eq!(encoded.to_frames().len(), 2 * binaries + 1);
        let mut d = roomy_decoder();
        prop_assert_eq!(decode_all(&mut d, &encoded)?, Some(msg));
        prop_assert_eq!((d.received_count(), d.held_bytes()), (0, 0));
    }

    #[test]
    fn many_attachments_in_args_and_kwargs(
        args in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..60),
        kwargs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..60),
    ) {
        let bin = |b: Vec<u8>| Value::Bin(Bytes::from(b));
        let msg = Message::Request(Request {
            id: "rpc:c1:0".into(),
            method: "upload".into(),
            args: args.into_iter().map(|b| Value::Array(vec![bin(b)])).collect(),
            kwargs: kwargs.into_iter().enumerate().map(|(i, b)| (format!("k{i}"), bin(b))).collect(),
        });
        let codec = JsonCodec::new();
        let mut d = roomy_decoder();
        // The same codec and decoder for several messages: keys keep moving on.
        for _ in 0..2 {
            prop_assert_eq!(decode_all(&mut d, &codec.encode(&msg, 0).unwrap())?, Some(msg.clone()));
        }
    }

    #[test]
    fn json_text_matches_serde_json(v in value_with(false), python in any::<bool>()) {
        let finite = !format!("{v:?}").contains("inf");
        let style = if python { Style::Python } else { Style::Compact };
        let mut ours = String::new();
        write_value(&mut ours, &v, style, &mut no_binary);
        // Our reader reads our text back, exactly.
        prop_assert_eq!(&parse_value(&ours, 64).unwrap(), &v);
        if finite {
            // serde_json reads it as the same value (its default float parsing may be
            // off by one unit in the last place)...
            let theirs = serde_json::from_str::<Value>(&ours).unwrap();
            prop_assert!(nearly_equal(&theirs, &v), "{} vs {}", theirs, v);
            // ...and we read serde_json's text as the same value.
            let theirs = serde_json::to_string(&v).unwrap();
            prop_assert_eq!(parse_value(&theirs, 64).unwrap(), v);
        }
    }

    #[test]
    fn text_frames_never_panic(s in ".{0,200}") {
        let _ = roomy_decoder().decode(Frame::Text(s));
    }

    #[test]
    fn json_like_soup_never_panics(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("{"), Just("}"), Just("["), Just("]"), Just(","), Just(":"), Just("\""),
                Just("\\"), Just("\\u"), Just("d83d"), Just("NaN"), Just("-Infinity"), Just("-"),
                Just("0"), Just("1e"), Just("."), Just("9223372036854775808"), Just(" "),
                Just("\"id\""), Just("\"method\""), Just("\"wslink.binary.attachment\""),
                Just("\"args\""), Just("\"wslink_bin1\""), Just("null"), Just("true"), Just("é"),
            ],
            0..60,
        ),
    ) {
        let _ = roomy_decoder().decode(Frame::Text(parts.concat()));
    }

    #[test]
    fn frame_sequences_never_panic(
        frames in proptest::collection::vec(
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..50).prop_map(|b| Frame::Binary(Bytes::from(b))),
                "[a-z0-9\"{}:,\\[\\] ]{0,40}".prop_map(Frame::Text),
                (0u8..4).prop_map(|n| Frame::Text(format!(
                    r#"{{"method":"wslink.binary.attachment","args":["wslink_bin{n}"]}}"#
                ))),
                (0u8..4).prop_map(|n| Frame::Text(format!(
                    r#"{{"id":"rpc:c1:0","result":["wslink_bin{n}"]}}"#
                ))),
                Just(Frame::Text(r#"{"id":"rpc:c1:0","error":{"code":1,"message":"x"}}"#.into())),
            ],
            0..30,
        ),
        authenticated in any::<bool>(),
    ) {
        let mut d = JsonCodec::new().decoder(DecodeLimits {
            attachments: 3,
            partial_bytes: 100,
            ..DecodeLimits::default()
        });
        d.set_authenticated(authenticated);
        for f in frames {
            let _ = d.decode(f);
            prop_assert!(d.expected_keys().count() + d.received_count() <= 3);
            prop_assert!(d.held_bytes() <= 100);
        }
    }
}

#[test]
fn nan_round_trips_as_nan() {
    let msg = Message::Response(Response {
        id: "x".into(),
        outcome: Ok(Value::Array(vec![Value::Float(f64::NAN)])),
    });
    let encoded = JsonCodec::new().encode(&msg, 0).unwrap();
    let Some(Message::Response(r)) = roomy_decoder()
        .decode(encoded.to_frames()[0].clone())
        .unwrap()
    else {
        panic!()
    };
    assert!(r.outcome.unwrap()[0].as_f64().unwrap().is_nan());
}

#[test]
fn typed_data_with_binary_round_trips() {
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Image {
        width: u32,
        scale: f64,
        pixels: Bytes,
    }
    let img = Image {
        width: 2,
        scale: 1.0,
        pixels: Bytes::from_static(&[1, 2, 3, 4]),
    };
    let msg = Message::Publication(Publication {
        topic: "image".into(),
        counter: 0,
        data: wslink_core::to_value(&img).unwrap(),
    });
    let encoded = JsonCodec::new().encode(&msg, 0).unwrap();
    let mut d = roomy_decoder();
    let mut got = None;
    for f in encoded.to_frames() {
        got = d.decode(f.clone()).unwrap();
    }
    let Some(Message::Publication(p)) = got else {
        panic!()
    };
    assert_eq!(wslink_core::from_value::<Image>(p.data).unwrap(), img);
}

#[test]
fn default_limits_bound_attachments_per_message() {
    // Every attachment of a message is held until the message arrives, and they count
    // against `attachments` (1024 by default).
    let msg = Message::Response(Response {
        id: "x".into(),
        outcome: Ok(Value::Array(vec![
            Value::Bin(Bytes::from_static(b"b"));
            1025
        ])),
    });
    let encoded = JsonCodec::new().encode(&msg, 0).unwrap();
    let mut d = JsonCodec::new().decoder(DecodeLimits::default());
    d.set_authenticated(true);
    let err = encoded
        .to_frames()
        .iter()
        .find_map(|f| d.decode(f.clone()).err())
        .unwrap();
    assert!(
        matches!(err, wslink_core::CodecError::TooManyPartials(_)),
        "{err}"
    );
}
