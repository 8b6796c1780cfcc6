//! What one syslog message says, borrowed from the record it comes from.
//!
//! Nothing here is copied out of the chunk: a field is a view of the
//! record's bytes (or a number, formatted on the stack when written), and
//! an SD element names the map its params come from. Formatting writes
//! straight from these views into the output buffer, so a flush makes no
//! allocation per record (maps or arrays used as text, rendered as JSON,
//! are the exception).

use std::fmt::{self, Write as _};

use flb_rs_sdk::{json, EventTime, MapRef, Value};

/// A field's text as the record holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Text<'a> {
    /// A string's or binary's bytes, not necessarily valid UTF-8: each
    /// writer repairs or filters them as its field requires.
    Bytes(&'a [u8]),
    Int(i64),
    UInt(u64),
    /// Written as C's `%f` writes it (six decimals), as the built-in
    /// output does.
    Float(f64),
    Bool(bool),
    /// A map or an array, rendered as JSON.
    Json(String),
}

impl<'a> Text<'a> {
    /// The text of a value; `None` for nil, extension types, and maps or
    /// arrays nested too deeply to render.
    pub fn of(v: &Value<'a>) -> Option<Text<'a>> {
        Some(match *v {
            Value::Str(s) => Text::Bytes(s.as_bytes()),
            Value::Bin(b) => Text::Bytes(b),
            Value::Int(i) => Text::Int(i),
            Value::UInt(u) => Text::UInt(u),
            Value::F32(f) => Text::Float(f64::from(f)),
            Value::F64(f) => Text::Float(f),
            Value::Bool(b) => Text::Bool(b),
            Value::Map(_) | Value::Array(_) => Text::Json(json::to_string(v).ok()?),
            Value::Nil | Value::Ext(..) => return None,
        })
    }

    pub fn is_empty(&self) -> bool {
        match self {
            Text::Bytes(b) => b.is_empty(),
            Text::Json(s) => s.is_empty(),
            _ => false,
        }
    }

    /// Calls `f` with the text's bytes; numbers are formatted on the stack.
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Text::Bytes(b) => f(b),
            Text::Json(s) => f(s.as_bytes()),
            Text::Bool(b) => f(if *b { b"true" } else { b"false" }),
            Text::Int(i) => f(Digits::new(i.unsigned_abs(), *i < 0).as_bytes()),
            Text::UInt(u) => f(Digits::new(*u, false).as_bytes()),
            Text::Float(x) => {
                let mut s = StackStr::default();
                if write!(s, "{x:.6}").is_ok() {
                    f(s.as_bytes())
                } else {
                    // Past 1e38 or so "%f" needs more than the stack buffer.
                    f(format!("{x:.6}").as_bytes())
                }
            }
        }
    }

    /// The text as a String, invalid UTF-8 replaced (for tests and logs).
    pub fn to_string_lossy(&self) -> String {
        self.with_bytes(|b| String::from_utf8_lossy(b).into_owned())
    }
}

impl<'a> From<&'a str> for Text<'a> {
    fn from(s: &'a str) -> Self {
        Text::Bytes(s.as_bytes())
    }
}

/// An integer's decimal digits, formatted without the `fmt` machinery.
pub struct Digits {
    buf: [u8; 21],
    start: usize,
}

