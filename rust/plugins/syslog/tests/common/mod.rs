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
