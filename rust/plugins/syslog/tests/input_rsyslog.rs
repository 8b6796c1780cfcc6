//! The `rs_syslog` input against real senders: rsyslog's output modules
//! (omfwd over UDP, TCP and TLS, omrelp), util-linux `logger(1)` and our
//! own output. Each sends messages whose every field is known, and every
//! field must arrive as sent.
//!
//! rsyslogd is started here with its own configuration, pid file and work
//! directory: the test feeds messages to its imtcp (on a loopback high
//! port), and rsyslog forwards them to the input with the module under
//! test, so the wire format is rsyslog's own. Skipped, with a message,
//! when rsyslogd, one of its modules or logger is missing; under CI (`CI`
//! set) that is a failure, since .ci/run installs them.

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use flb_rs_sdk::json;
use flb_rs_sdk::testing::Harness;
use flb_rs_sdk::{EventEncoder, EventTime, FlushResult};
use flb_rs_syslog::{SyslogInput, SyslogOutput};

mod common;
use common::{collect_records, free_port, Received};

/// Messages sent in each exchange.
const N: usize = 20;
/// How long forwarded records may take to arrive.
const WITHIN: Duration = Duration::from_secs(20);

fn missing(what: &str, install: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{what} is missing, but CI must run the interop tests"
    );
    println!("SKIPPED: {what} is missing ({install})");
}

fn rsyslogd() -> Option<PathBuf> {
    let found = [
        "/usr/sbin/rsyslogd",
        "/usr/local/sbin/rsyslogd",
        "/sbin/rsyslogd",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists());
    if found.is_none() {
        missing("rsyslogd", "apt-get install rsyslog");
    }
    found
}

/// rsyslogd, when it and its loadable `modules` (e.g. omrelp, lmnsd_ossl)
/// are installed.
fn rsyslogd_with(modules: &[(&str, &str)]) -> Option<PathBuf> {
    let bin = rsyslogd()?;
    let dirs = [
        "/usr/lib/x86_64-linux-gnu/rsyslog",
        "/usr/lib/aarch64-linux-gnu/rsyslog",
        "/usr/lib64/rsyslog",
        "/usr/lib/rsyslog",
        "/usr/local/lib/rsyslog",
    ];
    for (module, package) in modules {
        let file = format!("{module}.so");
        if !dirs.iter().any(|d| Path::new(d).join(&file).exists()) {
            missing(
                &format!("the rsyslog module {module}"),
                &format!("apt-get install {package}"),
            );
            return None;
        }
    }
    Some(bin)
}

fn logger() -> Option<PathBuf> {
    let found = ["/usr/bin/logger", "/bin/logger", "/usr/local/bin/logger"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        missing("logger", "apt-get install bsdutils");
    }
    found
}

/// A fresh directory for one test.
fn test_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flb-rs-in-rsyslog-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A private rsyslogd that forwards what its imtcp receives with
/// `action`; killed (and its directory removed) when dropped.
struct Sender {
    child: Child,
    dir: PathBuf,
    /// imtcp's port, where the test feeds messages.
    port: u16,
}

