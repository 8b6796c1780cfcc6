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
    assert_eq!(out.len(), n, "records: {out:?}");
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
