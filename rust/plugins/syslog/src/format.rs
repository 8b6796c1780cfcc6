//! Syslog messages per RFC 5424 and RFC 3164, byte for byte.
//!
//! Header fields are cut to their RFC lengths and restricted to printable
//! US-ASCII (anything else becomes `_`, an empty field the NILVALUE `-`).
//! MSG is UTF-8: invalid sequences are replaced by U+FFFD, never sent raw,
//! and a message cut to `maxsize` is cut on a character boundary.

use crate::message::{Digits, Message, SdElement, Text};
use crate::time;

/// RFC 5424's NILVALUE.
pub const NIL: &str = "-";
/// The UTF-8 byte order mark that may open an RFC 5424 MSG.
pub const BOM: &[u8] = b"\xef\xbb\xbf";

/// RFC 5424 section 6 field limits.
pub const HOSTNAME_MAX: usize = 255;
pub const APPNAME_MAX: usize = 48;
pub const PROCID_MAX: usize = 128;
pub const MSGID_MAX: usize = 32;
pub const SD_NAME_MAX: usize = 32;
/// RFC 3164: TAG is at most 32 characters, the whole packet 1024 bytes.
pub const TAG3164_MAX: usize = 32;

/// How messages are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Fractional digits of the RFC 5424 timestamp (0 to 6).
    pub time_digits: u32,
    /// Offset from UTC of the written timestamps, in minutes.
    pub offset_minutes: i32,
    /// Write the UTF-8 BOM before an RFC 5424 MSG.
    pub bom: bool,
    /// Largest message in bytes (0: no limit).
    pub maxsize: usize,
    /// Allow SD-IDs longer than RFC 5424's 32 characters.
    pub allow_long_sd_id: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            time_digits: 6,
            offset_minutes: 0,
            bom: true,
            maxsize: 0,
            allow_long_sd_id: false,
        }
    }
}

/// What formatting had to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcome {
    /// The message was made to fit `maxsize`: MSG cut, or SD elements
    /// left out (`sd_cut`).
    pub truncated: bool,
    /// SD elements left out because the header and structured data alone
    /// were longer than `maxsize`.
    pub sd_cut: usize,
    /// SD elements or params left out because their names were empty.
    pub sd_dropped: usize,
}

/// `<PRI>`.
fn pri(out: &mut Vec<u8>, facility: u8, severity: u8) {
    let pri = u64::from(facility.min(23)) * 8 + u64::from(severity.min(7));
    out.push(b'<');
    out.extend_from_slice(Digits::new(pri, false).as_bytes());
    out.push(b'>');
}

/// Byte classes, looked up rather than computed: these tests run for
/// every byte of every header field and SD name.
const PRINTABLE: u8 = 1;
/// Allowed in an SD-NAME: printable but not `=`, `]` or `"`.
const SD_NAME: u8 = 2;
/// Escaped in a PARAM-VALUE: `"`, `\\` and `]`.
const SD_ESCAPED: u8 = 4;
/// Not US-ASCII: part of a UTF-8 sequence, valid or not.
const HIGH: u8 = 8;

const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 33;
    while b <= 126 {
        t[b] = PRINTABLE | SD_NAME;
        b += 1;
    }
    t[b'=' as usize] = PRINTABLE;
    t[b']' as usize] = PRINTABLE | SD_ESCAPED;
    t[b'"' as usize] = PRINTABLE | SD_ESCAPED;
    t[b'\\' as usize] |= SD_ESCAPED;
    let mut b = 0x80;
    while b <= 0xff {
        t[b] = HIGH;
        b += 1;
    }
    t
};

fn is(class: u8, b: u8) -> bool {
    CLASS[usize::from(b)] & class != 0
}

fn printable(b: u8) -> bool {
    is(PRINTABLE, b)
}

/// A header field: printable US-ASCII (33..=126) only, at most `max`
/// bytes; NILVALUE when absent or empty.
pub fn header_field(out: &mut Vec<u8>, value: Option<&Text<'_>>, max: usize) {
    let written = value.is_some_and(|v| {
        v.with_bytes(|b| {
            let b = &b[..b.len().min(max)];
            if b.iter().copied().all(printable) {
                out.extend_from_slice(b);
            } else {
                out.extend(b.iter().map(|&c| if printable(c) { c } else { b'_' }));
            }
            !b.is_empty()
        })
    });
    if !written {
        out.extend_from_slice(NIL.as_bytes());
    }
}

