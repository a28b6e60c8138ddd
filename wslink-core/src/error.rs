//! Errors on the wire, and the one place where Rust errors become them.
//!
//! wslink reuses JSON-RPC numbers. A [`WireError`] is what travels in a response's `error`
//! field: `{code, message[, data]}`. Handlers return [`RpcError`], and
//! [`RpcError::to_wire`] is the single mapping from a failure to its code and exact
//! message, so every peer sees the texts the reference prints.
//!
//! | code | meaning | message |
//! |---|---|---|
//! | -32000 | authentication | `Authentication failed`, `Unauthorized: Skip message processing` |
//! | -32601 | method not found | `Unregistered method called`, `Unknown system method called` |
//! | -32001 | the method failed | `Exception raised` |
//! | -32002 | the result could not be encoded | `Method result cannot be serialized` |
//! | -32099 | client-side failure, never on the wire | varies |

use std::fmt;

use crate::value::{Map, Value, ValueError};

/// Error codes used by wslink.
pub mod code {
    /// A hello was rejected, or a request came before the hello.
    pub const AUTHENTICATION_ERROR: i64 = -32000;
    /// The method (or system method) is not registered.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// The method failed.
    pub const EXCEPTION_ERROR: i64 = -32001;
    /// The method's result (or a publication) could not be encoded.
    pub const RESULT_SERIALIZE_ERROR: i64 = -32002;
    /// A failure on the client side (the JS client's code for local errors).
    pub const CLIENT_ERROR: i64 = -32099;
}

/// Exact messages of the reference server.
pub mod message {
    /// Hello rejected.
    pub const AUTHENTICATION_FAILED: &str = "Authentication failed";
    /// Request before a successful hello.
    pub const UNAUTHORIZED: &str = "Unauthorized: Skip message processing";
    /// Unknown RPC method.
    pub const UNREGISTERED_METHOD: &str = "Unregistered method called";
    /// A `system:` id with a method other than the hello.
    pub const UNKNOWN_SYSTEM_METHOD: &str = "Unknown system method called";
    /// The method failed.
    pub const EXCEPTION_RAISED: &str = "Exception raised";
    /// The result could not be encoded.
    pub const RESULT_NOT_SERIALIZABLE: &str = "Method result cannot be serialized";
}

/// An error as it travels in a response: `{code, message[, data]}`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("wslink error {code}: {message}{}", data_suffix(.data))]
pub struct WireError {
    /// The numeric code (see [`code`]).
    pub code: i64,
    /// The human-readable message.
    pub message: String,
    /// Optional details.
    pub data: Option<Value>,
}

fn data_suffix(data: &Option<Value>) -> String {
    data.as_ref().map(|d| format!(" ({d})")).unwrap_or_default()
}

impl WireError {
    /// An error with a code and a message and no data.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        WireError {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// Adds data. Like the reference, empty data (nil, empty string, empty map or array,
    /// zero, `false`) is left out.
    pub fn with_data(mut self, data: impl Into<Value>) -> Self {
        let data = data.into();
        self.data = (!is_falsy(&data)).then_some(data);
        self
    }

    /// The error as a map `{code, message[, data]}`, keys in the reference order.
    pub fn to_value(&self) -> Value {
        let mut m = Map::with_capacity(3);
        m.insert("code".into(), Value::Int(self.code));
        m.insert("message".into(), Value::Str(self.message.clone()));
        if let Some(data) = &self.data {
            m.insert("data".into(), data.clone());
        }
        Value::Map(m)
    }

    /// Reads `{code, message[, data]}`; a missing code or message becomes a generic one.
    pub fn from_value(value: Value) -> WireError {
        let Value::Map(mut m) = value else {
            return WireError::new(code::CLIENT_ERROR, format!("malformed error: {value}"));
        };
        let code = m.get("code").and_then(Value::as_i64).unwrap_or(0);
        let message = match m.swap_remove("message") {
            Some(Value::Str(s)) => s,
            Some(other) => other.to_string(),
            None => String::new(),
        };
        WireError {
            code,
            message,
            data: m.swap_remove("data").filter(|d| !d.is_nil()),
        }
    }
}

/// Python truthiness of a value, which decides whether the reference includes `data`.
fn is_falsy(v: &Value) -> bool {
    match v {
        Value::Nil => true,
        Value::Bool(b) => !b,
        Value::Int(i) => *i == 0,
        Value::UInt(_) => false,
        Value::Float(f) => *f == 0.0,
        Value::Str(s) => s.is_empty(),
        Value::Bin(b) => b.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Map(m) => m.is_empty(),
        Value::Ext(_) => false,
    }
}

