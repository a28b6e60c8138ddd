//! The value tree and the error object from C's side: constructors, accessors, borrowed
//! pointers, consumed arguments, lent binary, and NULL or wrong input refused without a
//! crash.

use std::ffi::{c_void, CStr};
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicUsize, Ordering};

use wslink_ffi::*;

#[test]
fn scalars_read_back_and_kinds_are_checked() {
    // SAFETY: every value is from the library, read while live, freed once.
    unsafe {
        let n = wslink_value_int(-5);
        let (mut i, mut u, mut f, mut b) = (0i64, 0u64, 0f64, false);
        assert_eq!(wslink_value_kind(n), wslink_kind::WSLINK_INT);
        assert!(wslink_value_get_int(n, &mut i) && i == -5);
        assert!(!wslink_value_get_uint(n, &mut u), "negative: no uint");
        assert!(wslink_value_get_float(n, &mut f) && f == -5.0);
        assert!(!wslink_value_get_bool(n, &mut b));
        wslink_value_free(n);

        let big = wslink_value_uint(u64::MAX);
        assert_eq!(wslink_value_kind(big), wslink_kind::WSLINK_UINT);
        assert!(!wslink_value_get_int(big, &mut i), "above INT64_MAX");
        assert!(wslink_value_get_uint(big, &mut u) && u == u64::MAX);
        wslink_value_free(big);
        let small = wslink_value_uint(7);
        assert_eq!(
            wslink_value_kind(small),
            wslink_kind::WSLINK_INT,
            "as on the wire"
        );
        wslink_value_free(small);

        assert!(
            wslink_value_string(b"\xff\xfe".as_ptr().cast(), 2).is_null(),
            "not UTF-8"
        );
        assert!(wslink_value_string(null(), 3).is_null());
        let empty = wslink_value_string(null(), 0);
        assert_eq!(wslink_value_len(empty), 0);
        wslink_value_free(empty);

        assert_eq!(wslink_value_kind(null()), wslink_kind::WSLINK_NIL);
        wslink_value_free(null_mut());
        assert!(!wslink_value_get_int(null(), &mut i));
    }
}

#[test]
fn arrays_and_maps_own_their_items_and_lend_them() {
    // SAFETY: as above; borrowed pointers are used only while their parent lives.
    unsafe {
        let map = wslink_value_map();
        let list = wslink_value_array();
        assert_eq!(
            wslink_value_array_push(list, wslink_value_bool(true), null_mut()),
            wslink_status::WSLINK_OK
        );
        assert_eq!(
            wslink_value_map_insert(map, c"list".as_ptr(), 4, list, null_mut()),
            wslink_status::WSLINK_OK
        );
        assert_eq!(
            wslink_value_map_insert(map, c"n".as_ptr(), 1, wslink_value_int(1), null_mut()),
            wslink_status::WSLINK_OK
        );
        // The same key again keeps its place, with the new value.
        assert_eq!(
            wslink_value_map_insert(map, c"list".as_ptr(), 4, wslink_value_nil(), null_mut()),
            wslink_status::WSLINK_OK
        );
        assert_eq!(wslink_value_len(map), 2);
        let (mut key, mut len) = (null(), 0);
        let first = wslink_value_map_entry(map, 0, &mut key, &mut len);
        assert_eq!(std::slice::from_raw_parts(key.cast::<u8>(), len), b"list");
        assert_eq!(wslink_value_kind(first), wslink_kind::WSLINK_NIL);
        assert!(wslink_value_map_entry(map, 2, null_mut(), null_mut()).is_null());
        assert!(wslink_value_map_get(map, c"missing".as_ptr(), 7).is_null());

        let copy = wslink_value_clone(map);
        assert!(wslink_value_equal(copy, map));
        wslink_value_free(copy);

        // Pushing into something that is not an array fails, and still consumes the item.
        let mut error = null_mut();
        let status = wslink_value_array_push(map, wslink_value_int(3), &mut error);
        assert_eq!(status, wslink_status::WSLINK_ERROR_INVALID_ARGUMENT);
        assert_eq!(wslink_error_status(error), status);
        assert_eq!(wslink_error_code(error), -32099);
        let message = CStr::from_ptr(wslink_error_message(error))
            .to_str()
            .unwrap();
        assert!(message.contains("not an array"), "{message}");
        assert!(wslink_error_data(error).is_null());
        wslink_error_free(error);
        assert_eq!(
            wslink_value_map_insert(
                map,
                b"\xff".as_ptr().cast(),
                1,
                wslink_value_nil(),
                null_mut()
            ),
            wslink_status::WSLINK_ERROR_INVALID_ARGUMENT
        );
        assert_eq!(
            wslink_value_array_push(null_mut(), null_mut(), null_mut()),
            wslink_status::WSLINK_ERROR_INVALID_ARGUMENT
        );
        wslink_value_free(map);

        // NULL errors read as harmless defaults.
        assert_eq!(CStr::from_ptr(wslink_error_message(null())).to_bytes(), b"");
        wslink_error_free(null_mut());
    }
}

static RELEASED: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn release(context: *mut c_void, data: *mut u8, len: usize) {
    assert_eq!(context.cast::<u8>(), data);
    // SAFETY: the buffer leaked in the test below, with this length.
    drop(unsafe { Vec::from_raw_parts(data, len, len) });
    RELEASED.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn lent_binary_is_read_in_place_and_released_once() {
    let mut buffer = std::mem::ManuallyDrop::new(vec![1u8, 2, 3, 4]);
    buffer.shrink_to_fit();
    let (ptr, len) = (buffer.as_mut_ptr(), buffer.len());
    // SAFETY: the buffer stays valid until `release`, which frees it.
    unsafe {
        let value = wslink_value_binary_take(ptr, len, Some(release), ptr.cast());
        let (mut data, mut got) = (null(), 0);
        assert!(wslink_value_get_binary(value, &mut data, &mut got));
        assert_eq!((data, got), (ptr.cast_const(), 4), "no copy");
        let copy = wslink_value_clone(value);
        wslink_value_free(value);
        assert_eq!(
            RELEASED.load(Ordering::SeqCst),
            0,
            "the clone still reads it"
        );
        wslink_value_free(copy);
        assert_eq!(RELEASED.load(Ordering::SeqCst), 1);
        assert!(
            wslink_value_binary_take(ptr, len, None, null_mut()).is_null(),
            "no release function"
        );
    }
}
