//! rs_syslog through the SDK's harness against loopback receivers: exact
//! bytes on the wire, retries while the receiver is down, reconnection after
//! the receiver closed the connection.

use std::io::Read;
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use flb_rs_sdk::testing::Harness;
use flb_rs_sdk::{EventEncoder, EventTime, FlushResult};
use flb_rs_syslog::SyslogOutput;

const T: EventTime = EventTime::new(1_795_561_509, 123_456_789);

fn chunk() -> Vec<u8> {
    let mut enc = EventEncoder::new();
    enc.record(T, |m| {
        m.str("log", "first line\nsecond line");
        m.str("level", "err");
        m.map("kubernetes", |k| k.str("pod_name", "web-1"));
    });
    enc.record(T, |m| {
        m.str("log", "plain");
        m.str("proc", "42");
    });
    enc.into_bytes()
}

fn props(port: u16, extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, String)> {
    let mut p = vec![
        ("host", "127.0.0.1".to_string()),
        ("port", port.to_string()),
        ("mode", "tcp".to_string()),
        ("syslog_message_key", "log".to_string()),
        ("syslog_severity_key", "level".to_string()),
        ("syslog_hostname_key", "$kubernetes['pod_name']".to_string()),
        ("syslog_hostname_preset", "node".to_string()),
        ("syslog_appname_preset", "app".to_string()),
        ("syslog_procid_key", "proc".to_string()),
        ("syslog_bom", "off".to_string()),
    ];
    p.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    p
}

fn harness(p: &[(&'static str, String)]) -> Harness {
    let p: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Harness::output::<SyslogOutput>(&p).unwrap()
}

const M1: &str = "<11>1 2026-11-24T23:05:09.123456Z web-1 app - - - first line\nsecond line";
const M2: &str = "<14>1 2026-11-24T23:05:09.123456Z node app 42 - - plain";

/// Flushes as Fluent Bit's retries would, until the chunk is delivered
/// or 10 seconds pass (the backoff decides when a reconnect is tried).
fn flush_until_delivered(h: &Harness, data: &[u8]) -> FlushResult {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let result = h.flush("t", data);
        if result != FlushResult::Retry || Instant::now() > deadline {
            return result;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn read_all(mut c: TcpStream) -> String {
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut s = String::new();
    c.read_to_string(&mut s).unwrap();
    s
}

#[test]
fn tcp_octet_counted_rfc5424_exactly() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = harness(&props(port, &[]));
    assert_eq!(h.flush("t", &chunk()), FlushResult::Ok);
    drop(h);
    let got = read_all(l.accept().unwrap().0);
    assert_eq!(got, format!("{} {M1}{} {M2}", M1.len(), M2.len()));
}

#[test]
fn tcp_lf_framing_keeps_each_message_on_one_line() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = harness(&props(port, &[("syslog_framing", "non_transparent")]));
    assert_eq!(h.flush("t", &chunk()), FlushResult::Ok);
    drop(h);
    let got = read_all(l.accept().unwrap().0);
    assert_eq!(got, format!("{}\n{M2}\n", M1.replace('\n', " ")));
}

#[test]
fn udp_one_datagram_per_record_and_metrics() {
    let r = UdpSocket::bind("127.0.0.1:0").unwrap();
    r.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let port = r.local_addr().unwrap().port();
    let h = harness(&props(
        port,
        &[("mode", "udp"), ("syslog_format", "rfc3164")],
    ));
    assert_eq!(h.flush("t", &chunk()), FlushResult::Ok);
    let mut buf = [0u8; 2048];
    let n = r.recv(&mut buf).unwrap();
    assert_eq!(
        std::str::from_utf8(&buf[..n]).unwrap(),
        "<11>Nov 24 23:05:09 web-1 app: first line\nsecond line"
    );
    let n = r.recv(&mut buf).unwrap();
    assert_eq!(
        std::str::from_utf8(&buf[..n]).unwrap(),
        "<14>Nov 24 23:05:09 node app[42]: plain"
    );
    assert_eq!(h.host.metric("messages_total", &[]), Some(2.0));
}

#[test]
fn a_receiver_that_is_down_means_retry_then_delivery() {
    // Reserve a port, close it: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let h = harness(&props(port, &[("connect_timeout", "1s")]));
    assert_eq!(h.flush("t", &chunk()), FlushResult::Retry);
    assert_eq!(h.host.metric("connect_failures_total", &[]), Some(1.0));
    assert_eq!(h.host.metric("messages_total", &[]), None);

    let l = TcpListener::bind(("127.0.0.1", port)).unwrap();
    // The backoff (at most a second here) decides when the next attempt is
    // made; until then each flush answers retry at once.
    assert_eq!(flush_until_delivered(&h, &chunk()), FlushResult::Ok);
    drop(h);
    let got = read_all(l.accept().unwrap().0);
    assert_eq!(got, format!("{} {M1}{} {M2}", M1.len(), M2.len()));
}

#[test]
fn a_connection_the_receiver_closed_is_replaced_before_writing() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = harness(&props(port, &[]));
    assert_eq!(h.flush("t", &chunk()), FlushResult::Ok);
    // The receiver reads the first chunk and closes the connection.
    let (mut first, _) = l.accept().unwrap();
    let mut buf = vec![0u8; 4096];
    let mut got = 0;
    let want = M1.len() + M2.len() + 6;
    while got < want {
        got += first.read(&mut buf[got..]).unwrap();
    }
    drop(first);
    // A blind write would go into the dead connection and be lost; the
    // output notices the close and delivers on a new connection.
    assert_eq!(flush_until_delivered(&h, &chunk()), FlushResult::Ok);
    drop(h);
    let second = read_all(l.accept().unwrap().0);
    assert_eq!(second, format!("{} {M1}{} {M2}", M1.len(), M2.len()));
}

#[test]
fn bad_configuration_is_refused_with_the_key_named() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("mode", "carrier-pigeon")], "mode 'carrier-pigeon'"),
        (&[("syslog_format", "rfc9999")], "syslog_format 'rfc9999'"),
        (
            &[("syslog_severity_preset", "8")],
            "syslog_severity_preset must be 0 to 7",
        ),
        (
            &[("syslog_facility_preset", "24")],
            "syslog_facility_preset must be 0 to 23",
        ),
        (
            &[("syslog_hostname_key", "$a[b]")],
            "syslog_hostname_key: invalid record accessor",
        ),
        (&[("syslog_time_offset", "CET")], "syslog_time_offset 'CET'"),
        (&[("syslog_framing", "crlf")], "syslog_framing 'crlf'"),
        (
            &[("tls", "on")],
            "tls: TLS needs mode tcp, tls or relp, not udp",
        ),
        (&[("mode", "dtls")], "mode 'dtls' is not supported"),
        (
            &[("mode", "tls"), ("tls.ca_file", "/nonexistent")],
            "tls.ca_file /nonexistent",
        ),
    ];
    for (p, want) in cases {
        let e = Harness::output::<SyslogOutput>(p).err().unwrap();
        assert!(e.0.contains(want), "{p:?}: {e}");
    }
}

