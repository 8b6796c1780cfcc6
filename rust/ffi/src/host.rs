//! The host's callback table, seen from Rust: version checks on the way in,
//! and [`FfiHost`], which serves the SDK's `Host` trait with those callbacks.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::mem::{size_of, MaybeUninit};
use std::sync::RwLock;

use flb_rs_sdk::host::{Host, MetricKind, MetricOp};
use flb_rs_sdk::Properties;
use log::{Level, LevelFilter};

use crate::abi::*;

/// Every field of the host table as (offset, size), in order. A field
/// the ABI appends in a minor version must be added here; a test checks
/// that the list covers the whole struct.
macro_rules! host_api_fields {
    ($($f:ident),* $(,)?) => {{
        const EMPTY: flb_rs_host_api = flb_rs_host_api {
            $($f: zero()),*
        };
        [$((std::mem::offset_of!(flb_rs_host_api, $f), std::mem::size_of_val(&EMPTY.$f))),*]
    }};
}

/// Zero for an integer field, NULL for a callback.
const fn zero<T: ZeroField>() -> T {
    T::ZERO
}

trait ZeroField {
    const ZERO: Self;
}

impl ZeroField for u32 {
    const ZERO: u32 = 0;
}

impl<F> ZeroField for Option<F> {
    const ZERO: Option<F> = None;
}

fn host_api_layout() -> [(usize, usize); 11] {
    host_api_fields!(
        abi_major,
        abi_minor,
        struct_size,
        log,
        log_level,
        property_count,
        property_at,
        append,
        metric_create,
        metric_update,
        append_records,
    )
}

/// How many leading bytes of a host table of `size` bytes hold whole
/// fields: a `struct_size` that ends inside a field (a host built from a
/// header this library does not know, or a wrong size) must not give us
/// half a function pointer.
fn whole_fields(size: usize) -> usize {
    host_api_layout()
        .iter()
        .map(|&(offset, len)| offset + len)
        .take_while(|&end| end <= size)
        .last()
        .unwrap_or(0)
}

/// Checks the host's version and copies the part of its table this library
/// knows. Fields past the host's `struct_size` stay NULL.
///
/// # Safety
/// `api` must be NULL or point to a host table: three `u32` (major, minor,
/// `struct_size`) followed by at least `struct_size` bytes of table in the
/// layout of that major version, readable for the duration of the call.
pub(crate) unsafe fn read_api(
    api: *const flb_rs_host_api,
) -> Result<flb_rs_host_api, (c_int, String)> {
    if api.is_null() {
        return Err((FLB_RS_ERROR, "the host API table is NULL".into()));
    }
    // SAFETY: `api` is not NULL and, per this function's contract, points
    // to a table whose first three u32 fields (version and size) exist in
    // every version.
    let (major, minor, size) = unsafe { ((*api).abi_major, (*api).abi_minor, (*api).struct_size) };
    if major != FLB_RS_ABI_MAJOR {
        return Err((
            FLB_RS_ERROR_ABI,
            format!(
                "ABI version mismatch: the host speaks flb-rs ABI {major}.{minor}, this plugin library \
                 speaks {FLB_RS_ABI_MAJOR}.{FLB_RS_ABI_MINOR}; rebuild the host shim and the library \
                 from matching sources"
            ),
        ));
    }
    let size = whole_fields((size as usize).min(size_of::<flb_rs_host_api>()));
    if size < 12 {
        return Err((
            FLB_RS_ERROR,
            format!("the host API table is too small ({size} bytes)"),
        ));
    }
    let mut copy = MaybeUninit::<flb_rs_host_api>::zeroed();
    // SAFETY: the host's table is at least `size` bytes (its own
    // `struct_size`, capped at ours and cut to whole fields); the
    // destination is our own struct of at least `size` bytes. Every field
    // is an integer or an optional function pointer, copied whole or not
    // at all, and all-zero bytes are valid for each (0 / NULL), so the
    // zeroed tail and the copied prefix make a valid value.
    let api = unsafe {
        std::ptr::copy_nonoverlapping(api.cast::<u8>(), copy.as_mut_ptr().cast::<u8>(), size);
        copy.assume_init()
    };
    if api.log.is_none() || api.property_count.is_none() || api.property_at.is_none() {
        return Err((
            FLB_RS_ERROR,
            "the host API table lacks a required callback (log, property_count, property_at)"
                .into(),
        ));
    }
    Ok(api)
}

