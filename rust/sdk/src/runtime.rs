//! Plugin instances as the host drives them: creation from properties, the
//! output worker thread, the filter loop and the input queue.
//!
//! This is the safe core of the C ABI: the FFI crate only turns pointers
//! into the slices and handles used here. The test harness drives the same
//! code, so what a plugin author tests is what Fluent Bit runs.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};

use crate::config::{ConfigKey, PluginConfig, Properties};
use crate::encode::EventEncoder;
use crate::event::{Chunk, EventKind, Events};
use crate::host::Host;
use crate::input::{Pauser, Queue};
use crate::logging;
use crate::plugin::{
    Decision, FilterPlugin, FlushResult, InitContext, InputPlugin, OnFailure, OutputPlugin,
    PluginError,
};

/// The three kinds of plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginKind {
    /// Takes records in ([`InputPlugin`]).
    Input,
    /// Changes or drops records on their way ([`FilterPlugin`]).
    Filter,
    /// Delivers records ([`OutputPlugin`]).
    Output,
}

type NewOutput = fn(&Properties, &InitContext) -> Result<Box<dyn DynOutput>, PluginError>;
type NewFilter = fn(&Properties, &InitContext) -> Result<Box<dyn DynFilter>, PluginError>;
type NewInput = fn(&Properties, &InitContext) -> Result<Box<dyn DynInput>, PluginError>;

#[derive(Clone, Copy)]
enum Factory {
    Output(NewOutput),
    Filter(NewFilter),
    Input(NewInput),
}

/// One plugin, type-erased: what the registry lists and the host creates
/// instances of.
#[derive(Clone, Copy)]
pub struct PluginEntry {
    /// Input, filter or output.
    pub kind: PluginKind,
    /// The name users write after `Name` (the plugin's `NAME`).
    pub name: &'static str,
    /// The one line `fluent-bit -h` shows.
    pub description: &'static str,
    /// The configuration keys, as the host's config map lists them.
    pub keys: &'static [ConfigKey],
    /// Filters: [`FilterPlugin::ON_FAILURE`]; [`OnFailure::PassUnchanged`]
    /// for the other kinds.
    pub on_failure: OnFailure,
    factory: Factory,
}

impl std::fmt::Debug for PluginEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginEntry")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .finish()
    }
}

impl PluginEntry {
    /// The entry of an output plugin type.
    pub const fn output<P: OutputPlugin>() -> Self {
        PluginEntry {
            kind: PluginKind::Output,
            name: P::NAME,
            description: P::DESCRIPTION,
            keys: <P::Config as PluginConfig>::KEYS,
            on_failure: OnFailure::PassUnchanged,
            factory: Factory::Output(new_output::<P>),
        }
    }

    /// The entry of a filter plugin type.
    pub const fn filter<P: FilterPlugin>() -> Self {
        PluginEntry {
            kind: PluginKind::Filter,
            name: P::NAME,
            description: P::DESCRIPTION,
            keys: <P::Config as PluginConfig>::KEYS,
            on_failure: P::ON_FAILURE,
            factory: Factory::Filter(new_filter::<P>),
        }
    }

    /// The entry of an input plugin type.
    pub const fn input<P: InputPlugin>() -> Self {
        PluginEntry {
            kind: PluginKind::Input,
            name: P::NAME,
            description: P::DESCRIPTION,
            keys: <P::Config as PluginConfig>::KEYS,
            on_failure: OnFailure::PassUnchanged,
            factory: Factory::Input(new_input::<P>),
        }
    }
}