impl Digits {
    pub fn new(mut n: u64, negative: bool) -> Digits {
        let mut d = Digits {
            buf: [0; 21],
            start: 21,
        };
        loop {
            d.start -= 1;
            d.buf[d.start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        if negative {
            d.start -= 1;
            d.buf[d.start] = b'-';
        }
        d
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }
}

/// A small string on the stack; writing past its end is an error.
struct StackStr {
    buf: [u8; 48],
    len: usize,
}

impl Default for StackStr {
    fn default() -> Self {
        StackStr {
            buf: [0; 48],
            len: 0,
        }
    }
}

impl StackStr {
    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl fmt::Write for StackStr {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Where an SD element's params come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Params<'a> {
    /// A map's scalar entries, in order; nil, maps and arrays are skipped,
    /// as the built-in output skips them.
    Scalars(MapRef<'a>),
    /// Fluent Bit's `kubernetes` metadata: `namespace`, `pod`,
    /// `container`, `host`, then each label as `label.<name>`.
    Kubernetes(MapRef<'a>),
    /// Pairs given as they are.
    Pairs(Vec<(Text<'a>, Text<'a>)>),
}

/// The `kubernetes` fields of the Kubernetes SD element, in their order.
const KUBERNETES_PARAMS: [(&[u8], &[u8]); 4] = [
    (b"namespace_name", b"namespace"),
    (b"pod_name", b"pod"),
    (b"container_name", b"container"),
    (b"host", b"host"),
];

impl<'a> Params<'a> {
    /// Calls `f(prefix, name, value)` for each param in order; the name is
    /// `prefix` followed by `name`.
    pub fn for_each(&self, mut f: impl FnMut(&'static [u8], &Text<'_>, &Text<'_>)) {
        match self {
            Params::Scalars(m) => {
                for (k, v) in m.iter() {
                    if matches!(v, Value::Nil | Value::Map(_) | Value::Array(_)) {
                        continue;
                    }
                    if let (Some(k), Some(v)) = (Text::of(&k), Text::of(&v)) {
                        f(b"", &k, &v);
                    }
                }
            }
            Params::Kubernetes(m) => {
                // One pass over the map; the first entry of a name counts.
                let mut found: [Option<Value<'a>>; 4] = [None; 4];
                let mut labels = None;
                for (k, v) in m.iter() {
                    let Value::Str(k) = k else { continue };
                    let k = k.as_bytes();
                    if let Some(i) = KUBERNETES_PARAMS.iter().position(|(n, _)| *n == k) {
                        found[i].get_or_insert(v);
                    } else if k == b"labels" {
                        labels.get_or_insert(v.as_map());
                    }
                }
                for ((_, param), v) in KUBERNETES_PARAMS.iter().zip(&found) {
                    if let Some(v) = v.as_ref().and_then(Text::of) {
                        f(b"", &Text::Bytes(param), &v);
                    }
                }
                for (name, v) in labels.flatten().iter().flat_map(MapRef::iter) {
                    if let (Some(name), Some(v)) = (Text::of(&name), Text::of(&v)) {
                        f(b"label.", &name, &v);
                    }
                }
            }
            Params::Pairs(pairs) => {
                for (k, v) in pairs {
                    f(b"", k, v);
                }
            }
        }
    }

    /// The params as strings (for tests and logs).
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        self.for_each(|prefix, k, v| {
            let name = format!("{}{}", String::from_utf8_lossy(prefix), k.to_string_lossy());
            out.push((name, v.to_string_lossy()));
        });
        out
    }
}

/// One structured-data element: `[id name="value" ...]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SdElement<'a> {
    pub id: Text<'a>,
    pub params: Params<'a>,
}

/// What one syslog message says, before it is framed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Message<'a> {
    pub facility: u8,
    pub severity: u8,
    pub time: EventTime,
    pub hostname: Option<Text<'a>>,
    pub appname: Option<Text<'a>>,
    pub procid: Option<Text<'a>>,
    pub msgid: Option<Text<'a>>,
    pub sd: Vec<SdElement<'a>>,
    /// The text; may hold invalid UTF-8, repaired when written.
    pub msg: Option<Text<'a>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_as_the_builtin_writes_them() {
        let s = |t: Text<'_>| t.to_string_lossy();
        assert_eq!(s(Text::UInt(0)), "0");
        assert_eq!(s(Text::UInt(u64::MAX)), "18446744073709551615");
        assert_eq!(s(Text::Int(i64::MIN)), "-9223372036854775808");
        assert_eq!(s(Text::Int(-5)), "-5");
        assert_eq!(s(Text::Float(0.5)), "0.500000");
        assert_eq!(s(Text::Float(-1.25e3)), "-1250.000000");
        // Longer than the stack buffer: formatted on the heap instead.
        let big = s(Text::Float(1e60));
        assert!(big.len() > 48 && big.ends_with(".000000"), "{big}");
        assert_eq!(big, format!("{:.6}", 1e60));
        assert_eq!(s(Text::Bool(true)), "true");
    }
}
