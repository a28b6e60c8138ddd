//! [`Value`] → JSON text, as the reference peers write it.
//!
//! The two reference peers agree on everything except spacing:
//!
//! | | Python server (`json.dumps(…, ensure_ascii=False)`) | JS client (`JSON.stringify`) |
//! |---|---|---|
//! | separators | `", "` and `": "` ([`Style::Python`]) | `","` and `":"` ([`Style::Compact`]) |
//! | non-ASCII | written as is | written as is |
//! | escapes | `\"` `\\` `\n` `\r` `\t` `\b` `\f`, other controls `\u00XX` | the same |
//! | float `2.0` | `2.0` | `2` |
//! | NaN, ±inf | bare `NaN`, `Infinity`, `-Infinity` | `null` |
//!
//! Whatever the style, numbers are written the Python way, because only that way
//! survives a round trip: a float stays a float (`2.0`, never `2`) and prints its
//! shortest exact form (`0.1`, `1e+16`, `1e-05`); non-finite floats are the bare tokens
//! that Python's `json` and the JS client's JSON5 parser read back. Integers are exact
//! (`i64` and `u64`). Map entries keep their order, so output is deterministic.
//!
//! JSON cannot hold binary: the writer asks a callback for the text to put in place of
//! each [`Value::Bin`] (the codec hands out attachment keys there).

use std::fmt::Write as _;

use bytes::Bytes;
use wslink_core::{Ext, Map, Value};

/// Spacing of the JSON text. Every reader accepts both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Style {
    /// No spaces, as the JS client's `JSON.stringify` writes:
    /// `{"a":[1,2]}`.
    #[default]
    Compact,
    /// A space after `,` and `:`, as the Python server's `json.dumps` writes:
    /// `{"a": [1, 2]}`.
    Python,
}

impl Style {
    pub(crate) fn item_separator(self) -> &'static str {
        match self {
            Style::Compact => ",",
            Style::Python => ", ",
        }
    }

    pub(crate) fn key_separator(self) -> &'static str {
        match self {
            Style::Compact => ":",
            Style::Python => ": ",
        }
    }
}

/// Appends `value` as JSON to `out`. Each [`Value::Bin`] is written as the string that
/// `binary` returns for it.
pub fn write_value<F>(out: &mut String, value: &Value, style: Style, binary: &mut F)
where
    F: FnMut(&Bytes) -> String,
{
    match value {
        Value::Nil => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::UInt(u) => {
            let _ = write!(out, "{u}");
        }
        Value::Float(f) => write_float(out, *f),
        Value::Str(s) => write_str(out, s),
        Value::Bin(b) => {
            let text = binary(b);
            write_str(out, &text);
        }
        Value::Array(items) => write_array(out, items, style, binary),
        Value::Map(map) => write_map(out, map, style, binary),
        Value::Ext(e) => write_ext(out, e, style, binary),
    }
}

/// JSON has no extension values: an extension is written as `{"type": tag, "data": bin}`
/// (its data an attachment like any binary), the map the JS client's msgpack decoder
/// makes of an extension it does not know. Reading JSON never gives an extension back.
fn write_ext<F>(out: &mut String, ext: &Ext, style: Style, binary: &mut F)
where
    F: FnMut(&Bytes) -> String,
{
    out.push('{');
    write_str(out, "type");
    out.push_str(style.key_separator());
    let _ = write!(out, "{}", ext.tag);
    out.push_str(style.item_separator());
    write_str(out, "data");
    out.push_str(style.key_separator());
    write_str(out, &binary(&ext.data));
    out.push('}');
}

/// Appends the items as a JSON array.
pub(crate) fn write_array<F>(out: &mut String, items: &[Value], style: Style, binary: &mut F)
where
    F: FnMut(&Bytes) -> String,
{
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(style.item_separator());
        }
        write_value(out, item, style, binary);
    }
    out.push(']');
}

