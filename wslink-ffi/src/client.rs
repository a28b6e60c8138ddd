//! The client for C: connect, call (blocking or with a callback), close, free.
//!
//! A `wslink_client` owns a small tokio runtime (two network threads, `wslink-io`) and a
//! callback thread (`wslink-callbacks`, see the callbacks module). Every function taking
//! a `const wslink_client *` may be called from any thread, concurrently, except from
//! the network threads (the library never runs C code there). The blocking functions
//! (`wslink_connect`, `wslink_call`, `wslink_client_close`, `wslink_client_free`) may
//! also be called from inside a callback.

use std::ffi::{c_char, c_void};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ::wslink_client::{Client, ClientBuilder, ClientError};
use tokio::runtime::Runtime;
use wslink_codec_json::JsonCodec;
use wslink_core::codec::Generation;
use wslink_core::{Map, Value};

use crate::boundary::{c_str, put, status};
use crate::callbacks::{CallbackThread, Queue, UserData};
use crate::error::{wslink_error, wslink_status, Failure};
use crate::options::wslink_options;
use crate::value::{give, take, wslink_value};

/// A connected client (opaque).
#[derive(Debug)]
pub struct wslink_client {
    runtime: Runtime,
    /// `None` once closed.
    client: Mutex<Option<Client>>,
    callbacks: CallbackThread,
    close_timeout: Duration,
}

impl wslink_client {
    /// The client, unless closed.
    pub(crate) fn client(&self) -> Result<Client, Failure> {
        self.client
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| Failure::from(ClientError::Disconnected))
    }

    pub(crate) fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    pub(crate) fn queue(&self) -> &Queue {
        self.callbacks.queue()
    }

    /// Closes the connection and waits (up to the close timeout) until its tasks are
    /// done: the close handshake sent and answered, subscriptions ended, calls failed.
    fn close(&self) {
        let client = self.client.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some(client) = client else { return };
        let metrics = self.runtime.metrics();
        let deadline = Instant::now() + self.close_timeout;
        self.runtime.block_on(async move {
            client.close().await;
            drop(client);
            while metrics.num_alive_tasks() > 0 && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        });
    }
}

/// Fails when called on a tokio runtime thread, where blocking would stall the network.
pub(crate) fn may_block() -> Result<(), Failure> {
    match tokio::runtime::Handle::try_current() {
        Ok(_) => Err(Failure::invalid(
            "a blocking wslink function was called from a tokio runtime thread",
        )),
        Err(_) => Ok(()),
    }
}

/// Borrows a client from C.
///
/// # Safety
/// `client` is NULL or a live client.
pub(crate) unsafe fn borrow<'a>(
    client: *const wslink_client,
) -> Result<&'a wslink_client, Failure> {
    // SAFETY: null or live, by the contract above.
    unsafe { client.as_ref() }.ok_or_else(|| Failure::invalid("client is NULL"))
}

fn runtime() -> std::io::Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("wslink-io")
        .enable_all()
        .build()
}

/// Dials `url` and says hello, as the options say.
async fn open(url: String, options: wslink_options) -> Result<Client, Failure> {
    let connect = options.connect.clone();
    let dial = move || {
        let (url, connect) = (url.clone(), connect.clone());
        async move { wslink_transport_ws::connect_with(&url, &connect).await }
    };
    let hello = async move {
        match options.wire {
            Generation::V2 => {
                Client::builder()
                    .config(options.client)
                    .connect_with(dial)
                    .await
            }
            // The 1.x wire as the `wslink` CLI's `--v1` speaks it: the JSON codec.
            Generation::V1 => {
                ClientBuilder::with_codec(JsonCodec::new())
                    .config(options.client)
                    .connect_with(dial)
                    .await
            }
        }
    };
    let connected = match options.connect_timeout {
        Some(limit) => tokio::time::timeout(limit, hello).await.map_err(|_| {
            Failure::new(
                wslink_status::WSLINK_ERROR_TIMEOUT,
                format!("no connection and hello within {limit:?}"),
            )
        })?,
        None => hello.await,
    };
    Ok(connected?)
}

