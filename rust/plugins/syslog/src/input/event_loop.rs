//! The threads that serve an instance's stream connections (TCP, TLS,
//! RELP, Unix stream): a few event loops, each polling (epoll through mio)
//! the listening socket and its share of the connections, instead of a
//! thread per connection. Thousands of connections cost a few threads and
//! their buffers, and an idle one costs nothing but its socket.
//!
//! Every loop polls a copy of the listening socket; whichever accepts a
//! connection serves it until it closes. A loop wakes for its sockets, for
//! the host ([`Emitter::on_change`]: records taken, a pause or resume, the
//! stop) and at least every [`POLL`] to close connections past their
//! deadlines (`idle_timeout`, the TLS handshake's, `write_timeout`). It
//! never waits on one peer: a stop or a reload ends it within a poll.

use std::io;
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, UnixListener};
use mio::{Events, Interest, Poll, Token, Waker};

use super::conn::{Conn, Io, Wait};
use super::listen::Server;
use super::serve::{POLL, READ_SIZE};

const LISTENER: Token = Token(0);
const WAKER: Token = Token(1);
/// Connection `i` has token `FIRST + i`.
const FIRST: usize = 2;

/// How long accepting pauses after the process ran out of descriptors.
const FD_BACKOFF: Duration = Duration::from_millis(100);

/// The listening socket, one copy per loop.
pub enum Accept {
    Tcp(TcpListener),
    Unix(UnixListener, String),
}

impl Accept {
    fn source(&mut self) -> &mut dyn mio::event::Source {
        match self {
            Accept::Tcp(l) => l,
            Accept::Unix(l, _) => l,
        }
    }

    /// One connection, where it comes from, and its address.
    fn accept(&self, server: &Server) -> io::Result<Option<(Io, String, Option<IpAddr>)>> {
        match self {
            Accept::Tcp(l) => {
                let (s, addr) = l.accept()?;
                let source = addr.to_string();
                // Closed (dropped) before anything of it is read.
                if !server.ctx.admits(Some(addr.ip()), "a connection") {
                    return Ok(None);
                }
                let _ = s.set_nodelay(true);
                Ok(Some((Io::Tcp(s), source, Some(addr.ip()))))
            }
            Accept::Unix(l, path) => {
                let (s, _) = l.accept()?;
                Ok(Some((Io::Unix(s), path.clone(), None)))
            }
        }
    }
}

/// One event loop.
pub struct EventLoop {
    poll: Poll,
    listener: Accept,
    server: Arc<Server>,
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    /// Connections waiting for the host, driven again when it changes.
    waiting_host: Vec<usize>,
    /// Connections with more to do after the others' turn.
    turns: Vec<usize>,
    /// Connections held back by their rate, and until when.
    held: Vec<(usize, Instant)>,
    buf: Vec<u8>,
    accept_paused_until: Option<Instant>,
}

impl EventLoop {
    /// A loop over `listener`, woken by the host's changes.
    pub fn new(server: Arc<Server>, mut listener: Accept) -> io::Result<EventLoop> {
        let poll = Poll::new()?;
        poll.registry()
            .register(listener.source(), LISTENER, Interest::READABLE)?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        server.ctx.emitter.on_change(move || {
            let _ = waker.wake();
        });
        Ok(EventLoop {
            poll,
            listener,
            server,
            conns: Vec::new(),
            free: Vec::new(),
            waiting_host: Vec::new(),
            turns: Vec::new(),
            held: Vec::new(),
            buf: vec![0; READ_SIZE],
            accept_paused_until: None,
        })
    }