/// How a call's arguments failed to fill a protocol method's parameters, worded as
/// Python's `TypeError` is for the same mistake (the reference calls methods as
/// `method(*args, **kwargs)`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgumentError {
    /// A required parameter got no argument, by position or by name.
    #[error("{function}() missing required argument: '{parameter}'")]
    Missing {
        /// The method's function name.
        function: String,
        /// The parameter.
        parameter: String,
    },
    /// A parameter got a positional argument and a keyword argument.
    #[error("{function}() got multiple values for argument '{parameter}'")]
    Duplicate {
        /// The method's function name.
        function: String,
        /// The parameter.
        parameter: String,
    },
    /// A keyword argument names no parameter (and the method takes no `**kwargs`).
    #[error("{function}() got an unexpected keyword argument '{keyword}'")]
    UnexpectedKeyword {
        /// The method's function name.
        function: String,
        /// The keyword.
        keyword: String,
    },
    /// More positional arguments than parameters (and the method takes no `*args`).
    #[error("{function}() takes {accepted} positional argument{s} but {given} were given", s = if *accepted == 1 { "" } else { "s" })]
    TooManyPositional {
        /// The method's function name.
        function: String,
        /// How many it takes.
        accepted: usize,
        /// How many came.
        given: usize,
    },
    /// An argument did not convert to its parameter's type.
    #[error("{function}() argument '{parameter}': {reason}")]
    Invalid {
        /// The method's function name.
        function: String,
        /// The parameter.
        parameter: String,
        /// Why the conversion failed.
        reason: String,
    },
}

impl ArgumentError {
    /// The parameter (or keyword) the error is about; empty for
    /// [`ArgumentError::TooManyPositional`].
    pub fn parameter(&self) -> &str {
        match self {
            ArgumentError::Missing { parameter, .. }
            | ArgumentError::Duplicate { parameter, .. }
            | ArgumentError::Invalid { parameter, .. } => parameter,
            ArgumentError::UnexpectedKeyword { keyword, .. } => keyword,
            ArgumentError::TooManyPositional { .. } => "",
        }
    }
}

/// Why an RPC failed, as a handler or a layer reports it.
///
/// `RpcError` converts from any `std::error::Error` (so `?` works in handlers; the error
/// becomes -32001 "Exception raised" with its message), which is why it does not itself
/// implement `std::error::Error`, like `anyhow::Error`. [`RpcError::to_wire`] maps each
/// kind to its wire code.
pub enum RpcError {
    /// The hello was rejected (-32000 `Authentication failed`).
    AuthenticationFailed,
    /// A request arrived before a successful hello (-32000 `Unauthorized: …`).
    Unauthorized,
    /// No method with this name (-32601 `Unregistered method called`, data = name).
    MethodNotFound,
    /// A `system:` request other than the hello (-32601 `Unknown system method called`).
    UnknownSystemMethod,
    /// The method failed (-32001 `Exception raised`, data = `{method, exception}`).
    Exception {
        /// What went wrong, shown to the client as `exception`.
        message: String,
        /// More detail (a cause chain or a trace), sent only when the server allows it.
        detail: Option<String>,
    },
    /// The arguments did not fit the method's parameters (-32001, like a Python `TypeError`).
    InvalidArguments(String),
    /// An argument of a protocol method was missing, given twice, unknown or of the wrong
    /// type (-32001, data `{method, exception, parameter}`, worded as Python's `TypeError`).
    Argument(ArgumentError),
    /// The result could not be encoded (-32002, data = method name).
    ResultNotSerializable(String),
    /// An error with its own code, message and data, sent as it is.
    Wire(WireError),
}

impl RpcError {
    /// A method failure with this message (-32001).
    pub fn exception(message: impl fmt::Display) -> Self {
        RpcError::Exception {
            message: message.to_string(),
            detail: None,
        }
    }

    /// An error with a code and message of the application's choosing.
    pub fn custom(code: i64, message: impl Into<String>, data: Option<Value>) -> Self {
        let mut e = WireError::new(code, message);
        if let Some(data) = data {
            e = e.with_data(data);
        }
        RpcError::Wire(e)
    }

