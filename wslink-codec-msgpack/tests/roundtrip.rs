//! Property tests: Value ⇄ msgpack, and chunk ⇄ unchunk in any order.

use proptest::prelude::*;
use wslink_codec_msgpack::{
    chunk, chunk_rope, decode_message, decode_value, encode_message, encode_rope, MsgpackCodec,
    Unchunker, HEADER_LEN, SHARED_BIN_MIN,
};
use wslink_core::{
    Bytes, Codec, DecodeLimits, Decoder, Frame, Map, Message, Publication, Request, Response, Value,
};

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Nil),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        (i64::MAX as u64 + 1..=u64::MAX).prop_map(Value::UInt),
        any::<f64>()
            .prop_filter("NaN != NaN", |f| !f.is_nan())
            .prop_map(Value::Float),
        ".{0,40}".prop_map(Value::Str),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(|b| Value::Bin(Bytes::from(b))),
        (any::<i8>(), proptest::collection::vec(any::<u8>(), 0..300))
            .prop_map(|(tag, data)| Value::Ext(wslink_core::Ext::new(tag, data))),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::vec((".{0,12}", inner), 0..8)
                .prop_map(|entries| Value::Map(entries.into_iter().collect::<Map>())),
        ]
    })
}

fn frames_of(encoded: &wslink_core::Encoded) -> Vec<Bytes> {
    encoded
        .to_frames()
        .iter()
        .map(|f| match f {
            Frame::Binary(b) => b.clone(),
            Frame::Text(_) => unreachable!("2.x is binary"),
        })
        .collect()
}

fn envelope_like() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("id".to_owned()),
        Just("method".to_owned()),
        Just("args".to_owned()),
        Just("kwargs".to_owned()),
        Just("result".to_owned()),
        Just("error".to_owned()),
        Just("wslink".to_owned()),
        ".{0,8}",
    ];
    let id = prop_oneof![
        Just(Value::from("rpc:c1:0")),
        Just(Value::from("publish:a.b:3")),
        Just(Value::from("system:c0:0")),
        value(),
    ];
    proptest::collection::vec((key, prop_oneof![id, value()]), 0..8)
        .prop_map(|entries| Value::Map(entries.into_iter().collect::<Map>()))
}

/// Values with binaries of 0 to 200 bytes, several of them, nested in arrays and maps.
fn with_binaries() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        (0usize..200).prop_map(|n| Value::Bin((0..n).map(|i| i as u8).collect::<Vec<u8>>().into())),
        any::<i64>().prop_map(Value::Int),
        ".{0,20}".prop_map(Value::Str),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((".{0,6}", inner), 0..5)
                .prop_map(|entries| Value::Map(entries.into_iter().collect::<Map>())),
        ]
    })
}

