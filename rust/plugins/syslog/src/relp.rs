//! RELP, rsyslog's Reliable Event Logging Protocol, client side.
//!
//! Every frame is `TXNR SP COMMAND SP DATALEN [SP DATA] LF`. The session
//! opens with an `open` offer (`relp_version=0`, `commands=syslog`); each
//! message is a `syslog` command that the server acknowledges with
//! `TXNR rsp LEN 200 OK`. Up to `window` messages are in flight at once. A
//! message counts as delivered only when its acknowledgement arrived; a
//! broken session is dropped, and the caller sends what was not
//! acknowledged again on a new one.

use std::fmt;
use std::io::{self, Read, Write};

/// Transaction numbers run from 1 to 999,999,999, then start over at 1.
const TXNR_MAX: u32 = 999_999_999;
/// Longest response frame accepted (a response carries a status line and,
/// for `open`, the server's offers).
const MAX_RESPONSE: usize = 64 * 1024;

/// Why a RELP exchange failed.
#[derive(Debug)]
pub enum RelpError {
    Io(io::Error),
    /// The server answered a command with a status other than 200.
    Refused {
        status: String,
    },
    /// The server broke the protocol or closed the session.
    Protocol(String),
    /// A frame announced more data than allowed (its length).
    TooLong(usize),
}

impl fmt::Display for RelpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RelpError::Io(e) => write!(f, "{e}"),
            RelpError::Refused { status } => write!(f, "the RELP server refused: {status}"),
            RelpError::Protocol(m) => write!(f, "RELP protocol error: {m}"),
            RelpError::TooLong(n) => write!(f, "RELP frame of {n} bytes is too long"),
        }
    }
}

impl From<io::Error> for RelpError {
    fn from(e: io::Error) -> Self {
        RelpError::Io(e)
    }
}

/// One frame read from the server.
#[derive(Debug, PartialEq, Eq)]
pub struct Frame {
    pub txnr: u32,
    pub command: String,
    pub data: Vec<u8>,
}

/// Appends one frame to `out`.
pub fn write_frame(out: &mut Vec<u8>, txnr: u32, command: &str, data: &[u8]) {
    out.extend_from_slice(format!("{txnr} {command} {}", data.len()).as_bytes());
    if !data.is_empty() {
        out.push(b' ');
        out.extend_from_slice(data);
    }
    out.push(b'\n');
}

/// Parses one complete frame at the start of `buf`; `Ok(None)` when more
/// bytes are needed. Returns the frame and its length.
pub fn parse_frame(buf: &[u8]) -> Result<Option<(Frame, usize)>, RelpError> {
    parse_frame_limited(buf, MAX_RESPONSE)
}

/// [`parse_frame`] for frames with up to `max_data` bytes of data (a
/// server's limit on syslog messages); more is [`RelpError::TooLong`].
pub fn parse_frame_limited(
    buf: &[u8],
    max_data: usize,
) -> Result<Option<(Frame, usize)>, RelpError> {
    let bad = |m: &str| RelpError::Protocol(m.to_string());
    let field = |from: usize| -> Result<Option<(&[u8], usize)>, RelpError> {
        match buf[from..].iter().position(|&b| b == b' ' || b == b'\n') {
            Some(n) => Ok(Some((&buf[from..from + n], from + n))),
            None if buf.len() - from > 32 => Err(bad("header field too long")),
            None => Ok(None),
        }
    };
    let Some((txnr, at)) = field(0)? else {
        return Ok(None);
    };
    if buf[at] != b' ' {
        return Err(bad("missing command"));
    }
    let Some((command, at)) = field(at + 1)? else {
        return Ok(None);
    };
    if buf[at] != b' ' {
        return Err(bad("missing data length"));
    }
    let Some((len, at)) = field(at + 1)? else {
        return Ok(None);
    };
    let number = |s: &[u8], what: &str| -> Result<usize, RelpError> {
        std::str::from_utf8(s)
            .ok()
            .filter(|s| !s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| RelpError::Protocol(format!("bad {what}")))
    };
    let txnr = number(txnr, "transaction number")? as u32;
    let len = number(len, "data length")?;
    if len > max_data {
        return Err(RelpError::TooLong(len));
    }
    let command = String::from_utf8_lossy(command).into_owned();
    let (data, end) = if len == 0 {
        (Vec::new(), at)
    } else {
        if buf[at] != b' ' {
            return Err(bad("missing data"));
        }
        let start = at + 1;
        if buf.len() < start + len + 1 {
            return Ok(None);
        }
        (buf[start..start + len].to_vec(), start + len)
    };
    if buf.len() <= end {
        return Ok(None);
    }
    if buf[end] != b'\n' {
        return Err(bad("missing frame trailer"));
    }
    Ok(Some((
        Frame {
            txnr,
            command,
            data,
        },
        end + 1,
    )))
}