#[test]
fn maxsize_truncation_is_counted() {
    let r = UdpSocket::bind("127.0.0.1:0").unwrap();
    r.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let port = r.local_addr().unwrap().port();
    let h = harness(&props(port, &[("mode", "udp"), ("syslog_maxsize", "60")]));
    assert_eq!(h.flush("t", &chunk()), FlushResult::Ok);
    let mut buf = [0u8; 2048];
    let n = r.recv(&mut buf).unwrap();
    assert_eq!(n, 60, "no datagram above the limit");
    assert_eq!(h.host.metric("truncated_total", &[]), Some(1.0));
}

/// syslog_maxsize below header + SD: whole SD elements are left out from
/// the end (counted, and warned about), never one cut open.
#[test]
fn maxsize_leaves_out_sd_elements_that_do_not_fit() {
    let r = UdpSocket::bind("127.0.0.1:0").unwrap();
    r.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let port = r.local_addr().unwrap().port();
    let h = harness(&props(
        port,
        &[
            ("mode", "udp"),
            ("syslog_maxsize", "90"),
            ("syslog_sd_key", "a@1"),
            ("syslog_sd_key", "b@1"),
        ],
    ));
    let mut enc = EventEncoder::new();
    enc.record(T, |m| {
        m.str("log", "text");
        m.map("a@1", |p| p.str("k", "short"));
        m.map("b@1", |p| p.str("k", &"long".repeat(10)));
    });
    assert_eq!(h.flush("t", &enc.into_bytes()), FlushResult::Ok);
    let mut buf = [0u8; 2048];
    let n = r.recv(&mut buf).unwrap();
    assert_eq!(
        std::str::from_utf8(&buf[..n]).unwrap(),
        "<14>1 2026-11-24T23:05:09.123456Z node app - - [a@1 k=\"short\"] text"
    );
    assert_eq!(h.host.metric("truncated_total", &[]), Some(1.0));
    assert!(
        h.host
            .logs()
            .iter()
            .any(|(_, l)| l.contains("1 SD elements were left out")),
        "{:?}",
        h.host.logs()
    );
}

