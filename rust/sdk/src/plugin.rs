//! The traits a plugin implements, and what the runtime hands it.

use std::fmt;
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::config::{ConfigError, PluginConfig};
use crate::encode::EventEncoder;
use crate::event::{Chunk, Event, EventHead};
use crate::host::{Host, MetricKind};
use crate::metrics::{self, Counter, Gauge};
use crate::msgpack::ValueReader;

pub use crate::input::{Delivery, EmitError, Emitter, OfferError};

/// An error a plugin reports; shown to the user as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginError(pub String);

impl PluginError {
    /// An error with this message.
    pub fn new(msg: impl Into<String>) -> Self {
        PluginError(msg.into())
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PluginError {}

impl From<ConfigError> for PluginError {
    fn from(e: ConfigError) -> Self {
        PluginError(e.0)
    }
}

impl From<std::io::Error> for PluginError {
    fn from(e: std::io::Error) -> Self {
        PluginError(e.to_string())
    }
}

/// What an output tells the host about one flush.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FlushResult {
    /// Every record of the chunk was delivered.
    Ok,
    /// Not delivered yet; the host keeps the chunk and flushes it again
    /// later (Fluent Bit's retry scheduler).
    Retry,
    /// Can never be delivered; the host drops the chunk. Say why in the log.
    #[default]
    Error,
}

/// What the runtime does with a chunk a filter could not get through: a
/// panic in [`FilterPlugin::filter`], or a malformed event (everything from
/// it on). Either way it is logged as an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// Pass it on unchanged: nothing is lost (the default).
    PassUnchanged,
    /// Drop it: for filters whose output must never hold what they were
    /// to take out, such as redaction.
    Drop,
}

/// What a filter does with one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Pass the record on unchanged (nothing was written to the encoder).
    Keep,
    /// Remove the record (nothing was written to the encoder).
    Drop,
    /// The record is replaced by what the filter wrote to the encoder: one
    /// record, several, or none.
    Replace,
}

/// Given to a plugin when its instance is created.
pub struct InitContext {
    pub(crate) host: Arc<dyn Host>,
    pub(crate) plugin: &'static str,
}

impl InitContext {
    pub(crate) fn new(host: Arc<dyn Host>, plugin: &'static str) -> Self {
        InitContext { host, plugin }
    }

    /// The registered name of the plugin.
    pub fn plugin_name(&self) -> &'static str {
        self.plugin
    }

    /// Declares a counter. `name` is the metric's own name (the host adds
    /// its namespace and the instance name); `labels` name the label values
    /// every update must give.
    pub fn counter(&self, name: &str, help: &str, labels: &[&str]) -> Result<Counter, PluginError> {
        metrics::create(&self.host, MetricKind::Counter, name, help, labels)
            .map(Counter)
            .map_err(|e| PluginError(format!("cannot create counter {name}: {e}")))
    }

    /// Declares a gauge.
    pub fn gauge(&self, name: &str, help: &str, labels: &[&str]) -> Result<Gauge, PluginError> {
        metrics::create(&self.host, MetricKind::Gauge, name, help, labels)
            .map(Gauge)
            .map_err(|e| PluginError(format!("cannot create gauge {name}: {e}")))
    }

    /// A handle to spawn the instance's threads later (from `start`).
    pub fn spawner(&self) -> Spawner {
        Spawner {
            host: self.host.clone(),
            plugin: self.plugin,
        }
    }
}

/// Spawns threads whose log messages belong to the instance.
#[derive(Clone)]
pub struct Spawner {
    host: Arc<dyn Host>,
    plugin: &'static str,
}

impl Spawner {
    /// Starts a thread named `<plugin>:<name>` whose log messages go to
    /// the instance's logger; the caller joins it (usually in `exit`).
    pub fn spawn<F, T>(&self, name: &str, f: F) -> std::io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let host = self.host.clone();
        std::thread::Builder::new()
            .name(format!("{}:{name}", self.plugin))
            .spawn(move || {
                crate::logging::attach_thread(host);
                f()
            })
    }
}

