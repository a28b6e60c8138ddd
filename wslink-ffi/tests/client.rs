//! The C functions, called from Rust as C would call them, against our test server served
//! in-process over WebSockets: calls, errors, callbacks, subscriptions, timeouts,
//! reconnects, and freeing with calls in flight. The C and C++ programs over the same
//! functions run in the root package's `tests/interop_cpp.rs`.

use std::ffi::{c_void, CStr, CString};
use std::ptr::{null, null_mut};
use std::sync::mpsc;
use std::time::Duration;

use wslink_ffi::*;
use wslink_server::{Server, ServerHandle};
use wslink_transport_ws::{HttpOptions, TlsConfig, WsListener};

const SECRET: &str = "ffi-secret";
const WAIT: Duration = Duration::from_secs(20);

/// Our test server on a free loopback port, with its runtime.
struct TestServer {
    runtime: tokio::runtime::Runtime,
    handle: ServerHandle,
    url: CString,
}

fn serve() -> TestServer {
    serve_with(HttpOptions::default(), "ws")
}

fn serve_with(http: HttpOptions, scheme: &str) -> TestServer {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (handle, url) = runtime.block_on(async {
        let listener = WsListener::bind("127.0.0.1:0", http).await.unwrap();
        let url = format!("{scheme}://{}/ws", listener.local_addr());
        let server = Server::builder()
            .secret(SECRET)
            .router(wslink_test_protocol::router())
            .build();
        let handle = server.handle();
        tokio::spawn(server.serve(listener));
        (handle, url)
    });
    TestServer {
        runtime,
        handle,
        url: CString::new(url).unwrap(),
    }
}

/// Options with `secret`, changed by `change`.
fn options(secret: &str, change: impl FnOnce(*mut wslink_options)) -> *mut wslink_options {
    let secret = CString::new(secret).unwrap();
    let options = wslink_options_new();
    // SAFETY: fresh options and a NUL-terminated secret.
    let status = unsafe { wslink_options_set_secret(options, secret.as_ptr(), null_mut()) };
    assert_eq!(status, wslink_status::WSLINK_OK);
    change(options);
    options
}

/// Connects, or returns the failure's status, code and message.
fn connect(
    url: &CStr,
    options: *mut wslink_options,
) -> Result<*mut wslink_client, (wslink_status, i64, String)> {
    let (mut client, mut error) = (null_mut(), null_mut());
    // SAFETY: live options and out-pointers to locals.
    let status = unsafe { wslink_connect(url.as_ptr(), options, &mut client, &mut error) };
    // SAFETY: options from wslink_options_new, freed once.
    unsafe { wslink_options_free(options) };
    match status {
        wslink_status::WSLINK_OK => Ok(client),
        _ => Err(take_error(error)),
    }
}

fn take_error(error: *mut wslink_error) -> (wslink_status, i64, String) {
    assert!(!error.is_null());
    // SAFETY: a live error, read then freed once.
    unsafe {
        let message = CStr::from_ptr(wslink_error_message(error))
            .to_str()
            .unwrap()
            .to_owned();
        let out = (
            wslink_error_status(error),
            wslink_error_code(error),
            message,
        );
        wslink_error_free(error);
        out
    }
}

fn array(items: Vec<*mut wslink_value>) -> *mut wslink_value {
    let array = wslink_value_array();
    for item in items {
        // SAFETY: a live array and an owned item.
        let status = unsafe { wslink_value_array_push(array, item, null_mut()) };
        assert_eq!(status, wslink_status::WSLINK_OK);
    }
    array
}

fn string(text: &str) -> *mut wslink_value {
    // SAFETY: `text.len()` readable bytes.
    unsafe { wslink_value_string(text.as_ptr().cast(), text.len()) }
}

fn int_of(value: *const wslink_value) -> i64 {
    let mut out = 0;
    // SAFETY: a live value and a local.
    let is_int = unsafe { wslink_value_get_int(value, &mut out) };
    assert!(is_int, "an integer");
    out
}

