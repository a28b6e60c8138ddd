//! A C ABI over the wslink client, for C and C++ programs: connect to a wslink server
//! over `ws://` or `wss://` (2.x or 1.x wire), call methods, subscribe to topics.
//!
//! The C header is `include/wslink.h` (generated from this crate by cbindgen, and checked
//! to be current by `tests/header.rs`); the C++17 header over it is `include/wslink.hpp`.
//! Build the library with `cargo build -p wslink-ffi --release`: `libwslink_ffi.so` and
//! `libwslink_ffi.a` land in `target/release/`.
//!
//! The rules every function follows:
//!
//! * **Errors**: a fallible function returns a [`wslink_status`] (`WSLINK_OK` is 0) and
//!   takes `wslink_error **error` last; on failure, unless `error` is NULL, `*error` is a
//!   new [`wslink_error`] with the wire code, a message and the server's data, which the
//!   caller frees with [`wslink_error_free`].
//! * **Ownership**: what a function returns or stores through an out-pointer is the
//!   caller's, to free with the matching `_free` function; values given to a call or
//!   pushed into an array or a map are *consumed*; accessors return pointers *borrowed*
//!   from their argument.
//! * **Threads**: a client may be used from any number of threads at once. Callbacks run
//!   on the client's own callback thread, one at a time, in order; they may call the
//!   library, blocking functions included. The library's network threads never run C
//!   code.
//! * **Panics** never cross into C: each function catches them and fails with
//!   `WSLINK_ERROR_INTERNAL` (or returns NULL).
//!
//! Values cross the boundary as a small tree ([`value`]): simpler to use correctly from
//! C than msgpack bytes (no msgpack library needed, nothing to decode wrongly), and
//! binary is passed by pointer both ways.
//!
//! The same functions from Rust (as C would call them), building `[1, "two", <3 bytes>]`:
//!
//! ```
//! use wslink_ffi::*;
//!
//! // SAFETY: every pointer comes from the library and is used as its docs say.
//! unsafe {
//!     let args = wslink_value_array();
//!     wslink_value_array_push(args, wslink_value_int(1), std::ptr::null_mut());
//!     wslink_value_array_push(args, wslink_value_string(c"two".as_ptr(), 3), std::ptr::null_mut());
//!     wslink_value_array_push(args, wslink_value_binary([7u8, 8, 9].as_ptr(), 3), std::ptr::null_mut());
//!     assert_eq!(wslink_value_len(args), 3);
//!     let (mut data, mut len) = (std::ptr::null(), 0);
//!     assert!(wslink_value_get_binary(wslink_value_array_get(args, 2), &mut data, &mut len));
//!     assert_eq!(std::slice::from_raw_parts(data, len), [7, 8, 9]);
//!     wslink_value_free(args);
//! }
//! ```

// The C names (`wslink_client`, `wslink_status`, …) are the ABI; they follow C's style.
#![allow(non_camel_case_types)]

mod boundary;
mod callbacks;
pub mod client;
pub mod error;
pub mod options;
pub mod subscription;
pub mod value;

pub use client::*;
pub use error::*;
pub use options::*;
pub use subscription::*;
pub use value::*;