/// An output plugin: receives chunks of events and delivers them.
///
/// `flush` runs on a thread the runtime owns for this instance (never on
/// Fluent Bit's small coroutine stacks), one call at a time, so `&mut self`
/// needs no locking even when Fluent Bit flushes from several workers.
///
/// # Examples
///
/// An output that counts the records carrying a configured key, tested
/// through the harness that drives it as Fluent Bit does:
///
/// ```
/// use flb_rs_sdk::prelude::*;
/// use flb_rs_sdk::testing::{chunk, Harness};
///
/// config_struct! {
///     pub struct CountConfig {
///         /// The key whose records are counted.
///         pub key: String = "msg",
///     }
/// }
///
/// pub struct CountOutput { key: String, seen: Counter }
///
/// impl OutputPlugin for CountOutput {
///     const NAME: &'static str = "count";
///     const DESCRIPTION: &'static str = "Counts records that have a key";
///     type Config = CountConfig;
///
///     fn new(cfg: CountConfig, ctx: &InitContext) -> Result<Self, PluginError> {
///         let seen = ctx.counter("seen_total", "Records with the key", &[])?;
///         Ok(CountOutput { key: cfg.key, seen })
///     }
///
///     fn flush(&mut self, chunk: &Chunk<'_>) -> FlushResult {
///         let mut n = 0;
///         for event in chunk.records() {
///             let Ok(event) = event else { return FlushResult::Error };
///             n += u32::from(event.get(&self.key).is_some());
///         }
///         self.seen.add(f64::from(n), &[]);
///         FlushResult::Ok
///     }
/// }
///
/// let h = Harness::output::<CountOutput>(&[("key", "user")]).unwrap();
/// let data = chunk(&[
///     (EventTime::new(1, 0), &[("user", "ann"), ("msg", "in")]),
///     (EventTime::new(2, 0), &[("msg", "tick")]),
/// ]);
/// assert_eq!(h.flush("app", &data), FlushResult::Ok);
/// assert_eq!(h.host.metric("seen_total", &[]), Some(1.0));
/// // A key the configuration does not declare is refused, as in Fluent Bit.
/// assert!(Harness::output::<CountOutput>(&[("kye", "user")]).is_err());
/// ```
pub trait OutputPlugin: Sized + Send + 'static {
    /// The registered name: what users write in `Name`.
    const NAME: &'static str;
    /// One line for `fluent-bit -h`.
    const DESCRIPTION: &'static str;
    /// The configuration, declared with [`crate::config_struct!`]: its
    /// keys are the instance's properties, checked before `new` runs.
    type Config: PluginConfig;

    /// Creates the instance from its checked configuration, once, before
    /// anything else is called. An error stops Fluent Bit's start-up with
    /// the message.
    fn new(config: Self::Config, ctx: &InitContext) -> Result<Self, PluginError>;

    /// Delivers one chunk. Return [`FlushResult::Ok`] only once every
    /// record is delivered; [`FlushResult::Retry`] makes Fluent Bit keep the
    /// chunk and flush it again later.
    fn flush(&mut self, chunk: &Chunk<'_>) -> FlushResult;

    /// Called once before the instance goes away.
    fn exit(&mut self) {}
}

