/* wslink: a C client for wslink servers (RPC and publish/subscribe over WebSockets).
 *
 * Generated from the wslink-ffi crate by cbindgen; do not edit by hand. The rules every
 * function follows (errors, ownership, threads) are at the top of wslink-ffi/src/lib.rs
 * and in the README's "C and C++" section. */

#ifndef WSLINK_H
#define WSLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct wslink_value wslink_value;

// What happened. `WSLINK_OK` is 0; every other value is a failure.
typedef enum {
  // Success.
  WSLINK_OK = 0,
  // The server answered the call with an error (see [`wslink_error_code`]).
  WSLINK_ERROR_RPC = 1,
  // The server rejected the hello (a wrong secret).
  WSLINK_ERROR_AUTH = 2,
  // The connection is closed, or closed before the answer came.
  WSLINK_ERROR_DISCONNECTED = 3,
  // No answer (or no connection) within the configured time.
  WSLINK_ERROR_TIMEOUT = 4,
  // The connection could not be opened, or the transport failed.
  WSLINK_ERROR_TRANSPORT = 5,
  // The server broke the protocol, or a message could not be encoded or decoded.
  WSLINK_ERROR_PROTOCOL = 6,
  // An argument was invalid (NULL, not UTF-8, of the wrong kind, out of range).
  WSLINK_ERROR_INVALID_ARGUMENT = 7,
  // A bug in the library (a panic, stopped at the boundary).
  WSLINK_ERROR_INTERNAL = 8,
} wslink_status;

// The kind of a value.
typedef enum {
  // nil (JSON null, Python None).
  WSLINK_NIL = 0,
  // A boolean.
  WSLINK_BOOL = 1,
  // A signed 64-bit integer.
  WSLINK_INT = 2,
  // An unsigned integer above `INT64_MAX`.
  WSLINK_UINT = 3,
  // A 64-bit float.
  WSLINK_FLOAT = 4,
  // A UTF-8 string.
  WSLINK_STRING = 5,
  // Binary bytes.
  WSLINK_BINARY = 6,
  // An array of values.
  WSLINK_ARRAY = 7,
  // A map from strings to values, in insertion order.
  WSLINK_MAP = 8,
  // A msgpack extension (tag and bytes), 2.x only.
  WSLINK_EXT = 9,
} wslink_kind;

// A connected client (opaque).
typedef struct wslink_client wslink_client;

// The details of a failure: its status, the wire code (the server's, or -32099 for a
// local failure as the JS client uses), a readable message, and the server's data.
typedef struct wslink_error wslink_error;

// Settings for `wslink_connect` (opaque).
typedef struct wslink_options wslink_options;

// A subscription (opaque).
typedef struct wslink_subscription wslink_subscription;

// The callback of [`wslink_call_async`]: exactly one of `result` and `error` is not
// NULL, and the callback owns it (free it with `wslink_value_free` or
// `wslink_error_free`).
typedef void (*wslink_call_fn)(void *user_data, wslink_value *result, wslink_error *error);

// The callback of [`wslink_subscribe`]: `data` is the publication, *borrowed* for the
// duration of the call (copy what you keep; do not free it).
typedef void (*wslink_publication_fn)(void *user_data, const wslink_value *data);

// Releases memory lent with [`wslink_value_binary_take`].
typedef void (*wslink_release_fn)(void *context, uint8_t *data, size_t len);

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

// Connects to `url` (`ws://host:port/path`, or `wss://…`), says hello, and stores the new
// client in `*client`. Blocks until the server accepted the hello, or fails:
// `WSLINK_ERROR_TRANSPORT` (no connection), `WSLINK_ERROR_AUTH` (a wrong secret; the
// server's code and message are in the error), `WSLINK_ERROR_TIMEOUT`,
// `WSLINK_ERROR_INVALID_ARGUMENT`.
//
// `options` is read, not kept (NULL: the defaults). The client is owned by the caller
// and freed with [`wslink_client_free`]. Any thread but the library's network threads.
//
// # Safety
// `url` is NULL or a NUL-terminated string; `options` is NULL or live options; `client`
// is NULL or writable; `error` is NULL or writable.
wslink_status wslink_connect(const char *url,
                             const wslink_options *options,
                             wslink_client **client,
                             wslink_error **error);

