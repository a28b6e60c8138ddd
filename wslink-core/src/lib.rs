//! The wslink message model and the traits the other crates build on.
//!
//! wslink is RPC and publish/subscribe over one WebSocket per client: a client calls
//! `method(args, kwargs)` and gets a result or an error later, with many calls in flight;
//! the server publishes on topics; binary travels without encoding overhead; a hello with
//! a secret comes first. This crate holds what every part shares and nothing tied to a
//! network or a format:
//!
//! | module | what it holds |
//! |---|---|
//! | [`value`] | [`Value`], the dynamic data (binary as [`bytes::Bytes`]), serde conversions |
//! | [`envelope`] | [`Message`]: requests, responses, publications |
//! | [`id`] | the id grammar (`system:c0:0`, `rpc:<client>:<n>`, `publish:<topic>:<n>`), [`ClientId`] |
//! | [`error`] | wire errors and their codes, [`RpcError`] and its one mapping to the wire |
//! | [`codec`] | [`Codec`]: message ⇄ frames, with a [`Decoder`] per connection; [`Encoded`], the frames of one message (some may be [`BinaryParts`], made of several buffers); [`codec::DynCodec`], a codec as a trait object |
//! | [`defaults`] | the reference's defaults: secret, chunk size, message overhead |
//! | [`transport`] | [`Transport`], [`Listener`]: connections that carry frames |
//! | [`memory`] | an in-process transport for tests and embedding |
//! | [`ping`] | [`ping::PingTicker`]: when a connection's writer sends its keepalive ping |
//! | [`router`] | [`Call`]: an RPC is a `tower::Service<Call>` |
//! | [`pubsub`] | [`PubSub`]: publish to all, one, or all but one client |
//! | [`session`] | [`Session`]: one connected client as the server sees it |
//! | [`extensions`] | [`Extensions`] (values by type: application state, per-connection values) and [`Identity`] (who a client is) |
//! | [`topic`] | [`Topic<T>`]: a topic name with the type of its publications |
//!
//! Data flows one way through named stages: frame → codec → envelope → router and
//! middleware → handler → envelope → codec → frame.
//!
//! ```
//! use wslink_core::{map, Message, Request, Value};
//!
//! let request = Message::Request(Request {
//!     id: "rpc:c1:0".into(),
//!     method: "test.add".into(),
//!     args: vec![1.into(), 2.5.into()],
//!     kwargs: Default::default(),
//! });
//! let value = request.clone().into_value();
//! assert_eq!(value["method"], Value::from("test.add"));
//! assert_eq!(Message::from_value(value).unwrap(), request);
//! # let _ = map! {};
//! ```

pub mod codec;
pub mod defaults;
pub mod envelope;
pub mod error;
pub mod extensions;
pub mod filter;
pub mod id;
pub mod inbound;
pub mod memory;
pub mod ping;
pub mod pubsub;
pub mod router;
pub mod session;
pub mod topic;
pub mod transport;
pub mod value;

pub use codec::{
    BinaryParts, Codec, CodecError, DecodeLimits, Decoder, Encoded, Frame, FrameRef, Generation,
};
pub use envelope::{EnvelopeError, EnvelopeFields, Message, Publication, Request, Response};
pub use error::{ArgumentError, RpcError, WireError};
pub use extensions::{Anonymous, Extensions, Identity};
pub use filter::{Filter, FilterError, FilterLimits, TopicPattern};
pub use id::ClientId;
pub use pubsub::{PubSub, PublishError, Target};
pub use router::{BoxCallService, Call, CallKind};
pub use session::Session;
pub use topic::Topic;
pub use transport::{
    Close, CloseCode, FrameSink, FrameStream, Listener, PeerInfo, ServeConnection, Transport,
    TransportError,
};
pub use value::{
    from_value, into_value, to_value, Ext, Map, Timestamp, TimestampError, Value, ValueError,
};

pub use bytes::Bytes;
