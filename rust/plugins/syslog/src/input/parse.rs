//! Syslog message parsing: RFC 5424, strictly, and RFC 3164 with the
//! variants real senders produce (roughly what rsyslog's pmrfc3164 accepts).
//!
//! The parser borrows from its input wherever it can, runs in linear time
//! and never panics. Nothing is dropped: a message that fits neither format
//! comes back as [`Format::Raw`] with the whole input as its `msg` and the
//! reason in `error`.

use std::borrow::Cow;

/// `bytes` as text, invalid UTF-8 replaced (U+FFFD). Valid text, nearly
/// all of it, is checked by `from_utf8`, which skips ASCII a word at a
/// time; `from_utf8_lossy` looks at every byte.
fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

use flb_rs_sdk::EventTime;

use crate::time::civil;

/// Which grammar to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// `<PRI>1 ` (or `<PRI>1` ending the input) selects RFC 5424, anything
    /// else RFC 3164.
    #[default]
    Auto,
    /// RFC 5424 only: anything else is [`Format::Raw`] with an error.
    Rfc5424,
    /// Everything is parsed as RFC 3164.
    Rfc3164,
}

/// How to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    pub mode: Mode,
    /// The reception time: RFC 3164 timestamps carry no year, which is
    /// inferred from this.
    pub now: EventTime,
    /// Offset east of UTC, in minutes, of RFC 3164 timestamps that carry no
    /// zone (0 = UTC).
    pub offset_minutes: i32,
}

/// What the message turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Rfc5424,
    Rfc3164,
    /// Fits neither: `msg` is the whole input and `error` says why.
    Raw,
}

/// One RFC 5424 SD-ELEMENT: `[id name="value" ...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdElement<'a> {
    pub id: &'a str,
    /// PARAM-NAME and PARAM-VALUE, with the escapes `\"`, `\\` and `\]`
    /// undone (a backslash before any other character is kept).
    pub params: Vec<(&'a str, Cow<'a, str>)>,
}

/// A parsed syslog message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    pub format: Format,
    /// Facility `pri >> 3`, severity `pri & 7`; at most 191.
    pub pri: Option<u8>,
    /// The timestamp, in UTC (its offset applied).
    pub timestamp: Option<EventTime>,
    /// The timestamp as it was written.
    pub timestamp_raw: Option<&'a str>,
    pub hostname: Option<&'a str>,
    /// RFC 3164: the TAG without its `[pid]` and `:`.
    pub appname: Option<&'a str>,
    /// RFC 3164: the pid in `TAG[pid]`.
    pub procid: Option<&'a str>,
    pub msgid: Option<&'a str>,
    pub sd: Vec<SdElement<'a>>,
    /// Invalid UTF-8 is replaced (U+FFFD); an RFC 5424 BOM is removed.
    pub msg: Cow<'a, str>,
    /// Set exactly when `format` is [`Format::Raw`].
    pub error: Option<String>,
}

impl<'a> Message<'a> {
    /// The facility (0..=23), from the PRI.
    pub fn facility(&self) -> Option<u8> {
        self.pri.map(|p| p >> 3)
    }

    /// The severity (0..=7), from the PRI.
    pub fn severity(&self) -> Option<u8> {
        self.pri.map(|p| p & 7)
    }

    fn new(format: Format, pri: Option<u8>) -> Self {
        Message {
            format,
            pri,
            timestamp: None,
            timestamp_raw: None,
            hostname: None,
            appname: None,
            procid: None,
            msgid: None,
            sd: Vec::new(),
            msg: Cow::Borrowed(""),
            error: None,
        }
    }

    fn raw(input: &'a [u8], error: String) -> Self {
        let mut m = Message::new(Format::Raw, None);
        m.msg = lossy(input);
        m.error = Some(error);
        m
    }
}

/// Parses one syslog message. Trailing LF, CR LF and NUL are removed first.
pub fn parse<'a>(input: &'a [u8], opts: &ParseOptions) -> Message<'a> {
    let input = strip_trailer(input);
    if input.is_empty() {
        return Message::raw(input, "empty message".to_string());
    }
    let rfc5424 = match opts.mode {
        Mode::Rfc5424 => true,
        Mode::Rfc3164 => false,
        Mode::Auto => claims_rfc5424(input),
    };
    if rfc5424 {
        match parse_5424(input) {
            Ok(m) => m,
            Err(e) => Message::raw(input, e),
        }
    } else {
        match parse_3164(input, opts) {
            Ok(m) => m,
            Err(e) => Message::raw(input, e),
        }
    }
}

fn strip_trailer(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., b'\n' | b'\r' | 0] = s {
        s = rest;
    }
    s
}

/// `<` 1 to 5 digits `>1` then SP or the end.
fn claims_rfc5424(s: &[u8]) -> bool {
    if s.first() != Some(&b'<') {
        return false;
    }
    let n = s[1..]
        .iter()
        .take(6)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if n == 0 || n > 5 {
        return false;
    }
    let rest = &s[1 + n..];
    rest.starts_with(b">1 ") || rest == b">1"
}

/// A slice already checked to be ASCII.
fn ascii(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or_default()
}

fn is_printusascii(b: u8) -> bool {
    (33..=126).contains(&b)
}

// ---------------------------------------------------------------------------
// RFC 5424

