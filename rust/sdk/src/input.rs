//! The path from an input plugin's threads to the host.
//!
//! Plugin threads put encoded events on a bounded queue and poke a socket
//! pair; the host watches the other end of the pair (in Fluent Bit, a
//! collector event on the file descriptor) and, on its own thread, drains
//! the queue through its append call. The queue is bounded in bytes of
//! encoded events (not in batches: a batch of 30,000 tiny records weighs
//! what it holds), so a host that stops collecting (paused by memory or
//! storage limits) makes `emit` block and the plugin stop reading its
//! source.

use std::io::{Read, Write};
use std::os::unix::io::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use crate::encode::EventEncoder;

/// Events on their way to the host.
pub(crate) struct Batch {
    pub tag: Option<String>,
    pub data: Vec<u8>,
    pub records: usize,
    /// Told once the host has taken the batch (see [`Emitter::emit_confirmed`]).
    pub confirm: Option<Sender<()>>,
}

/// The host's acceptance of one batch, awaited by a plugin that must not
/// acknowledge its source before (a RELP server, say).
#[derive(Debug)]
pub struct Delivery {
    done: Receiver<()>,
    stop: Receiver<()>,
}

impl Delivery {
    /// Without waiting: `Some(Ok)` once the host has taken the batch,
    /// `Some(Err(Stopped))` when the instance stops first, `None` while
    /// neither happened (for an event loop, see [`Emitter::on_change`]).
    pub fn poll(&self) -> Option<Result<(), EmitError>> {
        match self.done.try_recv() {
            Ok(()) => Some(Ok(())),
            Err(crossbeam_channel::TryRecvError::Disconnected) => Some(Err(EmitError::Stopped)),
            Err(crossbeam_channel::TryRecvError::Empty) => match self.stop.try_recv() {
                Err(crossbeam_channel::TryRecvError::Disconnected) => Some(Err(EmitError::Stopped)),
                _ => None,
            },
        }
    }

    /// Waits until the host has taken the batch (`Ok`), the instance stops
    /// (`Stopped`: the batch may never be taken), or `timeout` passes
    /// (`Full`: not yet taken; wait again).
    pub fn wait(&self, timeout: Duration) -> Result<(), EmitError> {
        crossbeam_channel::select! {
            recv(self.done) -> r => r.map_err(|_| EmitError::Stopped),
            recv(self.stop) -> _ => Err(EmitError::Stopped),
            default(timeout) => Err(EmitError::Full),
        }
    }
}

/// Why an emit did not queue the events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmitError {
    /// The queue is full (only from `try_emit` and `emit_timeout`).
    Full,
    /// The instance is shutting down; stop producing.
    Stopped,
}

impl std::fmt::Display for EmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EmitError::Full => f.write_str("input queue full"),
            EmitError::Stopped => f.write_str("input stopped"),
        }
    }
}

impl std::error::Error for EmitError {}

/// The host's append, as the input's collect calls it: a batch's tag,
/// its events, and how many records they hold; false when the host
/// refused them (they stay queued).
pub type AppendFn<'a> = dyn FnMut(Option<&str>, &[u8], usize) -> bool + 'a;

/// Why [`Emitter::offer`] did not queue the events.
#[derive(Debug)]
pub enum OfferError {
    /// No room now: the events, to be offered again after a change.
    Full(EventEncoder),
    /// The instance is shutting down; stop producing.
    Stopped,
}

/// What an event loop that cannot block is woken with.
type Wake = Arc<dyn Fn() + Send + Sync>;

/// Whether the host paused the input, whether it is shutting down, and how
/// many bytes are queued; plugin threads wait on it.
struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
    /// Most bytes queued before an emit waits (see [`Gate::reserve`]).
    max_bytes: usize,
    /// Called after every change, for emitters that poll (`on_change`).
    wakers: Mutex<Vec<Wake>>,
}

#[derive(Default)]
struct GateState {
    paused: bool,
    stopped: bool,
    /// Bytes of the batches queued or refused and waiting (`data.len()`).
    queued: usize,
}

/// How long an emit may wait for room.
#[derive(Clone, Copy)]
enum Wait {
    No,
    Until(Instant),
    Forever,
}