/// Connects to `url` (`ws://host:port/path`, or `wss://…`), says hello, and stores the new
/// client in `*client`. Blocks until the server accepted the hello, or fails:
/// `WSLINK_ERROR_TRANSPORT` (no connection), `WSLINK_ERROR_AUTH` (a wrong secret; the
/// server's code and message are in the error), `WSLINK_ERROR_TIMEOUT`,
/// `WSLINK_ERROR_INVALID_ARGUMENT`.
///
/// `options` is read, not kept (NULL: the defaults). The client is owned by the caller
/// and freed with [`wslink_client_free`]. Any thread but the library's network threads.
///
/// # Safety
/// `url` is NULL or a NUL-terminated string; `options` is NULL or live options; `client`
/// is NULL or writable; `error` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn wslink_connect(
    url: *const c_char,
    options: *const wslink_options,
    client: *mut *mut wslink_client,
    error: *mut *mut wslink_error,
) -> wslink_status {
    status(error, || {
        if client.is_null() {
            return Err(Failure::invalid("client is NULL"));
        }
        may_block()?;
        // SAFETY: a NUL-terminated string, by the contract above.
        let url = unsafe { c_str(url, "url") }?.to_owned();
        // SAFETY: null or live options, by the contract above.
        let options = unsafe { options.as_ref() }.cloned().unwrap_or_default();
        let close_timeout = options.close_timeout;
        let runtime =
            runtime().map_err(|e| Failure::internal(format!("cannot start the runtime: {e}")))?;
        let connected = runtime.block_on(open(url, options))?;
        let callbacks = CallbackThread::start()
            .map_err(|e| Failure::internal(format!("cannot start the callback thread: {e}")))?;
        let made = Box::new(wslink_client {
            runtime,
            client: Mutex::new(Some(connected)),
            callbacks,
            close_timeout,
        });
        // SAFETY: non-null (checked above) and writable, by the contract above.
        unsafe { put(client, Box::into_raw(made), "client") }
    })
}

/// The positional and keyword arguments of a call, from the values C gave up.
fn arguments(args: Option<Value>, kwargs: Option<Value>) -> Result<(Vec<Value>, Map), Failure> {
    let args = match args {
        None => Vec::new(),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(Failure::invalid(format!(
                "args must be an array, not {}",
                other.kind()
            )))
        }
    };
    let kwargs = match kwargs {
        None => Map::new(),
        Some(Value::Map(entries)) => entries,
        Some(other) => {
            return Err(Failure::invalid(format!(
                "kwargs must be a map, not {}",
                other.kind()
            )))
        }
    };
    Ok((args, kwargs))
}

/// Calls `method(*args, **kwargs)` and blocks until the answer. On success `*result`
/// holds the result, owned by the caller. On failure: `WSLINK_ERROR_RPC` (the server's
/// error: its code, message and data are in `*error`), `WSLINK_ERROR_DISCONNECTED`,
/// `WSLINK_ERROR_TIMEOUT` (the request timeout), `WSLINK_ERROR_INVALID_ARGUMENT`.
///
/// `args` (an array, or NULL for none) and `kwargs` (a map, or NULL for none) are
/// *consumed*, also on failure: binary inside them is sent without another copy. Any
/// thread but the library's network threads, the callback thread included.
///
/// # Safety
/// `client` is NULL or a live client; `method` is NULL or a NUL-terminated string;
/// `args` and `kwargs` are NULL or values the caller owns; `result` and `error` are NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn wslink_call(
    client: *const wslink_client,
    method: *const c_char,
    args: *mut wslink_value,
    kwargs: *mut wslink_value,
    result: *mut *mut wslink_value,
    error: *mut *mut wslink_error,
) -> wslink_status {
    // SAFETY: owned by the caller and given up, by the contract above.
    let (args, kwargs) = unsafe { (take(args), take(kwargs)) };
    status(error, move || {
        if result.is_null() {
            return Err(Failure::invalid("result is NULL"));
        }
        may_block()?;
        // SAFETY: null or live, by the contract above.
        let this = unsafe { borrow(client) }?;
        // SAFETY: a NUL-terminated string, by the contract above.
        let method = unsafe { c_str(method, "method") }?;
        let (args, kwargs) = arguments(args, kwargs)?;
        let client = this.client()?;
        let value = this.runtime.block_on(client.call(method, args, kwargs))?;
        // SAFETY: non-null (checked above) and writable, by the contract above.
        unsafe { put(result, give(value), "result") }
    })
}

