//! Buffers handed to the host, and their way back.

/// Gives up ownership of `v` as a pointer and length for the host.
pub(crate) fn into_raw(v: Vec<u8>) -> (*mut u8, usize) {
    let b = v.into_boxed_slice();
    let n = b.len();
    (Box::into_raw(b).cast::<u8>(), n)
}

/// Takes back a buffer made by [`into_raw`].
///
/// # Safety
/// `ptr` and `len` must come from one call of [`into_raw`], and the buffer
/// must not be used afterwards.
pub(crate) unsafe fn free(ptr: *mut u8, len: usize) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: per the contract above, (ptr, len) is exactly a boxed slice
    // we leaked in `into_raw`.
    drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) });
}