proptest! {
    #[test]
    fn chunking_the_rope_gives_the_frames_of_the_flat_encoding(
        result in with_binaries(),
        args in proptest::collection::vec(with_binaries(), 0..3),
        min_shared in 0usize..120,
    ) {
        let messages = [
            Message::Response(Response { id: "rpc:c1:3".into(), outcome: Ok(result.clone()) }),
            Message::Request(Request {
                id: "rpc:c1:4".into(), method: "m".into(), args,
                kwargs: [("k".to_owned(), result.clone())].into_iter().collect(),
            }),
            Message::Publication(Publication { topic: "t".into(), counter: 9, data: result }),
        ];
        for message in &messages {
            let flat = encode_message(message).unwrap();
            let rope = encode_rope(message, min_shared).unwrap();
            let len = flat.len() - HEADER_LEN;
            prop_assert_eq!(rope.len(), len);
            // Every frame limit from one payload byte per frame to one frame, and none.
            for max in (HEADER_LEN + 1..=HEADER_LEN + len + 1).chain([0]) {
                let want = chunk(flat.clone(), 77, max).unwrap().to_frames();
                let got = chunk_rope(&rope, 77, max).unwrap().to_frames();
                prop_assert_eq!(got, want, "frame limit {}", max);
            }
        }
    }

    #[test]
    fn direct_envelope_decoding_agrees_with_the_value_route(v in prop_oneof![envelope_like(), value()]) {
        let bytes = Bytes::from(rmp_serde::to_vec(&v).unwrap());
        let direct = decode_message(&bytes, 64);
        let via_value = decode_value(&bytes, 64).and_then(|v| Ok(Message::from_value(v)?));
        prop_assert_eq!(direct, via_value);
    }

    #[test]
    fn direct_encoding_writes_what_rmp_serde_writes(
        v in value(),
        topic in "[a-z.]{1,12}",
        counter in any::<u64>(),
        args in proptest::collection::vec(value(), 0..4),
    ) {
        let strip = |m: &Message| encode_message(m).unwrap().freeze().slice(HEADER_LEN..);
        let envelope = |entries: Vec<(&str, Value)>| {
            let map: Map = entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            Bytes::from(rmp_serde::to_vec(&Value::Map(map)).unwrap())
        };
        let publication = Message::Publication(Publication { topic: topic.clone(), counter, data: v.clone() });
        prop_assert_eq!(strip(&publication), envelope(vec![
            ("wslink", Value::from("1.0")),
            ("id", Value::from(format!("publish:{topic}:{counter}"))),
            ("result", v.clone()),
        ]));
        let kwargs: Map = [("k".to_owned(), v.clone())].into_iter().collect();
        let request = Message::Request(Request {
            id: "rpc:c1:7".into(), method: "a.b".into(), args: args.clone(), kwargs: kwargs.clone(),
        });
        prop_assert_eq!(strip(&request), envelope(vec![
            ("wslink", Value::from("1.0")),
            ("id", Value::from("rpc:c1:7")),
            ("method", Value::from("a.b")),
            ("args", Value::Array(args)),
            ("kwargs", Value::Map(kwargs)),
        ]));
    }

    #[test]
    fn value_round_trips_through_msgpack(v in value()) {
        let msg = Message::Response(Response { id: "rpc:c1:1".into(), outcome: Ok(v) });
        let bytes = encode_message(&msg).unwrap().freeze().slice(HEADER_LEN..);
        let back = Message::from_value(decode_value(&bytes, 64).unwrap()).unwrap();
        prop_assert_eq!(back, msg);
    }

    #[test]
    fn chunks_reassemble_in_any_order(
        payload in proptest::collection::vec(any::<u8>(), 1..5000),
        max_frame in 13usize..700,
        seed in any::<u64>(),
    ) {
        let mut buf = bytes::BytesMut::zeroed(HEADER_LEN);
        buf.extend_from_slice(&payload);
        let mut frames = frames_of(&chunk(buf, 42, max_frame).unwrap());
        // Deterministic shuffle from the seed.
        let mut state = seed | 1;
        for i in (1..frames.len()).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            frames.swap(i, (state % (i as u64 + 1)) as usize);
        }
        // Shuffled one-byte chunks may leave thousands of holes: no bound on runs here.
        let limits = DecodeLimits { partial_runs: usize::MAX, ..DecodeLimits::default() };
        let mut u = Unchunker::new(limits);
        u.set_authenticated(true);
        let n = frames.len();
        for (i, f) in frames.into_iter().enumerate() {
            let out = u.push(f).unwrap();
            if i + 1 < n {
                prop_assert!(out.is_none());
            } else {
                prop_assert_eq!(out.unwrap().to_vec(), payload.clone());
            }
        }
        prop_assert_eq!(u.held_bytes(), 0);
    }

    #[test]
    fn interleaved_messages_reassemble(
        a in proptest::collection::vec(any::<u8>(), 1..2000),
        b in proptest::collection::vec(any::<u8>(), 1..2000),
    ) {
        let codec = MsgpackCodec::new();
        let ma = Message::Response(Response { id: "a".into(), outcome: Ok(Value::Bin(a.into())) });
        let mb = Message::Response(Response { id: "b".into(), outcome: Ok(Value::Bin(b.into())) });
        let fa = frames_of(&codec.encode(&ma, 64).unwrap());
        let fb = frames_of(&codec.encode(&mb, 64).unwrap());
        let mut decoder = codec.decoder(DecodeLimits::default());
        decoder.set_authenticated(true);
        let mut got = Vec::new();
        let (mut ia, mut ib) = (fa.into_iter(), fb.into_iter());
        loop {
            let (x, y) = (ia.next(), ib.next());
            if x.is_none() && y.is_none() { break; }
            for f in [x, y].into_iter().flatten() {
                if let Some(m) = decoder.decode(Frame::Binary(f)).unwrap() { got.push(m); }
            }
        }
        prop_assert_eq!(got.len(), 2);
        prop_assert!(got.contains(&ma) && got.contains(&mb));
    }

    #[test]
    fn random_bytes_never_panic(frames in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 1..20)) {
        let mut decoder = MsgpackCodec::new().decoder(DecodeLimits::default());
        for f in frames {
            let _ = decoder.decode(Frame::Binary(f.into()));
        }
    }

    #[test]
    fn declared_bytes_never_exceed_the_limit(
        chunks in proptest::collection::vec((0u32..4, 0u32..300, 1u32..300, 1usize..64), 1..60),
        limit in 1usize..400,
    ) {
        let limits = DecodeLimits { partial_bytes: limit, partial_messages: 3, ..DecodeLimits::default() };
        let mut u = Unchunker::new(limits);
        u.set_authenticated(true);
        for (id, offset, total, len) in chunks {
            let mut f = wslink_codec_msgpack::ChunkHeader { message_id: id, offset, total_size: total }.to_bytes().to_vec();
            f.extend(std::iter::repeat_n(0u8, len));
            let _ = u.push(f.into());
            prop_assert!(u.held_bytes() <= limit);
            prop_assert!(u.partial_count() <= 3);
        }
    }
}

