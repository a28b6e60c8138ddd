//! The payload of a packet: one publication and where it comes from, in msgpack.
//!
//! A map `{v: 1, o: ORIGIN, t: TOPIC, k: "all"|"client"|"except", c: CLIENT?, d: DATA}`:
//! the node it was published on (so that a node skips its own when the broker echoes
//! them), the topic, the target and the data.

use bytes::Bytes;
use wslink_core::id::is_valid_topic;
use wslink_core::{map, ClientId, CodecError, Target, Value};

const VERSION: i64 = 1;

/// Why a payload from the broker was not delivered.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WireError {
    #[error("packet of {0} bytes, above the limit of {1}")]
    TooLarge(usize, usize),
    #[error("undecodable packet: {0}")]
    Decode(#[from] CodecError),
    #[error("malformed packet: {0}")]
    Malformed(&'static str),
}

/// A publication as it travels between nodes.
#[derive(Debug, PartialEq)]
pub(crate) struct Remote {
    pub(crate) origin: String,
    pub(crate) topic: String,
    pub(crate) target: Target,
    pub(crate) data: Value,
}

/// Encodes a publication made on node `origin`.
pub(crate) fn encode(
    origin: &str,
    topic: &str,
    target: &Target,
    data: &Value,
) -> Result<Bytes, CodecError> {
    let (kind, client) = match target {
        Target::All => ("all", Value::Nil),
        Target::Client(c) => ("client", Value::from(c.as_str())),
        Target::AllExcept(c) => ("except", Value::from(c.as_str())),
    };
    // The data is written in place: a map holding a clone would copy it.
    let head = map! {"v" => VERSION, "o" => origin, "t" => topic, "k" => kind, "c" => client};
    let mut bytes = wslink_codec_msgpack::encode_value(&head)?;
    // Turn the 5-entry map into a 6-entry one and append `d`: fixmap heads are 0x80 | n.
    debug_assert_eq!(bytes[0], 0x85);
    bytes[0] = 0x86;
    bytes.extend_from_slice(&wslink_codec_msgpack::encode_value(&Value::from("d"))?);
    bytes.extend_from_slice(&wslink_codec_msgpack::encode_value(data)?);
    Ok(bytes.freeze())
}

/// Decodes a payload of at most `max_len` bytes, `max_depth` deep.
pub(crate) fn decode(bytes: &Bytes, max_len: usize, max_depth: usize) -> Result<Remote, WireError> {
    if bytes.len() > max_len {
        return Err(WireError::TooLarge(bytes.len(), max_len));
    }
    let Value::Map(mut m) = wslink_codec_msgpack::decode_value(bytes, max_depth)? else {
        return Err(WireError::Malformed("not a map"));
    };
    if m.get("v") != Some(&Value::Int(VERSION)) {
        return Err(WireError::Malformed("unknown version"));
    }
    let mut text = |key: &str| match m.swap_remove(key) {
        Some(Value::Str(s)) => Ok(s),
        _ => Err(WireError::Malformed("missing field")),
    };
    let origin = text("o")?;
    let topic = text("t")?;
    let kind = text("k")?;
    if !is_valid_topic(&topic) {
        return Err(WireError::Malformed("invalid topic"));
    }
    let client = || match m.get("c") {
        Some(Value::Str(c)) => Ok(ClientId::from_wire(c.as_str())),
        _ => Err(WireError::Malformed("missing client")),
    };
    let target = match kind.as_str() {
        "all" => Target::All,
        "client" => Target::Client(client()?),
        "except" => Target::AllExcept(client()?),
        _ => return Err(WireError::Malformed("unknown target")),
    };
    let data = m.swap_remove("d").unwrap_or_default();
    Ok(Remote {
        origin,
        topic,
        target,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_target() {
        let data = map! {"seq" => 3, "pad" => Value::Bin(Bytes::from_static(b"xyz"))};
        let id = ClientId::random();
        for target in [
            Target::All,
            Target::Client(id.clone()),
            Target::AllExcept(id.clone()),
        ] {
            let bytes = encode("n1", "a.b", &target, &data).unwrap();
            let remote = decode(&bytes, 1 << 20, 16).unwrap();
            assert_eq!(
                remote,
                Remote {
                    origin: "n1".into(),
                    topic: "a.b".into(),
                    target,
                    data: data.clone(),
                }
            );
        }
    }

    #[test]
    fn refuses_bad_packets() {
        let good = encode("n1", "a.b", &Target::All, &Value::Nil).unwrap();
        assert!(matches!(
            decode(&good, 4, 16),
            Err(WireError::TooLarge(_, 4))
        ));
        let junk = Bytes::from_static(&[0xc1]);
        assert!(matches!(decode(&junk, 64, 16), Err(WireError::Decode(_))));
        let not_map = wslink_codec_msgpack::encode_value(&Value::from(1))
            .unwrap()
            .freeze();
        assert!(matches!(
            decode(&not_map, 64, 16),
            Err(WireError::Malformed(_))
        ));
        let bad_topic = encode("n1", "a b", &Target::All, &Value::Nil).unwrap();
        assert!(matches!(
            decode(&bad_topic, 64, 16),
            Err(WireError::Malformed(_))
        ));
    }
}
