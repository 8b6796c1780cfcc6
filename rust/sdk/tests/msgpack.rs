//! The msgpack reader on valid, truncated and hostile input.

use flb_rs_sdk::msgpack::{DecodeErrorKind, Reader, Value};
use flb_rs_sdk::Writer;

#[test]
fn scalars_of_every_width() {
    let cases: &[(&[u8], Value<'static>)] = &[
        (&[0xc0], Value::Nil),
        (&[0xc3], Value::Bool(true)),
        (&[0x7f], Value::UInt(127)),
        (&[0xe0], Value::Int(-32)),
        (&[0xcc, 0xff], Value::UInt(255)),
        (&[0xcd, 0x01, 0x00], Value::UInt(256)),
        (&[0xce, 0, 1, 0, 0], Value::UInt(65536)),
        (
            &[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            Value::UInt(u64::MAX),
        ),
        (&[0xd0, 0x80], Value::Int(-128)),
        (&[0xd1, 0xff, 0x00], Value::Int(-256)),
        (&[0xd2, 0xff, 0xff, 0xff, 0xff], Value::Int(-1)),
        (&[0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0], Value::Int(i64::MIN)),
        // A positive value in a signed encoding is still a UInt.
        (&[0xd0, 0x05], Value::UInt(5)),
        (&[0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0], Value::F64(1.5)),
        (&[0xca, 0x3f, 0xc0, 0, 0], Value::F32(1.5)),
    ];
    for (bytes, want) in cases {
        assert_eq!(Value::from_slice(bytes).unwrap(), *want, "{bytes:02x?}");
    }
}

#[test]
fn strings_binaries_and_extensions_borrow_the_input() {
    let buf = [0xa3, b'a', b'b', b'c'];
    let v = Value::from_slice(&buf).unwrap();
    let s = v.as_str().unwrap();
    assert_eq!(s, "abc");
    assert!(std::ptr::eq(s.as_bytes().as_ptr(), buf[1..].as_ptr()));

    let buf = [0xc4, 2, 1, 2];
    assert_eq!(Value::from_slice(&buf).unwrap(), Value::Bin(&[1, 2]));
    let buf = [0xd7, 0x00, 0, 0, 0, 1, 0, 0, 0, 2];
    assert_eq!(
        Value::from_slice(&buf).unwrap(),
        Value::Ext(0, &[0, 0, 0, 1, 0, 0, 0, 2])
    );
    let buf = [0xc7, 1, 0x05, 0xaa];
    assert_eq!(Value::from_slice(&buf).unwrap(), Value::Ext(5, &[0xaa]));
}

#[test]
fn invalid_utf8_is_kept_and_repaired_only_on_request() {
    let buf = [0xa2, 0xff, b'x'];
    let s = Value::from_slice(&buf).unwrap().as_str().unwrap();
    assert!(s.to_str().is_err());
    assert_eq!(s.to_str_lossy(), "\u{fffd}x");
    assert_eq!(s.as_bytes(), &[0xff, b'x']);
}

#[test]
fn maps_are_lazy_views_with_lookup() {
    let mut w = Writer::new();
    w.map(|m| {
        m.str("a", "1");
        m.map("nested", |n| n.uint("x", 7));
        m.array("list", |a| {
            a.str("p");
            a.str("q");
        });
    });
    let bytes = w.into_bytes();
    let m = Value::from_slice(&bytes).unwrap().as_map().unwrap();
    assert_eq!(m.len(), 3);
    assert_eq!(m.get("a").unwrap().as_str().unwrap(), "1");
    let nested = m.get("nested").unwrap().as_map().unwrap();
    assert_eq!(nested.get("x"), Some(Value::UInt(7)));
    let list = m.get("list").unwrap().as_array().unwrap();
    let items: Vec<_> = list
        .iter()
        .map(|v| v.as_str().unwrap().to_str().unwrap().to_string())
        .collect();
    assert_eq!(items, ["p", "q"]);
    assert_eq!(m.get("missing"), None);
    assert_eq!(m.raw(), &bytes[..]);
}

#[test]
fn every_truncation_of_a_valid_buffer_is_an_error() {
    let mut w = Writer::new();
    w.map(|m| {
        m.str("message", "hello wörld");
        m.int("neg", -70000);
        m.f64("f", 0.25);
        m.map("k", |n| {
            n.array("a", |a| {
                a.item().bin(&[1, 2, 3]);
                a.item().ext(3, &[9; 20]);
            });
        });
    });
    let full = w.into_bytes();
    assert!(Value::from_slice(&full).is_ok());
    for cut in 0..full.len() {
        let e = Value::from_slice(&full[..cut]).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::Truncated, "cut at {cut}");
        assert!(e.offset <= cut);
    }
}

/// Stepping over a value inside a container (a table per marker byte)
/// and reading it alone (its length fields) agree on its size, or both
/// fail, for every marker byte: the two paths cannot drift apart.
#[test]
fn stepping_over_a_child_and_reading_it_agree_for_every_marker() {
    for marker in 0..=255u8 {
        for fill in [0x00u8, 0x01, 0x05] {
            let alone: Vec<u8> = std::iter::once(marker).chain([fill; 40]).collect();
            let mut r = Reader::new(&alone);
            let read = r.read_value().map(|_| r.position());
            // The same value as the only item of an array (a fixarray,
            // whose items are stepped over).
            let nested: Vec<u8> = [0x91].into_iter().chain(alone.iter().copied()).collect();
            let mut r = Reader::new(&nested);
            let stepped = r.read_value().map(|_| r.position() - 1);
            match (read, stepped) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "marker {marker:#04x}, fill {fill:#04x}"),
                (Err(a), Err(b)) => assert_eq!(a.kind, b.kind, "marker {marker:#04x}"),
                (a, b) => panic!("marker {marker:#04x}, fill {fill:#04x}: {a:?} vs {b:?}"),
            }
        }
    }
}

