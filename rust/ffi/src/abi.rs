//! The C ABI: constants and `repr(C)` types, exactly as the header shows
//! them. Everything here is part of the versioned contract; the rules are
//! in `include/README.md`.

#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_int, c_void};

/// Major version of the ABI. Changes when any existing function, struct
/// field or constant changes meaning or place. A host and a library with
/// different majors refuse each other.
pub const FLB_RS_ABI_MAJOR: u32 = 1;
/// Minor version of the ABI. Grows when fields are appended to the end of a
/// struct or functions are added; either side copes with a different minor.
pub const FLB_RS_ABI_MINOR: u32 = 2;

/// Plugin kinds (`flb_rs_plugin.kind`).
pub const FLB_RS_KIND_INPUT: u32 = 1;
pub const FLB_RS_KIND_FILTER: u32 = 2;
pub const FLB_RS_KIND_OUTPUT: u32 = 3;

/// Event types a plugin handles (`flb_rs_plugin.event_type`, a bit set;
/// same values as Fluent Bit's `FLB_OUTPUT_LOGS`...).
pub const FLB_RS_EVENT_LOGS: u32 = 1;
pub const FLB_RS_EVENT_METRICS: u32 = 2;
pub const FLB_RS_EVENT_TRACES: u32 = 4;

/// Config key types (`flb_rs_config_key.key_type`).
pub const FLB_RS_KEY_STR: u32 = 1;
pub const FLB_RS_KEY_INT: u32 = 2;
pub const FLB_RS_KEY_BOOL: u32 = 3;
pub const FLB_RS_KEY_DOUBLE: u32 = 4;
/// Bytes, with an optional K/M/G suffix (powers of 1000).
pub const FLB_RS_KEY_SIZE: u32 = 5;
/// Seconds, or a number with an ms/s/m/h/d suffix.
pub const FLB_RS_KEY_TIME: u32 = 6;
/// Comma-separated list of strings.
pub const FLB_RS_KEY_CLIST: u32 = 7;
/// Space-separated list of strings.
pub const FLB_RS_KEY_SLIST: u32 = 8;

/// Results of `create`, `flush`, `flb_rs_register`.
pub const FLB_RS_OK: c_int = 0;
/// Flush: keep the chunk and try it again later.
pub const FLB_RS_RETRY: c_int = 1;
/// Flush: the chunk can never be delivered. Elsewhere: the call failed.
pub const FLB_RS_ERROR: c_int = -1;
/// `create`/`flb_rs_register`: the ABI major versions differ.
pub const FLB_RS_ERROR_ABI: c_int = -2;

/// Results of `filter`.
pub const FLB_RS_FILTER_NOTOUCH: c_int = 0;
pub const FLB_RS_FILTER_MODIFIED: c_int = 1;
/// Since 1.1: drop the whole chunk (`*out` is NULL). Returned only by
/// filters flagged `FLB_RS_PLUGIN_FAIL_CLOSED`, when the library could not
/// filter the chunk.
pub const FLB_RS_FILTER_DROP: c_int = 2;

/// Plugin flags (`flb_rs_plugin.flags`, a bit set; since 1.1).
///
/// A filter that fails closed: what it could not filter must never pass
/// on. The host drops a chunk when it cannot take the filter's result
/// (no memory for its copy), and the library returns `FLB_RS_FILTER_DROP`
/// when the call fails (a panic outside the plugin's guarded part).
pub const FLB_RS_PLUGIN_FAIL_CLOSED: u32 = 1;

/// Log levels, as Fluent Bit numbers them (`FLB_LOG_ERROR` ...).
pub const FLB_RS_LOG_OFF: c_int = 0;
pub const FLB_RS_LOG_ERROR: c_int = 1;
pub const FLB_RS_LOG_WARN: c_int = 2;
pub const FLB_RS_LOG_INFO: c_int = 3;
pub const FLB_RS_LOG_DEBUG: c_int = 4;
pub const FLB_RS_LOG_TRACE: c_int = 5;

/// Metric kinds (`metric_create`).
pub const FLB_RS_METRIC_COUNTER: c_int = 1;
pub const FLB_RS_METRIC_GAUGE: c_int = 2;
/// Metric updates (`metric_update`): add to the value, or set it (gauges).
pub const FLB_RS_METRIC_ADD: c_int = 1;
pub const FLB_RS_METRIC_SET: c_int = 2;

/// Writes one log line for an instance. `msg` is `len` bytes of UTF-8,
/// not NUL-terminated. `host_ins` is NULL for messages that belong to no
/// instance. Called from any thread, concurrently.
pub type flb_rs_log_fn = Option<
    unsafe extern "C" fn(host_ins: *mut c_void, level: c_int, msg: *const c_char, len: usize),
>;

/// The instance's log level (`FLB_RS_LOG_*`), read once at `create`.
pub type flb_rs_log_level_fn = Option<unsafe extern "C" fn(host_ins: *mut c_void) -> c_int>;