    /// The error as it goes on the wire for a call of `method`. `detail` decides whether
    /// [`RpcError::Exception`] detail (a trace) is included; the reference always sends its
    /// Python traceback, we send it only when asked.
    pub fn to_wire(&self, method: &str, detail: bool) -> WireError {
        use crate::error::{code as c, message as m};
        match self {
            RpcError::AuthenticationFailed => {
                WireError::new(c::AUTHENTICATION_ERROR, m::AUTHENTICATION_FAILED)
            }
            RpcError::Unauthorized => WireError::new(c::AUTHENTICATION_ERROR, m::UNAUTHORIZED),
            RpcError::MethodNotFound => {
                WireError::new(c::METHOD_NOT_FOUND, m::UNREGISTERED_METHOD).with_data(method)
            }
            RpcError::UnknownSystemMethod => {
                WireError::new(c::METHOD_NOT_FOUND, m::UNKNOWN_SYSTEM_METHOD)
            }
            RpcError::Exception {
                message,
                detail: trace,
            } => {
                let mut data = Map::with_capacity(3);
                data.insert("method".into(), method.into());
                data.insert("exception".into(), message.as_str().into());
                if let (true, Some(trace)) = (detail, trace) {
                    data.insert("trace".into(), trace.as_str().into());
                }
                WireError::new(c::EXCEPTION_ERROR, m::EXCEPTION_RAISED).with_data(data)
            }
            RpcError::InvalidArguments(why) => {
                let mut data = Map::with_capacity(2);
                data.insert("method".into(), method.into());
                data.insert(
                    "exception".into(),
                    format!("invalid arguments: {why}").into(),
                );
                WireError::new(c::EXCEPTION_ERROR, m::EXCEPTION_RAISED).with_data(data)
            }
            RpcError::Argument(e) => {
                let mut data = Map::with_capacity(3);
                data.insert("method".into(), method.into());
                data.insert("exception".into(), e.to_string().into());
                data.insert("parameter".into(), e.parameter().into());
                WireError::new(c::EXCEPTION_ERROR, m::EXCEPTION_RAISED).with_data(data)
            }
            RpcError::ResultNotSerializable(_) => {
                WireError::new(c::RESULT_SERIALIZE_ERROR, m::RESULT_NOT_SERIALIZABLE)
                    .with_data(method)
            }
            RpcError::Wire(e) => e.clone(),
        }
    }
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RpcError::AuthenticationFailed => f.write_str(message::AUTHENTICATION_FAILED),
            RpcError::Unauthorized => f.write_str(message::UNAUTHORIZED),
            RpcError::MethodNotFound => f.write_str(message::UNREGISTERED_METHOD),
            RpcError::UnknownSystemMethod => f.write_str(message::UNKNOWN_SYSTEM_METHOD),
            RpcError::Exception { message, .. } => write!(f, "exception: {message}"),
            RpcError::InvalidArguments(why) => write!(f, "invalid arguments: {why}"),
            RpcError::Argument(e) => fmt::Display::fmt(e, f),
            RpcError::ResultNotSerializable(why) => write!(f, "result not serializable: {why}"),
            RpcError::Wire(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl fmt::Debug for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RpcError({self})")
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for RpcError {
    fn from(e: E) -> Self {
        let mut detail = String::new();
        let mut source = e.source();
        while let Some(cause) = source {
            detail.push_str("caused by: ");
            detail.push_str(&cause.to_string());
            detail.push('\n');
            source = cause.source();
        }
        RpcError::Exception {
            message: e.to_string(),
            detail: (!detail.is_empty()).then_some(detail),
        }
    }
}

impl RpcError {
    /// Arguments that could not be converted (used by handler extractors).
    pub fn invalid_arguments(e: ValueError) -> Self {
        RpcError::InvalidArguments(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::map;

    #[test]
    fn every_kind_maps_to_the_reference_code_and_message() {
        let cases = [
            (
                RpcError::AuthenticationFailed,
                -32000,
                "Authentication failed",
                None,
            ),
            (
                RpcError::Unauthorized,
                -32000,
                "Unauthorized: Skip message processing",
                None,
            ),
            (
                RpcError::MethodNotFound,
                -32601,
                "Unregistered method called",
                Some(Value::from("a.b")),
            ),
            (
                RpcError::UnknownSystemMethod,
                -32601,
                "Unknown system method called",
                None,
            ),
            (
                RpcError::exception("boom"),
                -32001,
                "Exception raised",
                Some(map! {"method" => "a.b", "exception" => "boom"}),
            ),
            (
                RpcError::ResultNotSerializable("x".into()),
                -32002,
                "Method result cannot be serialized",
                Some(Value::from("a.b")),
            ),
        ];
        for (err, code, message, data) in cases {
            let wire = err.to_wire("a.b", false);
            assert_eq!(
                (wire.code, wire.message.as_str(), wire.data),
                (code, message, data)
            );
        }
    }

    #[test]
    fn trace_only_when_asked() {
        let io = std::io::Error::other("disk on fire");
        let err = RpcError::Exception {
            message: "failed".into(),
            detail: Some("trace here".into()),
        };
        assert_eq!(err.to_wire("m", false).data.unwrap().get("trace"), None);
        assert_eq!(
            err.to_wire("m", true).data.unwrap()["trace"],
            Value::from("trace here")
        );
        let from_io: RpcError = io.into();
        assert_eq!(
            from_io.to_wire("m", false).data.unwrap()["exception"],
            Value::from("disk on fire")
        );
    }

    #[test]
    fn falsy_data_is_left_out_and_round_trips() {
        assert_eq!(WireError::new(1, "m").with_data("").data, None);
        assert_eq!(WireError::new(1, "m").with_data(0).data, None);
        let e = WireError::new(-32601, "x").with_data("m");
        assert_eq!(WireError::from_value(e.to_value()), e);
    }
}