// Calls `method(*args, **kwargs)` and blocks until the answer. On success `*result`
// holds the result, owned by the caller. On failure: `WSLINK_ERROR_RPC` (the server's
// error: its code, message and data are in `*error`), `WSLINK_ERROR_DISCONNECTED`,
// `WSLINK_ERROR_TIMEOUT` (the request timeout), `WSLINK_ERROR_INVALID_ARGUMENT`.
//
// `args` (an array, or NULL for none) and `kwargs` (a map, or NULL for none) are
// *consumed*, also on failure: binary inside them is sent without another copy. Any
// thread but the library's network threads, the callback thread included.
//
// # Safety
// `client` is NULL or a live client; `method` is NULL or a NUL-terminated string;
// `args` and `kwargs` are NULL or values the caller owns; `result` and `error` are NULL
// or writable.
wslink_status wslink_call(const wslink_client *client,
                          const char *method,
                          wslink_value *args,
                          wslink_value *kwargs,
                          wslink_value **result,
                          wslink_error **error);

// Calls `method(*args, **kwargs)` without waiting: returns at once, and
// `callback(user_data, result, error)` runs later on the client's callback thread,
// exactly once — with the result, the server's error, a timeout, or
// `WSLINK_ERROR_DISCONNECTED` (also when the client is closed or freed before the
// answer). When this function itself fails (a NULL argument, a closed client), it
// returns the error and the callback is never called.
//
// `args` and `kwargs` are consumed as by [`wslink_call`]. `user_data` is passed to the
// callback untouched; it must stay usable until the callback ran. Any thread.
//
// # Safety
// As [`wslink_call`]; `callback` is NULL or a function of the right type that does not
// unwind (a C++ exception must not leave it).
wslink_status wslink_call_async(const wslink_client *client,
                                const char *method,
                                wslink_value *args,
                                wslink_value *kwargs,
                                wslink_call_fn callback,
                                void *user_data,
                                wslink_error **error);

// `true` while the client has a connection that passed its hello (not closed, not
// reconnecting). Any thread.
//
// # Safety
// `client` is NULL or a live client.
bool wslink_client_is_connected(const wslink_client *client);

// The id the server gave this client in its hello (a new one after each reconnect), as
// a string value owned by the caller; NULL when the client is closed. Any thread.
//
// # Safety
// `client` is NULL or a live client.
wslink_value *wslink_client_id(const wslink_client *client);

// Closes the connection (close code 1000) and blocks until the server acknowledged it
// or the close timeout passed. Calls in flight fail with `WSLINK_ERROR_DISCONNECTED`,
// subscriptions stop; later calls fail the same way. Closing twice is harmless. The
// client stays allocated until [`wslink_client_free`]. Any thread but the network
// threads.
//
// # Safety
// `client` is NULL or a live client; `error` is NULL or writable.
wslink_status wslink_client_close(const wslink_client *client, wslink_error **error);

// Closes the client as [`wslink_client_close`] does, stops its threads and frees it.
// Callbacks still queued run first (pending calls get `WSLINK_ERROR_DISCONNECTED`);
// when this returns, no callback of this client runs any more — except when called from
// inside one of its callbacks, where the remaining callbacks run after that callback
// returns. Subscriptions not yet unsubscribed are inert; they must still be freed with
// `wslink_unsubscribe`. NULL is allowed. No other function may use `client` meanwhile
// or afterwards.
//
// # Safety
// `client` is NULL or a live client from [`wslink_connect`], not used by another thread
// meanwhile; it is invalid afterwards.
void wslink_client_free(wslink_client *client);

// The status of `error` (never `WSLINK_OK`). `error` is borrowed; NULL gives
// `WSLINK_ERROR_INVALID_ARGUMENT`. Any thread.
//
// # Safety
// `error` is NULL or an error from this library not yet freed.
wslink_status wslink_error_status(const wslink_error *error);

// The wire code: the server's for `WSLINK_ERROR_RPC` and `WSLINK_ERROR_AUTH` (for
// example -32001 for an exception in a method, -32601 for an unknown method, -32000 for a
// rejected secret), -32099 for local failures. `error` is borrowed. Any thread.
//
// # Safety
// `error` is NULL or an error from this library not yet freed.
int64_t wslink_error_code(const wslink_error *error);

// The message, NUL-terminated UTF-8, owned by `error` and valid until it is freed. Never
// NULL (an empty string for a NULL `error`). Any thread.
//
// # Safety
// `error` is NULL or an error from this library not yet freed.
const char *wslink_error_message(const wslink_error *error);

// The server's `data` for the error, or NULL when it sent none (always NULL for local
// failures). Owned by `error`: valid until it is freed, not to be freed alone. Any
// thread.
//
// # Safety
// `error` is NULL or an error from this library not yet freed.
const wslink_value *wslink_error_data(const wslink_error *error);

