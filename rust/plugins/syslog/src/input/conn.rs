//! One stream connection (TCP, TLS or Unix stream; plain syslog or RELP)
//! as a state machine that never blocks: it reads what its socket holds,
//! hands records over with [`Emitter::offer`], and tells the event loop
//! what it waits for ([`Wait`]). `event_loop` drives many per thread.
//!
//! Backpressure is the same as a blocking reader's: a connection is not
//! read while the host has the input paused, while a batch of its records
//! waits for room in the queue, while RELP acknowledgements wait for the
//! host to take their records or for the peer to read them, or while the
//! sender is over its rate. Unread bytes stay in the kernel, so TCP's
//! flow control holds the sender back.
//!
//! Memory per connection: a partial message (at most `max_message_size`,
//! in the deframer or the RELP buffer), one batch the queue had no room
//! for (at most `BATCH_BYTES` plus one record), and unsent RELP responses
//! (a few bytes per message of the last read). The read buffer is the
//! event loop's, shared by its connections.

use std::io::{self, Read, Write};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use flb_rs_sdk::prelude::*;
use flb_rs_sdk::{Delivery, OfferError};
use mio::net::{TcpStream, UnixStream};
use openssl::ssl::{HandshakeError, MidHandshakeSslStream, SslAcceptor, SslStream};

use super::deframe::{Deframer, Frame};
use super::serve::{oversize, Batch, Context, BATCH_BYTES};
use crate::relp;

/// The whole TLS handshake must be done within this, however slowly the
/// client trickles it.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads per drive before other connections get their turn.
const READS_PER_TURN: usize = 16;

/// What a connection waits for after a drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Its socket: readable or writable again.
    Socket,
    /// The host: room in the queue, records taken (RELP), or a resume.
    Host,
    /// The end of its rate limit window.
    Until(Instant),
    /// Nothing: it has more to do, after the others had their turn.
    Turn,
    /// It is done: close it.
    Close,
}

/// The socket, through TLS or not.
pub enum Io {
    Tcp(TcpStream),
    Unix(UnixStream),
    Handshake(MidHandshakeSslStream<TcpStream>),
    Tls(SslStream<TcpStream>),
    /// Between two states, or failed.
    Gone,
}

impl Io {
    /// A new TCP connection, with the TLS handshake started when
    /// `acceptor` is set.
    pub fn tcp(stream: TcpStream, acceptor: Option<&SslAcceptor>, source: &str) -> Option<Io> {
        let Some(acceptor) = acceptor else {
            return Some(Io::Tcp(stream));
        };
        match acceptor.accept(stream) {
            Ok(tls) => Some(Io::Tls(tls)),
            Err(HandshakeError::WouldBlock(mid)) => Some(Io::Handshake(mid)),
            Err(e) => {
                log::warn!("TLS handshake with {source} failed: {e}");
                None
            }
        }
    }

