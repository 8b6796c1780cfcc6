//! `flb-rs-ffi`: the C ABI through which Fluent Bit's shim reaches every
//! Rust plugin. The static library Fluent Bit links (rust/staticlib, or the
//! crate FlbRust.cmake generates for plugin crates from elsewhere) is this
//! crate plus the list of its plugins.
//!
//! This crate is the only place with `unsafe` and exported functions;
//! every exported name starts with `flb_rs_`. The plugins and the SDK behind them
//! are safe Rust. The header `include/flb_rs.h` is generated from this crate
//! by cbindgen and checked in; `include/README.md` states the ABI's rules.

#[cfg(not(panic = "unwind"))]
compile_error!(
    "flb-rs must be built with panic=unwind: panics are caught at the C boundary \
     and turned into errors instead of aborting Fluent Bit"
);

mod abi;
mod boundary;
mod buffer;
mod callbacks;
mod descriptors;
mod host;
mod plugins;

use std::ffi::{c_char, c_int, CStr};
use std::sync::{Arc, Once};

pub use abi::*;
use boundary::{ffi_panic_boundary, ErrorBuf};

// What C shares between threads, checked by the compiler: Fluent Bit's
// output workers call `flush` on one instance at once, and every thread a
// plugin starts logs and counts through the instance's host.
const _: () = {
    const fn shared_between_threads<T: Send + Sync>() {}
    shared_between_threads::<flb_rs_sdk::runtime::Instance>();
    shared_between_threads::<host::FfiHost>();
    shared_between_threads::<abi::flb_rs_append_fn>();
    shared_between_threads::<abi::flb_rs_append_records_fn>();
};

/// The ABI version this library speaks: `(major << 16) | minor`.
#[no_mangle]
pub extern "C" fn flb_rs_abi_version() -> u32 {
    (FLB_RS_ABI_MAJOR << 16) | FLB_RS_ABI_MINOR
}

/// The library's own version, a static NUL-terminated string such as
/// "0.1.0".
#[no_mangle]
pub extern "C" fn flb_rs_library_version() -> *const c_char {
    static VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => c"unknown",
        };
    VERSION.as_ptr()
}

/// Checks that host and library speak the same ABI major version and sets
/// up logging: messages that belong to no instance (a panic on a thread of
/// no instance, say) go to `host->log` with a NULL `host_ins`. Call once,
/// before creating instances, from one thread. Returns `FLB_RS_OK`,
/// `FLB_RS_ERROR_ABI` (majors differ) or `FLB_RS_ERROR`, with a message in
/// `err` (`err_len` bytes, may be NULL). Calling it again is harmless.
///
/// # Safety
/// `host` must be NULL or point to a host table that lives as long as the
/// process; `err` must be NULL or point to `err_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn flb_rs_register(
    host: *const flb_rs_host_api,
    err: *mut c_char,
    err_len: usize,
) -> c_int {
    // SAFETY: this function's contract (above).
    let err = unsafe { ErrorBuf::new(err, err_len) };
    ffi_panic_boundary!(FLB_RS_ERROR, {
        // SAFETY: this function's contract: `host` is NULL or a live table.
        match unsafe { host::read_api(host) } {
            Ok(api) => {
                install_panic_hook();
                // SAFETY: `api` is from `read_api`; a NULL instance is what
                // the ABI passes to `log` and `log_level` for messages of no
                // instance, the only calls the fallback logger makes.
                let fallback = unsafe { host::FfiHost::new(api, std::ptr::null_mut()) };
                flb_rs_sdk::logging::set_fallback(Arc::new(fallback));
                FLB_RS_OK
            }
            Err((code, msg)) => {
                err.write(&format!("flb-rs: {msg}"));
                code
            }
        }
    })
}

/// Number of plugins in the library.
#[no_mangle]
pub extern "C" fn flb_rs_plugin_count() -> usize {
    ffi_panic_boundary!(0, { descriptors::table().plugins.len() })
}

/// Plugin number `index` (0-based), or NULL when out of range. The
/// descriptor is static.
#[no_mangle]
pub extern "C" fn flb_rs_plugin_get(index: usize) -> *const flb_rs_plugin {
    ffi_panic_boundary!(std::ptr::null(), {
        descriptors::table()
            .plugins
            .get(index)
            .map_or(std::ptr::null(), |p| p as *const flb_rs_plugin)
    })
}

/// The plugin of `kind` (`FLB_RS_KIND_*`) called `name`, or NULL.
///
/// # Safety
/// `name` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn flb_rs_plugin_find(
    kind: u32,
    name: *const c_char,
) -> *const flb_rs_plugin {
    ffi_panic_boundary!(std::ptr::null(), {
        if name.is_null() {
            return std::ptr::null();
        }
        // SAFETY: not NULL, and NUL-terminated per the contract above.
        let name = unsafe { CStr::from_ptr(name) };
        descriptors::table()
            .plugins
            .iter()
            // SAFETY: descriptor names are our own static C strings.
            .find(|p| p.kind == kind && unsafe { CStr::from_ptr(p.name) } == name)
            .map_or(std::ptr::null(), |p| p as *const flb_rs_plugin)
    })
}

/// Config key number `index` of `plugin`, or NULL when out of range or
/// `plugin` is not a descriptor of this library. Static.
#[no_mangle]
pub extern "C" fn flb_rs_plugin_config_key(
    plugin: *const flb_rs_plugin,
    index: usize,
) -> *const flb_rs_config_key {
    ffi_panic_boundary!(std::ptr::null(), {
        let t = descriptors::table();
        t.plugins
            .iter()
            .position(|p| std::ptr::eq(p, plugin))
            .and_then(|i| t.keys[i].get(index))
            .map_or(std::ptr::null(), |k| k as *const flb_rs_config_key)
    })
}

/// Frees a buffer the library handed out (a filter's output). NULL is
/// ignored.
///
/// # Safety
/// `buf` and `len` must be exactly what a `filter` call returned, and the
/// buffer must not be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn flb_rs_buffer_free(buf: *mut u8, len: usize) {
    ffi_panic_boundary!((), {
        // SAFETY: forwarded contract.
        unsafe { buffer::free(buf, len) }
    })
}

/// Sends panic messages to the host's log (under the instance whose thread
/// panicked) instead of stderr. The panic itself is then caught at the
/// boundary.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let msg = flb_rs_sdk::runtime::panic_message(info.payload());
            match info.location() {
                Some(l) => log::error!("panic at {}:{}: {msg}", l.file(), l.line()),
                None => log::error!("panic: {msg}"),
            }
        }));
    });
}

#[cfg(test)]
mod header_test;
#[cfg(test)]
mod plugin_list_test;
