//! From a Fluent Bit record to the fields of a syslog message, with the
//! built-in `syslog` output's keys and meanings: `syslog_*_key` names a
//! field (a top-level key, or a record accessor path such as
//! `$kubernetes['pod_name']`), `syslog_*_preset` is the value when the
//! record has none.

use std::borrow::Cow;

use flb_rs_sdk::accessor::{RecordAccessor, Step};
use flb_rs_sdk::{json, Event, MapRef, Value};

use crate::format::{Message, SdElement};

/// Severity names (RFC 5424 table 2, with common aliases).
const SEVERITIES: &[(&str, u8)] = &[
    ("emerg", 0),
    ("emergency", 0),
    ("panic", 0),
    ("alert", 1),
    ("crit", 2),
    ("critical", 2),
    ("err", 3),
    ("error", 3),
    ("warning", 4),
    ("warn", 4),
    ("notice", 5),
    ("info", 6),
    ("informational", 6),
    ("debug", 7),
];

/// Facility names (RFC 5424 table 1, as syslog(3) and the built-in output
/// name them).
const FACILITIES: &[(&str, u8)] = &[
    ("kern", 0),
    ("user", 1),
    ("mail", 2),
    ("daemon", 3),
    ("auth", 4),
    ("syslog", 5),
    ("lpr", 6),
    ("news", 7),
    ("uucp", 8),
    ("cron", 9),
    ("authpriv", 10),
    ("ftp", 11),
    ("ntp", 12),
    ("security", 13),
    ("audit", 13),
    ("console", 14),
    ("clock", 15),
    ("local0", 16),
    ("local1", 17),
    ("local2", 18),
    ("local3", 19),
    ("local4", 20),
    ("local5", 21),
    ("local6", 22),
    ("local7", 23),
];

/// Parses a severity or facility: a number up to `max`, or a name.
fn code(v: &Value<'_>, names: &[(&str, u8)], max: u8) -> Option<u8> {
    if let Some(n) = v.as_i64() {
        return u8::try_from(n).ok().filter(|n| *n <= max);
    }
    let text = text(v)?;
    let t = text.trim();
    if let Ok(n) = t.parse::<u8>() {
        return (n <= max).then_some(n);
    }
    names
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(t))
        .map(|(_, c)| *c)
}

/// A scalar as text; maps and arrays as JSON.
pub fn text<'a>(v: &Value<'a>) -> Option<Cow<'a, str>> {
    match *v {
        Value::Str(s) => Some(s.to_str_lossy()),
        Value::Bin(b) => Some(String::from_utf8_lossy(b)),
        Value::Int(i) => Some(Cow::Owned(i.to_string())),
        Value::UInt(u) => Some(Cow::Owned(u.to_string())),
        // As the built-in output writes them (C's "%f").
        Value::F32(f) => Some(Cow::Owned(format!("{:.6}", f64::from(f)))),
        Value::F64(f) => Some(Cow::Owned(format!("{f:.6}"))),
        Value::Bool(b) => Some(Cow::Borrowed(if b { "true" } else { "false" })),
        Value::Nil => None,
        Value::Map(_) | Value::Array(_) => json::to_string(v).ok().map(Cow::Owned),
        Value::Ext(..) => None,
    }
}

/// A header field's source: a record field, and a value when it is absent.
#[derive(Debug, Clone, Default)]
pub struct Field {
    pub key: Option<RecordAccessor>,
    pub preset: Option<String>,
}

impl Field {
    fn get(&self, body: &MapRef<'_>) -> Option<String> {
        self.key
            .as_ref()
            .and_then(|k| k.get(body))
            .and_then(|v| text(&v).map(Cow::into_owned))
            .filter(|s| !s.is_empty())
    }
}

/// The Kubernetes preset: app-name, hostname and an SD element from the
/// `kubernetes` map that Fluent Bit's kubernetes filter adds.
#[derive(Debug, Clone)]
pub struct Kubernetes {
    pub sd_id: String,
}

