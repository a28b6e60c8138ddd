//! Id parsing: every incoming message's id goes through `Id::parse`.
//!
//! ```text
//! cargo bench -p wslink-core --bench ids
//! ```
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use wslink_core::id::{publish_id, rpc_id, ClientId, Id};

fn ids(c: &mut Criterion) {
    let mut group = c.benchmark_group("id");
    for (name, id) in [
        ("rpc", "rpc:c0123456789abcdef0123456789abcdef:123456"),
        ("publish", "publish:wslink.communication.channel:42"),
        ("system", "system:c0:0"),
        ("other", "something-else-entirely"),
    ] {
        group.bench_function(format!("parse/{name}"), |b| {
            b.iter(|| Id::parse(black_box(id)))
        });
    }
    let client = ClientId::from_wire("c0123456789abcdef0123456789abcdef");
    group.bench_function("format/rpc", |b| {
        b.iter(|| rpc_id(black_box(&client), black_box(123_456)))
    });
    group.bench_function("format/publish", |b| {
        b.iter(|| publish_id(black_box("wslink.communication.channel"), black_box(42)))
    });
    group.finish();
}

criterion_group!(benches, ids);
criterion_main!(benches);
