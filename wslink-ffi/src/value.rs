//! Values for C: a small tree of opaque nodes, built with constructors and read with
//! accessors.
//!
//! A `wslink_value` is one wslink value: nil, a boolean, an integer, a float, a string,
//! binary, an array, a map (string keys, in insertion order), or a msgpack extension.
//! Why a tree and not msgpack bytes: C code then needs no msgpack library, cannot produce
//! bytes that fail to decode, and reads a result by walking it with type-checked accessors;
//! binary is handed over by pointer both ways (see [`wslink_value_binary_take`] and
//! [`wslink_value_get_binary`]), so the tree costs no copy of the large parts.
//!
//! Ownership: a constructor returns a value the caller owns; it is freed with
//! [`wslink_value_free`], or handed to a function that *consumes* it (array push, map
//! insert, calls), after which the caller must not touch it. Accessors return pointers
//! *borrowed* from the value they were called on, valid until that value is freed or
//! changed. Values are plain data: a value may be read from several threads at once, but
//! changed (push, insert, free) from one thread at a time.

use std::ffi::{c_char, c_void};

use bytes::Bytes;
use wslink_core::{Ext, Map, Value};

use crate::boundary::{c_bytes, guard, status};
use crate::error::{wslink_error, wslink_status, Failure};

/// One wslink value (opaque; see the module docs).
#[repr(transparent)]
#[derive(Debug, Clone, PartialEq)]
pub struct wslink_value(pub(crate) Value);

impl wslink_value {
    fn boxed(value: Value) -> *mut wslink_value {
        Box::into_raw(Box::new(wslink_value(value)))
    }

    /// Borrows a nested value as a C pointer.
    fn borrow(value: &Value) -> *const wslink_value {
        // `wslink_value` is `repr(transparent)` over `Value`: the same layout, so a
        // pointer to one is a valid pointer to the other.
        (value as *const Value).cast()
    }
}

/// Takes ownership of a value from C.
///
/// # Safety
/// `value` is NULL or a value from this library that the caller owned and will not touch
/// again.
pub(crate) unsafe fn take(value: *mut wslink_value) -> Option<Value> {
    if value.is_null() {
        return None;
    }
    // SAFETY: it came from `Box::into_raw` in `wslink_value::boxed` (or a clone) and the
    // caller gives it up, by the contract above.
    Some(unsafe { Box::from_raw(value) }.0)
}

/// Hands a value to C, which then owns it.
pub(crate) fn give(value: Value) -> *mut wslink_value {
    wslink_value::boxed(value)
}

/// Borrows a value from C.
///
/// # Safety
/// `value` is NULL or a live value from this library.
unsafe fn peek<'a>(value: *const wslink_value) -> Option<&'a Value> {
    // SAFETY: null or live, by the contract above.
    unsafe { value.as_ref() }.map(|v| &v.0)
}

/// The kind of a value.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum wslink_kind {
    /// nil (JSON null, Python None).
    WSLINK_NIL = 0,
    /// A boolean.
    WSLINK_BOOL = 1,
    /// A signed 64-bit integer.
    WSLINK_INT = 2,
    /// An unsigned integer above `INT64_MAX`.
    WSLINK_UINT = 3,
    /// A 64-bit float.
    WSLINK_FLOAT = 4,
    /// A UTF-8 string.
    WSLINK_STRING = 5,
    /// Binary bytes.
    WSLINK_BINARY = 6,
    /// An array of values.
    WSLINK_ARRAY = 7,
    /// A map from strings to values, in insertion order.
    WSLINK_MAP = 8,
    /// A msgpack extension (tag and bytes), 2.x only.
    WSLINK_EXT = 9,
}

/// A new nil value, owned by the caller. Never NULL.
#[no_mangle]
pub extern "C" fn wslink_value_nil() -> *mut wslink_value {
    guard(std::ptr::null_mut(), || give(Value::Nil))
}