/// Number of properties the instance was configured with. Only called
/// during `create`.
pub type flb_rs_property_count_fn = Option<unsafe extern "C" fn(host_ins: *mut c_void) -> usize>;

/// Property `index` (0-based, in configuration order; a repeated key comes
/// once per value). Sets `*key` and `*value` to NUL-terminated strings owned
/// by the host, valid until `create` returns. Returns 0, or -1 when `index`
/// is out of range. Only called during `create`.
pub type flb_rs_property_at_fn = Option<
    unsafe extern "C" fn(
        host_ins: *mut c_void,
        index: usize,
        key: *mut *const c_char,
        value: *mut *const c_char,
    ) -> c_int,
>;

/// Inputs: appends `len` bytes of msgpack log events to the pipeline under
/// `tag` (`tag_len` bytes, not NUL-terminated; NULL for the instance's own
/// tag). The host copies the data before returning. Returns 0, or -1 when it
/// cannot take the events now (they stay queued and are offered again).
/// Only called from within `collect`, on the thread that called it.
pub type flb_rs_append_fn = Option<
    unsafe extern "C" fn(
        host_ins: *mut c_void,
        tag: *const c_char,
        tag_len: usize,
        data: *const u8,
        len: usize,
    ) -> c_int,
>;

/// Inputs, since ABI 1.2: `append` with the number of log records the
/// events hold, so that the host need not decode them to count (Fluent
/// Bit's `flb_input_log_append` does, record by record). Same contract as
/// `append` otherwise. Optional: without it the library calls `append`.
pub type flb_rs_append_records_fn = Option<
    unsafe extern "C" fn(
        host_ins: *mut c_void,
        tag: *const c_char,
        tag_len: usize,
        data: *const u8,
        len: usize,
        records: usize,
    ) -> c_int,
>;

/// Declares a metric for the instance: `kind` is `FLB_RS_METRIC_*`, `name`
/// and `help` NUL-terminated, `labels` an array of `label_count` label names.
/// Returns an id >= 0 for `metric_update`, or -1. Strings are copied by the
/// host. Called during `create` or later, from any thread.
pub type flb_rs_metric_create_fn = Option<
    unsafe extern "C" fn(
        host_ins: *mut c_void,
        kind: c_int,
        name: *const c_char,
        help: *const c_char,
        label_count: usize,
        labels: *const *const c_char,
    ) -> c_int,
>;

/// Updates metric `id` for one combination of label values (`label_count`
/// NUL-terminated strings, the count declared at creation). `op` is
/// `FLB_RS_METRIC_ADD` or `FLB_RS_METRIC_SET`. Called from any thread,
/// concurrently.
pub type flb_rs_metric_update_fn = Option<
    unsafe extern "C" fn(
        host_ins: *mut c_void,
        id: c_int,
        op: c_int,
        value: f64,
        label_count: usize,
        label_values: *const *const c_char,
    ),
>;

/// The services the host offers, passed to `flb_rs_register` and to every
/// `create`. Owned by the host; it must stay valid and unchanged until every
/// instance created with it has been destroyed (a `static const` is usual).
///
/// Versioning: the first three fields never move. A host fills
/// `abi_major`/`abi_minor` with the `FLB_RS_ABI_*` it was compiled against
/// and `struct_size` with `sizeof(flb_rs_host_api)`. Fields past
/// `struct_size` (an older host) count as NULL.
#[repr(C)]
pub struct flb_rs_host_api {
    pub abi_major: u32,
    pub abi_minor: u32,
    pub struct_size: u32,
    /// Required.
    pub log: flb_rs_log_fn,
    /// Optional; NULL means `FLB_RS_LOG_INFO`.
    pub log_level: flb_rs_log_level_fn,
    /// Required.
    pub property_count: flb_rs_property_count_fn,
    /// Required.
    pub property_at: flb_rs_property_at_fn,
    /// Required to create inputs.
    pub append: flb_rs_append_fn,
    /// Optional (both or neither); without them metrics are not exposed.
    pub metric_create: flb_rs_metric_create_fn,
    pub metric_update: flb_rs_metric_update_fn,
    /// Optional, since 1.2: preferred to `append` when set.
    pub append_records: flb_rs_append_records_fn,
}

/// An instance of a plugin, owned by the Rust side. Opaque to the host:
/// made by `create`, freed by `destroy`.
pub struct flb_rs_instance {
    pub(crate) instance: flb_rs_sdk::runtime::Instance,
    pub(crate) host_ins: *mut c_void,
    pub(crate) append: flb_rs_append_fn,
    pub(crate) append_records: flb_rs_append_records_fn,
    /// The instance's host, revoked once the instance is gone.
    pub(crate) host: std::sync::Arc<crate::host::FfiHost>,
}