impl Gate {
    fn new(max_bytes: usize) -> Gate {
        Gate {
            state: Mutex::default(),
            changed: Condvar::new(),
            max_bytes,
            wakers: Mutex::default(),
        }
    }

    /// Takes room for `len` bytes. A batch larger than the whole bound is
    /// let in when nothing else is queued, so it cannot wait for ever: at
    /// most `max_bytes` plus one batch are ever queued.
    fn reserve(&self, len: usize, wait: Wait) -> Result<(), EmitError> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if s.stopped {
                return Err(EmitError::Stopped);
            }
            if s.queued == 0 || s.queued.saturating_add(len) <= self.max_bytes {
                s.queued += len;
                return Ok(());
            }
            s = match wait {
                Wait::No => return Err(EmitError::Full),
                Wait::Forever => self.changed.wait(s).unwrap_or_else(|e| e.into_inner()),
                Wait::Until(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(EmitError::Full);
                    }
                    self.changed
                        .wait_timeout(s, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }

    /// Gives back the room of batches the host took (or that went).
    fn release(&self, len: usize) {
        if len > 0 {
            self.update(|s| s.queued = s.queued.saturating_sub(len));
        }
    }

    fn queued(&self) -> usize {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).queued
    }

    fn update(&self, f: impl FnOnce(&mut GateState)) {
        {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut s);
            self.changed.notify_all();
        }
        // Outside the state's lock: a waker may look at the state.
        let wakers = self.wakers.lock().unwrap_or_else(|e| e.into_inner());
        for wake in wakers.iter() {
            wake();
        }
    }

    fn paused(&self) -> bool {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).paused
    }
}

/// Hands events to the host. Cheap to clone; one per plugin thread.
#[derive(Clone)]
pub struct Emitter {
    tx: Sender<Batch>,
    stop: Receiver<()>,
    notify: Arc<UnixStream>,
    gate: Arc<Gate>,
}

impl Emitter {
    /// Queues the events, waiting while the queue is full.
    pub fn emit(&self, events: EventEncoder) -> Result<(), EmitError> {
        self.emit_tagged(None, events)
    }

    /// Queues events under a tag of their own (default: the instance's).
    pub fn emit_tagged(&self, tag: Option<&str>, events: EventEncoder) -> Result<(), EmitError> {
        self.send(batch(tag, events), Wait::Forever)
    }

    /// Queues a batch once there is room for its bytes.
    fn send(&self, batch: Batch, wait: Wait) -> Result<(), EmitError> {
        let len = batch.data.len();
        self.gate.reserve(len, wait)?;
        if self.tx.send(batch).is_err() {
            self.gate.release(len);
            return Err(EmitError::Stopped);
        }
        self.wake();
        Ok(())
    }

    /// Queues the events like [`Emitter::emit`] and returns a [`Delivery`]
    /// that completes once the host has taken them: in Fluent Bit, once
    /// they are in a chunk, so that a sender can be acknowledged.
    pub fn emit_confirmed(&self, events: EventEncoder) -> Result<Delivery, EmitError> {
        let (done_tx, done) = crossbeam_channel::bounded(1);
        let mut batch = batch(None, events);
        batch.confirm = Some(done_tx);
        self.send(batch, Wait::Forever)?;
        Ok(Delivery {
            done,
            stop: self.stop.clone(),
        })
    }

    /// Queues the events if there is room now, without waiting, and with
    /// a [`Delivery`] when `confirm` is set. When the queue is full the
    /// events come back ([`OfferError::Full`]) to be offered again once
    /// [`Emitter::on_change`]'s callback has run: the way for an event
    /// loop that serves many sources from one thread, and must not block.
    pub fn offer(
        &self,
        events: EventEncoder,
        confirm: bool,
    ) -> Result<Option<Delivery>, OfferError> {
        match self.gate.reserve(events.len(), Wait::No) {
            Ok(()) => {}
            Err(EmitError::Full) => return Err(OfferError::Full(events)),
            Err(EmitError::Stopped) => return Err(OfferError::Stopped),
        }
        let len = events.len();
        let mut b = batch(None, events);
        let delivery = confirm.then(|| {
            let (done_tx, done) = crossbeam_channel::bounded(1);
            b.confirm = Some(done_tx);
            Delivery {
                done,
                stop: self.stop.clone(),
            }
        });
        if self.tx.send(b).is_err() {
            self.gate.release(len);
            return Err(OfferError::Stopped);
        }
        self.wake();
        Ok(delivery)
    }