/// A `syslog_sd_key`: the field at `path`, a map, becomes one SD element
/// whose SD-ID is the key itself (the last key of a path) and whose params
/// are the map's scalar entries, as in the built-in output.
#[derive(Debug, Clone)]
pub struct SdKey {
    pub path: RecordAccessor,
    pub id: String,
}

impl SdKey {
    pub fn new(path: RecordAccessor) -> Self {
        let id = path
            .steps()
            .iter()
            .rev()
            .find_map(|s| match s {
                Step::Key(k) => Some(k.clone()),
                Step::Index(_) => None,
            })
            .unwrap_or_default();
        SdKey { path, id }
    }
}

/// Everything that turns records into messages.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub severity_key: Option<RecordAccessor>,
    pub severity_preset: u8,
    pub facility_key: Option<RecordAccessor>,
    pub facility_preset: u8,
    pub hostname: Field,
    pub appname: Field,
    pub procid: Field,
    pub msgid: Field,
    /// `syslog_sd_key`: one SD element per key, named after it.
    pub sd_keys: Vec<SdKey>,
    /// `syslog_sd_elements_key`: maps of SD elements
    /// `{SD-ID: {param: value}}`, as the rs_syslog input writes `sd`.
    pub sd_elements_keys: Vec<RecordAccessor>,
    pub message_key: Option<RecordAccessor>,
    pub kubernetes: Option<Kubernetes>,
}

/// What mapping one record could not use as given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Issues {
    /// A severity or facility that is neither a valid number nor a name.
    pub bad_code: bool,
    /// `message_key` is set but the record has no such field.
    pub no_message: bool,
    /// An `sd_key` field that is not a map, or an `sd_elements_key` field
    /// that is not a map of maps.
    pub bad_sd: bool,
}

impl Issues {
    pub fn merge(&mut self, other: Issues) {
        self.bad_code |= other.bad_code;
        self.no_message |= other.no_message;
        self.bad_sd |= other.bad_sd;
    }
}

impl Mapping {
    /// Maps one record; `issues` says what fell back to a preset.
    pub fn message(&self, ev: &Event<'_>, issues: &mut Issues) -> Message {
        let body = &ev.body;
        let mut code_of = |key: &Option<RecordAccessor>, names, max, preset| match key
            .as_ref()
            .and_then(|k| k.get(body))
        {
            Some(v) => code(&v, names, max).unwrap_or_else(|| {
                issues.bad_code = true;
                preset
            }),
            None => preset,
        };
        let severity = code_of(&self.severity_key, SEVERITIES, 7, self.severity_preset);
        let facility = code_of(&self.facility_key, FACILITIES, 23, self.facility_preset);

        let k8s = self.kubernetes.as_ref().and_then(|k| {
            body.get("kubernetes")
                .and_then(|v| v.as_map())
                .map(|m| (k, m))
        });
        let k8s_field = |name: &str| {
            k8s.and_then(|(_, m)| m.get(name))
                .and_then(|v| text(&v).map(Cow::into_owned))
        };
        let pick = |f: &Field, k8s_name: Option<&str>| {
            f.get(body)
                .or_else(|| k8s_name.and_then(k8s_field))
                .or_else(|| f.preset.clone())
        };

        let mut sd = Vec::new();
        self.sd_from_keys(body, &mut sd, issues);
        for key in &self.sd_elements_keys {
            let well_formed = match key.get(body) {
                None => true,
                Some(Value::Map(m)) => sd_elements(&m, &mut sd),
                Some(_) => false,
            };
            issues.bad_sd |= !well_formed;
        }
        if let Some((k, m)) = k8s {
            sd.push(kubernetes_sd(&k.sd_id, &m));
        }

        let msg = match &self.message_key {
            None => Vec::new(),
            Some(k) => match k.get(body) {
                Some(Value::Str(s)) => s.as_bytes().to_vec(),
                Some(v) => text(&v)
                    .map(|t| t.into_owned().into_bytes())
                    .unwrap_or_default(),
                None => {
                    issues.no_message = true;
                    Vec::new()
                }
            },
        };

        Message {
            facility,
            severity,
            time: ev.time,
            hostname: pick(&self.hostname, Some("pod_name")),
            appname: pick(&self.appname, Some("container_name")),
            procid: pick(&self.procid, None),
            msgid: pick(&self.msgid, None),
            sd,
            msg,
        }
    }
}

