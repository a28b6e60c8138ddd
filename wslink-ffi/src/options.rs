//! Connection options: the secret, the wire generation, timeouts, reconnects, TLS trust.
//!
//! `wslink_options_new` makes a set of defaults (secret `wslink-secret`, the 2.x wire, no
//! request timeout, a 10 s connect timeout, no reconnect, the platform's root
//! certificates); setters change one thing each; `wslink_connect` reads the options
//! without keeping them, so they can be freed (or reused) right after it. Options are
//! not to be changed from two threads at once.

use std::ffi::c_char;
use std::time::Duration;

use ::wslink_client::{ClientConfig, ReconnectPolicy};
use wslink_core::codec::Generation;
use wslink_transport_ws::ConnectOptions;

use crate::boundary::{c_str, guard, status};
use crate::error::{wslink_error, wslink_status, Failure};

/// Settings for `wslink_connect` (opaque).
#[derive(Debug, Clone)]
pub struct wslink_options {
    pub(crate) client: ClientConfig,
    pub(crate) connect: ConnectOptions,
    pub(crate) wire: Generation,
    pub(crate) connect_timeout: Option<Duration>,
    /// How long freeing or closing a client waits for the close handshake.
    pub(crate) close_timeout: Duration,
}

impl Default for wslink_options {
    fn default() -> Self {
        wslink_options {
            client: ClientConfig::default(),
            connect: ConnectOptions::default(),
            wire: Generation::V2,
            connect_timeout: Some(Duration::from_secs(10)),
            close_timeout: Duration::from_secs(1),
        }
    }
}

/// Runs `change` on the options behind `options`.
///
/// # Safety
/// `options` is NULL or live options not used by another thread meanwhile.
unsafe fn with(
    options: *mut wslink_options,
    error: *mut *mut wslink_error,
    change: impl FnOnce(&mut wslink_options) -> Result<(), Failure>,
) -> wslink_status {
    status(error, || {
        // SAFETY: null or live and not shared meanwhile, by the contract above.
        let options =
            unsafe { options.as_mut() }.ok_or_else(|| Failure::invalid("options is NULL"))?;
        change(options)
    })
}

fn millis(ms: u64) -> Option<Duration> {
    (ms > 0).then(|| Duration::from_millis(ms))
}

/// New options with the defaults, owned by the caller (free with [`wslink_options_free`]).
/// NULL only if the library failed internally.
#[no_mangle]
pub extern "C" fn wslink_options_new() -> *mut wslink_options {
    guard(std::ptr::null_mut(), || Box::into_raw(Box::default()))
}

/// Frees options. NULL is allowed.
///
/// # Safety
/// `options` is NULL or options from [`wslink_options_new`] not yet freed.
#[no_mangle]
pub unsafe extern "C" fn wslink_options_free(options: *mut wslink_options) {
    if !options.is_null() {
        // SAFETY: from `Box::into_raw` in `wslink_options_new`, freed once.
        let options = unsafe { Box::from_raw(options) };
        guard((), move || drop(options));
    }
}

/// The secret sent in the hello (NUL-terminated UTF-8, copied; default `wslink-secret`).
///
/// # Safety
/// `options` is NULL or live options; `secret` is NULL or a NUL-terminated string;
/// `error` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn wslink_options_set_secret(
    options: *mut wslink_options,
    secret: *const c_char,
    error: *mut *mut wslink_error,
) -> wslink_status {
    // SAFETY: forwarded contract.
    unsafe {
        with(options, error, |o| {
            o.client.secret = c_str(secret, "secret")?.to_owned();
            Ok(())
        })
    }
}

/// The wire generation: 2 (msgpack, chunked binary frames; the default) or 1 (JSON text
/// frames with binary attachments, for wslink 1.x servers). Anything else is
/// `WSLINK_ERROR_INVALID_ARGUMENT`.
///
/// # Safety
/// `options` is NULL or live options; `error` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn wslink_options_set_wire(
    options: *mut wslink_options,
    generation: u32,
    error: *mut *mut wslink_error,
) -> wslink_status {
    // SAFETY: forwarded contract.
    unsafe {
        with(options, error, |o| {
            o.wire = match generation {
                1 => Generation::V1,
                2 => Generation::V2,
                other => {
                    return Err(Failure::invalid(format!(
                        "wire generation {other}: use 1 or 2"
                    )))
                }
            };
            Ok(())
        })
    }
}