fn err5424(what: impl std::fmt::Display, at: usize) -> String {
    format!("RFC 5424: {what} at byte {at}")
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// Bytes up to the next SP (or the end), not consuming the SP.
    fn token(&mut self) -> &'a [u8] {
        let start = self.i;
        let len = self.s[start..]
            .iter()
            .position(|&b| b == b' ')
            .unwrap_or(self.s.len() - start);
        self.i = start + len;
        &self.s[start..start + len]
    }

    fn expect_sp(&mut self, after: &str) -> Result<(), String> {
        match self.peek() {
            Some(b' ') => {
                self.i += 1;
                Ok(())
            }
            None => Err(err5424(
                format_args!("message ends after {after} (truncated header)"),
                self.i,
            )),
            Some(b) => Err(err5424(
                format_args!("expected SP after {after}, found 0x{b:02X}"),
                self.i,
            )),
        }
    }

    /// A header field: 1 to `max` PRINTUSASCII, `-` being NILVALUE.
    fn field(&mut self, name: &str, max: usize) -> Result<Option<&'a str>, String> {
        let start = self.i;
        let tok = self.token();
        if tok.is_empty() {
            return Err(err5424(format_args!("empty {name}"), start));
        }
        if let Some(p) = tok.iter().position(|&b| !is_printusascii(b)) {
            return Err(err5424(
                format_args!(
                    "{name} contains a non-printable or non-ASCII byte 0x{:02X}",
                    tok[p]
                ),
                start + p,
            ));
        }
        if tok.len() > max {
            return Err(err5424(
                format_args!("{name} longer than {max} characters"),
                start,
            ));
        }
        Ok(if tok == b"-" { None } else { Some(ascii(tok)) })
    }

    /// SD-NAME: 1 to 32 PRINTUSASCII except `=`, SP, `]` and `"`.
    fn sd_name(&mut self, what: &str) -> Result<&'a str, String> {
        let start = self.i;
        let n = self.s[start..]
            .iter()
            .take_while(|&&b| is_printusascii(b) && !matches!(b, b'=' | b']' | b'"'))
            .count();
        self.i = start + n;
        match self.peek() {
            None | Some(b' ' | b'=' | b']' | b'"') => {}
            Some(b) => {
                return Err(err5424(
                    format_args!("{what} contains a non-printable or non-ASCII byte 0x{b:02X}"),
                    self.i,
                ))
            }
        }
        if n == 0 {
            return Err(err5424(format_args!("empty {what}"), start));
        }
        if n > 32 {
            return Err(err5424(
                format_args!("{what} longer than 32 characters"),
                start,
            ));
        }
        Ok(ascii(&self.s[start..start + n]))
    }

    /// PARAM-VALUE after its opening quote, through its closing quote.
    fn param_value(&mut self) -> Result<Cow<'a, str>, String> {
        let start = self.i;
        let mut j = start;
        let mut escaped = false;
        loop {
            match self.s.get(j) {
                None => {
                    return Err(err5424(
                        "unterminated PARAM-VALUE (missing '\"')",
                        start.saturating_sub(1),
                    ))
                }
                Some(b'\\') => {
                    if matches!(self.s.get(j + 1), Some(b'"' | b'\\' | b']')) {
                        escaped = true;
                        j += 2;
                    } else {
                        j += 1;
                    }
                }
                Some(b'"') => break,
                Some(_) => j += 1,
            }
        }
        self.i = j + 1;
        let raw = &self.s[start..j];
        if !escaped {
            return Ok(lossy(raw));
        }
        let mut out = Vec::with_capacity(raw.len());
        let mut k = 0;
        while k < raw.len() {
            let b = raw[k];
            if b == b'\\' && matches!(raw.get(k + 1), Some(b'"' | b'\\' | b']')) {
                out.push(raw[k + 1]);
                k += 2;
            } else {
                out.push(b);
                k += 1;
            }
        }
        Ok(Cow::Owned(String::from_utf8_lossy(&out).into_owned()))
    }

    fn sd_element(&mut self) -> Result<SdElement<'a>, String> {
        let open = self.i;
        self.i += 1; // '['
        let id = self.sd_name("SD-ID")?;
        let mut params = Vec::new();
        loop {
            match self.peek() {
                None => return Err(err5424("unterminated SD-ELEMENT (missing ']')", open)),
                Some(b']') => {
                    self.i += 1;
                    return Ok(SdElement { id, params });
                }
                Some(b' ') => {
                    self.i += 1;
                    let name = self.sd_name("PARAM-NAME")?;
                    if self.peek() != Some(b'=') {
                        return Err(err5424("expected '=' after PARAM-NAME", self.i));
                    }
                    self.i += 1;
                    if self.peek() != Some(b'"') {
                        return Err(err5424("expected '\"' to open PARAM-VALUE", self.i));
                    }
                    self.i += 1;
                    let value = self.param_value()?;
                    params.push((name, value));
                }
                Some(b) => {
                    return Err(err5424(
                        format_args!("expected SP or ']' in SD-ELEMENT, found 0x{b:02X}"),
                        self.i,
                    ))
                }
            }
        }
    }
}

/// RFC 5424's PRI: 1 to 3 digits, no leading zero except `<0>`, at most 191.
fn pri_5424(c: &mut Cursor<'_>) -> Result<u8, String> {
    if c.peek() != Some(b'<') {
        return Err(err5424("expected '<' opening PRI", 0));
    }
    let n = c.s[1..]
        .iter()
        .take(4)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if n == 0 {
        return Err(err5424("PRI is not a number", 1));
    }
    if n > 3 {
        return Err(err5424("PRI longer than 3 digits", 1));
    }
    if c.s.get(1 + n) != Some(&b'>') {
        return Err(err5424("PRI not terminated by '>'", 1 + n));
    }
    if n > 1 && c.s[1] == b'0' {
        return Err(err5424("PRI has a leading zero", 1));
    }
    let v = c.s[1..1 + n]
        .iter()
        .fold(0u32, |a, &b| a * 10 + u32::from(b - b'0'));
    if v > 191 {
        return Err(err5424(format_args!("PRI {v} out of range 0..191"), 1));
    }
    c.i = 2 + n;
    Ok(v as u8)
}

fn parse_5424(s: &[u8]) -> Result<Message<'_>, String> {
    let mut c = Cursor { s, i: 0 };
    let pri = pri_5424(&mut c)?;
    let vstart = c.i;
    let version = c.token();
    if version != b"1" {
        let valid = !version.is_empty()
            && version.len() <= 3
            && version[0] != b'0'
            && version.iter().all(u8::is_ascii_digit);
        return Err(if valid {
            err5424(
                format_args!("unsupported VERSION {}", ascii(version)),
                vstart,
            )
        } else {
            err5424("invalid VERSION", vstart)
        });
    }
    c.expect_sp("VERSION")?;

    let mut m = Message::new(Format::Rfc5424, Some(pri));
    let tstart = c.i;
    let ts = c.token();
    if ts.is_empty() {
        return Err(err5424("empty TIMESTAMP", tstart));
    }
    if ts != b"-" {
        let (t, n) = rfc3339(ts).map_err(|e| err5424(format_args!("TIMESTAMP {e}"), tstart))?;
        if n != ts.len() {
            return Err(err5424(
                "TIMESTAMP followed by unexpected characters",
                tstart + n,
            ));
        }
        m.timestamp = Some(t);
        m.timestamp_raw = Some(ascii(ts));
    }
    c.expect_sp("TIMESTAMP")?;
    m.hostname = c.field("HOSTNAME", 255)?;
    c.expect_sp("HOSTNAME")?;
    m.appname = c.field("APP-NAME", 48)?;
    c.expect_sp("APP-NAME")?;
    m.procid = c.field("PROCID", 128)?;
    c.expect_sp("PROCID")?;
    m.msgid = c.field("MSGID", 32)?;
    c.expect_sp("MSGID")?;

    match c.peek() {
        Some(b'-') => c.i += 1,
        Some(b'[') => {
            while c.peek() == Some(b'[') {
                let e = c.sd_element()?;
                m.sd.push(e);
            }
        }
        None => {
            return Err(err5424(
                "message ends before STRUCTURED-DATA (truncated header)",
                c.i,
            ))
        }
        Some(b) => {
            return Err(err5424(
                format_args!("expected '-' or '[' for STRUCTURED-DATA, found 0x{b:02X}"),
                c.i,
            ))
        }
    }
    match c.peek() {
        None => {}
        Some(b' ') => {
            let mut body = &s[c.i + 1..];
            if let Some(rest) = body.strip_prefix(b"\xEF\xBB\xBF") {
                body = rest;
            }
            m.msg = lossy(body);
        }
        Some(b) => {
            return Err(err5424(
                format_args!("expected SP after STRUCTURED-DATA, found 0x{b:02X}"),
                c.i,
            ))
        }
    }
    Ok(m)
}