fn string_of(value: *const wslink_value) -> String {
    let (mut text, mut len) = (null(), 0);
    // SAFETY: a live value and locals; the bytes are read while it lives.
    unsafe {
        assert!(
            wslink_value_get_string(value, &mut text, &mut len),
            "a string"
        );
        String::from_utf8(std::slice::from_raw_parts(text.cast::<u8>(), len).to_vec()).unwrap()
    }
}

/// A blocking call; the result (owned) or the failure.
fn call(
    client: *const wslink_client,
    method: &str,
    args: Vec<*mut wslink_value>,
) -> Result<*mut wslink_value, (wslink_status, i64, String)> {
    let method = CString::new(method).unwrap();
    let (mut result, mut error) = (null_mut(), null_mut());
    // SAFETY: a live client, an owned array given up, out-pointers to locals.
    let status = unsafe {
        wslink_call(
            client,
            method.as_ptr(),
            array(args),
            null_mut(),
            &mut result,
            &mut error,
        )
    };
    match status {
        wslink_status::WSLINK_OK => Ok(result),
        _ => Err(take_error(error)),
    }
}

fn free(client: *mut wslink_client) {
    // SAFETY: a client from wslink_connect, freed once.
    unsafe { wslink_client_free(client) }
}

#[test]
fn calls_answer_and_errors_carry_the_wire_code_and_data() {
    let server = serve();
    let client = connect(&server.url, options(SECRET, |_| {})).unwrap();
    let sum = call(
        client,
        "test.add",
        vec![wslink_value_int(2), wslink_value_int(40)],
    )
    .unwrap();
    assert_eq!(int_of(sum), 42);
    // SAFETY: owned result, freed once.
    unsafe { wslink_value_free(sum) };

    let method = CString::new("test.fail").unwrap();
    let (mut result, mut error) = (null_mut(), null_mut());
    // SAFETY: as in `call`.
    let status = unsafe {
        wslink_call(
            client,
            method.as_ptr(),
            array(vec![string("boom")]),
            null_mut(),
            &mut result,
            &mut error,
        )
    };
    assert_eq!(status, wslink_status::WSLINK_ERROR_RPC);
    assert!(result.is_null());
    // SAFETY: a live error; its data is borrowed from it until it is freed.
    unsafe {
        assert_eq!(wslink_error_code(error), -32001);
        let data = wslink_error_data(error);
        assert_eq!(wslink_value_kind(data), wslink_kind::WSLINK_MAP);
        let exception = wslink_value_map_get(data, c"exception".as_ptr(), 9);
        assert!(string_of(exception).contains("boom"));
        wslink_error_free(error);
    }

    let (status, code, message) = call(client, "no.such.method", vec![]).unwrap_err();
    assert_eq!((status, code), (wslink_status::WSLINK_ERROR_RPC, -32601));
    assert_eq!(message, "Unregistered method called");

    // args must be an array: refused before anything is sent, and consumed.
    let (mut result, mut error) = (null_mut(), null_mut());
    // SAFETY: as in `call`, with an integer for args.
    let status = unsafe {
        wslink_call(
            client,
            c"test.echo".as_ptr(),
            wslink_value_int(1),
            null_mut(),
            &mut result,
            &mut error,
        )
    };
    assert_eq!(status, wslink_status::WSLINK_ERROR_INVALID_ARGUMENT);
    assert!(take_error(error).2.contains("args must be an array"));
    free(client);
}

#[test]
fn connecting_fails_with_a_status_for_each_cause() {
    let server = serve();
    let (status, code, message) = connect(&server.url, options("wrong", |_| {})).unwrap_err();
    assert_eq!((status, code), (wslink_status::WSLINK_ERROR_AUTH, -32000));
    assert!(message.contains("Authentication failed"), "{message}");

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let nobody = CString::new(format!("ws://127.0.0.1:{port}/ws")).unwrap();
    let (status, _, _) = connect(&nobody, options(SECRET, |_| {})).unwrap_err();
    assert_eq!(status, wslink_status::WSLINK_ERROR_TRANSPORT);

    // A listener that never answers the WebSocket handshake: the connect timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = CString::new(format!("ws://{}/ws", silent.local_addr().unwrap())).unwrap();
    let short = options(SECRET, |o| {
        // SAFETY: live options.
        unsafe { wslink_options_set_connect_timeout_ms(o, 300, null_mut()) };
    });
    let (status, _, _) = connect(&url, short).unwrap_err();
    assert_eq!(status, wslink_status::WSLINK_ERROR_TIMEOUT);

    let bad = options(SECRET, |o| {
        let mut error = null_mut();
        // SAFETY: live options, an out-pointer to a local.
        let status = unsafe { wslink_options_set_wire(o, 7, &mut error) };
        assert_eq!(status, wslink_status::WSLINK_ERROR_INVALID_ARGUMENT);
        assert!(take_error(error).2.contains("use 1 or 2"));
    });
    // SAFETY: options from wslink_options_new, freed once.
    unsafe { wslink_options_free(bad) };
}