#[test]
fn the_codec_shares_large_binaries_and_copies_small_ones() {
    let codec = MsgpackCodec::new();
    let big = Bytes::from(
        (0..SHARED_BIN_MIN * 3)
            .map(|i| i as u8)
            .collect::<Vec<u8>>(),
    );
    let small = Bytes::from(vec![5u8; SHARED_BIN_MIN - 1]);
    let message = Message::Response(Response {
        id: "rpc:c1:0".into(),
        outcome: Ok(Value::Array(vec![
            Value::Bin(big.clone()),
            Value::Bin(small.clone()),
        ])),
    });
    let encoded = codec.encode(&message, 64 << 10).unwrap();
    let wslink_core::Encoded::Parts(frames) = &encoded else {
        panic!("a message with a large binary is made of parts: {encoded:?}")
    };
    let big_range = big.as_ptr() as usize..big.as_ptr() as usize + big.len();
    let shared: usize = frames
        .iter()
        .flat_map(|f| f.parts())
        .filter(|p| big_range.contains(&(p.as_ptr() as usize)))
        .map(|p| p.len())
        .sum();
    assert_eq!(
        shared,
        big.len(),
        "every byte of the large binary is sent from its buffer"
    );
    let mut decoder = codec.decoder(DecodeLimits::default());
    decoder.set_authenticated(true);
    let mut got = None;
    for frame in encoded.to_frames() {
        got = decoder.decode(frame).unwrap();
    }
    assert_eq!(got, Some(message.clone()));
    let only_small = Message::Response(Response {
        id: "x".into(),
        outcome: Ok(Value::Bin(small)),
    });
    assert!(!matches!(
        codec.encode(&only_small, 0).unwrap(),
        wslink_core::Encoded::Parts(_)
    ));
}
