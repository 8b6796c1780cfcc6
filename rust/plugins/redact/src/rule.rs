//! One redaction rule as written in the configuration:
//!
//! ```text
//! rule NAME [fields=LIST] [scope=body|metadata|both] [action=ACTION] [detector=NAME | regex=RE]
//! ```
//!
//! `LIST` is comma-separated: `*` (every string in the record, nested maps
//! and arrays included), a top-level key, or a record accessor path such as
//! `$http['headers']['authorization']` (the value there and everything
//! under it). `regex=` takes the rest of the line, spaces included, so it
//! comes last. A rule with neither `detector` nor `regex` applies to the
//! whole value of the named fields.

use flb_rs_sdk::accessor::{RecordAccessor, Step};

use crate::action::Action;
use crate::detect::{Builtin, Detector};

/// Which fields a rule looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fields {
    /// Every string value, at any depth.
    All,
    /// Values at these paths, and everything under them.
    Paths(Vec<Vec<Step>>),
}

/// The rules of a filter, in order, sorted out once for the walk: per
/// scope (body, metadata), the rules over every field and the rules over
/// named paths. At a path no rule names (nearly every value), exactly the
/// first apply, found without matching any path.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    everywhere: [Vec<usize>; 2],
    /// Whether every rule in `everywhere` is a detector (none takes the
    /// whole value).
    everywhere_finds: [bool; 2],
    /// When every rule in `everywhere` is a built-in detector, their
    /// [`Builtin::bit`]s: a string none of them can match is passed over
    /// with one test.
    everywhere_builtins: [Option<u8>; 2],
    named: [Vec<usize>; 2],
    /// Per scope, [`key_bit`] of the first key of every named path: a
    /// top-level entry whose key's bit is not here has no named rule at or
    /// under it.
    named_first: [u64; 2],
}

/// A key's bit in a 64-bit filter, from its length and end bytes.
fn key_bit(key: &[u8]) -> u64 {
    let (first, last) = (key.first().copied(), key.last().copied());
    let h = key.len() * 7 + usize::from(first.unwrap_or(0)) + usize::from(last.unwrap_or(0)) * 3;
    1 << (h % 64)
}

impl RuleSet {
    pub fn new(rules: Vec<Rule>) -> RuleSet {
        let pick = |metadata: bool, all: bool| -> Vec<usize> {
            (0..rules.len())
                .filter(|&i| {
                    let r = &rules[i];
                    (if metadata { r.metadata } else { r.body }) && (r.fields == Fields::All) == all
                })
                .collect()
        };
        let everywhere = [pick(false, true), pick(true, true)];
        let finds = |active: &[usize]| active.iter().all(|&i| rules[i].find.is_some());
        let builtins = |active: &[usize]| {
            active.iter().try_fold(0u8, |bits, &i| match rules[i].find {
                Some(Detector::Builtin(b)) => Some(bits | b.bit()),
                _ => None,
            })
        };
        let named = [pick(false, false), pick(true, false)];
        let first_keys = |named: &[usize]| {
            let paths = named.iter().flat_map(|&i| match &rules[i].fields {
                Fields::Paths(ps) => ps.as_slice(),
                Fields::All => &[],
            });
            paths.fold(0u64, |bits, p| match p.first() {
                Some(Step::Key(k)) => bits | key_bit(k.as_bytes()),
                // The root (or an index, which no top-level key is): all.
                _ => u64::MAX,
            })
        };
        RuleSet {
            named_first: [first_keys(&named[0]), first_keys(&named[1])],
            everywhere_finds: [finds(&everywhere[0]), finds(&everywhere[1])],
            everywhere_builtins: [builtins(&everywhere[0]), builtins(&everywhere[1])],
            everywhere,
            named,
            rules,
        }
    }

    /// The rules over every field in the body (`metadata` false) or the
    /// metadata, in order.
    pub fn everywhere(&self, metadata: bool) -> &[usize] {
        &self.everywhere[usize::from(metadata)]
    }

