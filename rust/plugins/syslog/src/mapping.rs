//! From a Fluent Bit record to the fields of a syslog message, with the
//! built-in `syslog` output's keys and meanings: `syslog_*_key` names a
//! field (a top-level key, or a record accessor path such as
//! `$kubernetes['pod_name']`), `syslog_*_preset` is the value when the
//! record has none.

use flb_rs_sdk::accessor::{RecordAccessor, Step};
use flb_rs_sdk::msgpack::Token;
use flb_rs_sdk::{DecodeError, Event, EventTime, MapRef, Value, ValueReader};

use crate::message::{Message, Params, SdElement, Text};

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
    Text::of(v)?.with_bytes(|b| {
        // Names as they are usually written (lower case) need no more.
        if let Some((_, c)) = names.iter().find(|(name, _)| name.as_bytes() == b) {
            return Some(*c);
        }
        let t = b.trim_ascii();
        if t.first().is_some_and(u8::is_ascii_digit) {
            let n = std::str::from_utf8(t).ok()?.parse::<u8>().ok()?;
            return (n <= max).then_some(n);
        }
        names
            .iter()
            .find(|(name, _)| name.as_bytes().eq_ignore_ascii_case(t))
            .map(|(_, c)| *c)
    })
}

/// A header field's source: a record field, and a value when it is absent.
#[derive(Debug, Clone, Default)]
pub struct Field {
    pub key: Option<RecordAccessor>,
    pub preset: Option<String>,
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

/// The values of the record's top-level keys that the single-key fields
/// start from, found in one pass over the record.
#[derive(Default)]
struct Found<'a> {
    severity: Option<Value<'a>>,
    facility: Option<Value<'a>>,
    hostname: Option<Value<'a>>,
    appname: Option<Value<'a>>,
    procid: Option<Value<'a>>,
    msgid: Option<Value<'a>>,
    message: Option<Value<'a>>,
    kubernetes: Option<Value<'a>>,
}

/// Keeps `v` in `slot` when `name` is the first key of `key` and the slot
/// is still empty: the first entry of a key counts, as in a lookup.
fn first_hit<'a>(
    key: Option<&RecordAccessor>,
    name: &[u8],
    v: Value<'a>,
    slot: &mut Option<Value<'a>>,
) {
    if slot.is_none()
        && key.is_some_and(|k| {
            let k = k.first_key().as_bytes();
            k.len() == name.len() && k == name
        })
    {
        *slot = Some(v);
    }
}

/// The value of `key` in the record, from its first key's value.
fn resolve<'a>(key: Option<&RecordAccessor>, first: Option<Value<'a>>) -> Option<Value<'a>> {
    key?.get_after_first(first?)
}

/// A header field: the record's field (`first` is the value of its first
/// key) when it is there and not empty, else the Kubernetes map's
/// `k8s_name` (with the preset on), else the field's preset.
// Inlined: a `Text` returned through memory is read back right after the
// call, and those loads stall on the callee's narrower stores.
#[inline(always)]
fn pick<'a>(
    field: &'a Field,
    first: Option<Value<'a>>,
    k8s: Option<MapRef<'a>>,
    k8s_name: Option<&str>,
) -> Option<Text<'a>> {
    resolve(field.key.as_ref(), first)
        .and_then(|v| Text::of(&v))
        .filter(|t| !t.is_empty())
        .or_else(|| Text::of(&k8s?.get(k8s_name?)?))
        .or_else(|| field.preset.as_deref().map(Text::from))
}

