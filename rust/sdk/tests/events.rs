//! Decoding Fluent Bit events: both formats, every timestamp form, group
//! markers, and malformed events.

use flb_rs_sdk::{EventEncoder, EventFormat, EventKind, EventTime, Events, Value, Writer};

fn event(ts: impl FnOnce(&mut Writer), v2: bool) -> Vec<u8> {
    let mut w = Writer::new();
    w.array_len(2);
    if v2 {
        w.array_len(2);
        ts(&mut w);
        w.map(|m| m.str("meta", "m"));
    } else {
        ts(&mut w);
    }
    w.map(|m| m.str("log", "x"));
    w.into_bytes()
}

#[test]
fn v2_and_legacy_events_with_every_timestamp_form() {
    let mut chunk = Vec::new();
    chunk.extend(event(
        |w| w.event_time(EventTime::new(1_700_000_000, 123_456_789)),
        true,
    ));
    chunk.extend(event(|w| w.uint(1_700_000_001), false));
    chunk.extend(event(|w| w.f64(1_700_000_002.5), true));
    chunk.extend(event(|w| w.event_time(EventTime::new(3, 4)), false));
    let evs: Vec<_> = Events::new(&chunk).map(Result::unwrap).collect();
    assert_eq!(evs.len(), 4);
    assert_eq!(evs[0].time, EventTime::new(1_700_000_000, 123_456_789));
    assert_eq!(evs[0].format, EventFormat::V2);
    assert_eq!(
        evs[0]
            .metadata
            .unwrap()
            .get("meta")
            .unwrap()
            .as_str()
            .unwrap(),
        "m"
    );
    assert_eq!(evs[1].time, EventTime::new(1_700_000_001, 0));
    assert_eq!(evs[1].format, EventFormat::Legacy);
    assert!(evs[1].metadata.is_none());
    assert_eq!(evs[2].time, EventTime::new(1_700_000_002, 500_000_000));
    assert_eq!(evs[3].time, EventTime::new(3, 4));
    for e in &evs {
        assert_eq!(e.kind, EventKind::Record);
        assert_eq!(e.get("log").unwrap().as_str().unwrap(), "x");
        assert_eq!(&chunk[e.offset..e.offset + e.raw.len()], e.raw);
    }
}

/// The header as Fluent Bit writes it (a fixext 8 timestamp), read by a
/// shorter path, gives what the same header with an ext 8 timestamp gives
/// through the general one: time, kind, metadata, body, raw bytes.
#[test]
fn the_usual_header_reads_as_the_general_one() {
    for (seconds, nanos) in [(1_700_000_000, 5), (0xffff_ffff, 0), (0xffff_fffe, 0)] {
        let usual = event(|w| w.event_time(EventTime::new(seconds, nanos)), true);
        assert_eq!(&usual[..4], [0x92, 0x92, 0xd7, 0x00]);
        // ext 8 of length 8, type 0: the same timestamp, three bytes of header.
        let mut general = vec![0x92, 0x92, 0xc7, 0x08, 0x00];
        general.extend(&usual[4..]);
        let a = Events::new(&usual).next().unwrap().unwrap();
        let b = Events::new(&general).next().unwrap().unwrap();
        assert_eq!((a.time, a.kind, a.format), (b.time, b.kind, b.format));
        assert_eq!(a.metadata.unwrap().raw(), b.metadata.unwrap().raw());
        assert_eq!(a.body.raw(), b.body.raw());
        assert_eq!((a.raw, b.raw), (&usual[..], &general[..]));
    }
}

#[test]
fn group_markers_are_recognised_and_skipped_by_records() {
    let mut chunk = Vec::new();
    chunk.extend(event(
        |w| w.event_time(EventTime::new(0xffff_ffff, 0)),
        true,
    ));
    chunk.extend(event(|w| w.event_time(EventTime::new(10, 0)), true));
    chunk.extend(event(
        |w| w.event_time(EventTime::new(0xffff_fffe, 0)),
        true,
    ));
    chunk.extend(event(|w| w.int(-1), true));
    let kinds: Vec<_> = Events::new(&chunk).map(|e| e.unwrap().kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::GroupStart,
            EventKind::Record,
            EventKind::GroupEnd,
            EventKind::GroupStart
        ]
    );
    let records: Vec<_> = Events::new(&chunk).records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].time.seconds, 10);
}

#[test]
fn malformed_events_stop_iteration_with_an_error() {
    let good = event(|w| w.uint(1), true);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("not an array", vec![0x01]),
        ("array of three", vec![0x93, 0x01, 0x80, 0x80]),
        ("body not a map", vec![0x92, 0x01, 0x01]),
        ("header of one", vec![0x92, 0x91, 0x01, 0x80]),
        ("metadata not a map", vec![0x92, 0x92, 0x01, 0x01, 0x80]),
        ("string timestamp", vec![0x92, 0xa1, b'x', 0x80]),
        (
            "ext of wrong type",
            vec![0x92, 0xd7, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0x80],
        ),
        (
            "nanoseconds out of range",
            vec![0x92, 0xd7, 0x00, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0x80],
        ),
        // Fluent Bit's own header shape ([[fixext 8, map], ...]), read by
        // a shorter path, refused the same way.
        (
            "usual header, nanoseconds out of range",
            vec![
                0x92, 0x92, 0xd7, 0x00, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0x80, 0x80,
            ],
        ),
        (
            "usual header, metadata not a map",
            vec![0x92, 0x92, 0xd7, 0x00, 0, 0, 0, 1, 0, 0, 0, 0, 0x01, 0x80],
        ),
        (
            "usual header, metadata cut short",
            vec![0x92, 0x92, 0xd7, 0x00, 0, 0, 0, 1, 0, 0, 0, 0, 0x81, 0xa1],
        ),
        (
            "negative float",
            vec![0x92, 0xcb, 0xbf, 0xf0, 0, 0, 0, 0, 0, 0, 0x80],
        ),
        ("truncated", good[..good.len() - 1].to_vec()),
    ];
    for (what, bad) in cases {
        let truncated = what == "truncated" || what.ends_with("cut short");
        let mut chunk = good.clone();
        chunk.extend(&bad);
        if !truncated {
            // Events after a broken one are never reached.
            chunk.extend(&good);
        }
        let got: Vec<_> = Events::new(&chunk).collect();
        assert_eq!(got.len(), 2, "{what}");
        assert!(got[0].is_ok(), "{what}");
        let e = got[1].as_ref().unwrap_err();
        if truncated {
            assert_eq!(e.offset, chunk.len(), "{what}: {e}");
        } else {
            assert_eq!(e.offset, good.len(), "{what}: {e}");
        }
    }
}

