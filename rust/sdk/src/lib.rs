//! The safe SDK for Fluent Bit plugins written in Rust.
//!
//! A plugin implements one of [`OutputPlugin`], [`FilterPlugin`] or
//! [`InputPlugin`], declares its configuration with [`config_struct!`], and
//! is registered with one line in the `flb-rs` FFI crate
//! (`PluginEntry::output::<MyPlugin>()`). Nothing here is `unsafe` or knows
//! about C: the FFI crate translates Fluent Bit's calls into the
//! [`runtime`], and [`testing`] drives the same runtime in unit tests.
//!
//! - Events: [`Chunk`], [`Event`], [`msgpack::Value`] read Fluent Bit's
//!   chunks without copying; [`EventEncoder`] writes them.
//! - Logging: use the `log` crate's macros; messages go to Fluent Bit's
//!   logger under the instance's name, and filtered levels cost nothing.
//! - Metrics: [`InitContext::counter`] and [`InitContext::gauge`].

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
pub use event::{Chunk, Event, EventFormat, EventKind, EventTime, Events};
pub use msgpack::{DecodeError, MapRef, RawStr, Value};
pub use plugin::{
    Decision, Delivery, EmitError, Emitter, FilterPlugin, FlushResult, InitContext, InputPlugin,
    OnFailure, OutputPlugin, PluginError, Spawner,
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
