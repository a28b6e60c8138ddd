//! Differential property tests: our msgpack decoder against an independent one (rmpv), on
//! values written with random choices among the valid encodings of each item.

mod support;

use proptest::prelude::*;
use rand::SeedableRng;
use support::any_encoding::encode_any;
use support::rmpv_model::{agree, expected, same};
use wslink_codec_msgpack::{decode_message, decode_value};
use wslink_core::{Bytes, Ext, Map, Message, Value};

const DEPTH: usize = 32;

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Nil),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        (-40i64..300).prop_map(Value::Int),
        (i64::MAX as u64 + 1..=u64::MAX).prop_map(Value::UInt),
        any::<f64>().prop_map(Value::Float),
        any::<f32>().prop_map(|f| Value::Float(f.into())),
        ".{0,40}".prop_map(Value::Str),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(|b| Value::Bin(Bytes::from(b))),
        (any::<i8>(), proptest::collection::vec(any::<u8>(), 0..20))
            .prop_map(|(tag, data)| Value::Ext(Ext::new(tag, data))),
    ];
    leaf.prop_recursive(4, 64, 20, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..20).prop_map(Value::Array),
            proptest::collection::vec(("[a-z]{0,3}", inner), 0..20)
                .prop_map(|entries| Value::Map(entries.into_iter().collect::<Map>())),
        ]
    })
}

fn request() -> impl Strategy<Value = Value> {
    (
        "rpc:c[0-9a-f]{1,8}:[0-9]{1,4}",
        "[a-z]{1,8}(\\.[a-z]{1,8}){0,2}",
        proptest::collection::vec(value(), 0..4),
        proptest::collection::vec(("[a-z]{1,6}", value()), 0..4),
    )
        .prop_map(|(id, method, args, kwargs)| {
            let mut m = Map::new();
            m.insert("wslink".into(), "1.0".into());
            m.insert("id".into(), id.into());
            m.insert("method".into(), method.into());
            m.insert("args".into(), Value::Array(args));
            m.insert("kwargs".into(), Value::Map(kwargs.into_iter().collect()));
            Value::Map(m)
        })
}

#[test]
fn the_reserved_byte_is_refused_where_rmpv_reads_nil() {
    let bytes = [0x92, 0x01, 0xc1];
    assert!(expected(&bytes, DEPTH).is_some(), "rmpv reads 0xc1 as nil");
    let ours = decode_value(&Bytes::copy_from_slice(&bytes), DEPTH);
    assert!(ours.is_err());
    assert!(agree(&bytes, &ours, DEPTH));
    // The exception covers only an offset that holds 0xc1.
    let elsewhere = Err(wslink_core::CodecError::Malformed(
        "reserved byte 0xc1 at offset 1".into(),
    ));
    assert!(!agree(&bytes, &elsewhere, DEPTH));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_encoding_decodes_like_rmpv_and_gives_the_value_back(v in value(), seed in any::<u64>()) {
        let bytes = encode_any(&v, &mut rand::rngs::StdRng::seed_from_u64(seed));
        let ours = decode_value(&Bytes::from(bytes.clone()), DEPTH);
        let theirs = expected(&bytes, DEPTH);
        let ours = ours.map_err(|e| TestCaseError::fail(format!("{e} for {bytes:02x?}")))?;
        prop_assert!(theirs.as_ref().is_some_and(|t| same(t, &ours)), "rmpv: {theirs:?}, ours: {ours:?}");
        prop_assert!(same(&ours, &v), "{ours:?} != {v:?}");
    }

    #[test]
    fn any_encoding_of_a_request_is_a_request(v in request(), seed in any::<u64>()) {
        let bytes = Bytes::from(encode_any(&v, &mut rand::rngs::StdRng::seed_from_u64(seed)));
        let direct = decode_message(&bytes, DEPTH).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let model = expected(&bytes, DEPTH).expect("rmpv reads it");
        prop_assert_eq!(&direct, &Message::from_value(model).unwrap());
        prop_assert!(matches!(direct, Message::Request(_)));
    }

    #[test]
    fn arbitrary_bytes_decode_exactly_when_rmpv_says_they_should(
        bytes in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let ours = decode_value(&Bytes::from(bytes.clone()), DEPTH);
        prop_assert!(
            agree(&bytes, &ours, DEPTH),
            "ours {ours:?}, rmpv {:?} for {bytes:02x?}",
            expected(&bytes, DEPTH)
        );
    }
}
