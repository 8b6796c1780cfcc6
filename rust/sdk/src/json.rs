//! Renders msgpack values as JSON text.
//!
//! Strings that are not valid UTF-8 are repaired with U+FFFD, binaries and
//! extensions become strings of hex digits. A key that is not a string is
//! rendered and quoted; a map or array as a key becomes the hex digits of
//! its msgpack encoding, so that the output stays linear in the input.
//! Nesting deeper than [`MAX_DEPTH`] is an error, so hostile input cannot
//! exhaust the stack.

use std::fmt::Write;

use crate::msgpack::Value;

/// Deepest nesting rendered.
pub const MAX_DEPTH: usize = 64;

/// A value nested deeper than [`MAX_DEPTH`]: not rendered, so that a
/// hostile record cannot exhaust the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooDeep;

impl std::fmt::Display for TooDeep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "value nested deeper than {MAX_DEPTH} levels")
    }
}

impl std::error::Error for TooDeep {}

/// Appends `v` as JSON to `out`.
pub fn write_value(out: &mut String, v: &Value<'_>) -> Result<(), TooDeep> {
    write_at(out, v, 0)
}

/// `v` as a JSON string.
pub fn to_string(v: &Value<'_>) -> Result<String, TooDeep> {
    let mut s = String::new();
    write_value(&mut s, v)?;
    Ok(s)
}

fn write_at(out: &mut String, v: &Value<'_>, depth: usize) -> Result<(), TooDeep> {
    if depth > MAX_DEPTH {
        return Err(TooDeep);
    }
    match *v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::UInt(u) => {
            let _ = write!(out, "{u}");
        }
        Value::F32(f) => write_float(out, f64::from(f)),
        Value::F64(f) => write_float(out, f),
        Value::Str(s) => write_str(out, &s.to_str_lossy()),
        Value::Bin(b) | Value::Ext(_, b) => write_hex(out, b),
        Value::Array(a) => {
            out.push('[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_at(out, &item, depth + 1)?;
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push('{');
            for (i, (k, val)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                match k {
                    Value::Str(s) => write_str(out, &s.to_str_lossy()),
                    // A map or array as a key: the hex of its encoding.
                    // Rendered and quoted, each such key nested in another
                    // would double the backslashes of all below it: 60
                    // levels in a few hundred bytes of input, 2^60 bytes
                    // of output.
                    Value::Map(m) => write_hex(out, m.raw()),
                    Value::Array(a) => write_hex(out, a.raw()),
                    other => {
                        // JSON keys are strings: render the scalar, then
                        // quote it.
                        let mut key = String::new();
                        write_at(&mut key, &other, depth + 1)?;
                        write_str(out, &key);
                    }
                }
                out.push(':');
                write_at(out, &val, depth + 1)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// `bytes` as a quoted string of hex digits.
fn write_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for &b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out.push('"');
}

fn write_float(out: &mut String, f: f64) {
    if f.is_finite() {
        let _ = write!(out, "{f:?}");
    } else {
        out.push_str("null");
    }
}

/// Appends `s` as a quoted JSON string.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::Writer;

    #[test]
    fn keys_that_are_not_strings() {
        let mut w = Writer::new();
        w.map_len(3);
        w.uint(7);
        w.str("int key");
        w.bool(true);
        w.str("bool key");
        w.map_len(1);
        w.str("k");
        w.uint(1);
        w.str("map key");
        let buf = w.into_bytes();
        let v = Value::from_slice(&buf).unwrap();
        assert_eq!(
            to_string(&v).unwrap(),
            r#"{"7":"int key","true":"bool key","81a16b01":"map key"}"#
        );
    }

    /// Maps used as keys of maps used as keys, 60 deep, in 120 bytes:
    /// rendering each key and quoting it doubled the escapes at every
    /// level (found by fuzzing; 2^60 bytes). Now the output is linear.
    #[test]
    fn nested_map_keys_stay_linear() {
        let mut w = Writer::new();
        for _ in 0..60 {
            w.map_len(1);
        }
        w.str("\"");
        for _ in 0..60 {
            w.uint(1);
        }
        let buf = w.into_bytes();
        let v = Value::from_slice(&buf).unwrap();
        let s = to_string(&v).unwrap();
        assert!(
            s.len() < 4 * buf.len() + 16,
            "{} bytes from {}",
            s.len(),
            buf.len()
        );
    }
}