/// An open RELP session over a connected stream.
pub struct Session<S: Read + Write> {
    stream: S,
    inbuf: Vec<u8>,
    next_txnr: u32,
}

impl<S: Read + Write> Session<S> {
    /// Sends the `open` offer and checks the server's answer. The stream's
    /// read timeout bounds the wait.
    pub fn open(stream: S, software: &str) -> Result<Session<S>, RelpError> {
        let mut s = Session {
            stream,
            inbuf: Vec::new(),
            next_txnr: 1,
        };
        let offer = format!("relp_version=0\nrelp_software={software}\ncommands=syslog");
        let txnr = s.send(&[("open", offer.as_bytes())])?;
        let rsp = s.response()?;
        if rsp.txnr != txnr[0] {
            return Err(RelpError::Protocol(format!(
                "answer to open has transaction number {}, not {}",
                rsp.txnr, txnr[0]
            )));
        }
        let text = String::from_utf8_lossy(&rsp.data);
        let status = text.lines().next().unwrap_or("").to_string();
        if !status.starts_with("200") {
            return Err(RelpError::Refused { status });
        }
        if !text.lines().any(|l| {
            l.trim() == "commands=syslog"
                || l.trim().starts_with("commands=") && l.contains("syslog")
        }) {
            return Err(RelpError::Protocol(
                "the server does not offer the syslog command".into(),
            ));
        }
        Ok(s)
    }

    fn take_txnr(&mut self) -> u32 {
        let t = self.next_txnr;
        self.next_txnr = if t >= TXNR_MAX { 1 } else { t + 1 };
        t
    }

    /// Writes commands in one write; returns their transaction numbers.
    fn send(&mut self, commands: &[(&str, &[u8])]) -> Result<Vec<u32>, RelpError> {
        let mut out = Vec::new();
        let mut txnrs = Vec::with_capacity(commands.len());
        for (cmd, data) in commands {
            let t = self.take_txnr();
            write_frame(&mut out, t, cmd, data);
            txnrs.push(t);
        }
        self.stream.write_all(&out)?;
        self.stream.flush()?;
        Ok(txnrs)
    }

    /// Reads the next `rsp` frame (a `serverclose` is an error).
    fn response(&mut self) -> Result<Frame, RelpError> {
        loop {
            if let Some((frame, used)) = parse_frame(&self.inbuf)? {
                self.inbuf.drain(..used);
                return match frame.command.as_str() {
                    "rsp" => Ok(frame),
                    "serverclose" => {
                        Err(RelpError::Protocol("the server closed the session".into()))
                    }
                    other => Err(RelpError::Protocol(format!("unexpected command '{other}'"))),
                };
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(RelpError::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the RELP server closed the connection",
                )));
            }
            self.inbuf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Sends every message as a `syslog` command, with at most `window`
    /// unacknowledged at a time, and waits for every acknowledgement. On
    /// error returns how many messages, from the first, were acknowledged;
    /// the session must then be dropped.
    pub fn send_all<M: AsRef<[u8]>>(
        &mut self,
        msgs: &[M],
        window: usize,
    ) -> Result<(), (usize, RelpError)> {
        let window = window.max(1);
        // In-flight transaction numbers, oldest first, with their message.
        let mut in_flight: std::collections::VecDeque<(u32, usize)> = Default::default();
        let mut next = 0;
        // Messages acknowledged: all of those before `acked_prefix`.
        let mut done = vec![false; msgs.len()];
        let mut acked_prefix = 0;
        while acked_prefix < msgs.len() {
            let room = window - in_flight.len();
            if room > 0 && next < msgs.len() {
                let batch: Vec<(&str, &[u8])> = msgs[next..(next + room).min(msgs.len())]
                    .iter()
                    .map(|m| ("syslog", m.as_ref()))
                    .collect();
                let txnrs = self.send(&batch).map_err(|e| (acked_prefix, e))?;
                for t in txnrs {
                    in_flight.push_back((t, next));
                    next += 1;
                }
            }
            let rsp = self.response().map_err(|e| (acked_prefix, e))?;
            let Some(pos) = in_flight.iter().position(|(t, _)| *t == rsp.txnr) else {
                return Err((
                    acked_prefix,
                    RelpError::Protocol(format!(
                        "acknowledgement for unknown transaction {}",
                        rsp.txnr
                    )),
                ));
            };
            let status = String::from_utf8_lossy(&rsp.data);
            let status = status.lines().next().unwrap_or("").to_string();
            if !status.starts_with("200") {
                return Err((acked_prefix, RelpError::Refused { status }));
            }
            let (_, idx) = in_flight.remove(pos).unwrap_or((0, 0));
            done[idx] = true;
            while acked_prefix < msgs.len() && done[acked_prefix] {
                acked_prefix += 1;
            }
        }
        Ok(())
    }