// Frees an error. NULL is allowed (nothing happens). Any thread, once.
//
// # Safety
// `error` is NULL or an error from this library not yet freed; it is invalid afterwards.
void wslink_error_free(wslink_error *error);

// New options with the defaults, owned by the caller (free with [`wslink_options_free`]).
// NULL only if the library failed internally.
wslink_options *wslink_options_new(void);

// Frees options. NULL is allowed.
//
// # Safety
// `options` is NULL or options from [`wslink_options_new`] not yet freed.
void wslink_options_free(wslink_options *options);

// The secret sent in the hello (NUL-terminated UTF-8, copied; default `wslink-secret`).
//
// # Safety
// `options` is NULL or live options; `secret` is NULL or a NUL-terminated string;
// `error` is NULL or writable.
wslink_status wslink_options_set_secret(wslink_options *options,
                                        const char *secret,
                                        wslink_error **error);

// The wire generation: 2 (msgpack, chunked binary frames; the default) or 1 (JSON text
// frames with binary attachments, for wslink 1.x servers). Anything else is
// `WSLINK_ERROR_INVALID_ARGUMENT`.
//
// # Safety
// `options` is NULL or live options; `error` is NULL or writable.
wslink_status wslink_options_set_wire(wslink_options *options,
                                      uint32_t generation,
                                      wslink_error **error);

// Fails a call with `WSLINK_ERROR_TIMEOUT` when no answer came within `ms`
// milliseconds; 0 (the default) waits as long as the connection lives.
//
// # Safety
// `options` is NULL or live options; `error` is NULL or writable.
wslink_status wslink_options_set_request_timeout_ms(wslink_options *options,
                                                    uint64_t ms,
                                                    wslink_error **error);

// Fails `wslink_connect` with `WSLINK_ERROR_TIMEOUT` when opening the connection and the
// hello take longer than `ms` milliseconds (default 10000); 0 waits without limit.
//
// # Safety
// `options` is NULL or live options; `error` is NULL or writable.
wslink_status wslink_options_set_connect_timeout_ms(wslink_options *options,
                                                    uint64_t ms,
                                                    wslink_error **error);

// How long closing or freeing a client waits for the server to acknowledge the close
// (default 1000 ms; 0 does not wait).
//
// # Safety
// `options` is NULL or live options; `error` is NULL or writable.
wslink_status wslink_options_set_close_timeout_ms(wslink_options *options,
                                                  uint64_t ms,
                                                  wslink_error **error);

// Largest message accepted from the server, in bytes, after reassembling chunks
// (default 256 MiB); the WebSocket message limit (default 64 MiB, a 1.x message being
// one WebSocket message) is raised to match when it is smaller. 0 is
// `WSLINK_ERROR_INVALID_ARGUMENT`.
//
// # Safety
// `options` is NULL or live options; `error` is NULL or writable.
wslink_status wslink_options_set_max_message_size(wslink_options *options,
                                                  size_t bytes,
                                                  wslink_error **error);

// Dials again when the connection drops: waits `initial_delay_ms` before the first
// attempt, doubling up to `max_delay_ms`; gives up after `max_attempts` failures in a
// row (0: never); a call made while reconnecting waits up to `wait_for_link_ms` for the
// new connection. Subscriptions survive reconnects; calls in flight when the connection
// dropped fail with `WSLINK_ERROR_DISCONNECTED`. Default: no reconnect.
//
// # Safety
// `options` is NULL or live options; `error` is NULL or writable.
wslink_status wslink_options_set_reconnect(wslink_options *options,
                                           uint64_t initial_delay_ms,
                                           uint64_t max_delay_ms,
                                           uint32_t max_attempts,
                                           uint64_t wait_for_link_ms,
                                           wslink_error **error);

// Also trusts the certificates of a PEM file (a self-signed server certificate or a
// private CA) for `wss://`. Fails with `WSLINK_ERROR_INVALID_ARGUMENT` when the file
// cannot be read or holds no certificate.
//
// # Safety
// `options` is NULL or live options; `path` is NULL or a NUL-terminated string; `error`
// is NULL or writable.
wslink_status wslink_options_trust_pem_file(wslink_options *options,
                                            const char *path,
                                            wslink_error **error);

