//! The `rs_syslog` input under load and under backpressure: many messages
//! over concurrent connections, each delivered exactly once; a paused
//! pipeline that blocks TCP senders with bounded memory, drops (and
//! counts) datagrams, and holds RELP acknowledgements back.
//!
//! `FLB_RS_LOAD_MESSAGES` sets the load test's message count (default
//! 1,000,000 in release builds, 100,000 in debug builds).

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream, UdpSocket};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use flb_rs_sdk::testing::Harness;
use flb_rs_sdk::Events;
use flb_rs_syslog::relp;
use flb_rs_syslog::SyslogInput;
use log::Level;

mod common;
use common::free_port;

/// The tests measure throughput and the process' memory: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn input(mode: &str) -> (Harness, u16) {
    let port = free_port();
    let p = port.to_string();
    let h = Harness::input::<SyslogInput>(&[("mode", mode), ("listen", "127.0.0.1"), ("port", &p)])
        .unwrap_or_else(|e| panic!("{}", e.0));
    (h, port)
}

/// A small RFC 5424 message carrying `seq`.
fn message(seq: u64) -> String {
    format!("<14>1 2026-11-24T10:00:00.000001Z load-host loadgen 77 SEQ - seq={seq:010}")
}

/// `seq` octet-counted: every message has the same length.
fn framed(out: &mut Vec<u8>, seq: u64) {
    let m = message(seq);
    out.extend_from_slice(format!("{} {m}", m.len()).as_bytes());
}

fn framed_len() -> usize {
    let mut v = Vec::new();
    framed(&mut v, 0);
    v.len()
}

/// Sequence numbers seen, with their counts, and anything unexpected.
struct Seen {
    counts: Vec<u8>,
    records: u64,
    foreign: Vec<String>,
}

impl Seen {
    fn new(n: u64) -> Seen {
        Seen {
            counts: vec![0; n as usize],
            records: 0,
            foreign: Vec::new(),
        }
    }

    fn add_chunk(&mut self, data: &[u8]) {
        for ev in Events::new(data) {
            let ev = ev.expect("the input encoded a broken event");
            self.records += 1;
            let seq = ev
                .get("message")
                .and_then(|v| v.as_str())
                .and_then(|s| s.to_str().ok())
                .and_then(|s| s.strip_prefix("seq="))
                .and_then(|s| s.parse::<usize>().ok())
                .filter(|s| *s < self.counts.len());
            match seq {
                Some(s) => self.counts[s] = self.counts[s].saturating_add(1),
                None if self.foreign.len() < 10 => self.foreign.push(format!("{:?}", ev.body)),
                None => {}
            }
        }
    }

    /// Collects until `n` records arrived or `within` passed.
    fn collect(&mut self, h: &Harness, n: u64, within: Duration) {
        let deadline = Instant::now() + within;
        while self.records < n && Instant::now() < deadline {
            let want = (n - self.records).min(1 << 20) as usize;
            for (_, data) in h.collect(want, Duration::from_millis(200)) {
                self.add_chunk(&data);
            }
        }
    }

    /// Asserts that exactly sequence numbers `0..n` arrived, each once.
    fn assert_each_once(&self, n: u64) {
        let missing: Vec<usize> = (0..n as usize).filter(|&s| self.counts[s] == 0).collect();
        let twice: Vec<usize> = (0..n as usize).filter(|&s| self.counts[s] > 1).collect();
        assert!(
            self.foreign.is_empty(),
            "unexpected records: {:?}",
            self.foreign
        );
        assert!(
            missing.is_empty(),
            "{} of {n} missing, first {:?}",
            missing.len(),
            &missing[..missing.len().min(10)]
        );
        assert!(
            twice.is_empty(),
            "{} delivered more than once, first {:?}",
            twice.len(),
            &twice[..twice.len().min(10)]
        );
        assert_eq!(self.records, n);
    }
}

fn load_messages() -> u64 {
    match std::env::var("FLB_RS_LOAD_MESSAGES") {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("FLB_RS_LOAD_MESSAGES={v}: not a number")),
        Err(_) if cfg!(debug_assertions) => 100_000,
        Err(_) => 1_000_000,
    }
}