/// A filter plugin: sees each record and keeps, drops or replaces it.
///
/// Runs on the caller's thread (Fluent Bit's input path), one call at a
/// time per instance. Records that every filter keeps cost no re-encoding:
/// the host is told nothing changed. Group markers are passed on without
/// reaching the plugin.
///
/// # Examples
///
/// A filter that drops the records of one level and keeps the others
/// untouched (a kept record costs no re-encoding):
///
/// ```
/// use flb_rs_sdk::prelude::*;
/// use flb_rs_sdk::runtime::FilterOutcome;
/// use flb_rs_sdk::testing::{chunk, Harness};
/// use flb_rs_sdk::Events;
///
/// config_struct! {
///     pub struct DropConfig {
///         /// Records whose `level` is this are dropped.
///         pub level: String = "debug",
///     }
/// }
///
/// pub struct DropLevel { level: String }
///
/// impl FilterPlugin for DropLevel {
///     const NAME: &'static str = "drop_level";
///     const DESCRIPTION: &'static str = "Drops the records of one level";
///     type Config = DropConfig;
///
///     fn new(cfg: DropConfig, _: &InitContext) -> Result<Self, PluginError> {
///         Ok(DropLevel { level: cfg.level })
///     }
///
///     fn filter(&mut self, ev: &Event<'_>, _tag: &str, _: &mut EventEncoder) -> Decision {
///         match ev.get("level") {
///             Some(Value::Str(l)) if l == self.level.as_str() => Decision::Drop,
///             _ => Decision::Keep,
///         }
///     }
/// }
///
/// let h = Harness::filter::<DropLevel>(&[]).unwrap();
/// let data = chunk(&[
///     (EventTime::new(1, 0), &[("level", "debug"), ("msg", "noise")]),
///     (EventTime::new(2, 0), &[("level", "info"), ("msg", "kept")]),
/// ]);
/// let FilterOutcome::Modified(out) = h.filter_chunk("app", &data) else {
///     panic!("a record was dropped, so the chunk changed");
/// };
/// let kept: Vec<_> = Events::new(&out).map(|e| e.unwrap().get("msg")).collect();
/// assert_eq!(kept.len(), 1);
/// assert!(matches!(kept[0], Some(Value::Str(s)) if s == "kept"));
/// // A chunk with nothing to drop is passed on as it is.
/// let calm = chunk(&[(EventTime::new(3, 0), &[("level", "info")])]);
/// assert!(matches!(h.filter_chunk("app", &calm), FilterOutcome::Unchanged));
/// ```
pub trait FilterPlugin: Sized + Send + 'static {
    /// The registered name: what users write in `Name`.
    const NAME: &'static str;
    /// One line for `fluent-bit -h`.
    const DESCRIPTION: &'static str;
    /// The configuration, declared with [`crate::config_struct!`]: its
    /// keys are the instance's properties, checked before `new` runs.
    type Config: PluginConfig;

    /// Creates the instance from its checked configuration, once, before
    /// anything else is called. An error stops Fluent Bit's start-up with
    /// the message.
    fn new(config: Self::Config, ctx: &InitContext) -> Result<Self, PluginError>;

    /// Decides about one record; for [`Decision::Replace`], writes the
    /// replacement to `out` (usually with [`EventEncoder::record_with_metadata`]).
    fn filter(&mut self, event: &Event<'_>, tag: &str, out: &mut EventEncoder) -> Decision;

    /// Decides about one record while its body is read: for a filter that
    /// walks every body token by token anyway, which then is the only walk
    /// (otherwise the runtime walks each body once to check it before
    /// `filter`). `body` is at the body map's first byte; what the filter
    /// does not read, the runtime reads and checks after it returns. When
    /// the body turns out malformed, the decision is dropped and the chunk
    /// is treated as malformed (see [`OnFailure`]).
    ///
    /// `None`, the default, decides with [`FilterPlugin::filter`] once the
    /// whole event is read.
    fn filter_body(
        &mut self,
        _head: &EventHead<'_>,
        _body: &mut ValueReader<'_>,
        _tag: &str,
        _out: &mut EventEncoder,
    ) -> Option<Decision> {
        None
    }

    /// See [`OnFailure`].
    const ON_FAILURE: OnFailure = OnFailure::PassUnchanged;

    /// Called once after the last record of each chunk: the place to publish
    /// counts gathered per record (each metric update is a call into the
    /// host, too dear to make per record).
    fn chunk_done(&mut self) {}

    /// Called once before the instance goes away.
    fn exit(&mut self) {}
}

/// What an input may have queued for the host unless it says otherwise
/// ([`InputPlugin::queue_max_bytes`]): 8 MiB.
pub const DEFAULT_QUEUE_MAX_BYTES: usize = 8 << 20;