    /// Calls `wake` after every change that a source served without
    /// blocking may wait for: the host took batches (room freed,
    /// [`Delivery`]s done), paused or resumed the input, or the instance
    /// stops. It runs on the host's thread: it must be quick and never
    /// block (poke an event loop's waker, say). Kept until the instance
    /// goes.
    pub fn on_change(&self, wake: impl Fn() + Send + Sync + 'static) {
        self.gate
            .wakers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Arc::new(wake));
    }

    /// Queues the events if there is room now (for sources that cannot wait,
    /// such as UDP: count what is refused).
    pub fn try_emit(&self, events: EventEncoder) -> Result<(), EmitError> {
        self.send(batch(None, events), Wait::No)
    }

    /// Queues the events, waiting at most `timeout` for room.
    pub fn emit_timeout(&self, events: EventEncoder, timeout: Duration) -> Result<(), EmitError> {
        self.send(batch(None, events), Wait::Until(Instant::now() + timeout))
    }

    /// Bytes of encoded events queued for the host, not yet taken (for a
    /// plugin's own gauge of what it holds).
    pub fn queued_bytes(&self) -> usize {
        self.gate.queued()
    }

    /// True while the host has paused this input.
    pub fn is_paused(&self) -> bool {
        self.gate.paused()
    }

    /// Blocks while the host has the input paused, so that a source is not
    /// read while its records could not be taken. Returns `Stopped` when the
    /// instance shuts down.
    pub fn wait_while_paused(&self) -> Result<(), EmitError> {
        let mut s = self.gate.state.lock().unwrap_or_else(|e| e.into_inner());
        while s.paused && !s.stopped {
            s = self.gate.changed.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        if s.stopped {
            Err(EmitError::Stopped)
        } else {
            Ok(())
        }
    }

    /// True once the instance is shutting down.
    pub fn is_stopped(&self) -> bool {
        matches!(
            self.stop.try_recv(),
            Err(crossbeam_channel::TryRecvError::Disconnected)
        )
    }

    /// Waits up to `d` (an interval between records, say), returning early
    /// and true when the instance is stopping.
    pub fn wait_stop(&self, d: Duration) -> bool {
        matches!(
            self.stop.recv_timeout(d),
            Err(crossbeam_channel::RecvTimeoutError::Disconnected)
        )
    }

    fn wake(&self) {
        // Non-blocking: when the pipe is full a wake-up is already pending.
        let _ = (&*self.notify).write(&[1]);
    }
}

fn batch(tag: Option<&str>, events: EventEncoder) -> Batch {
    Batch {
        tag: tag.map(str::to_string),
        records: events.records(),
        data: events.into_bytes(),
        confirm: None,
    }
}

/// The host's end of an input's queue.
pub(crate) struct Queue {
    rx: Receiver<Batch>,
    notify_rx: UnixStream,
    notify_tx: Arc<UnixStream>,
    stop_tx: Option<Sender<()>>,
    gate: Arc<Gate>,
    /// A batch the host refused, offered again first next time.
    pending: Option<Batch>,
    /// How long after the last refusal the host is woken to try again
    /// (zero while it takes what it is offered).
    retry_after: Duration,
    /// Wakes the host after `retry_after`; started at the first refusal,
    /// joined when the queue goes.
    waker: Option<(Sender<Duration>, std::thread::JoinHandle<()>)>,
}

impl Drop for Queue {
    fn drop(&mut self) {
        if let Some((tx, thread)) = self.waker.take() {
            // Disconnected, the thread ends at once, even mid-wait.
            drop(tx);
            let _ = thread.join();
        }
    }
}

/// The first and the longest wait before a refused batch is offered again.
const RETRY_MIN: Duration = Duration::from_millis(10);
const RETRY_MAX: Duration = Duration::from_secs(1);

/// Sets the paused state that emitters see.
pub(crate) struct Pauser(Arc<Gate>);

impl Pauser {
    pub fn set(&self, paused: bool) {
        self.0.update(|s| s.paused = paused);
    }

