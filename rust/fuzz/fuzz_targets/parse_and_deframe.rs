//! Arbitrary bytes through the deframer (split into two pushes at a point
//! taken from the data, small max_size) and every frame through the parser
//! in all three modes: no panic, and the invariants below.

#![no_main]

use flb_rs_sdk::EventTime;
use flb_rs_syslog::input::deframe::{Deframer, Frame};
use flb_rs_syslog::input::parse::{parse, Format, Message, Mode, ParseOptions};
use libfuzzer_sys::fuzz_target;

fn check(input: &[u8], m: &Message<'_>, mode: Mode) {
    assert_eq!(m.format == Format::Raw, m.error.is_some(), "{m:?}");
    if let Some(p) = m.pri {
        assert!(p <= 191, "{m:?}");
    }
    match m.format {
        Format::Raw => {
            assert!(m.pri.is_none() && m.timestamp.is_none() && m.sd.is_empty());
            // Nothing dropped: the whole input (less its trailing
            // terminators) is the message.
            let lossy = String::from_utf8_lossy(input);
            let trimmed = lossy.trim_end_matches(['\n', '\r', '\0']);
            assert_eq!(m.msg, trimmed);
            // RFC 3164 (also as Auto's fallback) gives up only on an empty
            // input or a bad <PRI>, and Auto's RFC 5424 starts with "<".
            if mode != Mode::Rfc5424 {
                assert!(trimmed.is_empty() || trimmed.starts_with('<'), "{m:?}");
            }
        }
        Format::Rfc5424 => {
            assert_ne!(mode, Mode::Rfc3164);
            assert!(m.pri.is_some());
            let name = |f: &str, max: usize| {
                assert!(!f.is_empty() && f.len() <= max, "{m:?}");
                assert!(f.bytes().all(|b| (33..=126).contains(&b)), "{m:?}");
            };
            // A header field of "-" is the NILVALUE (None); an SD-NAME of
            // "-" is an ordinary name (RFC 5424's SD-NAME allows '-').
            let limit = |f: Option<&str>, max: usize| {
                if let Some(f) = f {
                    name(f, max);
                    assert_ne!(f, "-", "{m:?}");
                }
            };
            limit(m.hostname, 255);
            limit(m.appname, 48);
            limit(m.procid, 128);
            limit(m.msgid, 32);
            for e in &m.sd {
                name(e.id, 32);
                for (param, _) in &e.params {
                    name(param, 32);
                }
            }
            assert_eq!(m.timestamp.is_some(), m.timestamp_raw.is_some());
        }
        Format::Rfc3164 => {
            assert_ne!(mode, Mode::Rfc5424);
            assert!(m.sd.is_empty() && m.msgid.is_none());
            assert_eq!(m.timestamp.is_some(), m.timestamp_raw.is_some());
            if let Some(h) = m.hostname {
                assert!(!h.is_empty() && h.len() <= 255);
            }
            if let Some(a) = m.appname {
                assert!(!a.is_empty() && a.len() <= 48);
            }
        }
    }
    if let Some(t) = m.timestamp {
        assert!(t.nanos < 1_000_000_000);
    }
}

fn parse_all(frame: &[u8], now: EventTime) {
    for mode in [Mode::Auto, Mode::Rfc5424, Mode::Rfc3164] {
        let opts = ParseOptions {
            mode,
            now,
            offset_minutes: -330,
        };
        let m = parse(frame, &opts);
        check(frame, &m, mode);
    }
}

fuzz_target!(|data: &[u8]| {
    let (head, data) = match data.split_first() {
        Some((&h, rest)) => (h, rest),
        None => return,
    };
    let split = if data.is_empty() {
        0
    } else {
        usize::from(head) * 7 % (data.len() + 1)
    };
    let max_size = 16 + usize::from(head % 64);
    let now = EventTime::new(1_795_521_600, 0);

    let mut d = Deframer::new(max_size);
    let mut error = false;
    let handle = |f: Frame<'_>, error: &mut bool| match f {
        Frame::Message(m) => {
            assert!(m.len() <= max_size);
            parse_all(m, now);
        }
        Frame::Oversize { len } => assert!(len > max_size),
        Frame::Error(_) => {
            assert!(!*error, "a second error");
            *error = true;
        }
    };
    for part in [&data[..split], &data[split..]] {
        d.push(part);
        while let Some(f) = d.next_frame() {
            handle(f, &mut error);
        }
        assert!(d.buffered() <= max_size + 12, "{} buffered", d.buffered());
    }
    while let Some(f) = d.finish() {
        handle(f, &mut error);
    }
    // The parser alone, on the whole input.
    parse_all(data, now);
});
