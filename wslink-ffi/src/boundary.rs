//! Crossing the C boundary: no panic gets out, and arguments from C are read in one place.
//!
//! Every exported function runs its body inside [`guard`], which catches a panic and turns
//! it into a fallback return value (a status, or a null pointer) instead of unwinding into
//! C, which would be undefined behaviour. The helpers here read C strings and byte ranges,
//! checking what can be checked (null pointers, UTF-8) and documenting what cannot.

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{wslink_error, wslink_status, Failure};

/// Runs `body`, returning `fallback` if it panics (the panic is logged, never unwound
/// into C).
pub(crate) fn guard<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(value) => value,
        Err(panic) => {
            let what = panic_message(&*panic);
            tracing::error!(panic = what, "a panic was stopped at the C boundary");
            fallback
        }
    }
}

/// Runs a fallible `body` for a function returning a status: success is `WSLINK_OK`, a
/// failure its status, with the error stored through `error` when that is not null. A
/// panic becomes `WSLINK_ERROR_INTERNAL`.
pub(crate) fn status(
    error: *mut *mut wslink_error,
    body: impl FnOnce() -> Result<(), Failure>,
) -> wslink_status {
    let outcome = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(outcome) => outcome,
        Err(panic) => Err(Failure::internal(panic_message(&*panic))),
    };
    match outcome {
        Ok(()) => wslink_status::WSLINK_OK,
        Err(failure) => {
            let code = failure.status;
            // SAFETY: the contract of every function taking `error` is that it is null or
            // points to writable storage for one pointer.
            unsafe { failure.store(error) };
            code
        }
    }
}

/// Reads a NUL-terminated UTF-8 string from C.
///
/// # Safety
/// `ptr` is null or points to a NUL-terminated string that stays valid and unchanged for
/// `'a`.
pub(crate) unsafe fn c_str<'a>(ptr: *const c_char, what: &str) -> Result<&'a str, Failure> {
    if ptr.is_null() {
        return Err(Failure::invalid(format!("{what} is NULL")));
    }
    // SAFETY: non-null, and NUL-terminated and live for 'a by the caller's contract.
    let text = unsafe { CStr::from_ptr(ptr) };
    text.to_str()
        .map_err(|e| Failure::invalid(format!("{what} is not UTF-8: {e}")))
}

/// Reads `len` bytes from C; a null `ptr` is allowed only with `len` 0.
///
/// # Safety
/// `ptr` is null or points to `len` readable bytes that stay valid and unchanged for `'a`.
pub(crate) unsafe fn c_bytes<'a>(
    ptr: *const u8,
    len: usize,
    what: &str,
) -> Result<&'a [u8], Failure> {
    if ptr.is_null() {
        return match len {
            0 => Ok(&[]),
            _ => Err(Failure::invalid(format!(
                "{what} is NULL with length {len}"
            ))),
        };
    }
    if len > isize::MAX as usize {
        return Err(Failure::invalid(format!(
            "{what}: length {len} is too large"
        )));
    }
    // SAFETY: non-null, `len` readable bytes live for 'a by the caller's contract, and
    // `len` fits an isize (checked above), as `from_raw_parts` requires.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Writes `value` through an out-pointer from C.
///
/// # Safety
/// `out` is null (then `value` is returned as the error) or points to writable storage
/// for a `T`.
pub(crate) unsafe fn put<T>(out: *mut T, value: T, what: &str) -> Result<(), Failure> {
    if out.is_null() {
        return Err(Failure::invalid(format!("{what} is NULL")));
    }
    // SAFETY: non-null and writable by the caller's contract; `write` does not read or
    // drop what was there (C memory may be uninitialised).
    unsafe { out.write(value) };
    Ok(())
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}