/// An input plugin: produces records from its own threads.
///
/// `start` is called once the host is ready to take records; the plugin
/// spawns its threads (with [`InitContext::spawner`]) and hands them the
/// [`Emitter`]. The emitter's queue is bounded: when the host stops taking
/// records (paused, or slower than the source), `emit` blocks, so the plugin
/// stops reading its source instead of buffering without limit.
///
/// # Examples
///
/// An input that emits a numbered record at every interval from a thread of
/// its own, which ends when the instance stops:
///
/// ```
/// use std::thread::JoinHandle;
/// use std::time::Duration;
///
/// use flb_rs_sdk::prelude::*;
/// use flb_rs_sdk::testing::Harness;
/// use flb_rs_sdk::{Events, Spawner};
///
/// config_struct! {
///     /// Keys of `ticks`.
///     pub struct TickConfig {
///         /// Milliseconds between records.
///         pub interval_ms: i64 = "1000",
///     }
/// }
///
/// /// Emits `{"n": 0}`, `{"n": 1}`, ...
/// pub struct Ticks {
///     interval: Duration,
///     spawner: Spawner,
///     thread: Option<JoinHandle<()>>,
/// }
///
/// impl InputPlugin for Ticks {
///     const NAME: &'static str = "ticks";
///     const DESCRIPTION: &'static str = "Emits a numbered record at every interval";
///     type Config = TickConfig;
///
///     fn new(cfg: TickConfig, ctx: &InitContext) -> Result<Self, PluginError> {
///         let ms = u64::try_from(cfg.interval_ms)
///             .map_err(|_| PluginError::new("interval_ms must not be negative"))?;
///         Ok(Ticks { interval: Duration::from_millis(ms), spawner: ctx.spawner(), thread: None })
///     }
///
///     fn start(&mut self, emitter: Emitter) -> Result<(), PluginError> {
///         let interval = self.interval;
///         let thread = self.spawner.spawn("ticks", move || {
///             for n in 0.. {
///                 let mut events = EventEncoder::new();
///                 events.record(EventTime::now(), |m| m.uint("n", n));
///                 // Blocks while the host is paused or full; fails once
///                 // the instance stops.
///                 if emitter.emit(events).is_err() || emitter.wait_stop(interval) {
///                     return;
///                 }
///             }
///         });
///         self.thread = Some(thread.map_err(|e| PluginError::new(e.to_string()))?);
///         Ok(())
///     }
///
///     fn exit(&mut self) {
///         if let Some(t) = self.thread.take() {
///             let _ = t.join();
///         }
///     }
/// }
///
/// let h = Harness::input::<Ticks>(&[("interval_ms", "1")]).unwrap();
/// let got = h.collect(3, Duration::from_secs(10));
/// let numbers: Vec<u64> = got
///     .iter()
///     .flat_map(|(_, data)| Events::new(data))
///     .map(|ev| ev.unwrap().get("n").and_then(|v| v.as_u64()).unwrap())
///     .collect();
/// assert_eq!(&numbers[..3], &[0, 1, 2]);
/// // Dropping the harness stops the instance and joins its thread.
/// drop(h);
/// assert!(Harness::input::<Ticks>(&[("interval_ms", "-5")]).is_err());
/// ```
pub trait InputPlugin: Sized + Send + 'static {
    /// The registered name: what users write in `Name`.
    const NAME: &'static str;
    /// One line for `fluent-bit -h`.
    const DESCRIPTION: &'static str;
    /// The configuration, declared with [`crate::config_struct!`]: its
    /// keys are the instance's properties, checked before `new` runs.
    type Config: PluginConfig;

    /// Creates the instance from its checked configuration, once, before
    /// anything else is called. An error stops Fluent Bit's start-up with
    /// the message.
    fn new(config: Self::Config, ctx: &InitContext) -> Result<Self, PluginError>;

    /// Starts producing records: spawn the threads that read the source
    /// and give them `emitter` (it is `Clone`). Called once; an error
    /// stops the instance.
    fn start(&mut self, emitter: Emitter) -> Result<(), PluginError>;

    /// Most bytes of encoded records the instance may have queued for the
    /// host before `emit` waits (`try_emit` returns `Full`). A batch larger
    /// than this goes in when nothing else is queued, so at most this plus
    /// one batch is held. Called once, after `new` and before `start`.
    fn queue_max_bytes(&self) -> usize {
        DEFAULT_QUEUE_MAX_BYTES
    }

    /// The host paused the input; `emitter.is_paused()` is now true.
    fn pause(&mut self) {}

    /// The host takes records again; `emitter.is_paused()` is now false.
    fn resume(&mut self) {}

    /// Stop and join the plugin's threads. The emitter is already closed,
    /// so a thread blocked in `emit` has returned an error.
    fn exit(&mut self) {}
}
