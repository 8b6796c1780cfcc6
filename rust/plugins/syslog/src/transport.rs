//! Connections to the receiver: UDP, TCP, Unix datagram and stream sockets,
//! set up with socket2 (timeouts, keepalive, buffer sizes), reconnected
//! with exponential backoff and jitter.
//!
//! A stream that fails mid-write is dropped, never reused: the next
//! connection starts on a frame boundary, so a receiver never sees half a
//! message glued to the next one.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::time::{Duration, Instant, SystemTime};

use std::mem::MaybeUninit;

use socket2::{Domain, Protocol, SockAddr, SockRef, Socket, TcpKeepalive, Type};

use openssl::ssl::{
    ErrorCode, SslConnector, SslFiletype, SslMethod, SslStream, SslVerifyMode, SslVersion,
};

use crate::relp::{RelpError, Session};

/// Where and how to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Udp,
    Tcp,
    UnixDgram,
    UnixStream,
    Relp,
}

impl Mode {
    pub fn parse(s: &str) -> Result<Mode, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "udp" => Ok(Mode::Udp),
            "tcp" => Ok(Mode::Tcp),
            "unix_dgram" => Ok(Mode::UnixDgram),
            "unix_stream" => Ok(Mode::UnixStream),
            "relp" => Ok(Mode::Relp),
            "dtls" => Err("mode 'dtls' is not supported; use tls or relp".to_string()),
            other => Err(format!(
                "'{other}': expected udp, tcp, tls, relp, unix_dgram or unix_stream"
            )),
        }
    }

    /// Datagram transports send one message per packet, unframed.
    pub fn is_datagram(self) -> bool {
        matches!(self, Mode::Udp | Mode::UnixDgram)
    }
}

/// TLS settings (RFC 5425 for syslog, RELP over TLS).
#[derive(Debug, Clone, Default)]
pub struct TlsSettings {
    /// Check the receiver's certificate chain.
    pub verify: bool,
    /// Check that the certificate names the host (or `vhost`).
    pub verify_hostname: bool,
    /// CA certificates; the system's store when neither is given.
    pub ca_file: Option<String>,
    pub ca_path: Option<String>,
    /// Client certificate and key, for mutual TLS.
    pub crt_file: Option<String>,
    pub key_file: Option<String>,
    pub key_passwd: Option<String>,
    /// Name for SNI and the hostname check (default: the host).
    pub vhost: Option<String>,
    /// Oldest protocol version accepted (TLSv1.2, TLSv1.3).
    pub min_version: Option<String>,
}

/// A TLS client context, built at init so that a bad CA or key file is a
/// configuration error, not a failure at every connect, and built again
/// when one of its files changes (see `reload_if_changed`).
#[derive(Clone)]
pub struct Tls {
    connector: SslConnector,
    settings: TlsSettings,
    /// The files' modification times when `connector` was built.
    files: Vec<Option<SystemTime>>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("settings", &self.settings)
            .finish()
    }
}

impl Tls {
    pub fn new(settings: TlsSettings) -> Result<Tls, String> {
        let mut b =
            SslConnector::builder(SslMethod::tls_client()).map_err(|e| format!("TLS: {e}"))?;
        configure_context(&mut b, &settings, true)?;
        b.set_verify(if settings.verify {
            SslVerifyMode::PEER
        } else {
            SslVerifyMode::NONE
        });
        let files = files_changed_at(&settings);
        Ok(Tls {
            connector: b.build(),
            settings,
            files,
        })
    }

    /// Builds the context again when `tls.ca_file`, `tls.ca_path`,
    /// `tls.crt_file` or `tls.key_file` changed on disk, as Fluent Bit's
    /// own TLS layer does before each new session: rotated certificates
    /// are used without a restart. Files that do not load (a half-written
    /// key, a certificate that does not match it) are logged once and the
    /// previous context is kept until they change again.
    pub fn reload_if_changed(&mut self) {
        let now = files_changed_at(&self.settings);
        if now == self.files {
            return;
        }
        match Tls::new(self.settings.clone()) {
            Ok(t) => {
                log::info!("TLS files changed; new connections use them");
                *self = t;
            }
            Err(e) => {
                log::error!(
                    "TLS files changed but cannot be used ({e}); new connections keep the previous ones"
                );
                self.files = now;
            }
        }
    }