pub(crate) trait DynOutput: Send {
    fn flush(&mut self, chunk: &Chunk<'_>) -> FlushResult;
    fn exit(&mut self);
}

impl<P: OutputPlugin> DynOutput for P {
    fn flush(&mut self, chunk: &Chunk<'_>) -> FlushResult {
        OutputPlugin::flush(self, chunk)
    }
    fn exit(&mut self) {
        OutputPlugin::exit(self)
    }
}

pub(crate) trait DynFilter: Send {
    fn filter(&mut self, event: &crate::Event<'_>, tag: &str, out: &mut EventEncoder) -> Decision;
    fn filter_body(
        &mut self,
        head: &crate::EventHead<'_>,
        body: &mut crate::ValueReader<'_>,
        tag: &str,
        out: &mut EventEncoder,
    ) -> Option<Decision>;
    fn on_failure(&self) -> OnFailure;
    fn chunk_done(&mut self);
    fn exit(&mut self);
}

impl<P: FilterPlugin> DynFilter for P {
    fn filter(&mut self, event: &crate::Event<'_>, tag: &str, out: &mut EventEncoder) -> Decision {
        FilterPlugin::filter(self, event, tag, out)
    }
    fn filter_body(
        &mut self,
        head: &crate::EventHead<'_>,
        body: &mut crate::ValueReader<'_>,
        tag: &str,
        out: &mut EventEncoder,
    ) -> Option<Decision> {
        FilterPlugin::filter_body(self, head, body, tag, out)
    }
    fn on_failure(&self) -> OnFailure {
        P::ON_FAILURE
    }
    fn chunk_done(&mut self) {
        FilterPlugin::chunk_done(self)
    }
    fn exit(&mut self) {
        FilterPlugin::exit(self)
    }
}

pub(crate) trait DynInput: Send {
    fn start(&mut self, emitter: crate::Emitter) -> Result<(), PluginError>;
    fn queue_max_bytes(&self) -> usize;
    fn pause(&mut self);
    fn resume(&mut self);
    fn exit(&mut self);
}

impl<P: InputPlugin> DynInput for P {
    fn start(&mut self, emitter: crate::Emitter) -> Result<(), PluginError> {
        InputPlugin::start(self, emitter)
    }
    fn queue_max_bytes(&self) -> usize {
        InputPlugin::queue_max_bytes(self)
    }
    fn pause(&mut self) {
        InputPlugin::pause(self)
    }
    fn resume(&mut self) {
        InputPlugin::resume(self)
    }
    fn exit(&mut self) {
        InputPlugin::exit(self)
    }
}

fn new_output<P: OutputPlugin>(
    p: &Properties,
    ctx: &InitContext,
) -> Result<Box<dyn DynOutput>, PluginError> {
    Ok(Box::new(P::new(P::Config::from_properties(p)?, ctx)?))
}

fn new_filter<P: FilterPlugin>(
    p: &Properties,
    ctx: &InitContext,
) -> Result<Box<dyn DynFilter>, PluginError> {
    Ok(Box::new(P::new(P::Config::from_properties(p)?, ctx)?))
}

fn new_input<P: InputPlugin>(
    p: &Properties,
    ctx: &InitContext,
) -> Result<Box<dyn DynInput>, PluginError> {
    Ok(Box::new(P::new(P::Config::from_properties(p)?, ctx)?))
}

/// Text of a caught panic's payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// Runs `f`, turning a panic into an error that names `what`.
fn guarded<R>(what: &str, f: impl FnOnce() -> R) -> Result<R, PluginError> {
    catch_unwind(AssertUnwindSafe(f))
        .map_err(|p| PluginError(format!("panic in {what}: {}", panic_message(&*p))))
}

/// A running plugin instance of any kind.
pub struct Instance {
    host: Arc<dyn Host>,
    entry: PluginEntry,
    inner: Inner,
}

enum Inner {
    Output(OutputWorker),
    Filter(Mutex<Box<dyn DynFilter>>),
    Input(InputState),
}

/// An input's plugin and queue are locked apart: Fluent Bit pauses an
/// input from inside the append that `collect` makes (when a buffer limit
/// is hit), so pausing must not wait for the queue.
struct InputState {
    plugin: Mutex<Box<dyn DynInput>>,
    queue: Mutex<Queue>,
    pauser: Pauser,
    fd: std::os::unix::io::RawFd,
}

impl Instance {
    /// Creates an instance: checks and parses the properties, builds the
    /// plugin, and starts what the kind needs (output worker thread, input
    /// queue and threads).
    pub fn create(
        entry: &PluginEntry,
        host: Arc<dyn Host>,
        props: &Properties,
    ) -> Result<Instance, PluginError> {
        let entry = *entry;
        logging::install(host.log_level());
        let scope_host = host.clone();
        logging::scope(&scope_host, || {
            let ctx = InitContext::new(host.clone(), entry.name);
            let inner = guarded("init", || -> Result<Inner, PluginError> {
                Ok(match entry.factory {
                    Factory::Output(new) => Inner::Output(OutputWorker::start(
                        new(props, &ctx)?,
                        host.clone(),
                        entry.name,
                    )?),
                    Factory::Filter(new) => Inner::Filter(Mutex::new(new(props, &ctx)?)),
                    Factory::Input(new) => {
                        let mut plugin = new(props, &ctx)?;
                        let (queue, emitter) = Queue::new(plugin.queue_max_bytes())?;
                        plugin.start(emitter)?;
                        Inner::Input(InputState {
                            plugin: Mutex::new(plugin),
                            pauser: queue.pauser(),
                            fd: queue.fd(),
                            queue: Mutex::new(queue),
                        })
                    }
                })
            })??;
            Ok(Instance { host, entry, inner })
        })
        // The host's log line already names the plugin and instance.
        .inspect_err(|e| logging::scope(&scope_host, || log::error!("cannot initialize: {e}")))
    }