    /// Serves until the instance stops; then closes every connection.
    pub fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        let mut last_sweep = Instant::now();
        while !self.server.ctx.emitter.is_stopped() {
            let timeout = self.timeout();
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    log::error!("polling the input's sockets: {e}");
                    std::thread::sleep(POLL);
                }
                continue;
            }
            let mut host_changed = false;
            for ev in events.iter() {
                match ev.token() {
                    LISTENER => self.accept_all(),
                    WAKER => host_changed = true,
                    Token(t) => {
                        if let Some(Some(c)) = self.conns.get_mut(t - FIRST) {
                            c.ready();
                            self.drive(t - FIRST);
                        }
                    }
                }
            }
            if host_changed {
                for i in std::mem::take(&mut self.waiting_host) {
                    self.unlist(i);
                    self.drive(i);
                }
            }
            for i in std::mem::take(&mut self.turns) {
                self.unlist(i);
                self.drive(i);
            }
            let now = Instant::now();
            if !self.held.is_empty() {
                let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.held)
                    .into_iter()
                    .partition(|(_, t)| *t <= now);
                self.held = later;
                for (i, _) in due {
                    self.unlist(i);
                    self.drive(i);
                }
            }
            if self.accept_paused_until.is_some_and(|t| t <= now) {
                self.accept_paused_until = None;
                self.accept_all();
            }
            if now.duration_since(last_sweep) >= POLL {
                last_sweep = now;
                self.sweep(now);
                let ctx = &self.server.ctx;
                ctx.metrics
                    .buffered
                    .set(ctx.emitter.queued_bytes() as f64, &[]);
            }
        }
        for i in 0..self.conns.len() {
            self.close(i);
        }
    }

    /// Until the next thing to do without an event.
    fn timeout(&self) -> Duration {
        if !self.turns.is_empty() {
            return Duration::ZERO;
        }
        let now = Instant::now();
        let mut next = POLL;
        for t in self
            .held
            .iter()
            .map(|(_, t)| *t)
            .chain(self.accept_paused_until)
        {
            next = next.min(t.saturating_duration_since(now));
        }
        next
    }

    fn accept_all(&mut self) {
        if self.accept_paused_until.is_some() {
            return;
        }
        loop {
            let accepted = match self.listener.accept(&self.server) {
                Ok(Some(a)) => a,
                Ok(None) => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // Out of descriptors (EMFILE, ENFILE) or memory: the
                    // connection stays in the backlog; try again shortly
                    // (no event comes for it: the edge has passed).
                    log::warn!("accepting a connection: {e}; trying again in {FD_BACKOFF:?}");
                    self.accept_paused_until = Some(Instant::now() + FD_BACKOFF);
                    return;
                }
            };
            self.admit(accepted);
        }
    }

    fn admit(&mut self, (io, source, ip): (Io, String, Option<IpAddr>)) {
        let server = self.server.clone();
        let open = &server.threads.open;
        if server
            .max_connections
            .is_some_and(|max| open.load(Ordering::SeqCst) >= max)
        {
            server.ctx.metrics.refused.inc(&[]);
            log::warn!(
                "connection from {source} refused: max_connections ({}) are open",
                server.max_connections.unwrap_or_default()
            );
            return;
        }
        let i = self.free.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        let mut io = io;
        let registered = match &mut io {
            Io::Tcp(s) => self.poll.registry().register(
                s,
                Token(FIRST + i),
                Interest::READABLE | Interest::WRITABLE,
            ),
            Io::Unix(s) => self.poll.registry().register(
                s,
                Token(FIRST + i),
                Interest::READABLE | Interest::WRITABLE,
            ),
            _ => Ok(()),
        };
        if let Err(e) = registered {
            log::warn!("connection from {source}: cannot poll it: {e}");
            self.free.push(i);
            return;
        }
        let io = match io {
            Io::Tcp(s) => match Io::tcp(s, server.tls.as_ref(), &source) {
                Some(io) => io,
                None => {
                    self.free.push(i);
                    return;
                }
            },
            other => other,
        };
        let relp = server.transport == super::listen::Transport::Relp;
        log::debug!("connection from {source}");
        self.conns[i] = Some(Conn::new(io, source, ip, relp, server.ctx.max_size));
        server
            .threads
            .count_open(true, &server.ctx.metrics.connections);
        self.drive(i);
    }

    fn drive(&mut self, i: usize) {
        let Some(Some(c)) = self.conns.get_mut(i) else {
            return;
        };
        let wait = c.drive(&self.server.ctx, &mut self.buf);
        // Once on each list: events that come while it waits (data
        // arriving during a pause, say) must not pile entries up.
        let list = match wait {
            Wait::Host => 1,
            Wait::Turn => 2,
            Wait::Until(_) => 3,
            Wait::Socket | Wait::Close => 0,
        };
        if list == 0 {
            // Waiting for its peer again (an event drove it while it was
            // still on a list): idle_timeout applies from now on, even if
            // that list is not drained for a while.
            c.listed = 0;
        } else {
            if c.listed == list {
                return;
            }
            c.listed = list;
        }
        match wait {
            Wait::Socket => {}
            Wait::Host => self.waiting_host.push(i),
            Wait::Turn => self.turns.push(i),
            Wait::Until(t) => self.held.push((i, t)),
            Wait::Close => self.close(i),
        }
    }

    /// Taken off the list it was on, to be driven.
    fn unlist(&mut self, i: usize) {
        if let Some(Some(c)) = self.conns.get_mut(i) {
            c.listed = 0;
        }
    }

    /// Closes the connections past a deadline.
    fn sweep(&mut self, now: Instant) {
        for i in 0..self.conns.len() {
            if let Some(c) = &self.conns[i] {
                if c.expired(&self.server.ctx, now) {
                    self.close(i);
                }
            }
        }
    }

    fn close(&mut self, i: usize) {
        let Some(mut c) = self.conns.get_mut(i).and_then(Option::take) else {
            return;
        };
        if let Some(s) = c.io.source() {
            let _ = self.poll.registry().deregister(s);
        }
        log::debug!("connection from {} closed", c.source);
        drop(c);
        self.free.push(i);
        let server = &self.server;
        server
            .threads
            .count_open(false, &server.ctx.metrics.connections);
    }
}
