//! Errors for C: a status code returned by every fallible function, and an optional
//! error object with the details (the wire error's code, message and data).
//!
//! A function that can fail returns a [`wslink_status`] and takes a last argument
//! `wslink_error **error`. When it fails and `error` is not NULL, `*error` is set to a new
//! error that the caller owns and frees with [`wslink_error_free`]. When it succeeds,
//! `*error` is left alone.

use std::ffi::{c_char, CString};

use ::wslink_client::ClientError;
use wslink_core::error::code;
use wslink_core::WireError;

use crate::boundary::guard;
use crate::value::wslink_value;

/// What happened. `WSLINK_OK` is 0; every other value is a failure.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum wslink_status {
    /// Success.
    WSLINK_OK = 0,
    /// The server answered the call with an error (see [`wslink_error_code`]).
    WSLINK_ERROR_RPC = 1,
    /// The server rejected the hello (a wrong secret).
    WSLINK_ERROR_AUTH = 2,
    /// The connection is closed, or closed before the answer came.
    WSLINK_ERROR_DISCONNECTED = 3,
    /// No answer (or no connection) within the configured time.
    WSLINK_ERROR_TIMEOUT = 4,
    /// The connection could not be opened, or the transport failed.
    WSLINK_ERROR_TRANSPORT = 5,
    /// The server broke the protocol, or a message could not be encoded or decoded.
    WSLINK_ERROR_PROTOCOL = 6,
    /// An argument was invalid (NULL, not UTF-8, of the wrong kind, out of range).
    WSLINK_ERROR_INVALID_ARGUMENT = 7,
    /// A bug in the library (a panic, stopped at the boundary).
    WSLINK_ERROR_INTERNAL = 8,
}

/// The details of a failure: its status, the wire code (the server's, or -32099 for a
/// local failure as the JS client uses), a readable message, and the server's data.
#[derive(Debug)]
pub struct wslink_error {
    status: wslink_status,
    code: i64,
    message: CString,
    data: Option<Box<wslink_value>>,
}

/// A failure on its way to C.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: wslink_status,
    code: i64,
    message: String,
    data: Option<wslink_core::Value>,
}

impl Failure {
    pub(crate) fn new(status: wslink_status, message: impl Into<String>) -> Failure {
        Failure {
            status,
            code: code::CLIENT_ERROR,
            message: message.into(),
            data: None,
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Failure {
        Failure::new(wslink_status::WSLINK_ERROR_INVALID_ARGUMENT, message)
    }

    pub(crate) fn internal(message: impl Into<String>) -> Failure {
        Failure::new(wslink_status::WSLINK_ERROR_INTERNAL, message)
    }

    fn wire(status: wslink_status, wire: WireError) -> Failure {
        Failure {
            status,
            code: wire.code,
            message: wire.message,
            data: wire.data,
        }
    }

    /// Boxes this failure as a C error object.
    pub(crate) fn into_raw(self) -> *mut wslink_error {
        // Interior NULs cannot be in a C string: they are replaced, not truncated at.
        let message = CString::new(self.message.replace('\0', "\u{FFFD}"))
            .unwrap_or_else(|_| CString::from(c"(unprintable message)"));
        Box::into_raw(Box::new(wslink_error {
            status: self.status,
            code: self.code,
            message,
            data: self.data.map(|v| Box::new(wslink_value(v))),
        }))
    }

    /// Stores this failure through `out`, unless `out` is null.
    ///
    /// # Safety
    /// `out` is null or points to writable storage for one pointer.
    pub(crate) unsafe fn store(self, out: *mut *mut wslink_error) {
        if !out.is_null() {
            // SAFETY: non-null and writable by the caller's contract.
            unsafe { out.write(self.into_raw()) };
        }
    }
}

impl From<ClientError> for Failure {
    fn from(error: ClientError) -> Failure {
        use wslink_status::*;
        let message = error.to_string();
        match error {
            ClientError::Rpc(wire) => Failure::wire(WSLINK_ERROR_RPC, wire),
            ClientError::Auth(wire) => Failure::wire(WSLINK_ERROR_AUTH, wire),
            ClientError::Disconnected => Failure::new(WSLINK_ERROR_DISCONNECTED, message),
            ClientError::Timeout => Failure::new(WSLINK_ERROR_TIMEOUT, message),
            ClientError::Transport(_) => Failure::new(WSLINK_ERROR_TRANSPORT, message),
            ClientError::Codec(_) | ClientError::Protocol(_) | ClientError::Value(_) => {
                Failure::new(WSLINK_ERROR_PROTOCOL, message)
            }
            ClientError::InvalidTopic(_) => Failure::new(WSLINK_ERROR_INVALID_ARGUMENT, message),
        }
    }
}

/// The status of `error` (never `WSLINK_OK`). `error` is borrowed; NULL gives
/// `WSLINK_ERROR_INVALID_ARGUMENT`. Any thread.
///
/// # Safety
/// `error` is NULL or an error from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn wslink_error_status(error: *const wslink_error) -> wslink_status {
    // SAFETY: null or a live error, by the contract above.
    match unsafe { error.as_ref() } {
        Some(e) => e.status,
        None => wslink_status::WSLINK_ERROR_INVALID_ARGUMENT,
    }
}

/// The wire code: the server's for `WSLINK_ERROR_RPC` and `WSLINK_ERROR_AUTH` (for
/// example -32001 for an exception in a method, -32601 for an unknown method, -32000 for a
/// rejected secret), -32099 for local failures. `error` is borrowed. Any thread.
///
/// # Safety
/// `error` is NULL or an error from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn wslink_error_code(error: *const wslink_error) -> i64 {
    // SAFETY: null or a live error, by the contract above.
    unsafe { error.as_ref() }.map_or(code::CLIENT_ERROR, |e| e.code)
}

/// The message, NUL-terminated UTF-8, owned by `error` and valid until it is freed. Never
/// NULL (an empty string for a NULL `error`). Any thread.
///
/// # Safety
/// `error` is NULL or an error from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn wslink_error_message(error: *const wslink_error) -> *const c_char {
    // SAFETY: null or a live error, by the contract above.
    match unsafe { error.as_ref() } {
        Some(e) => e.message.as_ptr(),
        None => c"".as_ptr(),
    }
}

/// The server's `data` for the error, or NULL when it sent none (always NULL for local
/// failures). Owned by `error`: valid until it is freed, not to be freed alone. Any
/// thread.
///
/// # Safety
/// `error` is NULL or an error from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn wslink_error_data(error: *const wslink_error) -> *const wslink_value {
    // SAFETY: null or a live error, by the contract above.
    match unsafe { error.as_ref() }.and_then(|e| e.data.as_deref()) {
        Some(data) => data,
        None => std::ptr::null(),
    }
}

/// Frees an error. NULL is allowed (nothing happens). Any thread, once.
///
/// # Safety
/// `error` is NULL or an error from this library not yet freed; it is invalid afterwards.
#[no_mangle]
pub unsafe extern "C" fn wslink_error_free(error: *mut wslink_error) {
    if !error.is_null() {
        // SAFETY: it came from `Box::into_raw` in `Failure::into_raw` and is freed once,
        // by the contract above.
        let error = unsafe { Box::from_raw(error) };
        guard((), move || drop(error));
    }
}