impl Mapping {
    /// Maps one record into `m`, reusing what `m` holds (its SD list);
    /// `issues` says what fell back to a preset.
    pub fn fill<'a>(&'a self, ev: &Event<'a>, m: &mut Message<'a>, issues: &mut Issues) {
        // A body that was read whole reads again without an error.
        let read = self.fill_reading(ev.time, &mut ValueReader::new(ev.body.raw()), m, issues);
        debug_assert!(read.is_ok(), "{read:?}");
    }

    /// [`Mapping::fill`] from a body being read: the record's top-level
    /// entries are taken as they are read, so that this is the only walk
    /// of the body (see `Events::next_with_body`). An error: the body is
    /// malformed, and `m` holds nothing to send.
    pub fn fill_reading<'a>(
        &'a self,
        time: EventTime,
        reader: &mut ValueReader<'a>,
        m: &mut Message<'a>,
        issues: &mut Issues,
    ) -> Result<(), DecodeError> {
        m.sd.clear();
        let top_level_sd = self.sd_keys.iter().any(|k| k.path.is_top_level());
        let mut f = Found::default();
        let n = match reader.read_token()? {
            Token::Map(n) => n,
            _ => 0,
        };
        for _ in 0..n {
            let (k, v) = (reader.read_value()?, reader.read_value()?);
            let (name, is_str) = match k {
                Value::Str(s) => (s.as_bytes(), true),
                Value::Bin(b) => (b, false),
                _ => continue,
            };
            if top_level_sd {
                // Top-level SD keys become elements in the record's field
                // order, as the built-in output writes them.
                for key in self.sd_keys.iter().filter(|k| k.path.is_top_level()) {
                    if key.id.as_bytes() == name {
                        match v {
                            Value::Map(map) => m.sd.push(SdElement {
                                id: Text::Bytes(key.id.as_bytes()),
                                params: Params::Scalars(map),
                            }),
                            _ => issues.bad_sd = true,
                        }
                    }
                }
            }
            if !is_str {
                continue;
            }
            first_hit(self.severity_key.as_ref(), name, v, &mut f.severity);
            first_hit(self.facility_key.as_ref(), name, v, &mut f.facility);
            first_hit(self.hostname.key.as_ref(), name, v, &mut f.hostname);
            first_hit(self.appname.key.as_ref(), name, v, &mut f.appname);
            first_hit(self.procid.key.as_ref(), name, v, &mut f.procid);
            first_hit(self.msgid.key.as_ref(), name, v, &mut f.msgid);
            first_hit(self.message_key.as_ref(), name, v, &mut f.message);
            if self.kubernetes.is_some() && f.kubernetes.is_none() && name == b"kubernetes" {
                f.kubernetes = Some(v);
            }
        }

        // Everything was read: this only checks that it is a map.
        let body = &reader.complete_map()?;

        let mut code_of = |key: &Option<RecordAccessor>, first, names, max, preset| match resolve(
            key.as_ref(),
            first,
        ) {
            Some(v) => code(&v, names, max).unwrap_or_else(|| {
                issues.bad_code = true;
                preset
            }),
            None => preset,
        };
        m.severity = code_of(
            &self.severity_key,
            f.severity,
            SEVERITIES,
            7,
            self.severity_preset,
        );
        m.facility = code_of(
            &self.facility_key,
            f.facility,
            FACILITIES,
            23,
            self.facility_preset,
        );
        m.time = time;

        let k8s = self
            .kubernetes
            .as_ref()
            .and_then(|k| f.kubernetes.and_then(|v| v.as_map()).map(|m| (k, m)));
        let k8s_map = k8s.map(|(_, map)| map);
        m.hostname = pick(&self.hostname, f.hostname, k8s_map, Some("pod_name"));
        m.appname = pick(&self.appname, f.appname, k8s_map, Some("container_name"));
        m.procid = pick(&self.procid, f.procid, k8s_map, None);
        m.msgid = pick(&self.msgid, f.msgid, k8s_map, None);

        // Paths follow the top-level keys, in the order configured.
        for key in self.sd_keys.iter().filter(|k| !k.path.is_top_level()) {
            match key.path.get(body) {
                Some(Value::Map(map)) => m.sd.push(SdElement {
                    id: Text::Bytes(key.id.as_bytes()),
                    params: Params::Scalars(map),
                }),
                Some(_) => issues.bad_sd = true,
                None => {}
            }
        }
        for key in &self.sd_elements_keys {
            let well_formed = match key.get(body) {
                None => true,
                Some(Value::Map(map)) => sd_elements(&map, &mut m.sd),
                Some(_) => false,
            };
            issues.bad_sd |= !well_formed;
        }
        if let Some((k, map)) = k8s {
            m.sd.push(SdElement {
                id: Text::Bytes(k.sd_id.as_bytes()),
                params: Params::Kubernetes(map),
            });
        }

        m.msg = match &self.message_key {
            None => None,
            Some(k) => match resolve(Some(k), f.message) {
                Some(v) => Text::of(&v),
                None => {
                    issues.no_message = true;
                    None
                }
            },
        };
        Ok(())
    }
}