#[test]
fn a_call_past_the_request_timeout_fails_with_timeout() {
    let server = serve();
    let client = connect(
        &server.url,
        options(SECRET, |o| {
            // SAFETY: live options.
            unsafe { wslink_options_set_request_timeout_ms(o, 200, null_mut()) };
        }),
    )
    .unwrap();
    let (status, _, _) = call(client, "test.sleep", vec![wslink_value_int(2000)]).unwrap_err();
    assert_eq!(status, wslink_status::WSLINK_ERROR_TIMEOUT);
    let fast = call(client, "test.sleep", vec![wslink_value_int(1)]).unwrap();
    assert_eq!(int_of(fast), 1);
    // SAFETY: owned, freed once.
    unsafe { wslink_value_free(fast) };
    free(client);
}

type Outcomes = mpsc::Sender<Result<i64, (wslink_status, i64)>>;

unsafe extern "C" fn on_done(
    user_data: *mut c_void,
    result: *mut wslink_value,
    error: *mut wslink_error,
) {
    // SAFETY: the tests pass a leaked `Box<Outcomes>`; this callback runs once per call,
    // and each call has its own box, taken back here.
    let tx = unsafe { Box::from_raw(user_data.cast::<Outcomes>()) };
    let outcome = if error.is_null() {
        let n = int_of(result);
        // SAFETY: the callback owns `result`.
        unsafe { wslink_value_free(result) };
        Ok(n)
    } else {
        let (status, code, _) = take_error(error);
        Err((status, code))
    };
    let _ = tx.send(outcome);
}

fn call_async(client: *const wslink_client, method: &str, n: i64, tx: &Outcomes) -> wslink_status {
    let method = CString::new(method).unwrap();
    let user_data = Box::into_raw(Box::new(tx.clone())).cast::<c_void>();
    // SAFETY: a live client, an owned array, a callback that takes the boxed sender.
    let status = unsafe {
        wslink_call_async(
            client,
            method.as_ptr(),
            array(vec![wslink_value_int(n)]),
            null_mut(),
            Some(on_done),
            user_data,
            null_mut(),
        )
    };
    if status != wslink_status::WSLINK_OK {
        // The callback is never called on failure: the box is ours again.
        // SAFETY: leaked just above and not handed over.
        drop(unsafe { Box::from_raw(user_data.cast::<Outcomes>()) });
    }
    status
}

#[test]
fn async_calls_complete_once_even_when_the_client_is_freed() {
    let server = serve();
    let client = connect(&server.url, options(SECRET, |_| {})).unwrap();
    let (tx, rx) = mpsc::channel();
    for n in 0..50 {
        assert_eq!(
            call_async(client, "test.sleep", n % 5, &tx),
            wslink_status::WSLINK_OK
        );
    }
    let mut got: Vec<i64> = (0..50)
        .map(|_| rx.recv_timeout(WAIT).unwrap().unwrap())
        .collect();
    got.sort();
    let mut want: Vec<i64> = (0..50).map(|n| n % 5).collect();
    want.sort();
    assert_eq!(got, want);

    // A call still waiting when the client goes: its callback says so, before free returns.
    assert_eq!(
        call_async(client, "test.sleep", 10_000, &tx),
        wslink_status::WSLINK_OK
    );
    std::thread::sleep(Duration::from_millis(100));
    free(client);
    let outcome = rx
        .try_recv()
        .expect("the callback ran before wslink_client_free returned");
    assert_eq!(
        outcome.unwrap_err().0,
        wslink_status::WSLINK_ERROR_DISCONNECTED
    );
    assert!(rx.try_recv().is_err(), "exactly once");
}