// Calls `callback(user_data, data)` on the client's callback thread for every
// publication on `topic`, in arrival order, until [`wslink_unsubscribe`]. Stores the
// subscription in `*subscription` (owned by the caller). A server that takes
// server-side subscriptions is told; the subscription survives reconnects. Fails with
// `WSLINK_ERROR_INVALID_ARGUMENT` for a topic that is not dot-separated words of
// letters, digits and `_`, and `WSLINK_ERROR_DISCONNECTED` on a closed client.
// `user_data` must stay usable until `wslink_unsubscribe` returned. Any thread.
//
// # Safety
// `client` is NULL or a live client; `topic` is NULL or a NUL-terminated string;
// `callback` is NULL or a function of the right type that does not unwind;
// `subscription` and `error` are NULL or writable.
wslink_status wslink_subscribe(const wslink_client *client,
                               const char *topic,
                               wslink_publication_fn callback,
                               void *user_data,
                               wslink_subscription **subscription,
                               wslink_error **error);

// Unsubscribes and frees `subscription`. When this returns, its callback is not
// running and never runs again (from inside that very callback, it does not run again
// once the callback returns). Works after the client was closed or freed. NULL is
// allowed. Any thread.
//
// # Safety
// `subscription` is NULL or a live subscription from [`wslink_subscribe`], not used by
// another thread meanwhile; it is invalid afterwards.
void wslink_unsubscribe(wslink_subscription *subscription);

// A new nil value, owned by the caller. Never NULL.
wslink_value *wslink_value_nil(void);

// A new boolean value, owned by the caller. Never NULL.
wslink_value *wslink_value_bool(bool value);

// A new integer value, owned by the caller. Never NULL.
wslink_value *wslink_value_int(int64_t value);

// A new unsigned integer value, owned by the caller (kept as an `INT` when it fits one,
// as on the wire). Never NULL.
wslink_value *wslink_value_uint(uint64_t value);

// A new float value, owned by the caller. Never NULL.
wslink_value *wslink_value_float(double value);

// A new string value holding a copy of `len` bytes of UTF-8 at `text` (no NUL needed;
// NULL is allowed with `len` 0), owned by the caller. NULL when the bytes are not UTF-8.
//
// # Safety
// `text` is NULL or points to `len` readable bytes.
wslink_value *wslink_value_string(const char *text, size_t len);

// A new binary value holding a copy of `len` bytes at `data` (NULL is allowed with
// `len` 0), owned by the caller. NULL only when `data` is NULL with a non-zero `len`.
//
// # Safety
// `data` is NULL or points to `len` readable bytes.
wslink_value *wslink_value_binary(const uint8_t *data, size_t len);

// A new binary value over `len` bytes at `data` *without copying them*: the library
// reads them in place until it calls `release(context, data, len)`, exactly once, on any
// thread, when the value (and every message made from it) is gone. Use it for large
// arguments. Returns NULL (and calls `release` at once) when `data` is NULL or `len` is
// too large; NULL without calling anything when `release` is NULL.
//
// # Safety
// `data` points to `len` readable bytes that stay valid and unchanged until `release`
// is called; `release` may be called from any thread.
wslink_value *wslink_value_binary_take(uint8_t *data,
                                       size_t len,
                                       wslink_release_fn release,
                                       void *context);

// A new msgpack extension value (type `tag`, a copy of `len` bytes at `data`), owned by
// the caller. The 1.x wire cannot carry it. NULL only when `data` is NULL with a
// non-zero `len`.
//
// # Safety
// `data` is NULL or points to `len` readable bytes.
wslink_value *wslink_value_ext(int8_t tag, const uint8_t *data, size_t len);

// A new empty array, owned by the caller. Never NULL.
wslink_value *wslink_value_array(void);

// A new empty map, owned by the caller. Never NULL.
wslink_value *wslink_value_map(void);

// Appends `item` to `array`. Consumes `item` in every case (it is freed if this fails).
// Fails with `WSLINK_ERROR_INVALID_ARGUMENT` when `array` is NULL or not an array, or
// `item` is NULL.
//
// # Safety
// `array` is NULL or a live value not used by another thread meanwhile; `item` is NULL
// or a value the caller owns, not `array` itself nor inside it.
wslink_status wslink_value_array_push(wslink_value *array,
                                      wslink_value *item,
                                      wslink_error **error);

// Sets `map[key] = item`, `key` being `key_len` bytes of UTF-8 (no NUL needed); an
// existing key keeps its place and gets the new item. Consumes `item` in every case.
// Fails with `WSLINK_ERROR_INVALID_ARGUMENT` when `map` is NULL or not a map, `item` is
// NULL, or `key` is not UTF-8.
//
// # Safety
// `map` is NULL or a live value not used by another thread meanwhile; `key` is NULL or
// points to `key_len` readable bytes; `item` is NULL or a value the caller owns, not
// `map` itself nor inside it.
wslink_status wslink_value_map_insert(wslink_value *map,
                                      const char *key,
                                      size_t key_len,
                                      wslink_value *item,
                                      wslink_error **error);