/// A new boolean value, owned by the caller. Never NULL.
#[no_mangle]
pub extern "C" fn wslink_value_bool(value: bool) -> *mut wslink_value {
    guard(std::ptr::null_mut(), || give(Value::Bool(value)))
}

/// A new integer value, owned by the caller. Never NULL.
#[no_mangle]
pub extern "C" fn wslink_value_int(value: i64) -> *mut wslink_value {
    guard(std::ptr::null_mut(), || give(Value::Int(value)))
}

/// A new unsigned integer value, owned by the caller (kept as an `INT` when it fits one,
/// as on the wire). Never NULL.
#[no_mangle]
pub extern "C" fn wslink_value_uint(value: u64) -> *mut wslink_value {
    guard(std::ptr::null_mut(), || give(Value::from(value)))
}

/// A new float value, owned by the caller. Never NULL.
#[no_mangle]
pub extern "C" fn wslink_value_float(value: f64) -> *mut wslink_value {
    guard(std::ptr::null_mut(), || give(Value::Float(value)))
}

/// A new string value holding a copy of `len` bytes of UTF-8 at `text` (no NUL needed;
/// NULL is allowed with `len` 0), owned by the caller. NULL when the bytes are not UTF-8.
///
/// # Safety
/// `text` is NULL or points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn wslink_value_string(text: *const c_char, len: usize) -> *mut wslink_value {
    guard(std::ptr::null_mut(), || {
        // SAFETY: `len` readable bytes at `text`, by the contract above.
        let Ok(bytes) = (unsafe { c_bytes(text.cast(), len, "text") }) else {
            return std::ptr::null_mut();
        };
        match std::str::from_utf8(bytes) {
            Ok(s) => give(Value::Str(s.to_owned())),
            Err(_) => std::ptr::null_mut(),
        }
    })
}

/// A new binary value holding a copy of `len` bytes at `data` (NULL is allowed with
/// `len` 0), owned by the caller. NULL only when `data` is NULL with a non-zero `len`.
///
/// # Safety
/// `data` is NULL or points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn wslink_value_binary(data: *const u8, len: usize) -> *mut wslink_value {
    guard(std::ptr::null_mut(), || {
        // SAFETY: `len` readable bytes at `data`, by the contract above.
        match unsafe { c_bytes(data, len, "data") } {
            Ok(bytes) => give(Value::Bin(Bytes::copy_from_slice(bytes))),
            Err(_) => std::ptr::null_mut(),
        }
    })
}

/// Releases memory lent with [`wslink_value_binary_take`].
pub type wslink_release_fn =
    Option<unsafe extern "C" fn(context: *mut c_void, data: *mut u8, len: usize)>;

/// Memory lent by C, released through its callback when the last reference goes.
struct Lent {
    data: *mut u8,
    len: usize,
    release: unsafe extern "C" fn(*mut c_void, *mut u8, usize),
    context: *mut c_void,
}

// SAFETY: the contract of `wslink_value_binary_take` is that the bytes stay valid and
// unchanged until `release` runs, and that `release` may run on any thread; nothing else
// is shared.
unsafe impl Send for Lent {}
// SAFETY: as above; the bytes are only read.
unsafe impl Sync for Lent {}

impl AsRef<[u8]> for Lent {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: `data` points to `len` bytes valid until `release` (checked non-null
        // with a length fitting an isize in `wslink_value_binary_take`).
        unsafe { std::slice::from_raw_parts(self.data, self.len) }
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        // SAFETY: called once, with what the caller lent, as it asked.
        unsafe { (self.release)(self.context, self.data, self.len) }
    }
}