/// Writes an SD-NAME (SD-ID or PARAM-NAME), `prefix` then `name`, as the
/// built-in output does: cut to `max` bytes, and every byte RFC 5424 does
/// not allow in a name (anything but printable US-ASCII, and `=`, space,
/// `]`, `"`) written as `_`. An empty name writes nothing and returns
/// false: `[]` or `="..."` would be malformed.
fn sd_name(out: &mut Vec<u8>, prefix: &[u8], name: &Text<'_>, max: usize) -> bool {
    let valid = |b: u8| is(SD_NAME, b);
    name.with_bytes(|name| {
        if prefix.is_empty() {
            if name.is_empty() {
                return false;
            }
            // The usual case: a short name of valid bytes, copied as it is.
            if name.len() <= max && name.iter().all(|&b| valid(b)) {
                out.extend_from_slice(name);
                return true;
            }
        }
        out.extend(
            prefix
                .iter()
                .chain(name)
                .take(max)
                .map(|&b| if valid(b) { b } else { b'_' }),
        );
        true
    })
}

/// PARAM-VALUE: UTF-8 (invalid sequences replaced by U+FFFD), with `"`,
/// `\` and `]` escaped by a backslash.
fn sd_value(out: &mut Vec<u8>, v: &[u8]) {
    let special = |b: &u8| is(SD_ESCAPED, *b);
    // The usual case, ASCII with nothing to escape, in one pass.
    if !v.iter().any(|&b| is(SD_ESCAPED | HIGH, b)) {
        out.extend_from_slice(v);
        return;
    }
    repair_utf8(out, v, special);
}

/// Appends `bytes` as UTF-8: each invalid sequence becomes U+FFFD, and a
/// backslash goes before every byte `escape` picks.
fn repair_utf8(out: &mut Vec<u8>, bytes: &[u8], escape: impl Fn(&u8) -> bool) {
    const FFFD: &[u8] = "\u{fffd}".as_bytes();
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid().as_bytes();
        let mut from = 0;
        for (i, b) in valid.iter().enumerate() {
            if escape(b) {
                out.extend_from_slice(&valid[from..i]);
                out.push(b'\\');
                from = i;
            }
        }
        out.extend_from_slice(&valid[from..]);
        if !chunk.invalid().is_empty() {
            out.extend_from_slice(FFFD);
        }
    }
}