type Heard = mpsc::Sender<String>;

unsafe extern "C" fn on_publication(user_data: *mut c_void, data: *const wslink_value) {
    // SAFETY: the tests pass a `Heard` that outlives the subscription.
    let tx = unsafe { &*user_data.cast::<Heard>() };
    let _ = tx.send(match data.is_null() {
        true => "NULL".into(),
        false => {
            // SAFETY: `data` is borrowed for this call.
            let seq = unsafe { wslink_value_map_get(data, c"seq".as_ptr(), 3) };
            int_of(seq).to_string()
        }
    });
}

fn subscribe(client: *const wslink_client, topic: &str, tx: &Heard) -> *mut wslink_subscription {
    let topic = CString::new(topic).unwrap();
    let mut subscription = null_mut();
    // SAFETY: a live client; `tx` outlives the subscription in every test.
    let status = unsafe {
        wslink_subscribe(
            client,
            topic.as_ptr(),
            Some(on_publication),
            (tx as *const Heard).cast_mut().cast(),
            &mut subscription,
            null_mut(),
        )
    };
    assert_eq!(status, wslink_status::WSLINK_OK);
    subscription
}

fn publish(client: *const wslink_client, topic: &str, count: i64) {
    let done = call(
        client,
        "test.publish",
        vec![string(topic), wslink_value_int(count)],
    )
    .unwrap();
    // SAFETY: owned, freed once.
    unsafe { wslink_value_free(done) };
}

#[test]
fn subscriptions_deliver_in_order_until_unsubscribed() {
    let server = serve();
    let client = connect(&server.url, options(SECRET, |_| {})).unwrap();
    let (tx, rx) = mpsc::channel();
    let subscription = subscribe(client, "ffi.topic", &tx);
    publish(client, "ffi.topic", 100);
    let got: Vec<String> = (0..100).map(|_| rx.recv_timeout(WAIT).unwrap()).collect();
    assert_eq!(got, (0..100).map(|i| i.to_string()).collect::<Vec<_>>());

    // SAFETY: a live subscription, freed once.
    unsafe { wslink_unsubscribe(subscription) };
    let (witness_tx, witness) = mpsc::channel();
    let other = subscribe(client, "ffi.topic", &witness_tx);
    publish(client, "ffi.topic", 5);
    for _ in 0..5 {
        witness.recv_timeout(WAIT).unwrap();
    }
    assert!(rx.try_recv().is_err(), "nothing after unsubscribing");

    // A bad topic is refused.
    let mut subscription = null_mut();
    let mut error = null_mut();
    // SAFETY: a live client and out-pointers to locals.
    let status = unsafe {
        wslink_subscribe(
            client,
            c"not a topic!".as_ptr(),
            Some(on_publication),
            null_mut(),
            &mut subscription,
            &mut error,
        )
    };
    assert_eq!(status, wslink_status::WSLINK_ERROR_INVALID_ARGUMENT);
    take_error(error);
    free(client);
    // Still safe to free after the client.
    // SAFETY: a live subscription, freed once.
    unsafe { wslink_unsubscribe(other) };
}