/// A new binary value over `len` bytes at `data` *without copying them*: the library
/// reads them in place until it calls `release(context, data, len)`, exactly once, on any
/// thread, when the value (and every message made from it) is gone. Use it for large
/// arguments. Returns NULL (and calls `release` at once) when `data` is NULL or `len` is
/// too large; NULL without calling anything when `release` is NULL.
///
/// # Safety
/// `data` points to `len` readable bytes that stay valid and unchanged until `release`
/// is called; `release` may be called from any thread.
#[no_mangle]
pub unsafe extern "C" fn wslink_value_binary_take(
    data: *mut u8,
    len: usize,
    release: wslink_release_fn,
    context: *mut c_void,
) -> *mut wslink_value {
    guard(std::ptr::null_mut(), || {
        let Some(release) = release else {
            return std::ptr::null_mut();
        };
        let lent = Lent {
            data,
            len,
            release,
            context,
        };
        if data.is_null() || len > isize::MAX as usize {
            return std::ptr::null_mut(); // `lent` is dropped: released at once
        }
        give(Value::Bin(Bytes::from_owner(lent)))
    })
}

/// A new msgpack extension value (type `tag`, a copy of `len` bytes at `data`), owned by
/// the caller. The 1.x wire cannot carry it. NULL only when `data` is NULL with a
/// non-zero `len`.
///
/// # Safety
/// `data` is NULL or points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn wslink_value_ext(
    tag: i8,
    data: *const u8,
    len: usize,
) -> *mut wslink_value {
    guard(std::ptr::null_mut(), || {
        // SAFETY: `len` readable bytes at `data`, by the contract above.
        match unsafe { c_bytes(data, len, "data") } {
            Ok(bytes) => give(Value::Ext(Ext::new(tag, Bytes::copy_from_slice(bytes)))),
            Err(_) => std::ptr::null_mut(),
        }
    })
}

/// A new empty array, owned by the caller. Never NULL.
#[no_mangle]
pub extern "C" fn wslink_value_array() -> *mut wslink_value {
    guard(std::ptr::null_mut(), || give(Value::Array(Vec::new())))
}

/// A new empty map, owned by the caller. Never NULL.
#[no_mangle]
pub extern "C" fn wslink_value_map() -> *mut wslink_value {
    guard(std::ptr::null_mut(), || give(Value::Map(Map::new())))
}

/// Appends `item` to `array`. Consumes `item` in every case (it is freed if this fails).
/// Fails with `WSLINK_ERROR_INVALID_ARGUMENT` when `array` is NULL or not an array, or
/// `item` is NULL.
///
/// # Safety
/// `array` is NULL or a live value not used by another thread meanwhile; `item` is NULL
/// or a value the caller owns, not `array` itself nor inside it.
#[no_mangle]
pub unsafe extern "C" fn wslink_value_array_push(
    array: *mut wslink_value,
    item: *mut wslink_value,
    error: *mut *mut wslink_error,
) -> wslink_status {
    // SAFETY: the caller gives `item` up, by the contract above.
    let item = unsafe { take(item) };
    status(error, move || {
        let item = item.ok_or_else(|| Failure::invalid("item is NULL"))?;
        // SAFETY: null or live and not shared meanwhile, by the contract above.
        match unsafe { array.as_mut() }.map(|a| &mut a.0) {
            Some(Value::Array(items)) => {
                items.push(item);
                Ok(())
            }
            _ => Err(Failure::invalid("array is NULL or not an array")),
        }
    })
}