#[test]
fn encoder_writes_what_the_decoder_reads() {
    let mut enc = EventEncoder::new();
    enc.record(EventTime::new(5, 6), |m| {
        m.str("s", "v");
        m.int("i", -3);
        m.uint("u", 3);
        m.bool("b", true);
        m.nil("n");
        m.f64("f", 2.5);
        m.map("m", |n| n.str("k", "v"));
    });
    let mut legacy = EventEncoder::with_format(EventFormat::Legacy);
    legacy.record(EventTime::new(7, 0), |m| m.str("x", "y"));
    assert_eq!(enc.records(), 1);
    let mut chunk = enc.into_bytes();
    chunk.extend(legacy.as_bytes());
    let evs: Vec<_> = Events::new(&chunk).map(Result::unwrap).collect();
    assert_eq!(evs[0].time, EventTime::new(5, 6));
    assert_eq!(evs[0].format, EventFormat::V2);
    assert!(evs[0].metadata.unwrap().is_empty());
    let b = evs[0].body;
    assert_eq!(b.get("i"), Some(Value::Int(-3)));
    assert_eq!(b.get("u"), Some(Value::UInt(3)));
    assert_eq!(b.get("b"), Some(Value::Bool(true)));
    assert_eq!(b.get("n"), Some(Value::Nil));
    assert_eq!(b.get("f"), Some(Value::F64(2.5)));
    assert_eq!(
        b.get("m")
            .unwrap()
            .as_map()
            .unwrap()
            .get("k")
            .unwrap()
            .as_str()
            .unwrap(),
        "v"
    );
    assert_eq!(evs[1].format, EventFormat::Legacy);
    assert_eq!(evs[1].time, EventTime::new(7, 0));
}

#[test]
fn event_time_is_the_fluent_bit_ext_encoding() {
    let mut w = Writer::new();
    w.event_time(EventTime::new(0x0102_0304, 0x0506_0708));
    assert_eq!(w.as_bytes(), &[0xd7, 0x00, 1, 2, 3, 4, 5, 6, 7, 8]);
}

#[test]
fn rewriting_a_value_copies_containers_verbatim() {
    let mut w = Writer::new();
    w.map(|m| m.array("a", |a| a.str("x")));
    let src = w.into_bytes();
    let v = Value::from_slice(&src).unwrap();
    let mut copy = Writer::new();
    copy.value(&v);
    assert_eq!(copy.as_bytes(), &src[..]);
}

#[test]
fn records_until_error_yields_the_good_prefix_and_keeps_the_error() {
    let mut chunk = event(|w| w.event_time(EventTime::new(0xffff_ffff, 0)), true);
    chunk.extend(event(|w| w.uint(1), true));
    chunk.extend(event(|w| w.uint(2), false));
    let good_len = chunk.len();
    chunk.extend([0x92, 0xc1]);
    chunk.extend(event(|w| w.uint(3), true));
    let c = flb_rs_sdk::Chunk::new("t", &chunk);
    let mut records = c.records_until_error();
    let secs: Vec<i64> = (&mut records).map(|e| e.time.seconds).collect();
    assert_eq!(secs, [1, 2], "group marker skipped, stops at the damage");
    assert_eq!(records.error().map(|e| e.offset), Some(good_len + 1));

    let clean = event(|w| w.uint(1), true);
    let c = flb_rs_sdk::Chunk::new("t", &clean);
    let mut records = c.records_until_error();
    assert_eq!((&mut records).count(), 1);
    assert!(records.into_error().is_none());
}

#[test]
fn record_with_writes_metadata_and_body_in_place() {
    let mut v2 = EventEncoder::new();
    v2.record_with(
        EventTime::new(5, 6),
        |m| m.str("src", "a"),
        |b| b.uint("n", 1),
    );
    let ev = Events::new(v2.as_bytes()).next().unwrap().unwrap();
    assert_eq!(ev.time, EventTime::new(5, 6));
    assert_eq!(
        ev.metadata.unwrap().get("src").unwrap().as_str().unwrap(),
        "a"
    );
    assert_eq!(ev.body.get("n").unwrap().as_u64(), Some(1));
    // Legacy events carry no metadata: its closure is not called.
    let mut legacy = EventEncoder::with_format(EventFormat::Legacy);
    legacy.record_with(
        EventTime::new(5, 0),
        |_| panic!("no metadata in legacy"),
        |b| b.uint("n", 2),
    );
    let ev = Events::new(legacy.as_bytes()).next().unwrap().unwrap();
    assert_eq!(ev.format, EventFormat::Legacy);
    assert!(ev.metadata.is_none());
    assert_eq!(ev.body.get("n").unwrap().as_u64(), Some(2));
}