#[test]
fn reserved_marker_is_an_error_with_its_offset() {
    let e = Value::from_slice(&[0x92, 0x01, 0xc1]).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::ReservedMarker);
    assert_eq!(e.offset, 2);
}

#[test]
fn absurd_lengths_fail_fast_without_allocating() {
    // array32 claiming 4 billion items, map32 claiming 4 billion pairs,
    // str32/bin32/ext32 claiming 4 GB: each a short buffer.
    for buf in [
        &[0xdd, 0xff, 0xff, 0xff, 0xff, 0x01][..],
        &[0xdf, 0xff, 0xff, 0xff, 0xff, 0x01, 0x01][..],
        &[0xdb, 0xff, 0xff, 0xff, 0xff, b'a'][..],
        &[0xc6, 0xff, 0xff, 0xff, 0xff, 0x00][..],
        &[0xc9, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00][..],
    ] {
        let e = Value::from_slice(buf).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::Truncated, "{buf:02x?}");
    }
}

#[test]
fn deep_nesting_costs_no_stack() {
    // 100,000 nested arrays, closed by a nil: decoded on a 64 KiB stack,
    // which recursion of even a few bytes per level would overflow.
    let depth = 100_000;
    let mut buf = vec![0x91u8; depth];
    buf.push(0xc0);
    let handle = std::thread::Builder::new()
        .stack_size(64 * 1024)
        .spawn(move || {
            let v = Value::from_slice(&buf).unwrap();
            // Walk down a few levels lazily.
            let inner = v.as_array().unwrap().get(0).unwrap();
            assert!(inner.as_array().is_some());
            let mut r = Reader::new(&buf);
            r.skip().unwrap();
            assert!(r.is_empty());
            // Truncated deep nesting is an error, not a crash.
            assert!(Value::from_slice(&buf[..depth]).is_err());
        })
        .unwrap();
    handle.join().unwrap();
}

#[test]
fn random_bytes_never_panic() {
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..20_000 {
        let len = (next() % 64) as usize;
        let buf: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if let Ok(v) = Value::from_slice(&buf) {
            // Whatever parses can be walked completely.
            if let Some(m) = v.as_map() {
                let _ = m.iter().count();
            }
            if let Some(a) = v.as_array() {
                let _ = a.iter().count();
            }
        }
        let _ = flb_rs_sdk::Events::new(&buf).count();
    }
}

#[test]
fn tokens_walk_a_tree_one_header_at_a_time() {
    use flb_rs_sdk::msgpack::Token;
    // {"a": [1, "x"], "b": {}}
    let mut w = Writer::new();
    w.map_len(2);
    w.str("a");
    w.array_len(2);
    w.uint(1);
    w.str("x");
    w.str("b");
    w.map_len(0);
    let buf = w.into_bytes();
    let mut r = Reader::new(&buf);
    let mut got = Vec::new();
    while !r.is_empty() {
        got.push(match r.read_token().unwrap() {
            Token::Map(n) => format!("map{n}"),
            Token::Array(n) => format!("array{n}"),
            Token::Scalar(Value::Str(s)) => s.to_str().unwrap().to_string(),
            Token::Scalar(v) => format!("{v:?}"),
        });
    }
    assert_eq!(got, ["map2", "a", "array2", "UInt(1)", "x", "b", "map0"]);
    // A truncated header is an error, not a panic.
    assert!(Reader::new(&[0xdc, 0x00]).read_token().is_err());
    assert!(Reader::new(&[]).read_token().is_err());
}

