//! rs_syslog against a real rsyslog (imtcp, imudp), started here on a
//! loopback high port with its own configuration, pid file and output
//! file: every field rsyslog parsed must be what was sent.
//!
//! Skipped, with a message, when rsyslogd is not installed; under CI
//! (`CI` set) a missing rsyslogd is a failure, since .ci/run installs it.

use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use flb_rs_sdk::testing::Harness;
use flb_rs_sdk::{EventEncoder, EventTime, FlushResult};
use flb_rs_syslog::SyslogOutput;

mod common;
use common::{free_port, numbered, seqs, wait_for_seqs, END};

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
    bin: PathBuf,
    child: Child,
    dir: PathBuf,
    out: PathBuf,
    tcp_port: u16,
    udp_port: u16,
    relp_port: u16,
    ptcp_port: u16,
}

/// A free loopback port (bound and released; rsyslog binds it next).
impl Rsyslog {
    fn start(bin: &Path, name: &str) -> Rsyslog {
        Self::start_with(bin, name, false)
    }

    /// With `tls`, imtcp speaks only TLS (RFC 5425), with a server
    /// certificate from a CA made for the test (in `dir`).
    fn start_with(bin: &Path, name: &str, tls: bool) -> Rsyslog {
        Self::start_full(bin, name, tls, "")
    }