#[test]
fn a_receiver_that_stops_reading_costs_a_bounded_time_then_retry() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = harness(&props(
        port,
        &[("write_timeout", "1s"), ("send_buffer_size", "64K")],
    ));
    // A chunk far larger than the socket buffers on both sides.
    let mut enc = EventEncoder::new();
    let line = "x".repeat(1000);
    for _ in 0..20_000 {
        enc.record(T, |m| m.str("log", &line));
    }
    let data = enc.into_bytes();
    let started = Instant::now();
    // The receiver accepts and never reads.
    let result = h.flush("t", &data);
    let took = started.elapsed();
    let (stalled, _) = l.accept().unwrap();
    assert_eq!(result, FlushResult::Retry);
    assert!(
        took < Duration::from_secs(5),
        "a stalled receiver held the flush {took:?}"
    );
    drop(stalled);
    // A receiver that reads gets the whole chunk on a fresh connection,
    // starting with a whole frame.
    let reader = std::thread::spawn(move || read_all(l.accept().unwrap().0));
    assert_eq!(flush_until_delivered(&h, &data), FlushResult::Ok);
    drop(h);
    let got = reader.join().unwrap();
    let first = got.split(' ').next().unwrap();
    assert!(
        first.parse::<usize>().is_ok(),
        "the new connection starts on a frame: {:?}",
        &got[..20]
    );
    assert_eq!(got.matches(&line).count(), 20_000);
}

#[test]
fn records_without_a_message_are_sent_empty_or_dropped_and_counted() {
    let r = UdpSocket::bind("127.0.0.1:0").unwrap();
    r.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let port = r.local_addr().unwrap().port();
    let mut enc = EventEncoder::new();
    enc.record(T, |m| m.str("other", "no log field"));
    enc.record(T, |m| m.str("log", "kept"));
    let data = enc.into_bytes();

    let h = harness(&props(
        port,
        &[("mode", "udp"), ("syslog_message_missing", "drop")],
    ));
    assert_eq!(h.flush("t", &data), FlushResult::Ok);
    let mut buf = [0u8; 512];
    let n = r.recv(&mut buf).unwrap();
    assert!(std::str::from_utf8(&buf[..n]).unwrap().ends_with(" kept"));
    assert_eq!(h.host.metric("dropped_records_total", &[]), Some(1.0));
    assert_eq!(h.host.metric("messages_total", &[]), Some(1.0));
    assert!(h.host.logged(
        log::Level::Warn,
        "1 records without the message key were dropped"
    ));

    // The built-in output's behaviour, the default: an empty message.
    let h = harness(&props(port, &[("mode", "udp")]));
    assert_eq!(h.flush("t", &data), FlushResult::Ok);
    let n = r.recv(&mut buf).unwrap();
    assert!(std::str::from_utf8(&buf[..n])
        .unwrap()
        .ends_with("node app - - -"));
    assert_eq!(h.host.metric("messages_total", &[]), Some(2.0));
}

#[test]
fn ipv6_loopback() {
    let Ok(l) = TcpListener::bind("[::1]:0") else {
        println!("SKIPPED: no IPv6 loopback");
        return;
    };
    let port = l.local_addr().unwrap().port().to_string();
    let h = Harness::output::<SyslogOutput>(&[
        ("mode", "tcp"),
        ("host", "::1"),
        ("port", &port),
        ("syslog_message_key", "log"),
        ("syslog_bom", "off"),
    ])
    .unwrap();
    assert_eq!(h.flush("t", &chunk()), FlushResult::Ok);
    drop(h);
    let got = read_all(l.accept().unwrap().0);
    assert!(got.ends_with(" plain"), "{got}");
}

#[test]
fn a_connection_the_receiver_reset_is_replaced_before_writing() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = harness(&props(port, &[]));
    assert_eq!(h.flush("t", &chunk()), FlushResult::Ok);
    let (first, _) = l.accept().unwrap();
    // SO_LINGER 0: closing sends a reset instead of a FIN.
    socket2::SockRef::from(&first)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(first);
    assert_eq!(flush_until_delivered(&h, &chunk()), FlushResult::Ok);
    drop(h);
    let second = read_all(l.accept().unwrap().0);
    assert_eq!(second, format!("{} {M1}{} {M2}", M1.len(), M2.len()));
}

