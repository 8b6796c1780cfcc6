//! The `rs_syslog` input against peers that misbehave: connections that
//! say nothing, a TLS client that trickles its handshake, a RELP peer that
//! never reads its acknowledgements. None of them may hold a thread for
//! ever, nor the instance's stop.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use flb_rs_sdk::testing::Harness;
use flb_rs_sdk::Events;

mod common;
use common::listening;

/// Whether the server closed `s` (a read sees the end or an error) within
/// `within`; `s` must have a short read timeout.
fn closed_within(s: &mut impl Read, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    let mut b = [0u8; 256];
    while Instant::now() < deadline {
        match s.read(&mut b) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return true,
        }
    }
    false
}

fn connect(port: &str) -> TcpStream {
    let s = TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    s
}

/// Records handed over within `wait`.
fn count(h: &Harness, wait: Duration) -> usize {
    h.collect(usize::MAX, wait)
        .iter()
        .map(|(_, d)| Events::new(d).count())
        .sum()
}

fn wait_metric(h: &Harness, name: &str, want: f64, within: Duration) {
    let deadline = Instant::now() + within;
    while h.host.metric(name, &[]) != Some(want) {
        assert!(
            Instant::now() < deadline,
            "{name} is {:?}, want {want}; logs: {:?}",
            h.host.metric(name, &[]),
            h.host.logs()
        );
        let _ = count(h, Duration::from_millis(20));
    }
}

#[test]
fn connections_that_send_nothing_are_closed_after_idle_timeout() {
    let (h, port) = listening("tcp", &[("idle_timeout", "1")]);
    let start = Instant::now();
    let mut silent = connect(&port);
    let mut once = connect(&port);
    once.write_all(b"<13>1 - h app - - - only one\n").unwrap();
    let mut steady = connect(&port);
    // A message every 300 ms for 2.5 s: never idle for a second.
    let mut sent = 0;
    while start.elapsed() < Duration::from_millis(2500) {
        steady.write_all(b"<13>1 - h app - - - tick\n").unwrap();
        sent += 1;
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(
        closed_within(&mut silent, Duration::from_secs(2)),
        "silent one still open"
    );
    assert!(
        closed_within(&mut once, Duration::from_secs(2)),
        "quiet one still open"
    );
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "closed before idle_timeout"
    );
    assert!(
        !closed_within(&mut steady, Duration::from_millis(200)),
        "a connection that keeps sending was closed"
    );
    let mut got = 0;
    let deadline = Instant::now() + Duration::from_secs(10);
    while got < sent + 1 && Instant::now() < deadline {
        got += count(&h, Duration::from_millis(100));
    }
    assert_eq!(got, sent + 1);
    wait_metric(
        &h,
        "connections_idle_closed_total",
        2.0,
        Duration::from_secs(5),
    );
}

/// A sender that the input holds back (paused) is not idle: its
/// connection outlives idle_timeout and its messages arrive on resume.
#[test]
fn a_connection_held_back_by_a_pause_is_not_closed_as_idle() {
    let (h, port) = listening("tcp", &[("idle_timeout", "1")]);
    h.instance.pause();
    let mut held = connect(&port);
    held.write_all(b"<13>1 - h app - - - sent while paused\n")
        .unwrap();
    // Longer than idle_timeout, and than a sweep after it.
    assert!(
        !closed_within(&mut held, Duration::from_millis(2500)),
        "closed as idle while paused"
    );
    h.instance.resume();
    let mut got = 0;
    let deadline = Instant::now() + Duration::from_secs(10);
    while got < 1 && Instant::now() < deadline {
        got += count(&h, Duration::from_millis(100));
    }
    assert_eq!(got, 1);
    assert_eq!(h.host.metric("connections_idle_closed_total", &[]), None);
}

/// A ClientHello that never completes: its record header, then one byte
/// at a time.
fn trickle(s: &mut TcpStream, until: Duration) -> bool {
    let start = Instant::now();
    let _ = s.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00]);
    while start.elapsed() < until {
        if s.write_all(&[0x01]).is_err() || closed_within(s, Duration::from_millis(300)) {
            return true;
        }
    }
    false
}

