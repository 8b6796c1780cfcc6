//! Finding what to redact in a record, and writing the record again with
//! the changes.
//!
//! Two passes over the msgpack tree. The first decides and allocates
//! nothing unless a rule matches; only when it found something does the
//! second one encode, copying every untouched subtree as raw bytes. Both
//! walk with an explicit stack: a record nested thousands deep costs heap,
//! not stack, which matters because a filter can run on a Fluent Bit
//! coroutine's small stack.
//!
//! A change is keyed by where it is in the input: the offset of the map or
//! array holding the value and the value's index in it. Both passes read
//! the same bytes, so the keys agree, and no path strings are built.

use std::borrow::Cow;

use flb_rs_sdk::msgpack::{Reader, Token};
use flb_rs_sdk::{DecodeError, MapRef, Value, ValueReader, Writer};

use crate::action::{redact, Action};
use crate::detect::Possible;
use crate::keys::{leads_to, under, KeyPolicy, PathStep, Removal, Verdict};
use crate::rule::{Fields, Rule, RuleSet};

/// What happens to one value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Edit {
    Replace(String),
    Drop,
}

/// The changes to one root map (a record's body or its metadata).
#[derive(Debug, Default)]
pub struct Plan {
    /// (container offset, index) → edit, sorted after the scan.
    edits: Vec<((usize, u32), Edit)>,
    /// Containers with a change somewhere under them, and how many of their
    /// own entries are dropped; sorted after the scan.
    dirty: Vec<(usize, u32)>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    fn edit(&self, at: (usize, u32)) -> Option<&Edit> {
        self.edits
            .binary_search_by_key(&at, |(k, _)| *k)
            .ok()
            .map(|i| &self.edits[i].1)
    }

    fn drops(&self, container: usize) -> Option<u32> {
        self.dirty
            .binary_search_by_key(&container, |(k, _)| *k)
            .ok()
            .map(|i| self.dirty[i].1)
    }
}

fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn in_scope(rule: &Rule, metadata: bool) -> bool {
    if metadata {
        rule.metadata
    } else {
        rule.body
    }
}

/// Does `rule` look at the value at `path`?
fn applies(rule: &Rule, path: &[PathStep<'_>], metadata: bool) -> bool {
    in_scope(rule, metadata)
        && match &rule.fields {
            Fields::All => true,
            Fields::Paths(ps) => ps.iter().any(|t| under(path, t)),
        }
}

/// Could any rule look at something under `path`?
fn wants_descent(rules: &[Rule], path: &[PathStep<'_>], metadata: bool) -> bool {
    rules.iter().any(|r| {
        in_scope(r, metadata)
            && match &r.fields {
                Fields::All => true,
                // Under a target, or on the way to one.
                Fields::Paths(ps) => ps.iter().any(|t| under(path, t) || leads_to(path, t)),
            }
    })
}

/// A map or array being walked: where its header is, how many values are
/// left, and what was decided about its own entries.
struct Frame {
    at: usize,
    is_map: bool,
    left: usize,
    index: u32,
    drops: u32,
    dirty: bool,
}

impl Frame {
    fn new(at: usize, is_map: bool, len: usize) -> Frame {
        Frame {
            at,
            is_map,
            left: len,
            index: 0,
            drops: 0,
            dirty: false,
        }
    }
}

/// What a scan counts, besides what the rules changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Removed {
    /// Fields outside the allow list.
    pub not_allowed: u64,
    /// Fields on the drop list.
    pub dropped: u64,
}

impl std::ops::AddAssign for Removed {
    fn add_assign(&mut self, other: Removed) {
        self.not_allowed += other.not_allowed;
        self.dropped += other.dropped;
    }
}

/// Decides what the key lists remove from the map `root` reads and what
/// the rules change in what stays, counting both in `tally`, reading the
/// whole map. A body is checked as this reads it (it is the only walk of
/// it): the error is the runtime's to report, and nothing decided before
/// it is counted.
pub fn scan<'a>(
    root: &mut ValueReader<'a>,
    rules: &RuleSet,
    keys: &KeyPolicy,
    metadata: bool,
    tally: &mut Tally,
    scratch: &mut Scratch,
) -> Result<Plan, DecodeError> {
    // The path's buffer is kept between records; it holds steps borrowed
    // from this record only while this scan runs. (Collecting an empty
    // vector into one of another lifetime keeps its allocation; the test
    // `a_scan_reuses_its_buffers` holds std to that.)
    let mut path: Vec<PathStep<'_>> = std::mem::take(&mut scratch.path)
        .into_iter()
        .map(|_| PathStep::Other)
        .collect();
    scratch.changes.clear();
    scratch.removed = Removed::default();
    let plan = scan_inner(root, rules, keys, metadata, scratch, &mut path);
    path.clear();
    scratch.path = path.into_iter().map(|_| PathStep::Other).collect();
    scratch.frames.clear();
    // Counted only once the whole map was read: a record that turns out
    // malformed is dropped with its decisions, and so are its counts.
    if plan.is_ok() {
        for &i in &scratch.changes {
            tally.changed[i] += 1;
        }
        tally.removed += scratch.removed;
    }
    plan
}