/// Sets `map[key] = item`, `key` being `key_len` bytes of UTF-8 (no NUL needed); an
/// existing key keeps its place and gets the new item. Consumes `item` in every case.
/// Fails with `WSLINK_ERROR_INVALID_ARGUMENT` when `map` is NULL or not a map, `item` is
/// NULL, or `key` is not UTF-8.
///
/// # Safety
/// `map` is NULL or a live value not used by another thread meanwhile; `key` is NULL or
/// points to `key_len` readable bytes; `item` is NULL or a value the caller owns, not
/// `map` itself nor inside it.
#[no_mangle]
pub unsafe extern "C" fn wslink_value_map_insert(
    map: *mut wslink_value,
    key: *const c_char,
    key_len: usize,
    item: *mut wslink_value,
    error: *mut *mut wslink_error,
) -> wslink_status {
    // SAFETY: the caller gives `item` up, by the contract above.
    let item = unsafe { take(item) };
    status(error, move || {
        let item = item.ok_or_else(|| Failure::invalid("item is NULL"))?;
        // SAFETY: `key_len` readable bytes at `key`, by the contract above.
        let key = unsafe { c_bytes(key.cast(), key_len, "key") }?;
        let key = std::str::from_utf8(key).map_err(|e| Failure::invalid(format!("key: {e}")))?;
        // SAFETY: null or live and not shared meanwhile, by the contract above.
        match unsafe { map.as_mut() }.map(|m| &mut m.0) {
            Some(Value::Map(entries)) => {
                entries.insert(key.to_owned(), item);
                Ok(())
            }
            _ => Err(Failure::invalid("map is NULL or not a map")),
        }
    })
}

/// A deep copy of `value` (binary is shared, not copied), owned by the caller; NULL for
/// NULL.
///
/// # Safety
/// `value` is NULL or a live value.
#[no_mangle]
pub unsafe extern "C" fn wslink_value_clone(value: *const wslink_value) -> *mut wslink_value {
    guard(std::ptr::null_mut(), || {
        // SAFETY: null or live, by the contract above.
        unsafe { peek(value) }.map_or(std::ptr::null_mut(), |v| give(v.clone()))
    })
}

/// `true` when both values are equal (NaN differs from itself; two NULLs are equal).
///
/// # Safety
/// `a` and `b` are NULL or live values.
#[no_mangle]
pub unsafe extern "C" fn wslink_value_equal(
    a: *const wslink_value,
    b: *const wslink_value,
) -> bool {
    // SAFETY: null or live, by the contract above.
    guard(false, || unsafe { peek(a) == peek(b) })
}

/// Frees a value the caller owns, with everything inside it. NULL is allowed.
///
/// # Safety
/// `value` is NULL or a value the caller owns (not one borrowed from another value, a
/// publication or an error); it is invalid afterwards.
#[no_mangle]
pub unsafe extern "C" fn wslink_value_free(value: *mut wslink_value) {
    // SAFETY: owned by the caller and given up, by the contract above.
    let value = unsafe { take(value) };
    guard((), move || drop(value));
}

/// The kind of `value` (`WSLINK_NIL` for NULL).
///
/// # Safety
/// `value` is NULL or a live value.
#[no_mangle]
pub unsafe extern "C" fn wslink_value_kind(value: *const wslink_value) -> wslink_kind {
    use wslink_kind::*;
    // SAFETY: null or live, by the contract above.
    match unsafe { peek(value) } {
        None | Some(Value::Nil) => WSLINK_NIL,
        Some(Value::Bool(_)) => WSLINK_BOOL,
        Some(Value::Int(_)) => WSLINK_INT,
        Some(Value::UInt(_)) => WSLINK_UINT,
        Some(Value::Float(_)) => WSLINK_FLOAT,
        Some(Value::Str(_)) => WSLINK_STRING,
        Some(Value::Bin(_)) => WSLINK_BINARY,
        Some(Value::Array(_)) => WSLINK_ARRAY,
        Some(Value::Map(_)) => WSLINK_MAP,
        Some(Value::Ext(_)) => WSLINK_EXT,
    }
}

/// Writes `what(value)` through `out` when it is `Some`; `true` then.
///
/// # Safety
/// `value` is NULL or live; `out` is NULL or writable.
unsafe fn read<T>(
    value: *const wslink_value,
    out: *mut T,
    what: impl FnOnce(&Value) -> Option<T>,
) -> bool {
    // SAFETY: null or live, by the contract above.
    let Some(got) = (unsafe { peek(value) }).and_then(what) else {
        return false;
    };
    if out.is_null() {
        return false;
    }
    // SAFETY: non-null and writable by the contract above.
    unsafe { out.write(got) };
    true
}

