//! Message ids and client ids.
//!
//! Every request, response and publication carries a string id whose first field says
//! what it is:
//!
//! ```text
//! system:c0:0                                   the hello
//! rpc:c0123456789abcdef0123456789abcdef:7       a call from that client (counter 7)
//! publish:wslink.communication.channel:12       a publication on that topic
//! ```
//!
//! The JS client only accepts ids matching `^(rpc|publish|system):(\w+(?:\.\w+)*):\d+$`, so
//! a topic must be dot-separated words of `[A-Za-z0-9_]` ([`is_valid_topic`]).
//!
//! ```
//! use wslink_core::id::{Id, publish_id};
//! assert_eq!(publish_id("image", 3), "publish:image:3");
//! assert_eq!(Id::parse("publish:image:3"), Id::Publish { topic: "image", counter: 3 });
//! assert_eq!(Id::parse("system:c0:0"), Id::System);
//! ```

use std::fmt;
use std::sync::Arc;

/// The id of the hello request and its reply.
pub const HELLO_ID: &str = "system:c0:0";

/// The method name of the handshake.
pub const HELLO_METHOD: &str = "wslink.hello";

/// What an id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Id<'a> {
    /// A system message (the first field is `system`).
    System,
    /// An RPC id `rpc:<client>:<counter>`.
    Rpc {
        /// The client id, with its `c` prefix.
        client: &'a str,
        /// The per-client counter.
        counter: u64,
    },
    /// A publication id `publish:<topic>:<counter>`.
    Publish {
        /// The topic.
        topic: &'a str,
        /// The counter (the reference always sends 0; never use it for ordering).
        counter: u64,
    },
    /// Anything else; servers echo such ids verbatim.
    Other(&'a str),
}