/// What scans counted: `changed[i]`, the fields rule `i` changed;
/// `removed`, those the key lists removed.
#[derive(Debug, Default)]
pub struct Tally {
    pub changed: Vec<u64>,
    pub removed: Removed,
}

/// Buffers a scan needs, kept from record to record so that a scan
/// allocates nothing unless it finds something.
#[derive(Default)]
pub struct Scratch {
    frames: Vec<Frame>,
    path: Vec<PathStep<'static>>,
    /// The active rules where some rule names the path.
    merged: Vec<usize>,
    /// This scan's counts, added to the tally when it succeeds: the rule
    /// of every change, in order (few records change anything), and what
    /// the key lists removed.
    changes: Vec<usize>,
    removed: Removed,
}

fn scan_inner<'a>(
    r: &mut ValueReader<'a>,
    rules: &RuleSet,
    keys: &KeyPolicy,
    metadata: bool,
    scratch: &mut Scratch,
    path: &mut Vec<PathStep<'a>>,
) -> Result<Plan, DecodeError> {
    let mut plan = Plan::default();
    let Token::Map(n) = r.read_token()? else {
        return Ok(plan);
    };
    let Scratch {
        frames,
        merged,
        changes: changed,
        removed,
        ..
    } = scratch;
    // Whether a named rule's path may start at the current top-level
    // entry: its key is looked up once, and nothing under it is compared
    // with the named paths when it cannot.
    let mut named_entry = false;
    // The innermost container is kept apart from the stack of those
    // holding it, in registers rather than in the vector's memory: every
    // value reads and updates it.
    frames.clear();
    let mut top = Frame::new(0, true, n);
    loop {
        if top.left == 0 {
            let Some(parent) = frames.pop() else {
                // The root map is done.
                if top.dirty {
                    plan.dirty.push((top.at, top.drops));
                }
                break;
            };
            let done = std::mem::replace(&mut top, parent);
            if done.dirty {
                plan.dirty.push((done.at, done.drops));
                top.dirty = true;
            }
            path.pop();
            continue;
        }
        top.left -= 1;
        let at = (top.at, top.index);
        top.index += 1;
        path.push(if top.is_map {
            match r.read_value()? {
                Value::Str(s) => PathStep::Key(s.as_bytes()),
                _ => PathStep::Other,
            }
        } else {
            PathStep::Index(at.1 as usize)
        });
        if let [step] = path.as_slice() {
            named_entry = match step {
                PathStep::Key(k) => rules.named_may_start(metadata, k),
                _ => !rules.named(metadata).is_empty(),
            };
        }
        let named_here = named_entry
            && rules
                .named(metadata)
                .iter()
                .any(|&i| applies(&rules[i], path, metadata));
        let (active, finds, builtins): (&[usize], bool, Option<u8>) = if named_here {
            merged.clear();
            merged.extend((0..rules.len()).filter(|&i| applies(&rules[i], path, metadata)));
            (
                merged,
                merged.iter().all(|&i| rules[i].find.is_some()),
                None,
            )
        } else {
            (
                rules.everywhere(metadata),
                rules.everywhere_finds(metadata),
                rules.everywhere_builtins(metadata),
            )
        };
        let active = Active {
            rules: active,
            finds,
            builtins,
        };
        let whole = named_here && !active.finds;
        let verdict = if keys.is_active() {
            keys.verdict(path, metadata)
        } else {
            Verdict::Keep
        };
        let edit = if let Verdict::Remove { not_allowed } = verdict {
            r.skip()?;
            Some(removal(keys, not_allowed, removed))
        } else if whole {
            // A whole-value rule takes the value as it is, container or not.
            let v = r.read_value()?;
            decide(&v, rules, &active, changed)
        } else if active.rules.is_empty()
            && verdict == Verdict::Keep
            && !wants_descent(rules, path, metadata)
            && !keys.targets_below(path, metadata)
        {
            r.skip()?;
            None
        } else {
            let header = r.position();
            match r.read_token()? {
                // Nothing allowed can be under a scalar: it goes.
                Token::Scalar(_) if verdict == Verdict::Descend => {
                    Some(removal(keys, true, removed))
                }
                Token::Scalar(v) if !active.rules.is_empty() => decide(&v, rules, &active, changed),
                Token::Scalar(_) => None,
                // Descend: the path step stays until the frame is done.
                // (On the way to an allowed path, only what leads there
                // will stay of it.)
                Token::Map(n) => {
                    frames.push(std::mem::replace(&mut top, Frame::new(header, true, n)));
                    continue;
                }
                Token::Array(n) => {
                    frames.push(std::mem::replace(&mut top, Frame::new(header, false, n)));
                    continue;
                }
            }
        };
        path.pop();
        if let Some(e) = edit {
            if e == Edit::Drop {
                top.drops += 1;
            }
            top.dirty = true;
            plan.edits.push((at, e));
        }
    }
    plan.edits.sort_unstable_by_key(|(k, _)| *k);
    plan.dirty.sort_unstable_by_key(|(k, _)| *k);
    Ok(plan)
}