    fn handshake(&self, host: &str, tcp: TcpStream) -> io::Result<SslStream<TcpStream>> {
        let name = self.settings.vhost.as_deref().unwrap_or(host);
        let mut cfg = self.connector.configure().map_err(io::Error::other)?;
        cfg.set_verify_hostname(self.settings.verify && self.settings.verify_hostname);
        if !self.settings.verify {
            cfg.set_verify(SslVerifyMode::NONE);
        }
        cfg.connect(name, tcp)
            .map_err(|e| io::Error::other(format!("TLS handshake with {name}: {e}")))
    }
}

/// When each TLS file (or the CA directory) last changed; None when it is
/// not set or cannot be read.
fn files_changed_at(settings: &TlsSettings) -> Vec<Option<SystemTime>> {
    [
        &settings.ca_file,
        &settings.ca_path,
        &settings.crt_file,
        &settings.key_file,
    ]
    .iter()
    .map(|f| {
        f.as_deref()
            .and_then(|f| std::fs::metadata(f).and_then(|m| m.modified()).ok())
    })
    .collect()
}

/// What a TLS client and a TLS server set up alike: trusted CAs (the
/// system's store when none is given and `system_store` is true), the own
/// certificate and key, the oldest protocol version. Every error names the
/// key whose file or value is wrong.
pub(crate) fn configure_context(
    b: &mut openssl::ssl::SslContextBuilder,
    settings: &TlsSettings,
    system_store: bool,
) -> Result<(), String> {
    let err = |what: &str, e: openssl::error::ErrorStack| format!("{what}: {e}");
    match (&settings.ca_file, &settings.ca_path) {
        (None, None) if system_store => b
            .set_default_verify_paths()
            .map_err(|e| err("system CA store", e))?,
        (file, path) => {
            if let Some(f) = file {
                b.set_ca_file(f)
                    .map_err(|e| err(&format!("tls.ca_file {f}"), e))?;
            }
            if let Some(p) = path {
                b.cert_store_mut()
                    .add_lookup(openssl::x509::store::X509Lookup::hash_dir())
                    .and_then(|l| l.add_dir(p, SslFiletype::PEM))
                    .map_err(|e| err(&format!("tls.ca_path {p}"), e))?;
            }
        }
    }
    if let Some(c) = &settings.crt_file {
        b.set_certificate_chain_file(c)
            .map_err(|e| err(&format!("tls.crt_file {c}"), e))?;
    }
    if let Some(k) = &settings.key_file {
        match &settings.key_passwd {
            None => b.set_private_key_file(k, SslFiletype::PEM),
            Some(pass) => {
                let pem = std::fs::read(k).map_err(|e| format!("tls.key_file {k}: {e}"))?;
                openssl::pkey::PKey::private_key_from_pem_passphrase(&pem, pass.as_bytes())
                    .and_then(|key| b.set_private_key(&key))
            }
        }
        .map_err(|e| err(&format!("tls.key_file {k}"), e))?;
        b.check_private_key()
            .map_err(|e| err("tls.key_file does not match tls.crt_file", e))?;
    }
    if let Some(v) = &settings.min_version {
        let version = match v
            .trim()
            .to_ascii_lowercase()
            .replace(['v', '_'], "")
            .as_str()
        {
            "tls1.2" | "1.2" => SslVersion::TLS1_2,
            "tls1.3" | "1.3" => SslVersion::TLS1_3,
            "tls1.1" | "1.1" => SslVersion::TLS1_1,
            "tls1.0" | "tls1" | "1.0" => SslVersion::TLS1,
            _ => {
                return Err(format!(
                    "tls.min_version '{v}': expected TLSv1.2 or TLSv1.3"
                ))
            }
        };
        b.set_min_proto_version(Some(version))
            .map_err(|e| err("tls.min_version", e))?;
    }
    Ok(())
}

/// A TCP connection, plain or inside TLS.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<SslStream<TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(t) => t,
            Stream::Tls(s) => s.get_ref(),
        }
    }
}