#[test]
fn a_trickled_tls_handshake_is_cut_off_and_does_not_hold_the_stop() {
    let dir = std::env::temp_dir().join(format!("flb-rs-in-peers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let certs = common::certs::make(&dir);
    let start_input = || {
        listening(
            "tls",
            &[
                ("tls.crt_file", certs.cert.to_str().unwrap()),
                ("tls.key_file", certs.key.to_str().unwrap()),
            ],
        )
    };
    // The whole handshake has 10 s, however steadily bytes come.
    let (h, port) = start_input();
    let mut s = connect(&port);
    let t0 = Instant::now();
    assert!(trickle(&mut s, Duration::from_secs(20)), "never cut off");
    let took = t0.elapsed();
    assert!(
        (Duration::from_secs(9)..Duration::from_secs(13)).contains(&took),
        "cut off after {took:?}"
    );
    assert!(h.host.logged(log::Level::Warn, "not done within"));
    drop(h);
    // A stop in the middle of one does not wait for it.
    let (h, port) = start_input();
    let mut s = connect(&port);
    let _ = s.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01]);
    std::thread::sleep(Duration::from_millis(500));
    let t0 = Instant::now();
    drop(h);
    assert!(
        t0.elapsed() < Duration::from_secs(2),
        "the stop waited {:?} for a handshake",
        t0.elapsed()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A RELP peer that opens a session and sends as fast as it can, with a
/// small receive buffer it never reads. Returns when the server closes the
/// session (a write fails) or `until` passes.
fn relp_never_reading(port: &str, until: Duration) -> std::thread::JoinHandle<bool> {
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    std::thread::spawn(move || {
        let sock =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        sock.set_recv_buffer_size(4096).unwrap();
        sock.connect(&addr.into()).unwrap();
        let mut s: TcpStream = sock.into();
        s.set_write_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let mut out = Vec::new();
        flb_rs_syslog::relp::write_frame(&mut out, 1, "open", b"relp_version=0\ncommands=syslog");
        s.write_all(&out).unwrap();
        let start = Instant::now();
        let mut txnr = 2u32;
        while start.elapsed() < until {
            out.clear();
            for _ in 0..100 {
                flb_rs_syslog::relp::write_frame(
                    &mut out,
                    txnr,
                    "syslog",
                    b"<13>1 - h relp - - - m",
                );
                txnr += 1;
            }
            let mut off = 0;
            while off < out.len() && start.elapsed() < until {
                match s.write(&out[off..]) {
                    Ok(n) => off += n,
                    Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                    Err(_) => return true,
                }
            }
        }
        false
    })
}

#[test]
fn a_relp_peer_that_never_reads_is_dropped_after_write_timeout_and_does_not_hold_the_stop() {
    let (h, port) = listening("relp", &[("write_timeout", "1")]);
    let peer = relp_never_reading(&port, Duration::from_secs(60));
    // Collecting lets the acknowledgements be written, until the peer's
    // buffers are full and the server waits on it.
    wait_metric(&h, "write_timeouts_total", 1.0, Duration::from_secs(60));
    assert!(peer.join().unwrap(), "the session was not closed");
    assert!(h.host.logged(log::Level::Warn, "write_timeout"));
    drop(h);

    // With the default write_timeout (10 s), a stop while the server waits
    // on the peer does not wait for it.
    let (h, port) = listening("relp", &[]);
    let peer = relp_never_reading(&port, Duration::from_secs(30));
    // Until nothing arrives for a second: the server is stuck writing.
    let deadline = Instant::now() + Duration::from_secs(30);
    while count(&h, Duration::from_secs(1)) > 0 {
        assert!(Instant::now() < deadline, "the peer was never blocked");
    }
    let t0 = Instant::now();
    drop(h);
    assert!(
        t0.elapsed() < Duration::from_secs(2),
        "the stop waited {:?} on a peer that does not read",
        t0.elapsed()
    );
    assert!(peer.join().unwrap(), "the session outlived the stop");
}
