//! The example plugins through the SDK's test harness: exact outputs.

use std::time::Duration;

use flb_rs_example::{GenInput, JsonLinesOutput, SetFilter};
use flb_rs_sdk::runtime::FilterOutcome;
use flb_rs_sdk::testing::{chunk, Harness};
use flb_rs_sdk::{EventEncoder, EventTime, Events, FlushResult};

fn temp_path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("flb-rs-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    let _ = std::fs::remove_file(&p);
    p
}

#[test]
fn jsonl_writes_exact_lines() {
    let path = temp_path("exact.jsonl");
    let h = Harness::output::<JsonLinesOutput>(&[("path", path.to_str().unwrap())]).unwrap();
    let mut enc = EventEncoder::new();
    enc.record(EventTime::new(1_700_000_000, 5), |m| {
        m.str("msg", "say \"hi\"\n");
        m.int("n", -1);
        m.map("k8s", |k| k.str("pod", "p\u{e9}"));
        m.array("a", |a| {
            a.str("x");
            a.item().nil();
        });
        m.f64("f", 0.5);
        m.key("bad").str_bytes(&[0x66, 0xff]);
    });
    assert_eq!(h.flush("app.log", enc.as_bytes()), FlushResult::Ok);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text,
        "{\"date\":1700000000.000000005,\"tag\":\"app.log\",\"msg\":\"say \\\"hi\\\"\\n\",\"n\":-1,\
         \"k8s\":{\"pod\":\"p\u{e9}\"},\"a\":[\"x\",null],\"f\":0.5,\"bad\":\"f\u{fffd}\"}\n"
    );
    assert_eq!(h.host.metric("records_total", &[]), Some(1.0));
}

#[test]
fn jsonl_writes_the_good_prefix_of_a_malformed_chunk_and_drops_the_rest() {
    let path = temp_path("malformed.jsonl");
    let h = Harness::output::<JsonLinesOutput>(&[
        ("path", path.to_str().unwrap()),
        ("include_tag", "off"),
        ("time_key", "t"),
    ])
    .unwrap();
    let mut data = chunk(&[(EventTime::new(1, 0), &[("m", "a")])]);
    data.extend([0x92, 0xc1]);
    assert_eq!(h.flush("x", &data), FlushResult::Error);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "{\"t\":1.000000000,\"m\":\"a\"}\n"
    );
    assert!(h
        .host
        .logged(log::Level::Error, "1 records written before it"));
}

#[test]
fn jsonl_refuses_a_path_it_cannot_open() {
    let e = Harness::output::<JsonLinesOutput>(&[("path", "/nonexistent-dir/x.jsonl")])
        .err()
        .unwrap();
    assert!(
        e.0.starts_with("cannot open /nonexistent-dir/x.jsonl"),
        "{e}"
    );
}

#[test]
fn set_filter_changes_only_what_it_must() {
    let h = Harness::filter::<SetFilter>(&[("set", "env prod"), ("remove", "secret")]).unwrap();
    let already = chunk(&[(EventTime::new(1, 0), &[("m", "a"), ("env", "prod")])]);
    assert_eq!(h.filter_chunk("t", &already), FilterOutcome::Unchanged);

    let data = chunk(&[
        (EventTime::new(1, 0), &[("m", "a"), ("env", "prod")]),
        (
            EventTime::new(2, 0),
            &[("m", "b"), ("secret", "s"), ("env", "dev")],
        ),
    ]);
    let FilterOutcome::Modified(out) = h.filter_chunk("t", &data) else {
        panic!("expected a change")
    };
    let evs: Vec<_> = Events::new(&out).map(Result::unwrap).collect();
    assert_eq!(evs.len(), 2);
    let fields: Vec<(String, String)> = evs[1]
        .body
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().unwrap().to_str().unwrap().to_string(),
                v.as_str().unwrap().to_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        fields,
        [("m".into(), "b".into()), ("env".into(), "prod".into())]
    );
    assert_eq!(evs[1].time, EventTime::new(2, 0));
    assert_eq!(h.host.metric("changed_records_total", &[]), Some(1.0));
}

#[test]
fn set_filter_rejects_a_set_without_value() {
    let e = Harness::filter::<SetFilter>(&[("set", "lonely")])
        .err()
        .unwrap();
    assert_eq!(
        e.0,
        "set 'lonely': expected a key and a value separated by a space"
    );
}

#[test]
fn gen_emits_count_records_in_batches() {
    let h = Harness::input::<GenInput>(&[
        ("count", "10"),
        ("interval", "0"),
        ("batch", "4"),
        ("message", "m"),
    ])
    .unwrap();
    let got = h.collect(10, Duration::from_secs(10));
    let sizes: Vec<usize> = got.iter().map(|(_, d)| Events::new(d).count()).collect();
    assert_eq!(sizes, [4, 4, 2]);
    let seqs: Vec<u64> = got
        .iter()
        .flat_map(|(_, d)| {
            Events::new(d)
                .map(|e| e.unwrap().get("seq").unwrap().as_u64().unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(seqs, (0..10).collect::<Vec<_>>());
    assert_eq!(h.host.metric("records_total", &[]), Some(10.0));
}

#[test]
fn gen_with_a_long_interval_stops_promptly() {
    let h = Harness::input::<GenInput>(&[("interval", "1h")]).unwrap();
    assert_eq!(h.collect(1, Duration::from_secs(5)).len(), 1);
    let t = std::time::Instant::now();
    drop(h);
    assert!(t.elapsed() < Duration::from_secs(2));
}
