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