impl Mapping {
    /// The elements of `syslog_sd_key`. Top-level keys come in the order
    /// of the record's fields, as the built-in output writes them; paths
    /// follow in the order they were configured.
    fn sd_from_keys(&self, body: &MapRef<'_>, sd: &mut Vec<SdElement>, issues: &mut Issues) {
        let mut add = |key: &SdKey, v: Value<'_>| match v {
            Value::Map(m) => sd.push(SdElement {
                id: key.id.clone(),
                params: scalar_params(&m),
            }),
            _ => issues.bad_sd = true,
        };
        if self.sd_keys.iter().any(|k| k.path.is_top_level()) {
            for (k, v) in body.iter() {
                let name = match k {
                    Value::Str(s) => s.as_bytes(),
                    Value::Bin(b) => b,
                    _ => continue,
                };
                for key in self.sd_keys.iter().filter(|k| k.path.is_top_level()) {
                    if key.id.as_bytes() == name {
                        add(key, v);
                    }
                }
            }
        }
        for key in self.sd_keys.iter().filter(|k| !k.path.is_top_level()) {
            if let Some(v) = key.path.get(body) {
                add(key, v);
            }
        }
    }
}

/// A map's string, binary, number and boolean entries as SD params, in
/// order; nil, nested maps and arrays are skipped (as in the built-in).
fn scalar_params(m: &MapRef<'_>) -> Vec<(String, String)> {
    m.iter()
        .filter(|(_, v)| !matches!(v, Value::Nil | Value::Map(_) | Value::Array(_)))
        .filter_map(|(k, v)| Some((text(&k)?.into_owned(), text(&v)?.into_owned())))
        .collect()
}

/// `{sd_id: {param: value, ...}, ...}` to SD elements; false when some
/// entry had another shape (those entries are left out).
fn sd_elements(m: &MapRef<'_>, out: &mut Vec<SdElement>) -> bool {
    let mut ok = true;
    for (id, params) in m.iter() {
        let (Some(id), Some(params)) = (text(&id), params.as_map()) else {
            ok = false;
            continue;
        };
        out.push(SdElement {
            id: id.into_owned(),
            params: scalar_params(&params),
        });
    }
    ok
}

