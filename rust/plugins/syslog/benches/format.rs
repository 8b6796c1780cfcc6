//! Time per record to map and format Kubernetes-like records as RFC 5424
//! messages with octet counting, as the output does for every flush.
//!
//!     cargo bench -p flb-rs-syslog --bench format
//!
//! Prints nanoseconds per record (the best of several rounds over a chunk
//! of 10,000 records) for decoding alone, decoding and mapping, and the
//! whole; `-- full` runs only the whole (for instruction counts under
//! `valgrind --tool=callgrind`). The side-by-side comparison with the built-in
//! output is `tests/bench/syslog-output.sh`; this one isolates the Rust
//! side while it is being worked on.

use std::time::Instant;

use flb_rs_sdk::accessor::RecordAccessor;
use flb_rs_sdk::{EventEncoder, EventTime, Events, Writer};
use flb_rs_syslog::format::{self, Options};
use flb_rs_syslog::framing::Framing;
use flb_rs_syslog::mapping::{Field, Issues, Mapping, SdKey};
use flb_rs_syslog::message::Message;

/// `n` records encoded as Fluent Bit's tail and JSON parser encode them:
/// maps and strings in their shortest headers (fixmap, fixstr, str8).
fn chunk(n: usize) -> Vec<u8> {
    let mut enc = EventEncoder::new();
    let mut body = Writer::new();
    for i in 0..n {
        body.clear();
        body.map_len(4);
        body.str("log");
        body.str(&format!(
            "10.0.{}.{} - - [24/Nov/2026:10:00:00 +0000] \"GET /api/v1/items/{i} HTTP/1.1\" \
             200 {} \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\" rt=0.0{}",
            i % 256,
            i % 199,
            i % 5000,
            i % 10
        ));
        body.str("stream");
        body.str("stdout");
        body.str("level");
        body.str(["info", "warning", "err"][i % 3]);
        body.str("kubernetes");
        body.map_len(5);
        for (k, v) in [
            ("pod_name", format!("web-7d9c4-{}", i % 50)),
            ("namespace_name", "prod".into()),
            ("container_name", "nginx".into()),
            ("host", "node-1".into()),
        ] {
            body.str(k);
            body.str(&v);
        }
        body.str("labels");
        body.map_len(1);
        body.str("app");
        body.str("web");
        enc.record_encoded(
            EventTime::new(1_795_561_509, 123_456_789),
            None,
            body.as_bytes(),
        );
    }
    enc.into_bytes()
}

fn main() {
    let acc = |s: &str| Some(RecordAccessor::parse(s).unwrap());
    let mapping = Mapping {
        severity_key: acc("level"),
        severity_preset: 6,
        facility_key: None,
        facility_preset: 1,
        hostname: Field {
            key: None,
            preset: Some("node-1".into()),
        },
        appname: Field {
            key: None,
            preset: Some("nginx".into()),
        },
        procid: Field::default(),
        msgid: Field::default(),
        sd_keys: vec![SdKey::new(acc("kubernetes").unwrap())],
        sd_elements_keys: vec![],
        message_key: acc("log"),
        kubernetes: None,
    };
    let opts = Options {
        maxsize: 2048,
        ..Options::default()
    };
    let n = 10_000;
    let data = chunk(n);
    let mut best = f64::MAX;
    let mut out = Vec::with_capacity(4 << 20);
    for _ in 0..20 {
        let start = Instant::now();
        out.clear();
        let mut m = Message::default();
        let mut msg = Vec::with_capacity(1024);
        let mut issues = Issues::default();
        for ev in Events::new(&data) {
            let ev = ev.unwrap();
            mapping.fill(&ev, &mut m, &mut issues);
            msg.clear();
            format::rfc5424(&mut msg, &m, &opts);
            Framing::OctetCounting.frame(&mut out, &msg);
        }
        best = best.min(start.elapsed().as_secs_f64() * 1e9 / n as f64);
    }
    let only_full = std::env::args().any(|a| a == "full");
    let rounds = if only_full { 0 } else { 20 };
    let mut decode = f64::MAX;
    for _ in 0..rounds {
        let start = Instant::now();
        let mut k = 0usize;
        for ev in Events::new(&data) {
            let ev = ev.unwrap();
            k += ev.body.len();
        }
        std::hint::black_box(k);
        decode = decode.min(start.elapsed().as_secs_f64() * 1e9 / n as f64);
    }
    println!("events only: {decode:.0} ns/record");
    let mut fill = f64::MAX;
    for _ in 0..rounds {
        let start = Instant::now();
        let mut m = Message::default();
        let mut issues = Issues::default();
        for ev in Events::new(&data) {
            let ev = ev.unwrap();
            mapping.fill(&ev, &mut m, &mut issues);
            std::hint::black_box(&m);
        }
        fill = fill.min(start.elapsed().as_secs_f64() * 1e9 / n as f64);
    }
    println!("events + fill: {fill:.0} ns/record");
    println!(
        "map + format + frame: {best:.0} ns/record ({} bytes per message)",
        out.len() / n
    );
}
