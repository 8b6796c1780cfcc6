//! The callbacks a plugin descriptor points to: pointers in, SDK runtime
//! calls out. Not exported by name; the host reaches them through
//! `flb_rs_plugin`.

use std::ffi::{c_char, c_int, c_void};
use std::sync::Arc;

use flb_rs_sdk::host::Host;
use flb_rs_sdk::runtime::{FilterOutcome, Instance};
use flb_rs_sdk::{FlushResult, OnFailure, PluginKind};

use crate::abi::*;
use crate::boundary::{bytes, ffi_panic_boundary, try_ref, ErrorBuf};
use crate::descriptors::entry_of;
use crate::host::{read_api, FfiHost};

pub(crate) unsafe extern "C" fn create(
    plugin: *const flb_rs_plugin,
    host: *const flb_rs_host_api,
    host_ins: *mut c_void,
    out: *mut *mut flb_rs_instance,
    err: *mut c_char,
    err_len: usize,
) -> c_int {
    // SAFETY: the ABI: `err` is NULL or `err_len` writable bytes, the
    // host's, for the duration of the call.
    let err = unsafe { ErrorBuf::new(err, err_len) };
    ffi_panic_boundary!(
        {
            err.write("panic while creating the instance");
            FLB_RS_ERROR
        },
        {
            if out.is_null() {
                err.write("create: `out` is NULL");
                return FLB_RS_ERROR;
            }
            // SAFETY: `out` is not NULL and points to writable storage for a
            // pointer (ABI); cleared first so that it is NULL on any failure.
            unsafe { *out = std::ptr::null_mut() };
            let Some(entry) = entry_of(plugin) else {
                err.write("create: not a plugin descriptor of this library");
                return FLB_RS_ERROR;
            };
            // SAFETY: the ABI: `host` is NULL or the host's table, alive
            // while instances made with it exist.
            let api = match unsafe { read_api(host) } {
                Ok(api) => api,
                Err((code, msg)) => {
                    err.write(&format!("{}: {msg}", entry.name));
                    return code;
                }
            };
            if entry.kind == PluginKind::Input
                && api.append.is_none()
                && api.append_records.is_none()
            {
                err.write(&format!(
                    "{}: the host has no append callback for inputs",
                    entry.name
                ));
                return FLB_RS_ERROR;
            }
            let (append, append_records) = (api.append, api.append_records);
            // SAFETY: `api` is from `read_api`; `host_ins` is the host's
            // pointer for this instance, valid until `destroy` (ABI), where
            // the host is revoked.
            let ffi_host = Arc::new(unsafe { FfiHost::new(api, host_ins) });
            let props = match ffi_host.properties() {
                Ok(p) => p,
                Err(msg) => {
                    err.write(&format!("{}: {msg}", entry.name));
                    return FLB_RS_ERROR;
                }
            };
            let host: Arc<dyn Host> = ffi_host.clone();
            match Instance::create(entry, host, &props) {
                Ok(instance) => {
                    let ins = Box::new(flb_rs_instance {
                        instance,
                        host_ins,
                        append,
                        append_records,
                        host: ffi_host,
                    });
                    // SAFETY: checked non-NULL above.
                    unsafe { *out = Box::into_raw(ins) };
                    FLB_RS_OK
                }
                Err(e) => {
                    err.write(&format!("{}: {e}", entry.name));
                    // Threads the plugin started before it failed may still
                    // run; the host frees its instance after this returns.
                    ffi_host.revoke();
                    FLB_RS_ERROR
                }
            }
        }
    )
}

pub(crate) unsafe extern "C" fn destroy(ins: *mut flb_rs_instance) {
    ffi_panic_boundary!((), {
        if !ins.is_null() {
            // SAFETY: `ins` came from `Box::into_raw` in `create`, and the
            // ABI forbids any call on it during or after `destroy`.
            let ins = unsafe { Box::from_raw(ins) };
            let host = ins.host.clone();
            drop(ins);
            // A thread the plugin did not join may still hold the host; from
            // now on its calls do nothing, as the host frees its instance.
            host.revoke();
        }
    })
}

pub(crate) unsafe extern "C" fn flush(
    ins: *mut flb_rs_instance,
    tag: *const c_char,
    tag_len: usize,
    data: *const u8,
    len: usize,
) -> c_int {
    ffi_panic_boundary!(FLB_RS_RETRY, {
        let ins = try_ref!(ins, FLB_RS_ERROR);
        // SAFETY: the host passes `tag_len` bytes at `tag`, valid until this
        // call returns (ABI); the runtime copies the tag.
        let tag = unsafe { bytes(tag.cast(), tag_len) };
        // The chunk is lent to the flush thread, not copied: `flush_lent`
        // returns only once the `LentChunk` is dropped.
        let chunk = Box::new(LentChunk { ptr: data, len });
        match ins
            .instance
            .flush_lent(&String::from_utf8_lossy(tag), chunk, data as usize)
        {
            FlushResult::Ok => FLB_RS_OK,
            FlushResult::Retry => FLB_RS_RETRY,
            FlushResult::Error => FLB_RS_ERROR,
        }
    })
}

