//! JSON text → [`Value`], accepting what the reference peers write.
//!
//! This is strict JSON (RFC 8259) plus the three bare tokens the Python server writes
//! for non-finite floats: `NaN`, `Infinity` and `-Infinity` (Python's `json` reads them
//! too; the JS 1.x client parses with JSON5 for them). `serde_json` refuses those tokens,
//! hence this small reader.
//!
//! Numbers keep their kind: an integer without `.` or exponent becomes
//! [`Value::Int`] (or [`Value::UInt`] above `i64::MAX`); anything else, and integers too
//! large for 64 bits (which JS would read as floats too), becomes [`Value::Float`].
//! `\u` escapes are decoded, surrogate pairs joined; a lone surrogate (which Python
//! and JS accept but a Rust string cannot hold) becomes U+FFFD. Duplicate keys keep the
//! first position and the last value, as Python and JS do.
//!
//! The reader trusts nothing: nesting is bounded by `max_depth` (the recursion depth is
//! the nesting depth, so this protects the stack: keep it in the hundreds), control
//! characters in strings, trailing commas and text after the value are errors, and an
//! error says what was wrong and at which byte offset.

use wslink_core::{CodecError, Map, Value};

/// Parses one JSON value that fills `text` (whitespace around it allowed), with arrays
/// and objects nested at most `max_depth` deep.
pub fn parse_value(text: &str, max_depth: usize) -> Result<Value, CodecError> {
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        depth_left: max_depth,
    };
    let value = reader.value()?;
    reader.skip_whitespace();
    if reader.pos != reader.bytes.len() {
        return Err(reader.error("unexpected text after the value"));
    }
    Ok(value)
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth_left: usize,
}

