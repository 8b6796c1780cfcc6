//! What a listener thread does with what it receives: datagrams, byte
//! streams and RELP sessions, each turned into records and handed to the
//! host through the bounded queue.
//!
//! Backpressure: a stream connection is not read while the host has the
//! input paused or the queue is full (`emit` blocks), so TCP's own flow
//! control slows the sender and memory stays bounded. A RELP message is
//! acknowledged only once the host has taken its record. Datagrams cannot
//! be held back: those that arrive while the input is paused, or that find
//! the queue full for a second, are counted as dropped and logged.

use std::io::{self, Read, Write};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use flb_rs_sdk::prelude::*;
use flb_rs_sdk::EmitError;

use super::allow::AllowList;
use super::deframe::{Deframer, Frame};
use super::parse::{parse, Format, Mode, ParseOptions};
use super::ratelimit::RateLimit;
use super::record::{Origin, RecordShape};
use crate::relp;

/// How often blocked reads look up to see whether the instance stops.
pub const POLL: Duration = Duration::from_millis(250);
/// How long a datagram batch may wait for room in a full queue.
const DATAGRAM_WAIT: Duration = Duration::from_secs(1);
/// Largest read from a stream at once.
const READ_SIZE: usize = 64 * 1024;

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
    pub refused: Counter,
    pub idle_closed: Counter,
    pub write_timeouts: Counter,
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
        if self.denied_warned.swap(true, Ordering::Relaxed) {
            log::debug!("{what} from {ip} denied: not in allow_from");
        } else {
            log::warn!(
                "{what} from {ip} denied: not in allow_from (further denials are only counted, in denied_total)"
            );
        }
        false
    }

    /// Before one more message from `ip` on a stream or RELP connection:
    /// while the sender is over its rate, calls `before_wait` once (to hand
    /// over what was gathered) and waits, not reading it, so that TCP's
    /// flow control holds it back. False when the instance stops, or
    /// `before_wait` fails, meanwhile.
    fn pace(&self, ip: Option<IpAddr>, source: &str, before_wait: impl FnOnce() -> bool) -> bool {
        let Some(rl) = &self.ratelimit else {
            return true;
        };
        let mut before_wait = Some(before_wait);
        loop {
            let now = Instant::now();
            let Err(until) = rl.take(ip, now) else {
                return true;
            };
            if let Some(f) = before_wait.take() {
                self.over_rate(source, "held back until its next interval");
                if !f() {
                    return false;
                }
            }
            if self.emitter.is_stopped() {
                return false;
            }
            std::thread::sleep(until.saturating_duration_since(now).min(POLL));
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
        if self.rate_warned.swap(true, Ordering::Relaxed) {
            log::debug!("from {source}: over ratelimit.burst; {what}");
        } else {
            log::warn!(
                "from {source}: over ratelimit.burst; {what} (further ones are only counted, in rate_limited_total)"
            );
        }
    }
}

/// When a stream connection last sent something, against `idle_timeout`.
struct Idle<'c> {
    ctx: &'c Context,
    since: Instant,
}

impl<'c> Idle<'c> {
    fn new(ctx: &'c Context) -> Self {
        Idle {
            ctx,
            since: Instant::now(),
        }
    }

    fn data(&mut self) {
        self.since = Instant::now();
    }

    /// After a read that timed out: whether to close the connection.
    fn expired(&self, source: &str) -> bool {
        match self.ctx.idle_timeout {
            Some(limit) if self.since.elapsed() >= limit => {
                self.ctx.metrics.idle_closed.inc(&[]);
                log::debug!(
                    "from {source}: nothing received for {limit:?} (idle_timeout); closing"
                );
                true
            }
            _ => false,
        }
    }
}