/// The chunk the host passed to `flush`, read by the output's flush
/// thread while the host's call waits for it.
struct LentChunk {
    ptr: *const u8,
    len: usize,
}

// SAFETY: the bytes are only read, never written, and the host keeps them
// valid and unchanged until its `flush` call returns (ABI); that call
// returns only after the `LentChunk` is dropped (`Instance::flush_lent`),
// so no thread reads them afterwards.
unsafe impl Send for LentChunk {}

impl AsRef<[u8]> for LentChunk {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: `len` bytes at `ptr` (or NULL), valid while `self` lives
        // (see the `Send` impl above); the slice borrows `self`.
        unsafe { bytes(self.ptr, self.len) }
    }
}

pub(crate) unsafe extern "C" fn filter(
    ins: *mut flb_rs_instance,
    tag: *const c_char,
    tag_len: usize,
    data: *const u8,
    len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> c_int {
    let ins = try_ref!(ins, FLB_RS_FILTER_NOTOUCH);
    let failed = failed_filter_result(ins.instance.entry().on_failure);
    ffi_panic_boundary!(failed, {
        if out.is_null() || out_len.is_null() {
            return failed;
        }
        // SAFETY: both out-pointers checked non-NULL; cleared so that NOTOUCH
        // always leaves them NULL/0.
        unsafe {
            *out = std::ptr::null_mut();
            *out_len = 0;
        }
        // SAFETY: as in `flush`: valid for the duration of the call.
        let (tag, data) = unsafe { (bytes(tag.cast(), tag_len), bytes(data, len)) };
        match ins.instance.filter(&String::from_utf8_lossy(tag), data) {
            FilterOutcome::Unchanged => FLB_RS_FILTER_NOTOUCH,
            FilterOutcome::Modified(v) => {
                let (ptr, n) = crate::buffer::into_raw(v);
                // SAFETY: out-pointers checked non-NULL above.
                unsafe {
                    *out = ptr;
                    *out_len = n;
                }
                FLB_RS_FILTER_MODIFIED
            }
        }
    })
}

/// What `filter` returns when it cannot filter the chunk: a filter that
/// fails closed has it dropped, any other lets it pass unchanged.
fn failed_filter_result(policy: OnFailure) -> c_int {
    match policy {
        OnFailure::Drop => FLB_RS_FILTER_DROP,
        OnFailure::PassUnchanged => FLB_RS_FILTER_NOTOUCH,
    }
}

pub(crate) unsafe extern "C" fn input_fd(ins: *mut flb_rs_instance) -> c_int {
    ffi_panic_boundary!(-1, {
        let ins = try_ref!(ins, -1);
        ins.instance.input_fd().unwrap_or(-1)
    })
}

pub(crate) unsafe extern "C" fn collect(ins: *mut flb_rs_instance) -> c_int {
    ffi_panic_boundary!(-1, {
        let ins = try_ref!(ins, -1);
        let (append, append_records) = (ins.append, ins.append_records);
        if append.is_none() && append_records.is_none() {
            return -1;
        }
        let host_ins = ins.host_ins;
        let n = ins.instance.collect(&mut |tag, data, records| {
            let (tag_ptr, tag_len) = match tag {
                Some(t) => (t.as_ptr().cast::<c_char>(), t.len()),
                None => (std::ptr::null(), 0),
            };
            let (ptr, len) = (data.as_ptr(), data.len());
            // SAFETY: host callbacks, called on the thread that called
            // `collect` (ABI); the pointers are valid for the call and the
            // host copies the data. `records` is the events' own count
            // (the SDK's encoder counts what it writes).
            unsafe {
                match (append_records, append) {
                    (Some(f), _) => f(host_ins, tag_ptr, tag_len, ptr, len, records) == 0,
                    (None, Some(f)) => f(host_ins, tag_ptr, tag_len, ptr, len) == 0,
                    (None, None) => false,
                }
            }
        });
        c_int::try_from(n).unwrap_or(c_int::MAX)
    })
}

pub(crate) unsafe extern "C" fn pause(ins: *mut flb_rs_instance) {
    ffi_panic_boundary!((), {
        try_ref!(ins).instance.pause();
    })
}

pub(crate) unsafe extern "C" fn resume(ins: *mut flb_rs_instance) {
    ffi_panic_boundary!((), {
        try_ref!(ins).instance.resume();
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_that_fails_closed_has_its_chunk_dropped_when_the_call_fails() {
        assert_eq!(failed_filter_result(OnFailure::Drop), FLB_RS_FILTER_DROP);
        assert_eq!(
            failed_filter_result(OnFailure::PassUnchanged),
            FLB_RS_FILTER_NOTOUCH
        );
    }
}