/// A RELP receiver on loopback that acknowledges, on its n-th connection,
/// only `plan[n]` messages and then drops the connection (`usize::MAX`:
/// all). Returns the port and the messages it acknowledged, in order.
fn relp_receiver(plan: Vec<usize>) -> (u16, std::sync::mpsc::Receiver<String>) {
    use std::io::{BufReader, Write};
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for acks in plan {
            let Ok((s, _)) = l.accept() else { return };
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut w = s.try_clone().unwrap();
            let mut r = BufReader::new(s);
            let mut acked = 0;
            loop {
                // TXNR SP COMMAND SP DATALEN [SP DATA] LF
                let mut field = |stop: &[u8]| -> Option<String> {
                    let mut f = Vec::new();
                    let mut b = [0u8; 1];
                    loop {
                        r.read_exact(&mut b).ok()?;
                        if stop.contains(&b[0]) {
                            return Some(String::from_utf8_lossy(&f).into_owned());
                        }
                        f.push(b[0]);
                    }
                };
                let (Some(txnr), Some(cmd), Some(len)) = (field(b" "), field(b" "), field(b" \n"))
                else {
                    break;
                };
                let len: usize = len.parse().unwrap();
                let mut data = vec![0u8; len];
                let mut lf = [0u8; 1];
                if len > 0 && (r.read_exact(&mut data).is_err() || r.read_exact(&mut lf).is_err()) {
                    break;
                }
                let answer = match cmd.as_str() {
                    "open" => "200 OK\nrelp_version=0\ncommands=syslog".to_string(),
                    "syslog" if acked < acks => {
                        acked += 1;
                        let text = String::from_utf8_lossy(&data);
                        tx.send(text.rsplit(' ').next().unwrap().to_string())
                            .unwrap();
                        "200 OK".to_string()
                    }
                    "syslog" => break,
                    _ => {
                        let _ = w.write_all(format!("{txnr} rsp 0\n").as_bytes());
                        break;
                    }
                };
                w.write_all(format!("{txnr} rsp {} {answer}\n", answer.len()).as_bytes())
                    .unwrap();
            }
        }
    });
    (port, rx)
}

fn numbered(prefix: &str, n: usize) -> Vec<u8> {
    let mut enc = EventEncoder::new();
    for i in 0..n {
        enc.record(T, |m| m.str("log", &format!("{prefix}{i}")));
    }
    enc.into_bytes()
}

/// rs_syslog over RELP to `port`, the message from `log`, without a BOM.
fn relp_output(port: u16) -> Harness {
    let port = port.to_string();
    Harness::output::<SyslogOutput>(&[
        ("mode", "relp"),
        ("port", &port),
        ("syslog_message_key", "log"),
        ("syslog_bom", "off"),
        ("relp_timeout", "5s"),
    ])
    .unwrap()
}

/// Two chunks fail part-way one after the other, then both are retried:
/// each retry resumes after its own acknowledged prefix, so every message
/// is acknowledged exactly once.
#[test]
fn relp_retries_of_several_chunks_each_resume_where_they_stopped() {
    let (port, acked) = relp_receiver(vec![4, 3, usize::MAX]);
    let h = relp_output(port);
    let (a, b) = (numbered("a", 10), numbered("b", 10));
    assert_eq!(h.flush("t", &a), FlushResult::Retry);
    assert_eq!(h.flush("t", &b), FlushResult::Retry);
    assert_eq!(h.host.metric("relp_unacked", &[]), Some(13.0));
    assert_eq!(h.flush("t", &a), FlushResult::Ok);
    assert_eq!(h.flush("t", &b), FlushResult::Ok);
    assert_eq!(h.host.metric("relp_unacked", &[]), Some(0.0));
    drop(h);
    let got: Vec<String> = acked.try_iter().collect();
    let want: Vec<String> = ["a0", "a1", "a2", "a3", "b0", "b1", "b2"]
        .iter()
        .map(|s| s.to_string())
        .chain((4..10).map(|i| format!("a{i}")))
        .chain((3..10).map(|i| format!("b{i}")))
        .collect();
    assert_eq!(got, want);
}