/// Reads a boolean: `true` and `*out` set when `value` is one, `false` otherwise.
///
/// # Safety
/// `value` is NULL or a live value; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn wslink_value_get_bool(value: *const wslink_value, out: *mut bool) -> bool {
    // SAFETY: forwarded contract.
    unsafe { read(value, out, Value::as_bool) }
}

/// Reads an integer that fits an `int64_t` (an `INT`, or a `UINT` up to `INT64_MAX`).
///
/// # Safety
/// `value` is NULL or a live value; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn wslink_value_get_int(value: *const wslink_value, out: *mut i64) -> bool {
    // SAFETY: forwarded contract.
    unsafe {
        read(value, out, |v| match v {
            Value::Int(i) => Some(*i),
            Value::UInt(u) => i64::try_from(*u).ok(),
            _ => None,
        })
    }
}

/// Reads an integer that fits a `uint64_t` (a `UINT`, or a non-negative `INT`).
///
/// # Safety
/// `value` is NULL or a live value; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn wslink_value_get_uint(value: *const wslink_value, out: *mut u64) -> bool {
    // SAFETY: forwarded contract.
    unsafe {
        read(value, out, |v| match v {
            Value::Int(i) => u64::try_from(*i).ok(),
            Value::UInt(u) => Some(*u),
            _ => None,
        })
    }
}

/// Reads a number as a `double`: a `FLOAT`, or an integer (rounded to the nearest double).
///
/// # Safety
/// `value` is NULL or a live value; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn wslink_value_get_float(value: *const wslink_value, out: *mut f64) -> bool {
    // SAFETY: forwarded contract.
    unsafe {
        read(value, out, |v| match v {
            Value::Float(f) => Some(*f),
            Value::Int(i) => Some(*i as f64),
            Value::UInt(u) => Some(*u as f64),
            _ => None,
        })
    }
}

/// Reads a string: `*text` points to its UTF-8 bytes, *not* NUL-terminated, `*len` is
/// their count. Borrowed from `value`.
///
/// # Safety
/// `value` is NULL or a live value; `text` and `len` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn wslink_value_get_string(
    value: *const wslink_value,
    text: *mut *const c_char,
    len: *mut usize,
) -> bool {
    // SAFETY: forwarded contract.
    unsafe {
        bytes_out(value, text.cast(), len, |v| match v {
            Value::Str(s) => Some(s.as_bytes()),
            _ => None,
        })
    }
}

/// Reads binary: `*data` points to its bytes (no copy), `*len` is their count. Borrowed
/// from `value`.
///
/// # Safety
/// `value` is NULL or a live value; `data` and `len` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn wslink_value_get_binary(
    value: *const wslink_value,
    data: *mut *const u8,
    len: *mut usize,
) -> bool {
    // SAFETY: forwarded contract.
    unsafe {
        bytes_out(value, data, len, |v| match v {
            Value::Bin(b) => Some(&b[..]),
            _ => None,
        })
    }
}

/// Reads an extension: its type into `*tag`, its bytes as with
/// [`wslink_value_get_binary`].
///
/// # Safety
/// `value` is NULL or a live value; `tag`, `data` and `len` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn wslink_value_get_ext(
    value: *const wslink_value,
    tag: *mut i8,
    data: *mut *const u8,
    len: *mut usize,
) -> bool {
    // SAFETY: forwarded contract.
    let Some(Value::Ext(ext)) = (unsafe { peek(value) }) else {
        return false;
    };
    // SAFETY: forwarded contract (`value` is an extension, so the closure returns Some).
    unsafe {
        read(value, tag, |_| Some(ext.tag)) && bytes_out(value, data, len, |_| Some(&ext.data[..]))
    }
}

