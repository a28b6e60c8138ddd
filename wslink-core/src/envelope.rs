//! The envelope: the map every wslink message is, in both wire generations.
//!
//! ```text
//! request      {wslink:"1.0", id, method, args:[...], kwargs:{...}}
//! response ok  {wslink:"1.0", id, result}
//! response err {wslink:"1.0", id, error:{code, message[, data]}}
//! publication  {wslink:"1.0", id:"publish:<topic>:<n>", result}
//! ```
//!
//! [`Message`] is the typed form. Codecs turn it into frames and back; [`Message::from_value`]
//! classifies a decoded map and [`Message::into_value`] builds one with the keys in the
//! reference order, so encoders produce the same bytes as the reference peers.

use crate::error::WireError;
use crate::id::{publish_id, Id};
use crate::value::{Map, Value};

/// The version tag every message carries (never checked by anyone).
pub const WSLINK_VERSION: &str = "1.0";

/// A call: `method(*args, **kwargs)`, answered by a [`Response`] with the same id.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The id the response will carry.
    pub id: String,
    /// The method name, e.g. `test.add`.
    pub method: String,
    /// Positional arguments.
    pub args: Vec<Value>,
    /// Keyword arguments.
    pub kwargs: Map,
}

/// The answer to a [`Request`].
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The request's id.
    pub id: String,
    /// The result, or the error.
    pub outcome: Result<Value, WireError>,
}

/// Data published on a topic.
#[derive(Debug, Clone, PartialEq)]
pub struct Publication {
    /// The topic (dot-separated words).
    pub topic: String,
    /// A counter for the id; receivers must not rely on it.
    pub counter: u64,
    /// The published data.
    pub data: Value,
}

/// One wslink message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A call (or the hello).
    Request(Request),
    /// A result or an error.
    Response(Response),
    /// A publication.
    Publication(Publication),
}

/// The fields of an envelope that mean something, as read off the wire (others, like
/// `wslink`, are ignored).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct EnvelopeFields {
    /// `id`.
    pub id: Option<Value>,
    /// `method`.
    pub method: Option<Value>,
    /// `args`.
    pub args: Option<Value>,
    /// `kwargs`.
    pub kwargs: Option<Value>,
    /// `result`.
    pub result: Option<Value>,
    /// `error`.
    pub error: Option<Value>,
}