/// One instance's view of the host.
pub(crate) struct FfiHost {
    api: flb_rs_host_api,
    host_ins: *mut c_void,
    level: LevelFilter,
    /// False once the instance is destroyed (or failed to start): a thread
    /// the plugin left running must not reach the host's freed instance.
    /// Held for reading during every callback, so `revoke` waits for the
    /// calls in flight.
    alive: RwLock<bool>,
}

// SAFETY: the ABI requires the host's log and metric callbacks to be
// callable from any thread, concurrently, with the `host_ins` they were
// given; `FfiHost` holds nothing else but plain data.
unsafe impl Send for FfiHost {}
// SAFETY: as above; its only interior mutability is the `alive` lock.
unsafe impl Sync for FfiHost {}

impl FfiHost {
    /// # Safety
    /// `api` must be a table `read_api` returned, and `host_ins` the
    /// pointer the host gave for this instance (NULL for messages of no
    /// instance): every callback of the table is called with it, from any
    /// thread, until [`FfiHost::revoke`].
    pub(crate) unsafe fn new(api: flb_rs_host_api, host_ins: *mut c_void) -> FfiHost {
        let level = match api.log_level {
            // SAFETY: a host callback, called with the instance it belongs
            // to (this function's contract).
            Some(f) => unsafe { f(host_ins) },
            None => FLB_RS_LOG_INFO,
        };
        let level = match level {
            FLB_RS_LOG_OFF => LevelFilter::Off,
            FLB_RS_LOG_ERROR => LevelFilter::Error,
            FLB_RS_LOG_WARN => LevelFilter::Warn,
            FLB_RS_LOG_INFO => LevelFilter::Info,
            FLB_RS_LOG_DEBUG => LevelFilter::Debug,
            l if l >= FLB_RS_LOG_TRACE => LevelFilter::Trace,
            _ => LevelFilter::Info,
        };
        FfiHost {
            api,
            host_ins,
            level,
            alive: RwLock::new(true),
        }
    }

    /// Makes every later callback a no-op, once those in flight are done.
    pub(crate) fn revoke(&self) {
        *self.alive.write().unwrap_or_else(|e| e.into_inner()) = false;
    }

    /// Runs `f` if the host's instance is still there.
    fn if_alive<R: Default>(&self, f: impl FnOnce() -> R) -> R {
        let alive = self.alive.read().unwrap_or_else(|e| e.into_inner());
        if *alive {
            f()
        } else {
            R::default()
        }
    }

    /// The instance's properties, read through the host's callbacks.
    pub(crate) fn properties(&self) -> Result<Properties, String> {
        let (Some(count), Some(at)) = (self.api.property_count, self.api.property_at) else {
            return Err("the host offers no properties".into());
        };
        // SAFETY: host callback with its own instance pointer.
        let n = unsafe { count(self.host_ins) };
        let mut props = Properties::new();
        for i in 0..n {
            let mut k: *const c_char = std::ptr::null();
            let mut v: *const c_char = std::ptr::null();
            // SAFETY: host callback; `k` and `v` are valid out-pointers.
            if unsafe { at(self.host_ins, i, &mut k, &mut v) } != 0 || k.is_null() {
                return Err(format!("the host could not read property {i} of {n}"));
            }
            // SAFETY: the host set `k` (and `v` when not NULL) to
            // NUL-terminated strings valid until `create` returns, which is
            // after this copy.
            let (k, v) = unsafe {
                (
                    CStr::from_ptr(k),
                    if v.is_null() { c"" } else { CStr::from_ptr(v) },
                )
            };
            let k = k
                .to_str()
                .map_err(|_| format!("property name {k:?} is not UTF-8"))?;
            let v = v
                .to_str()
                .map_err(|_| format!("the value of property '{k}' is not UTF-8"))?;
            props.push(k, v);
        }
        Ok(props)
    }
}