/// # Safety
/// `value` is NULL or live; `data` and `len` are NULL or writable.
unsafe fn bytes_out<'a>(
    value: *const wslink_value,
    data: *mut *const u8,
    len: *mut usize,
    what: impl FnOnce(&'a Value) -> Option<&'a [u8]>,
) -> bool {
    // SAFETY: null or live, by the contract above.
    let Some(bytes) = (unsafe { peek(value) }).and_then(what) else {
        return false;
    };
    if data.is_null() || len.is_null() {
        return false;
    }
    // SAFETY: both non-null and writable, by the contract above.
    unsafe {
        data.write(bytes.as_ptr());
        len.write(bytes.len());
    }
    true
}

/// The number of items of an array or entries of a map, the byte length of a string,
/// binary or extension; 0 for anything else.
///
/// # Safety
/// `value` is NULL or a live value.
#[no_mangle]
pub unsafe extern "C" fn wslink_value_len(value: *const wslink_value) -> usize {
    // SAFETY: null or live, by the contract above.
    match unsafe { peek(value) } {
        Some(Value::Array(items)) => items.len(),
        Some(Value::Map(entries)) => entries.len(),
        Some(Value::Str(s)) => s.len(),
        Some(Value::Bin(b)) => b.len(),
        Some(Value::Ext(e)) => e.data.len(),
        _ => 0,
    }
}

/// Item `index` of an array, borrowed from it; NULL when `value` is not an array or
/// `index` is out of range.
///
/// # Safety
/// `value` is NULL or a live value.
#[no_mangle]
pub unsafe extern "C" fn wslink_value_array_get(
    value: *const wslink_value,
    index: usize,
) -> *const wslink_value {
    // SAFETY: null or live, by the contract above.
    match unsafe { peek(value) } {
        Some(Value::Array(items)) => items
            .get(index)
            .map_or(std::ptr::null(), wslink_value::borrow),
        _ => std::ptr::null(),
    }
}

/// Entry `index` of a map, in insertion order: its key as with
/// [`wslink_value_get_string`] (not NUL-terminated), and its value as the return value,
/// all borrowed from `value`. NULL when `value` is not a map or `index` is out of range.
///
/// # Safety
/// `value` is NULL or a live value; `key` and `key_len` are NULL or writable (NULL skips
/// the key).
#[no_mangle]
pub unsafe extern "C" fn wslink_value_map_entry(
    value: *const wslink_value,
    index: usize,
    key: *mut *const c_char,
    key_len: *mut usize,
) -> *const wslink_value {
    // SAFETY: null or live, by the contract above.
    let Some(Value::Map(entries)) = (unsafe { peek(value) }) else {
        return std::ptr::null();
    };
    let Some((k, v)) = entries.get_index(index) else {
        return std::ptr::null();
    };
    if !key.is_null() && !key_len.is_null() {
        // SAFETY: both non-null and writable, by the contract above.
        unsafe {
            key.write(k.as_ptr().cast());
            key_len.write(k.len());
        }
    }
    wslink_value::borrow(v)
}

/// The value of `key` (`key_len` bytes of UTF-8) in a map, borrowed from it; NULL when
/// `value` is not a map or has no such key.
///
/// # Safety
/// `value` is NULL or a live value; `key` is NULL or points to `key_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn wslink_value_map_get(
    value: *const wslink_value,
    key: *const c_char,
    key_len: usize,
) -> *const wslink_value {
    // SAFETY: null or live, by the contract above.
    let Some(Value::Map(entries)) = (unsafe { peek(value) }) else {
        return std::ptr::null();
    };
    // SAFETY: `key_len` readable bytes at `key`, by the contract above.
    let Ok(key) = (unsafe { c_bytes(key.cast(), key_len, "key") }) else {
        return std::ptr::null();
    };
    match std::str::from_utf8(key).ok().and_then(|k| entries.get(k)) {
        Some(v) => wslink_value::borrow(v),
        None => std::ptr::null(),
    }
}