    /// Whether the rules over every field in the body or the metadata are
    /// all detectors.
    pub fn everywhere_finds(&self, metadata: bool) -> bool {
        self.everywhere_finds[usize::from(metadata)]
    }

    /// The bits of the rules over every field in the body or the
    /// metadata, when all are built-in detectors.
    pub fn everywhere_builtins(&self, metadata: bool) -> Option<u8> {
        self.everywhere_builtins[usize::from(metadata)]
    }

    /// Whether a named rule's path may start with the top-level `key`
    /// (false: certainly not).
    pub fn named_may_start(&self, metadata: bool, key: &[u8]) -> bool {
        self.named_first[usize::from(metadata)] & key_bit(key) != 0
    }

    /// The rules over named paths in the body or the metadata, in order.
    pub fn named(&self, metadata: bool) -> &[usize] {
        &self.named[usize::from(metadata)]
    }
}

impl std::ops::Deref for RuleSet {
    type Target = [Rule];

    fn deref(&self) -> &[Rule] {
        &self.rules
    }
}

/// A parsed, compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub fields: Fields,
    pub body: bool,
    pub metadata: bool,
    /// What to find; `None` is the whole value.
    pub find: Option<Detector>,
    pub action: Action,
}

impl Rule {
    /// Parses and compiles one `rule` line; errors name the rule.
    pub fn parse(line: &str, hash_key: Option<&str>) -> Result<Rule, String> {
        let line = line.trim();
        let (name, mut rest) = match line.split_once(char::is_whitespace) {
            Some((n, r)) => (n, r.trim_start()),
            None => (line, ""),
        };
        if name.is_empty() {
            return Err(
                "rule: empty; expected 'NAME [fields=...] [action=...] [detector=...|regex=...]'"
                    .into(),
            );
        }
        if name.contains('=') {
            return Err(format!(
                "rule '{line}': the first word is the rule's name, not '{name}'"
            ));
        }
        let err = |why: String| format!("rule '{name}': {why}");
        let mut fields = Fields::All;
        let mut scope = (true, false);
        let mut action = None;
        let mut find = None;
        while !rest.is_empty() {
            let (word, after) = match rest.split_once(char::is_whitespace) {
                Some((w, a)) => (w, a.trim_start()),
                None => (rest, ""),
            };
            let Some((key, value)) = word.split_once('=') else {
                return Err(err(format!("expected KEY=VALUE, got '{word}'")));
            };
            match key.to_ascii_lowercase().as_str() {
                "regex" => {
                    // The pattern is the rest of the line, spaces and all.
                    let pattern = rest["regex=".len()..].trim();
                    if find.is_some() {
                        return Err(err("give either detector or regex, not both".into()));
                    }
                    if pattern.is_empty() {
                        return Err(err("regex= is empty".into()));
                    }
                    find = Some(Detector::regex(pattern).map_err(&err)?);
                    break;
                }
                "detector" => {
                    if find.is_some() {
                        return Err(err("give either detector or regex, not both".into()));
                    }
                    find = Some(Detector::builtin(Builtin::parse(value).map_err(&err)?));
                }
                "fields" => fields = parse_fields(value).map_err(&err)?,
                "scope" => {
                    scope = match value.to_ascii_lowercase().as_str() {
                        "body" => (true, false),
                        "metadata" => (false, true),
                        "both" => (true, true),
                        _ => {
                            return Err(err(format!(
                                "scope '{value}': expected body, metadata or both"
                            )))
                        }
                    }
                }
                "action" => action = Some(Action::parse(value, hash_key).map_err(&err)?),
                _ => {
                    return Err(err(format!(
                        "unknown setting '{key}' (fields, scope, action, detector, regex)"
                    )))
                }
            }
            rest = after;
        }
        if find.is_none() && fields == Fields::All {
            return Err(err(
                "a rule over all fields needs a detector or a regex (or name the fields whose whole value goes)".into(),
            ));
        }
        Ok(Rule {
            name: name.to_string(),
            fields,
            body: scope.0,
            metadata: scope.1,
            find,
            action: action.unwrap_or_else(|| Action::Mask(crate::action::DEFAULT_MASK.into())),
        })
    }
}