    /// The plugin this is an instance of.
    pub fn entry(&self) -> &PluginEntry {
        &self.entry
    }

    /// The host the instance logs and counts through.
    pub fn host(&self) -> &Arc<dyn Host> {
        &self.host
    }

    /// Output: delivers one chunk, a copy of `data`. Safe to call from
    /// several threads at once; the calls are served one after another by
    /// the instance's worker thread, and the caller only waits.
    pub fn flush(&self, tag: &str, data: &[u8]) -> FlushResult {
        self.flush_lent(tag, Box::new(data.to_vec()), data.as_ptr() as usize)
    }

    /// Output: delivers one chunk without copying it: the flush thread
    /// reads `data` itself, which the host lends for this call. Returns
    /// only once `data` has been dropped, so bytes that stay valid until
    /// this call returns may be lent as they are. `origin` is where the
    /// host holds the chunk (see [`Chunk::origin`]).
    pub fn flush_lent(&self, tag: &str, data: ChunkBytes, origin: usize) -> FlushResult {
        match &self.inner {
            Inner::Output(w) => logging::scope(&self.host, || w.flush(tag, data, origin)),
            _ => self.wrong_kind("flush"),
        }
    }

    /// Filter: runs the plugin over every record of the chunk.
    pub fn filter(&self, tag: &str, data: &[u8]) -> FilterOutcome {
        let Inner::Filter(plugin) = &self.inner else {
            self.wrong_kind::<()>("filter");
            return FilterOutcome::Unchanged;
        };
        logging::scope(&self.host, || {
            let mut plugin = lock(plugin);
            let policy = plugin.on_failure();
            match guarded("filter", || run_filter(&mut **plugin, tag, data, policy)) {
                Ok(o) => o,
                Err(e) if policy == OnFailure::Drop => {
                    log::error!(
                        "{e}; the chunk ({} records) is dropped rather than passed on unfiltered",
                        Events::new(data).filter(Result::is_ok).count()
                    );
                    FilterOutcome::Modified(Vec::new())
                }
                Err(e) => {
                    log::error!("{e}; the chunk passes unchanged");
                    FilterOutcome::Unchanged
                }
            }
        })
    }

    /// Input: the descriptor the host watches; readable when records wait.
    pub fn input_fd(&self) -> Option<std::os::unix::io::RawFd> {
        match &self.inner {
            Inner::Input(s) => Some(s.fd),
            _ => None,
        }
    }

    /// Input: hands queued records to `append` (tag, events, how many
    /// records they hold); `append` returns false when the host refused
    /// them, which keeps them queued.
    pub fn collect(&self, append: &mut crate::input::AppendFn<'_>) -> usize {
        thread_local! {
            static COLLECTING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
        }
        match &self.inner {
            // Re-entered from inside the host's append (Fluent Bit pauses an
            // input that reaches a buffer limit there, and a pause may
            // collect): the queue is held a frame below, and waiting for it
            // would deadlock. Nothing is appended; the records stay queued.
            Inner::Input(_) if COLLECTING.get() => {
                logging::scope(&self.host, || {
                    log::debug!("collect re-entered from the host's append; nothing appended")
                });
                0
            }
            Inner::Input(s) => logging::scope(&self.host, || {
                struct Collecting;
                impl Drop for Collecting {
                    fn drop(&mut self) {
                        COLLECTING.set(false);
                    }
                }
                COLLECTING.set(true);
                let _reset = Collecting;
                lock(&s.queue).collect(append)
            }),
            _ => {
                self.wrong_kind::<()>("collect");
                0
            }
        }
    }

    /// Input: bytes of encoded records queued for the host (see
    /// [`InputPlugin::queue_max_bytes`]).
    pub fn input_queued_bytes(&self) -> usize {
        match &self.inner {
            Inner::Input(s) => s.pauser.queued_bytes(),
            _ => 0,
        }
    }