/// A decoded value that is not a wslink message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EnvelopeError {
    /// The message is not a map.
    #[error("a wslink message must be a map, got {0}")]
    NotAMap(&'static str),
    /// A map without an `id`: addressed to no one, so nobody can act on it.
    #[error("a message without an id")]
    NoId,
    /// `id` is present but not a string.
    #[error("the id must be a string, got {0}")]
    BadId(&'static str),
    /// `method` is present but not a string (the message can still be answered by id).
    #[error("the method must be a string, got {kind}")]
    BadMethod {
        /// The message's id.
        id: String,
        /// What the method was instead.
        kind: &'static str,
    },
}

impl Message {
    /// The message's id as it goes on the wire.
    pub fn id(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Message::Request(r) => r.id.as_str().into(),
            Message::Response(r) => r.id.as_str().into(),
            Message::Publication(p) => publish_id(&p.topic, p.counter).into(),
        }
    }

    /// Classifies a decoded map.
    ///
    /// * a map with `method` and `id` is a [`Request`]; `args` that is not an array counts
    ///   as `[]`, `kwargs` that is not a map as `{}` (as the reference does);
    /// * a map with `id` and no `method` is a [`Publication`] when the id is a valid
    ///   `publish:` id without an error, else a [`Response`] (a missing result is nil);
    /// * a map without `id` is not addressed to anyone: [`EnvelopeError::NoId`].
    pub fn from_value(value: Value) -> Result<Message, EnvelopeError> {
        let Value::Map(mut m) = value else {
            return Err(EnvelopeError::NotAMap(value.kind()));
        };
        Message::from_fields(EnvelopeFields {
            id: m.swap_remove("id"),
            method: m.swap_remove("method"),
            args: m.swap_remove("args"),
            kwargs: m.swap_remove("kwargs"),
            result: m.swap_remove("result"),
            error: m.swap_remove("error"),
        })
    }

    /// Classifies the fields of an envelope (the rules of [`Message::from_value`]); for
    /// decoders that read the fields straight off the wire without building a map.
    pub fn from_fields(fields: EnvelopeFields) -> Result<Message, EnvelopeError> {
        let id = match fields.id {
            None => return Err(EnvelopeError::NoId),
            Some(Value::Str(id)) => id,
            Some(other) => return Err(EnvelopeError::BadId(other.kind())),
        };
        match fields.method {
            Some(Value::Str(method)) => {
                let args = match fields.args {
                    Some(Value::Array(args)) => args,
                    _ => Vec::new(),
                };
                let kwargs = match fields.kwargs {
                    Some(Value::Map(kwargs)) => kwargs,
                    _ => Map::new(),
                };
                Ok(Message::Request(Request {
                    id,
                    method,
                    args,
                    kwargs,
                }))
            }
            Some(other) => Err(EnvelopeError::BadMethod {
                id,
                kind: other.kind(),
            }),
            None => {
                let error = fields.error.filter(|e| !e.is_nil());
                let result = fields.result.unwrap_or_default();
                if error.is_none() {
                    if let Id::Publish { topic, counter } = Id::parse(&id) {
                        return Ok(Message::Publication(Publication {
                            topic: topic.to_owned(),
                            counter,
                            data: result,
                        }));
                    }
                }
                let outcome = match error {
                    Some(e) => Err(WireError::from_value(e)),
                    None => Ok(result),
                };
                Ok(Message::Response(Response { id, outcome }))
            }
        }
    }

    /// The message as a map, keys in the reference order.
    pub fn into_value(self) -> Value {
        let mut m = Map::with_capacity(5);
        m.insert("wslink".into(), WSLINK_VERSION.into());
        match self {
            Message::Request(r) => {
                m.insert("id".into(), r.id.into());
                m.insert("method".into(), r.method.into());
                m.insert("args".into(), Value::Array(r.args));
                m.insert("kwargs".into(), Value::Map(r.kwargs));
            }
            Message::Response(r) => {
                m.insert("id".into(), r.id.into());
                match r.outcome {
                    Ok(result) => m.insert("result".into(), result),
                    Err(e) => m.insert("error".into(), e.to_value()),
                };
            }
            Message::Publication(p) => {
                m.insert("id".into(), publish_id(&p.topic, p.counter).into());
                m.insert("result".into(), p.data);
            }
        }
        Value::Map(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{array, map};

    #[test]
    fn classifies_requests_responses_and_publications() {
        let req = map! { "wslink" => "1.0", "id" => "rpc:c1:0", "method" => "a.b", "args" => array![1], "kwargs" => map!{} };
        assert!(
            matches!(Message::from_value(req), Ok(Message::Request(r)) if r.method == "a.b" && r.args == vec![Value::Int(1)])
        );

        let publ = map! { "wslink" => "1.0", "id" => "publish:t.x:0", "result" => 5 };
        assert_eq!(
            Message::from_value(publ).unwrap(),
            Message::Publication(Publication {
                topic: "t.x".into(),
                counter: 0,
                data: 5.into()
            })
        );

        let err = map! { "id" => "rpc:c1:0", "error" => map!{"code" => -32601, "message" => "m"} };
        let Message::Response(r) = Message::from_value(err).unwrap() else {
            panic!()
        };
        assert_eq!(r.outcome.unwrap_err().code, -32601);

        let nil = map! { "id" => "rpc:c1:0" };
        let Message::Response(r) = Message::from_value(nil).unwrap() else {
            panic!()
        };
        assert_eq!(r.outcome, Ok(Value::Nil));
    }

    #[test]
    fn lenient_where_the_reference_is_lenient() {
        let req = map! { "id" => "x", "method" => "m", "args" => "not a list", "kwargs" => 3 };
        let Message::Request(r) = Message::from_value(req).unwrap() else {
            panic!()
        };
        assert!(r.args.is_empty() && r.kwargs.is_empty());
        assert_eq!(
            Message::from_value(map! { "method" => "m" }),
            Err(EnvelopeError::NoId)
        );
        // A publication with an invalid topic is just a response nobody waits for.
        let bad = map! { "id" => "publish:my-topic:0", "result" => 1 };
        assert!(matches!(
            Message::from_value(bad).unwrap(),
            Message::Response(_)
        ));
    }

    #[test]
    fn rejects_non_maps_and_bad_ids() {
        assert_eq!(
            Message::from_value(array![1]),
            Err(EnvelopeError::NotAMap("array"))
        );
        assert_eq!(
            Message::from_value(map! {"id" => 1}),
            Err(EnvelopeError::BadId("integer"))
        );
        assert_eq!(
            Message::from_value(map! {"id" => "x", "method" => 1}),
            Err(EnvelopeError::BadMethod {
                id: "x".into(),
                kind: "integer"
            })
        );
    }

    #[test]
    fn into_value_uses_reference_key_order_and_round_trips() {
        let msg = Message::Response(Response {
            id: "rpc:c1:2".into(),
            outcome: Err(WireError::new(-1, "m")),
        });
        let v = msg.clone().into_value();
        let keys: Vec<_> = v.as_map().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["wslink", "id", "error"]);
        assert_eq!(Message::from_value(v).unwrap(), msg);
        let req = Message::Request(Request {
            id: "i".into(),
            method: "m".into(),
            args: vec![],
            kwargs: Map::new(),
        });
        let keys: Vec<_> = req
            .clone()
            .into_value()
            .as_map()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys, ["wslink", "id", "method", "args", "kwargs"]);
    }
}