    /// As `start_with`, with `imtcp_extra` added to the imtcp input (such
    /// as the TLS protocol versions it accepts).
    fn start_full(bin: &Path, name: &str, tls: bool, imtcp_extra: &str) -> Rsyslog {
        let dir =
            std::env::temp_dir().join(format!("flb-rs-rsyslog-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("out.txt");
        let (tcp_port, udp_port, relp_port, ptcp_port) =
            (free_port(), free_port(), free_port(), free_port());
        let (tls_global, imtcp, relp_tls) = if tls {
            let c = common::certs::make(&dir);
            let relp_tls = format!(
                "\n      tls=\"on\" tls.authmode=\"certvalid\" tls.cacert=\"{}\" tls.mycert=\"{}\" tls.myprivkey=\"{}\"",
                c.ca.display(),
                c.cert.display(),
                c.key.display()
            );
            (
                format!(
                    "\n       DefaultNetstreamDriver=\"ossl\" DefaultNetstreamDriverCAFile=\"{}\"\n       \
                     DefaultNetstreamDriverCertFile=\"{}\" DefaultNetstreamDriverKeyFile=\"{}\"",
                    c.ca.display(),
                    c.cert.display(),
                    c.key.display()
                ),
                r#"module(load="imtcp" StreamDriver.Name="ossl" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")"#,
                relp_tls,
            )
        } else {
            (String::new(), r#"module(load="imtcp")"#, String::new())
        };
        // The main queue is direct: a message is in the output file before
        // imrelp acknowledges it, so a kill -9 loses nothing acknowledged.
        let conf = format!(
            r#"global(workDirectory="{dir}" parser.escapeControlCharactersOnReceive="off"
       parser.dropTrailingLFOnReception="off"{tls_global})
main_queue(queue.type="Direct")
{imtcp}
module(load="imudp")
module(load="imrelp")
module(load="imptcp")
template(name="fields" type="string"
         string="%pri%|%timereported:::date-rfc3339%|%hostname%|%app-name%|%procid%|%msgid%|%structured-data%|%msg%{END}\n")
ruleset(name="r") {{ action(type="omfile" file="{out}" template="fields") }}
input(type="imtcp" address="127.0.0.1" port="{tcp_port}" ruleset="r"{imtcp_extra})
input(type="imudp" address="127.0.0.1" port="{udp_port}" ruleset="r")
input(type="imptcp" address="127.0.0.1" port="{ptcp_port}" ruleset="r")
input(type="imrelp" address="127.0.0.1" port="{relp_port}" ruleset="r"{relp_tls})
"#,
            dir = dir.display(),
            out = out.display(),
        );
        std::fs::write(dir.join("rsyslog.conf"), conf).unwrap();
        let mut r = Rsyslog {
            bin: bin.to_path_buf(),
            child: Command::new("true").spawn().unwrap(),
            dir,
            out,
            tcp_port,
            udp_port,
            relp_port,
            ptcp_port,
        };
        r.spawn();
        r
    }

    /// Starts rsyslogd (again) with the same configuration and waits until
    /// it accepts connections.
    fn spawn(&mut self) {
        let _ = self.child.wait();
        let _ = std::fs::remove_file(self.dir.join("rsyslogd.pid"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("rsyslogd.log"))
            .unwrap();
        self.child = Command::new(&self.bin)
            .arg("-n")
            .arg("-f")
            .arg(self.dir.join("rsyslog.conf"))
            .arg("-i")
            .arg(self.dir.join("rsyslogd.pid"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start rsyslogd");
        let deadline = Instant::now() + Duration::from_secs(15);
        for port in [self.tcp_port, self.relp_port, self.ptcp_port] {
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "rsyslogd did not start: {}",
                    self.log()
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    /// SIGTERM, as a service manager stops it: rsyslog closes its
    /// sessions (over TLS with close_notify) and exits.
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }

    /// kill -9, as a crash would.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("rsyslogd.log")).unwrap_or_default()
    }

    fn records(&self, n: usize) -> Vec<Vec<String>> {
        common::records(&self.out, n, 8, || self.log())
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
        // The built-in output's shape: the key is the SD-ID.
        m.map("ex@32473", |p| {
            p.str("q", "a \"b\" ] c \\ d");
            p.str("plain", "v");
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
        ("syslog_sd_key", "ex@32473"),
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
fn rsyslog_imptcp_parses_every_field_as_sent() {
    let Some(bin) = rsyslogd() else { return };
    let rs = Rsyslog::start(&bin, "ptcp");
    let h = output(rs.ptcp_port, "tcp");
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

#[test]
fn rsyslog_imrelp_parses_every_field_as_sent() {
    let Some(bin) = rsyslogd() else { return };
    let rs = Rsyslog::start(&bin, "relp");
    let h = output(rs.relp_port, "relp");
    assert_eq!(h.flush("t", &tricky_chunk()), FlushResult::Ok);
    check_tricky(&rs.records(3));
}

/// Sends `chunks` chunks of `per_chunk` numbered records through `h`,
/// retrying each as Fluent Bit would, while rsyslogd is killed (-9) and
/// restarted three times from another thread, each time once a further
/// quarter of the records has reached its output file. Returns rsyslog,
/// the output file's text and the number of retries.
fn deliver_through_three_kills(
    mut rs: Rsyslog,
    h: &Harness,
    chunks: u64,
    per_chunk: u64,
) -> (Rsyslog, String, u32) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let total = chunks * per_chunk;
    let out = rs.out.clone();
    let done = std::sync::Arc::new(AtomicBool::new(false));
    let sending_done = done.clone();
    // If losses keep a quarter from ever arriving, the sending ends first.
    let killer = std::thread::spawn(move || {
        for quarter in 1..=3u64 {
            while (seqs(&std::fs::read_to_string(&out).unwrap_or_default()).len() as u64)
                < quarter * total / 4
            {
                if sending_done.load(Ordering::SeqCst) {
                    return rs;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            rs.kill();
            rs.spawn();
        }
        rs
    });
    let mut retries = 0;
    for c in 0..chunks {
        let data = numbered(c * per_chunk, per_chunk);
        let deadline = Instant::now() + Duration::from_secs(60);
        while h.flush("t", &data) == FlushResult::Retry {
            retries += 1;
            assert!(Instant::now() < deadline, "chunk {c} never delivered");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    done.store(true, Ordering::SeqCst);
    let rs = killer.join().unwrap();
    let text = std::fs::read_to_string(&rs.out).unwrap();
    (rs, text, retries)
}

#[test]
fn relp_loses_nothing_when_the_receiver_is_killed_and_restarted() {
    let Some(bin) = rsyslogd() else { return };
    let rs = Rsyslog::start(&bin, "relp-kill");
    let port = rs.relp_port.to_string();
    let h = Harness::output::<SyslogOutput>(&[
        ("mode", "relp"),
        ("port", &port),
        ("syslog_message_key", "log"),
        ("relp_window", "32"),
        ("relp_timeout", "2s"),
        ("connect_timeout", "1s"),
    ])
    .unwrap();
    let (chunks, per_chunk) = (40u64, 50u64);
    let total = chunks * per_chunk;
    let (_rs, text, retries) = deliver_through_three_kills(rs, &h, chunks, per_chunk);
    let got = seqs(&text);
    let mut unique = got.clone();
    unique.sort_unstable();
    unique.dedup();
    let missing: Vec<u64> = (0..total)
        .filter(|s| unique.binary_search(s).is_err())
        .collect();
    println!(
        "RELP with 3 kills: {total} records sent, {} received, {} duplicates, {retries} retries",
        got.len(),
        got.len() - unique.len()
    );
    assert!(
        missing.is_empty(),
        "lost {} records, first {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    assert!(retries > 0, "the kills happened during delivery");
    assert_eq!(h.host.metric("relp_unacked", &[]), Some(0.0));
}

#[test]
fn rsyslog_imtcp_over_tls_with_certificate_and_hostname_checks() {
    let Some(bin) = rsyslogd() else { return };
    let rs = Rsyslog::start_with(&bin, "tls", true);
    let port = rs.tcp_port.to_string();
    let ca = rs.dir.join("ca.pem");
    let ca = ca.to_str().unwrap();
    let tls_output = |extra: &[(&'static str, &str)]| {
        let mut p: Vec<(&str, &str)> = vec![
            ("mode", "tls"),
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
            ("syslog_sd_key", "ex@32473"),
            ("syslog_bom", "off"),
        ];
        p.extend_from_slice(extra);
        Harness::output::<SyslogOutput>(&p)
    };
    // Verified against the test CA, hostname checked (127.0.0.1 is in the
    // certificate's SAN), TLS 1.3 at least.
    let h = tls_output(&[
        ("tls.ca_file", ca),
        ("tls.verify_hostname", "on"),
        ("tls.min_version", "TLSv1.3"),
    ])
    .unwrap();
    assert_eq!(h.flush("t", &tricky_chunk()), FlushResult::Ok);
    check_tricky(&rs.records(3));
    drop(h);

    // The system store does not know the test CA: refused, and retried.
    let h = tls_output(&[]).unwrap();
    assert_eq!(h.flush("t", &tricky_chunk()), FlushResult::Retry);
    assert!(
        h.host.logged(log::Level::Warn, "TLS handshake"),
        "{:?}",
        h.host.logs()
    );
    drop(h);

    // A name the certificate does not carry fails the hostname check.
    let h = tls_output(&[
        ("tls.ca_file", ca),
        ("tls.verify_hostname", "on"),
        ("tls.vhost", "example.org"),
    ])
    .unwrap();
    assert_eq!(h.flush("t", &tricky_chunk()), FlushResult::Retry);
    drop(h);

    // A CA file that does not exist is a configuration error at init.
    let e = tls_output(&[("tls.ca_file", "/nonexistent/ca.pem")])
        .err()
        .unwrap();
    assert!(e.0.contains("tls.ca_file /nonexistent/ca.pem"), "{e}");
}

/// rsyslog over TLS 1.2 and 1.3, stopped gracefully (close_notify, FIN)
/// and started again between chunks: each chunk must notice the closed
/// connection before writing and go out on a new one. Writing into the
/// old one succeeds locally and loses the chunk without an error.
#[test]
fn rsyslog_over_tls_restarted_gracefully_between_chunks_loses_nothing() {
    let Some(bin) = rsyslogd() else { return };
    for (name, protocol) in [("tls12-restart", "TLSv1.2"), ("tls13-restart", "TLSv1.3")] {
        let extra = format!(" gnutlsPriorityString=\"Protocol=-ALL,{protocol}\"");
        let mut rs = Rsyslog::start_full(&bin, name, true, &extra);
        let port = rs.tcp_port.to_string();
        let ca = rs.dir.join("ca.pem");
        let h = Harness::output::<SyslogOutput>(&[
            ("mode", "tls"),
            ("port", &port),
            ("tls.ca_file", ca.to_str().unwrap()),
            ("syslog_message_key", "log"),
        ])
        .unwrap();
        let (chunks, per_chunk) = (5u64, 40u64);
        for c in 0..chunks {
            assert_eq!(
                h.flush("t", &numbered(c * per_chunk, per_chunk)),
                FlushResult::Ok,
                "{protocol} chunk {c}: {:?}",
                h.host.logs()
            );
            // Everything so far is in the file before the stop, so the
            // stop closes an idle connection, as an idle timeout would.
            let want = ((c + 1) * per_chunk) as usize;
            wait_for_seqs(&rs.out, want, &format!("{protocol}: chunk {c}"), || {
                rs.log()
            });
            rs.stop();
            rs.spawn();
        }
        let got = seqs(&std::fs::read_to_string(&rs.out).unwrap());
        assert_eq!(
            got,
            (0..chunks * per_chunk).collect::<Vec<_>>(),
            "{protocol}: every message once, in order"
        );
        assert_eq!(
            h.host.metric("retries_total", &[]).unwrap_or(0.0),
            0.0,
            "{protocol}: no chunk needed a retry"
        );
        if protocol == "TLSv1.2" {
            // rsyslog really spoke only TLS 1.2: a client that insists on
            // 1.3 is refused.
            let h13 = Harness::output::<SyslogOutput>(&[
                ("mode", "tls"),
                ("port", &port),
                ("tls.ca_file", ca.to_str().unwrap()),
                ("tls.min_version", "TLSv1.3"),
                ("syslog_message_key", "log"),
            ])
            .unwrap();
            assert_eq!(h13.flush("t", &numbered(0, 1)), FlushResult::Retry);
        }
    }
}

#[test]
fn rsyslog_imrelp_over_mutual_tls() {
    let Some(bin) = rsyslogd() else { return };
    let rs = Rsyslog::start_with(&bin, "relp-tls", true);
    let port = rs.relp_port.to_string();
    let file = |n: &str| rs.dir.join(n).to_str().unwrap().to_string();
    let (ca, crt, key) = (file("ca.pem"), file("client.pem"), file("client.key"));
    // imrelp insists on a client certificate: this is mutual TLS.
    let h = Harness::output::<SyslogOutput>(&[
        ("mode", "relp"),
        ("tls", "on"),
        ("tls.ca_file", &ca),
        ("tls.crt_file", &crt),
        ("tls.key_file", &key),
        ("tls.verify_hostname", "on"),
        ("port", &port),
        ("syslog_message_key", "log"),
    ])
    .unwrap();
    assert_eq!(
        h.flush("t", &numbered(0, 100)),
        FlushResult::Ok,
        "{:?}\n{}",
        h.host.logs(),
        rs.log()
    );
    let got = seqs(&std::fs::read_to_string(&rs.out).unwrap());
    assert_eq!(got, (0..100).collect::<Vec<_>>());
}

#[test]
fn tcp_with_receiver_kills_never_splits_a_frame_and_reports_its_losses() {
    let Some(bin) = rsyslogd() else { return };
    let rs = Rsyslog::start(&bin, "tcp-kill");
    let port = rs.tcp_port.to_string();
    let h = Harness::output::<SyslogOutput>(&[
        ("mode", "tcp"),
        ("port", &port),
        ("syslog_message_key", "log"),
        ("syslog_hostname_preset", "h"),
        ("syslog_appname_preset", "a"),
        ("connect_timeout", "1s"),
    ])
    .unwrap();
    let (chunks, per_chunk) = (40u64, 50u64);
    let total = chunks * per_chunk;
    let (_rs, text, retries) = deliver_through_three_kills(rs, &h, chunks, per_chunk);
    // No frame was cut or glued to the next: every record rsyslog parsed
    // is one whole message as sent.
    let whole = regex_free_check();
    for rec in text.split(&format!("{END}\n")).filter(|r| !r.is_empty()) {
        assert!(whole(rec), "a damaged record reached rsyslog: {rec:?}");
    }
    let got = seqs(&text);
    let mut unique = got.clone();
    unique.sort_unstable();
    unique.dedup();
    let lost = total as usize - unique.len();
    // TCP has no acknowledgements: what the kernel accepted before a kill
    // can be lost. Said here, measured, not hidden.
    println!(
        "TCP with 3 kills: {total} records sent, {} received, {lost} lost, {} duplicates, {retries} retries",
        got.len(),
        got.len() - unique.len()
    );
}

/// Whether one record of the output file is a whole message as sent:
/// `14|<time>|h|a|-|-|-|seq=NNNNNN`.
fn regex_free_check() -> impl Fn(&str) -> bool {
    |rec: &str| {
        let f: Vec<&str> = rec.splitn(8, '|').collect();
        f.len() == 8 && f[0] == "14" && f[2..7] == ["h", "a", "-", "-", "-"] && {
            // The default BOM opens MSG; rsyslog keeps it.
            let m = f[7].strip_prefix('\u{feff}').unwrap_or(f[7]);
            m.len() == 10 && m.starts_with("seq=") && m[4..].bytes().all(|b| b.is_ascii_digit())
        }
    }
}

#[test]
fn rsyslog_parses_rfc3164_as_sent() {
    let Some(bin) = rsyslogd() else { return };
    let rs = Rsyslog::start(&bin, "3164");
    let port = rs.tcp_port.to_string();
    let h = Harness::output::<SyslogOutput>(&[
        ("mode", "tcp"),
        ("port", &port),
        ("syslog_format", "rfc3164"),
        ("syslog_message_key", "log"),
        ("syslog_severity_key", "level"),
        ("syslog_hostname_preset", "web-1"),
        ("syslog_appname_preset", "nginx"),
        ("syslog_procid_key", "proc"),
    ])
    .unwrap();
    let mut enc = EventEncoder::new();
    enc.record(T, |m| {
        m.str("log", "GET / 200");
        m.str("level", "notice");
        m.str("proc", "4242");
    });
    assert_eq!(h.flush("t", enc.as_bytes()), FlushResult::Ok);
    let r = &rs.records(1)[0];
    assert_eq!(r[0], "13", "user (1) * 8 + notice (5)");
    // RFC 3164 has no year: rsyslog supplies the current one.
    assert!(
        r[1].get(4..)
            .is_some_and(|t| t.starts_with("-11-24T23:05:09")),
        "{}",
        r[1]
    );
    assert_eq!(&r[2..5], ["web-1", "nginx", "4242"]);
    // rsyslog keeps the space after "tag:" in MSG for RFC 3164.
    assert_eq!(r[7].trim_start(), "GET / 200");
}