/// The Kubernetes SD element: namespace, pod, container, host, and each
/// label as `label.<name>` (cut to RFC 5424's 32 characters when the
/// message is written, as every SD name).
fn kubernetes_sd(id: &str, k: &MapRef<'_>) -> SdElement {
    let mut params = Vec::new();
    for (field, param) in [
        ("namespace_name", "namespace"),
        ("pod_name", "pod"),
        ("container_name", "container"),
        ("host", "host"),
    ] {
        if let Some(v) = k.get(field).and_then(|v| text(&v).map(Cow::into_owned)) {
            params.push((param.to_string(), v));
        }
    }
    if let Some(labels) = k.get("labels").and_then(|v| v.as_map()) {
        for (name, v) in labels.iter() {
            if let (Some(name), Some(v)) = (text(&name), text(&v)) {
                params.push((format!("label.{name}"), v.into_owned()));
            }
        }
    }
    SdElement {
        id: id.to_string(),
        params,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flb_rs_sdk::{EventEncoder, EventTime, Events};

    fn acc(s: &str) -> Option<RecordAccessor> {
        Some(RecordAccessor::parse(s).unwrap())
    }

    fn mapping() -> Mapping {
        Mapping {
            severity_key: acc("level"),
            severity_preset: 6,
            facility_key: acc("facility"),
            facility_preset: 1,
            hostname: Field {
                key: acc("host"),
                preset: Some("preset-host".into()),
            },
            appname: Field {
                key: acc("$app['name']"),
                preset: None,
            },
            procid: Field::default(),
            msgid: Field {
                key: None,
                preset: Some("MSG1".into()),
            },
            sd_keys: vec![],
            sd_elements_keys: vec![acc("sd").unwrap()],
            message_key: acc("log"),
            kubernetes: None,
        }
    }

    fn map_one(
        m: &Mapping,
        body: impl FnOnce(&mut flb_rs_sdk::MapWriter<'_>),
    ) -> (Message, Issues) {
        let mut enc = EventEncoder::new();
        enc.record(EventTime::new(10, 0), body);
        let bytes = enc.into_bytes();
        let ev = Events::new(&bytes).next().unwrap().unwrap();
        let mut issues = Issues::default();
        (m.message(&ev, &mut issues), issues)
    }

    #[test]
    fn keys_presets_and_nested_paths() {
        let (msg, issues) = map_one(&mapping(), |w| {
            w.str("level", "warning");
            w.uint("facility", 16);
            w.str("host", "web-1");
            w.map("app", |a| a.str("name", "nginx"));
            w.str("log", "GET /");
        });
        assert_eq!(issues, Issues::default());
        assert_eq!((msg.severity, msg.facility), (4, 16));
        assert_eq!(msg.hostname.as_deref(), Some("web-1"));
        assert_eq!(msg.appname.as_deref(), Some("nginx"));
        assert_eq!(msg.procid, None);
        assert_eq!(msg.msgid.as_deref(), Some("MSG1"));
        assert_eq!(msg.msg, b"GET /");
        assert_eq!(msg.time, EventTime::new(10, 0));
    }

    #[test]
    fn codes_accept_numbers_digit_strings_and_names() {
        for (v, want) in [
            ("0", 0),
            ("7", 7),
            ("ERR", 3),
            ("Informational", 6),
            ("warn", 4),
        ] {
            let (msg, _) = map_one(&mapping(), |w| w.str("level", v));
            assert_eq!(msg.severity, want, "{v}");
        }
        let (msg, _) = map_one(&mapping(), |w| w.str("facility", "local7"));
        assert_eq!(msg.facility, 23);
        let (msg, issues) = map_one(&mapping(), |w| {
            w.str("level", "loud");
            w.uint("facility", 24);
        });
        assert_eq!(
            (msg.severity, msg.facility),
            (6, 1),
            "presets on bad values"
        );
        assert!(issues.bad_code);
    }

    #[test]
    fn absent_fields_fall_back_and_a_missing_message_is_reported() {
        let (msg, issues) = map_one(&mapping(), |w| w.str("other", "x"));
        assert_eq!(msg.hostname.as_deref(), Some("preset-host"));
        assert_eq!(msg.appname, None);
        assert!(msg.msg.is_empty());
        assert!(issues.no_message);
    }

    #[test]
    fn non_string_messages_become_text() {
        let (msg, _) = map_one(&mapping(), |w| w.map("log", |m| m.uint("a", 1)));
        assert_eq!(msg.msg, br#"{"a":1}"#);
        let (msg, _) = map_one(&mapping(), |w| w.int("log", -5));
        assert_eq!(msg.msg, b"-5");
    }

    #[test]
    fn sd_from_a_map_of_maps() {
        let (msg, issues) = map_one(&mapping(), |w| {
            w.map("sd", |sd| {
                sd.map("origin@32473", |p| {
                    p.str("ip", "192.0.2.1");
                    p.uint("n", 3);
                });
                sd.str("broken", "not a map");
            });
        });
        assert_eq!(
            msg.sd,
            vec![SdElement {
                id: "origin@32473".into(),
                params: vec![("ip".into(), "192.0.2.1".into()), ("n".into(), "3".into())],
            }]
        );
        assert!(issues.bad_sd);
    }

    fn sd_keys(keys: &[&str]) -> Mapping {
        Mapping {
            sd_keys: keys.iter().map(|k| SdKey::new(acc(k).unwrap())).collect(),
            sd_elements_keys: vec![],
            ..mapping()
        }
    }

    #[test]
    fn sd_key_is_the_sd_id_as_in_the_builtin() {
        let (msg, issues) = map_one(&sd_keys(&["uls@0"]), |w| {
            w.str("log", "x");
            w.map("uls@0", |p| {
                p.str("logtype", "access");
                p.uint("n", 3);
                p.int("neg", -2);
                p.f64("ratio", 0.5);
                p.bool("ok", true);
                p.map("nested", |n| n.str("skipped", "yes"));
                p.array("list", |a| a.str("skipped"));
                p.nil("none");
            });
        });
        assert_eq!(issues, Issues::default());
        assert_eq!(
            msg.sd,
            vec![SdElement {
                id: "uls@0".into(),
                params: vec![
                    ("logtype".into(), "access".into()),
                    ("n".into(), "3".into()),
                    ("neg".into(), "-2".into()),
                    ("ratio".into(), "0.500000".into()),
                    ("ok".into(), "true".into()),
                ],
            }]
        );
    }

    #[test]
    fn sd_keys_follow_the_records_field_order_paths_after() {
        let m = sd_keys(&["$meta['origin@1']", "b@1", "a@1"]);
        let (msg, issues) = map_one(&m, |w| {
            w.map("a@1", |p| p.str("k", "a"));
            w.map("meta", |p| p.map("origin@1", |o| o.str("ip", "192.0.2.1")));
            w.map("b@1", |p| p.str("k", "b"));
            w.str("c@1", "not named");
        });
        assert!(!issues.bad_sd);
        let ids: Vec<&str> = msg.sd.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["a@1", "b@1", "origin@1"]);
        assert_eq!(msg.sd[2].params, vec![("ip".into(), "192.0.2.1".into())]);
    }

    #[test]
    fn an_sd_key_that_is_not_a_map_is_reported_and_left_out() {
        let (msg, issues) = map_one(&sd_keys(&["sd@1"]), |w| w.str("sd@1", "text"));
        assert!(msg.sd.is_empty());
        assert!(issues.bad_sd);
        let (msg, issues) = map_one(&sd_keys(&["sd@1"]), |w| w.str("other", "x"));
        assert!(msg.sd.is_empty());
        assert!(!issues.bad_sd, "an absent key is no issue");
    }

    #[test]
    fn kubernetes_preset() {
        let m = Mapping {
            hostname: Field::default(),
            appname: Field::default(),
            kubernetes: Some(Kubernetes {
                sd_id: "kubernetes@32473".into(),
            }),
            ..mapping()
        };
        let (msg, _) = map_one(&m, |w| {
            w.str("log", "hi");
            w.map("kubernetes", |k| {
                k.str("pod_name", "web-7d9c");
                k.str("namespace_name", "prod");
                k.str("container_name", "nginx");
                k.str("host", "node-1");
                k.map("labels", |l| l.str("app", "web"));
            });
        });
        assert_eq!(msg.hostname.as_deref(), Some("web-7d9c"));
        assert_eq!(msg.appname.as_deref(), Some("nginx"));
        assert_eq!(
            msg.sd,
            vec![SdElement {
                id: "kubernetes@32473".into(),
                params: vec![
                    ("namespace".into(), "prod".into()),
                    ("pod".into(), "web-7d9c".into()),
                    ("container".into(), "nginx".into()),
                    ("host".into(), "node-1".into()),
                    ("label.app".into(), "web".into()),
                ],
            }]
        );
    }
}
