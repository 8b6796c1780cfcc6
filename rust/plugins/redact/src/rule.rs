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

    /// The set skips a rule exactly when the rule would find nothing.
    #[test]
    fn the_screen_skips_only_rules_that_find_nothing() {
        let rules: Vec<Rule> = [
            "card detector=card",
            "email detector=email",
            "ip detector=ipv4",
            "ip6 detector=ipv6",
            "pw detector=password",
            "ssn fields=log regex=ssn=(\\d{3}-\\d{2}-\\d{4})",
            "whole fields=secret action=drop",
        ]
        .iter()
        .map(|l| Rule::parse(l, None).unwrap())
        .collect();
        let screen = Screen::new(&rules);
        for text in [
            "GET /health 200 in 12ms",
            "card 4111 1111 1111 1111 from bob@example.com at 10.0.0.1",
            "ssn=123-45-6789 password=x 2001:db8::1",
            "12:30:45 version 1.2.3.4.5 ssn=12-34",
        ] {
            let m = screen.matches(text).expect("a set of several patterns");
            for (i, r) in rules.iter().enumerate() {
                let Some(d) = &r.find else {
                    assert!(!screen.skips(i, &m), "a whole-value rule is never skipped");
                    continue;
                };
                if screen.skips(i, &m) {
                    assert!(d.find(text).is_empty(), "{} skipped on {text:?}", r.name);
                }
            }
        }
        // A hit where the confirmation says no: not skipped, finds nothing.
        let m = screen.matches("order 4111111111111112").unwrap();
        assert!(!screen.skips(0, &m));
        assert!(rules[0]
            .find
            .as_ref()
            .unwrap()
            .find("order 4111111111111112")
            .is_empty());
    }
}

/// Every rule's pattern in one `RegexSet`: one pass over a string tells
/// which patterns match anywhere in it, and the searches of the others
/// (most of them, on most strings) are skipped. Exact: a pattern the set
/// says does not match has no match to find.
#[derive(Debug, Clone)]
pub struct Screen {
    set: Option<regex::RegexSet>,
    /// Per rule, its pattern's index in the set.
    slot: Vec<Option<usize>>,
}

impl Screen {
    pub fn new(rules: &[Rule]) -> Screen {
        let mut patterns = Vec::new();
        let slot = rules
            .iter()
            .map(|r| {
                r.find.as_ref().map(|d| {
                    patterns.push(d.pattern().to_string());
                    patterns.len() - 1
                })
            })
            .collect();
        // The patterns compiled alone already; together they only risk the
        // size limit, and then each rule searches alone, as before.
        let set = (patterns.len() > 1)
            .then(|| {
                regex::RegexSetBuilder::new(&patterns)
                    .size_limit(32 << 20)
                    .build()
                    .ok()
            })
            .flatten();
        Screen { set, slot }
    }

    /// No set: every rule searches alone.
    pub fn none() -> Screen {
        Screen {
            set: None,
            slot: Vec::new(),
        }
    }

    /// Which rules' patterns match somewhere in `text` (`None`: unknown,
    /// search them all).
    pub fn matches(&self, text: &str) -> Option<regex::SetMatches> {
        self.set.as_ref().map(|s| s.matches(text))
    }

    /// Whether rule `i` can be skipped given the set's `matches`.
    pub fn skips(&self, i: usize, matches: &regex::SetMatches) -> bool {
        self.slot
            .get(i)
            .copied()
            .flatten()
            .is_some_and(|k| !matches.matched(k))
    }
}