fn c_strings(items: &[&str]) -> Result<Vec<CString>, String> {
    items
        .iter()
        .map(|s| CString::new(*s).map_err(|_| format!("'{s}' contains a NUL byte")))
        .collect()
}

/// Label strings short and few enough for [`with_c_strings`] to build them
/// on the stack (every label set of every chunk is one update: they are
/// usually one or two short names).
const STACK_LABEL_BYTES: usize = 256;
const STACK_LABELS: usize = 8;

/// Calls `f` with `items` as NUL-terminated C strings, built in a buffer on
/// the stack when they fit and on the heap otherwise; nothing when one of
/// them holds a NUL byte (C cannot be given it).
fn with_c_strings(items: &[&str], f: impl FnOnce(&[*const c_char])) {
    let bytes: usize = items.iter().map(|s| s.len() + 1).sum();
    if items.len() > STACK_LABELS || bytes > STACK_LABEL_BYTES {
        if let Ok(owned) = c_strings(items) {
            let ptrs: Vec<*const c_char> = owned.iter().map(|s| s.as_ptr()).collect();
            f(&ptrs);
        }
        return;
    }
    if items.iter().any(|s| s.as_bytes().contains(&0)) {
        return;
    }
    // Each string is followed by a byte left zero: its terminator.
    let mut buf = [0u8; STACK_LABEL_BYTES];
    let mut starts = [0usize; STACK_LABELS];
    let mut at = 0;
    for (start, s) in starts.iter_mut().zip(items) {
        *start = at;
        buf[at..at + s.len()].copy_from_slice(s.as_bytes());
        at += s.len() + 1;
    }
    let mut ptrs = [std::ptr::null::<c_char>(); STACK_LABELS];
    for (p, &start) in ptrs.iter_mut().zip(&starts[..items.len()]) {
        *p = buf[start..].as_ptr().cast();
    }
    f(&ptrs[..items.len()]);
}

impl Host for FfiHost {
    fn log(&self, level: Level, message: &str) {
        let level = match level {
            Level::Error => FLB_RS_LOG_ERROR,
            Level::Warn => FLB_RS_LOG_WARN,
            Level::Info => FLB_RS_LOG_INFO,
            Level::Debug => FLB_RS_LOG_DEBUG,
            Level::Trace => FLB_RS_LOG_TRACE,
        };
        if let Some(f) = self.api.log {
            // SAFETY: host callback, callable from any thread while the
            // instance is alive (checked under the lock); the message is
            // passed as pointer and length and only read during the call.
            self.if_alive(|| unsafe {
                f(self.host_ins, level, message.as_ptr().cast(), message.len())
            })
        }
    }

    fn log_level(&self) -> LevelFilter {
        self.level
    }

    fn metric_create(
        &self,
        kind: MetricKind,
        name: &str,
        help: &str,
        labels: &[&str],
    ) -> Result<u32, String> {
        let Some(create) = self.api.metric_create else {
            // No metrics in this host: hand out an id that updates ignore.
            return Ok(u32::MAX);
        };
        let name_c = CString::new(name).map_err(|_| "metric name contains NUL".to_string())?;
        let help_c = CString::new(help).map_err(|_| "metric help contains NUL".to_string())?;
        let labels_c = c_strings(labels)?;
        let ptrs: Vec<*const c_char> = labels_c.iter().map(|s| s.as_ptr()).collect();
        let kind = match kind {
            MetricKind::Counter => FLB_RS_METRIC_COUNTER,
            MetricKind::Gauge => FLB_RS_METRIC_GAUGE,
        };
        // SAFETY: host callback while the instance is alive (checked under
        // the lock); every string is NUL-terminated and lives until the
        // call returns (the host copies what it keeps).
        let id = self
            .if_alive(|| unsafe {
                Some(create(
                    self.host_ins,
                    kind,
                    name_c.as_ptr(),
                    help_c.as_ptr(),
                    ptrs.len(),
                    ptrs.as_ptr(),
                ))
            })
            .unwrap_or(-1);
        u32::try_from(id).map_err(|_| "the host refused the metric".to_string())
    }

