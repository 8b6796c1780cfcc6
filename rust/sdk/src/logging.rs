//! Routes the `log` crate to the host's logger, per plugin instance.
//!
//! The instance a message belongs to is the one whose callback or thread is
//! running: the runtime marks the thread for the duration of each callback,
//! and threads spawned through [`crate::Spawner::spawn`] or the output
//! worker carry their instance for life. A message whose level the instance
//! filters out costs a thread-local read and a compare; its arguments are
//! never formatted.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use log::{LevelFilter, Log, Metadata, Record};

use crate::host::Host;

thread_local! {
    static CURRENT: RefCell<Option<Arc<dyn Host>>> = const { RefCell::new(None) };
}

/// Where messages go from threads that belong to no instance.
static FALLBACK: OnceLock<Arc<dyn Host>> = OnceLock::new();

/// The most verbose level any instance asked for, so that the `log` macros'
/// global check can skip everything quieter.
static MAX_LEVEL: AtomicUsize = AtomicUsize::new(0);

struct HostLogger;

static LOGGER: HostLogger = HostLogger;

impl Log for HostLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        with_host(|h| h.is_some_and(|h| metadata.level() <= h.log_level()))
    }

    fn log(&self, record: &Record<'_>) {
        with_host(|h| {
            let Some(h) = h else { return };
            if record.level() > h.log_level() {
                return;
            }
            let msg = match record.args().as_str() {
                Some(s) => std::borrow::Cow::Borrowed(s),
                None => std::borrow::Cow::Owned(record.args().to_string()),
            };
            h.log(record.level(), &msg);
        })
    }

    fn flush(&self) {}
}

fn with_host<R>(f: impl FnOnce(Option<&Arc<dyn Host>>) -> R) -> R {
    CURRENT.with(|c| match c.try_borrow() {
        Ok(cur) => match cur.as_ref() {
            Some(h) => f(Some(h)),
            None => f(FALLBACK.get()),
        },
        // Only while a scope is being entered or left on this thread.
        Err(_) => f(FALLBACK.get()),
    })
}

/// Installs the logger (once per process; later calls only raise the
/// global level when `level` is more verbose than before).
pub fn install(level: LevelFilter) {
    let _ = log::set_logger(&LOGGER);
    let prev = MAX_LEVEL.fetch_max(level as usize, Ordering::Relaxed);
    if level as usize >= prev {
        log::set_max_level(level);
    }
}

/// Sets where messages from threads of no instance go. The first call wins.
pub fn set_fallback(host: Arc<dyn Host>) {
    install(host.log_level());
    let _ = FALLBACK.set(host);
}

/// Runs `f` with this thread's messages going to `host`, then restores
/// whatever was there before (callbacks can nest: a filter running inside
/// an input's append).
pub fn scope<R>(host: &Arc<dyn Host>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Arc<dyn Host>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let prev = self.0.take();
            CURRENT.with(|c| *c.borrow_mut() = prev);
        }
    }
    let prev = CURRENT.with(|c| c.borrow_mut().replace(host.clone()));
    let _restore = Restore(prev);
    f()
}

/// Ties the current thread to `host` for the rest of its life.
pub fn attach_thread(host: Arc<dyn Host>) {
    install(host.log_level());
    CURRENT.with(|c| *c.borrow_mut() = Some(host));
}
