//! `rs_redact` through the same runtime Fluent Bit drives: chunks in,
//! exact records out, metrics and configuration errors.

use flb_rs_redact::RedactFilter;
use flb_rs_sdk::json;
use flb_rs_sdk::runtime::FilterOutcome;
use flb_rs_sdk::testing::Harness;
use flb_rs_sdk::{EventEncoder, EventTime, Events, Value, Writer};

/// One event: (metadata as (k, v) pairs, body as (k, v) pairs).
type Ev<'a> = (&'a [(&'a str, &'a str)], &'a [(&'a str, &'a str)]);

fn chunk(events: &[Ev<'_>]) -> Vec<u8> {
    let mut enc = EventEncoder::new();
    for (i, (meta, body)) in events.iter().enumerate() {
        let mut m = Writer::new();
        m.map(|w| meta.iter().for_each(|(k, v)| w.str(k, v)));
        let mb = m.into_bytes();
        let meta = Value::from_slice(&mb).unwrap();
        enc.record_with_metadata(
            EventTime::new(1_700_000_000 + i as i64, 5),
            Some(&meta),
            |w| body.iter().for_each(|(k, v)| w.str(k, v)),
        );
    }
    enc.into_bytes()
}

/// Each event as `time meta body`, JSON for the maps.
fn lines(data: &[u8]) -> Vec<String> {
    Events::new(data)
        .map(|e| {
            let e = e.unwrap();
            format!(
                "{}.{} {} {}",
                e.time.seconds,
                e.time.nanos,
                json::to_string(&Value::Map(e.metadata.unwrap())).unwrap(),
                json::to_string(&Value::Map(e.body)).unwrap()
            )
        })
        .collect()
}

fn run(props: &[(&str, &str)], events: &[Ev<'_>]) -> (Harness, Option<Vec<String>>) {
    let h = Harness::filter::<RedactFilter>(props).unwrap();
    let out = match h.filter_chunk("app", &chunk(events)) {
        FilterOutcome::Unchanged => None,
        FilterOutcome::Modified(b) => Some(lines(&b)),
    };
    (h, out)
}

const ALL_DETECTORS: &[(&str, &str)] = &[
    ("rule", "card detector=card action=keep_last:4"),
    ("rule", "email detector=email"),
    ("rule", "ipv4 detector=ipv4 action=mask:<ip>"),
    ("rule", "ipv6 detector=ipv6 action=mask:<ip6>"),
    ("rule", "jwt detector=jwt action=mask:<jwt>"),
    ("rule", "bearer detector=bearer action=mask:<token>"),
    ("rule", "aws detector=aws_key action=mask:<aws>"),
    ("rule", "password detector=password action=mask:***"),
];

#[test]
fn every_detector_on_a_realistic_record() {
    let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    let msg = format!(
        "pay 4111 1111 1111 1111 by bob@example.com from 10.1.2.3 and 2001:db8::1 jwt {jwt} \
         Authorization: Bearer abc.def-123 key AKIAIOSFODNN7EXAMPLE password=hunter2 done"
    );
    let (h, out) = run(ALL_DETECTORS, &[(&[("src", "fe80::1")], &[("log", &msg)])]);
    assert_eq!(
        out.unwrap(),
        [
            r#"1700000000.5 {"src":"fe80::1"} {"log":"pay ***************1111 by [REDACTED] from <ip> and <ip6> jwt <jwt> Authorization: Bearer <token> key <aws> password=*** done"}"#
        ]
    );
    for (rule, changed) in [
        ("card", 1.0),
        ("email", 1.0),
        ("ipv4", 1.0),
        ("ipv6", 1.0),
        ("jwt", 1.0),
        ("bearer", 1.0),
        ("aws", 1.0),
        ("password", 1.0),
    ] {
        assert_eq!(
            h.host.metric("records_scanned_total", &[rule]),
            Some(1.0),
            "{rule}"
        );
        assert_eq!(
            h.host.metric("fields_changed_total", &[rule]),
            Some(changed),
            "{rule}"
        );
    }
    assert_eq!(h.host.metric("records_changed_total", &[]), Some(1.0));
}

#[test]
fn near_misses_pass_untouched_and_unencoded() {
    let near = [
        // 16 digits failing Luhn; a 12-digit order number; a phone number.
        "order 4111 1111 1111 1112 ref 123456789012 call +1 555 010 9999",
        // Not addresses: no TLD, an @handle, a version string, a MAC.
        "user@localhost @handle v1.2.3.4.5 999.1.1.1 00:1a:2b:3c:4d:5e",
        // Not a JWT (two parts), not AWS (too short), "passwords" in prose.
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0 AKIA1234 the password policy changed",
        // The bearer of news, a header without a token, a short hex run.
        "the bearer of bad news; deadbeef:cafe:f00d; Authorization: Bearer",
    ];
    let bodies: Vec<[(&str, &str); 1]> = near.iter().map(|m| [("log", *m)]).collect();
    let events: Vec<Ev<'_>> = bodies.iter().map(|b| (&[][..], &b[..])).collect();
    let (h, out) = run(ALL_DETECTORS, &events);
    assert_eq!(
        out, None,
        "nothing to redact: the chunk is reported unchanged"
    );
    assert_eq!(h.host.metric("records_scanned_total", &["card"]), Some(4.0));
    assert_eq!(h.host.metric("fields_changed_total", &["card"]), None);
    assert_eq!(h.host.metric("records_changed_total", &[]), None);
}

/// A record whose body is cut short is dropped with the rest of the
/// chunk (rs_redact fails closed), and nothing decided in it before the
/// cut counts: not the record, not the e-mail address found in it.
#[test]
fn a_malformed_record_counts_for_nothing() {
    let mut data = chunk(&[
        (&[], &[("msg", "card 4111 1111 1111 1111")]),
        (&[], &[("msg", "to a@b.io"), ("x", "y")]),
    ]);
    data.truncate(data.len() - 1);
    let h = Harness::filter::<RedactFilter>(&[
        ("rule", "card detector=card action=keep_last:4"),
        ("rule", "email detector=email"),
    ])
    .unwrap();
    let FilterOutcome::Modified(out) = h.filter_chunk("app", &data) else {
        panic!("the chunk changed");
    };
    assert_eq!(
        lines(&out),
        [r#"1700000000.5 {} {"msg":"card ***************1111"}"#]
    );
    assert_eq!(h.host.metric("records_scanned_total", &["card"]), Some(1.0));
    assert_eq!(
        h.host.metric("records_scanned_total", &["email"]),
        Some(1.0)
    );
    assert_eq!(h.host.metric("fields_changed_total", &["card"]), Some(1.0));
    assert_eq!(h.host.metric("fields_changed_total", &["email"]), None);
    assert_eq!(h.host.metric("records_changed_total", &[]), Some(1.0));
}

#[test]
fn only_changed_records_are_rewritten() {
    let (_, out) = run(
        &[("rule", "e detector=email fields=$user,msg")],
        &[
            (&[], &[("msg", "nothing here")]),
            (&[], &[("msg", "write to a@b.io"), ("other", "c@d.io")]),
            (&[("k", "v")], &[("msg", "x")]),
        ],
    );
    assert_eq!(
        out.unwrap(),
        [
            r#"1700000000.5 {} {"msg":"nothing here"}"#,
            r#"1700000001.5 {} {"msg":"write to [REDACTED]","other":"c@d.io"}"#,
            r#"1700000002.5 {"k":"v"} {"msg":"x"}"#,
        ]
    );
}

#[test]
fn metadata_only_when_asked() {
    let events: &[Ev<'_>] = &[(&[("client", "10.0.0.9")], &[("msg", "from 10.0.0.9")])];
    let (_, body_only) = run(&[("rule", "ip detector=ipv4")], events);
    assert_eq!(
        body_only.unwrap(),
        [r#"1700000000.5 {"client":"10.0.0.9"} {"msg":"from [REDACTED]"}"#]
    );
    let (h, meta_only) = run(&[("rule", "ip detector=ipv4 scope=metadata")], events);
    assert_eq!(
        meta_only.unwrap(),
        [r#"1700000000.5 {"client":"[REDACTED]"} {"msg":"from 10.0.0.9"}"#]
    );
    assert_eq!(h.host.metric("records_scanned_total", &["ip"]), Some(1.0));
    // Empty metadata is not scanned, and stays as it is where the body
    // changes.
    let mixed: &[Ev<'_>] = &[
        (&[], &[("msg", "from 10.0.0.9")]),
        (&[("client", "10.0.0.9")], &[("msg", "-")]),
    ];
    let (h, out) = run(&[("rule", "ip detector=ipv4 scope=both")], mixed);
    assert_eq!(
        out.unwrap(),
        [
            r#"1700000000.5 {} {"msg":"from [REDACTED]"}"#,
            r#"1700000001.5 {"client":"[REDACTED]"} {"msg":"-"}"#
        ]
    );
    assert_eq!(h.host.metric("records_scanned_total", &["ip"]), Some(2.0));
    assert_eq!(h.host.metric("fields_changed_total", &["ip"]), Some(2.0));
    let (_, both) = run(
        &[("rule", "ip detector=ipv4 scope=both action=drop")],
        events,
    );
    assert_eq!(both.unwrap(), [r#"1700000000.5 {} {}"#]);
}

#[test]
fn hash_is_stable_and_keyed() {
    let props = |key: &'static str| [("rule", "e detector=email action=hash"), ("hash_key", key)];
    let events: &[Ev<'_>] = &[
        (&[], &[("a", "bob@example.com")]),
        (&[], &[("a", "to bob@example.com")]),
    ];
    let (_, one) = run(&props("k1"), events);
    let (_, again) = run(&props("k1"), events);
    let (_, other) = run(&props("k2"), events);
    let one = one.unwrap();
    assert_eq!(one, again.unwrap());
    assert_ne!(one, other.unwrap());
    let token = |l: &str| l.split("[h:").nth(1).unwrap()[..16].to_string();
    assert_eq!(token(&one[0]), token(&one[1]), "same value, same token");
    assert!(!one.concat().contains("bob"));
}

#[test]
fn config_errors_name_the_rule() {
    let err = |props: &[(&str, &str)]| Harness::filter::<RedactFilter>(props).err().unwrap().0;
    assert_eq!(
        err(&[]),
        "no rule: add at least one 'rule NAME ... detector=... | regex=...', or allow_keys / drop_keys"
    );
    assert!(
        err(&[("rule", "tok regex=(abc")]).starts_with("rule 'tok': invalid regular expression")
    );
    assert!(
        err(&[("rule", "h detector=email action=hash")]).contains("rule 'h': hash needs hash_key")
    );
    assert!(
        err(&[("rule", "a detector=email"), ("rule", "a detector=jwt")])
            .contains("rule 'a' is defined twice")
    );
    // A pattern too big to compile in bounded memory is refused, not run.
    assert!(err(&[("rule", "big regex=(\\w{1000}){1000}")])
        .starts_with("rule 'big': invalid regular expression"));
}

#[test]
fn a_malformed_tail_is_dropped_not_passed_unredacted() {
    let h = Harness::filter::<RedactFilter>(&[("rule", "e detector=email")]).unwrap();
    let mut data = chunk(&[(&[], &[("m", "clean")]), (&[], &[("m", "to a@b.io")])]);
    let good = data.len();
    // A third event cut short: its email could not be found.
    let mut w = Writer::new();
    w.array_len(2);
    w.array_len(2);
    w.uint(0);
    w.map_len(0);
    w.map_len(1);
    w.str("m");
    w.str("secret c@d.io");
    let third = w.into_bytes();
    data.extend_from_slice(&third[..third.len() - 3]);
    let FilterOutcome::Modified(out) = h.filter_chunk("app", &data) else {
        panic!("expected a change")
    };
    assert_eq!(
        lines(&out),
        [
            r#"1700000000.5 {} {"m":"clean"}"#,
            r#"1700000001.5 {} {"m":"to [REDACTED]"}"#
        ]
    );
    assert!(!String::from_utf8_lossy(&out).contains("c@d"));
    assert!(h.host.logged(
        log::Level::Error,
        &format!("its last {} bytes are dropped", data.len() - good)
    ));
}

#[test]
fn legacy_events_come_back_as_v2() {
    let mut enc = EventEncoder::with_format(flb_rs_sdk::EventFormat::Legacy);
    enc.record(EventTime::new(7, 0), |w| w.str("m", "mail x@y.io"));
    let h = Harness::filter::<RedactFilter>(&[("rule", "e detector=email")]).unwrap();
    let FilterOutcome::Modified(out) = h.filter_chunk("t", enc.as_bytes()) else {
        panic!("expected a change")
    };
    let ev = Events::new(&out).next().unwrap().unwrap();
    // What a filter returns is V2, as Fluent Bit's own filters write it.
    assert_eq!(ev.format, flb_rs_sdk::EventFormat::V2);
    assert_eq!(ev.time, EventTime::new(7, 0));
    assert_eq!(
        json::to_string(&Value::Map(ev.body)).unwrap(),
        r#"{"m":"mail [REDACTED]"}"#
    );
}

/// A Kubernetes-like record with nested maps and an array, and metadata.
fn nested_chunk() -> Vec<u8> {
    let mut m = Writer::new();
    m.map(|w| {
        w.str("source", "10.0.0.1:514");
        w.str("token", "meta-secret");
    });
    let mb = m.into_bytes();
    let meta = Value::from_slice(&mb).unwrap();
    let mut enc = EventEncoder::new();
    enc.record_with_metadata(EventTime::new(1_700_000_000, 0), Some(&meta), |w| {
        w.str("message", "GET /health 200 from bob@example.com");
        w.str("password", "hunter2");
        w.str("user_agent", "curl/8");
        w.map("kubernetes", |k| {
            k.str("pod_name", "web-1");
            k.map("labels", |l| {
                l.str("app", "web");
                l.str("secret", "s3");
            });
            k.map("annotations", |a| a.str("note", "internal"));
        });
        w.array("items", |a| {
            a.str("first");
            a.str("second");
        });
        w.str("status", "ok");
    });
    enc.into_bytes()
}

fn filter_one(props: &[(&str, &str)]) -> (Harness, String) {
    let h = Harness::filter::<RedactFilter>(props).unwrap_or_else(|e| panic!("{}", e.0));
    let out = match h.filter_chunk("app", &nested_chunk()) {
        FilterOutcome::Unchanged => panic!("nothing removed"),
        FilterOutcome::Modified(b) => lines(&b),
    };
    assert_eq!(out.len(), 1);
    (h, out[0].clone())
}

/// Allow-list mode: only the listed keys and paths stay (with all under
/// them), containers on the way keep only what leads there, a drop list
/// wins over the allow list, and the rules still apply to what stays.
#[test]
fn allow_list_keeps_only_what_it_names_and_the_rules_apply_to_it() {
    let (h, line) = filter_one(&[
        (
            "allow_keys",
            "message, $kubernetes['labels'], $items[1], status",
        ),
        ("drop_keys", "$kubernetes['labels']['secret']"),
        ("metadata_allow_keys", "source"),
        ("rule", "email detector=email"),
    ]);
    assert_eq!(
        line,
        r#"1700000000.0 {"source":"10.0.0.1:514"} {"message":"GET /health 200 from [REDACTED]","kubernetes":{"labels":{"app":"web"}},"items":["second"],"status":"ok"}"#
    );
    assert_eq!(
        h.host.metric("fields_removed_total", &["not_allowed"]),
        // password, user_agent, pod_name, annotations, items[0], token
        Some(6.0)
    );
    assert_eq!(
        h.host.metric("fields_removed_total", &["drop_keys"]),
        Some(1.0)
    );
    assert_eq!(h.host.metric("records_changed_total", &[]), Some(1.0));
}

/// not_allowed mask: the keys stay, their values are masked; a container
/// outside the list is masked whole.
#[test]
fn not_allowed_mask_keeps_the_keys() {
    let (_, line) = filter_one(&[
        ("allow_keys", "message,status,$kubernetes['pod_name']"),
        ("not_allowed", "mask:<removed>"),
    ]);
    assert_eq!(
        line,
        r#"1700000000.0 {"source":"10.0.0.1:514","token":"meta-secret"} {"message":"GET /health 200 from bob@example.com","password":"<removed>","user_agent":"<removed>","kubernetes":{"pod_name":"web-1","labels":"<removed>","annotations":"<removed>"},"items":"<removed>","status":"ok"}"#
    );
}

/// Drop lists alone: everything else stays, metadata included.
#[test]
fn drop_keys_alone_remove_only_what_they_name() {
    let (_, line) = filter_one(&[
        ("drop_keys", "password,$kubernetes['annotations']"),
        ("metadata_drop_keys", "token"),
    ]);
    assert_eq!(
        line,
        r#"1700000000.0 {"source":"10.0.0.1:514"} {"message":"GET /health 200 from bob@example.com","user_agent":"curl/8","kubernetes":{"pod_name":"web-1","labels":{"app":"web","secret":"s3"}},"items":["first","second"],"status":"ok"}"#
    );
}

#[test]
fn key_list_errors_are_configuration_errors() {
    let err = |props: &[(&str, &str)]| Harness::filter::<RedactFilter>(props).err().unwrap().0;
    assert!(err(&[("allow_keys", "a,,b")]).contains("an empty entry"));
    assert!(err(&[("allow_keys", "a"), ("not_allowed", "hide")]).starts_with("not_allowed 'hide'"));
    assert!(err(&[("drop_keys", "$x[")]).starts_with("drop_keys"));
    assert!(err(&[("not_allowed", "drop")]).starts_with("no rule"));
}
