//! What every listener shares (`Context`: the emitter, the record shape,
//! the limits, the counters), how received messages become a batch of
//! records, and the thread that serves a datagram socket. Stream
//! connections are served by `event_loop` and `conn`.
//!
//! Datagrams cannot be held back: those that arrive while the input is
//! paused, or that find the queue full for a second, are counted as
//! dropped and logged.

use std::io;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use flb_rs_sdk::prelude::*;
use flb_rs_sdk::EmitError;

use super::allow::AllowList;
use super::parse::{parse, Format, Mode, ParseOptions};
use super::ratelimit::RateLimit;
use super::record::{Origin, RecordShape};

/// How often blocked reads look up to see whether the instance stops.
pub const POLL: Duration = Duration::from_millis(250);
/// How long a datagram batch may wait for room in a full queue.
const DATAGRAM_WAIT: Duration = Duration::from_secs(1);
/// Largest read from a stream at once.
pub const READ_SIZE: usize = 64 * 1024;

/// Encoded records gathered before they are handed over, even mid-read: a
/// 64 KiB read of one-byte lines is 32,768 records, several times its
/// size once encoded.
pub const BATCH_BYTES: usize = 256 * 1024;

/// The instance's counters.
#[derive(Clone)]
pub struct Metrics {
    pub messages: Counter,
    pub bytes: Counter,
    pub parse_errors: Counter,
    pub oversize: Counter,
    pub framing_errors: Counter,
    pub dropped: Counter,
    pub connections: Gauge,
    /// Bytes of records queued for Fluent Bit, not yet in its chunks.
    pub buffered: Gauge,
    pub refused: Counter,
    pub idle_closed: Counter,
    pub write_timeouts: Counter,
    pub handshake_timeouts: Counter,
    pub denied: Counter,
    pub rate_limited: Counter,
}

/// What every listener thread shares.
pub struct Context {
    pub emitter: Emitter,
    pub shape: RecordShape,
    pub mode: Mode,
    pub offset_minutes: i32,
    pub max_size: usize,
    pub transport: &'static str,
    pub metrics: Metrics,
    /// A stream connection that sends nothing for this long is closed.
    pub idle_timeout: Option<Duration>,
    /// Longest a RELP peer may take to read our responses.
    pub write_timeout: Duration,
    /// The senders taken; `None`: all.
    pub allow: Option<AllowList>,
    /// Whether the first denied sender was logged as a warning (the rest
    /// go to debug and the counter: a scan must not flood the log).
    pub denied_warned: AtomicBool,
    /// `ratelimit.interval` and `ratelimit.burst`; `None`: no limit.
    pub ratelimit: Option<RateLimit>,
    /// Whether a sender over its rate was logged as a warning yet.
    pub rate_warned: AtomicBool,
}

impl Context {
    /// Whether a sender at `ip` is taken; counts and logs one that is not.
    pub fn admits(&self, ip: Option<IpAddr>, what: &str) -> bool {
        let (Some(allow), Some(ip)) = (&self.allow, ip) else {
            return true;
        };
        if allow.permits(ip) {
            return true;
        }
        self.metrics.denied.inc(&[]);
        warn_once(
            &self.denied_warned,
            &format!("{what} from {ip} denied: not in allow_from"),
            "denied_total",
        );
        false
    }

    /// Whether `ip` is over its rate, for a stream or RELP connection
    /// about to take its next message: `Some(until)` (counted and logged;
    /// the connection is not read before then), or `None`.
    pub fn rate_hold(&self, ip: Option<IpAddr>, source: &str) -> Option<Instant> {
        let until = self.ratelimit.as_ref()?.check(ip, Instant::now()).err()?;
        self.over_rate(source, "held back until its next interval");
        Some(until)
    }

    /// Counts a message taken from `ip` against its rate.
    pub fn rate_charge(&self, ip: Option<IpAddr>) {
        if let Some(rl) = &self.ratelimit {
            let _ = rl.take(ip, Instant::now());
        }
    }

    /// Whether a datagram from `ip` is within its sender's rate; counts
    /// and logs one that is not (it is dropped).
    fn within_rate(&self, ip: Option<IpAddr>, source: &str) -> bool {
        match &self.ratelimit {
            Some(rl) if rl.take(ip, Instant::now()).is_err() => {
                self.over_rate(source, "datagram dropped");
                false
            }
            _ => true,
        }
    }

    fn over_rate(&self, source: &str, what: &str) {
        self.metrics.rate_limited.inc(&[]);
        warn_once(
            &self.rate_warned,
            &format!("from {source}: over ratelimit.burst; {what}"),
            "rate_limited_total",
        );
    }
}

/// The first of a kind of event as a warning, the rest at debug level: a
/// scan or a flood must not flood the log; `counter` has them all.
fn warn_once(warned: &AtomicBool, text: &str, counter: &str) {
    if warned.swap(true, Ordering::Relaxed) {
        log::debug!("{text}");
    } else {
        log::warn!("{text} (further ones are only counted, in {counter})");
    }
}

/// Records being gathered from one read, with their counts.
pub(super) struct Batch<'c> {
    ctx: &'c Context,
    pub(super) out: EventEncoder,
    messages: u64,
    parse_errors: u64,
    /// When the batch's first message was taken: the reception time of
    /// all of them (they came in one read, or one burst of datagrams),
    /// read from the clock once rather than per message.
    received: Option<EventTime>,
}

impl<'c> Batch<'c> {
    pub(super) fn new(ctx: &'c Context) -> Self {
        Batch {
            ctx,
            out: EventEncoder::new(),
            messages: 0,
            parse_errors: 0,
            received: None,
        }
    }

