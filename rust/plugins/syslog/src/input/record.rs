//! A parsed syslog message as a Fluent Bit record.
//!
//! Body keys (each with the configured prefix; all under one map when
//! `nest_under` is set); fields the message does not have are left out:
//!
//! | key | value |
//! | --- | --- |
//! | `pri`, `facility`, `severity` | integers |
//! | `hostname`, `appname`, `procid`, `msgid` | strings (RFC 3164: the TAG is `appname`, its `[pid]` `procid`) |
//! | `sd` | `{SD-ID: {PARAM: value}}`; a PARAM given twice gets an array of values |
//! | `message` | the MSG, BOM removed, invalid UTF-8 repaired |
//! | `parse_error` | why the message fit neither format (it is then all in `message`) |
//!
//! Metadata: `source` (peer address, or the socket path), `transport`
//! (udp, tcp, tls, relp, unix_dgram, unix_stream) and `format` (rfc5424,
//! rfc3164, raw).

use flb_rs_sdk::{EventEncoder, EventTime, MapWriter};

use super::parse::{Format, Message, SdElement};

/// How records are shaped.
#[derive(Debug, Clone)]
pub struct RecordShape {
    keys: Keys,
    nest_under: Option<String>,
    /// Also put the source address in the body, under this key.
    source_key: Option<String>,
    /// The event's time from the message's timestamp (else: when received).
    time_from_message: bool,
}

/// The body keys with their prefix, made once rather than per message.
#[derive(Debug, Clone)]
struct Keys {
    pri: String,
    facility: String,
    severity: String,
    hostname: String,
    appname: String,
    procid: String,
    msgid: String,
    sd: String,
    message: String,
    parse_error: String,
}

impl RecordShape {
    pub fn new(
        prefix: &str,
        nest_under: Option<String>,
        source_key: Option<String>,
        time_from_message: bool,
    ) -> Self {
        let k = |name: &str| format!("{prefix}{name}");
        RecordShape {
            keys: Keys {
                pri: k("pri"),
                facility: k("facility"),
                severity: k("severity"),
                hostname: k("hostname"),
                appname: k("appname"),
                procid: k("procid"),
                msgid: k("msgid"),
                sd: k("sd"),
                message: k("message"),
                parse_error: k("parse_error"),
            },
            nest_under,
            source_key,
            time_from_message,
        }
    }
}

/// Where a message came from.
pub struct Origin<'a> {
    pub source: &'a str,
    pub transport: &'static str,
    pub received: EventTime,
}

impl RecordShape {
    /// Appends one record for `m` to `out`.
    pub fn encode(&self, out: &mut EventEncoder, m: &Message<'_>, origin: &Origin<'_>) {
        let time = match m.timestamp {
            Some(t) if self.time_from_message => t,
            _ => origin.received,
        };
        out.record_with(
            time,
            |w| {
                w.str("source", origin.source);
                w.str("transport", origin.transport);
                w.str(
                    "format",
                    match m.format {
                        Format::Rfc5424 => "rfc5424",
                        Format::Rfc3164 => "rfc3164",
                        Format::Raw => "raw",
                    },
                );
            },
            |w| {
                match &self.nest_under {
                    Some(key) => w.map(key, |n| self.fields(n, m)),
                    None => self.fields(w, m),
                }
                if let Some(k) = &self.source_key {
                    w.str(k, origin.source);
                }
            },
        );
    }

    fn fields(&self, w: &mut MapWriter<'_>, m: &Message<'_>) {
        let k = &self.keys;
        if let (Some(pri), Some(f), Some(s)) = (m.pri, m.facility(), m.severity()) {
            w.uint(&k.pri, pri.into());
            w.uint(&k.facility, f.into());
            w.uint(&k.severity, s.into());
        }
        for (key, v) in [
            (&k.hostname, m.hostname),
            (&k.appname, m.appname),
            (&k.procid, m.procid),
            (&k.msgid, m.msgid),
        ] {
            if let Some(v) = v {
                w.str(key, v);
            }
        }
        if !m.sd.is_empty() {
            w.map(&k.sd, |sd| write_sd(sd, &m.sd));
        }
        w.str(&k.message, &m.msg);
        if let Some(e) = &m.error {
            w.str(&k.parse_error, e);
        }
    }
}