    /// The registered socket, to deregister it.
    pub fn source(&mut self) -> Option<&mut dyn mio::event::Source> {
        match self {
            Io::Tcp(s) => Some(s),
            Io::Unix(s) => Some(s),
            Io::Handshake(m) => Some(m.get_mut()),
            Io::Tls(t) => Some(t.get_mut()),
            Io::Gone => None,
        }
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Io::Tcp(s) => s.read(buf),
            Io::Unix(s) => s.read(buf),
            Io::Tls(t) => t.read(buf),
            Io::Handshake(_) | Io::Gone => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match self {
            Io::Tcp(s) => s.write(data),
            Io::Unix(s) => s.write(data),
            Io::Tls(t) => t.write(data),
            Io::Handshake(_) | Io::Gone => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

/// What the connection speaks.
enum Proto {
    /// Syslog over a byte stream (RFC 6587 framing).
    Stream(Deframer),
    Relp(Relp),
}

/// A RELP session's state.
#[derive(Default)]
struct Relp {
    /// Received bytes not yet parsed into frames.
    buf: Vec<u8>,
    /// Responses other than acknowledgements (to `open`, unknown
    /// commands), sent together with the acknowledgements that follow.
    replies: Vec<u8>,
    /// Transaction numbers to acknowledge once their records are taken.
    acks: Vec<u32>,
    /// The host's taking of the records those acknowledgements are for.
    delivery: Option<Delivery>,
    /// Responses not yet written, and since when they wait.
    out: Vec<u8>,
    out_since: Option<Instant>,
    /// The peer sent `close`: done once its response is written.
    closing: bool,
}

/// One connection.
pub struct Conn {
    pub io: Io,
    pub source: String,
    ip: Option<IpAddr>,
    proto: Proto,
    /// No read has returned WouldBlock since the socket was last reported
    /// readable (edge-triggered polling reports it only once).
    readable: bool,
    eof: bool,
    /// Framing broke: close once what came before is handed over.
    broken: Option<String>,
    /// Records the queue had no room for, offered again first.
    pending: Option<EventEncoder>,
    /// Over its rate: not read before this.
    hold_until: Option<Instant>,
    /// When it last sent something, against `idle_timeout`.
    last_data: Instant,
    /// When it was accepted, against the handshake's deadline.
    opened: Instant,
    /// Whether an oversized message was logged as a warning yet.
    warned: bool,
    /// The event loop's list it was last put on (0: none), so that it is
    /// not put on it twice.
    pub listed: u8,
}

impl Conn {
    pub fn new(io: Io, source: String, ip: Option<IpAddr>, relp: bool, max_size: usize) -> Conn {
        let now = Instant::now();
        Conn {
            io,
            source,
            ip,
            proto: if relp {
                Proto::Relp(Relp::default())
            } else {
                Proto::Stream(Deframer::new(max_size))
            },
            // Data may have come before the socket was registered.
            readable: true,
            eof: false,
            broken: None,
            pending: None,
            hold_until: None,
            last_data: now,
            opened: now,
            warned: false,
            listed: 0,
        }
    }

    /// The socket was reported readable or writable.
    pub fn ready(&mut self) {
        self.readable = true;
    }

    /// Whether a deadline has passed: the handshake's, `idle_timeout`, or
    /// the peer reading no RELP response for `write_timeout`. Counts and
    /// logs it.
    pub fn expired(&self, ctx: &Context, now: Instant) -> bool {
        if matches!(self.io, Io::Handshake(_)) {
            if now.duration_since(self.opened) >= HANDSHAKE_TIMEOUT {
                ctx.metrics.handshake_timeouts.inc(&[]);
                log::warn!(
                    "TLS handshake with {} not done within {HANDSHAKE_TIMEOUT:?}; closing",
                    self.source
                );
                return true;
            }
            return false;
        }
        if let Proto::Relp(Relp {
            out_since: Some(since),
            ..
        }) = &self.proto
        {
            if now.duration_since(*since) >= ctx.write_timeout {
                ctx.metrics.write_timeouts.inc(&[]);
                log::warn!(
                    "RELP to {}: the peer read nothing for {:?} (write_timeout); closing the session",
                    self.source,
                    ctx.write_timeout
                );
                return true;
            }
        }
        match ctx.idle_timeout {
            // Not while we hold it back (paused, queue full, rate): a
            // sender that waits for us is not idle.
            Some(limit) if self.listed == 0 && now.duration_since(self.last_data) >= limit => {
                ctx.metrics.idle_closed.inc(&[]);
                log::debug!(
                    "from {}: nothing received for {limit:?} (idle_timeout); closing",
                    self.source
                );
                true
            }
            _ => false,
        }
    }

    /// Does what can be done without blocking; says what it waits for.
    pub fn drive(&mut self, ctx: &Context, buf: &mut [u8]) -> Wait {
        if let Io::Handshake(_) = self.io {
            let Io::Handshake(mid) = std::mem::replace(&mut self.io, Io::Gone) else {
                unreachable!()
            };
            match mid.handshake() {
                Ok(tls) => self.io = Io::Tls(tls),
                Err(HandshakeError::WouldBlock(mid)) => {
                    self.io = Io::Handshake(mid);
                    return Wait::Socket;
                }
                Err(e) => {
                    log::warn!("TLS handshake with {} failed: {e}", self.source);
                    return Wait::Close;
                }
            }
        }
        let wait = match self.proto {
            Proto::Stream(_) => self.drive_stream(ctx, buf),
            Proto::Relp(_) => self.drive_relp(ctx, buf),
        };
        match wait {
            Wait::Socket => self.trim(),
            // Held back by us, not idle: idle_timeout counts from when it
            // may send again.
            Wait::Host | Wait::Until(_) | Wait::Turn => self.last_data = Instant::now(),
            Wait::Close => {}
        }
        wait
    }

    /// Waiting for its peer, maybe for long: keeps no more memory than
    /// the partial message it holds.
    fn trim(&mut self) {
        match &mut self.proto {
            Proto::Stream(d) => d.trim(),
            Proto::Relp(r) => {
                if r.buf.is_empty() {
                    r.buf = Vec::new();
                } else if r.buf.capacity() > 2 * r.buf.len() + 4096 {
                    r.buf.shrink_to_fit();
                }
                if r.out.is_empty() {
                    r.out = Vec::new();
                }
            }
        }
    }

    /// Offers the pending records (with a delivery for RELP).
    fn offer_pending(&mut self, ctx: &Context) -> Result<Option<Delivery>, Wait> {
        let Some(records) = self.pending.take() else {
            return Ok(None);
        };
        let confirm = matches!(self.proto, Proto::Relp(_));
        match ctx.emitter.offer(records, confirm) {
            Ok(d) => Ok(d),
            Err(OfferError::Full(records)) => {
                self.pending = Some(records);
                Err(Wait::Host)
            }
            Err(OfferError::Stopped) => Err(Wait::Close),
        }
    }

    /// Once everything received is handled: one more read into `buf`,
    /// unless the stream ended, the sender is held back, the host paused
    /// the input, nothing is left to read, or this turn's reads are spent.
    /// The bytes read (0: none, or the end of the stream, now in `eof`).
    fn read_more(
        &mut self,
        ctx: &Context,
        buf: &mut [u8],
        reads: &mut usize,
    ) -> Result<usize, Wait> {
        if self.eof {
            return Err(Wait::Close);
        }
        if let Some(until) = self.hold_until {
            if Instant::now() < until {
                return Err(Wait::Until(until));
            }
            self.hold_until = None;
        }
        if ctx.emitter.is_paused() {
            return Err(Wait::Host);
        }
        if !self.readable {
            return Err(Wait::Socket);
        }
        if *reads == READS_PER_TURN {
            return Err(Wait::Turn);
        }
        *reads += 1;
        match self.io.read(buf) {
            Ok(0) => {
                self.eof = true;
                Ok(0)
            }
            Ok(n) => {
                self.last_data = Instant::now();
                ctx.metrics.bytes.add(n as f64, &[]);
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.readable = false;
                Err(Wait::Socket)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
            Err(e) => {
                // As an end: what was received before is still taken.
                log::debug!("from {}: connection failed: {e}", self.source);
                self.eof = true;
                Ok(0)
            }
        }
    }

    fn drive_stream(&mut self, ctx: &Context, buf: &mut [u8]) -> Wait {
        let mut reads = 0;
        loop {
            if let Err(w) = self.offer_pending(ctx) {
                return w;
            }
            if let Some(until) = self.hold_until.filter(|t| Instant::now() < *t) {
                return Wait::Until(until);
            }
            // What is buffered first: whole frames, and at the end the last
            // message without its terminator.
            let Proto::Stream(deframer) = &mut self.proto else {
                unreachable!()
            };
            let mut batch = Batch::new(ctx);
            loop {
                // Over its rate: the next message stays buffered, and
                // the connection unread, until the window ends.
                if let Some(until) = ctx.rate_hold(self.ip, &self.source) {
                    self.hold_until = Some(until);
                    break;
                }
                let frame = if self.eof {
                    deframer.finish()
                } else {
                    deframer.next_frame()
                };
                match frame {
                    None => break,
                    Some(Frame::Message(m)) => {
                        ctx.rate_charge(self.ip);
                        batch.add(m, &self.source);
                        if batch.out.len() >= BATCH_BYTES {
                            break;
                        }
                    }
                    Some(Frame::Oversize { len }) => {
                        oversize(ctx, &self.source, len, &mut self.warned)
                    }
                    Some(Frame::Error(e)) => {
                        self.broken = Some(e);
                        break;
                    }
                }
            }
            if !batch.is_empty() {
                self.pending = Some(batch.take());
                continue;
            }
            if let Some(e) = self.broken.take() {
                ctx.metrics.framing_errors.inc(&[]);
                log::warn!("from {}: {e}; closing the connection", self.source);
                return Wait::Close;
            }
            match self.read_more(ctx, buf, &mut reads) {
                Ok(0) => {}
                Ok(n) => {
                    let Proto::Stream(deframer) = &mut self.proto else {
                        unreachable!()
                    };
                    deframer.push(&buf[..n]);
                }
                Err(w) => return w,
            }
        }
    }

    /// Writes what the session owes the peer; false when the socket failed.
    fn flush_relp(&mut self) -> bool {
        let Proto::Relp(r) = &mut self.proto else {
            return true;
        };
        let mut off = 0;
        while off < r.out.len() {
            match self.io.write(&r.out[off..]) {
                Ok(0) => return false,
                Ok(n) => {
                    off += n;
                    r.out_since = Some(Instant::now());
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    log::warn!("RELP to {}: {e}; closing the session", self.source);
                    return false;
                }
            }
        }
        r.out.drain(..off);
        if r.out.is_empty() {
            r.out_since = None;
        } else if off == 0 && r.out_since.is_none() {
            r.out_since = Some(Instant::now());
        }
        true
    }

    fn drive_relp(&mut self, ctx: &Context, buf: &mut [u8]) -> Wait {
        let mut reads = 0;
        loop {
            if !self.flush_relp() {
                return Wait::Close;
            }
            let Proto::Relp(r) = &mut self.proto else {
                unreachable!()
            };
            if !r.out.is_empty() {
                // Not read while the peer does not read: write_timeout.
                return Wait::Socket;
            }
            if r.closing {
                return Wait::Close;
            }
            match self.offer_pending(ctx) {
                Ok(Some(d)) => r_of(&mut self.proto).delivery = Some(d),
                Ok(None) => {}
                Err(w) => return w,
            }
            let r = r_of(&mut self.proto);
            if let Some(d) = &r.delivery {
                match d.poll() {
                    None => return Wait::Host,
                    Some(Err(_)) => return Wait::Close,
                    Some(Ok(())) => {
                        r.delivery = None;
                        r.respond();
                        continue;
                    }
                }
            }
            // Whole frames already received.
            match self.parse_relp(ctx) {
                Ok(true) => continue,
                Ok(false) => {}
                Err(w) => return w,
            }
            match self.read_more(ctx, buf, &mut reads) {
                Ok(n) => r_of(&mut self.proto).buf.extend_from_slice(&buf[..n]),
                Err(w) => return w,
            }
        }
    }

    /// Parses the whole frames buffered: `syslog` commands into records
    /// (pending, acknowledged once taken), the rest answered. True when it
    /// produced something to hand over or answer.
    fn parse_relp(&mut self, ctx: &Context) -> Result<bool, Wait> {
        if self.hold_until.is_some_and(|t| Instant::now() < t) {
            return Ok(false);
        }
        let r = r_of(&mut self.proto);
        let mut batch = Batch::new(ctx);
        let mut consumed = 0;
        let mut any = false;
        loop {
            let frame = match relp::parse_frame_limited(&r.buf[consumed..], ctx.max_size) {
                Ok(Some((f, len))) => (f, len),
                Ok(None) => break,
                Err(relp::RelpError::TooLong(len)) => {
                    // The sender would resend it for ever: refuse it.
                    oversize(ctx, &self.source, len, &mut self.warned);
                    ctx.metrics.framing_errors.inc(&[]);
                    log::warn!(
                        "RELP from {}: closing the session over an oversized message",
                        self.source
                    );
                    return Err(Wait::Close);
                }
                Err(e) => {
                    ctx.metrics.framing_errors.inc(&[]);
                    log::warn!("RELP from {}: {e}; closing the session", self.source);
                    return Err(Wait::Close);
                }
            };
            let (frame, len) = frame;
            match frame.command.as_str() {
                "open" => relp::write_frame(
                    &mut r.replies,
                    frame.txnr,
                    "rsp",
                    format!(
                        "200 OK\nrelp_version=0\nrelp_software=flb-rust,{}\ncommands=syslog",
                        env!("CARGO_PKG_VERSION")
                    )
                    .as_bytes(),
                ),
                "syslog" => {
                    if let Some(until) = ctx.rate_hold(self.ip, &self.source) {
                        // Left unparsed: taken (and acknowledged) after
                        // the wait.
                        self.hold_until = Some(until);
                        break;
                    }
                    ctx.rate_charge(self.ip);
                    batch.add(&frame.data, &self.source);
                    r.acks.push(frame.txnr);
                }
                "close" => {
                    r.closing = true;
                    r.acks.push(frame.txnr);
                    consumed += len;
                    any = true;
                    break;
                }
                other => {
                    log::debug!("RELP from {}: unknown command '{other}'", self.source);
                    relp::write_frame(&mut r.replies, frame.txnr, "rsp", b"500 unknown command");
                }
            }
            consumed += len;
            any = true;
            if batch.out.len() >= BATCH_BYTES {
                break;
            }
        }
        r.buf.drain(..consumed);
        if !batch.is_empty() {
            // Acknowledged once the host has taken them.
            self.pending = Some(batch.take());
        } else if any {
            r.respond();
        }
        Ok(any)
    }
}

fn r_of(p: &mut Proto) -> &mut Relp {
    match p {
        Proto::Relp(r) => r,
        Proto::Stream(_) => unreachable!("a RELP state on a stream connection"),
    }
}

impl Relp {
    /// Queues the replies and the acknowledgements due (their records are
    /// taken, or there were none).
    fn respond(&mut self) {
        self.out.append(&mut self.replies);
        for txnr in self.acks.drain(..) {
            relp::write_frame(&mut self.out, txnr, "rsp", b"200 OK");
        }
    }
}