/// Appends the entries as a JSON object, in their order.
pub(crate) fn write_map<F>(out: &mut String, map: &Map, style: Style, binary: &mut F)
where
    F: FnMut(&Bytes) -> String,
{
    out.push('{');
    for (i, (key, item)) in map.iter().enumerate() {
        if i > 0 {
            out.push_str(style.item_separator());
        }
        write_str(out, key);
        out.push_str(style.key_separator());
        write_value(out, item, style, binary);
    }
    out.push('}');
}

/// Appends `s` as a JSON string: quotes, backslashes and control characters escaped,
/// everything else (non-ASCII included) as it is.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    let mut plain_from = 0;
    for (i, c) in s.char_indices() {
        let escape = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            '\u{8}' => "\\b",
            '\u{c}' => "\\f",
            c if c < ' ' => "",
            _ => continue,
        };
        out.push_str(&s[plain_from..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push_str(escape);
        }
        plain_from = i + c.len_utf8();
    }
    out.push_str(&s[plain_from..]);
    out.push('"');
}

/// Appends a float as Python's `repr` writes it: the shortest text that reads back to
/// the same number, always with a `.` or an exponent (so it stays a float), exponents
/// with a sign and at least two digits, and `NaN`, `Infinity`, `-Infinity`.
pub fn write_float(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("NaN");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
    } else {
        // Rust's `{:?}` is the shortest round-trip form, switching to an exponent below
        // 1e-4 and from 1e16 as Python's repr does; only the exponent spelling differs
        // (`1e16` vs `1e+16`, `1e-5` vs `1e-05`).
        let text = format!("{f:?}");
        match text.split_once('e') {
            None => out.push_str(&text),
            Some((mantissa, exponent)) => {
                let (sign, digits) = match exponent.strip_prefix('-') {
                    Some(digits) => ('-', digits),
                    None => ('+', exponent),
                };
                out.push_str(mantissa);
                out.push('e');
                out.push(sign);
                if digits.len() < 2 {
                    out.push('0');
                }
                out.push_str(digits);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wslink_core::{array, map};

    fn json(value: &Value, style: Style) -> String {
        let mut out = String::new();
        write_value(&mut out, value, style, &mut |b: &Bytes| {
            format!("<{}>", b.len())
        });
        out
    }

    fn float(f: f64) -> String {
        let mut out = String::new();
        write_float(&mut out, f);
        out
    }

    #[test]
    fn floats_are_written_as_python_repr() {
        let cases = [
            (2.0, "2.0"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (3.5, "3.5"),
            (1e16, "1e+16"),
            (1.5e300, "1.5e+300"),
            (9999999999999998.0, "9999999999999998.0"),
            (0.0001, "0.0001"),
            (1e-5, "1e-05"),
            (1.2345e-7, "1.2345e-07"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (f, want) in cases {
            assert_eq!(float(f), want, "{f:?}");
        }
    }

    #[test]
    fn strings_escape_what_python_and_js_escape() {
        let mut out = String::new();
        write_str(
            &mut out,
            "a\"b\\c\n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f}é✓/\u{2028}",
        );
        assert_eq!(
            out,
            "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\u{7f}é✓/\u{2028}\""
        );
    }

    #[test]
    fn styles_differ_only_in_spacing() {
        let v = map! { "a" => array![1, -2, Value::Nil, true], "b" => map!{}, "c" => array![] };
        assert_eq!(
            json(&v, Style::Compact),
            r#"{"a":[1,-2,null,true],"b":{},"c":[]}"#
        );
        assert_eq!(
            json(&v, Style::Python),
            r#"{"a": [1, -2, null, true], "b": {}, "c": []}"#
        );
    }

    #[test]
    fn integers_are_exact_and_binary_asks_the_callback() {
        let v = array![
            i64::MIN,
            Value::UInt(u64::MAX),
            bytes::Bytes::from_static(b"xyz")
        ];
        assert_eq!(
            json(&v, Style::Compact),
            r#"[-9223372036854775808,18446744073709551615,"<3>"]"#
        );
    }
}