#[test]
fn many_messages_over_eight_connections_arrive_exactly_once() {
    let _one = serial();
    const CONNECTIONS: u64 = 8;
    let total = load_messages();
    let (h, port) = input("tcp");
    let start = Instant::now();
    let senders: Vec<_> = (0..CONNECTIONS)
        .map(|c| {
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                s.set_write_timeout(Some(Duration::from_secs(60))).unwrap();
                // Connection c sends c, c + 8, c + 16...
                let seqs: Vec<u64> = (c..total).step_by(CONNECTIONS as usize).collect();
                let mut buf = Vec::with_capacity(64 * 1024);
                for block in seqs.chunks(1000) {
                    buf.clear();
                    for &seq in block {
                        framed(&mut buf, seq);
                    }
                    s.write_all(&buf).unwrap();
                }
                s.shutdown(Shutdown::Write).unwrap();
            })
        })
        .collect();
    let mut seen = Seen::new(total);
    // Generous: a debug build on a loaded machine.
    let within = Duration::from_secs(30 + total / 2_000);
    seen.collect(&h, total, within);
    let elapsed = start.elapsed();
    for s in senders {
        s.join().unwrap();
    }
    println!(
        "load: {total} messages over {CONNECTIONS} TCP connections in {:.2} s: {:.0} messages/s ({} build)",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    assert_eq!(
        seen.records,
        total,
        "records within {within:?}; the input logged {:?}",
        h.host.logs()
    );
    seen.assert_each_once(total);
    // Nothing more arrives.
    assert!(h.collect(1, Duration::from_millis(300)).is_empty());
    assert_eq!(h.host.metric("messages_total", &[]), Some(total as f64));
    assert_eq!(
        h.host.metric("bytes_total", &[]),
        Some((total as usize * framed_len()) as f64)
    );
    assert_eq!(h.host.metric("framing_errors_total", &[]), None);
}

/// The resident set of this process, in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

#[test]
fn a_paused_input_blocks_tcp_senders_with_bounded_memory_and_loses_nothing() {
    let _one = serial();
    const PAUSE: Duration = Duration::from_secs(3);
    const RSS_LIMIT_KIB: u64 = 64 * 1024;
    let (h, port) = input("tcp");
    // Warm up: the first records, so that lazily allocated buffers exist.
    let mut warm = TcpStream::connect(("127.0.0.1", port)).unwrap();
    warm.write_all(b"<13>1 - - - - - - warm\n").unwrap();
    assert_eq!(
        common::collect_records(&h, 1, Duration::from_secs(10)).len(),
        1
    );
    drop(warm);

    h.instance.pause();
    let rss_before = rss_kib();
    // The sender reports the bytes written at half time and at the end of
    // its PAUSE of writing, then waits for the resume.
    let (report_tx, report_rx) = std::sync::mpsc::channel::<(u64, u64)>();
    let (resume_tx, resume_rx) = std::sync::mpsc::channel::<()>();
    let sender = std::thread::spawn(move || {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_write_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let (mut seq, mut block, mut off) = (0u64, Vec::new(), 0usize);
        let (mut written, mut at_half, mut timeouts) = (0u64, None, 0u64);
        let start = Instant::now();
        // As fast as it can, for PAUSE.
        while start.elapsed() < PAUSE {
            if at_half.is_none() && start.elapsed() >= PAUSE / 2 {
                at_half = Some(written);
            }
            if off == block.len() {
                block.clear();
                for _ in 0..1000 {
                    framed(&mut block, seq);
                    seq += 1;
                }
                off = 0;
            }
            match s.write(&block[off..]) {
                Ok(n) => {
                    off += n;
                    written += n as u64;
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    timeouts += 1
                }
                Err(e) => panic!("write: {e}"),
            }
        }
        report_tx.send((at_half.unwrap_or(0), written)).unwrap();
        // Once resumed, the rest of the block (its last message may be
        // half written), then the end.
        resume_rx.recv_timeout(Duration::from_secs(30)).unwrap();
        s.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
        s.write_all(&block[off..]).unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        (seq, timeouts)
    });
    // Sample the memory until the sender reports.
    let deadline = Instant::now() + PAUSE + Duration::from_secs(10);
    let mut rss_peak = rss_before;
    let (at_half, at_end) = loop {
        rss_peak = rss_peak.max(rss_kib());
        match report_rx.recv_timeout(Duration::from_millis(50)) {
            Ok(r) => break r,
            Err(_) => assert!(Instant::now() < deadline, "the sender never reported"),
        }
    };
    rss_peak = rss_peak.max(rss_kib());
    let grown_kib = rss_peak.saturating_sub(rss_before);
    println!(
        "paused TCP: sender blocked after {at_end} bytes ({} messages); {at_half} bytes at half time; \
         RSS {rss_before} KiB before, peak {rss_peak} KiB while paused (+{grown_kib} KiB)",
        at_end / framed_len() as u64
    );
    assert!(at_end > 0, "nothing written at all");
    assert_eq!(
        at_half, at_end,
        "the sender kept writing during the second half of the pause"
    );
    assert!(
        at_end < 64 << 20,
        "{at_end} bytes accepted while paused: not blocked"
    );
    assert!(
        grown_kib < RSS_LIMIT_KIB,
        "RSS grew by {grown_kib} KiB while paused"
    );
    // Nothing was handed over while paused.
    assert!(h.collect(1, Duration::from_millis(200)).is_empty());

    h.instance.resume();
    resume_tx.send(()).unwrap();
    let (sent, timeouts) = sender.join().unwrap();
    assert!(timeouts > 0, "the sender never had to wait");
    assert!(sent * framed_len() as u64 >= at_end);
    let mut seen = Seen::new(sent);
    seen.collect(&h, sent, Duration::from_secs(60));
    seen.assert_each_once(sent);
    assert!(h.collect(1, Duration::from_millis(300)).is_empty());
}