impl<'a> Id<'a> {
    /// Classifies an id. `system:` ids are recognised by their first field alone, as the
    /// reference server does; `rpc:` and `publish:` ids need the full grammar.
    pub fn parse(id: &'a str) -> Id<'a> {
        // Byte-level: ids are parsed for every message, and ':' is ASCII.
        let bytes = id.as_bytes();
        let Some(first) = bytes.iter().position(|&b| b == b':') else {
            return Id::Other(id);
        };
        let kind = &id[..first];
        if kind == "system" {
            return Id::System;
        }
        let rest = &id[first + 1..];
        let Some(last) = rest.bytes().rposition(|b| b == b':') else {
            return Id::Other(id);
        };
        let (middle, digits) = (&rest[..last], &rest.as_bytes()[last + 1..]);
        let Some(counter) = parse_counter(digits) else {
            return Id::Other(id);
        };
        match kind {
            "rpc" if is_valid_topic(middle) => Id::Rpc {
                client: middle,
                counter,
            },
            "publish" if is_valid_topic(middle) => Id::Publish {
                topic: middle,
                counter,
            },
            _ => Id::Other(id),
        }
    }
}

/// One or more ASCII digits that fit a `u64` (no sign, no spaces).
fn parse_counter(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &b| {
        if b.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

/// `true` if `topic` is dot-separated words of ASCII letters, digits and `_`: the only
/// topics the JS client delivers.
pub fn is_valid_topic(topic: &str) -> bool {
    // One pass over the bytes: a word character ends the need for one; a dot needs
    // one before it and one after it.
    let mut need_word = true;
    for &b in topic.as_bytes() {
        if b == b'.' {
            if need_word {
                return false;
            }
            need_word = true;
        } else if b.is_ascii_alphanumeric() || b == b'_' {
            need_word = false;
        } else {
            return false;
        }
    }
    !need_word
}

/// `rpc:<client>:<counter>`.
pub fn rpc_id(client: &ClientId, counter: u64) -> String {
    format!("rpc:{}:{counter}", client.as_str())
}

/// `publish:<topic>:<counter>`.
pub fn publish_id(topic: &str, counter: u64) -> String {
    format!("publish:{topic}:{counter}")
}

/// A client id as sent in the hello reply: `c` followed by 32 lowercase hex digits.
///
/// Cheap to clone (shared string).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(Arc<str>);

impl ClientId {
    /// A fresh random id (128 random bits).
    pub fn random() -> Self {
        let bits: u128 = rand::random();
        ClientId(format!("c{bits:032x}").into())
    }

    /// Wraps an id received from a server (any string is accepted).
    pub fn from_wire(id: impl Into<Arc<str>>) -> Self {
        ClientId(id.into())
    }

    /// The id with its `c` prefix, as on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientId({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_kinds() {
        let client = "c0123456789abcdef0123456789abcdef";
        assert_eq!(
            Id::parse(&format!("rpc:{client}:42")),
            Id::Rpc {
                client,
                counter: 42
            }
        );
        assert_eq!(
            Id::parse("publish:a.b_c.D9:0"),
            Id::Publish {
                topic: "a.b_c.D9",
                counter: 0
            }
        );
        assert_eq!(Id::parse("system:c0:0"), Id::System);
        assert_eq!(Id::parse("system:anything"), Id::System);
    }

    #[test]
    fn rejects_what_the_js_client_rejects() {
        for id in [
            "publish:my-topic:0",
            "publish:a..b:0",
            "publish::0",
            "publish:a:",
            "publish:a:-1",
            "publish:a:+1",
            "publish:é:0",
            "rpc:c1",
            "nothing",
            "",
            "publish:a:99999999999999999999999",
        ] {
            assert!(
                matches!(Id::parse(id), Id::Other(_)),
                "{id} should not parse"
            );
        }
    }

    #[test]
    fn topic_grammar() {
        assert!(is_valid_topic("wslink.communication.channel"));
        assert!(is_valid_topic("_"));
        assert!(!is_valid_topic(""));
        assert!(!is_valid_topic(".a"));
        assert!(!is_valid_topic("a b"));
        assert!(!is_valid_topic("a/b"));
    }

    /// The grammar written the plain way: split on separators, check each piece.
    fn plain_topic(topic: &str) -> bool {
        !topic.is_empty()
            && topic
                .split('.')
                .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    }

    fn plain_parse(id: &str) -> Id<'_> {
        let Some((kind, rest)) = id.split_once(':') else {
            return Id::Other(id);
        };
        if kind == "system" {
            return Id::System;
        }
        let Some((middle, counter)) = rest.rsplit_once(':') else {
            return Id::Other(id);
        };
        let counter = match counter.parse::<u64>() {
            Ok(n) if counter.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Id::Other(id),
        };
        match kind {
            "rpc" if plain_topic(middle) => Id::Rpc {
                client: middle,
                counter,
            },
            "publish" if plain_topic(middle) => Id::Publish {
                topic: middle,
                counter,
            },
            _ => Id::Other(id),
        }
    }

    proptest::proptest! {
        #[test]
        fn byte_level_parsing_agrees_with_the_plain_grammar(
            id in "(rpc|publish|system|x)?:?[a-c._:é0-9+-]{0,12}(:[0-9+]{0,21})?",
        ) {
            proptest::prop_assert_eq!(Id::parse(&id), plain_parse(&id));
            proptest::prop_assert_eq!(is_valid_topic(&id), plain_topic(&id));
        }
    }

    #[test]
    fn client_ids_are_c_and_32_hex_digits_and_distinct() {
        let a = ClientId::random();
        let b = ClientId::random();
        assert_ne!(a, b);
        let s = a.as_str();
        assert_eq!(s.len(), 33);
        assert!(s.starts_with('c'));
        assert!(s[1..]
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_eq!(rpc_id(&a, 3), format!("rpc:{s}:3"));
        assert!(matches!(
            Id::parse(&rpc_id(&a, 3)),
            Id::Rpc { counter: 3, .. }
        ));
    }
}