impl io::Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(t) => t.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(t) => t.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(t) => t.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// Socket settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub mode: Mode,
    pub host: String,
    pub port: u16,
    /// Unix socket path (unix modes).
    pub path: String,
    pub connect_timeout: Duration,
    pub write_timeout: Duration,
    /// TCP keepalive idle time; zero turns keepalive off.
    pub keepalive: Duration,
    /// SO_SNDBUF; zero keeps the system's.
    pub send_buffer: usize,
    /// TLS around TCP or RELP.
    pub tls: Option<Tls>,
    /// RELP: time to wait for an acknowledgement, and messages in flight.
    pub ack_timeout: Duration,
    pub relp_window: usize,
    /// Backoff between failed connection attempts: first and largest.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
}

enum Conn {
    Tcp(Stream),
    Udp(UdpSocket),
    UnixStream(UnixStream),
    UnixDgram(UnixDatagram),
    Relp(Session<Stream>),
}

/// Why a send did not happen.
#[derive(Debug)]
pub enum SendError {
    /// Not connected, and the backoff says not to try yet.
    Backoff(Duration),
    /// Connecting failed.
    Connect(io::Error),
    /// Writing failed; the connection was dropped.
    Write(io::Error),
    /// A RELP exchange failed; the session was dropped.
    Relp(RelpError),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Backoff(d) => {
                write!(f, "not connected; next attempt in {} ms", d.as_millis())
            }
            SendError::Connect(e) => write!(f, "connect failed: {e}"),
            SendError::Write(e) => write!(f, "write failed: {e}"),
            SendError::Relp(e) => write!(f, "RELP: {e}"),
        }
    }
}

/// A flush that finds the next connection attempt due within this long
/// waits for it instead of failing at once.
const BACKOFF_WAITED_OUT: Duration = Duration::from_secs(1);

/// Exponential backoff with jitter between failed connection attempts, so
/// a dead receiver costs a flush at most one connect timeout, and many
/// instances do not reconnect in lockstep.
struct Backoff {
    min: Duration,
    max: Duration,
    current: Duration,
    next_try: Option<Instant>,
    seed: u64,
}

impl Backoff {
    fn new(min: Duration, max: Duration) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            | 1;
        Backoff {
            min,
            max,
            current: min,
            next_try: None,
            seed,
        }
    }

    fn wait_left(&self) -> Option<Duration> {
        self.next_try
            .map(|t| t.saturating_duration_since(Instant::now()))
            .filter(|d| !d.is_zero())
    }

    fn failed(&mut self) {
        // xorshift: jitter only, no need for a real random source.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let ms = self.current.as_millis() as u64;
        // Between half and all of the current step.
        let jittered = ms / 2 + self.seed % (ms / 2 + 1);
        self.next_try = Some(Instant::now() + Duration::from_millis(jittered));
        self.current = (self.current * 2).min(self.max);
    }

    fn succeeded(&mut self) {
        self.current = self.min;
        self.next_try = None;
    }
}

/// One connection to the receiver, made on demand.
pub struct Sender {
    settings: Settings,
    conn: Option<Conn>,
    backoff: Backoff,
}

impl Sender {
    pub fn new(settings: Settings) -> Sender {
        let backoff = Backoff::new(settings.backoff_min, settings.backoff_max);
        Sender {
            settings,
            conn: None,
            backoff,
        }
    }

    pub fn is_connected(&self) -> bool {
        self.conn.is_some()
    }

    /// Drops the connection (after an error, or to start afresh).
    pub fn disconnect(&mut self) {
        self.conn = None;
    }

    fn connect(&mut self) -> Result<(), SendError> {
        if self.conn.is_some() {
            return Ok(());
        }
        if let Some(left) = self.backoff.wait_left() {
            if left > BACKOFF_WAITED_OUT {
                return Err(SendError::Backoff(left));
            }
            // A receiver that restarts refuses connections for a moment;
            // failing now would hand the chunk to Fluent Bit's scheduler,
            // which retries it seconds later (and every flush in the
            // window with it). Waiting out a short backoff is cheaper.
            std::thread::sleep(left);
        }
        match self.open() {
            Ok(c) => {
                self.backoff.succeeded();
                self.conn = Some(c);
                Ok(())
            }
            Err(e) => {
                self.backoff.failed();
                Err(SendError::Connect(e))
            }
        }
    }

