//! The edges every exported function and callback goes through: no panic
//! crosses into C, no NULL is dereferenced, errors reach C as text.

use std::ffi::c_char;

/// Runs the body; a panic (already logged by the panic hook) becomes `$err`.
macro_rules! ffi_panic_boundary {
    ($err:expr, $body:block) => {
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| $body)) {
            Ok(v) => v,
            Err(_) => $err,
        }
    };
}

/// Turns a pointer into a reference, or returns `$err` (or nothing) when it
/// is NULL.
macro_rules! try_ref {
    ($ptr:expr) => {
        try_ref!($ptr, ())
    };
    ($ptr:expr, $err:expr) => {{
        let p = $ptr;
        if p.is_null() {
            #[allow(clippy::unused_unit)]
            return $err;
        }
        // SAFETY: not NULL (checked above); the ABI requires every pointer
        // the host passes to point to a live object of the declared type.
        unsafe { &*p }
    }};
}

pub(crate) use {ffi_panic_boundary, try_ref};

/// Writes `msg` to the host's error buffer, cut to fit and NUL-terminated.
pub(crate) fn write_error(err: *mut c_char, err_len: usize, msg: &str) {
    if err.is_null() || err_len == 0 {
        return;
    }
    let n = msg.len().min(err_len - 1);
    // SAFETY: the ABI says `err` points to `err_len` writable bytes; we
    // write `n + 1 <= err_len` of them, from a source that cannot overlap a
    // buffer the host owns.
    unsafe {
        std::ptr::copy_nonoverlapping(msg.as_ptr(), err.cast::<u8>(), n);
        *err.add(n) = 0;
    }
}

/// The bytes of a (pointer, length) pair from C; empty for NULL.
///
/// # Safety
/// `ptr` must be NULL or point to `len` readable bytes that stay valid and
/// unchanged for `'a`.
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if ptr.is_null() || len == 0 {
        &[]
    } else {
        // SAFETY: guaranteed by the caller, as documented above.
        unsafe { std::slice::from_raw_parts(ptr, len) }
    }
}