    /// Bytes queued (read without the queue's lock, which the host holds
    /// while it collects).
    pub fn queued_bytes(&self) -> usize {
        self.0.queued()
    }
}

/// Most batches appended per collect, so that one busy input cannot hold
/// the host's event loop.
const COLLECT_BUDGET: usize = 256;

impl Queue {
    /// A queue that holds at most `max_bytes` of encoded events (plus one
    /// batch, see [`Gate::reserve`]).
    pub fn new(max_bytes: usize) -> std::io::Result<(Queue, Emitter)> {
        // Unbounded in batches: the gate bounds the bytes.
        let (tx, rx) = crossbeam_channel::unbounded();
        let (stop_tx, stop_rx) = crossbeam_channel::bounded(0);
        let (notify_rx, notify_tx) = UnixStream::pair()?;
        notify_rx.set_nonblocking(true)?;
        notify_tx.set_nonblocking(true)?;
        let notify_tx = Arc::new(notify_tx);
        let gate = Arc::new(Gate::new(max_bytes));
        let emitter = Emitter {
            tx,
            stop: stop_rx,
            notify: notify_tx.clone(),
            gate: gate.clone(),
        };
        Ok((
            Queue {
                rx,
                notify_rx,
                notify_tx,
                stop_tx: Some(stop_tx),
                gate,
                pending: None,
                retry_after: Duration::ZERO,
                waker: None,
            },
            emitter,
        ))
    }

    pub fn fd(&self) -> RawFd {
        self.notify_rx.as_raw_fd()
    }

    /// A handle that pauses and resumes the emitters without the queue's
    /// lock (the host may pause from inside its own append).
    pub fn pauser(&self) -> Pauser {
        Pauser(self.gate.clone())
    }

    /// Closes the queue: blocked and future emits and waits fail with
    /// `Stopped`.
    pub fn close(&mut self) {
        self.stop_tx = None;
        self.gate.update(|s| s.stopped = true);
    }

    /// Records still queued (lost if the instance goes away now).
    pub fn undelivered(&self) -> usize {
        self.pending.as_ref().map_or(0, |b| b.records)
            + self.rx.try_iter().map(|b| b.records).sum::<usize>()
    }

    /// Waits up to `timeout` for a batch, keeping it for the next collect.
    pub fn wait(&mut self, timeout: Duration) -> bool {
        if self.pending.is_none() {
            self.pending = self.rx.recv_timeout(timeout).ok();
        }
        self.pending.is_some()
    }

    /// Appends queued batches through `append` until the queue is empty,
    /// the budget is spent or the host refuses one. Returns the records
    /// appended.
    ///
    /// A refusal that comes without a pause (Fluent Bit's `memrb` storage
    /// when it cannot make room, say) must not wake the host again at once:
    /// it would call back, be refused, and spin on its event loop. The host
    /// is woken after a wait instead, doubled on every refusal in a row
    /// (RETRY_MIN to RETRY_MAX).
    pub fn collect(&mut self, append: &mut AppendFn<'_>) -> usize {
        let mut sink = [0u8; 256];
        while matches!((&self.notify_rx).read(&mut sink), Ok(n) if n > 0) {}

        let (mut appended, mut freed) = (0, 0);
        let mut budget_spent = true;
        for _ in 0..COLLECT_BUDGET {
            let Some(b) = self.pending.take().or_else(|| self.rx.try_recv().ok()) else {
                self.retry_after = Duration::ZERO;
                budget_spent = false;
                break;
            };
            if !append(b.tag.as_deref(), &b.data, b.records) {
                // Still held: its room stays taken.
                self.pending = Some(b);
                self.retry_after = (self.retry_after * 2).clamp(RETRY_MIN, RETRY_MAX);
                self.wake_after(self.retry_after);
                budget_spent = false;
                break;
            }
            if let Some(c) = &b.confirm {
                let _ = c.try_send(());
            }
            freed += b.data.len();
            appended += b.records;
            self.retry_after = Duration::ZERO;
        }
        // One lock and one wake-up of waiting emitters per collect.
        self.gate.release(freed);
        if budget_spent {
            // Work left: make sure the host comes back for it.
            let _ = (&*self.notify_tx).write(&[1]);
        }
        appended
    }