    fn open(&mut self) -> io::Result<Conn> {
        if let Some(tls) = self.settings.tls.as_mut() {
            tls.reload_if_changed();
        }
        let s = &self.settings;
        match s.mode {
            Mode::Tcp => Ok(Conn::Tcp(self.stream()?)),
            Mode::Relp => {
                let t = self.stream()?;
                t.tcp().set_read_timeout(Some(s.ack_timeout))?;
                let software = concat!("flb-rs,", env!("CARGO_PKG_VERSION"));
                Session::open(t, software)
                    .map(Conn::Relp)
                    .map_err(|e| match e {
                        RelpError::Io(e) => e,
                        other => io::Error::other(other.to_string()),
                    })
            }
            Mode::Udp => {
                let addr = (s.host.as_str(), s.port)
                    .to_socket_addrs()?
                    .next()
                    .ok_or_else(|| {
                        io::Error::new(
                            io::ErrorKind::NotFound,
                            format!("{} has no address", s.host),
                        )
                    })?;
                let sock =
                    Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
                if s.send_buffer > 0 {
                    sock.set_send_buffer_size(s.send_buffer)?;
                }
                sock.connect(&SockAddr::from(addr))?;
                let udp: UdpSocket = sock.into();
                udp.set_write_timeout(Some(s.write_timeout))?;
                Ok(Conn::Udp(udp))
            }
            Mode::UnixStream => {
                let sock = Socket::new(Domain::UNIX, Type::STREAM, None)?;
                sock.connect_timeout(&SockAddr::unix(&s.path)?, s.connect_timeout)?;
                let us: UnixStream = sock.into();
                us.set_write_timeout(Some(s.write_timeout))?;
                Ok(Conn::UnixStream(us))
            }
            Mode::UnixDgram => {
                let ud = UnixDatagram::unbound()?;
                ud.connect(&s.path)?;
                ud.set_write_timeout(Some(s.write_timeout))?;
                Ok(Conn::UnixDgram(ud))
            }
        }
    }

    /// A TCP connection to the receiver, with the TLS handshake done when
    /// TLS is on (bounded by the connect timeout).
    fn stream(&self) -> io::Result<Stream> {
        let t = self.tcp_any()?;
        let Some(tls) = &self.settings.tls else {
            return Ok(Stream::Plain(t));
        };
        t.set_read_timeout(Some(self.settings.connect_timeout))?;
        t.set_write_timeout(Some(self.settings.connect_timeout))?;
        let s = tls.handshake(&self.settings.host, t)?;
        s.get_ref().set_read_timeout(None)?;
        s.get_ref()
            .set_write_timeout(Some(self.settings.write_timeout))?;
        Ok(Stream::Tls(Box::new(s)))
    }

    /// Connects to the first address of the host that answers. Resolved on
    /// every connect: a receiver that moved is found.
    fn tcp_any(&self) -> io::Result<TcpStream> {
        let s = &self.settings;
        let mut last = None;
        for addr in (s.host.as_str(), s.port).to_socket_addrs()? {
            match self.tcp(addr) {
                Ok(t) => return Ok(t),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} has no address", s.host),
            )
        }))
    }

    fn tcp(&self, addr: SocketAddr) -> io::Result<TcpStream> {
        let s = &self.settings;
        let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        sock.set_tcp_nodelay(true)?;
        if !s.keepalive.is_zero() {
            sock.set_tcp_keepalive(&TcpKeepalive::new().with_time(s.keepalive))?;
        }
        if s.send_buffer > 0 {
            sock.set_send_buffer_size(s.send_buffer)?;
        }
        sock.connect_timeout(&SockAddr::from(addr), s.connect_timeout)?;
        let t: TcpStream = sock.into();
        t.set_write_timeout(Some(s.write_timeout))?;
        Ok(t)
    }

    /// Drops a stream connection the receiver has closed or reset. A write
    /// on such a socket can still succeed once (the kernel only learns of
    /// the close from the peer's answer), and what it carried would be lost
    /// without an error: look before writing.
    fn drop_if_closed(&mut self) {
        let closed = match &mut self.conn {
            Some(Conn::Tcp(Stream::Plain(t))) => peer_closed(SockRef::from(&*t)),
            Some(Conn::Tcp(Stream::Tls(s))) => tls_peer_closed(s),
            Some(Conn::UnixStream(u)) => peer_closed(SockRef::from(&*u)),
            _ => false,
        };
        if closed {
            log::debug!("the receiver closed the connection; reconnecting");
            self.conn = None;
        }
    }

    /// Writes framed messages to a stream transport, all or nothing as far
    /// as this connection goes: on an error the connection is dropped.
    pub fn send_stream(&mut self, bytes: &[u8]) -> Result<(), SendError> {
        self.drop_if_closed();
        self.connect()?;
        let r = match self.conn.as_mut() {
            Some(Conn::Tcp(t)) => t.write_all(bytes).and_then(|()| t.flush()),
            Some(Conn::UnixStream(u)) => u.write_all(bytes).and_then(|()| u.flush()),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a stream transport",
            )),
        };
        r.map_err(|e| {
            self.conn = None;
            SendError::Write(e)
        })
    }

    /// Sends messages over RELP and waits for every acknowledgement. On
    /// failure the session is dropped and the error says how many messages,
    /// from the first, were acknowledged.
    pub fn send_relp<M: AsRef<[u8]>>(&mut self, msgs: &[M]) -> Result<(), (usize, SendError)> {
        self.connect().map_err(|e| (0, e))?;
        let window = self.settings.relp_window;
        let r = match self.conn.as_mut() {
            Some(Conn::Relp(s)) => s.send_all(msgs, window),
            _ => Err((
                0,
                RelpError::Io(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "not a RELP transport",
                )),
            )),
        };
        r.map_err(|(acked, e)| {
            self.conn = None;
            (acked, SendError::Relp(e))
        })
    }

    /// Sends one message as one datagram.
    pub fn send_datagram(&mut self, msg: &[u8]) -> Result<(), SendError> {
        self.connect()?;
        let r = match self.conn.as_mut() {
            Some(Conn::Udp(u)) => u.send(msg).map(drop),
            Some(Conn::UnixDgram(u)) => u.send(msg).map(drop),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a datagram transport",
            )),
        };
        r.map_err(|e| {
            self.conn = None;
            SendError::Write(e)
        })
    }
}

