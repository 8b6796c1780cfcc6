//! Fluent Bit's record accessor syntax, for keys that name nested fields:
//! `$kubernetes['pod_name']`, `$log['items'][0]`, or a plain top-level
//! `key` (with or without the `$`).

use std::fmt;

use crate::msgpack::{MapRef, Value};

/// One step of a path: a map key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `['name']`, or a bare name: the value of that key in a map.
    Key(String),
    /// `[3]`: the element at that index in an array.
    Index(usize),
}

/// A parsed path into a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordAccessor {
    steps: Vec<Step>,
    text: String,
}

impl RecordAccessor {
    /// Parses `$a['b'][0]`, `$a`, or `a`. Keys in brackets may use single or
    /// double quotes; a bare word after `$` runs to the first `[`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("invalid record accessor '{text}': {why}");
        let t = text.trim();
        if t.is_empty() {
            return Err(bad("empty"));
        }
        let Some(rest) = t.strip_prefix('$') else {
            // Not an accessor: the whole text is one top-level key.
            return Ok(RecordAccessor {
                steps: vec![Step::Key(t.to_string())],
                text: text.to_string(),
            });
        };
        let head_end = rest.find('[').unwrap_or(rest.len());
        let head = &rest[..head_end];
        if head.is_empty() {
            return Err(bad("no key after '$'"));
        }
        if head.contains([']', '\'', '"']) {
            return Err(bad("unexpected ']' or quote in the first key"));
        }
        let mut steps = vec![Step::Key(head.to_string())];
        let mut s = &rest[head_end..];
        while !s.is_empty() {
            let inner = s.strip_prefix('[').ok_or_else(|| bad("expected '['"))?;
            let (step, after) = match inner.chars().next() {
                Some(q @ ('\'' | '"')) => {
                    let body = &inner[1..];
                    let end = body.find(q).ok_or_else(|| bad("unterminated quote"))?;
                    let after = body[end + 1..]
                        .strip_prefix(']')
                        .ok_or_else(|| bad("expected ']' after the quoted key"))?;
                    (Step::Key(body[..end].to_string()), after)
                }
                _ => {
                    let end = inner.find(']').ok_or_else(|| bad("expected ']'"))?;
                    let idx = inner[..end]
                        .trim()
                        .parse::<usize>()
                        .map_err(|_| bad("an index must be a number, a key must be quoted"))?;
                    (Step::Index(idx), &inner[end + 1..])
                }
            };
            steps.push(step);
            s = after;
        }
        Ok(RecordAccessor {
            steps,
            text: text.to_string(),
        })
    }

    /// The path's steps, outermost first.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The value at the path, if every step exists.
    pub fn get<'a>(&self, record: &MapRef<'a>) -> Option<Value<'a>> {
        Self::walk(&self.steps, Value::Map(*record))
    }

    /// The record's top-level key the path starts with (a path always
    /// starts with a key).
    pub fn first_key(&self) -> &str {
        match self.steps.first() {
            Some(Step::Key(k)) => k,
            _ => "",
        }
    }

    /// The value at the path, given the value of its first key: a plugin
    /// that reads many paths from one record finds all their first keys in
    /// one pass over the record, then walks the rest of each path here.
    pub fn get_after_first<'a>(&self, first: Value<'a>) -> Option<Value<'a>> {
        Self::walk(self.steps.get(1..).unwrap_or_default(), first)
    }

    fn walk<'a>(steps: &[Step], mut cur: Value<'a>) -> Option<Value<'a>> {
        for step in steps {
            cur = match (step, cur) {
                (Step::Key(k), Value::Map(m)) => m.get(k)?,
                (Step::Index(i), Value::Array(a)) => a.get(*i)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    /// True when the path is one top-level key.
    pub fn is_top_level(&self) -> bool {
        self.steps.len() == 1
    }
}

impl fmt::Display for RecordAccessor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::Writer;

    fn record() -> Vec<u8> {
        let mut w = Writer::new();
        w.map(|m| {
            m.str("log", "top");
            m.map("kubernetes", |k| {
                k.str("pod_name", "web-1");
                k.map("labels", |l| l.str("app.kubernetes.io/name", "web"));
            });
            m.array("items", |a| {
                a.str("zero");
                a.item().map(|m| m.uint("n", 1));
            });
        });
        w.into_bytes()
    }

    fn get(path: &str) -> Option<String> {
        let buf = record();
        let m = Value::from_slice(&buf).unwrap().as_map().unwrap();
        RecordAccessor::parse(path)
            .unwrap()
            .get(&m)
            .map(|v| format!("{v:?}"))
    }

    #[test]
    fn paths_reach_nested_fields() {
        assert_eq!(get("log").as_deref(), Some("Str(\"top\")"));
        assert_eq!(get("$log").as_deref(), Some("Str(\"top\")"));
        assert_eq!(
            get("$kubernetes['pod_name']").as_deref(),
            Some("Str(\"web-1\")")
        );
        assert_eq!(
            get("$kubernetes['labels'][\"app.kubernetes.io/name\"]").as_deref(),
            Some("Str(\"web\")")
        );
        assert_eq!(get("$items[0]").as_deref(), Some("Str(\"zero\")"));
        assert_eq!(get("$items[1]['n']").as_deref(), Some("UInt(1)"));
        assert_eq!(get("$items[2]"), None);
        assert_eq!(get("$kubernetes['nope']"), None);
        assert_eq!(get("$log['x']"), None);
    }

    #[test]
    fn a_path_continues_from_the_value_of_its_first_key() {
        let buf = record();
        let m = Value::from_slice(&buf).unwrap().as_map().unwrap();
        let a = RecordAccessor::parse("$kubernetes['labels']['app.kubernetes.io/name']").unwrap();
        assert_eq!(a.first_key(), "kubernetes");
        let first = m.get(a.first_key()).unwrap();
        assert_eq!(a.get_after_first(first), a.get(&m));
        assert!(a.get(&m).is_some());
        let top = RecordAccessor::parse("log").unwrap();
        assert_eq!(top.get_after_first(Value::UInt(7)), Some(Value::UInt(7)));
    }

    #[test]
    fn bad_paths_are_errors() {
        for bad in ["", "$", "$a[", "$a['b'", "$a['b'x", "$a[b]", "$a]"] {
            assert!(RecordAccessor::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            RecordAccessor::parse("$a[b]").unwrap_err(),
            "invalid record accessor '$a[b]': an index must be a number, a key must be quoted"
        );
    }
}
