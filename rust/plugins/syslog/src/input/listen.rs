//! The listening sockets, opened at init so that a port in use or a bad
//! path stops start-up with a clear error, and the threads that serve
//! them (a datagram socket's own, or `event_loop`s for stream listeners).

use std::fs;
use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs, UdpSocket};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use flb_rs_sdk::metrics::Gauge;
use flb_rs_sdk::Spawner;
use openssl::ssl::{SslAcceptor, SslMethod, SslVerifyMode};
use socket2::{Domain, Protocol, SockRef, Socket, Type};

use super::event_loop::{Accept, EventLoop};
use super::serve::{serve_datagrams, Context, POLL};
use crate::transport::{configure_context, TlsSettings};

/// Where and how to listen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
    Tls,
    Relp,
    UnixDgram,
    UnixStream,
}

impl Transport {
    pub fn parse(s: &str) -> Result<Transport, String> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "udp" => Transport::Udp,
            "tcp" => Transport::Tcp,
            "tls" => Transport::Tls,
            "relp" => Transport::Relp,
            "unix_dgram" | "unix_udp" => Transport::UnixDgram,
            "unix_stream" | "unix_tcp" => Transport::UnixStream,
            other => {
                return Err(format!(
                    "mode '{other}': expected udp, tcp, tls, relp, unix_dgram or unix_stream"
                ))
            }
        })
    }

    pub fn name(self, tls: bool) -> &'static str {
        match (self, tls) {
            (Transport::Udp, _) => "udp",
            (Transport::Tcp, _) => "tcp",
            (Transport::Tls, _) => "tls",
            (Transport::Relp, false) => "relp",
            (Transport::Relp, true) => "relp+tls",
            (Transport::UnixDgram, _) => "unix_dgram",
            (Transport::UnixStream, _) => "unix_stream",
        }
    }
}

/// A TLS server context, built at init so that a missing certificate is a
/// configuration error.
pub fn tls_acceptor(settings: &TlsSettings, verify_client: bool) -> Result<SslAcceptor, String> {
    if settings.crt_file.is_none() || settings.key_file.is_none() {
        return Err(
            "TLS needs tls.crt_file and tls.key_file (the server's certificate and key)".into(),
        );
    }
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())
        .map_err(|e| format!("TLS: {e}"))?;
    configure_context(&mut b, settings, verify_client)?;
    if verify_client {
        b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
    } else {
        b.set_verify(SslVerifyMode::NONE);
    }
    Ok(b.build())
}

/// An open listening socket.
pub enum Listener {
    Udp(UdpSocket),
    Tcp(TcpListener),
    UnixDgram(UnixDatagram, String),
    UnixStream(UnixListener, String),
}

impl Listener {
    /// Binds `listen:port` (IPv4 or IPv6), or the Unix socket `path`
    /// (replacing a stale socket file there, never another kind of file).
    pub fn open(
        transport: Transport,
        listen: &str,
        port: u16,
        path: Option<&str>,
        unix_perm: Option<u32>,
        receive_buffer: Option<usize>,
    ) -> Result<Listener, String> {
        match transport {
            Transport::UnixDgram | Transport::UnixStream => {
                let path = path.ok_or("the unix modes need path (the socket file)")?;
                remove_stale_socket(path)?;
                let err = |e: io::Error| format!("cannot listen on {path}: {e}");
                let l = if transport == Transport::UnixDgram {
                    let s = UnixDatagram::bind(path).map_err(err)?;
                    set_rcvbuf(SockRef::from(&s), receive_buffer)?;
                    s.set_read_timeout(Some(POLL)).map_err(err)?;
                    Listener::UnixDgram(s, path.to_string())
                } else {
                    let s = UnixListener::bind(path).map_err(err)?;
                    // Accept waits at most POLL, so the thread sees the stop.
                    SockRef::from(&s)
                        .set_read_timeout(Some(POLL))
                        .map_err(err)?;
                    Listener::UnixStream(s, path.to_string())
                };
                if let Some(mode) = unix_perm {
                    fs::set_permissions(path, fs::Permissions::from_mode(mode))
                        .map_err(|e| format!("unix_perm on {path}: {e}"))?;
                }
                Ok(l)
            }
            _ => {
                let addr = resolve(listen, port)?;
                let err = |e: io::Error| format!("cannot listen on {addr}: {e}");
                let datagram = transport == Transport::Udp;
                let (ty, proto) = if datagram {
                    (Type::DGRAM, Protocol::UDP)
                } else {
                    (Type::STREAM, Protocol::TCP)
                };
                let s = Socket::new(Domain::for_address(addr), ty, Some(proto)).map_err(err)?;
                s.set_reuse_address(true).map_err(err)?;
                set_rcvbuf(SockRef::from(&s), receive_buffer)?;
                s.bind(&addr.into()).map_err(err)?;
                if datagram {
                    s.set_read_timeout(Some(POLL)).map_err(err)?;
                    Ok(Listener::Udp(s.into()))
                } else {
                    s.listen(1024).map_err(err)?;
                    // Accept waits at most POLL, so the thread sees the stop.
                    s.set_read_timeout(Some(POLL)).map_err(err)?;
                    Ok(Listener::Tcp(s.into()))
                }
            }
        }
    }

    /// Where it listens, for logs (the port chosen when 0 was asked).
    pub fn describe(&self) -> String {
        match self {
            Listener::Udp(s) => s.local_addr().map(|a| a.to_string()).unwrap_or_default(),
            Listener::Tcp(s) => s.local_addr().map(|a| a.to_string()).unwrap_or_default(),
            Listener::UnixDgram(_, p) | Listener::UnixStream(_, p) => p.clone(),
        }
    }