/// Fails a call with `WSLINK_ERROR_TIMEOUT` when no answer came within `ms`
/// milliseconds; 0 (the default) waits as long as the connection lives.
///
/// # Safety
/// `options` is NULL or live options; `error` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn wslink_options_set_request_timeout_ms(
    options: *mut wslink_options,
    ms: u64,
    error: *mut *mut wslink_error,
) -> wslink_status {
    // SAFETY: forwarded contract.
    unsafe {
        with(options, error, |o| {
            o.client.request_timeout = millis(ms);
            Ok(())
        })
    }
}

/// Fails `wslink_connect` with `WSLINK_ERROR_TIMEOUT` when opening the connection and the
/// hello take longer than `ms` milliseconds (default 10000); 0 waits without limit.
///
/// # Safety
/// `options` is NULL or live options; `error` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn wslink_options_set_connect_timeout_ms(
    options: *mut wslink_options,
    ms: u64,
    error: *mut *mut wslink_error,
) -> wslink_status {
    // SAFETY: forwarded contract.
    unsafe {
        with(options, error, |o| {
            o.connect_timeout = millis(ms);
            Ok(())
        })
    }
}

/// How long closing or freeing a client waits for the server to acknowledge the close
/// (default 1000 ms; 0 does not wait).
///
/// # Safety
/// `options` is NULL or live options; `error` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn wslink_options_set_close_timeout_ms(
    options: *mut wslink_options,
    ms: u64,
    error: *mut *mut wslink_error,
) -> wslink_status {
    // SAFETY: forwarded contract.
    unsafe {
        with(options, error, |o| {
            o.close_timeout = Duration::from_millis(ms);
            Ok(())
        })
    }
}

/// Largest message accepted from the server, in bytes, after reassembling chunks
/// (default 256 MiB); the WebSocket message limit (default 64 MiB, a 1.x message being
/// one WebSocket message) is raised to match when it is smaller. 0 is
/// `WSLINK_ERROR_INVALID_ARGUMENT`.
///
/// # Safety
/// `options` is NULL or live options; `error` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn wslink_options_set_max_message_size(
    options: *mut wslink_options,
    bytes: usize,
    error: *mut *mut wslink_error,
) -> wslink_status {
    // SAFETY: forwarded contract.
    unsafe {
        with(options, error, |o| {
            if bytes == 0 {
                return Err(Failure::invalid("max message size 0"));
            }
            o.client.limits.message_size = bytes;
            o.connect.max_message_size = o.connect.max_message_size.max(bytes);
            Ok(())
        })
    }
}

/// Dials again when the connection drops: waits `initial_delay_ms` before the first
/// attempt, doubling up to `max_delay_ms`; gives up after `max_attempts` failures in a
/// row (0: never); a call made while reconnecting waits up to `wait_for_link_ms` for the
/// new connection. Subscriptions survive reconnects; calls in flight when the connection
/// dropped fail with `WSLINK_ERROR_DISCONNECTED`. Default: no reconnect.
///
/// # Safety
/// `options` is NULL or live options; `error` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn wslink_options_set_reconnect(
    options: *mut wslink_options,
    initial_delay_ms: u64,
    max_delay_ms: u64,
    max_attempts: u32,
    wait_for_link_ms: u64,
    error: *mut *mut wslink_error,
) -> wslink_status {
    // SAFETY: forwarded contract.
    unsafe {
        with(options, error, |o| {
            o.client.reconnect = Some(ReconnectPolicy {
                initial_delay: Duration::from_millis(initial_delay_ms),
                max_delay: Duration::from_millis(max_delay_ms.max(initial_delay_ms)),
                max_attempts: (max_attempts > 0).then_some(max_attempts),
                wait_for_link: Duration::from_millis(wait_for_link_ms),
            });
            Ok(())
        })
    }
}

/// Also trusts the certificates of a PEM file (a self-signed server certificate or a
/// private CA) for `wss://`. Fails with `WSLINK_ERROR_INVALID_ARGUMENT` when the file
/// cannot be read or holds no certificate.
///
/// # Safety
/// `options` is NULL or live options; `path` is NULL or a NUL-terminated string; `error`
/// is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn wslink_options_trust_pem_file(
    options: *mut wslink_options,
    path: *const c_char,
    error: *mut *mut wslink_error,
) -> wslink_status {
    // SAFETY: forwarded contract.
    unsafe {
        with(options, error, |o| {
            let path = c_str(path, "path")?;
            let connect = std::mem::take(&mut o.connect);
            o.connect = connect
                .trust_pem_file(path)
                .map_err(|e| Failure::invalid(format!("{path}: {e}")))?;
            Ok(())
        })
    }
}