/// The edit for a field the key lists remove, counted.
fn removal(keys: &KeyPolicy, not_allowed: bool, removed: &mut Removed) -> Edit {
    if not_allowed {
        removed.not_allowed += 1;
    } else {
        removed.dropped += 1;
    }
    match &keys.removal {
        Some(Removal::Mask(text)) if not_allowed => Edit::Replace(text.clone()),
        _ => Edit::Drop,
    }
}

/// `n` in decimal, written into `buf` (no allocation per integer).
fn decimal(buf: &mut [u8; 21], mut n: u64, negative: bool) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if negative {
        i -= 1;
        buf[i] = b'-';
    }
    std::str::from_utf8(&buf[i..]).unwrap_or_default()
}

/// The rules that look at one value.
struct Active<'r> {
    /// Their indexes, in order.
    rules: &'r [usize],
    /// Whether all are detectors.
    finds: bool,
    /// When all are built-in detectors, their bits.
    builtins: Option<u8>,
}

/// Applies the active rules, in order, to one value.
fn decide(
    value: &Value<'_>,
    rules: &[Rule],
    active: &Active<'_>,
    changed: &mut Vec<usize>,
) -> Option<Edit> {
    if matches!(value, Value::Map(_) | Value::Array(_)) {
        // Only a whole-value rule takes a map or array as it is; detectors
        // look at the strings inside, one by one.
        let &i = active.rules.iter().find(|&&i| rules[i].find.is_none())?;
        changed.push(i);
        return Some(match &rules[i].action {
            Action::DropField => Edit::Drop,
            a => Edit::Replace(
                a.replacement(&flb_rs_sdk::json::to_string(value).unwrap_or_default()),
            ),
        });
    }
    // An integer of fewer than 13 digits holds nothing a detector finds
    // (only a card number is digits alone); most integers are that.
    let detectable = match value {
        Value::Str(_) => true,
        Value::Int(n) => n.unsigned_abs() >= 1_000_000_000_000,
        Value::UInt(n) => *n >= 1_000_000_000_000,
        _ => false,
    };
    // Only detectors here, and nothing for them: no text is made.
    if !detectable && active.finds {
        return None;
    }
    // A string no detector could find anything in (most of them) is not
    // even checked for UTF-8.
    let mut possible: Option<Possible> = None;
    if let Value::Str(s) = value {
        let p = Possible::of_bytes(s.as_bytes());
        let none_may = || match active.builtins {
            Some(bits) => !p.any(bits),
            None => active
                .rules
                .iter()
                .all(|&i| rules[i].find.as_ref().is_some_and(|d| !d.may_match(p))),
        };
        if active.finds && none_may() {
            return None;
        }
        possible = Some(p);
    }
    let mut digits = [0u8; 21];
    let original: Cow<'_, str> = match value {
        Value::Str(s) => s.to_str_lossy(),
        Value::Int(n) => decimal(&mut digits, n.unsigned_abs(), *n < 0).into(),
        Value::UInt(n) => decimal(&mut digits, *n, false).into(),
        // Floats, booleans, nil, binary: only a whole-value rule changes them.
        Value::F32(f) => f.to_string().into(),
        Value::F64(f) => f.to_string().into(),
        Value::Bool(b) => b.to_string().into(),
        Value::Nil => "null".into(),
        Value::Bin(_) | Value::Ext(..) | Value::Map(_) | Value::Array(_) => "".into(),
    };
    let mut text: Option<String> = None;
    for &i in active.rules {
        let rule = &rules[i];
        let current = text.as_deref().unwrap_or(&original);
        let ranges = match &rule.find {
            None => std::iter::once(0..current.len()).collect(),
            Some(_) if !detectable => continue,
            Some(d) => {
                // One pass over the bytes for all rules, taken again after
                // a rule changed the text: most detectors are ruled out
                // there and never run.
                let p = *possible.get_or_insert_with(|| Possible::of_bytes(current.as_bytes()));
                if !d.may_match(p) {
                    continue;
                }
                d.find(current)
            }
        };
        if ranges.is_empty() {
            continue;
        }
        changed.push(i);
        if rule.action == Action::DropField {
            return Some(Edit::Drop);
        }
        text = Some(redact(current, &ranges, &rule.action));
        possible = None;
    }
    text.map(Edit::Replace)
}