    /// The socket file to remove at exit.
    pub fn path(&self) -> Option<&str> {
        match self {
            Listener::UnixDgram(_, p) | Listener::UnixStream(_, p) => Some(p),
            _ => None,
        }
    }
}

fn resolve(listen: &str, port: u16) -> Result<SocketAddr, String> {
    let host = listen.trim().trim_start_matches('[').trim_end_matches(']');
    (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("listen '{listen}': {e}"))?
        .next()
        .ok_or_else(|| format!("listen '{listen}': no address"))
}

fn set_rcvbuf(s: SockRef<'_>, size: Option<usize>) -> Result<(), String> {
    match size {
        Some(n) => s
            .set_recv_buffer_size(n)
            .map_err(|e| format!("receive_buffer_size {n}: {e}")),
        None => Ok(()),
    }
}

/// Removes a socket file that nothing listens on any more (left by a
/// process that died), so that binding can take its place. A socket that
/// something still serves is never replaced: `path /dev/log` next to a
/// running journald or rsyslog must not steal its socket. Liveness is a
/// connect attempt: refused means no socket is bound there (stale);
/// accepted, or refused for the wrong socket type (a datagram socket such
/// as journald's), means one is.
fn remove_stale_socket(path: &str) -> Result<(), String> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => {}
        Ok(_) => {
            return Err(format!(
                "{path} exists and is not a socket; not replacing it"
            ))
        }
        Err(_) => return Ok(()),
    }
    match UnixStream::connect(path) {
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            fs::remove_file(path).map_err(|e| format!("cannot replace the socket {path}: {e}"))
        }
        // Gone in the meantime: nothing to replace.
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Ok(_) => Err(format!(
            "{path}: another process listens on this socket; not replacing it"
        )),
        Err(e) if e.raw_os_error() == Some(libc::EPROTOTYPE) => Err(format!(
            "{path}: another process serves this (datagram) socket; not replacing it"
        )),
        Err(e) => Err(format!(
            "{path}: cannot tell whether another process serves this socket ({e}); not replacing it"
        )),
    }
}

/// Threads of one instance, and the connections they serve.
#[derive(Default, Clone)]
pub struct Threads {
    handles: Arc<Mutex<Vec<JoinHandle<()>>>>,
    /// Connections open, over all the event loops.
    pub open: Arc<AtomicUsize>,
    /// Held while a count of `open` is shown in the gauge (`count_open`).
    gauge_order: Arc<Mutex<()>>,
}

impl Threads {
    /// Counts a connection opened or closed and shows the count in
    /// `gauge`, both under one lock: with several event loops, two counts
    /// set at once could otherwise leave the older one in the gauge.
    pub fn count_open(&self, opened: bool, gauge: &Gauge) {
        let _order = self.gauge_order.lock().unwrap_or_else(|e| e.into_inner());
        let n = if opened {
            self.open.fetch_add(1, Ordering::SeqCst) + 1
        } else {
            self.open.fetch_sub(1, Ordering::SeqCst).saturating_sub(1)
        };
        gauge.set(n as f64, &[]);
    }

    fn add(&self, h: JoinHandle<()>) {
        let mut hs = self.handles.lock().unwrap_or_else(|e| e.into_inner());
        // Forget the ones already done, so the list stays short.
        hs.retain(|h| !h.is_finished());
        hs.push(h);
    }

    /// Joins every thread; they end by themselves once the emitter is
    /// closed (each polls it at least every [`POLL`]).
    pub fn join(&self) {
        loop {
            let next = self.handles.lock().unwrap_or_else(|e| e.into_inner()).pop();
            match next {
                Some(h) => {
                    let _ = h.join();
                }
                None => return,
            }
        }
    }
}

/// Everything a listener's threads need.
pub struct Server {
    pub ctx: Arc<Context>,
    pub transport: Transport,
    pub tls: Option<SslAcceptor>,
    /// Connections served at once (`None`: as many as descriptors allow).
    pub max_connections: Option<usize>,
    /// Event loops serving stream connections.
    pub loops: usize,
    pub spawner: Spawner,
    pub threads: Threads,
}

impl Server {
    /// Starts the threads that serve `listener`: one for a datagram
    /// socket, `loops` event loops for a stream listener.
    pub fn start(self: Arc<Self>, listener: Listener) -> io::Result<()> {
        let accepts = match listener {
            Listener::Udp(s) => {
                let me = self.clone();
                let h = self
                    .spawner
                    .spawn("listen", move || serve_datagrams(&me.ctx, &s, ""))?;
                self.threads.add(h);
                return Ok(());
            }
            Listener::UnixDgram(s, path) => {
                let me = self.clone();
                let h = self
                    .spawner
                    .spawn("listen", move || serve_datagrams(&me.ctx, &s, &path))?;
                self.threads.add(h);
                return Ok(());
            }
            Listener::Tcp(l) => {
                l.set_nonblocking(true)?;
                (0..self.loops)
                    .map(|_| Ok(Accept::Tcp(mio::net::TcpListener::from_std(l.try_clone()?))))
                    .collect::<io::Result<Vec<_>>>()?
            }
            Listener::UnixStream(l, path) => {
                l.set_nonblocking(true)?;
                (0..self.loops)
                    .map(|_| {
                        Ok(Accept::Unix(
                            mio::net::UnixListener::from_std(l.try_clone()?),
                            path.clone(),
                        ))
                    })
                    .collect::<io::Result<Vec<_>>>()?
            }
        };
        for accept in accepts {
            let event_loop = EventLoop::new(self.clone(), accept)?;
            let h = self.spawner.spawn("conns", move || event_loop.run())?;
            self.threads.add(h);
        }
        Ok(())
    }
}