    /// Input: waits up to `timeout` for queued records, without taking
    /// them; true when some are waiting. For tests and hosts without an
    /// event loop.
    pub fn wait_input(&self, timeout: std::time::Duration) -> bool {
        match &self.inner {
            Inner::Input(s) => lock(&s.queue).wait(timeout),
            _ => false,
        }
    }

    /// Input: the host stopped taking records (a buffer limit, or a stop
    /// coming); emitters see it and the plugin's `pause` runs.
    pub fn pause(&self) {
        self.input_call("pause", true, |p| p.pause());
    }

    /// Input: the host takes records again.
    pub fn resume(&self) {
        self.input_call("resume", false, |p| p.resume());
    }

    fn input_call(&self, what: &str, paused: bool, f: impl FnOnce(&mut dyn DynInput)) {
        let Inner::Input(s) = &self.inner else {
            self.wrong_kind::<()>(what);
            return;
        };
        logging::scope(&self.host, || {
            s.pauser.set(paused);
            let mut plugin = lock(&s.plugin);
            if let Err(e) = guarded(what, || f(&mut **plugin)) {
                log::error!("{e}");
            }
        })
    }

    fn wrong_kind<R: Default>(&self, what: &str) -> R {
        logging::scope(&self.host, || {
            log::error!("{what} called on a {:?} plugin", self.entry.kind)
        });
        R::default()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let host = self.host.clone();
        logging::scope(&host, || match &mut self.inner {
            Inner::Output(w) => w.stop(),
            Inner::Filter(p) => {
                let p = p.get_mut().unwrap_or_else(|e| e.into_inner());
                if let Err(e) = guarded("exit", || p.exit()) {
                    log::error!("{e}");
                }
            }
            Inner::Input(s) => {
                let queue = s.queue.get_mut().unwrap_or_else(|e| e.into_inner());
                queue.close();
                let plugin = s.plugin.get_mut().unwrap_or_else(|e| e.into_inner());
                if let Err(e) = guarded("exit", || plugin.exit()) {
                    log::error!("{e}");
                }
                let lost = s
                    .queue
                    .get_mut()
                    .unwrap_or_else(|e| e.into_inner())
                    .undelivered();
                if lost > 0 {
                    log::warn!(
                        "{lost} records were still queued at shutdown and are not delivered"
                    );
                }
            }
        });
    }
}

/// A poisoned lock only means a plugin panicked while holding it; the panic
/// was reported, and the instance goes on.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What a filter did to a chunk.
#[derive(Debug, PartialEq, Eq, Default)]
pub enum FilterOutcome {
    /// Every record was kept: the host keeps its chunk as it is.
    #[default]
    Unchanged,
    /// The new chunk.
    Modified(Vec<u8>),
}

/// The filter loop. Output is only built from the first record that is not
/// kept on; before that, nothing is copied or encoded.
fn run_filter(
    plugin: &mut dyn DynFilter,
    tag: &str,
    data: &[u8],
    policy: OnFailure,
) -> FilterOutcome {
    let mut out: Option<EventEncoder> = None;
    let mut scratch = EventEncoder::new();
    // Offset up to which `data` has been dealt with (copied or replaced).
    let mut done = 0;
    // End of the last event read whole.
    let mut good = 0;
    let mut events = Events::new(data);
    loop {
        // The plugin may decide while the body is read (one walk of it);
        // otherwise it decides on the whole event, below.
        let next = events.next_with_body(|head, body| {
            if head.kind != EventKind::Record {
                return None;
            }
            scratch.clear();
            plugin.filter_body(head, body, tag, &mut scratch)
        });
        let Some(next) = next else { break };
        let (ev, decided) = match next {
            Ok(read) => read,
            Err(e) if policy == OnFailure::Drop => {
                // Nothing past a malformed event can be read, so nothing
                // there can be filtered: it goes.
                log::error!(
                    "malformed chunk (tag {tag}): {e}; its last {} bytes are dropped rather than passed on unfiltered",
                    data.len() - good
                );
                let o = out.get_or_insert_with(EventEncoder::new);
                o.raw_events(&data[done..good]);
                done = data.len();
                break;
            }
            Err(e) => {
                // Past a malformed event nothing can be parsed; keep the rest
                // of the chunk byte for byte, so nothing is lost here.
                log::error!(
                    "malformed chunk (tag {tag}): {e}; the rest of the chunk passes unchanged"
                );
                break;
            }
        };
        good = ev.offset + ev.raw.len();
        if ev.kind != EventKind::Record {
            continue;
        }
        let decision = decided.unwrap_or_else(|| {
            scratch.clear();
            plugin.filter(&ev, tag, &mut scratch)
        });
        if decision == Decision::Keep {
            continue;
        }
        // Room for the chunk and an eighth more (replacements a little
        // longer than what they replace), allocated once.
        let o = out.get_or_insert_with(|| {
            EventEncoder::with_capacity(ev.format, data.len() + data.len() / 8)
        });
        o.raw_events(&data[done..ev.offset]);
        if decision == Decision::Replace {
            o.raw_events(scratch.as_bytes());
        }
        done = ev.offset + ev.raw.len();
    }
    plugin.chunk_done();
    match out {
        None => FilterOutcome::Unchanged,
        Some(mut o) => {
            o.raw_events(&data[done..]);
            FilterOutcome::Modified(o.into_bytes())
        }
    }
}

/// A chunk's bytes handed to the flush thread: a copy, or the host's own
/// buffer, lent for one flush (see [`Instance::flush_lent`]).
pub type ChunkBytes = Box<dyn AsRef<[u8]> + Send>;

enum Job {
    Flush {
        tag: String,
        data: ChunkBytes,
        /// Where the host holds the chunk (see [`Chunk::origin`]).
        origin: usize,
        reply: Sender<FlushResult>,
    },
}

/// The thread that runs an output's flushes.
///
/// Fluent Bit calls flush inside a coroutine whose stack may be 24 KiB with
/// no guard page, and may call it from several threads at once. The caller
/// here only hands the chunk over and waits on a channel, which needs
/// about 2 KiB of its stack; the plugin's real work (formatting, DNS, TLS)
/// runs on this thread's ordinary stack.
struct OutputWorker {
    jobs: Option<Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl OutputWorker {
    fn start(
        mut plugin: Box<dyn DynOutput>,
        host: Arc<dyn Host>,
        name: &'static str,
    ) -> Result<OutputWorker, PluginError> {
        let (tx, rx): (Sender<Job>, Receiver<Job>) = crossbeam_channel::unbounded();
        let thread = std::thread::Builder::new()
            .name(format!("{name}:flush"))
            .spawn(move || {
                logging::attach_thread(host);
                for job in rx {
                    // `reply` first: should anything below unwind, the
                    // bindings drop in reverse, `data` before `reply`.
                    let Job::Flush {
                        reply,
                        tag,
                        data,
                        origin,
                    } = job;
                    let r = {
                        let chunk = Chunk::with_origin(&tag, (*data).as_ref(), origin);
                        guarded("flush", || plugin.flush(&chunk)).unwrap_or_else(|e| {
                            log::error!("{e}; the chunk will be retried");
                            FlushResult::Retry
                        })
                    };
                    // The bytes go before the reply: once the caller hears
                    // back, nothing here holds them (a lent buffer is the
                    // host's again).
                    drop(data);
                    let _ = reply.send(r);
                }
                if let Err(e) = guarded("exit", || plugin.exit()) {
                    log::error!("{e}");
                }
            })
            .map_err(|e| PluginError(format!("cannot start the flush thread: {e}")))?;
        Ok(OutputWorker {
            jobs: Some(tx),
            thread: Some(thread),
        })
    }

    /// Hands `data` to the flush thread and waits for the result. Returns
    /// only once `data` has been dropped: by the flush thread before it
    /// replies, or here when the job never reached it. (The reply channel
    /// closes without a reply only when the job that owns `data` is
    /// dropped, which drops `data` first: `Job`'s fields drop in order.)
    fn flush(&self, tag: &str, data: ChunkBytes, origin: usize) -> FlushResult {
        let Some(jobs) = &self.jobs else {
            return FlushResult::Retry;
        };
        let (reply, result) = crossbeam_channel::bounded(1);
        let job = Job::Flush {
            tag: tag.to_string(),
            data,
            origin,
            reply,
        };
        if jobs.send(job).is_err() {
            // The job came back inside the error, and is dropped with it.
            log::error!("the flush thread is gone; the chunk will be retried");
            return FlushResult::Retry;
        }
        result.recv().unwrap_or_else(|_| {
            log::error!("the flush thread stopped during a flush; the chunk will be retried");
            FlushResult::Retry
        })
    }

    fn stop(&mut self) {
        // Closing the queue ends the thread's loop once it is drained.
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
