//! Renders msgpack values as JSON text.
//!
//! Strings that are not valid UTF-8 are repaired with U+FFFD, binaries and
//! extensions become strings of hex digits. Nesting deeper than
//! [`MAX_DEPTH`] is an error, so hostile input cannot exhaust the stack.

use std::fmt::Write;

use crate::msgpack::Value;

/// Deepest nesting rendered.
pub const MAX_DEPTH: usize = 64;

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
        Value::Bin(b) | Value::Ext(_, b) => {
            out.push('"');
            for byte in b {
                let _ = write!(out, "{byte:02x}");
            }
            out.push('"');
        }
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
                    other => {
                        // JSON keys are strings: render the key, then quote it.
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
