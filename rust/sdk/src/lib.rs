//! The safe SDK for Fluent Bit plugins written in Rust.
//!
//! A plugin implements one of [`OutputPlugin`], [`FilterPlugin`] or
//! [`InputPlugin`] and declares its configuration with [`config_struct!`].
//! Nothing here is `unsafe` or knows about C: Fluent Bit's calls reach the
//! [`runtime`] through the `flb-rs-ffi` crate, and [`testing`] drives the
//! same runtime in a plugin's own tests, so what a test exercises is what
//! Fluent Bit runs.
//!
//! - Events: [`Chunk`], [`Event`], [`msgpack::Value`] read Fluent Bit's
//!   chunks without copying; [`EventEncoder`] writes them.
//! - Configuration: [`config_struct!`] gives typed keys, defaults and the
//!   help `fluent-bit -o <name> -h` prints; unknown and ill-typed keys are
//!   refused at init with the key named.
//! - Logging: use the `log` crate's macros, from any thread; messages go
//!   to Fluent Bit's logger under the instance's name, and filtered levels
//!   cost nothing.
//! - Metrics: [`InitContext::counter`] and [`InitContext::gauge`], served
//!   on Fluent Bit's HTTP server.
//!
//! # Getting a plugin into Fluent Bit
//!
//! - **A plugin crate of your own**, in any repository: depend on this
//!   crate, list the exported plugins in the crate's `Cargo.toml`
//!   ```toml
//!   [package.metadata.flb-rust]
//!   plugins = [{ kind = "output", name = "my_output", type = "MyOutput" }]
//!   ```
//!   and configure Fluent Bit with
//!   `-DFLB_RUST=On -DFLB_RUST_PLUGIN_CRATES=/path/to/the/crate`. The
//!   crate links into the same static library as the in-tree plugins
//!   (one copy of Rust's std in the binary). `examples/plugin-template`
//!   in the flb-rust repository is a starting point.
//! - **An in-tree plugin** of flb-rust: a crate under `rust/plugins/`,
//!   listed in `rust/ffi/src/plugins.rs` behind a cargo feature.
//!
//! # Versions
//!
//! This crate's API follows semver on its version: while it is 0.x, a
//! change that breaks a plugin's build raises the minor version, anything
//! else the patch version. The C ABI between Fluent Bit's shim and the
//! library is versioned apart (`FLB_RS_ABI_MAJOR`/`MINOR` in
//! `include/flb_rs.h`) and never seen by plugin code.
//!
//! Each plugin trait's documentation holds a complete plugin with its
//! test, run as a doctest.

#![deny(missing_docs)]

pub mod accessor;
pub mod config;
pub mod encode;
pub mod event;
pub mod host;
mod input;
pub mod json;
pub mod logging;
pub mod metrics;
pub mod msgpack;
mod plugin;
pub mod runtime;
pub mod testing;

pub use config::{ConfigError, Multi, PluginConfig, Properties};
pub use encode::{EventEncoder, MapWriter, Writer};
pub use event::{Chunk, Event, EventFormat, EventHead, EventKind, EventTime, Events};
pub use msgpack::{DecodeError, MapRef, RawStr, Value, ValueReader};
pub use plugin::{
    Decision, Delivery, EmitError, Emitter, FilterPlugin, FlushResult, InitContext, InputPlugin,
    OfferError, OnFailure, OutputPlugin, PluginError, Spawner, DEFAULT_QUEUE_MAX_BYTES,
};
pub use runtime::{PluginEntry, PluginKind};

/// Everything a plugin usually needs.
pub mod prelude {
    pub use crate::config::{ByteSize, CommaList, Multi, SpaceList};
    pub use crate::metrics::{Counter, Gauge};
    pub use crate::{
        config_struct, Chunk, Decision, Emitter, Event, EventEncoder, EventTime, FilterPlugin,
        FlushResult, InitContext, InputPlugin, OnFailure, OutputPlugin, PluginError, Value,
    };
}