#[test]
fn a_dropped_connection_is_dialled_again_and_subscriptions_survive() {
    let server = serve();
    let client = connect(
        &server.url,
        options(SECRET, |o| {
            // SAFETY: live options.
            unsafe { wslink_options_set_reconnect(o, 50, 500, 0, 10_000, null_mut()) };
        }),
    )
    .unwrap();
    let (tx, rx) = mpsc::channel();
    let subscription = subscribe(client, "ffi.again", &tx);
    // SAFETY: a live client; the id is an owned string value.
    let first = unsafe { wslink_client_id(client) };
    let id = string_of(first);
    // SAFETY: owned, freed once.
    unsafe { wslink_value_free(first) };
    let id = wslink_core::ClientId::from_wire(id);
    assert!(server.handle.disconnect(&id), "the server knows the client");

    // The client dials again and says hello again: a new id.
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        // SAFETY: a live client; the id is an owned string value, freed once.
        let current = unsafe { wslink_client_id(client) };
        let changed = !current.is_null() && string_of(current) != id.as_str();
        // SAFETY: owned (or NULL), freed once.
        unsafe { wslink_value_free(current) };
        if changed {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no reconnect within {WAIT:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let echo = call(client, "test.echo", vec![wslink_value_int(7)]).unwrap();
    assert_eq!(int_of(echo), 7);
    // SAFETY: owned, freed once; a live client.
    unsafe {
        wslink_value_free(echo);
        assert!(wslink_client_is_connected(client));
    }
    publish(client, "ffi.again", 3);
    let got: Vec<String> = (0..3).map(|_| rx.recv_timeout(WAIT).unwrap()).collect();
    assert_eq!(got, ["0", "1", "2"]);
    // SAFETY: a live subscription, freed once.
    unsafe { wslink_unsubscribe(subscription) };
    free(client);
    drop(server.runtime);
}

#[test]
fn closing_fails_later_calls_and_is_harmless_twice() {
    let server = serve();
    let client = connect(&server.url, options(SECRET, |_| {})).unwrap();
    // SAFETY: a live client.
    unsafe {
        assert_eq!(
            wslink_client_close(client, null_mut()),
            wslink_status::WSLINK_OK
        );
        assert_eq!(
            wslink_client_close(client, null_mut()),
            wslink_status::WSLINK_OK
        );
        assert!(!wslink_client_is_connected(client));
        assert!(wslink_client_id(client).is_null());
    }
    let (status, _, _) = call(client, "test.echo", vec![]).unwrap_err();
    assert_eq!(status, wslink_status::WSLINK_ERROR_DISCONNECTED);
    let (tx, _rx) = mpsc::channel();
    assert_eq!(
        call_async(client, "test.echo", 1, &tx),
        wslink_status::WSLINK_ERROR_DISCONNECTED
    );
    free(client);
}

#[test]
fn wss_with_a_trusted_self_signed_certificate() {
    let (tls, pem) = TlsConfig::self_signed(&["127.0.0.1".to_owned()]).unwrap();
    let server = serve_with(
        HttpOptions {
            tls: Some(tls),
            ..HttpOptions::default()
        },
        "wss",
    );
    let path = std::env::temp_dir().join(format!("wslink-ffi-{}.pem", std::process::id()));
    std::fs::write(&path, pem).unwrap();
    let path = CString::new(path.to_str().unwrap()).unwrap();

    // Not trusted: the TLS handshake fails.
    let (status, _, message) = connect(&server.url, options(SECRET, |_| {})).unwrap_err();
    assert_eq!(status, wslink_status::WSLINK_ERROR_TRANSPORT, "{message}");

    let trusting = options(SECRET, |o| {
        // SAFETY: live options and a NUL-terminated path.
        let status = unsafe { wslink_options_trust_pem_file(o, path.as_ptr(), null_mut()) };
        assert_eq!(status, wslink_status::WSLINK_OK);
    });
    let client = connect(&server.url, trusting).unwrap();
    let got = call(client, "test.echo", vec![string("over TLS")]).unwrap();
    assert_eq!(string_of(got), "over TLS");
    // SAFETY: owned, freed once.
    unsafe { wslink_value_free(got) };
    free(client);

    let missing = options(SECRET, |o| {
        let mut error = null_mut();
        // SAFETY: live options, a NUL-terminated path, an out-pointer to a local.
        let status =
            unsafe { wslink_options_trust_pem_file(o, c"/no/such.pem".as_ptr(), &mut error) };
        assert_eq!(status, wslink_status::WSLINK_ERROR_INVALID_ARGUMENT);
        assert!(take_error(error).2.contains("/no/such.pem"));
    });
    // SAFETY: options from wslink_options_new, freed once.
    unsafe { wslink_options_free(missing) };
    let _ = std::fs::remove_file(path.to_str().unwrap());
}
