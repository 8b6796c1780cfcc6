//! Arbitrary bytes as a Fluent Bit chunk: decoded by the SDK (both event
//! formats, hostile lengths and nesting), every record mapped with every
//! kind of key (plain, paths, SD keys, SD elements, the Kubernetes preset)
//! and written as RFC 5424 and RFC 3164. No panic, and what is written is
//! UTF-8, starts with a PRI, and meets syslog_maxsize when that leaves room
//! for the longest header.

#![no_main]

use flb_rs_sdk::accessor::RecordAccessor;
use flb_rs_sdk::{Events, Value};
use flb_rs_syslog::format::{self, Options};
use flb_rs_syslog::mapping::{Field, Issues, Kubernetes, Mapping, SdKey};
use flb_rs_syslog::message::Message;
use libfuzzer_sys::fuzz_target;

fn acc(s: &str) -> Option<RecordAccessor> {
    Some(RecordAccessor::parse(s).unwrap())
}

/// The longest RFC 5424 header: PRI, version, timestamp and the four
/// fields at their limits, with the spaces between them, and room for a
/// year past 9999 (integer timestamps reach far beyond RFC 3339's range).
const HEADER_MAX: usize = 5 + 2 + 32 + 255 + 48 + 128 + 32 + 6 + 24;

fuzz_target!(|data: &[u8]| {
    let Some((&knob, chunk)) = data.split_first() else {
        return;
    };
    let mapping = Mapping {
        severity_key: acc("level"),
        severity_preset: 6,
        facility_key: acc("$meta['facility']"),
        facility_preset: 1,
        hostname: Field {
            key: acc("host"),
            preset: Some("h".into()),
        },
        appname: Field {
            key: acc("$k['app'][0]"),
            preset: None,
        },
        procid: Field {
            key: acc("pid"),
            preset: None,
        },
        msgid: Field {
            key: acc("id"),
            preset: Some("M".into()),
        },
        sd_keys: vec![
            SdKey::new(acc("sd@1").unwrap()),
            SdKey::new(acc("$meta['o@1']").unwrap()),
        ],
        sd_elements_keys: vec![acc("sd").unwrap()],
        message_key: acc("log"),
        kubernetes: (knob & 1 == 1).then(|| Kubernetes {
            sd_id: "k8s@1".into(),
        }),
    };
    let opts = Options {
        time_digits: u32::from(knob >> 5).min(6),
        offset_minutes: i32::from(knob & 0x0e) * 30 - 210,
        bom: knob & 0x10 != 0,
        maxsize: [0, 64, 480, 2048][usize::from(knob >> 6)],
        allow_long_sd_id: knob & 0x20 != 0,
    };
    // The reader on its own: a value, then what follows it.
    let _ = Value::from_slice(chunk);
    let mut m = Message::default();
    let mut out = Vec::new();
    // As the output reads a chunk: each body mapped while it is read (its
    // only walk), the event checked after.
    let mut events = Events::new(chunk);
    let mut read_whole = Events::new(chunk).map_while(Result::ok);
    while let Some(Ok((ev, mapped))) = events.next_with_body(|head, body| {
        let mut issues = Issues::default();
        mapping.fill_reading(head.time, body, &mut m, &mut issues)
    }) {
        // The same events as when each is read whole first.
        let whole = read_whole.next().expect("the same number of events");
        assert_eq!((whole.offset, whole.raw), (ev.offset, ev.raw));
        assert!(mapped.is_ok(), "an event that reads whole maps: {mapped:?}");
        for rfc5424 in [true, false] {
            out.clear();
            if rfc5424 {
                format::rfc5424(&mut out, &m, &opts);
            } else {
                format::rfc3164(&mut out, &m, &opts);
            }
            assert!(std::str::from_utf8(&out).is_ok(), "{out:?}");
            assert!(out.starts_with(b"<"), "{out:?}");
            let max = if !rfc5424 && opts.maxsize == 0 {
                1024
            } else {
                opts.maxsize
            };
            if max >= HEADER_MAX {
                assert!(out.len() <= max, "{} > {max}", out.len());
            }
        }
    }
    assert!(read_whole.next().is_none(), "the same number of events");
});