/// A chunk larger than one piece (256 KiB of messages) goes over RELP in
/// pieces; when the connection breaks in the second one, the gauge of what
/// is not acknowledged counts the whole rest of the chunk, and the retry
/// starts right after the last acknowledged message. (The receiver here
/// closes with messages unread, so the reset may swallow the last of its
/// acknowledgements, at most a window's worth: those are sent again.)
#[test]
fn relp_large_chunk_goes_in_pieces_and_resumes_after_the_acknowledged_prefix() {
    let (port, acked) = relp_receiver(vec![7000, usize::MAX]);
    let h = relp_output(port);
    let a = numbered("a", 12_000);
    assert_eq!(h.flush("t", &a), FlushResult::Retry);
    let unacked = h.host.metric("relp_unacked", &[]).unwrap() as usize;
    let resume = 12_000 - unacked;
    assert!(
        (7000 - 128..=7000).contains(&resume),
        "{resume} acknowledged"
    );
    assert!(h.host.logged(
        log::Level::Warn,
        &format!("{resume} of its messages were written before")
    ));
    assert_eq!(h.flush("t", &a), FlushResult::Ok);
    assert_eq!(h.host.metric("relp_unacked", &[]), Some(0.0));
    drop(h);
    let got: Vec<String> = acked.try_iter().collect();
    let want: Vec<String> = (0..7000)
        .chain(resume..12_000)
        .map(|i| format!("a{i}"))
        .collect();
    assert_eq!(got.len(), want.len());
    assert!(got == want, "the retry did not start at message {resume}");
}

/// Fluent Bit 3.2, when it starts to shut down, dispatches a task whose
/// retry is running a second time (the same host buffer). That second
/// flush of a chunk a retry just delivered sends nothing; the same bytes
/// from another buffer are another chunk and are sent.
#[test]
fn relp_second_dispatch_of_a_delivered_retry_is_not_sent_again() {
    let (port, acked) = relp_receiver(vec![4, usize::MAX]);
    let h = relp_output(port);
    let a = numbered("a", 10);
    assert_eq!(h.flush("t", &a), FlushResult::Retry);
    assert_eq!(h.flush("t", &a), FlushResult::Ok);
    assert_eq!(h.flush("t", &a), FlushResult::Ok);
    assert!(h.host.logged(log::Level::Info, "it is not sent twice"));
    let copy = a.clone();
    assert_eq!(h.flush("t", &copy), FlushResult::Ok);
    drop(h);
    let got: Vec<String> = acked.try_iter().collect();
    let want: Vec<String> = (0..10).chain(0..10).map(|i| format!("a{i}")).collect();
    assert_eq!(got, want);
}

/// A chunk with nothing to send over RELP (every record dropped) is OK
/// without a connection, even while the receiver is down.
#[test]
fn relp_chunk_with_nothing_to_send_needs_no_connection() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let h = Harness::output::<SyslogOutput>(&[
        ("mode", "relp"),
        ("port", &port),
        ("syslog_message_key", "log"),
        ("syslog_message_missing", "drop"),
    ])
    .unwrap();
    let mut enc = EventEncoder::new();
    enc.record(T, |m| m.str("other", "no message key"));
    assert_eq!(h.flush("t", &enc.into_bytes()), FlushResult::Ok);
    assert_eq!(
        h.host
            .metric("connect_failures_total", &[])
            .unwrap_or_default(),
        0.0
    );
}

/// A chunk whose last record is cut short, after the keys the mapping
/// reads first: the records before it are sent, the cut one is not (not
/// even what was read of it), and the chunk is reported malformed.
#[test]
fn a_malformed_tail_sends_the_records_before_it_and_nothing_of_it() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let mut data = chunk();
    let mut enc = EventEncoder::new();
    enc.record(T, |m| {
        m.str("log", "cut short");
        m.str("level", "err");
        m.map("kubernetes", |k| k.str("pod_name", "web-2"));
    });
    let third = enc.into_bytes();
    // Cut inside "web-2", the last value of the body.
    data.extend_from_slice(&third[..third.len() - 2]);
    let h = harness(&props(port, &[]));
    assert_eq!(h.flush("t", &data), FlushResult::Error);
    assert_eq!(h.host.metric("malformed_chunks_total", &[]), Some(1.0));
    assert_eq!(h.host.metric("messages_total", &[]), Some(2.0));
    assert!(h.host.logged(
        log::Level::Error,
        "2 records before it were sent, the rest is dropped"
    ));
    drop(h);
    let got = read_all(l.accept().unwrap().0);
    assert_eq!(got, format!("{} {M1}{} {M2}", M1.len(), M2.len()));
}
