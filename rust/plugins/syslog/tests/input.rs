//! The `rs_syslog` input over real sockets on loopback, driven through the
//! same runtime Fluent Bit uses: exact records out, backpressure, limits.

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use flb_rs_sdk::json;
use flb_rs_sdk::testing::Harness;
use flb_rs_sdk::{Events, Value};
use flb_rs_syslog::SyslogInput;

mod common;
use common::free_port;

/// Starts an input with `props` (mode, port... added by the caller).
fn input(props: &[(&str, &str)]) -> Harness {
    Harness::input::<SyslogInput>(props).unwrap_or_else(|e| panic!("{}", e.0))
}

/// Collects `n` records: (body JSON, metadata JSON).
fn records(h: &Harness, n: usize) -> Vec<(String, String)> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut out = Vec::new();
    while out.len() < n && Instant::now() < deadline {
        for (_, data) in h.collect(n - out.len(), Duration::from_millis(200)) {
            for ev in Events::new(&data) {
                let ev = ev.unwrap();
                out.push((
                    json::to_string(&Value::Map(ev.body)).unwrap(),
                    json::to_string(&Value::Map(ev.metadata.unwrap())).unwrap(),
                ));
            }
        }
    }
    assert_eq!(out.len(), n, "records: {out:?}; logs: {:?}", h.host.logs());
    out
}