/// A token read straight from its marker byte (short strings, log lines,
/// small integers, small containers) is what the general path reads, for
/// every marker byte, every fill and every cut: the same scalar and
/// position, the same container length, or the same error at the same
/// offset.
#[test]
fn a_token_and_a_value_agree_for_every_marker_and_cut() {
    use flb_rs_sdk::msgpack::Token;
    for marker in 0..=255u8 {
        for fill in [0x00u8, 0x01, 0x05, 0x20] {
            let whole: Vec<u8> = std::iter::once(marker).chain([fill; 40]).collect();
            for end in 1..=whole.len() {
                let buf = &whole[..end];
                let (mut t, mut v) = (Reader::new(buf), Reader::new(buf));
                let at = format!("marker {marker:#04x}, fill {fill:#04x}, {end} bytes");
                match (t.read_token(), v.read_value()) {
                    (Ok(Token::Scalar(a)), Ok(b)) => {
                        assert_eq!(a, b, "{at}");
                        assert_eq!(t.position(), v.position(), "{at}");
                    }
                    (Ok(Token::Map(n)), Ok(Value::Map(m))) => assert_eq!(n, m.len(), "{at}"),
                    (Ok(Token::Array(n)), Ok(Value::Array(a))) => assert_eq!(n, a.len(), "{at}"),
                    // A container's children may be cut where its header is not.
                    (Ok(Token::Map(_) | Token::Array(_)), Err(_)) => {}
                    (Err(a), Err(b)) if matches!(marker, 0x80..=0x9f | 0xdc..=0xdf) => {
                        assert_eq!(a.kind, b.kind, "{at}")
                    }
                    (Err(a), Err(b)) => {
                        assert_eq!((a.kind, a.offset), (b.kind, b.offset), "{at}")
                    }
                    (a, b) => panic!("{at}: {a:?} vs {b:?}"),
                }
            }
        }
    }
}

/// `is_map_marker` names exactly the marker bytes read as map headers.
#[test]
fn the_map_markers_are_those_read_as_maps() {
    use flb_rs_sdk::msgpack::{is_map_marker, Token};
    for marker in 0..=255u8 {
        let bytes = [marker, 0, 0, 0, 0];
        let read = Reader::new(&bytes).read_token();
        assert_eq!(
            is_map_marker(marker),
            matches!(read, Ok(Token::Map(_))),
            "{marker:#04x}"
        );
    }
}

fn tree_then_more() -> (Vec<u8>, usize) {
    let mut w = Writer::new();
    w.map_len(2);
    w.str("a");
    w.array_len(2);
    w.uint(1);
    w.map_len(1);
    w.str("b");
    w.str("x");
    w.str("c");
    w.str("y");
    let mut buf = w.into_bytes();
    let len = buf.len();
    buf.extend([0x93, 0x01, 0x02]);
    (buf, len)
}

#[test]
fn a_value_reader_completes_what_was_not_read_and_stops_at_the_end() {
    use flb_rs_sdk::msgpack::{Token, ValueReader};
    let (buf, len) = tree_then_more();
    // However far it was read, token by token, whole or skipped, the value
    // completes to the same bytes and no further.
    for read in 0..=6 {
        let mut r = ValueReader::new(&buf);
        for step in 0..read {
            match step {
                0 | 2 => {
                    r.read_token().unwrap();
                }
                1 | 4 => {
                    r.read_value().unwrap();
                }
                _ => {
                    r.skip().unwrap();
                }
            }
        }
        assert_eq!(r.complete().unwrap(), &buf[..len], "after {read} reads");
        assert!(r.is_complete());
        // Again: nothing more is owed.
        assert_eq!(r.complete().unwrap(), &buf[..len]);
        // What follows the value is not read through it.
        let past = r.read_token().unwrap_err();
        assert_eq!(past.offset, len);
    }
    // Read to the end token by token: complete without reading more.
    let mut r = ValueReader::new(&buf);
    let mut tokens = 0;
    while !r.is_complete() {
        let _: Token = r.read_token().unwrap();
        tokens += 1;
    }
    assert_eq!((tokens, r.position()), (9, len));
    let map = r.complete_map().unwrap();
    assert_eq!((map.len(), map.raw()), (2, &buf[..len]));
    assert!(
        ValueReader::new(&buf[3..]).complete_map().is_err(),
        "an array"
    );
}

#[test]
fn a_value_reader_fails_for_good_after_a_failed_read() {
    use flb_rs_sdk::msgpack::ValueReader;
    let (buf, len) = tree_then_more();
    // Cut inside "x": the read that meets the cut fails, and so does
    // everything after it, the completion included.
    let cut = &buf[..len - 5];
    let mut r = ValueReader::new(cut);
    r.read_token().unwrap(); // map
    r.read_value().unwrap(); // "a"
    let e = r.read_value().unwrap_err(); // [1, {"b": "x"}] is cut
    assert_eq!(e.kind, DecodeErrorKind::Truncated);
    assert!(!r.is_complete());
    assert_eq!(r.read_value().unwrap_err(), e);
    assert_eq!(r.complete().unwrap_err(), e);
    // Not read at all, the same cut is found by the completion.
    assert_eq!(
        ValueReader::new(cut).complete().unwrap_err().kind,
        DecodeErrorKind::Truncated
    );
}
