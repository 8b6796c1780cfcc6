//! rs_syslog over TLS against a loopback TLS receiver that closes its side
//! gracefully (close_notify, then FIN) every 30 messages, as receivers do
//! on idle timeouts or rotation, over TLS 1.2 and TLS 1.3 (whose session
//! tickets sit unread in the client's socket): every message arrives, in
//! order, and the last chunk before the instance exits arrives whole.

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use openssl::ssl::{ErrorCode, SslAcceptor, SslFiletype, SslMethod, SslVersion};

use flb_rs_sdk::testing::Harness;
use flb_rs_sdk::{EventEncoder, EventTime, FlushResult};
use flb_rs_syslog::SyslogOutput;

mod common;

const CLOSE_EVERY: usize = 30;

/// The messages a receiver got, in order, and how many connections it
/// closed itself.
struct Receiver {
    port: u16,
    messages: Arc<std::sync::Mutex<Vec<String>>>,
    count: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    /// Serves connections one after the other until `total` messages came
    /// or 30 s passed. Frames are octet-counted; until `closing` messages
    /// came, after every CLOSE_EVERY messages on a connection it sends
    /// close_notify and closes, and only then counts the last one, so a
    /// sender that waits for the count writes its next message after the
    /// close.
    fn start(
        certs: &common::certs::Certs,
        version: SslVersion,
        closing: usize,
        total: usize,
    ) -> Receiver {
        let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
        b.set_certificate_chain_file(&certs.cert).unwrap();
        b.set_private_key_file(&certs.key, SslFiletype::PEM)
            .unwrap();
        b.set_min_proto_version(Some(version)).unwrap();
        b.set_max_proto_version(Some(version)).unwrap();
        let acceptor = b.build();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let messages = Arc::new(std::sync::Mutex::new(Vec::new()));
        let count = Arc::new(AtomicUsize::new(0));
        let (m, c) = (messages.clone(), count.clone());
        let deadline = Instant::now() + Duration::from_secs(30);
        let thread = std::thread::spawn(move || {
            listener.set_nonblocking(true).unwrap();
            while c.load(Ordering::SeqCst) < total && Instant::now() < deadline {
                let tcp = match listener.accept() {
                    Ok((t, _)) => t,
                    Err(_) => {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                };
                tcp.set_nonblocking(false).unwrap();
                tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let Ok(mut tls) = acceptor.accept(tcp) else {
                    continue;
                };
                let (mut buf, mut on_this) = (Vec::new(), 0);
                let mut chunk = [0u8; 16384];
                'conn: loop {
                    let n = match tls.ssl_read(&mut chunk) {
                        Ok(n) => n,
                        Err(e) if e.code() == ErrorCode::ZERO_RETURN => {
                            // The sender's close_notify: answer it.
                            let _ = tls.shutdown();
                            break;
                        }
                        Err(_) => break,
                    };
                    buf.extend_from_slice(&chunk[..n]);
                    // Whole octet-counted frames.
                    while let Some(sp) = buf.iter().position(|&b| b == b' ') {
                        let len: usize = std::str::from_utf8(&buf[..sp]).unwrap().parse().unwrap();
                        if buf.len() < sp + 1 + len {
                            break;
                        }
                        let frame = String::from_utf8(buf[sp + 1..sp + 1 + len].to_vec()).unwrap();
                        buf.drain(..sp + 1 + len);
                        m.lock().unwrap().push(frame);
                        on_this += 1;
                        if on_this == CLOSE_EVERY && c.load(Ordering::SeqCst) < closing {
                            let _ = tls.shutdown();
                            drop(tls);
                            c.fetch_add(1, Ordering::SeqCst);
                            break 'conn;
                        }
                        c.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
        });
        Receiver {
            port,
            messages,
            count,
            thread: Some(thread),
        }
    }

    fn wait_for(&self, n: usize) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.count.load(Ordering::SeqCst) < n {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        true
    }

    /// The message texts, once the receiver has stopped.
    fn finish(mut self) -> Vec<String> {
        self.thread.take().unwrap().join().unwrap();
        let m = self.messages.lock().unwrap();
        m.iter()
            .map(|f| f.rsplit(' ').next().unwrap_or("").to_string())
            .collect()
    }
}

fn chunk(from: usize, n: usize) -> Vec<u8> {
    let mut enc = EventEncoder::new();
    for i in from..from + n {
        enc.record(EventTime::new(1_795_561_509, 0), |m| {
            m.str("log", &format!("m{i}"))
        });
    }
    enc.into_bytes()
}

fn output(port: u16, ca: &std::path::Path) -> Harness {
    let port = port.to_string();
    let ca = ca.to_str().unwrap();
    Harness::output::<SyslogOutput>(&[
        ("mode", "tls"),
        ("host", "127.0.0.1"),
        ("port", &port),
        ("tls.ca_file", ca),
        ("syslog_message_key", "log"),
        ("syslog_bom", "off"),
    ])
    .unwrap()
}

fn graceful_closes_lose_nothing(version: SslVersion) {
    let dir = std::env::temp_dir().join(format!(
        "flb-rs-tls-close-{}-{version:?}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let certs = common::certs::make(&dir);
    const ONE_BY_ONE: usize = 200;
    const LAST: usize = 20_000;
    let rx = Receiver::start(&certs, version, ONE_BY_ONE, ONE_BY_ONE + LAST);
    let h = output(rx.port, &certs.ca);
    for i in 0..ONE_BY_ONE {
        let deadline = Instant::now() + Duration::from_secs(10);
        while h.flush("t", &chunk(i, 1)) != FlushResult::Ok {
            assert!(Instant::now() < deadline, "message {i} was never delivered");
        }
        assert!(
            rx.wait_for(i + 1),
            "message {i} was reported delivered but did not arrive ({} did)",
            rx.count.load(Ordering::SeqCst)
        );
    }
    drop(h);
    // A new instance on a new connection (whose TLS 1.3 session tickets
    // nobody has read yet) writes a large chunk, and exits at once: its
    // close must not reset away what is still in flight. The receiver no
    // longer closes by itself.
    let h = output(rx.port, &certs.ca);
    assert_eq!(h.flush("t", &chunk(ONE_BY_ONE, LAST)), FlushResult::Ok);
    drop(h);
    let got = rx.finish();
    let want: Vec<String> = (0..ONE_BY_ONE + LAST).map(|i| format!("m{i}")).collect();
    assert_eq!(got.len(), want.len(), "messages received");
    assert!(got == want, "messages out of order or changed");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tls12_receiver_closing_gracefully_loses_nothing() {
    graceful_closes_lose_nothing(SslVersion::TLS1_2);
}

#[test]
fn tls13_receiver_closing_gracefully_loses_nothing() {
    graceful_closes_lose_nothing(SslVersion::TLS1_3);
}

/// Certificate rotation without a restart: the receiver moves to a
/// certificate from another CA and the sender's `tls.ca_file` is rewritten
/// with that CA; the next connection uses it. A broken file written next
/// is logged and the working context kept. The receiver closes every
/// connection after one message, so each flush makes a new one.
#[test]
fn changed_tls_files_are_used_by_new_connections() {
    let base = std::env::temp_dir().join(format!("flb-rs-tls-rotate-{}", std::process::id()));
    let (a, b) = (base.join("a"), base.join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let (ca, cb) = (common::certs::make(&a), common::certs::make(&b));
    let acceptor = |c: &common::certs::Certs| {
        let mut s = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
        s.set_certificate_chain_file(&c.cert).unwrap();
        s.set_private_key_file(&c.key, SslFiletype::PEM).unwrap();
        s.build()
    };
    let current = Arc::new(std::sync::Mutex::new(acceptor(&ca)));
    let count = Arc::new(AtomicUsize::new(0));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (srv_current, srv_count) = (current.clone(), count.clone());
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { return };
            tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let acc = srv_current.lock().unwrap().clone();
            let Ok(mut tls) = acc.accept(tcp) else {
                continue;
            };
            let mut buf = [0u8; 4096];
            if matches!(tls.ssl_read(&mut buf), Ok(n) if n > 0) {
                let _ = tls.shutdown();
                drop(tls);
                srv_count.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    let ca_file = base.join("trusted.pem");
    std::fs::copy(&ca.ca, &ca_file).unwrap();
    let h = output(port, &ca_file);
    let deliver = |i: usize| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while h.flush("t", &chunk(i, 1)) != FlushResult::Ok {
            assert!(Instant::now() < deadline, "message {i} was never delivered");
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while count.load(Ordering::SeqCst) < i + 1 {
            assert!(Instant::now() < deadline, "message {i} did not arrive");
            std::thread::sleep(Duration::from_millis(2));
        }
    };
    // Files changed "later": mtimes set ahead, so a coarse clock cannot
    // hide a change.
    let rewrite = |content: &[u8], ahead: u64| {
        std::fs::write(&ca_file, content).unwrap();
        let f = std::fs::File::options().write(true).open(&ca_file).unwrap();
        f.set_modified(std::time::SystemTime::now() + Duration::from_secs(ahead))
            .unwrap();
    };
    deliver(0);

    *current.lock().unwrap() = acceptor(&cb);
    // Not trusted yet: the handshake fails and the flush asks for a retry.
    assert_eq!(h.flush("t", &chunk(1, 1)), FlushResult::Retry);
    rewrite(&std::fs::read(&cb.ca).unwrap(), 10);
    deliver(1);
    assert!(
        h.host
            .logs()
            .iter()
            .any(|(_, l)| l.contains("TLS files changed; new connections use them")),
        "{:?}",
        h.host.logs()
    );

    rewrite(b"not a certificate", 20);
    deliver(2);
    assert!(
        h.host
            .logs()
            .iter()
            .any(|(_, l)| l.contains("cannot be used")
                && l.contains("new connections keep the previous ones")),
        "{:?}",
        h.host.logs()
    );
    let _ = std::fs::remove_dir_all(&base);
}
