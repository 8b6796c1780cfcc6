//! Typed configuration from one declaration.

use std::time::Duration;

use flb_rs_sdk::config::{
    parse_size, parse_time, ByteSize, CommaList, KeyType, Multi, PluginConfig, Properties,
};

flb_rs_sdk::config_struct! {
    #[derive(Debug)]
    pub struct Cfg {
        /// Target host.
        pub host: String,
        /// Port to use.
        pub port: u16 = "514",
        /// Check the peer.
        /// Second line of help.
        pub verify as "tls.verify": bool = "on",
        pub buffer: ByteSize = "64K",
        pub timeout: Duration = "1.5s",
        pub tags: CommaList = "a, b",
        pub extra: Multi<String>,
        pub note: Option<String>,
    }
}

fn props(p: &[(&str, &str)]) -> Properties {
    p.iter().map(|(k, v)| (*k, *v)).collect()
}

#[test]
fn keys_are_declared_once_with_types_defaults_and_help() {
    let k = Cfg::KEYS;
    assert_eq!(k.len(), 8);
    assert_eq!(k[0].name, "host");
    assert_eq!(k[0].ty, KeyType::Str);
    assert_eq!(k[0].default, None);
    assert_eq!(
        flb_rs_sdk::config::one_line(k[0].description),
        "Target host."
    );
    assert_eq!(k[1].ty, KeyType::Int);
    assert_eq!(k[1].default, Some("514"));
    assert_eq!(k[2].name, "tls.verify");
    assert_eq!(k[2].ty, KeyType::Bool);
    assert_eq!(
        flb_rs_sdk::config::one_line(k[2].description),
        "Check the peer. Second line of help."
    );
    assert_eq!(k[3].ty, KeyType::Size);
    assert_eq!(k[4].ty, KeyType::Time);
    assert_eq!(k[5].ty, KeyType::CommaList);
    assert!(k[6].multiple);
    assert!(!k[7].multiple);
}

#[test]
fn defaults_apply_and_values_parse() {
    let c = Cfg::from_properties(&props(&[("host", "example.org")])).unwrap();
    assert_eq!(c.host, "example.org");
    assert_eq!(c.port, 514);
    assert!(c.verify);
    assert_eq!(c.buffer, ByteSize(64_000));
    assert_eq!(c.timeout, Duration::from_millis(1500));
    assert_eq!(c.tags.0, ["a", "b"]);
    assert!(c.extra.0.is_empty());
    assert_eq!(c.note, None);

    let c = Cfg::from_properties(&props(&[
        ("HOST", "h"),
        ("Tls.Verify", "OFF"),
        ("extra", "one"),
        ("extra", "two"),
        ("port", "6514"),
        ("note", "n"),
    ]))
    .unwrap();
    assert_eq!(c.host, "h");
    assert!(!c.verify);
    assert_eq!(c.extra.0, ["one", "two"]);
    assert_eq!(c.port, 6514);
    assert_eq!(c.note.as_deref(), Some("n"));
}

#[test]
fn errors_name_the_key_and_the_value() {
    let e = Cfg::from_properties(&props(&[])).unwrap_err();
    assert_eq!(e.0, "missing required configuration key 'host'");
    let e = Cfg::from_properties(&props(&[("host", "h"), ("port", "70000")])).unwrap_err();
    assert_eq!(
        e.0,
        "invalid value '70000' for configuration key 'port': expected an integer from 0 to 65535"
    );
    let e = Cfg::from_properties(&props(&[("host", "h"), ("tls.verify", "maybe")])).unwrap_err();
    assert!(
        e.0.starts_with("invalid value 'maybe' for configuration key 'tls.verify'"),
        "{e}"
    );
    let e = Cfg::from_properties(&props(&[("host", "h"), ("prot", "1")])).unwrap_err();
    assert!(e.0.starts_with("unknown configuration key 'prot'"), "{e}");
    assert!(e.0.contains("port"), "{e}");
}

#[test]
fn sizes_and_times_parse_like_fluent_bit() {
    assert_eq!(parse_size("512"), Ok(512));
    assert_eq!(parse_size("2k"), Ok(2000));
    assert_eq!(parse_size("2KB"), Ok(2000));
    assert_eq!(parse_size("1.5M"), Ok(1_500_000));
    assert_eq!(parse_size("1G"), Ok(1_000_000_000));
    assert_eq!(parse_size("false"), Ok(0));
    assert!(parse_size("12X").is_err());
    assert!(parse_size("-1").is_err());
    assert!(parse_size("").is_err());
    assert_eq!(parse_time("30"), Ok(Duration::from_secs(30)));
    assert_eq!(parse_time("500ms"), Ok(Duration::from_millis(500)));
    assert_eq!(parse_time("5m"), Ok(Duration::from_secs(300)));
    assert_eq!(parse_time("1h"), Ok(Duration::from_secs(3600)));
    assert_eq!(parse_time("1d"), Ok(Duration::from_secs(86400)));
    assert!(parse_time("soon").is_err());
    assert!(parse_time("-1").is_err());
}
