//! Arbitrary bytes as a Fluent Bit chunk through rs_redact's walk: every
//! decodable event's body and metadata scanned with every kind of rule
//! (detectors, a regex, named fields and paths; mask, keep_last, hash,
//! drop), with key lists (allow and drop, body and metadata), and
//! rewritten. No panic (the fuzzer sees what the filter's guard
//! would hide); a record that was read whole is always rewritten, into
//! one map that is redacted again the same way.
//!
//! Not asserted: that the second redaction changes nothing. A mask can
//! make a match that was not in the input: in "a@b.examp10::111" no
//! e-mail address ends at "examp", but once "10::11" is "<ip6>" one does
//! (seed-mask-makes-a-boundary).

#![no_main]

use std::sync::OnceLock;

use flb_rs_redact::keys::KeyPolicy;
use flb_rs_redact::rule::{Rule, RuleSet};
use flb_rs_redact::walk::{rewrite, scan, Removed, Scratch, Tally};
use flb_rs_sdk::{Events, MapRef, Value, ValueReader, Writer};
use libfuzzer_sys::fuzz_target;

const RULES: &[&str] = &[
    "email detector=email",
    "card detector=card action=keep_last:4",
    "ipv4 detector=ipv4 scope=both action=mask:<ip>",
    "ipv6 detector=ipv6 action=mask:<ip6>",
    "jwt detector=jwt action=hash",
    "bearer detector=bearer action=mask:<token>",
    "aws detector=aws_key",
    "password detector=password action=mask:***",
    "secret regex=secret[0-9]+ action=mask:S",
    "named fields=token,$user['pw'],$list[1] action=mask",
    "gone fields=drop_me,$user['gone'] scope=both action=drop",
];

/// Key lists on both sides: an allow list with paths through maps and
/// arrays, drop lists, and masks for what is not allowed.
fn keys() -> &'static KeyPolicy {
    static K: OnceLock<KeyPolicy> = OnceLock::new();
    K.get_or_init(|| {
        KeyPolicy::parse(
            None,
            Some("source,$k8s['labels'],$list[0],drop_me"),
            Some("password,$http['cookie'],$list[2]"),
            Some("$k8s['labels']['secret']"),
            "mask:<not allowed>",
        )
        .unwrap()
    })
}

fn rules() -> &'static RuleSet {
    static R: OnceLock<RuleSet> = OnceLock::new();
    R.get_or_init(|| {
        RuleSet::new(
            RULES
                .iter()
                .map(|l| Rule::parse(l, Some("fuzz-key")).unwrap())
                .collect(),
        )
    })
}

/// Redacts one root map; `None` when nothing in it changes.
fn redact(root: &MapRef<'_>, metadata: bool) -> Option<Vec<u8>> {
    // One scratch for every call, as the filter keeps it between
    // records: its buffers are reused across records of any shape.
    thread_local! {
        static SCRATCH: std::cell::RefCell<Scratch> = Default::default();
    }
    let mut tally = Tally {
        changed: vec![0u64; rules().len()],
        removed: Removed::default(),
    };
    let mut body = ValueReader::new(root.raw());
    let plan = SCRATCH
        .with_borrow_mut(|scratch| scan(&mut body, rules(), keys(), metadata, &mut tally, scratch))
        .expect("a map that was read whole is scanned");
    assert!(body.is_complete(), "the scan read the whole map");
    if plan.is_empty() {
        return None;
    }
    let mut w = Writer::new();
    rewrite(root, &plan, &mut w).expect("a map that was read whole is rewritten");
    Some(w.as_bytes().to_vec())
}

fn check(root: &MapRef<'_>, metadata: bool) {
    let Some(once) = redact(root, metadata) else {
        return;
    };
    let Ok(Value::Map(again)) = Value::from_slice(&once) else {
        panic!("the rewrite is not one map: {once:?}");
    };
    if let Some(twice) = redact(&again, metadata) {
        assert!(
            matches!(Value::from_slice(&twice), Ok(Value::Map(_))),
            "the second rewrite is not one map: {twice:?}"
        );
    }
}

/// The walk on bytes nobody checked (a filter's first and only walk of a
/// body): it reads exactly one map or fails, and agrees with the reader.
fn check_unread(data: &[u8]) {
    let mut tally = Tally {
        changed: vec![0u64; rules().len()],
        removed: Removed::default(),
    };
    let mut body = ValueReader::new(data);
    let scanned = SCRATCH_UNREAD
        .with_borrow_mut(|scratch| scan(&mut body, rules(), keys(), false, &mut tally, scratch));
    let whole = flb_rs_sdk::msgpack::Reader::new(data).skip().ok();
    let is_map = |v: &[u8]| v.first().is_some_and(|&b| flb_rs_sdk::msgpack::is_map_marker(b));
    match (scanned, body.complete_map()) {
        (Ok(_), Ok(map)) => assert_eq!(Some(map.raw()), whole, "the walk read one map"),
        // Only what is no map is passed over as it is.
        (Ok(_), Err(e)) => assert!(!whole.is_some_and(is_map), "{e}"),
        (Err(_), done) => assert!(done.is_err(), "a failed walk stays failed"),
    }
}

thread_local! {
    static SCRATCH_UNREAD: std::cell::RefCell<Scratch> = Default::default();
}

fuzz_target!(|data: &[u8]| {
    check_unread(data);
    for ev in Events::new(data) {
        let Ok(ev) = ev else { break };
        check(&ev.body, false);
        if let Some(m) = &ev.metadata {
            check(m, true);
        }
    }
});
