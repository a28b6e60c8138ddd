//! A msgpack writer that picks, for every item, one of the valid encodings at random, not
//! only the smallest one: an int in any width that holds it (1 as a positive fixint, a
//! uint8..uint64 or an int8..int64), a float as float64 or (when exact) float32, a string
//! as fixstr/str8/str16/str32, binary as bin8/16/32, arrays and maps in every header
//! width that holds their length, extensions as fixext where the size allows or
//! ext8/16/32. What some encoders and hand-built frames send.

use rand::rngs::StdRng;
use rand::Rng;
use wslink_core::Value;

/// `value` in msgpack, each item's encoding drawn from `rng`.
pub(crate) fn encode_any(value: &Value, rng: &mut StdRng) -> Vec<u8> {
    let mut out = Vec::new();
    write(&mut out, value, rng);
    out
}

fn pick<T: Copy>(rng: &mut StdRng, options: &[T]) -> T {
    options[rng.random_range(0..options.len())]
}

/// The widths (0 = in the marker, else 1, 2 or 4 bytes) that can hold `len`.
fn length_widths(len: usize, fix_limit: usize) -> Vec<u8> {
    let mut widths = Vec::new();
    if len < fix_limit {
        widths.push(0);
    }
    if len < 1 << 8 {
        widths.push(1);
    }
    if len < 1 << 16 {
        widths.push(2);
    }
    widths.push(4);
    widths
}

/// A header: `fix | len` for width 0, else `markers[width]` and the length big-endian.
fn head(out: &mut Vec<u8>, len: usize, width: u8, fix: u8, markers: [u8; 3]) {
    match width {
        0 => out.push(fix | len as u8),
        1 => out.extend([markers[0], len as u8]),
        2 => {
            out.push(markers[1]);
            out.extend((len as u16).to_be_bytes());
        }
        _ => {
            out.push(markers[2]);
            out.extend((len as u32).to_be_bytes());
        }
    }
}

fn write(out: &mut Vec<u8>, value: &Value, rng: &mut StdRng) {
    match value {
        Value::Nil => out.push(0xc0),
        Value::Bool(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Int(i) => write_int(out, i128::from(*i), rng),
        Value::UInt(u) => write_int(out, i128::from(*u), rng),
        Value::Float(f) => {
            if (*f as f32) as f64 == *f && rng.random_bool(0.5) {
                out.push(0xca);
                out.extend((*f as f32).to_be_bytes());
            } else {
                out.push(0xcb);
                out.extend(f.to_be_bytes());
            }
        }
        Value::Str(s) => {
            let width = pick(rng, &length_widths(s.len(), 32));
            head(out, s.len(), width, 0xa0, [0xd9, 0xda, 0xdb]);
            out.extend(s.as_bytes());
        }
        Value::Bin(b) => {
            let width = pick(rng, &length_widths(b.len(), 0));
            head(out, b.len(), width, 0, [0xc4, 0xc5, 0xc6]);
            out.extend(b.iter());
        }
        Value::Array(items) => {
            let width = pick(rng, &length_widths(items.len(), 16));
            let width = if width == 1 { 2 } else { width }; // arrays have no 1-byte length
            head(out, items.len(), width, 0x90, [0, 0xdc, 0xdd]);
            items.iter().for_each(|item| write(out, item, rng));
        }
        Value::Map(map) => {
            let width = pick(rng, &length_widths(map.len(), 16));
            let width = if width == 1 { 2 } else { width }; // maps have no 1-byte length
            head(out, map.len(), width, 0x80, [0, 0xde, 0xdf]);
            for (key, item) in map {
                write(out, &Value::Str(key.clone()), rng);
                write(out, item, rng);
            }
        }
        Value::Ext(e) => {
            let len = e.data.len();
            let fixext = match len {
                1 => Some(0xd4),
                2 => Some(0xd5),
                4 => Some(0xd6),
                8 => Some(0xd7),
                16 => Some(0xd8),
                _ => None,
            };
            match fixext {
                Some(marker) if rng.random_bool(0.5) => out.push(marker),
                _ => {
                    let width = pick(rng, &length_widths(len, 0));
                    head(out, len, width, 0, [0xc7, 0xc8, 0xc9]);
                }
            }
            out.push(e.tag as u8);
            out.extend(e.data.iter());
        }
    }
}

fn write_int(out: &mut Vec<u8>, i: i128, rng: &mut StdRng) {
    // (marker, bytes after it, range it holds)
    let forms: [(u8, usize, i128, i128); 10] = [
        (0x00, 0, 0, 127),
        (0xe0, 0, -32, -1),
        (0xcc, 1, 0, u8::MAX.into()),
        (0xcd, 2, 0, u16::MAX.into()),
        (0xce, 4, 0, u32::MAX.into()),
        (0xcf, 8, 0, u64::MAX.into()),
        (0xd0, 1, i8::MIN.into(), i8::MAX.into()),
        (0xd1, 2, i16::MIN.into(), i16::MAX.into()),
        (0xd2, 4, i32::MIN.into(), i32::MAX.into()),
        (0xd3, 8, i64::MIN.into(), i64::MAX.into()),
    ];
    let fitting: Vec<_> = forms
        .iter()
        .filter(|(_, _, lo, hi)| (*lo..=*hi).contains(&i))
        .collect();
    let &(marker, len, _, _) = pick(rng, &fitting);
    if len == 0 {
        out.push(i as u8 | marker);
    } else {
        out.push(marker);
        out.extend(&(i as u64).to_be_bytes()[8 - len..]);
    }
}