// ---------------------------------------------------------------------------
// Dates

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`); the inverse of [`crate::time::civil`].
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn seconds_of(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
    days_from_civil(y, mo, d) * 86_400 + i64::from(h * 3600 + mi * 60 + s)
}

/// Exactly `n` ASCII digits at `s[i..]`.
fn fixed_digits(s: &[u8], i: usize, n: usize) -> Option<u32> {
    let d = s.get(i..i + n)?;
    if !d.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(d.iter().fold(0u32, |a, &b| a * 10 + u32::from(b - b'0')))
}

/// `.` and fraction digits at `s[i..]`: (nanoseconds, bytes consumed).
/// Digits past the ninth are read and truncated.
fn fraction(s: &[u8], i: usize) -> Option<(u32, usize)> {
    if s.get(i) != Some(&b'.') {
        return Some((0, 0));
    }
    let digits = s[i + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let mut nanos = 0u32;
    for k in 0..9 {
        let d = if k < digits {
            u32::from(s[i + 1 + k] - b'0')
        } else {
            0
        };
        nanos = nanos * 10 + d;
    }
    Some((nanos, 1 + digits))
}

/// An RFC 3339 timestamp (as RFC 5424 restricts it: `T` and `Z` upper
/// case, a zone required) at the start of `s`: the time in UTC and the bytes
/// it took. Fractions of any length are accepted and truncated to
/// nanoseconds.
fn rfc3339(s: &[u8]) -> Result<(EventTime, usize), String> {
    let year = fixed_digits(s, 0, 4).ok_or("year is not 4 digits")?;
    if s.get(4) != Some(&b'-') {
        return Err("expected '-' after the year".into());
    }
    let month = fixed_digits(s, 5, 2).ok_or("month is not 2 digits")?;
    if !(1..=12).contains(&month) {
        return Err(format!("month {month} out of range"));
    }
    if s.get(7) != Some(&b'-') {
        return Err("expected '-' after the month".into());
    }
    let day = fixed_digits(s, 8, 2).ok_or("day is not 2 digits")?;
    let y = i64::from(year);
    if day == 0 || day > days_in_month(y, month) {
        return Err(format!("day {day} out of range for {year:04}-{month:02}"));
    }
    if s.get(10) != Some(&b'T') {
        return Err("expected 'T' between date and time".into());
    }
    let hour = fixed_digits(s, 11, 2).ok_or("hour is not 2 digits")?;
    let minute = if s.get(13) == Some(&b':') {
        fixed_digits(s, 14, 2).ok_or("minute is not 2 digits")?
    } else {
        return Err("expected ':' after the hour".into());
    };
    let second = if s.get(16) == Some(&b':') {
        fixed_digits(s, 17, 2).ok_or("second is not 2 digits")?
    } else {
        return Err("expected ':' after the minute".into());
    };
    if hour > 23 || minute > 59 || second > 59 {
        return Err(format!(
            "time {hour:02}:{minute:02}:{second:02} out of range"
        ));
    }
    let (nanos, flen) = fraction(s, 19).ok_or("fraction has no digits")?;
    let mut i = 19 + flen;
    let offset_secs = match s.get(i) {
        Some(b'Z') => {
            i += 1;
            0
        }
        Some(&sign @ (b'+' | b'-')) => {
            let oh = fixed_digits(s, i + 1, 2).ok_or("offset hour is not 2 digits")?;
            if s.get(i + 3) != Some(&b':') {
                return Err("expected ':' in the offset".into());
            }
            let om = fixed_digits(s, i + 4, 2).ok_or("offset minute is not 2 digits")?;
            if oh > 23 || om > 59 {
                return Err("offset out of range".into());
            }
            i += 6;
            let v = i64::from(oh * 3600 + om * 60);
            if sign == b'-' {
                -v
            } else {
                v
            }
        }
        _ => return Err("has no time zone (Z or +hh:mm)".into()),
    };
    let seconds = seconds_of(y, month, day, hour, minute, second) - offset_secs;
    Ok((EventTime::new(seconds, nanos), i))
}

// ---------------------------------------------------------------------------
// RFC 3164

const MONTHS: [&[u8; 3]; 12] = [
    b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec",
];

/// Longest TAG (name and `[pid]`) taken as a tag. RFC 3164 says 32; real
/// senders exceed it.
const MAX_TAG: usize = 48;

/// 1 or 2 digits at `s[i..]`: (value, count).
fn short_number(s: &[u8], i: usize) -> Option<(u32, usize)> {
    let n = s
        .get(i..)?
        .iter()
        .take(3)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if n == 0 || n > 2 {
        return None;
    }
    fixed_digits(s, i, n).map(|v| (v, n))
}

fn year_at(s: &[u8], i: usize) -> Option<u32> {
    let y = fixed_digits(s, i, 4)?;
    let ends = matches!(s.get(i + 4), None | Some(b' '));
    (ends && (1970..=2099).contains(&y)).then_some(y)
}

/// A BSD timestamp at the start of `s`: `Mmm dd hh:mm:ss`, the day padded
/// with a space or a zero or not at all, an optional year before the time
/// (Cisco: `Mmm dd yyyy hh:mm:ss`) or after it (`Mmm dd hh:mm:ss yyyy`),
/// and an optional fraction of a second. Returns the time in UTC and the
/// bytes it took.
fn bsd_timestamp(s: &[u8], opts: &ParseOptions) -> Option<(EventTime, usize)> {
    let name = s.get(..3)?;
    let month = MONTHS
        .iter()
        .position(|m| name.eq_ignore_ascii_case(&m[..]))? as u32
        + 1;
    if s.get(3) != Some(&b' ') {
        return None;
    }
    let mut i = 4;
    if s.get(i) == Some(&b' ') {
        i += 1;
    }
    let (day, n) = short_number(s, i)?;
    i += n;
    if day == 0 || day > days_in_month(2000, month) || s.get(i) != Some(&b' ') {
        return None;
    }
    i += 1;
    let mut year = None;
    if let Some(y) = year_at(s, i) {
        year = Some(y);
        i += 5;
    }
    let hour = fixed_digits(s, i, 2)?;
    if s.get(i + 2) != Some(&b':') {
        return None;
    }
    let minute = fixed_digits(s, i + 3, 2)?;
    if s.get(i + 5) != Some(&b':') {
        return None;
    }
    let second = fixed_digits(s, i + 6, 2)?;
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    i += 8;
    let (nanos, flen) = fraction(s, i).unwrap_or((0, 0));
    i += flen;
    if year.is_none() && s.get(i) == Some(&b' ') {
        if let Some(y) = year_at(s, i + 1) {
            year = Some(y);
            i += 5;
        }
    }
    if !matches!(s.get(i), None | Some(b' ' | b':')) {
        return None;
    }
    let offset = i64::from(opts.offset_minutes) * 60;
    let local = match year {
        Some(y) => {
            let y = i64::from(y);
            if day > days_in_month(y, month) {
                return None;
            }
            seconds_of(y, month, day, hour, minute, second)
        }
        None => {
            // No year: this year where the sender is, unless that puts the
            // message more than a month ahead (December's message read in
            // January): then last year.
            let now_local = opts.now.seconds.saturating_add(offset);
            let y = civil(now_local).year;
            let t = seconds_of(y, month, day, hour, minute, second);
            if t > now_local.saturating_add(31 * 86_400) {
                seconds_of(y - 1, month, day, hour, minute, second)
            } else {
                t
            }
        }
    };
    Some((EventTime::new(local - offset, nanos), i))
}

/// A host name as RFC 3164 senders write it: letters, digits, `.`, `_`,
/// `-`, ending in a letter or digit; or an IPv6 address.
fn is_hostname(t: &[u8]) -> bool {
    let Some(&last) = t.last() else {
        return false;
    };
    if t.len() > 255 {
        return false;
    }
    let plain = t
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if plain {
        return last.is_ascii_alphanumeric();
    }
    let ipv6 = t
        .iter()
        .all(|&b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.'));
    ipv6 && t.iter().filter(|&&b| b == b':').count() >= 2 && last != b':'
}

fn malformed_pri(s: &[u8], what: &str) -> String {
    let shown: String = String::from_utf8_lossy(&s[..s.len().min(8)]).into_owned();
    format!("RFC 3164: malformed PRI ({what}) in '{shown}'")
}

fn parse_3164<'a>(s: &'a [u8], opts: &ParseOptions) -> Result<Message<'a>, String> {
    let mut i = 0;
    let mut pri = None;
    if s.first() == Some(&b'<') {
        let n = s[1..]
            .iter()
            .take(4)
            .take_while(|b| b.is_ascii_digit())
            .count();
        if n == 0 {
            return Err(malformed_pri(s, "not a number"));
        }
        if n > 3 {
            return Err(malformed_pri(s, "longer than 3 digits"));
        }
        if s.get(1 + n) != Some(&b'>') {
            return Err(malformed_pri(s, "no closing '>'"));
        }
        let v = s[1..1 + n]
            .iter()
            .fold(0u32, |a, &b| a * 10 + u32::from(b - b'0'));
        if v > 191 {
            return Err(malformed_pri(s, &format!("{v} out of range 0..191")));
        }
        pri = Some(v as u8);
        i = 2 + n;
    }
    let mut m = Message::new(Format::Rfc3164, pri);

    // TIMESTAMP: RFC 3339 (rsyslog's forwarding format) or BSD.
    let rest = &s[i..];
    let ts = match rfc3339(rest) {
        Ok((t, n)) if matches!(rest.get(n), None | Some(b' ')) => Some((t, n)),
        _ => bsd_timestamp(rest, opts),
    };
    if let Some((t, n)) = ts {
        m.timestamp = Some(t);
        m.timestamp_raw = Some(ascii(&rest[..n]));
        i += n;
        if s.get(i) == Some(&b':') {
            i += 1; // Cisco: "Mmm dd hh:mm:ss: ..."
        }
        if s.get(i) == Some(&b' ') {
            i += 1;
        }
        // HOSTNAME, only after a timestamp (as rsyslog): a token that cannot
        // be a host name (it has ':' or '[') is the TAG.
        let len = s[i..]
            .iter()
            .take(257)
            .position(|&b| b == b' ')
            .unwrap_or(s.len() - i);
        let tok = &s[i..(i + len).min(s.len())];
        if i + len <= s.len() && is_hostname(tok) {
            m.hostname = Some(ascii(tok));
            i += len;
            if s.get(i) == Some(&b' ') {
                i += 1;
            }
        }
    }

    // TAG: printable ASCII up to ':' or SP; `name[pid]`.
    let len = s[i..]
        .iter()
        .take(MAX_TAG + 1)
        .take_while(|&&b| is_printusascii(b) && b != b':')
        .count();
    let tag = &s[i..i + len];
    let after = s.get(i + len).copied();
    let bracketed = tag.ends_with(b"]") && tag.contains(&b'[');
    let is_tag = len <= MAX_TAG
        && !(len > 0 && tag.iter().all(u8::is_ascii_digit))
        && match after {
            Some(b':') => true,
            Some(b' ') => len > 0 && (m.timestamp.is_some() || bracketed),
            _ => false,
        };
    if is_tag {
        let (name, pid) = match tag.iter().position(|&b| b == b'[') {
            Some(lb) if bracketed => (&tag[..lb], &tag[lb + 1..tag.len() - 1]),
            _ => (tag, &b""[..]),
        };
        m.appname = (!name.is_empty()).then(|| ascii(name));
        m.procid = (!pid.is_empty()).then(|| ascii(pid));
        i += len + 1;
        if after == Some(b':') && s.get(i) == Some(&b' ') {
            i += 1;
        }
    }
    m.msg = lossy(&s[i.min(s.len())..]);
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-24T12:00:00Z (`date -u -d 2026-11-24T12:00:00Z +%s`).
    const NOW: i64 = 1_795_521_600;
    /// 2026-11-24T10:00:00Z.
    const NOV24_10: i64 = 1_795_514_400;
    /// 2003-10-11T22:14:15Z.
    const OCT11_2003: i64 = 1_065_910_455;

    fn opts(mode: Mode) -> ParseOptions {
        ParseOptions {
            mode,
            now: EventTime::new(NOW, 0),
            offset_minutes: 0,
        }
    }

    fn auto(s: &[u8]) -> Message<'_> {
        parse(s, &opts(Mode::Auto))
    }

    fn t(seconds: i64, nanos: u32) -> Option<EventTime> {
        Some(EventTime::new(seconds, nanos))
    }

    /// Asserts Raw, the error mentioning `needle`, the input kept whole.
    fn assert_raw(s: &[u8], mode: Mode, needle: &str) -> String {
        let m = parse(s, &opts(mode));
        assert_eq!(m.format, Format::Raw, "{m:?}");
        let e = m.error.clone().expect("error");
        assert!(e.contains(needle), "error '{e}' lacks '{needle}'");
        assert_eq!(m.msg, String::from_utf8_lossy(strip_trailer(s)));
        assert_eq!(m.pri, None);
        e
    }

    #[test]
    fn rfc5424_example_1_with_bom() {
        let m = auto(b"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \xEF\xBB\xBF'su root' failed for lonvick on /dev/pts/8");
        assert_eq!(m.format, Format::Rfc5424);
        assert_eq!(m.pri, Some(34));
        assert_eq!(m.facility(), Some(4));
        assert_eq!(m.severity(), Some(2));
        assert_eq!(m.timestamp, t(OCT11_2003, 3_000_000));
        assert_eq!(m.timestamp_raw, Some("2003-10-11T22:14:15.003Z"));
        assert_eq!(m.hostname, Some("mymachine.example.com"));
        assert_eq!(m.appname, Some("su"));
        assert_eq!(m.procid, None);
        assert_eq!(m.msgid, Some("ID47"));
        assert!(m.sd.is_empty());
        assert_eq!(m.msg, "'su root' failed for lonvick on /dev/pts/8");
        assert!(matches!(m.msg, Cow::Borrowed(_)));
        assert_eq!(m.error, None);
    }

    #[test]
    fn rfc5424_example_2_offset() {
        let m = auto(b"<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.");
        assert_eq!(m.format, Format::Rfc5424);
        assert_eq!(m.pri, Some(165));
        assert_eq!(m.facility(), Some(20));
        assert_eq!(m.severity(), Some(5));
        // 2003-08-24T12:14:15Z
        assert_eq!(m.timestamp, t(1_061_727_255, 3_000));
        assert_eq!(m.timestamp_raw, Some("2003-08-24T05:14:15.000003-07:00"));
        assert_eq!(m.hostname, Some("192.0.2.1"));
        assert_eq!(m.appname, Some("myproc"));
        assert_eq!(m.procid, Some("8710"));
        assert_eq!(m.msgid, None);
        assert!(m.sd.is_empty());
        assert_eq!(m.msg, "%% It's time to make the do-nuts.");
    }

    #[test]
    fn rfc5424_example_3_sd_and_bom() {
        let m = auto(b"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] \xEF\xBB\xBFAn application event log entry...");
        assert_eq!(m.format, Format::Rfc5424);
        assert_eq!(m.timestamp, t(OCT11_2003, 3_000_000));
        assert_eq!(m.hostname, Some("mymachine.example.com"));
        assert_eq!(m.appname, Some("evntslog"));
        assert_eq!(m.procid, None);
        assert_eq!(m.msgid, Some("ID47"));
        assert_eq!(
            m.sd,
            vec![SdElement {
                id: "exampleSDID@32473",
                params: vec![
                    ("iut", Cow::Borrowed("3")),
                    ("eventSource", Cow::Borrowed("Application")),
                    ("eventID", Cow::Borrowed("1011")),
                ],
            }]
        );
        assert_eq!(m.msg, "An application event log entry...");
    }

    #[test]
    fn rfc5424_example_4_two_sd_elements_no_msg() {
        let m = auto(b"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"][examplePriority@32473 class=\"high\"]");
        assert_eq!(m.format, Format::Rfc5424);
        assert_eq!(m.sd.len(), 2);
        assert_eq!(m.sd[0].id, "exampleSDID@32473");
        assert_eq!(m.sd[0].params.len(), 3);
        assert_eq!(
            m.sd[1],
            SdElement {
                id: "examplePriority@32473",
                params: vec![("class", Cow::Borrowed("high"))],
            }
        );
        assert_eq!(m.msg, "");
        assert_eq!(m.error, None);
    }

    #[test]
    fn rfc5424_sd_escapes() {
        let m = auto(br#"<13>1 - - - - - [id@1 a="x\"y" b="back\\slash" c="br\]acket" d="keep\n" e="" f="]"] m"#);
        assert_eq!(m.format, Format::Rfc5424, "{:?}", m.error);
        let p = &m.sd[0].params;
        assert_eq!(p[0], ("a", Cow::Borrowed("x\"y")));
        assert_eq!(p[1], ("b", Cow::Borrowed("back\\slash")));
        assert_eq!(p[2], ("c", Cow::Borrowed("br]acket")));
        assert_eq!(p[3], ("d", Cow::Borrowed("keep\\n")));
        assert!(matches!(p[3].1, Cow::Borrowed(_)));
        assert!(matches!(p[0].1, Cow::Owned(_)));
        assert_eq!(p[4], ("e", Cow::Borrowed("")));
        // An unescaped ']' inside quotes is unambiguous: accepted.
        assert_eq!(p[5], ("f", Cow::Borrowed("]")));
        assert_eq!(m.msg, "m");
    }

    #[test]
    fn rfc5424_sd_element_without_params_and_utf8_value() {
        let m = auto("<13>1 - - - - - [a][b x=\"é\\\\\"] m".as_bytes());
        assert_eq!(m.format, Format::Rfc5424, "{:?}", m.error);
        assert_eq!(m.sd[0].id, "a");
        assert!(m.sd[0].params.is_empty());
        assert_eq!(m.sd[1].params, vec![("x", Cow::Borrowed("é\\"))]);
    }

    #[test]
    fn rfc5424_nilvalue_everywhere_and_empty_msg() {
        for s in [
            &b"<0>1 - - - - - -"[..],
            b"<0>1 - - - - - - ",
            b"<0>1 - - - - - -\r\n",
        ] {
            let m = auto(s);
            assert_eq!(m.format, Format::Rfc5424);
            assert_eq!(m.pri, Some(0));
            assert_eq!(m.timestamp, None);
            assert_eq!(m.timestamp_raw, None);
            assert_eq!(m.hostname, None);
            assert_eq!(m.appname, None);
            assert_eq!(m.procid, None);
            assert_eq!(m.msgid, None);
            assert!(m.sd.is_empty());
            assert_eq!(m.msg, "");
        }
        let m = auto(b"<191>1 - - - - - -  two spaces kept ");
        assert_eq!(m.pri, Some(191));
        assert_eq!(m.msg, " two spaces kept ");
    }

    #[test]
    fn rfc5424_timestamps() {
        let ts = |s: &str| {
            let line = format!("<13>1 {s} h a p m - x");
            let m = auto(line.as_bytes());
            assert_eq!(m.format, Format::Rfc5424, "{s}: {:?}", m.error);
            m.timestamp.unwrap()
        };
        // 2026-11-24T12:30:00Z
        assert_eq!(
            ts("2026-11-24T18:00:00+05:30"),
            EventTime::new(1_795_523_400, 0)
        );
        assert_eq!(ts("2026-11-24T10:00:00Z"), EventTime::new(NOV24_10, 0));
        assert_eq!(ts("2026-11-24T10:00:00+00:00"), EventTime::new(NOV24_10, 0));
        assert_eq!(ts("2026-11-24T09:00:00-01:00"), EventTime::new(NOV24_10, 0));
        assert_eq!(ts("2000-02-29T23:59:59Z"), EventTime::new(951_868_799, 0));
        assert_eq!(ts("2024-02-29T00:00:00Z"), EventTime::new(1_709_164_800, 0));
        assert_eq!(ts("1970-01-01T00:00:00Z"), EventTime::new(0, 0));
        assert_eq!(ts("1969-12-31T23:59:59Z"), EventTime::new(-1, 0));
        assert_eq!(
            ts("9999-12-31T23:59:59Z"),
            EventTime::new(253_402_300_799, 0)
        );
        assert_eq!(
            ts("0000-01-01T00:00:00Z"),
            EventTime::new(-62_167_219_200, 0)
        );
        assert_eq!(ts("2100-03-01T00:00:00Z"), EventTime::new(4_107_542_400, 0));
        assert_eq!(ts("1970-01-01T00:00:00.5Z"), EventTime::new(0, 500_000_000));
        // More than 6 digits: accepted, truncated to nanoseconds.
        assert_eq!(
            ts("1970-01-01T00:00:00.1234567891Z"),
            EventTime::new(0, 123_456_789)
        );
        // The day before the epoch, with an offset crossing midnight.
        assert_eq!(ts("1970-01-01T00:00:00+23:59"), EventTime::new(-86_340, 0));
    }

    #[test]
    fn rfc5424_header_length_limits() {
        let host = "h".repeat(255);
        let app = "a".repeat(48);
        let proc_ = "p".repeat(128);
        let msgid = "m".repeat(32);
        let line = format!("<13>1 - {host} {app} {proc_} {msgid} - x");
        let m = auto(line.as_bytes());
        assert_eq!(m.format, Format::Rfc5424, "{:?}", m.error);
        assert_eq!(m.hostname, Some(&host[..]));
        assert_eq!(m.appname, Some(&app[..]));
        assert_eq!(m.procid, Some(&proc_[..]));
        assert_eq!(m.msgid, Some(&msgid[..]));
        let id = "i".repeat(32);
        let line = format!("<13>1 - - - - - [{id} {id}=\"v\"]");
        assert_eq!(auto(line.as_bytes()).format, Format::Rfc5424);
    }

    #[test]
    fn rfc5424_invalid_utf8_in_msg_is_repaired() {
        let m = auto(b"<13>1 - - - - - - caf\xC3 ok");
        assert_eq!(m.format, Format::Rfc5424);
        assert_eq!(m.msg, "caf\u{FFFD} ok");
    }

    #[test]
    fn rfc5424_malformed() {
        use Mode::{Auto, Rfc5424};
        let e = assert_raw(b"<34>1 2003-10-11T22:14:15.003Z host app - - [iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii a=\"1\"] x", Auto, "SD-ID longer than 32");
        assert_eq!(e, "RFC 5424: SD-ID longer than 32 characters at byte 45");
        assert_raw(b"<abc>1 - - - - - -", Rfc5424, "PRI is not a number");
        assert_raw(b"<192>1 - - - - - -", Auto, "PRI 192 out of range");
        assert_raw(b"<01>1 - - - - - -", Auto, "PRI has a leading zero");
        assert_raw(b"<1000>1 - - - - - -", Auto, "PRI longer than 3 digits");
        assert_raw(b"<13 1 - - - - - -", Rfc5424, "PRI not terminated");
        assert_raw(b"13>1 - - - - - -", Rfc5424, "expected '<'");
        assert_raw(b"<34>2 - - - - - -", Rfc5424, "unsupported VERSION 2");
        assert_raw(b"<34>01 - - - - - -", Rfc5424, "invalid VERSION");
        assert_raw(
            b"<13>Nov 24 10:00:00 host tag: x",
            Rfc5424,
            "invalid VERSION",
        );
        assert_raw(b"<34>1", Auto, "message ends after VERSION");
        let e = assert_raw(
            b"<34>1 2003-10-11T22:14:15.003Z mymachine",
            Auto,
            "truncated header",
        );
        assert_eq!(
            e,
            "RFC 5424: message ends after HOSTNAME (truncated header) at byte 40"
        );
        assert_raw(b"<34>1 - - - - -", Auto, "message ends after MSGID");
        assert_raw(b"<34>1 - - - - - ", Auto, "before STRUCTURED-DATA");
        assert_raw(b"<34>1 -  - - - -", Auto, "empty HOSTNAME");
        assert_raw(
            b"<34>1 - - - - - [id a=\"1\"",
            Auto,
            "unterminated SD-ELEMENT",
        );
        assert_raw(
            b"<34>1 - - - - - [id a=\"1]",
            Auto,
            "unterminated PARAM-VALUE",
        );
        assert_raw(
            b"<34>1 - - - - - [id a=\"1\\\"]",
            Auto,
            "unterminated PARAM-VALUE",
        );
        assert_raw(
            b"<34>1 - - - - - [id a=1]",
            Auto,
            "expected '\"' to open PARAM-VALUE",
        );
        assert_raw(
            b"<34>1 - - - - - [id a]",
            Auto,
            "expected '=' after PARAM-NAME",
        );
        assert_raw(b"<34>1 - - - - - [id  a=\"1\"]", Auto, "empty PARAM-NAME");
        assert_raw(b"<34>1 - - - - - []", Auto, "empty SD-ID");
        assert_raw(b"<34>1 - - - - - [id\"]", Auto, "expected SP or ']'");
        assert_raw(
            b"<34>1 - - - - - [i\xC3\xA9]",
            Auto,
            "SD-ID contains a non-printable",
        );
        assert_raw(
            b"<34>1 - - - - - [a b=\"c\"]msg",
            Auto,
            "expected SP after STRUCTURED-DATA",
        );
        assert_raw(
            b"<34>1 - - - - - -msg",
            Auto,
            "expected SP after STRUCTURED-DATA",
        );
        assert_raw(b"<34>1 - - - - - x", Auto, "expected '-' or '['");
        assert_raw(
            b"<34>1 2003-13-11T22:14:15Z h a p m -",
            Auto,
            "TIMESTAMP month 13 out of range",
        );
        assert_raw(
            b"<34>1 2003-02-29T22:14:15Z h a p m -",
            Auto,
            "TIMESTAMP day 29 out of range for 2003-02",
        );
        assert_raw(
            b"<34>1 2003-02-10T24:00:00Z h a p m -",
            Auto,
            "TIMESTAMP time 24:00:00 out of range",
        );
        assert_raw(
            b"<34>1 2003-02-10t10:00:00Z h a p m -",
            Auto,
            "expected 'T'",
        );
        assert_raw(
            b"<34>1 2003-02-10T10:00:00 h a p m -",
            Auto,
            "TIMESTAMP has no time zone",
        );
        assert_raw(
            b"<34>1 2003-02-10T10:00:00.Z h a p m -",
            Auto,
            "fraction has no digits",
        );
        assert_raw(
            b"<34>1 2003-02-10T10:00:00Zjunk h a p m -",
            Auto,
            "followed by unexpected",
        );
        assert_raw(
            b"<34>1 Oct 11 22:14:15 h a p m -",
            Auto,
            "year is not 4 digits",
        );
        let e = assert_raw(
            "<34>1 - hôst a p m -".as_bytes(),
            Auto,
            "HOSTNAME contains a non-printable or non-ASCII byte 0xC3",
        );
        assert!(e.ends_with("at byte 9"), "{e}");
        let long_app = format!("<34>1 - h {} p m -", "a".repeat(49));
        assert_raw(long_app.as_bytes(), Auto, "APP-NAME longer than 48");
        let long_msgid = format!("<34>1 - h a p {} -", "m".repeat(33));
        assert_raw(long_msgid.as_bytes(), Auto, "MSGID longer than 32");
        let long_proc = format!("<34>1 - h a {} m -", "p".repeat(129));
        assert_raw(long_proc.as_bytes(), Auto, "PROCID longer than 128");
        let long_host = format!("<34>1 - {} a p m -", "h".repeat(256));
        assert_raw(long_host.as_bytes(), Auto, "HOSTNAME longer than 255");
        assert_raw(b"<34>1 - h\ta a p m -", Auto, "HOSTNAME contains");
        assert_raw(b"", Auto, "empty message");
        assert_raw(b"\r\n\0", Rfc5424, "empty message");
    }

    // ----- RFC 3164

    #[allow(clippy::too_many_arguments)]
    fn check3164(
        line: &str,
        pri: Option<u8>,
        ts: Option<EventTime>,
        ts_raw: Option<&str>,
        host: Option<&str>,
        app: Option<&str>,
        pid: Option<&str>,
        msg: &str,
    ) {
        let m = auto(line.as_bytes());
        assert_eq!(m.format, Format::Rfc3164, "{line}: {:?}", m.error);
        assert_eq!(m.error, None);
        assert_eq!(m.pri, pri, "{line}: pri");
        assert_eq!(m.timestamp, ts, "{line}: timestamp");
        assert_eq!(m.timestamp_raw, ts_raw, "{line}: timestamp_raw");
        assert_eq!(m.hostname, host, "{line}: hostname");
        assert_eq!(m.appname, app, "{line}: appname");
        assert_eq!(m.procid, pid, "{line}: procid");
        assert_eq!(m.msgid, None);
        assert!(m.sd.is_empty());
        assert_eq!(m.msg, msg, "{line}: msg");
    }

    #[test]
    fn rfc3164_logger_line() {
        let nov24 = t(NOV24_10, 0);
        let raw = Some("Nov 24 10:00:00");
        check3164(
            "<13>Nov 24 10:00:00 myhost user[1234]: hello",
            Some(13),
            nov24,
            raw,
            Some("myhost"),
            Some("user"),
            Some("1234"),
            "hello",
        );
        check3164(
            "<13>Nov 24 10:00:00 myhost user[1234]: hello\n",
            Some(13),
            nov24,
            raw,
            Some("myhost"),
            Some("user"),
            Some("1234"),
            "hello",
        );
        check3164(
            "<13>Nov 24 10:00:00 myhost sshd: a  b ",
            Some(13),
            nov24,
            raw,
            Some("myhost"),
            Some("sshd"),
            None,
            "a  b ",
        );
        check3164(
            "<13>nov 24 10:00:00 my-host.example.com postfix/smtpd[77]:x",
            Some(13),
            nov24,
            Some("nov 24 10:00:00"),
            Some("my-host.example.com"),
            Some("postfix/smtpd"),
            Some("77"),
            "x",
        );
    }

    #[test]
    fn rfc3164_day_padding() {
        // 2026-11-05T10:00:00Z
        let nov5 = t(1_793_872_800, 0);
        check3164(
            "<13>Nov  5 10:00:00 h t: m",
            Some(13),
            nov5,
            Some("Nov  5 10:00:00"),
            Some("h"),
            Some("t"),
            None,
            "m",
        );
        check3164(
            "<13>Nov 05 10:00:00 h t: m",
            Some(13),
            nov5,
            Some("Nov 05 10:00:00"),
            Some("h"),
            Some("t"),
            None,
            "m",
        );
        check3164(
            "<13>Nov 5 10:00:00 h t: m",
            Some(13),
            nov5,
            Some("Nov 5 10:00:00"),
            Some("h"),
            Some("t"),
            None,
            "m",
        );
    }

    #[test]
    fn rfc3164_years_and_rfc3339() {
        let nov24 = t(NOV24_10, 0);
        check3164(
            "<13>Nov 24 2026 10:00:00 h t: m",
            Some(13),
            nov24,
            Some("Nov 24 2026 10:00:00"),
            Some("h"),
            Some("t"),
            None,
            "m",
        );
        check3164(
            "<13>Nov 24 10:00:00 2026 h t: m",
            Some(13),
            nov24,
            Some("Nov 24 10:00:00 2026"),
            Some("h"),
            Some("t"),
            None,
            "m",
        );
        // An explicit year is not inferred: 2024-02-29T00:00:00Z.
        check3164(
            "<13>Feb 29 2024 00:00:00 h t: m",
            Some(13),
            t(1_709_164_800, 0),
            Some("Feb 29 2024 00:00:00"),
            Some("h"),
            Some("t"),
            None,
            "m",
        );
        // RSYSLOG_ForwardFormat.
        check3164(
            "<13>2026-11-24T11:00:00+01:00 h t[9]: m",
            Some(13),
            nov24,
            Some("2026-11-24T11:00:00+01:00"),
            Some("h"),
            Some("t"),
            Some("9"),
            "m",
        );
        check3164(
            "<13>2026-11-24T10:00:00.123456+00:00 h t: m",
            Some(13),
            t(NOV24_10, 123_456_000),
            Some("2026-11-24T10:00:00.123456+00:00"),
            Some("h"),
            Some("t"),
            None,
            "m",
        );
        // Cisco: fraction and a colon after the time.
        check3164(
            "<189>Nov 24 10:00:00.123: %SYS-5-CONFIG_I: Configured",
            Some(189),
            t(NOV24_10, 123_000_000),
            Some("Nov 24 10:00:00.123"),
            None,
            Some("%SYS-5-CONFIG_I"),
            None,
            "Configured",
        );
    }

    #[test]
    fn rfc3164_year_inference() {
        let at = |now: i64, line: &str, off: i32| {
            let o = ParseOptions {
                mode: Mode::Auto,
                now: EventTime::new(now, 0),
                offset_minutes: off,
            };
            parse(line.as_bytes(), &o).timestamp.unwrap().seconds
        };
        // 2026-01-10T00:00:00Z: December is last year's.
        let jan10 = 1_768_003_200;
        assert_eq!(at(jan10, "<13>Dec 20 00:00:00 h t: m", 0), 1_766_188_800); // 2025-12-20
        assert_eq!(at(jan10, "<13>Dec 31 23:59:59 h t: m", 0), 1_767_225_599); // 2025-12-31
                                                                               // Within a month ahead: this year (2026-12-20T00:00:00Z).
        assert_eq!(at(NOW, "<13>Dec 20 00:00:00 h t: m", 0), 1_797_724_800);
        // 2026-03-15T00:00:00Z, long past: this year.
        assert_eq!(at(NOW, "<13>Mar 15 00:00:00 h t: m", 0), 1_773_532_800);
        // Local times: +02:00 gives 08:00Z, -05:30 gives 15:30Z.
        assert_eq!(at(NOW, "<13>Nov 24 10:00:00 h t: m", 120), 1_795_507_200);
        assert_eq!(at(NOW, "<13>Nov 24 10:00:00 h t: m", -330), 1_795_534_200);
        // RFC 3339 carries its own zone: the option does not apply.
        assert_eq!(at(NOW, "<13>2026-11-24T10:00:00Z h t: m", 120), NOV24_10);
    }

    #[test]
    fn rfc3164_missing_parts() {
        let nov24 = t(NOV24_10, 0);
        let raw = Some("Nov 24 10:00:00");
        // No hostname: the token has ':' or '[' so it is the tag.
        check3164(
            "<13>Nov 24 10:00:00 tag: msg",
            Some(13),
            nov24,
            raw,
            None,
            Some("tag"),
            None,
            "msg",
        );
        check3164(
            "<13>Nov 24 10:00:00 tag[5]: msg",
            Some(13),
            nov24,
            raw,
            None,
            Some("tag"),
            Some("5"),
            "msg",
        );
        check3164(
            "<13>Nov 24 10:00:00 tag[5] msg",
            Some(13),
            nov24,
            raw,
            None,
            Some("tag"),
            Some("5"),
            "msg",
        );
        // No timestamp: no hostname either.
        check3164(
            "<13>tag: msg",
            Some(13),
            None,
            None,
            None,
            Some("tag"),
            None,
            "msg",
        );
        check3164(
            "<13>tag[42]: msg",
            Some(13),
            None,
            None,
            None,
            Some("tag"),
            Some("42"),
            "msg",
        );
        check3164(
            "<13>host tag: msg",
            Some(13),
            None,
            None,
            None,
            None,
            None,
            "host tag: msg",
        );
        // No PRI.
        check3164(
            "Nov 24 10:00:00 host tag: msg",
            None,
            nov24,
            raw,
            Some("host"),
            Some("tag"),
            None,
            "msg",
        );
        check3164(
            "hello world",
            None,
            None,
            None,
            None,
            None,
            None,
            "hello world",
        );
        check3164("<13>", Some(13), None, None, None, None, None, "");
        check3164("<013>x", Some(13), None, None, None, None, None, "x");
        // Hostname and nothing else.
        check3164(
            "<13>Nov 24 10:00:00 myhost",
            Some(13),
            nov24,
            raw,
            Some("myhost"),
            None,
            None,
            "",
        );
        // Tag without colon (after a timestamp only).
        check3164(
            "<13>Nov 24 10:00:00 host tag msg here",
            Some(13),
            nov24,
            raw,
            Some("host"),
            Some("tag"),
            None,
            "msg here",
        );
        // Not a valid date: all of it is content.
        check3164(
            "<13>Feb 30 10:00:00 host tag: m",
            Some(13),
            None,
            None,
            None,
            None,
            None,
            "Feb 30 10:00:00 host tag: m",
        );
        // IPv6 host.
        check3164(
            "<13>Nov 24 10:00:00 2001:db8::1 sshd[1]: x",
            Some(13),
            nov24,
            raw,
            Some("2001:db8::1"),
            Some("sshd"),
            Some("1"),
            "x",
        );
    }

    #[test]
    fn rfc3164_tag_lengths() {
        let tag48 = "t".repeat(48);
        let line = format!("<13>Nov 24 10:00:00 h {tag48}: m");
        check3164(
            &line,
            Some(13),
            t(NOV24_10, 0),
            Some("Nov 24 10:00:00"),
            Some("h"),
            Some(&tag48),
            None,
            "m",
        );
        let tag49 = "t".repeat(49);
        let line = format!("<13>Nov 24 10:00:00 h {tag49}: m");
        check3164(
            &line,
            Some(13),
            t(NOV24_10, 0),
            Some("Nov 24 10:00:00"),
            Some("h"),
            None,
            None,
            &format!("{tag49}: m"),
        );
    }

    #[test]
    fn rfc3164_cisco_and_oddities() {
        check3164(
            "<189>: %SYS-5-CONFIG_I: Configured",
            Some(189),
            None,
            None,
            None,
            None,
            None,
            "%SYS-5-CONFIG_I: Configured",
        );
        // A sequence number is not a tag.
        check3164(
            "<189>35: *Mar  1 00:00:36: %LINK-3-UPDOWN: up",
            Some(189),
            None,
            None,
            None,
            None,
            None,
            "35: *Mar  1 00:00:36: %LINK-3-UPDOWN: up",
        );
        let m = auto(b"<13>Nov 24 10:00:00 h t: caf\xC3 \xFF");
        assert_eq!(m.msg, "caf\u{FFFD} \u{FFFD}");
        // A 5424 message read as 3164.
        let m = parse(
            b"<34>1 2003-10-11T22:14:15.003Z h a - - - m",
            &opts(Mode::Rfc3164),
        );
        assert_eq!(m.format, Format::Rfc3164);
        assert_eq!(m.pri, Some(34));
        assert_eq!(m.msg, "1 2003-10-11T22:14:15.003Z h a - - - m");
        // Trailing NUL and CR LF go.
        let m = auto(b"<13>t: m\r\n\0");
        assert_eq!(m.msg, "m");
    }

    #[test]
    fn rfc3164_malformed_pri() {
        use Mode::{Auto, Rfc3164};
        assert_raw(b"<999>Nov 24 10:00:00 h t: m", Auto, "999 out of range");
        assert_raw(b"<192>x", Rfc3164, "192 out of range");
        assert_raw(b"<abc>x", Auto, "not a number");
        assert_raw(b"<1000>x", Auto, "longer than 3 digits");
        assert_raw(b"<13", Auto, "no closing '>'");
        assert_raw(b"<html>", Auto, "malformed PRI");
        assert_raw(b"\n", Rfc3164, "empty message");
    }

    #[test]
    fn days_from_civil_inverts_civil() {
        for days in (-800_000i64..800_000).step_by(997) {
            let c = civil(days * 86_400);
            assert_eq!(days_from_civil(c.year, c.month, c.day), days);
        }
    }
}
