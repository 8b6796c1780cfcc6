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

/// The host's buffer for an error message, taken once at the boundary so
/// that writing to it is safe afterwards.
pub(crate) struct ErrorBuf {
    ptr: *mut c_char,
    len: usize,
}

impl ErrorBuf {
    /// # Safety
    /// `ptr` must be NULL or point to `len` writable bytes that stay valid,
    /// and are not read or written by anyone else, while the value lives.
    pub(crate) unsafe fn new(ptr: *mut c_char, len: usize) -> ErrorBuf {
        ErrorBuf { ptr, len }
    }

    /// Writes `msg`, cut to fit and NUL-terminated (nothing when NULL).
    pub(crate) fn write(&self, msg: &str) {
        if self.ptr.is_null() || self.len == 0 {
            return;
        }
        let n = msg.len().min(self.len - 1);
        // SAFETY: `new`'s contract: `ptr` points to `len` writable bytes;
        // we write `n + 1 <= len` of them, from a Rust string that cannot
        // overlap a buffer the host owns.
        unsafe {
            std::ptr::copy_nonoverlapping(msg.as_ptr(), self.ptr.cast::<u8>(), n);
            *self.ptr.add(n) = 0;
        }
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