/// The callback of [`wslink_call_async`]: exactly one of `result` and `error` is not
/// NULL, and the callback owns it (free it with `wslink_value_free` or
/// `wslink_error_free`).
pub type wslink_call_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        result: *mut wslink_value,
        error: *mut wslink_error,
    ),
>;

/// A call's callback, run exactly once: with the outcome, or, if the call is dropped
/// unfinished (the client freed), with `WSLINK_ERROR_DISCONNECTED`.
struct Completion {
    callback: unsafe extern "C" fn(*mut c_void, *mut wslink_value, *mut wslink_error),
    user_data: UserData,
    queue: Queue,
    outcome: Option<Result<Value, Failure>>,
}

impl Completion {
    fn finish(mut self, outcome: Result<Value, Failure>) {
        self.outcome = Some(outcome);
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        let outcome = self.outcome.take().unwrap_or_else(|| {
            Err(Failure::new(
                wslink_status::WSLINK_ERROR_DISCONNECTED,
                "the client was freed before the call finished",
            ))
        });
        let (callback, user_data) = (self.callback, self.user_data);
        self.queue.run(move || {
            let (result, error) = match outcome {
                Ok(value) => (give(value), std::ptr::null_mut()),
                Err(failure) => (std::ptr::null_mut(), failure.into_raw()),
            };
            // SAFETY: the caller of `wslink_call_async` gave a callback that takes these
            // arguments, and `user_data` as it asked; this runs once, on the callback
            // thread, as documented.
            unsafe { callback(user_data.get(), result, error) }
        });
    }
}

/// Calls `method(*args, **kwargs)` without waiting: returns at once, and
/// `callback(user_data, result, error)` runs later on the client's callback thread,
/// exactly once — with the result, the server's error, a timeout, or
/// `WSLINK_ERROR_DISCONNECTED` (also when the client is closed or freed before the
/// answer). When this function itself fails (a NULL argument, a closed client), it
/// returns the error and the callback is never called.
///
/// `args` and `kwargs` are consumed as by [`wslink_call`]. `user_data` is passed to the
/// callback untouched; it must stay usable until the callback ran. Any thread.
///
/// # Safety
/// As [`wslink_call`]; `callback` is NULL or a function of the right type that does not
/// unwind (a C++ exception must not leave it).
#[no_mangle]
pub unsafe extern "C" fn wslink_call_async(
    client: *const wslink_client,
    method: *const c_char,
    args: *mut wslink_value,
    kwargs: *mut wslink_value,
    callback: wslink_call_fn,
    user_data: *mut c_void,
    error: *mut *mut wslink_error,
) -> wslink_status {
    // SAFETY: owned by the caller and given up, by the contract above.
    let (args, kwargs) = unsafe { (take(args), take(kwargs)) };
    status(error, move || {
        let callback = callback.ok_or_else(|| Failure::invalid("callback is NULL"))?;
        // SAFETY: null or live, by the contract above.
        let this = unsafe { borrow(client) }?;
        // SAFETY: a NUL-terminated string, by the contract above.
        let method = unsafe { c_str(method, "method") }?.to_owned();
        let (args, kwargs) = arguments(args, kwargs)?;
        let client = this.client()?;
        let completion = Completion {
            callback,
            user_data: UserData(user_data),
            queue: this.queue().clone(),
            outcome: None,
        };
        this.runtime.spawn(async move {
            let outcome = client.call(&method, args, kwargs).await;
            completion.finish(outcome.map_err(Failure::from));
        });
        Ok(())
    })
}