/// Writes all of `data`, waiting at most `ctx.write_timeout` at a time for
/// the peer to read, and giving up when the instance stops: a peer that
/// never reads must hold neither this thread nor the shutdown. The socket
/// must have a write timeout of about [`POLL`].
fn write_bounded<S: Write>(ctx: &Context, s: &mut S, data: &[u8]) -> io::Result<()> {
    let mut off = 0;
    let mut since = Instant::now();
    while off < data.len() {
        match s.write(&data[off..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                off += n;
                since = Instant::now();
            }
            Err(e) if is_timeout(&e) => {
                if ctx.emitter.is_stopped() {
                    return Err(io::Error::other("the input stops"));
                }
                if since.elapsed() >= ctx.write_timeout {
                    ctx.metrics.write_timeouts.inc(&[]);
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "the peer read nothing for {:?} (write_timeout)",
                            ctx.write_timeout
                        ),
                    ));
                }
            }
            Err(e) => return Err(e),
        }
    }
    s.flush()
}

/// Records being gathered from one read, with their counts.
struct Batch<'c> {
    ctx: &'c Context,
    out: EventEncoder,
    messages: u64,
    parse_errors: u64,
}

impl<'c> Batch<'c> {
    fn new(ctx: &'c Context) -> Self {
        Batch {
            ctx,
            out: EventEncoder::new(),
            messages: 0,
            parse_errors: 0,
        }
    }