    /// Closes the session politely (best effort, bounded by the stream's
    /// read timeout).
    pub fn close(mut self) {
        if self.send(&[("close", b"")]).is_ok() {
            let _ = self.response();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_written_as_the_spec_says() {
        let mut out = Vec::new();
        write_frame(&mut out, 1, "open", b"relp_version=0");
        write_frame(&mut out, 2, "close", b"");
        assert_eq!(out, b"1 open 14 relp_version=0\n2 close 0\n");
    }

    #[test]
    fn responses_parse_whole_or_wait_for_more() {
        let full = b"2 rsp 6 200 OK\n0 serverclose 0\n";
        let (f, used) = parse_frame(full).unwrap().unwrap();
        assert_eq!(
            f,
            Frame {
                txnr: 2,
                command: "rsp".into(),
                data: b"200 OK".to_vec()
            }
        );
        let (f, _) = parse_frame(&full[used..]).unwrap().unwrap();
        assert_eq!(f.command, "serverclose");
        assert!(f.data.is_empty());
        for cut in 0..15 {
            assert!(parse_frame(&full[..cut]).unwrap().is_none(), "cut {cut}");
        }
    }

    #[test]
    fn malformed_responses_are_errors() {
        for bad in [
            &b"x rsp 0\n"[..],
            b"1 rsp 5 200 OKX\n",
            b"1 rsp 99999999999 a\n",
            b"1 rsp 0X\n",
        ] {
            assert!(
                parse_frame(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    /// A scripted server: answers what it is given, records what it got.
    struct Script {
        input: std::io::Cursor<Vec<u8>>,
        written: Vec<u8>,
    }

    impl Read for Script {
        fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
            self.input.read(b)
        }
    }

    impl Write for Script {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.written.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Server answers, each `(txnr, data)` framed as an `rsp`.
    fn answers(rsps: &[(u32, &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (t, d) in rsps {
            write_frame(&mut out, *t, "rsp", d.as_bytes());
        }
        out
    }

    #[test]
    fn a_session_opens_sends_and_counts_acknowledgements() {
        let answers = answers(&[
            (1, "200 OK\nrelp_version=0\ncommands=syslog"),
            (3, "200 OK"),
            (2, "200 OK"),
            (4, "200 OK"),
        ]);
        let script = Script {
            input: std::io::Cursor::new(answers),
            written: Vec::new(),
        };
        let mut s = Session::open(script, "flb-rs,0.1.0").unwrap();
        let msgs = vec![
            b"<13>1 a".to_vec(),
            b"<13>1 b".to_vec(),
            b"<13>1 c".to_vec(),
        ];
        s.send_all(&msgs, 2).unwrap();
        let written = String::from_utf8(s.stream.written.clone()).unwrap();
        assert_eq!(
            written,
            "1 open 57 relp_version=0\nrelp_software=flb-rs,0.1.0\ncommands=syslog\n\
             2 syslog 7 <13>1 a\n3 syslog 7 <13>1 b\n4 syslog 7 <13>1 c\n"
        );
    }

    #[test]
    fn a_lost_connection_reports_the_acknowledged_prefix() {
        let answers = answers(&[(1, "200 OK\ncommands=syslog,open"), (2, "200 OK")]);
        let script = Script {
            input: std::io::Cursor::new(answers),
            written: Vec::new(),
        };
        let mut s = Session::open(script, "x").unwrap();
        let msgs = vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()];
        let (acked, e) = s.send_all(&msgs, 3).unwrap_err();
        assert_eq!(acked, 1);
        assert!(matches!(e, RelpError::Io(_)));
    }

    #[test]
    fn a_refusal_is_an_error() {
        let answers = answers(&[(1, "500 not accepting")]);
        let script = Script {
            input: std::io::Cursor::new(answers),
            written: Vec::new(),
        };
        assert!(matches!(
            Session::open(script, "x"),
            Err(RelpError::Refused { .. })
        ));
    }
}