/// `{SD-ID: {PARAM: value}}`, each SD-ID once (a repeated element's
/// parameters are merged into the first) and each PARAM once (repeated
/// values become an array, in order): a map never has a key twice.
fn write_sd(w: &mut MapWriter<'_>, sd: &[SdElement<'_>]) {
    let mut ids: Vec<&str> = Vec::new();
    for e in sd {
        if !ids.contains(&e.id) {
            ids.push(e.id);
        }
    }
    for id in ids {
        let params: Vec<&(&str, std::borrow::Cow<'_, str>)> = sd
            .iter()
            .filter(|e| e.id == id)
            .flat_map(|e| e.params.iter())
            .collect();
        w.map(id, |p| {
            let mut names: Vec<&str> = Vec::new();
            for (n, _) in &params {
                if !names.contains(n) {
                    names.push(n);
                }
            }
            for n in names {
                let values: Vec<&str> = params
                    .iter()
                    .filter(|(pn, _)| *pn == n)
                    .map(|(_, v)| v.as_ref())
                    .collect();
                match values.as_slice() {
                    [one] => p.str(n, one),
                    many => p.array(n, |a| many.iter().for_each(|v| a.str(v))),
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::parse::{parse, Mode, ParseOptions};
    use flb_rs_sdk::{json, Events, Value};

    fn record(shape: &RecordShape, line: &[u8]) -> (String, String, EventTime) {
        let opts = ParseOptions {
            mode: Mode::Auto,
            now: EventTime::new(1_764_000_000, 0),
            offset_minutes: 0,
        };
        let m = parse(line, &opts);
        let mut out = EventEncoder::new();
        let origin = Origin {
            source: "192.0.2.7:40000",
            transport: "tcp",
            received: EventTime::new(1_764_000_001, 5),
        };
        shape.encode(&mut out, &m, &origin);
        let bytes = out.into_bytes();
        let ev = Events::new(&bytes).next().unwrap().unwrap();
        (
            json::to_string(&Value::Map(ev.body)).unwrap(),
            json::to_string(&Value::Map(ev.metadata.unwrap())).unwrap(),
            ev.time,
        )
    }

    #[test]
    fn rfc5424_with_structured_data() {
        let shape = RecordShape::new("", None, None, true);
        let (body, meta, time) = record(
            &shape,
            br#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"] An application event"#,
        );
        assert_eq!(
            body,
            r#"{"pri":165,"facility":20,"severity":5,"hostname":"mymachine.example.com","appname":"evntslog","msgid":"ID47","sd":{"exampleSDID@32473":{"iut":"3","eventSource":"Application","eventID":"1011"},"examplePriority@32473":{"class":"high"}},"message":"An application event"}"#
        );
        assert_eq!(
            meta,
            r#"{"source":"192.0.2.7:40000","transport":"tcp","format":"rfc5424"}"#
        );
        assert_eq!(time, EventTime::new(1_065_910_455, 3_000_000));
    }

    #[test]
    fn repeated_ids_and_params_never_repeat_a_key() {
        let shape = RecordShape::new("", None, None, false);
        let (body, _, time) = record(
            &shape,
            br#"<13>1 - - - - - [a x="1"][b y="2"][a x="3" z="4"] m"#,
        );
        assert_eq!(
            body,
            r#"{"pri":13,"facility":1,"severity":5,"sd":{"a":{"x":["1","3"],"z":"4"},"b":{"y":"2"}},"message":"m"}"#
        );
        assert_eq!(
            time,
            EventTime::new(1_764_000_001, 5),
            "no timestamp: received"
        );
    }

    #[test]
    fn prefix_nesting_source_and_raw() {
        let shape = RecordShape::new("syslog_", Some("syslog".into()), Some("from".into()), false);
        let (body, meta, _) = record(&shape, b"<999>broken");
        assert_eq!(
            body,
            r#"{"syslog":{"syslog_message":"<999>broken","syslog_parse_error":"RFC 3164: malformed PRI (999 out of range 0..191) in '<999>bro'"},"from":"192.0.2.7:40000"}"#
        );
        assert!(meta.contains(r#""format":"raw""#));
    }
}
