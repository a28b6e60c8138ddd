//! What can go wrong for a client.

use wslink_core::error::code;
use wslink_core::{CodecError, TransportError, ValueError, WireError};

/// Why a call, the hello or a subscription failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error.
    #[error(transparent)]
    Rpc(WireError),
    /// The server rejected the hello.
    #[error("authentication failed: {0}")]
    Auth(WireError),
    /// The connection closed before the answer came.
    #[error("connection closed")]
    Disconnected,
    /// No answer within the request timeout.
    #[error("no answer within the request timeout")]
    Timeout,
    /// A message could not be encoded, or the server sent something undecodable.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// The transport failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The server broke the protocol (an unexpected hello reply, for example).
    #[error("protocol error: {0}")]
    Protocol(String),
    /// A topic the JS grammar does not allow (servers would never reach it).
    #[error("invalid topic {0:?}: use dot-separated words of letters, digits and '_'")]
    InvalidTopic(String),
    /// The result did not convert to the requested type.
    #[error("unexpected result: {0}")]
    Value(#[from] ValueError),
}

impl ClientError {
    /// The wire code of a server error, or -32099 (the JS client's code for local
    /// failures) for everything else.
    pub fn code(&self) -> i64 {
        match self {
            ClientError::Rpc(e) | ClientError::Auth(e) => e.code,
            _ => code::CLIENT_ERROR,
        }
    }

    /// The server's error, if the server sent one.
    pub fn wire(&self) -> Option<&WireError> {
        match self {
            ClientError::Rpc(e) | ClientError::Auth(e) => Some(e),
            _ => None,
        }
    }
}
