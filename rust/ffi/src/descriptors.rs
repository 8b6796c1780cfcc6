//! The static C descriptors of the registered plugins, built once on first
//! use and never freed (the ABI promises they live as long as the process).

use std::ffi::{c_char, CString};
use std::mem::size_of;
use std::sync::OnceLock;

use flb_rs_sdk::config::{one_line, KeyType};
use flb_rs_sdk::{OnFailure, PluginEntry, PluginKind};

use crate::abi::*;
use crate::callbacks;
use crate::plugins;

pub(crate) struct Table {
    pub plugins: Vec<flb_rs_plugin>,
    pub keys: Vec<Vec<flb_rs_config_key>>,
    /// Owns every string the descriptors point to.
    _strings: Vec<CString>,
}

// SAFETY: the table is built once and never changed afterwards; its raw
// pointers point into `_strings`, which it owns and which never move (a
// CString's buffer is on the heap).
unsafe impl Send for Table {}
// SAFETY: as above: read-only after construction.
unsafe impl Sync for Table {}

static TABLE: OnceLock<Table> = OnceLock::new();

pub(crate) fn table() -> &'static Table {
    TABLE.get_or_init(build)
}

/// The registry entry behind a descriptor, if the pointer is one of ours.
pub(crate) fn entry_of(plugin: *const flb_rs_plugin) -> Option<&'static PluginEntry> {
    table()
        .plugins
        .iter()
        .position(|p| std::ptr::eq(p, plugin))
        .map(|i| plugins::all()[i])
}

fn build() -> Table {
    let mut strings = Vec::new();
    let mut cstr = |s: &str| -> *const c_char {
        // Interior NULs cannot come from Rust string literals in practice;
        // drop them rather than fail the whole table.
        let c = CString::new(s.replace('\0', "")).unwrap_or_default();
        let p = c.as_ptr();
        strings.push(c);
        p
    };
    let mut plugins = Vec::new();
    let mut keys = Vec::new();
    for e in plugins::all() {
        let k: Vec<flb_rs_config_key> = e
            .keys
            .iter()
            .map(|k| flb_rs_config_key {
                struct_size: size_of::<flb_rs_config_key>() as u32,
                key_type: key_type(k.ty),
                multiple: u32::from(k.multiple),
                name: cstr(k.name),
                default_value: k.default.map_or(std::ptr::null(), &mut cstr),
                description: cstr(&one_line(k.description)),
            })
            .collect();
        let kind = match e.kind {
            PluginKind::Input => FLB_RS_KIND_INPUT,
            PluginKind::Filter => FLB_RS_KIND_FILTER,
            PluginKind::Output => FLB_RS_KIND_OUTPUT,
        };
        let is = |k| e.kind == k;
        plugins.push(flb_rs_plugin {
            struct_size: size_of::<flb_rs_plugin>() as u32,
            kind,
            event_type: FLB_RS_EVENT_LOGS,
            flags: if e.on_failure == OnFailure::Drop {
                FLB_RS_PLUGIN_FAIL_CLOSED
            } else {
                0
            },
            name: cstr(e.name),
            description: cstr(e.description),
            config_key_count: k.len(),
            create: Some(callbacks::create),
            destroy: Some(callbacks::destroy),
            flush: is(PluginKind::Output).then_some(callbacks::flush as _),
            filter: is(PluginKind::Filter).then_some(callbacks::filter as _),
            input_fd: is(PluginKind::Input).then_some(callbacks::input_fd as _),
            collect: is(PluginKind::Input).then_some(callbacks::collect as _),
            pause: is(PluginKind::Input).then_some(callbacks::pause as _),
            resume: is(PluginKind::Input).then_some(callbacks::resume as _),
        });
        keys.push(k);
    }
    Table {
        plugins,
        keys,
        _strings: strings,
    }
}

fn key_type(t: KeyType) -> u32 {
    match t {
        KeyType::Str => FLB_RS_KEY_STR,
        KeyType::Int => FLB_RS_KEY_INT,
        KeyType::Bool => FLB_RS_KEY_BOOL,
        KeyType::Double => FLB_RS_KEY_DOUBLE,
        KeyType::Size => FLB_RS_KEY_SIZE,
        KeyType::Time => FLB_RS_KEY_TIME,
        KeyType::CommaList => FLB_RS_KEY_CLIST,
        KeyType::SpaceList => FLB_RS_KEY_SLIST,
    }
}