/// `true` while the client has a connection that passed its hello (not closed, not
/// reconnecting). Any thread.
///
/// # Safety
/// `client` is NULL or a live client.
#[no_mangle]
pub unsafe extern "C" fn wslink_client_is_connected(client: *const wslink_client) -> bool {
    crate::boundary::guard(false, || {
        // SAFETY: null or live, by the contract above.
        unsafe { borrow(client) }
            .and_then(|c| c.client())
            .is_ok_and(|c| c.is_connected())
    })
}

/// The id the server gave this client in its hello (a new one after each reconnect), as
/// a string value owned by the caller; NULL when the client is closed. Any thread.
///
/// # Safety
/// `client` is NULL or a live client.
#[no_mangle]
pub unsafe extern "C" fn wslink_client_id(client: *const wslink_client) -> *mut wslink_value {
    crate::boundary::guard(std::ptr::null_mut(), || {
        // SAFETY: null or live, by the contract above.
        match unsafe { borrow(client) }.and_then(|c| c.client()) {
            Ok(c) => give(Value::Str(c.client_id().as_str().to_owned())),
            Err(_) => std::ptr::null_mut(),
        }
    })
}

/// Closes the connection (close code 1000) and blocks until the server acknowledged it
/// or the close timeout passed. Calls in flight fail with `WSLINK_ERROR_DISCONNECTED`,
/// subscriptions stop; later calls fail the same way. Closing twice is harmless. The
/// client stays allocated until [`wslink_client_free`]. Any thread but the network
/// threads.
///
/// # Safety
/// `client` is NULL or a live client; `error` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn wslink_client_close(
    client: *const wslink_client,
    error: *mut *mut wslink_error,
) -> wslink_status {
    status(error, || {
        may_block()?;
        // SAFETY: null or live, by the contract above.
        unsafe { borrow(client) }?.close();
        Ok(())
    })
}

/// Closes the client as [`wslink_client_close`] does, stops its threads and frees it.
/// Callbacks still queued run first (pending calls get `WSLINK_ERROR_DISCONNECTED`);
/// when this returns, no callback of this client runs any more — except when called from
/// inside one of its callbacks, where the remaining callbacks run after that callback
/// returns. Subscriptions not yet unsubscribed are inert; they must still be freed with
/// `wslink_unsubscribe`. NULL is allowed. No other function may use `client` meanwhile
/// or afterwards.
///
/// # Safety
/// `client` is NULL or a live client from [`wslink_connect`], not used by another thread
/// meanwhile; it is invalid afterwards.
#[no_mangle]
pub unsafe extern "C" fn wslink_client_free(client: *mut wslink_client) {
    if client.is_null() {
        return;
    }
    // SAFETY: from `Box::into_raw` in `wslink_connect`, freed once and not shared
    // meanwhile, by the contract above.
    let client = unsafe { Box::from_raw(client) };
    crate::boundary::guard((), move || {
        if may_block().is_err() {
            // Cannot block here; leaking is better than a deadlock or a panic.
            tracing::error!("wslink_client_free called from a tokio runtime thread: leaked");
            std::mem::forget(client);
            return;
        }
        client.close();
        let wslink_client {
            runtime, callbacks, ..
        } = *client;
        // Tasks left (none after a clean close) are dropped; their callbacks are queued.
        runtime.shutdown_timeout(Duration::from_secs(1));
        callbacks.finish();
    });
}