    fn add(&mut self, msg: &[u8], source: &str) {
        let received = EventTime::now();
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

    fn is_empty(&self) -> bool {
        self.messages == 0
    }

    /// Publishes the counts; returns the records to hand over.
    fn take(self) -> EventEncoder {
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
fn oversize(ctx: &Context, source: &str, len: usize, warned: &mut bool) {
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

/// Serves one byte-stream connection (TCP, TLS, Unix stream) until the
/// peer closes it, it breaks the framing, or the instance stops. The
/// stream must have a read timeout of about [`POLL`].
pub fn serve_stream<S: Read>(ctx: &Context, mut stream: S, source: &str, ip: Option<IpAddr>) {
    let mut deframer = Deframer::new(ctx.max_size);
    let mut buf = vec![0u8; READ_SIZE];
    let mut warned = false;
    let mut idle = Idle::new(ctx);
    loop {
        // Not read while paused: the sender waits on TCP's flow control.
        // (A read already waiting when the pause comes still takes one
        // buffer: bounded, and handed over like any other.)
        if ctx.emitter.wait_while_paused().is_err() {
            return;
        }
        let (n, eof) = match stream.read(&mut buf) {
            Ok(0) => (0, true),
            Ok(n) => (n, false),
            Err(e) if is_timeout(&e) => {
                if ctx.emitter.is_stopped() || idle.expired(source) {
                    return;
                }
                continue;
            }
            Err(e) => {
                log::debug!("from {source}: connection failed: {e}");
                (0, true)
            }
        };
        idle.data();
        ctx.metrics.bytes.add(n as f64, &[]);
        deframer.push(&buf[..n]);
        let mut batch = Batch::new(ctx);
        let mut broken = None;
        loop {
            // At the end, `finish` gives what is buffered and then the
            // last message, even without its line feed.
            let frame = if eof {
                deframer.finish()
            } else {
                deframer.next_frame()
            };
            match frame {
                None => break,
                Some(Frame::Message(m)) => {
                    let paced = ctx.pace(ip, source, || {
                        let gathered = std::mem::replace(&mut batch, Batch::new(ctx));
                        gathered.is_empty() || ctx.emitter.emit(gathered.take()).is_ok()
                    });
                    if !paced {
                        return;
                    }
                    batch.add(m, source);
                    if batch.out.len() >= BATCH_BYTES {
                        let full = std::mem::replace(&mut batch, Batch::new(ctx));
                        if ctx.emitter.emit(full.take()).is_err() {
                            return;
                        }
                    }
                }
                Some(Frame::Oversize { len }) => oversize(ctx, source, len, &mut warned),
                Some(Frame::Error(e)) => {
                    broken = Some(e);
                    break;
                }
            }
        }
        if !batch.is_empty() && ctx.emitter.emit(batch.take()).is_err() {
            return;
        }
        if let Some(e) = broken {
            ctx.metrics.framing_errors.inc(&[]);
            log::warn!("from {source}: {e}; closing the connection");
            return;
        }
        if eof {
            return;
        }
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

/// Serves one RELP session: each `syslog` command becomes a record, and
/// is acknowledged (`rsp 200 OK`) only once the host has taken it. While
/// the input is paused nothing is read or acknowledged, so the sender's
/// window fills and it waits.
pub fn serve_relp<S: Read + Write>(ctx: &Context, mut stream: S, source: &str, ip: Option<IpAddr>) {
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; READ_SIZE];
    let mut warned = false;
    let mut idle = Idle::new(ctx);
    loop {
        if ctx.emitter.wait_while_paused().is_err() {
            return;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => {
                idle.data();
                ctx.metrics.bytes.add(n as f64, &[]);
                buf.extend_from_slice(&chunk[..n]);
            }
            Err(e) if is_timeout(&e) => {
                if ctx.emitter.is_stopped() || idle.expired(source) {
                    return;
                }
                continue;
            }
            Err(e) => {
                log::debug!("RELP from {source}: {e}");
                return;
            }
        }
        let mut batch = Batch::new(ctx);
        let mut acks: Vec<u32> = Vec::new();
        let mut replies = Vec::new();
        let mut closing = false;
        let mut consumed = 0;
        loop {
            let frame = match relp::parse_frame_limited(&buf[consumed..], ctx.max_size) {
                Ok(Some((f, len))) => {
                    consumed += len;
                    f
                }
                Ok(None) => break,
                Err(relp::RelpError::TooLong(len)) => {
                    // The sender would resend it forever: refuse it.
                    oversize(ctx, source, len, &mut warned);
                    ctx.metrics.framing_errors.inc(&[]);
                    log::warn!("RELP from {source}: closing the session over an oversized message");
                    return;
                }
                Err(e) => {
                    ctx.metrics.framing_errors.inc(&[]);
                    log::warn!("RELP from {source}: {e}; closing the session");
                    return;
                }
            };
            match frame.command.as_str() {
                "open" => relp::write_frame(
                    &mut replies,
                    frame.txnr,
                    "rsp",
                    format!(
                        "200 OK\nrelp_version=0\nrelp_software=flb-rust,{}\ncommands=syslog",
                        env!("CARGO_PKG_VERSION")
                    )
                    .as_bytes(),
                ),
                "syslog" => {
                    // Held back with what this read gathered: neither is
                    // acknowledged before the wait ends.
                    if !ctx.pace(ip, source, || true) {
                        return;
                    }
                    batch.add(&frame.data, source);
                    acks.push(frame.txnr);
                }
                "close" => {
                    closing = true;
                    acks.push(frame.txnr);
                    break;
                }
                other => {
                    log::debug!("RELP from {source}: unknown command '{other}'");
                    relp::write_frame(&mut replies, frame.txnr, "rsp", b"500 unknown command");
                }
            }
        }
        buf.drain(..consumed);
        if !batch.is_empty() && !deliver(ctx, batch.take()) {
            // Not taken: no acknowledgement, the sender sends them again.
            return;
        }
        for txnr in acks {
            relp::write_frame(&mut replies, txnr, "rsp", b"200 OK");
        }
        if !replies.is_empty() {
            if let Err(e) = write_bounded(ctx, &mut stream, &replies) {
                log::warn!("RELP to {source}: {e}; closing the session");
                return;
            }
        }
        if closing {
            return;
        }
    }
}

/// Hands records over and waits until the host took them.
fn deliver(ctx: &Context, records: EventEncoder) -> bool {
    let Ok(delivery) = ctx.emitter.emit_confirmed(records) else {
        return false;
    };
    loop {
        match delivery.wait(POLL) {
            Ok(()) => return true,
            Err(EmitError::Stopped) => return false,
            Err(EmitError::Full) => {}
        }
    }
}