/// A host that does not collect (Fluent Bit busy), and senders that flood
/// one-byte lines: what the input holds is bounded by `buffer_max_size`
/// in bytes of records, however many records that is, and nothing is lost.
#[test]
fn a_flood_of_tiny_messages_is_held_within_buffer_max_size() {
    let _one = serial();
    const LIMIT: usize = 1 << 20;
    const SENDERS: usize = 4;
    const LINES_EACH: usize = 512 << 10;
    let (h, port) = common::listening("tcp", &[("buffer_max_size", &LIMIT.to_string())]);
    let port: u16 = port.parse().unwrap();
    let rss_before = rss_kib();
    let senders: Vec<_> = (0..SENDERS)
        .map(|_| {
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                let block = b"a\n".repeat(32 << 10);
                for _ in 0..LINES_EACH / (32 << 10) {
                    s.write_all(&block).unwrap();
                }
            })
        })
        .collect();
    // Until the queue stops growing: the senders wait on TCP.
    let mut last = (0, Instant::now());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let q = h.instance.input_queued_bytes();
        if q != last.0 {
            last = (q, Instant::now());
        } else if q > 0 && last.1.elapsed() > Duration::from_secs(1) {
            break;
        }
        assert!(Instant::now() < deadline, "the queue never settled");
        std::thread::sleep(Duration::from_millis(20));
    }
    let held = h.instance.input_queued_bytes();
    let grown_kib = rss_kib().saturating_sub(rss_before);
    println!(
        "tiny-message flood: {held} bytes of records held (limit {LIMIT}); RSS +{grown_kib} KiB"
    );
    assert!(held > LIMIT / 2, "the queue did not fill: {held} bytes");
    // The bound, plus the one batch let in past it.
    assert!(
        held <= LIMIT + flb_rs_syslog::input::BATCH_BYTES + 4096,
        "{held} bytes held, limit {LIMIT}"
    );
    // Each connection holds at most a read and a batch besides.
    assert!(grown_kib < 32 * 1024, "RSS grew by {grown_kib} KiB");
    // The gauge says what is held (refreshed every 250 ms).
    let deadline = Instant::now() + Duration::from_secs(5);
    while h.host.metric("buffered_bytes", &[]) != Some(held as f64) {
        assert!(
            Instant::now() < deadline,
            "buffered_bytes {:?}, held {held}",
            h.host.metric("buffered_bytes", &[])
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut records = 0;
    let want = SENDERS * LINES_EACH;
    let deadline = Instant::now() + Duration::from_secs(120);
    while records < want && Instant::now() < deadline {
        for (_, data) in h.collect(want - records, Duration::from_millis(500)) {
            records += Events::new(&data).count();
        }
    }
    for s in senders {
        s.join().unwrap();
    }
    assert_eq!(records, want, "records lost or duplicated");
}

#[test]
fn datagrams_sent_while_paused_are_dropped_counted_and_logged() {
    let _one = serial();
    const DURING_PAUSE: u64 = 200;
    const AFTER: u64 = 20;
    let (h, port) = input("udp");
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let send = |seq: u64| {
        sock.send_to(message(seq).as_bytes(), ("127.0.0.1", port))
            .unwrap();
    };
    // Delivered while running.
    send(0);
    let mut seen = Seen::new(DURING_PAUSE + AFTER + 1);
    seen.collect(&h, 1, Duration::from_secs(10));
    assert_eq!(seen.records, 1);

    h.instance.pause();
    for seq in 1..=DURING_PAUSE {
        send(seq);
        // Small bursts, so that the socket's buffer never overflows (those
        // losses the input could not count).
        if seq % 50 == 0 {
            wait_for_metric(&h, "dropped_total", seq as f64);
        }
    }
    wait_for_metric(&h, "dropped_total", DURING_PAUSE as f64);
    assert!(
        h.host.logged(Level::Warn, "dropped"),
        "no warning: {:?}",
        h.host.logs()
    );
    assert!(h.collect(1, Duration::from_millis(200)).is_empty());

    h.instance.resume();
    for seq in DURING_PAUSE + 1..=DURING_PAUSE + AFTER {
        send(seq);
    }
    seen.collect(&h, 1 + AFTER, Duration::from_secs(10));
    assert!(h.collect(1, Duration::from_millis(300)).is_empty());
    assert_eq!(seen.records, 1 + AFTER);
    // Exactly those sent while running arrived; the others were counted.
    for seq in 0..=DURING_PAUSE + AFTER {
        let expect = u8::from(seq == 0 || seq > DURING_PAUSE);
        assert_eq!(seen.counts[seq as usize], expect, "message {seq}");
    }
    assert_eq!(
        h.host.metric("dropped_total", &[]),
        Some(DURING_PAUSE as f64)
    );
    assert_eq!(
        h.host.metric("messages_total", &[]),
        Some((1 + AFTER) as f64)
    );
}

/// Waits until `name` reaches `value`.
fn wait_for_metric(h: &Harness, name: &str, value: f64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while h.host.metric(name, &[]) != Some(value) {
        assert!(
            Instant::now() < deadline,
            "{name} is {:?}, not {value}",
            h.host.metric(name, &[])
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Reads RELP frames from `s` until `n` arrived or `within` passed.
fn read_frames(
    s: &mut TcpStream,
    buf: &mut Vec<u8>,
    n: usize,
    within: Duration,
) -> Vec<relp::Frame> {
    let deadline = Instant::now() + within;
    let mut out = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        while let Some((f, used)) = relp::parse_frame(buf).unwrap() {
            buf.drain(..used);
            out.push(f);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if out.len() >= n || left.is_zero() {
            return out;
        }
        s.set_read_timeout(Some(left.min(Duration::from_millis(100))))
            .unwrap();
        match s.read(&mut chunk) {
            Ok(0) => return out,
            Ok(k) => buf.extend_from_slice(&chunk[..k]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => panic!("RELP read: {e}"),
        }
    }
}

#[test]
fn relp_is_acknowledged_only_after_resume_and_delivered_once() {
    let _one = serial();
    const MESSAGES: u32 = 300;
    let (h, port) = input("relp");
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut inbuf = Vec::new();
    let mut out = Vec::new();
    relp::write_frame(
        &mut out,
        1,
        "open",
        b"relp_version=0\nrelp_software=test\ncommands=syslog",
    );
    s.write_all(&out).unwrap();
    let open = read_frames(&mut s, &mut inbuf, 1, Duration::from_secs(10));
    assert_eq!(open.len(), 1, "no answer to open");
    assert_eq!(open[0].txnr, 1);
    assert!(open[0].data.starts_with(b"200 OK"), "{:?}", open[0]);

    h.instance.pause();
    out.clear();
    for i in 0..MESSAGES {
        relp::write_frame(&mut out, 2 + i, "syslog", message(u64::from(i)).as_bytes());
    }
    s.write_all(&out).unwrap();
    // Paused: no acknowledgement (a bounded wait for something that must
    // not come). The host does not collect while it has the input paused;
    // neither does the test (a session thread already inside read() when
    // the pause came may have queued one read's worth, which must not be
    // acknowledged either until taken).
    let early = read_frames(&mut s, &mut inbuf, 1, Duration::from_secs(1));
    assert!(early.is_empty(), "acknowledged while paused: {early:?}");

    h.instance.resume();
    // Collect and read acknowledgements at once: an acknowledgement comes
    // only once its record was taken.
    let (seen, acks) = std::thread::scope(|sc| {
        let reader = sc.spawn(|| {
            read_frames(
                &mut s,
                &mut inbuf,
                MESSAGES as usize,
                Duration::from_secs(30),
            )
        });
        let mut seen = Seen::new(u64::from(MESSAGES));
        seen.collect(&h, u64::from(MESSAGES), Duration::from_secs(30));
        (seen, reader.join().unwrap())
    });
    seen.assert_each_once(u64::from(MESSAGES));
    assert_eq!(acks.len(), MESSAGES as usize, "acknowledgements: {acks:?}");
    let mut txnrs: Vec<u32> = acks
        .iter()
        .map(|f| {
            assert_eq!(f.command, "rsp");
            assert!(f.data.starts_with(b"200 OK"), "{f:?}");
            f.txnr
        })
        .collect();
    txnrs.sort_unstable();
    assert_eq!(txnrs, (2..2 + MESSAGES).collect::<Vec<_>>());

    // The session closes cleanly, and nothing more arrives.
    out.clear();
    relp::write_frame(&mut out, 2 + MESSAGES, "close", b"");
    s.write_all(&out).unwrap();
    let close = read_frames(&mut s, &mut inbuf, 1, Duration::from_secs(10));
    assert_eq!(close.len(), 1, "no answer to close");
    assert_eq!(close[0].txnr, 2 + MESSAGES);
    assert!(h.collect(1, Duration::from_millis(300)).is_empty());
}

/// Threads of this process whose name says they belong to rs_syslog.
fn input_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("rs_syslog"))
        .count()
}

/// Many connections at once are served by the input's few event loops
/// (not a thread each), every one of their messages arrives, and while
/// they all stay open, idle, a new sender is served at once. (The e2e
/// suite does the same with 10,000 connections against Fluent Bit; here
/// client and server share one process and its descriptor limit.)
#[test]
fn many_connections_few_threads_and_idle_ones_delay_no_one() {
    let _one = serial();
    const CONNECTIONS: u64 = 2_000;
    let (h, port) = input("tcp");
    let mut conns = Vec::new();
    for seq in 0..CONNECTIONS {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let mut buf = Vec::new();
        framed(&mut buf, seq);
        s.write_all(&buf).unwrap();
        conns.push(s);
    }
    let mut seen = Seen::new(CONNECTIONS);
    seen.collect(&h, CONNECTIONS, Duration::from_secs(60));
    assert_eq!(seen.records, CONNECTIONS, "logs: {:?}", h.host.logs());
    seen.assert_each_once(CONNECTIONS);
    let loops = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let threads = input_threads();
    assert!(
        threads <= loops,
        "{threads} rs_syslog threads for {CONNECTIONS} connections (event loops: {loops})"
    );
    assert_eq!(h.host.metric("connections", &[]), Some(CONNECTIONS as f64));
    // All of them idle and open: a new sender's message is taken at once.
    let mut late = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let sent = Instant::now();
    late.write_all(format!("{}\n", message(CONNECTIONS)).as_bytes())
        .unwrap();
    let mut late_seen = Seen::new(CONNECTIONS + 1);
    late_seen.collect(&h, 1, Duration::from_secs(5));
    let delay = sent.elapsed();
    assert_eq!(late_seen.records, 1);
    assert!(
        delay < Duration::from_millis(500),
        "the new sender waited {delay:?} behind {CONNECTIONS} idle connections"
    );
    println!(
        "connections: {CONNECTIONS} open on {threads} input thread(s); a new sender's message taken after {:.1} ms",
        delay.as_secs_f64() * 1e3
    );
    drop(conns);
}