#[test]
fn tcp_octet_counted_and_lf_framed_on_one_connection() {
    let port = free_port().to_string();
    let h = input(&[("mode", "tcp"), ("listen", "127.0.0.1"), ("port", &port)]);
    let mut c = TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    let a = "<165>1 2003-10-11T22:14:15.003Z host app 12 ID1 [x@1 k=\"v\"] first\nline";
    c.write_all(format!("{} {a}", a.len()).as_bytes()).unwrap();
    c.write_all(b"<13>Nov 24 10:00:00 myhost user[1234]: second\n")
        .unwrap();
    let got = records(&h, 2);
    assert_eq!(
        got[0].0,
        r#"{"pri":165,"facility":20,"severity":5,"hostname":"host","appname":"app","procid":"12","msgid":"ID1","sd":{"x@1":{"k":"v"}},"message":"first\nline"}"#
    );
    assert!(
        got[0].1.starts_with(r#"{"source":"127.0.0.1:"#),
        "{}",
        got[0].1
    );
    assert!(got[0]
        .1
        .ends_with(r#"","transport":"tcp","format":"rfc5424"}"#));
    assert_eq!(
        got[1].0,
        r#"{"pri":13,"facility":1,"severity":5,"hostname":"myhost","appname":"user","procid":"1234","message":"second"}"#
    );
}

#[test]
fn udp_one_message_per_datagram() {
    let port = free_port().to_string();
    let h = input(&[("mode", "udp"), ("listen", "127.0.0.1"), ("port", &port)]);
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = format!("127.0.0.1:{port}");
    s.send_to(b"<14>1 - h a - - - one\n", &to).unwrap();
    s.send_to("<14>Nov  5 01:02:03 h a: zwei ü".as_bytes(), &to)
        .unwrap();
    let mut got = records(&h, 2);
    got.sort();
    assert_eq!(
        got[0].0,
        r#"{"pri":14,"facility":1,"severity":6,"hostname":"h","appname":"a","message":"one"}"#
    );
    assert_eq!(
        got[1].0,
        r#"{"pri":14,"facility":1,"severity":6,"hostname":"h","appname":"a","message":"zwei ü"}"#
    );
    assert_eq!(
        got[0].1,
        format!(
            r#"{{"source":"{}","transport":"udp","format":"rfc5424"}}"#,
            s.local_addr().unwrap()
        )
    );
}

#[test]
fn unix_sockets_with_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("flb-rs-in-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dgram = dir.join("dgram.sock");
    let stream = dir.join("stream.sock");
    // A stale socket file from an earlier run is replaced.
    drop(std::os::unix::net::UnixDatagram::bind(&dgram).unwrap());
    let hd = input(&[
        ("mode", "unix_dgram"),
        ("path", dgram.to_str().unwrap()),
        ("unix_perm", "0620"),
    ]);
    let hs = input(&[("mode", "unix_stream"), ("path", stream.to_str().unwrap())]);
    assert_eq!(
        std::fs::metadata(&dgram).unwrap().permissions().mode() & 0o777,
        0o620
    );
    let c = std::os::unix::net::UnixDatagram::unbound().unwrap();
    c.send_to(b"<13>1 - - dg - - - via dgram", &dgram).unwrap();
    let mut s = std::os::unix::net::UnixStream::connect(&stream).unwrap();
    s.write_all(b"<13>1 - - st - - - via stream\n").unwrap();
    let d = records(&hd, 1);
    let st = records(&hs, 1);
    assert_eq!(
        d[0].0,
        r#"{"pri":13,"facility":1,"severity":5,"appname":"dg","message":"via dgram"}"#
    );
    assert_eq!(
        d[0].1,
        format!(
            r#"{{"source":"{}","transport":"unix_dgram","format":"rfc5424"}}"#,
            dgram.display()
        )
    );
    assert_eq!(
        st[0].0,
        r#"{"pri":13,"facility":1,"severity":5,"appname":"st","message":"via stream"}"#
    );
    drop(hd);
    drop(hs);
    assert!(
        !dgram.exists() && !stream.exists(),
        "socket files removed at exit"
    );
    // Another kind of file at the path is never replaced.
    std::fs::write(&dgram, b"data").unwrap();
    let e =
        Harness::input::<SyslogInput>(&[("mode", "unix_dgram"), ("path", dgram.to_str().unwrap())])
            .err()
            .unwrap();
    assert!(e.0.contains("exists and is not a socket"), "{}", e.0);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `path /dev/log` beside a running journald: a socket that another
/// process still serves is never replaced, whichever type it is and
/// whichever mode asks; the other process keeps receiving on it.
#[test]
fn a_socket_another_process_serves_is_never_replaced() {
    use std::os::unix::net::{UnixDatagram, UnixListener};
    let dir = std::env::temp_dir().join(format!("flb-rs-in-live-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dgram = dir.join("journald.sock");
    let stream = dir.join("stream.sock");
    let journald = UnixDatagram::bind(&dgram).unwrap();
    let other = UnixListener::bind(&stream).unwrap();
    for (path, owner) in [
        (&dgram, "(datagram) socket"),
        (&stream, "listens on this socket"),
    ] {
        for mode in ["unix_dgram", "unix_stream"] {
            let e =
                Harness::input::<SyslogInput>(&[("mode", mode), ("path", path.to_str().unwrap())])
                    .err()
                    .unwrap_or_else(|| {
                        panic!("{mode} on {}: replaced a live socket", path.display())
                    });
            assert!(
                e.0.contains(owner) && e.0.contains("not replacing it"),
                "{mode} on {}: {}",
                path.display(),
                e.0
            );
        }
    }
    // Still theirs: a message to the datagram socket reaches its owner, a
    // connection to the stream socket reaches its listener.
    UnixDatagram::unbound()
        .unwrap()
        .send_to(b"<13>still journald's", &dgram)
        .unwrap();
    let mut buf = [0u8; 64];
    journald
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let n = journald.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"<13>still journald's");
    let _c = std::os::unix::net::UnixStream::connect(&stream).unwrap();
    other.accept().unwrap();
    // Once their owners are gone the files are stale, and replaced.
    drop(journald);
    drop(other);
    let h = input(&[("mode", "unix_dgram"), ("path", dgram.to_str().unwrap())]);
    UnixDatagram::unbound()
        .unwrap()
        .send_to(b"<13>1 - - app - - - now ours", &dgram)
        .unwrap();
    assert!(records(&h, 1)[0].0.contains("now ours"));
    drop(h);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Writes RELP frames and reads the server's responses.
struct RelpClient {
    s: TcpStream,
    buf: Vec<u8>,
}

impl RelpClient {
    fn open(port: &str) -> RelpClient {
        let s = TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let mut c = RelpClient { s, buf: Vec::new() };
        c.send(
            1,
            "open",
            b"relp_version=0\nrelp_software=test\ncommands=syslog",
        );
        let (txnr, cmd, data) = c.response(Duration::from_secs(5)).expect("open answered");
        assert_eq!((txnr, cmd.as_str()), (1, "rsp"));
        assert!(data.starts_with("200 OK\n"), "{data}");
        c
    }

    fn send(&mut self, txnr: u32, cmd: &str, data: &[u8]) {
        let mut out = Vec::new();
        flb_rs_syslog::relp::write_frame(&mut out, txnr, cmd, data);
        self.s.write_all(&out).unwrap();
    }

    /// The next response within `wait`, or None.
    fn response(&mut self, wait: Duration) -> Option<(u32, String, String)> {
        use std::io::Read;
        let deadline = Instant::now() + wait;
        loop {
            if let Ok(Some((f, n))) = flb_rs_syslog::relp::parse_frame(&self.buf) {
                self.buf.drain(..n);
                return Some((f.txnr, f.command, String::from_utf8(f.data).unwrap()));
            }
            if Instant::now() >= deadline {
                return None;
            }
            let mut chunk = [0u8; 4096];
            match self.s.read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(_) => {}
            }
        }
    }
}

/// A RELP sender over ratelimit.burst is held back, not refused: what it
/// sent past its burst waits, unread and unacknowledged, for the next
/// window; all of it arrives, in order, and is acknowledged.
#[test]
fn relp_over_its_rate_is_held_back_and_loses_nothing() {
    let port = free_port().to_string();
    let h = input(&[
        ("mode", "relp"),
        ("listen", "127.0.0.1"),
        ("port", &port),
        ("ratelimit.interval", "1s"),
        ("ratelimit.burst", "2"),
    ]);
    let mut c = RelpClient::open(&port);
    let start = Instant::now();
    for i in 0..5u32 {
        c.send(
            i + 2,
            "syslog",
            format!("<13>1 - h relp - - - r{i}").as_bytes(),
        );
    }
    let got = records(&h, 5);
    // Windows of 2, 2 and 1 message.
    assert!(
        start.elapsed() >= Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    for (i, (body, _)) in got.iter().enumerate() {
        assert!(
            body.ends_with(&format!(r#""message":"r{i}"}}"#)),
            "{i}: {body}"
        );
    }
    let acks: Vec<u32> = (0..5)
        .map(|_| c.response(Duration::from_secs(5)).expect("ack").0)
        .collect();
    assert_eq!(acks, [2, 3, 4, 5, 6]);
    assert_eq!(h.host.metric("rate_limited_total", &[]), Some(2.0));
}

#[test]
fn relp_acknowledges_only_what_the_host_took() {
    let port = free_port().to_string();
    let h = input(&[("mode", "relp"), ("listen", "127.0.0.1"), ("port", &port)]);
    let mut c = RelpClient::open(&port);
    c.send(2, "syslog", b"<13>1 - h relp - - - m1");
    c.send(3, "syslog", b"<13>1 - h relp - - - m2");
    // Nobody collects yet: queued, but not in the host, so no ack.
    assert_eq!(c.response(Duration::from_millis(500)), None);
    let got = records(&h, 2);
    assert_eq!(
        got[1].0,
        r#"{"pri":13,"facility":1,"severity":5,"hostname":"h","appname":"relp","message":"m2"}"#
    );
    assert!(got[0].1.contains(r#""transport":"relp""#));
    let acks: Vec<_> = (0..2)
        .map(|_| c.response(Duration::from_secs(5)).expect("ack"))
        .collect();
    assert_eq!(
        acks,
        [
            (2, "rsp".to_string(), "200 OK".to_string()),
            (3, "rsp".to_string(), "200 OK".to_string())
        ]
    );
    c.send(4, "close", b"");
    assert_eq!(
        c.response(Duration::from_secs(5)),
        Some((4, "rsp".to_string(), "200 OK".to_string()))
    );
}

#[test]
fn tls_and_mutual_tls() {
    use openssl::ssl::{SslConnector, SslFiletype, SslMethod};
    let dir = std::env::temp_dir().join(format!("flb-rs-in-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let certs = common::certs::make(&dir);
    let port = free_port().to_string();
    let h = input(&[
        ("mode", "tls"),
        ("listen", "127.0.0.1"),
        ("port", &port),
        ("tls.crt_file", certs.cert.to_str().unwrap()),
        ("tls.key_file", certs.key.to_str().unwrap()),
        ("tls.ca_file", certs.ca.to_str().unwrap()),
        ("tls.verify_client_cert", "on"),
    ]);
    let connect = |with_cert: bool| {
        let mut b = SslConnector::builder(SslMethod::tls_client()).unwrap();
        b.set_ca_file(&certs.ca).unwrap();
        if with_cert {
            b.set_certificate_chain_file(&certs.client_cert).unwrap();
            b.set_private_key_file(&certs.client_key, SslFiletype::PEM)
                .unwrap();
        }
        let tcp = TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        b.build().connect("localhost", tcp)
    };
    let mut tls = connect(true).expect("mutual TLS handshake");
    let msg = "<13>1 - h tls - - - secret";
    tls.write_all(format!("{} {msg}", msg.len()).as_bytes())
        .unwrap();
    tls.flush().unwrap();
    let got = records(&h, 1);
    assert_eq!(
        got[0].0,
        r#"{"pri":13,"facility":1,"severity":5,"hostname":"h","appname":"tls","message":"secret"}"#
    );
    assert!(got[0].1.contains(r#""transport":"tls""#));
    // Without a client certificate: refused (at the handshake, or at the
    // first read with TLS 1.3), and nothing arrives.
    if let Ok(mut t) = connect(false) {
        let _ = t.write_all(b"26 <13>1 - h tls - - - nocert");
        let mut b = [0u8; 1];
        assert!(std::io::Read::read(&mut t, &mut b)
            .map(|n| n == 0)
            .unwrap_or(true));
    }
    assert!(h.collect(1, Duration::from_millis(500)).is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn oversized_and_broken_frames_are_counted_and_the_rest_arrives() {
    let port = free_port().to_string();
    let h = input(&[
        ("mode", "tcp"),
        ("listen", "127.0.0.1"),
        ("port", &port),
        ("max_message_size", "100"),
    ]);
    let mut c = TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    let long = format!("<13>1 - - - - - - {}", "x".repeat(200));
    c.write_all(format!("{} {long}", long.len()).as_bytes())
        .unwrap();
    c.write_all(b"9 <13>1 - -").unwrap();
    c.write_all(format!("{long}\n").as_bytes()).unwrap();
    c.write_all(b"<13>1 - - - - - - after LF\n").unwrap();
    // Not a length and not a message start: the framing is broken, the
    // connection is closed after what came before it.
    c.write_all(b"12x garbage\n").unwrap();
    let got = records(&h, 2);
    assert_eq!(
        got.iter().map(|(b, _)| b.as_str()).collect::<Vec<_>>(),
        [
            r#"{"message":"<13>1 - -","parse_error":"RFC 5424: message ends after HOSTNAME (truncated header) at byte 9"}"#,
            r#"{"pri":13,"facility":1,"severity":5,"message":"after LF"}"#
        ]
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while h.host.metric("framing_errors_total", &[]).is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(h.host.metric("oversize_total", &[]), Some(2.0));
    assert_eq!(h.host.metric("framing_errors_total", &[]), Some(1.0));
    assert_eq!(h.host.metric("messages_total", &[]), Some(2.0));
    let mut b = [0u8; 1];
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(
        std::io::Read::read(&mut c, &mut b).unwrap_or(0),
        0,
        "closed"
    );
}

#[test]
fn connections_over_the_limit_are_refused() {
    let port = free_port().to_string();
    let h = input(&[
        ("mode", "tcp"),
        ("listen", "127.0.0.1"),
        ("port", &port),
        ("max_connections", "1"),
    ]);
    let mut first = TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    first.write_all(b"<13>1 - - - - - - one\n").unwrap();
    records(&h, 1);
    let mut second = TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    second
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut b = [0u8; 1];
    assert_eq!(std::io::Read::read(&mut second, &mut b).unwrap_or(0), 0);
    assert_eq!(h.host.metric("connections_refused_total", &[]), Some(1.0));
    assert_eq!(h.host.metric("connections", &[]), Some(1.0));
}

/// A TCP connection from `from` (any 127/8 address: all are loopback).
fn connect_from(from: &str, port: &str) -> TcpStream {
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    s.bind(
        &format!("{from}:0")
            .parse::<std::net::SocketAddr>()
            .unwrap()
            .into(),
    )
    .unwrap();
    s.connect(
        &format!("127.0.0.1:{port}")
            .parse::<std::net::SocketAddr>()
            .unwrap()
            .into(),
    )
    .unwrap();
    s.into()
}

/// Senders outside allow_from are closed at accept (datagrams dropped),
/// counted, and nothing of theirs becomes a record; senders inside it
/// are served on the same instance.
#[test]
fn allow_from_closes_and_counts_other_senders() {
    let port = free_port().to_string();
    let allow = [("allow_from", "10.0.0.0/8, 127.0.0.2")];
    let tcp = input(
        &[
            &allow[..],
            &[("mode", "tcp"), ("listen", "127.0.0.1"), ("port", &port)],
        ]
        .concat(),
    );
    let mut denied = connect_from("127.0.0.1", &port);
    let _ = denied.write_all(b"<13>1 - - - - - - from outside\n");
    denied
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut b = [0u8; 1];
    assert_eq!(
        std::io::Read::read(&mut denied, &mut b).unwrap_or(0),
        0,
        "closed"
    );
    let mut allowed = connect_from("127.0.0.2", &port);
    allowed
        .write_all(b"<13>1 - - - - - - from inside\n")
        .unwrap();
    let got = records(&tcp, 1);
    assert!(got[0].0.contains("from inside"), "{got:?}");
    assert_eq!(tcp.host.metric("denied_total", &[]), Some(1.0));

    let uport = free_port().to_string();
    let udp = input(
        &[
            &allow[..],
            &[("mode", "udp"), ("listen", "127.0.0.1"), ("port", &uport)],
        ]
        .concat(),
    );
    let to = format!("127.0.0.1:{uport}");
    let outside = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let inside = std::net::UdpSocket::bind("127.0.0.2:0").unwrap();
    outside
        .send_to(b"<13>1 - - - - - - dgram outside", &to)
        .unwrap();
    inside
        .send_to(b"<13>1 - - - - - - dgram inside", &to)
        .unwrap();
    let got = records(&udp, 1);
    assert!(got[0].0.contains("dgram inside"), "{got:?}");
    assert_eq!(udp.host.metric("denied_total", &[]), Some(1.0));
    assert!(
        udp.collect(10, Duration::from_millis(300)).is_empty(),
        "only one record"
    );
}

/// ratelimit.interval/burst: a TCP sender over its burst is held back to
/// the next window and loses nothing; a UDP sender's datagrams over it are
/// dropped and counted; another sender has a budget of its own.
#[test]
fn ratelimit_holds_stream_senders_back_and_drops_datagrams_over_it() {
    let limit = [("ratelimit.interval", "1s"), ("ratelimit.burst", "5")];
    let port = free_port().to_string();
    let tcp = input(
        &[
            &limit[..],
            &[("mode", "tcp"), ("listen", "127.0.0.1"), ("port", &port)],
        ]
        .concat(),
    );
    let mut c = connect_from("127.0.0.1", &port);
    let start = Instant::now();
    let lines: String = (0..12)
        .map(|i| format!("<13>1 - - - - - - m{i}\n"))
        .collect();
    c.write_all(lines.as_bytes()).unwrap();
    let got = records(&tcp, 12);
    // Three windows: 5, 5 and 2 messages, in order, none lost.
    assert!(
        start.elapsed() >= Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    for (i, (body, _)) in got.iter().enumerate() {
        assert!(
            body.ends_with(&format!(r#""message":"m{i}"}}"#)),
            "{i}: {body}"
        );
    }
    assert_eq!(tcp.host.metric("rate_limited_total", &[]), Some(2.0));
    assert_eq!(tcp.host.metric("messages_total", &[]), Some(12.0));

    let uport = free_port().to_string();
    let limit = [("ratelimit.interval", "1h"), ("ratelimit.burst", "3")];
    let udp = input(
        &[
            &limit[..],
            &[("mode", "udp"), ("listen", "127.0.0.1"), ("port", &uport)],
        ]
        .concat(),
    );
    let to = format!("127.0.0.1:{uport}");
    let one = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let other = std::net::UdpSocket::bind("127.0.0.2:0").unwrap();
    for i in 0..10 {
        one.send_to(format!("<13>1 - - - - - - d{i}").as_bytes(), &to)
            .unwrap();
    }
    other
        .send_to(b"<13>1 - - - - - - from the other", &to)
        .unwrap();
    let got = records(&udp, 4);
    let bodies: Vec<&str> = got.iter().map(|(b, _)| b.as_str()).collect();
    for want in ["d0", "d1", "d2", "from the other"] {
        assert!(
            bodies
                .iter()
                .any(|b| b.contains(&format!(r#""message":"{want}""#))),
            "{want}: {bodies:?}"
        );
    }
    assert_eq!(udp.host.metric("rate_limited_total", &[]), Some(7.0));
    assert!(
        udp.collect(10, Duration::from_millis(300)).is_empty(),
        "only four records"
    );
}

#[test]
fn configuration_errors() {
    let port = free_port();
    let busy = std::net::TcpListener::bind(format!("127.0.0.1:{port}")).unwrap();
    let p = port.to_string();
    let err = |props: &[(&str, &str)]| Harness::input::<SyslogInput>(props).err().unwrap().0;
    assert!(
        err(&[("mode", "tcp"), ("listen", "127.0.0.1"), ("port", &p)])
            .contains(&format!("cannot listen on 127.0.0.1:{port}"))
    );
    drop(busy);
    assert!(err(&[("mode", "sctp")]).starts_with("mode 'sctp'"));
    assert!(err(&[("format", "json")]).starts_with("format 'json'"));
    assert!(err(&[("mode", "tls"), ("port", &p)]).contains("tls.crt_file and tls.key_file"));
    assert!(err(&[("mode", "unix_stream")]).contains("need path"));
    assert!(err(&[("mode", "udp"), ("tls", "on")]).contains("TLS needs mode tls or relp"));
    assert!(err(&[
        ("unix_perm", "rw"),
        ("mode", "unix_dgram"),
        ("path", "/tmp/x")
    ])
    .contains("unix_perm 'rw'"));
    assert!(err(&[("time_offset", "bogus")]).starts_with("time_offset"));
    assert!(
        err(&[("allow_from", "10.0.0.0/33"), ("port", &p)]).starts_with("allow_from '10.0.0.0/33'")
    );
    assert!(err(&[
        ("allow_from", "10.0.0.0/8"),
        ("mode", "unix_dgram"),
        ("path", "/tmp/x")
    ])
    .contains("Unix sockets have no sender address"));
    assert!(err(&[
        ("ratelimit.interval", "5s"),
        ("ratelimit.burst", "0"),
        ("port", &p)
    ])
    .starts_with("ratelimit.burst must be at least 1"));
}

#[test]
fn ipv6_tcp_and_udp() {
    let Ok(probe) = std::net::UdpSocket::bind("[::1]:0") else {
        println!("SKIPPED: no IPv6 loopback here");
        return;
    };
    drop(probe);
    let port = free_port().to_string();
    let tcp = input(&[("mode", "tcp"), ("listen", "::1"), ("port", &port)]);
    let udp = input(&[("mode", "udp"), ("listen", "[::1]"), ("port", &port)]);
    let mut c = TcpStream::connect(format!("[::1]:{port}")).unwrap();
    c.write_all(b"<13>1 - - - - - - over tcp6\n").unwrap();
    let u = std::net::UdpSocket::bind("[::1]:0").unwrap();
    u.send_to(b"<13>1 - - - - - - over udp6", format!("[::1]:{port}"))
        .unwrap();
    let t = records(&tcp, 1);
    let d = records(&udp, 1);
    assert_eq!(
        t[0].0,
        r#"{"pri":13,"facility":1,"severity":5,"message":"over tcp6"}"#
    );
    assert!(t[0].1.starts_with(r#"{"source":"[::1]:"#), "{}", t[0].1);
    assert_eq!(
        d[0].0,
        r#"{"pri":13,"facility":1,"severity":5,"message":"over udp6"}"#
    );
    assert_eq!(
        d[0].1,
        format!(
            r#"{{"source":"{}","transport":"udp","format":"rfc5424"}}"#,
            u.local_addr().unwrap()
        )
    );
}