impl Reader<'_> {
    fn error(&self, what: &str) -> CodecError {
        CodecError::Malformed(format!("invalid JSON: {what} at offset {}", self.pos))
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Consumes `word` if the text continues with it.
    fn eat(&mut self, word: &str) -> bool {
        let found = self.bytes[self.pos..].starts_with(word.as_bytes());
        if found {
            self.pos += word.len();
        }
        found
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, CodecError> {
        if self.eat(word) {
            Ok(value)
        } else {
            Err(self.error("unknown word"))
        }
    }

    fn value(&mut self) -> Result<Value, CodecError> {
        self.skip_whitespace();
        match self.peek() {
            None => Err(self.error("unexpected end, expected a value")),
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => Ok(Value::Str(self.string()?)),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Nil),
            Some(b'N') => self.literal("NaN", Value::Float(f64::NAN)),
            Some(b'I') => self.literal("Infinity", Value::Float(f64::INFINITY)),
            Some(b'-') if self.eat("-Infinity") => Ok(Value::Float(f64::NEG_INFINITY)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("expected a value")),
        }
    }

    fn enter(&mut self) -> Result<(), CodecError> {
        self.depth_left = self
            .depth_left
            .checked_sub(1)
            .ok_or_else(|| self.error("nesting deeper than the limit"))?;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth_left += 1;
    }

    fn array(&mut self) -> Result<Value, CodecError> {
        self.enter()?;
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
        } else {
            loop {
                items.push(self.value()?);
                self.skip_whitespace();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b']') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.error("expected ',' or ']'")),
                }
            }
        }
        self.leave();
        Ok(Value::Array(items))
    }

    fn object(&mut self) -> Result<Value, CodecError> {
        self.enter()?;
        self.pos += 1; // '{'
        let mut map = Map::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
        } else {
            loop {
                self.skip_whitespace();
                if self.peek() != Some(b'"') {
                    return Err(self.error("expected a string key"));
                }
                let key = self.string()?;
                self.skip_whitespace();
                if self.peek() != Some(b':') {
                    return Err(self.error("expected ':'"));
                }
                self.pos += 1;
                let value = self.value()?;
                map.insert(key, value);
                self.skip_whitespace();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b'}') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.error("expected ',' or '}'")),
                }
            }
        }
        self.leave();
        Ok(Value::Map(map))
    }

    /// Reads a string starting at its opening quote.
    fn string(&mut self) -> Result<String, CodecError> {
        self.pos += 1; // '"'
        let mut out = String::new();
        let mut plain_from = self.pos;
        loop {
            match self.peek() {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => {
                    out.push_str(&self.text[plain_from..self.pos]);
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    out.push_str(&self.text[plain_from..self.pos]);
                    self.pos += 1;
                    self.escape(&mut out)?;
                    plain_from = self.pos;
                }
                Some(0..0x20) => return Err(self.error("control character in a string")),
                // Multi-byte UTF-8 sequences never contain ASCII bytes, so stepping byte
                // by byte never stops inside a character.
                Some(_) => self.pos += 1,
            }
        }
    }

    /// Reads the escape after a backslash.
    fn escape(&mut self, out: &mut String) -> Result<(), CodecError> {
        let Some(c) = self.peek() else {
            return Err(self.error("unterminated string"));
        };
        self.pos += 1;
        let decoded = match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => self.unicode_escape()?,
            _ => {
                self.pos -= 1;
                return Err(self.error("invalid escape"));
            }
        };
        out.push(decoded);
        Ok(())
    }

    /// Reads `XXXX` after `\u`, and a second `\uXXXX` when the first is a high surrogate.
    fn unicode_escape(&mut self) -> Result<char, CodecError> {
        let first = self.hex4()?;
        if (0xD800..0xDC00).contains(&first) {
            let save = self.pos;
            if self.eat("\\u") {
                let second = self.hex4()?;
                if (0xDC00..0xE000).contains(&second) {
                    let c = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                    return Ok(char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER));
                }
            }
            // A lone high surrogate: whatever followed is read on its own.
            self.pos = save;
        }
        Ok(char::from_u32(first).unwrap_or(char::REPLACEMENT_CHARACTER))
    }

    fn hex4(&mut self) -> Result<u32, CodecError> {
        let digits = self
            .bytes
            .get(self.pos..self.pos + 4)
            .filter(|d| d.iter().all(u8::is_ascii_hexdigit))
            .ok_or_else(|| self.error("\\u needs four hex digits"))?;
        let mut n = 0;
        for &d in digits {
            n = n * 16 + (d as char).to_digit(16).unwrap_or(0);
        }
        self.pos += 4;
        Ok(n)
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    /// Reads `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Result<Value, CodecError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        match self.digits() {
            0 => return Err(self.error("expected a digit")),
            n if n > 1 && self.bytes[int_start] == b'0' => {
                self.pos = int_start + 1;
                return Err(self.error("leading zero in a number"));
            }
            _ => {}
        }
        let mut integral = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            integral = false;
            if self.digits() == 0 {
                return Err(self.error("expected a digit after '.'"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            integral = false;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("expected a digit in the exponent"));
            }
        }
        let text = &self.text[start..self.pos];
        if integral {
            if let Ok(i) = text.parse::<i64>() {
                return Ok(Value::Int(i));
            }
            if let Ok(u) = text.parse::<u64>() {
                return Ok(Value::UInt(u));
            }
        }
        // The grammar above is a subset of what `f64::from_str` accepts; overflow reads
        // as ±inf and underflow as 0, as in Python and JS.
        text.parse::<f64>()
            .map(Value::Float)
            .map_err(|_| self.error("invalid number"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wslink_core::{array, map};

    fn parse(text: &str) -> Result<Value, CodecError> {
        parse_value(text, 16)
    }

    fn assert_malformed(text: &str) {
        match parse(text) {
            Err(CodecError::Malformed(_)) => {}
            other => panic!("{text:?} gave {other:?}"),
        }
    }

    #[test]
    fn reads_every_kind() {
        let text = r#" {"n": null, "t": true, "f": false, "i": -42, "x": 2.5e-3, "s": "a\"\\\/\b\f\n\r\tz",
                        "a": [1, [], {}], "m": {"k": "v"}} "#;
        let want = map! {
            "n" => Value::Nil, "t" => true, "f" => false, "i" => -42, "x" => 2.5e-3,
            "s" => "a\"\\/\u{8}\u{c}\n\r\tz",
            "a" => array![1, array![], map!{}], "m" => map!{"k" => "v"},
        };
        assert_eq!(parse(text).unwrap(), want);
    }

    #[test]
    fn numbers_keep_their_kind() {
        let cases = [
            ("0", Value::Int(0)),
            ("-0", Value::Int(0)),
            ("2.0", Value::Float(2.0)),
            ("1e2", Value::Float(100.0)),
            ("1E+2", Value::Float(100.0)),
            ("1e-05", Value::Float(1e-5)),
            ("-9223372036854775808", Value::Int(i64::MIN)),
            ("9223372036854775808", Value::UInt(1 << 63)),
            ("18446744073709551615", Value::UInt(u64::MAX)),
            ("18446744073709551616", Value::Float(18446744073709551616.0)),
            ("-9223372036854775809", Value::Float(-9223372036854775809.0)),
            ("1e400", Value::Float(f64::INFINITY)),
            ("Infinity", Value::Float(f64::INFINITY)),
            ("-Infinity", Value::Float(f64::NEG_INFINITY)),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text).unwrap(), want, "{text}");
        }
        assert!(matches!(parse("NaN"), Ok(Value::Float(f)) if f.is_nan()));
        assert!(matches!(parse("-0.0"), Ok(Value::Float(f)) if f == 0.0 && f.is_sign_negative()));
    }

    #[test]
    fn unicode_escapes_and_raw_non_ascii() {
        assert_eq!(parse(r#""\u00e9\u2713""#).unwrap(), Value::from("é✓"));
        assert_eq!(parse(r#""\ud83d\ude00""#).unwrap(), Value::from("😀"));
        assert_eq!(parse("\"héllo ✓ 😀\"").unwrap(), Value::from("héllo ✓ 😀"));
        // Lone surrogates cannot live in a Rust string.
        assert_eq!(parse(r#""\ud83dx""#).unwrap(), Value::from("\u{fffd}x"));
        assert_eq!(parse(r#""\ude00""#).unwrap(), Value::from("\u{fffd}"));
        assert_eq!(
            parse(r#""\ud83d\u0041""#).unwrap(),
            Value::from("\u{fffd}A")
        );
    }

    #[test]
    fn duplicate_keys_keep_the_first_place_and_the_last_value() {
        let v = parse(r#"{"a": 1, "b": 2, "a": 3}"#).unwrap();
        let keys: Vec<_> = v.as_map().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(v["a"], Value::Int(3));
    }

    #[test]
    fn invalid_json_is_malformed_with_a_reason() {
        for text in [
            "",
            "   ",
            "[1,]",
            "{\"a\":1,}",
            "[1 2]",
            "{\"a\" 1}",
            "{1: 2}",
            "{'a': 1}",
            "tru",
            "nul",
            "NaNa",
            "Inf",
            "-",
            "01",
            "-01",
            "1.",
            ".5",
            "1e",
            "1e+",
            "+1",
            "\"abc",
            "\"\\x\"",
            "\"\\u12\"",
            "\"\\u12g4\"",
            "\"a\nb\"",
            "[1] 2",
            "{} {}",
            "[",
            "{",
            "{\"a\"",
            "{\"a\":",
            "-Infinityx",
            "undefined",
            "\u{feff}1",
        ] {
            assert_malformed(text);
        }
        let Err(CodecError::Malformed(why)) = parse("[1, 2,, 3]") else {
            panic!()
        };
        assert_eq!(why, "invalid JSON: expected a value at offset 6");
    }

    #[test]
    fn nesting_is_bounded_without_recursing_past_the_limit() {
        let ok = format!("{}{}", "[".repeat(16), "]".repeat(16));
        assert!(parse(&ok).is_ok());
        let too_deep = format!("{}{}", "[".repeat(17), "]".repeat(17));
        assert_malformed(&too_deep);
        let hostile = "[{\"a\":".repeat(100_000);
        assert_malformed(&hostile);
        assert_malformed(&"[".repeat(1_000_000));
        // Siblings do not add up.
        let wide = format!("[{}[]]", "[[]],".repeat(1000));
        assert!(parse(&wide).is_ok());
    }
}
