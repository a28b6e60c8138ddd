//! Templating of `cmd`, `sessionURL` and `sessionData`: `$name` and `${name}`.
//!
//! The syntax is the one of Python's `string.Template`, which the reference uses:
//!
//! * `$name` — `name` is the longest run of ASCII letters, digits and `_` that starts
//!   with a letter or `_`;
//! * `${name}` — the same, delimited (needed when letters follow: `${port}abc`);
//! * `$$` — a literal `$`.
//!
//! Substitution is *safe*: a placeholder whose name is not known is left exactly as
//! written (and reported to the caller, who logs it), and a `$` that starts no
//! placeholder stays. Upper-case words without `$` such as `USE_HOSTNAME` and
//! `USE_HOST` are ordinary text: the JS client replaces them itself.
//!
//! Values are JSON values: strings are inserted as they are, numbers and booleans as
//! their JSON text, `null` as an empty string, arrays and objects as JSON.
//!
//! Substitution happens in one pass with one map of values (built by the session; see
//! `session.rs` for which source wins), so a value inserted is never expanded again.

use serde_json::{Map, Value};

/// The text of `template` with every known placeholder replaced, and the names of the
/// placeholders left unresolved.
pub fn substitute(template: &str, values: &Map<String, Value>) -> (String, Vec<String>) {
    let mut out = String::with_capacity(template.len());
    let mut unresolved = Vec::new();
    for piece in parse(template) {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Dollar => out.push('$'),
            Piece::Name { name, raw } => match values.get(name) {
                Some(v) => out.push_str(&value_text(v)),
                None => {
                    out.push_str(raw);
                    unresolved.push(name.to_owned());
                }
            },
        }
    }
    (out, unresolved)
}

/// Whether `template` has a placeholder for `name` (`$name` or `${name}`).
pub fn references(template: &str, name: &str) -> bool {
    parse(template)
        .into_iter()
        .any(|p| matches!(p, Piece::Name { name: n, .. } if n == name))
}

/// A value as inserted into text.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

enum Piece<'a> {
    Text(&'a str),
    Dollar,
    Name { name: &'a str, raw: &'a str },
}

fn is_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_part(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn parse(t: &str) -> Vec<Piece<'_>> {
    let bytes = t.as_bytes();
    let mut pieces = Vec::new();
    let mut text_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        // Everything here is ASCII, so the slicing below stays on char boundaries.
        let placeholder = match bytes.get(i + 1) {
            Some(b'$') => Some((i + 2, Piece::Dollar)),
            Some(b'{') => {
                let start = i + 2;
                let mut end = start;
                while end < bytes.len() && is_part(bytes[end]) {
                    end += 1;
                }
                (end > start && is_start(bytes[start]) && bytes.get(end) == Some(&b'}')).then(
                    || {
                        (
                            end + 1,
                            Piece::Name {
                                name: &t[start..end],
                                raw: &t[i..end + 1],
                            },
                        )
                    },
                )
            }
            Some(&b) if is_start(b) => {
                let mut end = i + 1;
                while end < bytes.len() && is_part(bytes[end]) {
                    end += 1;
                }
                Some((
                    end,
                    Piece::Name {
                        name: &t[i + 1..end],
                        raw: &t[i..end],
                    },
                ))
            }
            _ => None,
        };
        match placeholder {
            Some((next, piece)) => {
                if text_start < i {
                    pieces.push(Piece::Text(&t[text_start..i]));
                }
                pieces.push(piece);
                i = next;
                text_start = next;
            }
            None => i += 1,
        }
    }
    if text_start < bytes.len() {
        pieces.push(Piece::Text(&t[text_start..]));
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values() -> Map<String, Value> {
        json!({"port": 9100, "host": "127.0.0.1", "secret": "s3", "flag": true, "none": null})
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn both_forms_and_literal_dollar() {
        let (s, u) = substitute("ws://${host}:$port/ws?k=$secret&x=$$port", &values());
        assert_eq!(s, "ws://127.0.0.1:9100/ws?k=s3&x=$port");
        assert!(u.is_empty());
        let (s, _) = substitute("${port}abc $portabc", &values());
        assert_eq!(s, "9100abc $portabc");
        let (s, _) = substitute("$flag/$none/é$host€", &values());
        assert_eq!(s, "true//é127.0.0.1€");
    }

    #[test]
    fn unresolved_stays_and_is_reported() {
        let (s, u) = substitute("a $missing ${gone} ${bad-name} $ 5$ $1", &values());
        assert_eq!(s, "a $missing ${gone} ${bad-name} $ 5$ $1");
        assert_eq!(u, ["missing", "gone"]);
    }

    #[test]
    fn client_placeholders_are_plain_text() {
        let (s, u) = substitute("ws://USE_HOSTNAME:${port}/ws USE_HOST", &values());
        assert_eq!(s, "ws://USE_HOSTNAME:9100/ws USE_HOST");
        assert!(u.is_empty());
    }

    #[test]
    fn finds_references() {
        assert!(references("--authKey=${secret}", "secret"));
        assert!(references("$secret", "secret"));
        assert!(!references("$secrets", "secret"));
        assert!(!references("$$secret", "secret"));
    }
}
