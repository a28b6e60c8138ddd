//! The 2.x codec's hot paths: msgpack encode/decode of typical envelopes, and
//! chunk/unchunk of 1 KiB – 64 MiB messages.
//!
//! ```text
//! cargo bench -p wslink-codec-msgpack --bench codec
//! cargo bench -p wslink-codec-msgpack --bench codec -- --warm-up-time 0.1 --measurement-time 0.2   # smoke
//! ```
#![allow(missing_docs)]

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use wslink_codec_msgpack::{chunk, encode_message, MsgpackCodec, Unchunker, HEADER_LEN};
use wslink_core::{
    map, Codec, DecodeLimits, Decoder, Frame, Map, Message, Request, Response, Value,
};

const CLIENT: &str = "c0123456789abcdef0123456789abcdef";
const FRAME: usize = 4 * 1024 * 1024;

fn hello() -> Message {
    Message::Request(Request {
        id: "system:c0:0".into(),
        method: "wslink.hello".into(),
        args: vec![map! { "secret" => "wslink-secret" }],
        kwargs: Map::new(),
    })
}

fn small_call() -> Message {
    Message::Request(Request {
        id: format!("rpc:{CLIENT}:12345"),
        method: "test.add".into(),
        args: vec![Value::from(1), Value::from(2.5)],
        kwargs: Map::new(),
    })
}

fn binary_result(n: usize) -> Message {
    Message::Response(Response {
        id: format!("rpc:{CLIENT}:12345"),
        outcome: Ok(Value::Bin(Bytes::from(vec![7u8; n]))),
    })
}

fn envelopes() -> Vec<(&'static str, Message)> {
    vec![
        ("hello", hello()),
        ("small_call", small_call()),
        ("result_1KiB", binary_result(1 << 10)),
        ("result_64KiB", binary_result(64 << 10)),
        ("result_1MiB", binary_result(1 << 20)),
    ]
}

fn encode_decode(c: &mut Criterion) {
    let codec = MsgpackCodec::new();
    let mut group = c.benchmark_group("envelope");
    for (name, message) in envelopes() {
        let frames = codec.encode(&message, FRAME).expect("encodes");
        group.throughput(Throughput::Bytes(frames.len() as u64));
        group.bench_function(BenchmarkId::new("encode", name), |b| {
            b.iter(|| codec.encode(black_box(&message), FRAME).expect("encodes"))
        });
        let mut decoder = codec.decoder(DecodeLimits::default());
        decoder.set_authenticated(true);
        group.bench_function(BenchmarkId::new("decode", name), |b| {
            b.iter(|| {
                let mut out = None;
                for frame in frames.to_frames() {
                    out = decoder.decode(black_box(frame.clone())).expect("decodes");
                }
                out.expect("a whole message")
            })
        });
    }
    group.finish();
}

fn chunking(c: &mut Criterion) {
    let mut group = c.benchmark_group("chunk");
    for size in [1usize << 10, 64 << 10, 1 << 20, 16 << 20, 64 << 20] {
        group.throughput(Throughput::Bytes(size as u64));
        if size >= 16 << 20 {
            group.sample_size(10);
        }
        let mut buf = BytesMut::with_capacity(HEADER_LEN + size);
        buf.resize(HEADER_LEN + size, 0x5a);
        group.bench_with_input(BenchmarkId::new("chunk", size), &size, |b, _| {
            b.iter_batched(
                || buf.clone(),
                |buf| chunk(buf, 7, FRAME).expect("chunks"),
                BatchSize::PerIteration,
            )
        });
        let frames: Vec<Bytes> = chunk(buf.clone(), 7, FRAME)
            .expect("chunks")
            .to_frames()
            .iter()
            .map(|f| match f {
                Frame::Binary(b) => b.clone(),
                Frame::Text(_) => unreachable!("2.x frames are binary"),
            })
            .collect();
        let mut unchunker = Unchunker::new(DecodeLimits::default());
        unchunker.set_authenticated(true);
        group.bench_with_input(BenchmarkId::new("unchunk", size), &size, |b, _| {
            b.iter(|| {
                let mut out = None;
                for frame in &frames {
                    out = unchunker.push(black_box(frame.clone())).expect("accepts");
                }
                out.expect("a whole message")
            })
        });
    }
    group.finish();
}

fn message_encoding(c: &mut Criterion) {
    // encode_message alone (no chunk header write), for the profile of the envelope part.
    let message = small_call();
    c.bench_function("encode_message/small_call", |b| {
        b.iter(|| encode_message(black_box(&message)).expect("encodes"))
    });
}

criterion_group!(benches, encode_decode, chunking, message_encoding);
criterion_main!(benches);
