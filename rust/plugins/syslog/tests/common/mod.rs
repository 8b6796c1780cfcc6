//! Shared by the interop tests: reading what a real syslog daemon wrote.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::path::Path;

pub mod certs;
use std::time::{Duration, Instant};

/// A TCP port free on 127.0.0.1 right now (also free for UDP, in practice).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An rs_syslog input in `mode` on a free port of 127.0.0.1, with `extra`
/// properties: its harness, and the port.
pub fn listening(mode: &str, extra: &[(&str, &str)]) -> (flb_rs_sdk::testing::Harness, String) {
    let port = free_port().to_string();
    let mut props = vec![
        ("mode", mode),
        ("listen", "127.0.0.1"),
        ("port", port.as_str()),
    ];
    props.extend_from_slice(extra);
    let h = flb_rs_sdk::testing::Harness::input::<flb_rs_syslog::SyslogInput>(&props)
        .unwrap_or_else(|e| panic!("{}", e.0));
    (h, port)
}

/// Ends each record in the daemons' output files: messages may hold line
/// feeds, so a line is not a record.
pub const END: &str = "<<END>>";

/// Waits until `out` holds `n` records and returns them, each split into
/// at most `fields` fields on `|`. `log` says what the daemon logged, for
/// the failure message.
pub fn records(out: &Path, n: usize, fields: usize, log: impl Fn() -> String) -> Vec<Vec<String>> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(out).unwrap_or_default();
        let recs: Vec<&str> = text
            .split(&format!("{END}\n"))
            .filter(|r| !r.is_empty())
            .collect();
        if recs.len() >= n {
            return recs
                .iter()
                .map(|r| r.splitn(fields, '|').map(str::to_string).collect())
                .collect();
        }
        assert!(
            Instant::now() < deadline,
            "{} of {n} records after 20 s; the daemon said: {}",
            recs.len(),
            log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One record an input handed over: its time, and its body and metadata
/// as JSON.
#[derive(Debug, Clone)]
pub struct Received {
    pub time: flb_rs_sdk::EventTime,
    pub body: String,
    pub meta: String,
}

/// Collects records from the input under `h` until `n` arrived, for at
/// most `within`; fails, showing what arrived and what the plugin
/// logged, when fewer did.
pub fn collect_records(
    h: &flb_rs_sdk::testing::Harness,
    n: usize,
    within: Duration,
) -> Vec<Received> {
    use flb_rs_sdk::{json, Events, Value};
    let deadline = Instant::now() + within;
    let mut out = Vec::new();
    while out.len() < n && Instant::now() < deadline {
        for (_, data) in h.collect(n - out.len(), Duration::from_millis(200)) {
            for ev in Events::new(&data) {
                let ev = ev.expect("the input encoded a broken event");
                out.push(Received {
                    time: ev.time,
                    body: json::to_string(&Value::Map(ev.body)).unwrap(),
                    meta: json::to_string(&Value::Map(ev.metadata.expect("metadata"))).unwrap(),
                });
            }
        }
    }
    assert_eq!(
        out.len(),
        n,
        "records after {within:?}: {out:#?}\nthe input logged: {:#?}",
        h.host.logs()
    );
    out
}

/// Chunks of numbered records (`seq=000123` in `log`), as Fluent Bit
/// would hand them over.
pub fn numbered(first: u64, n: u64) -> Vec<u8> {
    let mut enc = flb_rs_sdk::EventEncoder::new();
    for seq in first..first + n {
        enc.record(
            flb_rs_sdk::EventTime::new(1_795_561_509, 123_456_789),
            |m| m.str("log", &format!("seq={seq:06}")),
        );
    }
    enc.into_bytes()
}

/// Sequence numbers found in a daemon's output file.
pub fn seqs(text: &str) -> Vec<u64> {
    text.split(END)
        .filter_map(|r| r.split("seq=").nth(1))
        .filter_map(|s| s.get(..6)?.parse().ok())
        .collect()
}

/// Waits (10 s at most) until `out` holds `want` numbered records; `what`
/// and `log` go into the failure message.
pub fn wait_for_seqs(out: &Path, want: usize, what: &str, log: impl Fn() -> String) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while seqs(&std::fs::read_to_string(out).unwrap_or_default()).len() < want {
        assert!(
            Instant::now() < deadline,
            "{what} did not arrive: {}",
            log()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
