//! Worked 2.x examples (docs/protocol.md#2x-framing), pinned byte for byte: what the Python
//! and JS peers write.

use wslink_codec_msgpack::{chunk, encode_message, MsgpackCodec};
use wslink_core::{
    map, Bytes, Codec, DecodeLimits, Decoder, Frame, Map, Message, Publication, Request, Response,
    Value, WireError,
};

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

fn frames(message: &Message, message_id: u32, max_frame_size: usize) -> Vec<Vec<u8>> {
    let encoded = chunk(encode_message(message).unwrap(), message_id, max_frame_size).unwrap();
    encoded
        .to_frames()
        .iter()
        .map(|f| match f {
            Frame::Binary(b) => b.to_vec(),
            Frame::Text(_) => panic!("2.x writes binary frames only"),
        })
        .collect()
}

fn msgpack_part(message: &Message) -> Vec<u8> {
    encode_message(message).unwrap()[12..].to_vec()
}

const CLIENT: &str = "c0123456789abcdef0123456789abcdef";

#[test]
fn hello_request_frame() {
    let hello = Message::Request(Request {
        id: "system:c0:0".into(),
        method: "wslink.hello".into(),
        args: vec![map! { "secret" => "wslink-secret" }],
        kwargs: Map::new(),
    });
    let want = hex("78 56 34 12 00 00 00 00 53 00 00 00
         85 a6 77 73 6c 69 6e 6b a3 31 2e 30 a2 69 64 ab 73 79 73 74 65 6d 3a 63 30 3a 30
         a6 6d 65 74 68 6f 64 ac 77 73 6c 69 6e 6b 2e 68 65 6c 6c 6f
         a4 61 72 67 73 91 81 a6 73 65 63 72 65 74 ad 77 73 6c 69 6e 6b 2d 73 65 63 72 65 74
         a6 6b 77 61 72 67 73 80");
    assert_eq!(want.len(), 95);
    assert_eq!(frames(&hello, 0x12345678, 4 << 20), vec![want]);
}

#[test]
fn hello_success_frame() {
    let reply = Message::Response(Response {
        id: "system:c0:0".into(),
        outcome: Ok(map! { "clientID" => CLIENT, "maxMsgSize" => 4194304 }),
    });
    let want = hex(
        "f0 de bc 9a 00 00 00 00 5f 00 00 00
         83 a6 77 73 6c 69 6e 6b a3 31 2e 30 a2 69 64 ab 73 79 73 74 65 6d 3a 63 30 3a 30
         a6 72 65 73 75 6c 74 82 a8 63 6c 69 65 6e 74 49 44
         d9 21 63 30 31 32 33 34 35 36 37 38 39 61 62 63 64 65 66 30 31 32 33 34 35 36 37 38 39 61 62 63 64 65 66
         aa 6d 61 78 4d 73 67 53 69 7a 65 ce 00 40 00 00",
    );
    assert_eq!(want.len(), 107);
    assert_eq!(frames(&reply, 0x9abcdef0, 4 << 20), vec![want]);
}

#[test]
fn hello_failure_bytes() {
    let reply = Message::Response(Response {
        id: "system:c0:0".into(),
        outcome: Err(WireError::new(-32000, "Authentication failed")),
    });
    let want = hex(
        "83 a6 77 73 6c 69 6e 6b a3 31 2e 30 a2 69 64 ab 73 79 73 74 65 6d 3a 63 30 3a 30
         a5 65 72 72 6f 72 82 a4 63 6f 64 65 d1 83 00
         a7 6d 65 73 73 61 67 65 b5 41 75 74 68 65 6e 74 69 63 61 74 69 6f 6e 20 66 61 69 6c 65 64",
    );
    assert_eq!(want.len(), 72);
    assert_eq!(msgpack_part(&reply), want);
}

#[test]
fn call_and_float_result_bytes() {
    let id = format!("rpc:{CLIENT}:0");
    let id_bytes: String = id.bytes().map(|b| format!("{b:02x} ")).collect();
    let call = Message::Request(Request {
        id: id.clone(),
        method: "test.add".into(),
        args: vec![1.into(), 2.5.into()],
        kwargs: Map::new(),
    });
    let want = hex(&format!(
        "85 a6 77 73 6c 69 6e 6b a3 31 2e 30 a2 69 64 d9 27 {id_bytes}
         a6 6d 65 74 68 6f 64 a8 74 65 73 74 2e 61 64 64
         a4 61 72 67 73 92 01 cb 40 04 00 00 00 00 00 00
         a6 6b 77 61 72 67 73 80"
    ));
    assert_eq!(msgpack_part(&call), want);

    let result = Message::Response(Response {
        id,
        outcome: Ok(3.5.into()),
    });
    let want = hex(&format!(
        "83 a6 77 73 6c 69 6e 6b a3 31 2e 30 a2 69 64 d9 27 {id_bytes}
         a6 72 65 73 75 6c 74 cb 40 0c 00 00 00 00 00 00"
    ));
    assert_eq!(msgpack_part(&result), want);
}

#[test]
fn publication_with_binary_bytes() {
    let publication = Message::Publication(Publication {
        topic: "image".into(),
        counter: 0,
        data: map! { "blob" => Bytes::from_static(b"\x89PNG") },
    });
    let want = hex("83 a6 77 73 6c 69 6e 6b a3 31 2e 30 a2 69 64
         af 70 75 62 6c 69 73 68 3a 69 6d 61 67 65 3a 30
         a6 72 65 73 75 6c 74 81 a4 62 6c 6f 62 c4 04 89 50 4e 47");
    assert_eq!(want.len(), 50);
    assert_eq!(msgpack_part(&publication), want);
}

#[test]
fn a_49_byte_message_in_32_byte_frames() {
    let call = Message::Request(Request {
        id: "rpc:c1:7".into(),
        method: "a.b".into(),
        args: vec![],
        kwargs: Map::new(),
    });
    let want = vec![
        hex("07 00 00 00 00 00 00 00 31 00 00 00 85 a6 77 73 6c 69 6e 6b a3 31 2e 30 a2 69 64 a8 72 70 63 3a"),
        hex("07 00 00 00 14 00 00 00 31 00 00 00 63 31 3a 37 a6 6d 65 74 68 6f 64 a3 61 2e 62 a4 61 72 67 73"),
        hex("07 00 00 00 28 00 00 00 31 00 00 00 90 a6 6b 77 61 72 67 73 80"),
    ];
    assert_eq!(frames(&call, 7, 32), want);

    // And the decoder reads them back, in any order.
    let codec = MsgpackCodec::new();
    let mut decoder = codec.decoder(DecodeLimits::default());
    let mut out = None;
    for i in [2, 0, 1] {
        out = decoder
            .decode(Frame::Binary(Bytes::from(want[i].clone())))
            .unwrap();
    }
    assert_eq!(out, Some(call));
}

#[test]
fn integers_use_the_smallest_form_like_the_reference() {
    let cases: &[(Value, &str)] = &[
        (Value::Int(0), "00"),
        (Value::Int(127), "7f"),
        (Value::Int(128), "cc 80"),
        (Value::Int(-1), "ff"),
        (Value::Int(-33), "d0 df"),
        (Value::Int(65536), "ce 00 01 00 00"),
        (Value::Int(-(1 << 40)), "d3 ff ff ff 00 00 00 00 00"),
        (Value::UInt(u64::MAX), "cf ff ff ff ff ff ff ff ff"),
        (Value::Float(2.0), "cb 40 00 00 00 00 00 00 00"),
    ];
    for (value, want) in cases {
        let msg = Message::Response(Response {
            id: "i".into(),
            outcome: Ok(value.clone()),
        });
        let bytes = msgpack_part(&msg);
        // 83 a6 "wslink" a3 "1.0" a2 "id" a1 "i" a6 "result" = 24 bytes of envelope.
        assert_eq!(bytes[24..], hex(want)[..], "{value:?}");
    }
}
