//! `libflb_rs.a`, the static library Fluent Bit links: the C ABI of
//! flb-rs-ffi with the in-tree plugins its features select, and no others.
//! When plugin crates from elsewhere are added (`FLB_RUST_PLUGIN_CRATES`),
//! cmake/FlbRust.cmake generates a crate like this one that lists theirs.

// Linked for its exported `flb_rs_*` functions, which nothing in Rust calls.
extern crate flb_rs_ffi;

use flb_rs_sdk::PluginEntry;

/// The plugins this staticlib adds to flb-rs-ffi's in-tree ones: none.
/// flb-rs-ffi reads it by its symbol name (an exported symbol is the one
/// way a crate can reach something of a crate that depends on it).
#[export_name = "flb_rs_linked_plugins"]
pub static LINKED_PLUGINS: &[&[PluginEntry]] = &[];