impl Sender {
    /// `global` is added to `global(...)`, `modules` (module loads) before
    /// the ruleset.
    fn start(bin: &Path, dir: &Path, global: &str, modules: &str, action: &str) -> Sender {
        let port = free_port();
        let conf = format!(
            r#"global(workDirectory="{dir}" parser.escapeControlCharactersOnReceive="off"{global})
main_queue(queue.type="Direct")
module(load="imtcp")
{modules}
ruleset(name="fwd") {{
  {action}
}}
input(type="imtcp" address="127.0.0.1" port="{port}" ruleset="fwd")
"#,
            dir = dir.display(),
        );
        std::fs::write(dir.join("rsyslog.conf"), conf).unwrap();
        let log = std::fs::File::create(dir.join("rsyslogd.log")).unwrap();
        let child = Command::new(bin)
            .arg("-n")
            .arg("-f")
            .arg(dir.join("rsyslog.conf"))
            .arg("-i")
            .arg(dir.join("rsyslogd.pid"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start rsyslogd");
        let s = Sender {
            child,
            dir: dir.to_path_buf(),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "rsyslogd did not start: {}",
                s.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        s
    }

    /// Hands `msgs` to rsyslog's imtcp, octet-counted.
    fn feed(&self, msgs: &[Sent]) {
        let mut c = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let mut out = Vec::new();
        for m in msgs {
            let line = m.rfc5424();
            out.extend_from_slice(format!("{} {line}", line.len()).as_bytes());
        }
        c.write_all(&out).unwrap();
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("rsyslogd.log")).unwrap_or_default()
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One message as the test writes it.
#[derive(Debug, Clone)]
struct Sent {
    pri: u8,
    /// Its timestamp, to the microsecond.
    time: EventTime,
    hostname: String,
    appname: String,
    procid: Option<String>,
    msgid: Option<String>,
    /// SD as on the wire, and as the record's `sd` (JSON).
    sd: Option<(String, String)>,
    message: String,
}

impl Sent {
    fn rfc5424(&self) -> String {
        let mut ts = Vec::new();
        flb_rs_syslog::time::rfc3339(&mut ts, self.time, 6, 0);
        let ts = String::from_utf8(ts).unwrap();
        let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        format!(
            "<{}>1 {ts} {} {} {} {} {} {}",
            self.pri,
            self.hostname,
            self.appname,
            dash(&self.procid),
            dash(&self.msgid),
            self.sd.as_ref().map_or("-", |(wire, _)| wire.as_str()),
            self.message
        )
    }

    /// The record body expected: with MSGID and SD for RFC 5424, without
    /// for RFC 3164 (which has neither).
    fn body(&self, rfc5424: bool) -> String {
        let s = |v: &str| {
            let mut o = String::new();
            json::write_str(&mut o, v);
            o
        };
        let mut b = format!(
            r#"{{"pri":{},"facility":{},"severity":{},"hostname":{},"appname":{}"#,
            self.pri,
            self.pri >> 3,
            self.pri & 7,
            s(&self.hostname),
            s(&self.appname)
        );
        if let Some(p) = &self.procid {
            b += &format!(r#","procid":{}"#, s(p));
        }
        if rfc5424 {
            if let Some(m) = &self.msgid {
                b += &format!(r#","msgid":{}"#, s(m));
            }
            if let Some((_, sd)) = &self.sd {
                b += &format!(r#","sd":{sd}"#);
            }
        }
        b += &format!(r#","message":{}}}"#, s(&self.message));
        b
    }
}

/// `N` distinct messages, stamped now: every facility and severity in
/// turn, one with unicode, one with no PROCID, MSGID or SD, SD values with
/// `"`, `\` and `]` escaped.
fn messages() -> Vec<Sent> {
    let now = EventTime::now();
    let time = EventTime::new(now.seconds, now.nanos / 1000 * 1000);
    (0..N)
        .map(|i| {
            let bare = i == 1;
            Sent {
                pri: ((i % 24) * 8 + i % 8) as u8,
                time,
                hostname: format!("host-{i}.example.org"),
                appname: format!("app_{i}"),
                procid: (!bare).then(|| format!("{}", 1000 + i)),
                msgid: (!bare).then(|| format!("ID{i}")),
                sd: (!bare).then(|| {
                    (
                        format!(r#"[test@32473 i="{i}" esc="q\"b\\s\]e"][meta@32473 seq="{i}"]"#),
                        format!(
                            r#"{{"test@32473":{{"i":"{i}","esc":"q\"b\\s]e"}},"meta@32473":{{"seq":"{i}"}}}}"#
                        ),
                    )
                }),
                message: match i {
                    0 => "héllo wörld ✓ 日本語 🎉 ünïcödé".to_string(),
                    _ => format!(r#"message {i}: a "quoted" word, a back\slash and [brackets]"#),
                },
            }
        })
        .collect()
}

/// How the timestamps are to be checked.
#[derive(Clone, Copy, PartialEq)]
enum Time {
    /// To the microsecond, as sent.
    Exact,
    /// RFC 3164's `Mmm dd hh:mm:ss`: the second as sent.
    Seconds,
}

/// Starts the input with `props` on a free port; returns it and the port.
fn input(mode: &str, extra: &[(&str, &str)]) -> (Harness, u16) {
    let port = free_port();
    let p = port.to_string();
    let mut props = vec![("mode", mode), ("listen", "127.0.0.1"), ("port", &p)];
    props.extend_from_slice(extra);
    let h = Harness::input::<SyslogInput>(&props).unwrap_or_else(|e| panic!("{}", e.0));
    (h, port)
}

/// Checks that `got` holds each of `sent` exactly once, every field as
/// sent, with the metadata given.
fn check(got: &[Received], sent: &[Sent], rfc5424: bool, time: Time, transport: &str) {
    let format = if rfc5424 { "rfc5424" } else { "rfc3164" };
    let mut seen = vec![false; sent.len()];
    for r in got {
        let i = r
            .body
            .split(r#""appname":"app_"#)
            .nth(1)
            .and_then(|s| s.split('"').next())
            .and_then(|s| s.parse::<usize>().ok())
            .filter(|i| *i < sent.len())
            .unwrap_or_else(|| panic!("a record that was not sent: {r:?}"));
        assert!(!seen[i], "message {i} arrived twice");
        seen[i] = true;
        let s = &sent[i];
        assert_eq!(r.body, s.body(rfc5424), "message {i}");
        match time {
            Time::Exact => assert_eq!(r.time, s.time, "message {i}'s timestamp"),
            Time::Seconds => assert_eq!(
                r.time,
                EventTime::new(s.time.seconds, 0),
                "message {i}'s timestamp"
            ),
        }
        assert!(r.meta.starts_with(r#"{"source":"127.0.0.1:"#), "{}", r.meta);
        assert!(
            r.meta.ends_with(&format!(
                r#"","transport":"{transport}","format":"{format}"}}"#
            )),
            "{}",
            r.meta
        );
    }
}

/// Sends `messages()` through an rsyslogd whose forwarding action is
/// `action(port)` to an input in `mode`, and checks every record.
#[allow(clippy::too_many_arguments)]
fn through_rsyslog(
    bin: &Path,
    name: &str,
    mode: &str,
    input_props: &[(&str, &str)],
    global: &str,
    modules: &str,
    action: impl Fn(u16) -> String,
    rfc5424: bool,
    time: Time,
) {
    let dir = test_dir(name);
    let (h, port) = input(mode, input_props);
    let rs = Sender::start(bin, &dir, global, modules, &action(port));
    let sent = messages();
    rs.feed(&sent);
    let deadline = Instant::now() + WITHIN;
    let mut got = Vec::new();
    while got.len() < N && Instant::now() < deadline {
        let left = deadline.saturating_duration_since(Instant::now());
        got.extend(collect_records_upto(&h, N - got.len(), left));
    }
    assert_eq!(
        got.len(),
        N,
        "{} of {N} records; rsyslogd said: {}\nthe input logged: {:?}",
        got.len(),
        rs.log(),
        h.host.logs()
    );
    check(&got, &sent, rfc5424, time, mode);
    // Nothing more: no duplicates, no stray records.
    assert!(
        h.collect(1, Duration::from_millis(300)).is_empty(),
        "more records than sent"
    );
    assert_eq!(h.host.metric("parse_errors_total", &[]), None);
    assert_eq!(h.host.metric("messages_total", &[]), Some(N as f64));
}

/// Like `collect_records`, without failing when fewer arrive.
fn collect_records_upto(h: &Harness, n: usize, within: Duration) -> Vec<Received> {
    use flb_rs_sdk::{Events, Value};
    let mut out = Vec::new();
    for (_, data) in h.collect(n, within.min(Duration::from_millis(500))) {
        for ev in Events::new(&data) {
            let ev = ev.unwrap();
            out.push(Received {
                time: ev.time,
                body: json::to_string(&Value::Map(ev.body)).unwrap(),
                meta: json::to_string(&Value::Map(ev.metadata.unwrap())).unwrap(),
            });
        }
    }
    out
}

fn omfwd(port: u16, protocol: &str, template: &str, extra: &str) -> String {
    format!(
        r#"action(type="omfwd" target="127.0.0.1" port="{port}" protocol="{protocol}" template="{template}"{extra})"#
    )
}

#[test]
fn rsyslog_omfwd_udp_rfc5424() {
    let Some(bin) = rsyslogd() else { return };
    through_rsyslog(
        &bin,
        "udp-5424",
        "udp",
        &[],
        "",
        "",
        |p| omfwd(p, "udp", "RSYSLOG_SyslogProtocol23Format", ""),
        true,
        Time::Exact,
    );
}

#[test]
fn rsyslog_omfwd_udp_forward_format() {
    let Some(bin) = rsyslogd() else { return };
    // `<PRI>RFC3339 HOST TAG[PID]: MSG`: RFC 3164 with an RFC 3339 time.
    through_rsyslog(
        &bin,
        "udp-fwd",
        "udp",
        &[],
        "",
        "",
        |p| omfwd(p, "udp", "RSYSLOG_ForwardFormat", ""),
        false,
        Time::Exact,
    );
}

#[test]
fn rsyslog_omfwd_udp_traditional_format() {
    let Some(bin) = rsyslogd() else { return };
    // `<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG`, omfwd's default.
    through_rsyslog(
        &bin,
        "udp-trad",
        "udp",
        &[],
        "",
        "",
        |p| omfwd(p, "udp", "RSYSLOG_TraditionalForwardFormat", ""),
        false,
        Time::Seconds,
    );
}

#[test]
fn rsyslog_omfwd_tcp_octet_counted() {
    let Some(bin) = rsyslogd() else { return };
    through_rsyslog(
        &bin,
        "tcp-oc",
        "tcp",
        &[],
        "",
        "",
        |p| {
            omfwd(
                p,
                "tcp",
                "RSYSLOG_SyslogProtocol23Format",
                r#" TCP_Framing="octet-counted""#,
            )
        },
        true,
        Time::Exact,
    );
}

#[test]
fn rsyslog_omfwd_tcp_lf_framed() {
    let Some(bin) = rsyslogd() else { return };
    through_rsyslog(
        &bin,
        "tcp-lf",
        "tcp",
        &[],
        "",
        "",
        |p| omfwd(p, "tcp", "RSYSLOG_SyslogProtocol23Format", ""),
        true,
        Time::Exact,
    );
}

#[test]
fn rsyslog_omfwd_tcp_lf_framed_traditional_format() {
    let Some(bin) = rsyslogd() else { return };
    through_rsyslog(
        &bin,
        "tcp-lf-trad",
        "tcp",
        &[],
        "",
        "",
        |p| omfwd(p, "tcp", "RSYSLOG_TraditionalForwardFormat", ""),
        false,
        Time::Seconds,
    );
}

#[test]
fn rsyslog_omrelp() {
    let Some(bin) = rsyslogd_with(&[("omrelp", "rsyslog-relp")]) else {
        return;
    };
    through_rsyslog(
        &bin,
        "relp",
        "relp",
        &[],
        "",
        r#"module(load="omrelp")"#,
        |p| {
            format!(
                r#"action(type="omrelp" target="127.0.0.1" port="{p}" template="RSYSLOG_SyslogProtocol23Format")"#
            )
        },
        true,
        Time::Exact,
    );
}

#[test]
fn rsyslog_omfwd_tls_with_certificate_name_check() {
    let Some(bin) = rsyslogd_with(&[("lmnsd_ossl", "rsyslog-openssl")]) else {
        return;
    };
    let certs_dir = test_dir("tls-certs");
    let c = common::certs::make(&certs_dir);
    let (crt, key) = (c.cert.to_str().unwrap(), c.key.to_str().unwrap());
    // rsyslog checks our certificate against the test CA and its name
    // (x509/name: "localhost" is the certificate's CN and SAN).
    through_rsyslog(
        &bin,
        "tls",
        "tls",
        &[("tls.crt_file", crt), ("tls.key_file", key)],
        &format!(r#" DefaultNetstreamDriverCAFile="{}""#, c.ca.display()),
        "",
        |p| {
            omfwd(
                p,
                "tcp",
                "RSYSLOG_SyslogProtocol23Format",
                r#" TCP_Framing="octet-counted" StreamDriver="ossl" StreamDriverMode="1"
         StreamDriverAuthMode="x509/name" StreamDriverPermittedPeers="localhost""#,
            )
        },
        true,
        Time::Exact,
    );
    let _ = std::fs::remove_dir_all(&certs_dir);
}

// ---------------------------------------------------------------- logger

/// This machine's host name, as logger writes it (the first label, or the
/// whole name).
fn host_names() -> Vec<String> {
    let full = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string();
    let short = full.split('.').next().unwrap_or("").to_string();
    vec![full, short]
}

/// Runs logger with `args`, `stdin` as its input (one message a line).
fn run_logger(bin: &Path, args: &[&str], stdin: &str) {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run logger");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            assert!(
                status.success(),
                "logger {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("logger {args:?} hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Checks the header fields logger wrote: the host name and a time close
/// to now; returns the body with hostname removed, for exact comparison.
fn check_logger_record(r: &Received, start: EventTime) -> String {
    let now = EventTime::now();
    assert!(
        r.time.seconds >= start.seconds - 2 && r.time.seconds <= now.seconds + 2,
        "time {:?} not within the run ({start:?}..{now:?})",
        r.time
    );
    let names = host_names();
    let host = names
        .iter()
        .find(|n| r.body.contains(&format!(r#""hostname":"{n}","#)))
        .unwrap_or_else(|| panic!("hostname is not {names:?}: {}", r.body));
    r.body.replace(&format!(r#""hostname":"{host}","#), "")
}

fn unix_input(mode: &str, dir: &Path) -> (Harness, String) {
    let path = dir.join("in.sock").to_str().unwrap().to_string();
    let h = Harness::input::<SyslogInput>(&[("mode", mode), ("path", &path)])
        .unwrap_or_else(|e| panic!("{}", e.0));
    (h, path)
}

#[test]
fn logger_rfc5424_and_rfc3164_to_unix_dgram() {
    let Some(bin) = logger() else { return };
    let dir = test_dir("logger-dgram");
    let (h, path) = unix_input("unix_dgram", &dir);
    let start = EventTime::now();
    // local3.warning: PRI 19 * 8 + 4.
    run_logger(
        &bin,
        &[
            "--socket-errors=on",
            "-u",
            &path,
            "--rfc5424=notq",
            "-t",
            "my-tag",
            "--id=4242",
            "--msgid",
            "MID7",
            "-p",
            "local3.warning",
            "--sd-id",
            "zoo@32473",
            "--sd-param",
            r#"esc="q\"b\\s\]e""#,
            "--sd-param",
            r#"n="1""#,
            "héllo wörld ✓ 🎉",
        ],
        "",
    );
    let r = &collect_records(&h, 1, WITHIN)[0];
    assert_eq!(
        check_logger_record(r, start),
        r#"{"pri":156,"facility":19,"severity":4,"appname":"my-tag","procid":"4242","msgid":"MID7","sd":{"zoo@32473":{"esc":"q\"b\\s]e","n":"1"}},"message":"héllo wörld ✓ 🎉"}"#
    );
    assert_eq!(
        r.meta,
        format!(r#"{{"source":"{path}","transport":"unix_dgram","format":"rfc5424"}}"#)
    );

    // Several lines from stdin: one datagram, one record each.
    run_logger(
        &bin,
        &[
            "--socket-errors=on",
            "-u",
            &path,
            "--rfc3164",
            "-t",
            "tag2",
            "--id=77",
            "-p",
            "mail.err",
        ],
        "first line\nsecond  line\n",
    );
    let got = collect_records(&h, 2, WITHIN);
    for (r, msg) in got.iter().zip(["first line", "second  line"]) {
        assert_eq!(
            check_logger_record(r, start),
            format!(
                r#"{{"pri":19,"facility":2,"severity":3,"appname":"tag2","procid":"77","message":"{msg}"}}"#
            )
        );
        assert!(r
            .meta
            .ends_with(r#","transport":"unix_dgram","format":"rfc3164"}"#));
    }
    // RFC 3164 carries whole seconds.
    assert_eq!(got[0].time.nanos, 0);
    assert!(h.collect(1, Duration::from_millis(300)).is_empty());
    drop(h);
    assert!(!Path::new(&path).exists(), "socket file left behind");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn logger_tcp_to_unix_stream_lf_framed_and_octet_counted() {
    let Some(bin) = logger() else { return };
    let dir = test_dir("logger-stream");
    let (h, path) = unix_input("unix_stream", &dir);
    let start = EventTime::now();
    for octet in [false, true] {
        let mut args = vec![
            "--socket-errors=on",
            "-T",
            "-u",
            &path,
            "--rfc5424=notq",
            "-t",
            "st",
            "--id=5",
            "--msgid",
            "M",
            "--sd-id",
            "a@1",
            "--sd-param",
            r#"k="v""#,
        ];
        if octet {
            args.push("--octet-count");
        }
        // Three messages on one connection.
        run_logger(&bin, &args, "line one\nline two ✓\nline three\n");
        let got = collect_records(&h, 3, WITHIN);
        for (r, msg) in got.iter().zip(["line one", "line two ✓", "line three"]) {
            assert_eq!(
                check_logger_record(r, start),
                format!(
                    r#"{{"pri":13,"facility":1,"severity":5,"appname":"st","procid":"5","msgid":"M","sd":{{"a@1":{{"k":"v"}}}},"message":"{msg}"}}"#
                ),
                "octet counting: {octet}"
            );
            assert!(r
                .meta
                .ends_with(r#","transport":"unix_stream","format":"rfc5424"}"#));
        }
    }
    assert!(h.collect(1, Duration::from_millis(300)).is_empty());
    assert_eq!(h.host.metric("framing_errors_total", &[]), None);
    let _ = std::fs::remove_dir_all(&dir);
}

// ------------------------------------------------- our output to our input

const T: EventTime = EventTime::new(1_795_561_509, 123_456_789);

/// Every header field set, unicode and a line feed in MSG (octet counting
/// carries it), SD with every escape, a second SD element.
fn round_trip_chunk() -> Vec<u8> {
    let mut enc = EventEncoder::new();
    enc.record(T, |m| {
        m.str("log", "héllo wörld ✓\nsecond line");
        m.str("level", "err");
        m.str("fac", "local0");
        m.str("host", "web-1");
        m.str("app", "nginx");
        m.str("proc", "42");
        m.str("id", "ID1");
        m.map("sd", |sd| {
            sd.map("ex@32473", |p| {
                p.str("q", "a \"b\" ] c \\ d");
                p.str("plain", "v");
            });
            sd.map("other@1", |p| p.str("k", "ü"));
        });
    });
    for i in 0..N {
        enc.record(T, |m| {
            m.str("log", &format!("record {i}"));
            m.str("level", "info");
            m.str("proc", &i.to_string());
        });
    }
    enc.into_bytes()
}

fn round_trip(mode: &str) {
    let (h, port) = input(mode, &[]);
    let port = port.to_string();
    let out = Harness::output::<SyslogOutput>(&[
        ("mode", mode),
        ("host", "127.0.0.1"),
        ("port", &port),
        ("syslog_message_key", "log"),
        ("syslog_severity_key", "level"),
        ("syslog_facility_key", "fac"),
        ("syslog_hostname_key", "host"),
        ("syslog_hostname_preset", "preset-host"),
        ("syslog_appname_key", "app"),
        ("syslog_appname_preset", "fluent-bit"),
        ("syslog_procid_key", "proc"),
        ("syslog_msgid_key", "id"),
        ("syslog_sd_elements_key", "sd"),
    ])
    .unwrap();
    // Collected while the output waits: RELP acknowledges a message only
    // once the host took its record.
    let got = std::thread::scope(|s| {
        let flush = s.spawn(|| out.flush("t", &round_trip_chunk()));
        let got = collect_records(&h, N + 1, WITHIN);
        assert_eq!(
            flush.join().unwrap(),
            FlushResult::Ok,
            "{:?}",
            out.host.logs()
        );
        got
    });
    // The output writes microseconds.
    let t = EventTime::new(T.seconds, 123_456_000);
    assert_eq!(
        got[0].body,
        r#"{"pri":131,"facility":16,"severity":3,"hostname":"web-1","appname":"nginx","procid":"42","msgid":"ID1","sd":{"ex@32473":{"q":"a \"b\" ] c \\ d","plain":"v"},"other@1":{"k":"ü"}},"message":"héllo wörld ✓\nsecond line"}"#
    );
    for (i, r) in got.iter().enumerate() {
        assert_eq!(r.time, t, "record {i}");
        assert!(
            r.meta
                .ends_with(&format!(r#","transport":"{mode}","format":"rfc5424"}}"#)),
            "{}",
            r.meta
        );
    }
    for (i, r) in got[1..].iter().enumerate() {
        assert_eq!(
            r.body,
            format!(
                r#"{{"pri":14,"facility":1,"severity":6,"hostname":"preset-host","appname":"fluent-bit","procid":"{i}","message":"record {i}"}}"#
            )
        );
    }
    assert!(h.collect(1, Duration::from_millis(300)).is_empty());
}

#[test]
fn our_output_to_our_input_over_tcp() {
    round_trip("tcp");
}

#[test]
fn our_output_to_our_input_over_relp() {
    round_trip("relp");
}