    /// Pokes the host's descriptor after `wait`, from a thread of the
    /// queue's own that ends when the queue goes (it touches nothing but
    /// its end of the socket pair).
    fn wake_after(&mut self, wait: Duration) {
        if let Some((w, _)) = &self.waker {
            if w.send(wait).is_ok() {
                return;
            }
        }
        let (tx, rx) = crossbeam_channel::unbounded::<Duration>();
        let notify = self.notify_tx.clone();
        let started = std::thread::Builder::new()
            .name("flb-rs-retry".into())
            .spawn(move || {
                let mut next = rx.recv().ok();
                while let Some(wait) = next {
                    next = match rx.recv_timeout(wait) {
                        // A newer refusal: its wait replaces this one.
                        Ok(newer) => Some(newer),
                        Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                            let _ = (&*notify).write(&[1]);
                            rx.recv().ok()
                        }
                        Err(crossbeam_channel::RecvTimeoutError::Disconnected) => None,
                    };
                }
            });
        match started {
            Ok(thread) => {
                let _ = tx.send(wait);
                self.waker = Some((tx, thread));
            }
            Err(e) => {
                // Without the thread, waking at once is all that is left.
                log::warn!("cannot start the input's retry thread: {e}");
                let _ = (&*self.notify_tx).write(&[1]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_record() -> EventEncoder {
        let mut e = EventEncoder::new();
        e.record(crate::EventTime::new(1, 0), |m| m.str("k", "v"));
        e
    }

    #[test]
    fn a_delivery_completes_only_when_the_host_took_the_batch() {
        let (mut q, emitter) = Queue::new(4).unwrap();
        let d = emitter.emit_confirmed(one_record()).unwrap();
        let short = Duration::from_millis(20);
        assert_eq!(d.wait(short), Err(EmitError::Full), "queued, not taken");
        // The host refuses it (paused): still not delivered.
        assert_eq!(q.collect(&mut |_, _, _| false), 0);
        assert_eq!(d.wait(short), Err(EmitError::Full));
        assert_eq!(q.collect(&mut |_, _, _| true), 1);
        assert_eq!(d.wait(short), Ok(()));
    }

    /// An event loop's path: offer without blocking, get the events back
    /// when full, be called back when the host makes room, pauses or
    /// stops, and poll a delivery.
    #[test]
    fn offers_come_back_when_full_and_changes_call_back() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let one = one_record().len();
        let (mut q, emitter) = Queue::new(one).unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        emitter.on_change(move || {
            c.fetch_add(1, Ordering::SeqCst);
        });
        let d = emitter.offer(one_record(), true).unwrap().unwrap();
        assert!(d.poll().is_none(), "queued, not taken");
        let back = match emitter.offer(one_record(), false) {
            Err(OfferError::Full(events)) => events,
            _ => panic!("a full queue must hand the events back"),
        };
        assert_eq!(back.records(), 1);
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        assert_eq!(q.collect(&mut |_, _, _| true), 1);
        assert_eq!(calls.load(Ordering::SeqCst), 1, "room freed");
        assert_eq!(d.poll(), Some(Ok(())));
        assert!(emitter.offer(back, false).unwrap().is_none());
        q.pauser().set(true);
        assert_eq!(calls.load(Ordering::SeqCst), 2, "paused");
        let d = emitter.offer(one_record(), true);
        assert!(matches!(d, Err(OfferError::Full(_))), "still full");
        q.close();
        assert_eq!(calls.load(Ordering::SeqCst), 3, "stopped");
        assert!(matches!(
            emitter.offer(one_record(), true),
            Err(OfferError::Stopped)
        ));
    }

    #[test]
    fn a_polled_delivery_fails_when_the_instance_stops() {
        let (mut q, emitter) = Queue::new(1 << 20).unwrap();
        let d = emitter.offer(one_record(), true).unwrap().unwrap();
        assert_eq!(d.poll(), None);
        q.close();
        assert_eq!(d.poll(), Some(Err(EmitError::Stopped)));
    }

    /// Whether the host was woken (reading the wake-up bytes).
    fn woken(q: &Queue) -> bool {
        let mut b = [0u8; 64];
        matches!((&q.notify_rx).read(&mut b), Ok(n) if n > 0)
    }

    #[test]
    fn a_refusal_wakes_the_host_after_a_growing_wait_not_at_once() {
        let (mut q, emitter) = Queue::new(4).unwrap();
        emitter.emit(one_record()).unwrap();
        assert!(woken(&q), "an emit wakes the host");
        let mut waits = Vec::new();
        for _ in 0..4 {
            assert_eq!(q.collect(&mut |_, _, _| false), 0);
            assert!(!woken(&q), "no wake-up at once after a refusal");
            let start = std::time::Instant::now();
            while !woken(&q) {
                assert!(
                    start.elapsed() < Duration::from_secs(3),
                    "never woken again"
                );
                std::thread::sleep(Duration::from_millis(1));
            }
            waits.push(start.elapsed());
        }
        // 10, 20, 40, 80 ms.
        assert!(waits[0] >= Duration::from_millis(9), "{waits:?}");
        assert!(waits[3] >= Duration::from_millis(75), "{waits:?}");
        // Taken at last: the batch goes, and the next refusal waits 10 ms
        // again.
        assert_eq!(q.collect(&mut |_, _, _| true), 1);
        assert_eq!(q.retry_after, Duration::ZERO);
        assert_eq!(q.undelivered(), 0);
    }

    fn records(n: usize) -> EventEncoder {
        let mut e = EventEncoder::new();
        for _ in 0..n {
            e.record(crate::EventTime::new(1, 0), |m| m.str("k", "v"));
        }
        e
    }

    #[test]
    fn the_queue_is_bounded_in_bytes_not_batches() {
        let one = records(100).len();
        // Room for three batches of 100 records.
        let (mut q, emitter) = Queue::new(3 * one).unwrap();
        for _ in 0..3 {
            emitter.try_emit(records(100)).unwrap();
        }
        assert_eq!(q.pauser().queued_bytes(), 3 * one);
        assert_eq!(emitter.try_emit(records(1)), Err(EmitError::Full));
        assert_eq!(
            emitter.emit_timeout(records(1), Duration::from_millis(20)),
            Err(EmitError::Full)
        );
        // A waiting emit goes in once the host takes what is queued.
        let waiting = {
            let emitter = emitter.clone();
            std::thread::spawn(move || emitter.emit(records(100)))
        };
        let mut taken = 0;
        while taken < 400 {
            taken += q.collect(&mut |_, _, _| true);
        }
        assert_eq!(waiting.join().unwrap(), Ok(()));
        assert_eq!(taken, 400);
        assert_eq!(q.pauser().queued_bytes(), 0);
    }

    #[test]
    fn a_refused_batch_keeps_its_room_and_an_oversized_one_waits_for_an_empty_queue() {
        let (mut q, emitter) = Queue::new(100).unwrap();
        let big = records(50);
        let big_len = big.len();
        assert!(big_len > 100);
        // Larger than the bound, into an empty queue: let in.
        emitter.try_emit(big).unwrap();
        assert_eq!(emitter.try_emit(records(1)), Err(EmitError::Full));
        assert_eq!(q.collect(&mut |_, _, _| false), 0, "refused");
        assert_eq!(q.pauser().queued_bytes(), big_len, "still held");
        assert_eq!(emitter.try_emit(records(1)), Err(EmitError::Full));
        assert_eq!(q.collect(&mut |_, _, _| true), 50);
        emitter.try_emit(records(1)).unwrap();
    }

    #[test]
    fn a_stop_wakes_an_emit_that_waits_for_room() {
        let (mut q, emitter) = Queue::new(10).unwrap();
        emitter.try_emit(records(5)).unwrap();
        let waiting = {
            let emitter = emitter.clone();
            std::thread::spawn(move || emitter.emit(records(5)))
        };
        q.close();
        assert_eq!(waiting.join().unwrap(), Err(EmitError::Stopped));
    }

    #[test]
    fn a_delivery_fails_when_the_instance_stops() {
        let (mut q, emitter) = Queue::new(4).unwrap();
        let d = emitter.emit_confirmed(one_record()).unwrap();
        q.close();
        assert_eq!(d.wait(Duration::from_secs(5)), Err(EmitError::Stopped));
        assert_eq!(
            q.undelivered(),
            1,
            "the batch is still counted as undelivered"
        );
    }
}