/// Writes the SD elements (or NILVALUE when none is left), at most `limit`
/// bytes past `start` (the message's first byte) when `limit` is not 0:
/// the first element that would end beyond it is left out, and every one
/// after it, so that no element is ever cut open.
fn structured_data(
    out: &mut Vec<u8>,
    sd: &[SdElement<'_>],
    opts: &Options,
    start: usize,
    outcome: &mut Outcome,
) {
    let name_max = if opts.allow_long_sd_id {
        usize::MAX
    } else {
        SD_NAME_MAX
    };
    let sd_start = out.len();
    for (i, e) in sd.iter().enumerate() {
        let element_start = out.len();
        out.push(b'[');
        if !sd_name(out, b"", &e.id, name_max) {
            out.truncate(element_start);
            outcome.sd_dropped += 1;
            continue;
        }
        e.params.for_each(|prefix, k, v| {
            let param_start = out.len();
            out.push(b' ');
            if !sd_name(out, prefix, k, name_max) {
                out.truncate(param_start);
                outcome.sd_dropped += 1;
                return;
            }
            out.extend_from_slice(b"=\"");
            v.with_bytes(|v| sd_value(out, v));
            out.push(b'"');
        });
        out.push(b']');
        if opts.maxsize > 0 && out.len() - start > opts.maxsize {
            out.truncate(element_start);
            outcome.sd_cut += sd.len() - i;
            outcome.truncated = true;
            break;
        }
    }
    if out.len() == sd_start {
        out.extend_from_slice(NIL.as_bytes());
    }
}

/// Appends `msg` as UTF-8, invalid sequences replaced by U+FFFD.
fn utf8_repaired(out: &mut Vec<u8>, msg: &[u8]) {
    if std::str::from_utf8(msg).is_ok() {
        out.extend_from_slice(msg);
        return;
    }
    repair_utf8(out, msg, |_| false);
}

/// Cuts `buf` to at most `max` bytes without splitting a UTF-8 character
/// that starts at or after `from`, and never below `from`; returns whether
/// anything was cut.
fn cut(buf: &mut Vec<u8>, from: usize, max: usize) -> bool {
    let len = buf.len();
    if len <= max {
        return false;
    }
    let mut end = max.max(from);
    // Step back over continuation bytes (10xxxxxx) to a character start.
    while end > from && end < len && (buf[end] & 0xc0) == 0x80 {
        end -= 1;
    }
    buf.truncate(end);
    buf.len() < len
}

/// Writes `m` as an RFC 5424 message:
/// `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [SP [BOM] MSG]`.
///
/// `maxsize` is met by cutting MSG on a character boundary and, when the
/// header and SD alone are longer, by leaving out SD elements from the
/// end; the header itself is never cut (it is at most about 500 bytes), so
/// only a `maxsize` below the header's length can be exceeded.
pub fn rfc5424(out: &mut Vec<u8>, m: &Message<'_>, opts: &Options) -> Outcome {
    let mut outcome = Outcome::default();
    let start = out.len();
    pri(out, m.facility, m.severity);
    out.extend_from_slice(b"1 ");
    time::rfc3339(out, m.time, opts.time_digits, opts.offset_minutes);
    out.push(b' ');
    header_field(out, m.hostname.as_ref(), HOSTNAME_MAX);
    out.push(b' ');
    header_field(out, m.appname.as_ref(), APPNAME_MAX);
    out.push(b' ');
    header_field(out, m.procid.as_ref(), PROCID_MAX);
    out.push(b' ');
    header_field(out, m.msgid.as_ref(), MSGID_MAX);
    out.push(b' ');
    structured_data(out, &m.sd, opts, start, &mut outcome);
    if let Some(msg) = m.msg.as_ref().filter(|t| !t.is_empty()) {
        let before_msg = out.len();
        out.push(b' ');
        if opts.bom {
            out.extend_from_slice(BOM);
        }
        let msg_start = out.len();
        msg.with_bytes(|b| utf8_repaired(out, b));
        if opts.maxsize > 0 && cut(out, msg_start, start + opts.maxsize) {
            outcome.truncated = true;
            if out.len() <= msg_start {
                // Not one character of MSG fits: no SP and BOM either.
                out.truncate(before_msg);
            }
        }
    }
    outcome
}

/// RFC 3164's TAG: alphanumeric characters (and `-_./`), at most 32;
/// others end it.
fn tag3164(out: &mut Vec<u8>, appname: Option<&Text<'_>>) {
    let n = appname.map_or(0, |t| {
        t.with_bytes(|b| {
            let n = b
                .iter()
                .take(TAG3164_MAX)
                .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'))
                .count();
            out.extend_from_slice(&b[..n]);
            n
        })
    });
    if n == 0 {
        out.extend_from_slice(NIL.as_bytes());
    }
}

/// Writes `m` as an RFC 3164 message:
/// `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: MSG`.
pub fn rfc3164(out: &mut Vec<u8>, m: &Message<'_>, opts: &Options) -> Outcome {
    let mut outcome = Outcome::default();
    let start = out.len();
    pri(out, m.facility, m.severity);
    time::rfc3164(out, m.time, opts.offset_minutes);
    out.push(b' ');
    header_field(out, m.hostname.as_ref(), HOSTNAME_MAX);
    out.push(b' ');
    tag3164(out, m.appname.as_ref());
    if let Some(pid) = m.procid.as_ref().filter(|p| !p.is_empty()) {
        out.push(b'[');
        header_field(out, Some(pid), PROCID_MAX);
        out.push(b']');
    }
    out.extend_from_slice(b": ");
    let msg_start = out.len();
    if let Some(msg) = &m.msg {
        msg.with_bytes(|b| utf8_repaired(out, b));
    }
    let max = if opts.maxsize > 0 { opts.maxsize } else { 1024 };
    outcome.truncated = cut(out, msg_start, start + max);
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Params;
    use flb_rs_sdk::EventTime;

    fn msg() -> Message<'static> {
        Message {
            facility: 1,
            severity: 6,
            time: EventTime::new(1_795_561_509, 123_456_789),
            hostname: Some("web-1".into()),
            appname: Some("nginx".into()),
            procid: Some("42".into()),
            msgid: Some("ID47".into()),
            sd: vec![],
            msg: Some("hello".into()),
        }
    }

    fn s5424(m: &Message<'_>, o: &Options) -> (String, Outcome) {
        let mut out = Vec::new();
        let r = rfc5424(&mut out, m, o);
        (String::from_utf8(out).unwrap(), r)
    }

    fn s3164(m: &Message<'_>, o: &Options) -> (String, Outcome) {
        let mut out = Vec::new();
        let r = rfc3164(&mut out, m, o);
        (String::from_utf8(out).unwrap(), r)
    }

    #[test]
    fn rfc5424_full_header() {
        let (s, _) = s5424(&msg(), &Options::default());
        assert_eq!(
            s,
            "<14>1 2026-11-24T23:05:09.123456Z web-1 nginx 42 ID47 - \u{feff}hello"
        );
    }

    #[test]
    fn rfc5424_nilvalues_and_no_bom() {
        let m = Message {
            hostname: None,
            appname: Some("".into()),
            procid: None,
            msgid: None,
            ..msg()
        };
        let o = Options {
            bom: false,
            ..Options::default()
        };
        assert_eq!(
            s5424(&m, &o).0,
            "<14>1 2026-11-24T23:05:09.123456Z - - - - - hello"
        );
    }

    #[test]
    fn rfc5424_empty_message_has_no_trailing_space() {
        let m = Message { msg: None, ..msg() };
        assert_eq!(
            s5424(&m, &Options::default()).0,
            "<14>1 2026-11-24T23:05:09.123456Z web-1 nginx 42 ID47 -"
        );
    }

    #[test]
    fn header_fields_are_printable_ascii_and_cut_to_rfc_lengths() {
        let (a, p, m) = ("a".repeat(60), "p".repeat(130), "m".repeat(40));
        let m = Message {
            hostname: Some("h\u{e9} st".into()),
            appname: Some(a.as_str().into()),
            procid: Some(p.as_str().into()),
            msgid: Some(m.as_str().into()),
            ..msg()
        };
        let (s, _) = s5424(
            &m,
            &Options {
                bom: false,
                ..Options::default()
            },
        );
        let fields: Vec<&str> = s.split(' ').collect();
        assert_eq!(fields[2], "h___st", "é is two bytes, each replaced");
        assert_eq!(fields[3].len(), 48);
        assert_eq!(fields[4].len(), 128);
        assert_eq!(fields[5].len(), 32);
    }

    #[test]
    fn pri_is_facility_times_eight_plus_severity() {
        let m = Message {
            facility: 23,
            severity: 7,
            ..msg()
        };
        assert!(s5424(&m, &Options::default()).0.starts_with("<191>1 "));
        let m = Message {
            facility: 0,
            severity: 0,
            ..msg()
        };
        assert!(s5424(&m, &Options::default()).0.starts_with("<0>1 "));
        // Out-of-range values are clamped, never a malformed PRI.
        let m = Message {
            facility: 99,
            severity: 99,
            ..msg()
        };
        assert!(s5424(&m, &Options::default()).0.starts_with("<191>1 "));
    }

    #[test]
    fn sd_names_are_made_valid_as_the_builtin_does() {
        let m = Message {
            sd: vec![
                SdElement {
                    id: "exampleSDID@32473".into(),
                    params: Params::Pairs(vec![
                        ("iut".into(), "3".into()),
                        ("eventSource".into(), "Application".into()),
                        ("q".into(), "a \"quoted\" \\ back]slash".into()),
                        ("bad name".into(), "dropped".into()),
                    ]),
                },
                SdElement {
                    id: "bad]id=\"ü".into(),
                    params: Params::Pairs(vec![("".into(), "empty names are left out".into())]),
                },
                SdElement {
                    id: "".into(),
                    params: Params::Pairs(vec![("p".into(), "no SD-ID: left out".into())]),
                },
                SdElement {
                    id: "k8s@1".into(),
                    params: Params::Pairs(vec![("pod".into(), "web-1".into())]),
                },
            ],
            msg: None,
            ..msg()
        };
        let (s, r) = s5424(&m, &Options::default());
        // Invalid bytes become `_` (both bytes of "ü"), as in the built-in.
        assert_eq!(
            s,
            "<14>1 2026-11-24T23:05:09.123456Z web-1 nginx 42 ID47 \
             [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" q=\"a \\\"quoted\\\" \\\\ back\\]slash\" bad_name=\"dropped\"]\
             [bad_id____][k8s@1 pod=\"web-1\"]"
        );
        assert_eq!(r.sd_dropped, 2);
    }

    #[test]
    fn long_sd_names_are_cut_to_32_unless_allowed() {
        let long = "x".repeat(40);
        let m = Message {
            sd: vec![SdElement {
                id: long.as_str().into(),
                params: Params::Pairs(vec![(long.as_str().into(), "v".into())]),
            }],
            msg: None,
            ..msg()
        };
        let short = &long[..32];
        assert!(s5424(&m, &Options::default())
            .0
            .ends_with(&format!(" [{short} {short}=\"v\"]")));
        let o = Options {
            allow_long_sd_id: true,
            ..Options::default()
        };
        assert!(s5424(&m, &o)
            .0
            .ends_with(&format!(" [{long} {long}=\"v\"]")));
    }

    fn with_sd(n: usize, text: &'static str) -> Message<'static> {
        const IDS: [&str; 3] = ["e0@1", "e1@1", "e2@1"];
        Message {
            sd: IDS[..n]
                .iter()
                .map(|&id| SdElement {
                    id: id.into(),
                    params: Params::Pairs(vec![("k".into(), "vvvvvvvvvv".into())]),
                })
                .collect(),
            msg: Some(text.into()),
            ..msg()
        }
    }

    #[test]
    fn maxsize_cuts_msg_never_structured_data() {
        let o = |maxsize| Options {
            bom: false,
            maxsize,
            ..Options::default()
        };
        let full = s5424(&with_sd(2, "ü-message"), &o(0)).0;
        let msg_at = full.find("] ").unwrap() + 2;
        // Every limit from the whole message down to just the header and
        // SD: the SD stays whole and MSG is cut on a character boundary.
        for max in msg_at..=full.len() {
            let (s, r) = s5424(&with_sd(2, "ü-message"), &o(max));
            assert!(s.len() <= max, "{max}: {s}");
            assert!(
                s.contains("[e0@1 k=\"vvvvvvvvvv\"][e1@1 k=\"vvvvvvvvvv\"]"),
                "{max}: {s}"
            );
            assert_eq!(r.truncated, max < full.len(), "{max}");
            assert_eq!(r.sd_cut, 0);
            assert!(full.starts_with(&s));
        }
        // No room for one character of MSG: no SP, no MSG.
        let (s, r) = s5424(&with_sd(2, "ü-message"), &o(msg_at));
        assert!(s.ends_with("vvvvvvvvvv\"]"), "{s}");
        assert!(r.truncated);
    }

    #[test]
    fn maxsize_leaves_out_whole_sd_elements_from_the_end() {
        let o = |maxsize| Options {
            bom: false,
            maxsize,
            ..Options::default()
        };
        let header = s5424(&with_sd(0, ""), &o(0)).0;
        let header = &header[..header.len() - 1]; // without the "-"
        let one = s5424(&with_sd(1, ""), &o(0)).0;
        let two = s5424(&with_sd(2, ""), &o(0)).0;
        for max in header.len()..two.len() {
            let (s, r) = s5424(&with_sd(3, "msg"), &o(max));
            let (sd, cut) = if max >= one.len() {
                (one.clone(), 2)
            } else {
                (format!("{header}-"), 3)
            };
            // What room is left goes to MSG (never a lone SP).
            let room = max.saturating_sub(sd.len()).min(4);
            let want = format!("{sd}{}", if room >= 2 { &" msg"[..room] } else { "" });
            assert_eq!((s.as_str(), r.sd_cut), (want.as_str(), cut), "{max}");
            assert!(r.truncated);
            // Every element that is there is closed.
            assert_eq!(s.matches('[').count(), s.matches(']').count(), "{s}");
        }
    }

    #[test]
    fn invalid_utf8_is_repaired_newlines_kept() {
        let m = Message {
            msg: Some(Text::Bytes(b"a\xffb\nc")),
            ..msg()
        };
        let o = Options {
            bom: false,
            ..Options::default()
        };
        assert!(s5424(&m, &o).0.ends_with(" - a\u{fffd}b\nc"));
    }

    #[test]
    fn maxsize_cuts_on_a_character_boundary() {
        // "é" is two bytes; a limit landing between them cuts before it.
        let m = Message {
            msg: Some("aé".into()),
            ..msg()
        };
        let full = s5424(
            &m,
            &Options {
                bom: false,
                ..Options::default()
            },
        )
        .0;
        let o = Options {
            bom: false,
            maxsize: full.len() - 1,
            ..Options::default()
        };
        let (s, r) = s5424(&m, &o);
        assert!(r.truncated);
        assert_eq!(s, &full[..full.len() - 2]);
        assert!(s.ends_with(" - a"));
        let o = Options {
            bom: false,
            maxsize: full.len(),
            ..Options::default()
        };
        assert!(!s5424(&m, &o).1.truncated);
    }

    #[test]
    fn rfc3164_layout() {
        let (s, _) = s3164(&msg(), &Options::default());
        assert_eq!(s, "<14>Nov 24 23:05:09 web-1 nginx[42]: hello");
        let m = Message {
            procid: None,
            appname: Some("my app!".into()),
            hostname: None,
            ..msg()
        };
        assert_eq!(
            s3164(&m, &Options::default()).0,
            "<14>Nov 24 23:05:09 - my: hello"
        );
    }

    #[test]
    fn rfc3164_is_at_most_1024_bytes_by_default() {
        let x = "x".repeat(2000);
        let m = Message {
            msg: Some(x.as_str().into()),
            ..msg()
        };
        let (s, r) = s3164(&m, &Options::default());
        assert_eq!(s.len(), 1024);
        assert!(r.truncated);
    }
}