/// `{sd_id: {param: value, ...}, ...}` to SD elements; false when some
/// entry had another shape (those entries are left out).
fn sd_elements<'a>(m: &MapRef<'a>, out: &mut Vec<SdElement<'a>>) -> bool {
    let mut ok = true;
    for (id, params) in m.iter() {
        let (Some(id), Some(params)) = (Text::of(&id), params.as_map()) else {
            ok = false;
            continue;
        };
        out.push(SdElement {
            id,
            params: Params::Scalars(params),
        });
    }
    ok
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

    /// A mapped message with its borrowed fields as strings.
    struct Mapped {
        severity: u8,
        facility: u8,
        time: EventTime,
        hostname: Option<String>,
        appname: Option<String>,
        procid: Option<String>,
        msgid: Option<String>,
        sd: Vec<(String, Vec<(String, String)>)>,
        msg: Option<String>,
    }

    fn map_one(m: &Mapping, body: impl FnOnce(&mut flb_rs_sdk::MapWriter<'_>)) -> (Mapped, Issues) {
        let mut enc = EventEncoder::new();
        enc.record(EventTime::new(10, 0), body);
        let bytes = enc.into_bytes();
        let ev = Events::new(&bytes).next().unwrap().unwrap();
        let mut issues = Issues::default();
        // Filled twice into the same message: nothing of the first stays.
        let mut msg = Message::default();
        m.fill(&ev, &mut msg, &mut issues);
        m.fill(&ev, &mut msg, &mut issues);
        let s = |t: &Option<Text<'_>>| t.as_ref().map(Text::to_string_lossy);
        let mapped = Mapped {
            severity: msg.severity,
            facility: msg.facility,
            time: msg.time,
            hostname: s(&msg.hostname),
            appname: s(&msg.appname),
            procid: s(&msg.procid),
            msgid: s(&msg.msgid),
            sd: msg
                .sd
                .iter()
                .map(|e| (e.id.to_string_lossy(), e.params.to_pairs()))
                .collect(),
            msg: s(&msg.msg),
        };
        (mapped, issues)
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
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
        assert_eq!(msg.msg.as_deref(), Some("GET /"));
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
        assert_eq!(msg.msg, None);
        assert!(issues.no_message);
    }

    #[test]
    fn non_string_messages_become_text() {
        let (msg, _) = map_one(&mapping(), |w| w.map("log", |m| m.uint("a", 1)));
        assert_eq!(msg.msg.as_deref(), Some(r#"{"a":1}"#));
        let (msg, _) = map_one(&mapping(), |w| w.int("log", -5));
        assert_eq!(msg.msg.as_deref(), Some("-5"));
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
            vec![(
                "origin@32473".to_string(),
                pairs(&[("ip", "192.0.2.1"), ("n", "3")])
            )]
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
            vec![(
                "uls@0".to_string(),
                pairs(&[
                    ("logtype", "access"),
                    ("n", "3"),
                    ("neg", "-2"),
                    ("ratio", "0.500000"),
                    ("ok", "true"),
                ])
            )]
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
        let ids: Vec<&str> = msg.sd.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["a@1", "b@1", "origin@1"]);
        assert_eq!(msg.sd[2].1, pairs(&[("ip", "192.0.2.1")]));
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
            vec![(
                "kubernetes@32473".to_string(),
                pairs(&[
                    ("namespace", "prod"),
                    ("pod", "web-7d9c"),
                    ("container", "nginx"),
                    ("host", "node-1"),
                    ("label.app", "web"),
                ])
            )]
        );
    }
}