// A deep copy of `value` (binary is shared, not copied), owned by the caller; NULL for
// NULL.
//
// # Safety
// `value` is NULL or a live value.
wslink_value *wslink_value_clone(const wslink_value *value);

// `true` when both values are equal (NaN differs from itself; two NULLs are equal).
//
// # Safety
// `a` and `b` are NULL or live values.
bool wslink_value_equal(const wslink_value *a, const wslink_value *b);

// Frees a value the caller owns, with everything inside it. NULL is allowed.
//
// # Safety
// `value` is NULL or a value the caller owns (not one borrowed from another value, a
// publication or an error); it is invalid afterwards.
void wslink_value_free(wslink_value *value);

// The kind of `value` (`WSLINK_NIL` for NULL).
//
// # Safety
// `value` is NULL or a live value.
wslink_kind wslink_value_kind(const wslink_value *value);

// Reads a boolean: `true` and `*out` set when `value` is one, `false` otherwise.
//
// # Safety
// `value` is NULL or a live value; `out` is NULL or writable.
bool wslink_value_get_bool(const wslink_value *value, bool *out);

// Reads an integer that fits an `int64_t` (an `INT`, or a `UINT` up to `INT64_MAX`).
//
// # Safety
// `value` is NULL or a live value; `out` is NULL or writable.
bool wslink_value_get_int(const wslink_value *value, int64_t *out);

// Reads an integer that fits a `uint64_t` (a `UINT`, or a non-negative `INT`).
//
// # Safety
// `value` is NULL or a live value; `out` is NULL or writable.
bool wslink_value_get_uint(const wslink_value *value, uint64_t *out);

// Reads a number as a `double`: a `FLOAT`, or an integer (rounded to the nearest double).
//
// # Safety
// `value` is NULL or a live value; `out` is NULL or writable.
bool wslink_value_get_float(const wslink_value *value, double *out);

// Reads a string: `*text` points to its UTF-8 bytes, *not* NUL-terminated, `*len` is
// their count. Borrowed from `value`.
//
// # Safety
// `value` is NULL or a live value; `text` and `len` are NULL or writable.
bool wslink_value_get_string(const wslink_value *value, const char **text, size_t *len);

// Reads binary: `*data` points to its bytes (no copy), `*len` is their count. Borrowed
// from `value`.
//
// # Safety
// `value` is NULL or a live value; `data` and `len` are NULL or writable.
bool wslink_value_get_binary(const wslink_value *value, const uint8_t **data, size_t *len);

// Reads an extension: its type into `*tag`, its bytes as with
// [`wslink_value_get_binary`].
//
// # Safety
// `value` is NULL or a live value; `tag`, `data` and `len` are NULL or writable.
bool wslink_value_get_ext(const wslink_value *value,
                          int8_t *tag,
                          const uint8_t **data,
                          size_t *len);

// The number of items of an array or entries of a map, the byte length of a string,
// binary or extension; 0 for anything else.
//
// # Safety
// `value` is NULL or a live value.
size_t wslink_value_len(const wslink_value *value);

// Item `index` of an array, borrowed from it; NULL when `value` is not an array or
// `index` is out of range.
//
// # Safety
// `value` is NULL or a live value.
const wslink_value *wslink_value_array_get(const wslink_value *value, size_t index);

// Entry `index` of a map, in insertion order: its key as with
// [`wslink_value_get_string`] (not NUL-terminated), and its value as the return value,
// all borrowed from `value`. NULL when `value` is not a map or `index` is out of range.
//
// # Safety
// `value` is NULL or a live value; `key` and `key_len` are NULL or writable (NULL skips
// the key).
const wslink_value *wslink_value_map_entry(const wslink_value *value,
                                           size_t index,
                                           const char **key,
                                           size_t *key_len);

// The value of `key` (`key_len` bytes of UTF-8) in a map, borrowed from it; NULL when
// `value` is not a map or has no such key.
//
// # Safety
// `value` is NULL or a live value; `key` is NULL or points to `key_len` readable bytes.
const wslink_value *wslink_value_map_get(const wslink_value *value,
                                         const char *key,
                                         size_t key_len);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* WSLINK_H */