/// Creates an instance of `plugin` for the host's instance `host_ins` (an
/// opaque pointer handed back to every host callback). Reads the properties,
/// validates them against the config keys, starts the instance's threads.
/// On success sets `*out` and returns `FLB_RS_OK`. On failure returns
/// `FLB_RS_ERROR` (or `FLB_RS_ERROR_ABI`), leaves `*out` NULL and writes a
/// NUL-terminated message of at most `err_len` bytes to `err` (which may be
/// NULL); the message is also logged.
pub type flb_rs_create_fn = Option<
    unsafe extern "C" fn(
        plugin: *const flb_rs_plugin,
        host: *const flb_rs_host_api,
        host_ins: *mut c_void,
        out: *mut *mut flb_rs_instance,
        err: *mut c_char,
        err_len: usize,
    ) -> c_int,
>;

/// Stops the instance's threads and frees it. NULL is ignored. No other
/// call on the instance may run or follow.
pub type flb_rs_destroy_fn = Option<unsafe extern "C" fn(ins: *mut flb_rs_instance)>;

/// Outputs: delivers `len` bytes of msgpack log events tagged `tag`
/// (`tag_len` bytes). Returns `FLB_RS_OK`, `FLB_RS_RETRY` or `FLB_RS_ERROR`.
/// May be called from several threads at once on one instance. Uses about
/// 2 KiB of the caller's stack (the work runs on the instance's thread), so
/// it is safe on a small coroutine stack. Blocks until the flush is done.
/// The data is copied; the host may free it after the call.
pub type flb_rs_flush_fn = Option<
    unsafe extern "C" fn(
        ins: *mut flb_rs_instance,
        tag: *const c_char,
        tag_len: usize,
        data: *const u8,
        len: usize,
    ) -> c_int,
>;

/// Filters: runs the filter over `len` bytes of msgpack log events. Returns
/// `FLB_RS_FILTER_NOTOUCH` (keep the chunk as it is; `*out` is NULL),
/// `FLB_RS_FILTER_MODIFIED` (`*out`/`*out_len` hold the new events, possibly
/// zero records: free them with `flb_rs_buffer_free`) or, for filters
/// flagged `FLB_RS_PLUGIN_FAIL_CLOSED`, `FLB_RS_FILTER_DROP` (drop the
/// chunk; `*out` is NULL). Runs on the caller's
/// thread; calls on one instance from several threads are serialised.
pub type flb_rs_filter_fn = Option<
    unsafe extern "C" fn(
        ins: *mut flb_rs_instance,
        tag: *const c_char,
        tag_len: usize,
        data: *const u8,
        len: usize,
        out: *mut *mut u8,
        out_len: *mut usize,
    ) -> c_int,
>;

/// Inputs: a file descriptor, owned by the instance, that becomes readable
/// when records wait; the host calls `collect` then (in Fluent Bit, a
/// collector event on it). Valid until `destroy`. -1 on error.
pub type flb_rs_input_fd_fn = Option<unsafe extern "C" fn(ins: *mut flb_rs_instance) -> c_int>;

/// Inputs: appends waiting records through the host's `append`. Returns the
/// number of records appended, or -1. Call from one thread at a time.
pub type flb_rs_collect_fn = Option<unsafe extern "C" fn(ins: *mut flb_rs_instance) -> c_int>;

/// Inputs: the host stops taking records (`pause`) or takes them again
/// (`resume`). While paused the plugin stops reading its sources.
pub type flb_rs_pause_fn = Option<unsafe extern "C" fn(ins: *mut flb_rs_instance)>;

/// One configuration key of a plugin. Static: valid for the life of the
/// process. Versioned by `struct_size` like `flb_rs_plugin`.
#[repr(C)]
pub struct flb_rs_config_key {
    pub struct_size: u32,
    /// `FLB_RS_KEY_*`
    pub key_type: u32,
    /// Non-zero when the key may be given several times (every value kept).
    pub multiple: u32,
    pub name: *const c_char,
    /// Default as the user would write it, or NULL when there is none.
    pub default_value: *const c_char,
    /// One line of text for `fluent-bit -h`.
    pub description: *const c_char,
}

/// Describes one plugin. Static: valid for the life of the process, never
/// freed. Fields may be appended in a minor version: read `struct_size`
/// before reading a field the host's header has and the library's may not.
#[repr(C)]
pub struct flb_rs_plugin {
    pub struct_size: u32,
    /// `FLB_RS_KIND_*`
    pub kind: u32,
    /// `FLB_RS_EVENT_*` bits.
    pub event_type: u32,
    /// `FLB_RS_PLUGIN_*` bits (0 before ABI 1.1).
    pub flags: u32,
    /// The registered name (what users write in `Name`).
    pub name: *const c_char,
    pub description: *const c_char,
    /// Number of keys, read with `flb_rs_plugin_config_key`.
    pub config_key_count: usize,
    /// All kinds.
    pub create: flb_rs_create_fn,
    pub destroy: flb_rs_destroy_fn,
    /// Outputs only; NULL otherwise.
    pub flush: flb_rs_flush_fn,
    /// Filters only; NULL otherwise.
    pub filter: flb_rs_filter_fn,
    /// Inputs only; NULL otherwise.
    pub input_fd: flb_rs_input_fd_fn,
    pub collect: flb_rs_collect_fn,
    pub pause: flb_rs_pause_fn,
    pub resume: flb_rs_pause_fn,
}
