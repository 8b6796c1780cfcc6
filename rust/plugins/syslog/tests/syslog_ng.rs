//! rs_syslog against a real syslog-ng (its `syslog()` source over TCP,
//! which accepts only octet-counted frames), started here on a loopback
//! high port with its own configuration, pid and persist files.
//!
//! syslog-ng is found at `$SYSLOG_NG_ROOT/usr/sbin/syslog-ng` (a package
//! unpacked with `dpkg -x`, as .ci/run does: it conflicts with rsyslog in
//! apt) or at /usr/sbin/syslog-ng. Skipped, with a message, when missing;
//! under CI (`CI` set) a missing syslog-ng is a failure.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use flb_rs_sdk::testing::Harness;
use flb_rs_sdk::{EventEncoder, EventTime, FlushResult};
use flb_rs_syslog::SyslogOutput;

mod common;
use common::{numbered, seqs, wait_for_seqs, END};

#[derive(Clone)]
struct Install {
    bin: PathBuf,
    module_path: Option<PathBuf>,
    lib_path: Option<PathBuf>,
}

fn syslog_ng() -> Option<Install> {
    if let Some(root) = std::env::var_os("SYSLOG_NG_ROOT").map(PathBuf::from) {
        let bin = root.join("usr/sbin/syslog-ng");
        if bin.exists() {
            let libdir = root.join("usr/lib/syslog-ng");
            let module_path = std::fs::read_dir(&libdir)
                .ok()?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .find(|p| {
                    p.join("libsyslogformat.so").exists()
                        || p.is_dir()
                            && p.file_name()
                                .is_some_and(|n| n.to_string_lossy().starts_with('3'))
                });
            return Some(Install {
                bin,
                module_path,
                lib_path: Some(libdir),
            });
        }
    }
    let bin = PathBuf::from("/usr/sbin/syslog-ng");
    if bin.exists() {
        return Some(Install {
            bin,
            module_path: None,
            lib_path: None,
        });
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "syslog-ng not found (SYSLOG_NG_ROOT unset or wrong), but CI must run the interop tests"
    );
    println!("SKIPPED: syslog-ng not found (set SYSLOG_NG_ROOT to an unpacked syslog-ng-core)");
    None
}

struct SyslogNg {
    child: Child,
    install: Install,
    dir: PathBuf,
    out: PathBuf,
    port: u16,
}

impl SyslogNg {
    fn start(i: &Install) -> SyslogNg {
        Self::start_with(i, false)
    }

    /// With `tls`, the source speaks TLS (RFC 5425) with a certificate from
    /// a CA made for the test.
    fn start_with(i: &Install, tls: bool) -> SyslogNg {
        Self::start_full(i, tls, "", if tls { "tls" } else { "tcp" })
    }