/// `*`, or paths separated by commas (commas inside `[...]` belong to a
/// key).
fn parse_fields(list: &str) -> Result<Fields, String> {
    let mut paths = Vec::new();
    let items = crate::keys::split_paths(list);
    for item in items {
        let item = item.trim();
        if item == "*" {
            return Ok(Fields::All);
        }
        if item.is_empty() {
            return Err(format!("fields '{list}': an empty entry"));
        }
        paths.push(RecordAccessor::parse(item)?.steps().to_vec());
    }
    Ok(Fields::Paths(paths))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_rule() {
        let r = Rule::parse(
            "cards fields=message,$http['body'] scope=both action=keep_last:4 detector=card",
            None,
        )
        .unwrap();
        assert_eq!(r.name, "cards");
        assert_eq!(
            r.fields,
            Fields::Paths(vec![
                vec![Step::Key("message".into())],
                vec![Step::Key("http".into()), Step::Key("body".into())],
            ])
        );
        assert!(r.body && r.metadata);
        assert_eq!(r.action, Action::KeepLast(4));
        assert!(r.find.is_some());
    }

    #[test]
    fn regex_takes_the_rest_of_the_line() {
        let r = Rule::parse("tok action=mask:XX regex=secret (\\w+) here", None).unwrap();
        let d = r.find.unwrap();
        let text = "a secret abc here";
        assert_eq!(
            d.find(text)
                .iter()
                .map(|x| &text[x.clone()])
                .collect::<Vec<_>>(),
            ["abc"]
        );
        assert_eq!(r.action, Action::Mask("XX".into()));
        assert_eq!(r.fields, Fields::All);
    }

    #[test]
    fn defaults() {
        let r = Rule::parse("e detector=email", None).unwrap();
        assert_eq!(r.fields, Fields::All);
        assert!(r.body && !r.metadata);
        assert_eq!(r.action, Action::Mask("[REDACTED]".into()));
        let r = Rule::parse("pw fields=password action=drop", None).unwrap();
        assert!(r.find.is_none());
        assert_eq!(r.action, Action::DropField);
    }

    #[test]
    fn commas_inside_brackets_belong_to_the_key() {
        let r = Rule::parse("x fields=$a['b,c'],d detector=email", None).unwrap();
        assert_eq!(
            r.fields,
            Fields::Paths(vec![
                vec![Step::Key("a".into()), Step::Key("b,c".into())],
                vec![Step::Key("d".into())],
            ])
        );
    }

    #[test]
    fn errors_name_the_rule() {
        let cases = [
            (
                "bad regex=(unclosed",
                "rule 'bad': invalid regular expression",
            ),
            ("bad detector=crd", "rule 'bad': unknown detector 'crd'"),
            (
                "bad detector=email action=explode",
                "rule 'bad': unknown action 'explode'",
            ),
            (
                "bad detector=email action=hash",
                "rule 'bad': hash needs hash_key",
            ),
            (
                "bad detector=email colour=red",
                "rule 'bad': unknown setting 'colour'",
            ),
            ("bad detector=email scope=all", "rule 'bad': scope 'all'"),
            (
                "bad detector=email regex=x",
                "rule 'bad': give either detector or regex",
            ),
            (
                "bad action=mask",
                "rule 'bad': a rule over all fields needs a detector",
            ),
            (
                "bad detector=email fields=a,,b",
                "rule 'bad': fields 'a,,b': an empty entry",
            ),
            (
                "bad detector=email stray",
                "rule 'bad': expected KEY=VALUE, got 'stray'",
            ),
            ("detector=email", "the first word is the rule's name"),
            ("  ", "rule: empty"),
        ];
        for (line, want) in cases {
            let e = Rule::parse(line, None).unwrap_err();
            assert!(e.contains(want), "{line}: got '{e}', want '{want}'");
        }
    }
}
