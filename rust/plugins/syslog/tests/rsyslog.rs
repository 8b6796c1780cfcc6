//! rs_syslog against a real rsyslog (imtcp, imudp), started here on a
//! loopback high port with its own configuration, pid file and output
//! file: every field rsyslog parsed must be what was sent.
//!
//! Skipped, with a message, when rsyslogd is not installed; under CI
//! (`CI` set) a missing rsyslogd is a failure, since .ci/run installs it.

use std::io::Write;
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use flb_rs_sdk::testing::Harness;
use flb_rs_sdk::{EventEncoder, EventTime, FlushResult};
use flb_rs_syslog::SyslogOutput;

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
        assert!(
            std::env::var_os("CI").is_none(),
            "rsyslogd is not installed, but CI must run the interop tests"
        );
        println!("SKIPPED: rsyslogd is not installed (apt-get install rsyslog)");
    }
    found
}

/// A private rsyslogd, killed when dropped.
struct Rsyslog {
    child: Child,
    dir: PathBuf,
    out: PathBuf,
    tcp_port: u16,
    udp_port: u16,
}

/// A free loopback port (bound and released; rsyslog binds it next).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// End of each record in the output file: messages may hold line feeds.
const END: &str = "<<END>>";

impl Rsyslog {
    fn start(bin: &Path, name: &str) -> Rsyslog {
        let dir =
            std::env::temp_dir().join(format!("flb-rs-rsyslog-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("out.txt");
        let (tcp_port, udp_port) = (free_port(), free_port());
        let conf = format!(
            r#"global(workDirectory="{dir}" parser.escapeControlCharactersOnReceive="off"
       parser.dropTrailingLFOnReception="off")
module(load="imtcp")
module(load="imudp")
template(name="fields" type="string"
         string="%pri%|%timereported:::date-rfc3339%|%hostname%|%app-name%|%procid%|%msgid%|%structured-data%|%msg%{END}\n")
ruleset(name="r") {{ action(type="omfile" file="{out}" template="fields") }}
input(type="imtcp" address="127.0.0.1" port="{tcp_port}" ruleset="r")
input(type="imudp" address="127.0.0.1" port="{udp_port}" ruleset="r")
"#,
            dir = dir.display(),
            out = out.display(),
        );
        let conf_path = dir.join("rsyslog.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let log = std::fs::File::create(dir.join("rsyslogd.log")).unwrap();
        let child = Command::new(bin)
            .arg("-n")
            .arg("-f")
            .arg(&conf_path)
            .arg("-i")
            .arg(dir.join("rsyslogd.pid"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start rsyslogd");
        let r = Rsyslog {
            child,
            dir,
            out,
            tcp_port,
            udp_port,
        };
        // Ready once imtcp accepts connections.
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", tcp_port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "rsyslogd did not start: {}",
                r.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        r
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("rsyslogd.log")).unwrap_or_default()
    }

    /// Waits for `n` records in the output file and returns them, split
    /// into their fields.
    fn records(&self, n: usize) -> Vec<Vec<String>> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = std::fs::read_to_string(&self.out).unwrap_or_default();
            let recs: Vec<&str> = text
                .split(&format!("{END}\n"))
                .filter(|r| !r.is_empty())
                .collect();
            if recs.len() >= n {
                return recs
                    .iter()
                    .map(|r| r.splitn(8, '|').map(str::to_string).collect())
                    .collect();
            }
            assert!(
                Instant::now() < deadline,
                "{} of {n} records after 20 s; rsyslogd said: {}",
                recs.len(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const T: EventTime = EventTime::new(1_795_561_509, 123_456_789);

fn tricky_chunk() -> Vec<u8> {
    let mut enc = EventEncoder::new();
    // Unicode and a line feed in MSG, every header field set.
    enc.record(T, |m| {
        m.str("log", "héllo wörld ✓\nsecond line");
        m.str("level", "err");
        m.str("fac", "local0");
        m.str("host", "web-1");
        m.str("proc", "42");
        m.str("id", "ID1");
    });
    // Quotes, backslashes and brackets in structured data.
    enc.record(T, |m| {
        m.str("log", "with sd");
        m.map("sd", |sd| {
            sd.map("ex@32473", |p| {
                p.str("q", "a \"b\" ] c \\ d");
                p.str("plain", "v");
            })
        });
    });
    // An empty message, and header fields longer than RFC 5424 allows.
    enc.record(T, |m| {
        m.str("log", "");
        m.str("app", &"a".repeat(60));
        m.str("id", &"m".repeat(40));
    });
    enc.into_bytes()
}

fn output(port: u16, mode: &str) -> Harness {
    let port = port.to_string();
    Harness::output::<SyslogOutput>(&[
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
        ("syslog_sd_key", "sd"),
        ("syslog_bom", "off"),
    ])
    .unwrap()
}

fn check_tricky(recs: &[Vec<String>]) {
    let time_ok =
        |t: &str| t == "2026-11-24T23:05:09.123456Z" || t == "2026-11-24T23:05:09.123456+00:00";
    let r = &recs[0];
    assert_eq!(r[0], "131", "PRI: local0 (16) * 8 + err (3)");
    assert!(time_ok(&r[1]), "timestamp {}", r[1]);
    assert_eq!(&r[2..7], ["web-1", "fluent-bit", "42", "ID1", "-"]);
    assert_eq!(r[7], "héllo wörld ✓\nsecond line");

    let r = &recs[1];
    assert_eq!(r[0], "14");
    assert_eq!(&r[2..6], ["preset-host", "fluent-bit", "-", "-"]);
    assert_eq!(r[6], r#"[ex@32473 q="a \"b\" \] c \\ d" plain="v"]"#);
    assert_eq!(r[7], "with sd");

    let r = &recs[2];
    assert_eq!(r[3], "a".repeat(48), "APP-NAME cut to 48");
    assert_eq!(r[5], "m".repeat(32), "MSGID cut to 32");
    assert_eq!(r[7], "", "empty MSG");
}

#[test]
fn rsyslog_imtcp_parses_every_field_as_sent() {
    let Some(bin) = rsyslogd() else { return };
    let rs = Rsyslog::start(&bin, "tcp");
    let h = output(rs.tcp_port, "tcp");
    assert_eq!(h.flush("t", &tricky_chunk()), FlushResult::Ok);
    check_tricky(&rs.records(3));
}

#[test]
fn rsyslog_imudp_parses_every_field_as_sent() {
    let Some(bin) = rsyslogd() else { return };
    let rs = Rsyslog::start(&bin, "udp");
    let h = output(rs.udp_port, "udp");
    // imudp may take a moment after imtcp is up; a first datagram can be
    // lost before it binds, so wait for one probe to arrive first.
    let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        probe
            .send_to(b"<13>1 - - probe - - - probe", ("127.0.0.1", rs.udp_port))
            .unwrap();
        if std::fs::read_to_string(&rs.out).is_ok_and(|t| t.contains("probe")) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "imudp never received: {}",
            rs.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(h.flush("t", &tricky_chunk()), FlushResult::Ok);
    let recs = rs.records(4);
    check_tricky(&recs[recs.len() - 3..]);
    let _ = std::io::stdout().flush();
}