    /// As `start_with`, with `tls_extra` added to the source's tls()
    /// options, in a directory named after `name`.
    fn start_full(i: &Install, tls: bool, tls_extra: &str, name: &str) -> SyslogNg {
        let dir =
            std::env::temp_dir().join(format!("flb-rs-syslog-ng-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("out.txt");
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let transport = if tls {
            let c = common::certs::make(&dir);
            format!(
                "transport(\"tls\") tls(key-file(\"{}\") cert-file(\"{}\") peer-verify(optional-untrusted){tls_extra})",
                c.key.display(),
                c.cert.display()
            )
        } else {
            "transport(\"tcp\")".to_string()
        };
        let version = {
            let mut c = Command::new(&i.bin);
            c.arg("--version");
            if let Some(l) = &i.lib_path {
                c.env("LD_LIBRARY_PATH", l);
            }
            let v = String::from_utf8_lossy(&c.output().expect("syslog-ng --version").stdout)
                .into_owned();
            v.lines()
                .find_map(|l| l.strip_prefix("Config version: "))
                .unwrap_or("3.38")
                .trim()
                .to_string()
        };
        let conf = format!(
            "@version: {version}\n\
             options {{ keep-hostname(yes); use-dns(no); }};\n\
             source s {{ syslog(ip(\"127.0.0.1\") port({port}) {transport} flags(syslog-protocol)); }};\n\
             destination d {{ file(\"{out}\" template(\"${{PRI}}|${{HOST}}|${{PROGRAM}}|${{PID}}|${{MSGID}}|${{SDATA}}|${{MSG}}{END}\\n\")); }};\n\
             log {{ source(s); destination(d); }};\n",
            out = out.display()
        );
        std::fs::write(dir.join("syslog-ng.conf"), conf).unwrap();
        let mut s = SyslogNg {
            child: Command::new("true").spawn().unwrap(),
            install: i.clone(),
            dir,
            out,
            port,
        };
        s.spawn();
        s
    }

    /// Starts syslog-ng (again) with the same configuration and waits
    /// until it accepts connections.
    fn spawn(&mut self) {
        let _ = self.child.wait();
        let (i, dir) = (&self.install, &self.dir);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("syslog-ng.log"))
            .unwrap();
        let mut c = Command::new(&i.bin);
        c.arg("-F")
            .arg("-f")
            .arg(dir.join("syslog-ng.conf"))
            .arg("-p")
            .arg(dir.join("pid"))
            .arg("-R")
            .arg(dir.join("persist"))
            .arg("-c")
            .arg(dir.join("ctl"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        if let Some(m) = &i.module_path {
            c.arg(format!("--module-path={}", m.display()));
        }
        if let Some(l) = &i.lib_path {
            c.env("LD_LIBRARY_PATH", l);
        }
        self.child = c.spawn().expect("start syslog-ng");
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "syslog-ng did not start: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM: syslog-ng closes its connections (over TLS with
    /// close_notify) and exits.
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("syslog-ng.log")).unwrap_or_default()
    }

    fn records(&self, n: usize) -> Vec<Vec<String>> {
        common::records(&self.out, n, 7, || self.log())
    }
}

impl Drop for SyslogNg {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn syslog_ng_parses_every_field_as_sent() {
    let Some(install) = syslog_ng() else { return };
    let s = SyslogNg::start(&install);
    let port = s.port.to_string();
    let h = Harness::output::<SyslogOutput>(&[
        ("mode", "tcp"),
        ("port", &port),
        ("syslog_message_key", "log"),
        ("syslog_severity_key", "level"),
        ("syslog_hostname_key", "host"),
        ("syslog_appname_preset", "fluent-bit"),
        ("syslog_procid_key", "proc"),
        ("syslog_msgid_key", "id"),
        ("syslog_sd_elements_key", "sd"),
    ])
    .unwrap();
    let t = EventTime::new(1_795_561_509, 123_456_789);
    let mut enc = EventEncoder::new();
    enc.record(t, |m| {
        m.str("log", "héllo ✓\nline two");
        m.str("level", "warning");
        m.str("host", "web-1");
        m.str("proc", "42");
        m.str("id", "ID1");
        m.map("sd", |sd| sd.map("ex@32473", |p| p.str("q", "a \"b\" ] c")));
    });
    enc.record(t, |m| m.str("log", "second"));
    assert_eq!(h.flush("t", enc.as_bytes()), FlushResult::Ok);
    let recs = s.records(2);
    // The BOM is sent (syslog_bom on) and syslog-ng strips it from MSG.
    assert_eq!(
        recs[0],
        [
            "12",
            "web-1",
            "fluent-bit",
            "42",
            "ID1",
            r#"[ex@32473 q="a \"b\" \] c"]"#,
            "héllo ✓\nline two"
        ]
    );
    // NILVALUE hostname: syslog-ng shows the sender's address; NILVALUE
    // PROCID and MSGID: empty.
    assert_eq!(
        recs[1],
        ["14", "127.0.0.1", "fluent-bit", "", "", "", "second"]
    );
}

#[test]
fn syslog_ng_over_tls() {
    let Some(install) = syslog_ng() else { return };
    let s = SyslogNg::start_with(&install, true);
    let port = s.port.to_string();
    let ca = s.dir.join("ca.pem");
    let h = Harness::output::<SyslogOutput>(&[
        ("mode", "tls"),
        ("port", &port),
        ("tls.ca_file", ca.to_str().unwrap()),
        ("tls.verify_hostname", "on"),
        ("syslog_message_key", "log"),
        ("syslog_appname_preset", "fluent-bit"),
    ])
    .unwrap();
    let mut enc = EventEncoder::new();
    enc.record(EventTime::new(1_795_561_509, 0), |m| {
        m.str("log", "over tls ✓")
    });
    assert_eq!(
        h.flush("t", enc.as_bytes()),
        FlushResult::Ok,
        "{:?}",
        h.host.logs()
    );
    let recs = s.records(1);
    assert_eq!(
        recs[0],
        ["14", "127.0.0.1", "fluent-bit", "", "", "", "over tls ✓"]
    );
}

/// syslog-ng over TLS 1.2 and 1.3, stopped gracefully (close_notify, FIN)
/// and started again between chunks: each chunk must notice the closed
/// connection before writing and go out on a new one.
#[test]
fn syslog_ng_over_tls_restarted_gracefully_between_chunks_loses_nothing() {
    let Some(install) = syslog_ng() else { return };
    for (name, protocol, options) in [
        (
            "tls12-restart",
            "TLSv1.2",
            " ssl-options(no-sslv2, no-sslv3, no-tlsv1, no-tlsv11, no-tlsv13)",
        ),
        (
            "tls13-restart",
            "TLSv1.3",
            " ssl-options(no-sslv2, no-sslv3, no-tlsv1, no-tlsv11, no-tlsv12)",
        ),
    ] {
        let mut s = SyslogNg::start_full(&install, true, options, name);
        let port = s.port.to_string();
        let ca = s.dir.join("ca.pem");
        let output = |extra: &[(&'static str, &'static str)]| {
            let mut p: Vec<(&str, &str)> = vec![
                ("mode", "tls"),
                ("port", &port),
                ("tls.ca_file", ca.to_str().unwrap()),
                ("syslog_message_key", "log"),
            ];
            p.extend_from_slice(extra);
            Harness::output::<SyslogOutput>(&p).unwrap()
        };
        let h = output(&[]);
        let (chunks, per_chunk) = (5u64, 40u64);
        for c in 0..chunks {
            assert_eq!(
                h.flush("t", &numbered(c * per_chunk, per_chunk)),
                FlushResult::Ok,
                "{protocol} chunk {c}: {:?}",
                h.host.logs()
            );
            let want = ((c + 1) * per_chunk) as usize;
            wait_for_seqs(&s.out, want, &format!("{protocol}: chunk {c}"), || s.log());
            s.stop();
            s.spawn();
        }
        let got = seqs(&std::fs::read_to_string(&s.out).unwrap());
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
        // syslog-ng really spoke only this version: a client that insists
        // on a newer one is refused.
        if protocol == "TLSv1.2" {
            let h13 = output(&[("tls.min_version", "TLSv1.3")]);
            let mut enc = EventEncoder::new();
            enc.record(EventTime::new(1_795_561_509, 0), |m| m.str("log", "x"));
            assert_eq!(h13.flush("t", enc.as_bytes()), FlushResult::Retry);
        }
    }
}