impl Drop for Sender {
    /// Ends a RELP session with `close`, so the server knows every message
    /// was meant, and a TCP or TLS stream with a graceful close.
    fn drop(&mut self) {
        match self.conn.take() {
            Some(Conn::Relp(session)) => session.close(),
            Some(Conn::Tcp(stream)) => {
                close_gracefully(stream, self.settings.write_timeout.min(CLOSE_WAIT_MAX))
            }
            _ => {}
        }
    }
}

/// The longest an instance's exit waits for the receiver to close its side.
const CLOSE_WAIT_MAX: Duration = Duration::from_secs(2);

/// Closes a stream so that the receiver reads all of it: close_notify
/// (TLS), then our FIN, then what the receiver still sends (session
/// tickets, its own close_notify) is read and discarded until it closes
/// its side or `wait` passes. Closing a socket with unread bytes in its
/// receive queue makes Linux send a reset instead, and a reset discards
/// what was still in our send queue.
fn close_gracefully(stream: Stream, wait: Duration) {
    let tcp = match stream {
        Stream::Plain(t) => t,
        Stream::Tls(mut s) => {
            // Sends close_notify; the peer's answer is read below.
            let _ = s.shutdown();
            // SslStream has no into_inner: the socket is cloned, and the
            // SSL object is freed after it, without another write.
            match s.get_ref().try_clone() {
                Ok(t) => t,
                Err(_) => return,
            }
        }
    };
    let _ = tcp.shutdown(std::net::Shutdown::Write);
    let deadline = Instant::now() + wait;
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || tcp.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match (&tcp).read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

/// Whether the receiver closed or reset a TLS connection. A peek on the
/// socket cannot tell: TLS 1.3 session tickets, alerts and a close_notify
/// are bytes it takes for "alive". The TLS stream is read without
/// blocking instead: OpenSSL takes in tickets itself, a close_notify or
/// an end of stream means closed, and application data (which a syslog
/// receiver never sends) is discarded, a bounded amount.
fn tls_peer_closed(s: &mut SslStream<TcpStream>) -> bool {
    if s.get_ref().set_nonblocking(true).is_err() {
        return true;
    }
    let mut buf = [0u8; 1024];
    let mut closed = false;
    for _ in 0..64 {
        match s.ssl_read(&mut buf) {
            Ok(_) => continue,
            Err(e) if matches!(e.code(), ErrorCode::WANT_READ | ErrorCode::WANT_WRITE) => break,
            // ZERO_RETURN (close_notify), SYSCALL (end of stream, reset), SSL.
            Err(_) => {
                closed = true;
                break;
            }
        }
    }
    s.get_ref().set_nonblocking(false).is_err() || closed
}

/// Whether a non-blocking peek says the peer closed the stream: end of
/// stream or an error; data or "would block" mean it is alive.
fn peer_closed(sock: SockRef<'_>) -> bool {
    if sock.set_nonblocking(true).is_err() {
        return true;
    }
    let mut buf = [MaybeUninit::<u8>::uninit(); 1];
    let closed = match sock.peek(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != io::ErrorKind::WouldBlock,
    };
    sock.set_nonblocking(false).is_err() || closed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    fn settings(mode: Mode, port: u16) -> Settings {
        Settings {
            mode,
            host: "127.0.0.1".into(),
            port,
            path: String::new(),
            connect_timeout: Duration::from_secs(2),
            write_timeout: Duration::from_secs(2),
            keepalive: Duration::from_secs(30),
            send_buffer: 0,
            tls: None,
            ack_timeout: Duration::from_secs(5),
            relp_window: 16,
            backoff_min: Duration::from_millis(200),
            backoff_max: Duration::from_secs(5),
        }
    }

    #[test]
    fn tcp_bytes_arrive_as_written() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let mut s = Sender::new(settings(Mode::Tcp, port));
        s.send_stream(b"5 hello").unwrap();
        s.send_stream(b"3 abc").unwrap();
        drop(s);
        let (mut c, _) = l.accept().unwrap();
        let mut got = Vec::new();
        c.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"5 hello3 abc");
    }

    #[test]
    fn refused_connections_back_off() {
        // A port with nothing listening (bound, then closed).
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut s = Sender::new(settings(Mode::Tcp, port));
        assert!(matches!(s.send_stream(b"x"), Err(SendError::Connect(_))));
        // A short backoff (the first ones) is waited out, then tried again.
        let t = Instant::now();
        assert!(matches!(s.send_stream(b"x"), Err(SendError::Connect(_))));
        assert!(t.elapsed() >= s.settings.backoff_min / 2 - Duration::from_millis(5));
        // Each failure doubles the step; once the wait is longer than
        // BACKOFF_WAITED_OUT no new attempt is made: the call returns at once.
        let mut waited_out = 0;
        loop {
            let t = Instant::now();
            match s.send_stream(b"x") {
                Err(SendError::Connect(_)) => waited_out += 1,
                Err(SendError::Backoff(left)) => {
                    assert!(left > BACKOFF_WAITED_OUT, "{left:?}");
                    assert!(t.elapsed() < Duration::from_millis(50));
                    break;
                }
                other => panic!("{other:?}"),
            }
            assert!(waited_out < 6, "the backoff never grew past the wait");
        }
    }

    #[test]
    fn udp_sends_one_datagram_per_message() {
        let r = UdpSocket::bind("127.0.0.1:0").unwrap();
        r.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let port = r.local_addr().unwrap().port();
        let mut s = Sender::new(settings(Mode::Udp, port));
        s.send_datagram(b"<14>1 one").unwrap();
        s.send_datagram(b"<14>1 two").unwrap();
        let mut buf = [0u8; 64];
        let n = r.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"<14>1 one");
        let n = r.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"<14>1 two");
    }

    #[test]
    fn unix_stream_and_datagram() {
        let dir = std::env::temp_dir().join(format!("flb-rs-syslog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let dpath = dir.join("dgram.sock");
        let _ = std::fs::remove_file(&dpath);
        let d = UnixDatagram::bind(&dpath).unwrap();
        d.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut st = settings(Mode::UnixDgram, 0);
        st.path = dpath.to_str().unwrap().into();
        let mut s = Sender::new(st);
        s.send_datagram(b"<13>hi").unwrap();
        let mut buf = [0u8; 16];
        let n = d.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"<13>hi");

        let spath = dir.join("stream.sock");
        let _ = std::fs::remove_file(&spath);
        let l = std::os::unix::net::UnixListener::bind(&spath).unwrap();
        let mut st = settings(Mode::UnixStream, 0);
        st.path = spath.to_str().unwrap().into();
        let mut s = Sender::new(st);
        s.send_stream(b"2 ok").unwrap();
        drop(s);
        let (mut c, _) = l.accept().unwrap();
        let mut got = Vec::new();
        c.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"2 ok");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