    fn metric_update(&self, id: u32, op: MetricOp, value: f64, label_values: &[&str]) {
        let (Some(update), Ok(id)) = (self.api.metric_update, c_int::try_from(id)) else {
            return;
        };
        let op = match op {
            MetricOp::Add => FLB_RS_METRIC_ADD,
            MetricOp::Set => FLB_RS_METRIC_SET,
        };
        with_c_strings(label_values, |ptrs| {
            // SAFETY: host callback, callable from any thread while the
            // instance is alive (checked under the lock); the strings are
            // NUL-terminated and live until the call returns.
            self.if_alive(|| unsafe {
                update(self.host_ins, id, op, value, ptrs.len(), ptrs.as_ptr())
            })
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The strings `with_c_strings` hands over, read back as C reads them.
    fn as_c_reads(items: &[&str]) -> Option<Vec<String>> {
        let mut seen = None;
        with_c_strings(items, |ptrs| {
            let read = ptrs.iter().map(|&p| {
                // SAFETY: `with_c_strings` hands NUL-terminated strings
                // that live until `f` returns.
                let c = unsafe { std::ffi::CStr::from_ptr(p) };
                c.to_str().unwrap().to_string()
            });
            seen = Some(read.collect());
        });
        seen
    }

    #[test]
    fn label_strings_reach_c_whole_on_the_stack_and_on_the_heap() {
        let long = "x".repeat(STACK_LABEL_BYTES);
        let many: Vec<String> = (0..=STACK_LABELS).map(|i| format!("l{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let exact = "y".repeat(STACK_LABEL_BYTES - 1);
        for items in [
            &[][..],
            &["", "a"][..],
            &["rule_one", "not_allowed"][..],
            &[exact.as_str()][..],
            &["z", long.as_str()][..],
            &many[..],
            &many[..STACK_LABELS],
        ] {
            assert_eq!(
                as_c_reads(items).as_deref(),
                Some(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>()[..])
            );
        }
        assert_eq!(as_c_reads(&["ok", "n\0l"]), None);
        assert_eq!(as_c_reads(&[long.as_str(), "n\0l"]), None);
    }

    #[test]
    fn the_field_list_covers_the_whole_host_table() {
        let layout = host_api_layout();
        let mut end = 0;
        for &(offset, len) in &layout {
            assert!(offset >= end, "fields out of order or overlapping");
            end = offset + len;
        }
        assert_eq!(
            end.next_multiple_of(std::mem::align_of::<flb_rs_host_api>()),
            size_of::<flb_rs_host_api>(),
            "a field of flb_rs_host_api is missing from host_api_fields!"
        );
    }

    #[test]
    fn a_size_inside_a_callback_keeps_only_whole_fields() {
        let log = std::mem::offset_of!(flb_rs_host_api, log);
        let ptr = size_of::<usize>();
        assert_eq!(whole_fields(12), 12);
        assert_eq!(whole_fields(log + ptr), log + ptr);
        // One byte short of the second callback: only the first is whole.
        assert_eq!(whole_fields(log + 2 * ptr - 1), log + ptr);
        assert_eq!(whole_fields(log + 1), 12);
        assert_eq!(whole_fields(5), 4);
        assert_eq!(
            whole_fields(size_of::<flb_rs_host_api>()),
            size_of::<flb_rs_host_api>()
        );
    }
}