/// Writes `root` with the changes of `plan`, which must come from a scan of
/// this same `root`. Subtrees without a change are copied as raw bytes.
pub fn rewrite(root: &MapRef<'_>, plan: &Plan, w: &mut Writer) -> Result<(), DecodeError> {
    let raw = root.raw();
    let Some(root_drops) = plan.drops(0) else {
        w.raw(raw);
        return Ok(());
    };
    let mut r = Reader::new(raw);
    let Token::Map(n) = r.read_token()? else {
        w.raw(raw);
        return Ok(());
    };
    w.map_len(len32(n) - root_drops);
    // (header offset, is a map, values left, next index)
    let mut frames = vec![(0usize, true, n, 0u32)];
    while let Some((at, is_map, left, index)) = frames.last_mut() {
        if *left == 0 {
            frames.pop();
            continue;
        }
        *left -= 1;
        let here = (*at, *index);
        *index += 1;
        let key = if *is_map { Some(r.skip()?) } else { None };
        match plan.edit(here) {
            Some(Edit::Drop) => {
                r.skip()?;
            }
            Some(Edit::Replace(s)) => {
                key.into_iter().for_each(|k| w.raw(k));
                w.str(s);
                r.skip()?;
            }
            None => {
                key.into_iter().for_each(|k| w.raw(k));
                let header = r.position();
                match plan.drops(header) {
                    None => w.raw(r.skip()?),
                    Some(drops) => match r.read_token()? {
                        Token::Map(n) => {
                            w.map_len(len32(n) - drops);
                            frames.push((header, true, n, 0));
                        }
                        Token::Array(n) => {
                            w.array_len(len32(n) - drops);
                            frames.push((header, false, n, 0));
                        }
                        Token::Scalar(v) => w.value(&v),
                    },
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use flb_rs_sdk::json;

    /// Scans and rewrites the encoded map `bytes`: (output, changed per rule).
    fn apply(rules: &[Rule], bytes: &[u8]) -> (Vec<u8>, Vec<u64>) {
        let rules = &RuleSet::new(rules.to_vec());
        let Value::Map(root) = Value::from_slice(bytes).unwrap() else {
            panic!("not a map")
        };
        let mut tally = Tally {
            changed: vec![0; rules.len()],
            removed: Removed::default(),
        };
        let mut scratch = Scratch::default();
        let plan = scan(
            &mut ValueReader::new(root.raw()),
            rules,
            &KeyPolicy::default(),
            false,
            &mut tally,
            &mut scratch,
        )
        .unwrap();
        let Tally { changed, removed } = tally;
        assert_eq!(removed, Removed::default());
        let mut out = Writer::new();
        rewrite(&root, &plan, &mut out).unwrap();
        if plan.is_empty() {
            assert_eq!(out.as_bytes(), bytes, "no change: the same bytes");
        }
        (out.into_bytes(), changed)
    }

    /// Redacts the map that `build` writes; the result as JSON.
    fn redact_json(rules: &[&str], build: impl FnOnce(&mut Writer)) -> (String, Vec<u64>) {
        let rules: Vec<Rule> = rules
            .iter()
            .map(|r| Rule::parse(r, Some("k")).unwrap())
            .collect();
        let mut w = Writer::new();
        build(&mut w);
        let (out, changed) = apply(&rules, &w.into_bytes());
        let v = Value::from_slice(&out).expect("valid msgpack out");
        (json::to_string(&v).unwrap(), changed)
    }

    #[test]
    fn integers_are_written_in_decimal_without_allocating() {
        let mut buf = [0u8; 21];
        assert_eq!(decimal(&mut buf, 0, false), "0");
        assert_eq!(decimal(&mut buf, 415, false), "415");
        assert_eq!(decimal(&mut buf, u64::MAX, false), u64::MAX.to_string());
        assert_eq!(
            decimal(&mut buf, i64::MIN.unsigned_abs(), true),
            i64::MIN.to_string()
        );
    }

    #[test]
    fn nested_strings_in_maps_and_arrays() {
        let (out, changed) = redact_json(&["e detector=email"], |w| {
            w.map(|m| {
                m.str("msg", "mail bob@example.com now");
                m.uint("n", 7);
                m.map("user", |u| {
                    u.str("email", "alice@example.org");
                    u.array("alt", |a| {
                        a.str("x@y.io");
                        a.str("not an address");
                    });
                });
            })
        });
        assert_eq!(
            out,
            r#"{"msg":"mail [REDACTED] now","n":7,"user":{"email":"[REDACTED]","alt":["[REDACTED]","not an address"]}}"#
        );
        assert_eq!(changed, [3]);
    }

    #[test]
    fn paths_limit_a_rule() {
        let (out, changed) = redact_json(
            &["e fields=$user['email'],note detector=email action=keep_last:3"],
            |w| {
                w.map(|m| {
                    m.str("msg", "bob@example.com");
                    m.str("note", "to ann@example.com");
                    m.map("user", |u| {
                        u.str("email", "alice@example.org");
                        u.str("other", "eve@example.org");
                    });
                })
            },
        );
        assert_eq!(
            out,
            r#"{"msg":"bob@example.com","note":"to ************com","user":{"email":"**************org","other":"eve@example.org"}}"#
        );
        assert_eq!(changed, [2]);
    }

    #[test]
    fn drop_removes_entries_and_items() {
        let (out, _) = redact_json(
            &[
                "pw fields=password,$auth['token'] action=drop",
                "ip detector=ipv4 action=drop",
            ],
            |w| {
                w.map(|m| {
                    m.str("password", "hunter2");
                    m.str("keep", "yes");
                    m.map("auth", |a| {
                        a.str("token", "t0k");
                        a.str("user", "u");
                    });
                    m.array("peers", |a| {
                        a.str("10.0.0.1");
                        a.str("host-a");
                        a.str("at 192.168.1.2");
                    });
                })
            },
        );
        assert_eq!(
            out,
            r#"{"keep":"yes","auth":{"user":"u"},"peers":["host-a"]}"#
        );
    }

    #[test]
    fn whole_value_rules_take_containers_and_scalars() {
        let (out, changed) = redact_json(
            &[
                "secret fields=creds,pin action=mask:***",
                "h fields=$who action=hash",
            ],
            |w| {
                w.map(|m| {
                    m.map("creds", |c| c.str("user", "root"));
                    m.uint("pin", 1234);
                    m.str("who", "alice");
                    m.str("other", "x");
                })
            },
        );
        let h = Action::Hash(Box::new(crate::action::HashKey::new(b"k"))).replacement("alice");
        assert_eq!(
            out,
            format!(r#"{{"creds":"***","pin":"***","who":"{h}","other":"x"}}"#)
        );
        assert_eq!(changed, [2, 1]);
    }

    #[test]
    fn rules_apply_in_order_to_the_changed_text() {
        let (out, changed) = redact_json(
            &[
                "e detector=email action=mask:<email>",
                "m action=mask:E regex=<(email)>",
            ],
            |w| w.map(|m| m.str("msg", "a@b.io and c@d.io")),
        );
        assert_eq!(out, r#"{"msg":"<E> and <E>"}"#);
        assert_eq!(changed, [1, 1]);
    }

    #[test]
    fn integers_are_checked_as_digits() {
        let (out, _) = redact_json(&["c detector=card action=keep_last:4"], |w| {
            w.map(|m| {
                m.uint("pan", 4111111111111111);
                m.uint("order", 4111111111111112);
                m.int("neg", -5);
            })
        });
        assert_eq!(
            out,
            r#"{"pan":"************1111","order":4111111111111112,"neg":-5}"#
        );
    }

    #[test]
    fn nothing_found_means_no_plan() {
        let (out, changed) = redact_json(&["e detector=email", "c detector=card"], |w| {
            w.map(|m| {
                m.str("msg", "user at example dot com, order 1234 5678 9012 3456");
                m.map("deep", |d| d.array("a", |a| a.str("@@")));
            })
        });
        assert_eq!(
            out,
            r#"{"msg":"user at example dot com, order 1234 5678 9012 3456","deep":{"a":["@@"]}}"#
        );
        assert_eq!(changed, [0, 0]);
    }

    /// The filter keeps one `Scratch` for all its records: after the
    /// first scan, scans reuse its buffers. The path's buffer changes its
    /// element lifetime between scans by collecting in place (std keeps
    /// the allocation for a same-layout `map`, but does not promise it):
    /// this test fails if that ever stops.
    #[test]
    fn a_scan_reuses_its_buffers() {
        let rules = &RuleSet::new(vec![Rule::parse("e detector=email", Some("k")).unwrap()]);
        let mut w = Writer::new();
        w.map(|m| {
            m.map("a", |a| {
                a.map("b", |b| b.array("c", |c| c.str("x@example.com")))
            });
        });
        let bytes = w.into_bytes();
        let Value::Map(root) = Value::from_slice(&bytes).unwrap() else {
            panic!("not a map")
        };
        let mut tally = Tally {
            changed: vec![0; 1],
            removed: Removed::default(),
        };
        let mut scratch = Scratch::default();
        let keys = &KeyPolicy::default();
        let scan_root = |tally: &mut Tally, scratch: &mut Scratch| {
            let mut r = ValueReader::new(root.raw());
            scan(&mut r, rules, keys, false, tally, scratch).unwrap();
            assert!(r.is_complete(), "the scan read the whole map");
        };
        scan_root(&mut tally, &mut scratch);
        let buffers = |s: &Scratch| (s.path.as_ptr(), s.path.capacity(), s.frames.as_ptr());
        let first = buffers(&scratch);
        assert!(first.1 >= 3, "the path buffer was kept");
        for _ in 0..3 {
            scan_root(&mut tally, &mut scratch);
            assert_eq!(buffers(&scratch), first);
        }
        assert_eq!(tally.changed, [4]);
    }

    #[test]
    fn invalid_utf8_is_untouched_unless_something_is_found() {
        let rules = [Rule::parse("e detector=email", None).unwrap()];
        for (bytes, want) in [
            (&b"no match \xff here"[..], None),
            (&b"\xff bob@example.com"[..], Some("\u{fffd} [REDACTED]")),
        ] {
            let mut w = Writer::new();
            w.map_len(1);
            w.str("msg");
            w.str_bytes(bytes);
            let (out, _) = apply(&rules, &w.into_bytes());
            let v = Value::from_slice(&out).unwrap();
            let got = v.as_map().unwrap().get("msg").unwrap().as_str().unwrap();
            match want {
                None => assert_eq!(got.as_bytes(), bytes),
                Some(w) => assert_eq!(got.to_str().unwrap(), w),
            }
        }
    }

    #[test]
    fn deep_nesting_uses_no_stack() {
        // A million nested arrays with an address at the bottom: walked and
        // rewritten on a 64 KiB thread, so neither pass recurses.
        let depth = 1_000_000;
        let mut w = Writer::new();
        w.map_len(1);
        w.str("a");
        for _ in 0..depth {
            w.array_len(1);
        }
        w.str("bob@example.com");
        let buf = w.into_bytes();
        // Compiling a regex is not what is measured: done out here.
        let rules = [Rule::parse("e detector=email", None).unwrap()];
        let out = std::thread::Builder::new()
            .stack_size(64 << 10)
            .spawn(move || apply(&rules, &buf))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(out.1, [1]);
        let tail = b"\xaa[REDACTED]";
        assert!(out.0.ends_with(tail));
        assert_eq!(out.0.len(), 3 + depth + tail.len());
    }
}