    pub(super) fn add(&mut self, msg: &[u8], source: &str) {
        let received = *self.received.get_or_insert_with(EventTime::now);
        let opts = ParseOptions {
            mode: self.ctx.mode,
            now: received,
            offset_minutes: self.ctx.offset_minutes,
        };
        let m = parse(msg, &opts);
        if m.format == Format::Raw {
            self.parse_errors += 1;
            log::debug!(
                "from {source}: kept as raw: {}",
                m.error.as_deref().unwrap_or("")
            );
        }
        let origin = Origin {
            source,
            transport: self.ctx.transport,
            received,
        };
        self.ctx.shape.encode(&mut self.out, &m, &origin);
        self.messages += 1;
    }

    pub(super) fn is_empty(&self) -> bool {
        self.messages == 0
    }

    /// Publishes the counts; returns the records to hand over.
    pub(super) fn take(self) -> EventEncoder {
        let m = &self.ctx.metrics;
        if self.messages > 0 {
            m.messages.add(self.messages as f64, &[]);
        }
        if self.parse_errors > 0 {
            m.parse_errors.add(self.parse_errors as f64, &[]);
        }
        self.out
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// Reports an oversized message, once per connection at warning level.
pub(super) fn oversize(ctx: &Context, source: &str, len: usize, warned: &mut bool) {
    ctx.metrics.oversize.inc(&[]);
    let text = format!(
        "from {source}: a message of {len} bytes or more exceeds max_message_size ({}); skipped",
        ctx.max_size
    );
    if *warned {
        log::debug!("{text}");
    } else {
        log::warn!("{text} (further ones on this connection are logged at debug level)");
        *warned = true;
    }
}

/// A datagram socket, Unix or UDP.
pub trait Datagrams {
    /// One datagram, where it came from, and the sender's IP address
    /// (none for Unix sockets).
    fn recv(&self, buf: &mut [u8]) -> io::Result<(usize, String, Option<IpAddr>)>;
    fn set_nonblocking(&self, on: bool) -> io::Result<()>;
}

impl Datagrams for std::net::UdpSocket {
    fn recv(&self, buf: &mut [u8]) -> io::Result<(usize, String, Option<IpAddr>)> {
        self.recv_from(buf)
            .map(|(n, a)| (n, a.to_string(), Some(a.ip())))
    }
    fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        std::net::UdpSocket::set_nonblocking(self, on)
    }
}

impl Datagrams for std::os::unix::net::UnixDatagram {
    fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        std::os::unix::net::UnixDatagram::set_nonblocking(self, on)
    }
    fn recv(&self, buf: &mut [u8]) -> io::Result<(usize, String, Option<IpAddr>)> {
        let (n, a) = self.recv_from(buf)?;
        let from = a
            .as_pathname()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        Ok((n, from, None))
    }
}

/// Most datagrams gathered into one batch.
const DATAGRAM_BATCH: usize = 256;

/// Serves a datagram socket (read timeout about [`POLL`]) until the
/// instance stops. Each datagram is one message (RFC 5426); `local` names
/// the socket for senders without an address of their own.
pub fn serve_datagrams<D: Datagrams>(ctx: &Context, sock: &D, local: &str) {
    // One byte more than allowed, to tell an oversized datagram.
    let mut buf = vec![0u8; ctx.max_size + 1];
    let mut dropped_since_warning = 0u64;
    let mut warned = false;
    while !ctx.emitter.is_stopped() {
        let mut batch = Batch::new(ctx);
        let mut bytes = 0usize;
        let mut paused_drops = 0u64;
        for i in 0..DATAGRAM_BATCH {
            if i == 1 {
                // After the first datagram (waited for, at most POLL), take
                // only what is already there: no datagram waits for the next.
                let _ = sock.set_nonblocking(true);
            }
            let (n, from, ip) = match sock.recv(&mut buf) {
                Ok(r) => r,
                Err(e) if is_timeout(&e) => break,
                Err(e) => {
                    log::warn!("receiving a datagram: {e}");
                    break;
                }
            };
            if !ctx.admits(ip, "a datagram") || !ctx.within_rate(ip, &from) {
                continue;
            }
            bytes += n;
            let from = if from.is_empty() { local } else { &from };
            if n > ctx.max_size {
                oversize(ctx, from, n, &mut warned);
                continue;
            }
            if ctx.emitter.is_paused() {
                paused_drops += 1;
                continue;
            }
            batch.add(&buf[..n], from);
            if batch.out.len() >= BATCH_BYTES {
                break;
            }
        }
        let _ = sock.set_nonblocking(false);
        ctx.metrics
            .buffered
            .set(ctx.emitter.queued_bytes() as f64, &[]);
        ctx.metrics.bytes.add(bytes as f64, &[]);
        let mut dropped = paused_drops;
        if !batch.is_empty() {
            let n = batch.messages;
            match ctx.emitter.emit_timeout(batch.take(), DATAGRAM_WAIT) {
                Ok(()) => {}
                Err(EmitError::Full) => dropped += n,
                Err(EmitError::Stopped) => return,
            }
        }
        if dropped > 0 {
            ctx.metrics.dropped.add(dropped as f64, &[]);
            dropped_since_warning += dropped;
            // One line per burst, not per datagram.
            log::warn!(
                "dropped {dropped_since_warning} datagram(s): the input is paused or its queue is full \
                 (datagrams cannot be held back; use tcp or relp where that matters)"
            );
            dropped_since_warning = 0;
        }
    }
}
