//! Which fields a record may keep, whatever their values: an allow list
//! (as OpenTelemetry's redaction processor's `allowed_keys`: only the
//! listed fields stay, every other one is removed) and a list of fields
//! always removed. Each for the body and the metadata apart. The rules then
//! apply to what stays.
//!
//! Entries are top-level keys or record accessor paths
//! (`$kubernetes['labels']`). An allowed path keeps its value whole, with
//! everything under it; the maps and arrays on the way to it are kept as
//! containers holding only what leads to allowed paths. A field both
//! allowed and listed to drop is dropped.

use flb_rs_sdk::accessor::{RecordAccessor, Step};

/// The paths of one list.
type Paths = Vec<Vec<Step>>;

/// What happens to a field removed by the key lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removal {
    /// The field goes, key and value.
    Drop,
    /// The key stays; its value becomes this text.
    Mask(String),
}

/// The key lists of one filter instance.
#[derive(Debug, Clone, Default)]
pub struct KeyPolicy {
    allow_body: Option<Paths>,
    allow_metadata: Option<Paths>,
    drop_body: Paths,
    drop_metadata: Paths,
    pub removal: Option<Removal>,
}

/// The key lists' verdict on the field at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Kept; the rules decide about its value.
    Keep,
    /// Not allowed itself, but an allowed path lies below it: kept as a
    /// container of what is allowed (removed if it is not a container).
    Descend,
    /// Removed: not allowed (`true`), or listed to drop (`false`).
    Remove { not_allowed: bool },
}

/// One step of the path of the field being looked at (a key, an array
/// index, or a key that is not a string, which no path can name).
#[derive(Clone, Copy)]
pub enum PathStep<'a> {
    Key(&'a [u8]),
    Index(usize),
    Other,
}

/// Whether `path` is `target` or lies under it.
pub fn under(path: &[PathStep<'_>], target: &[Step]) -> bool {
    target.len() <= path.len()
        && target.iter().zip(path).all(|(t, p)| match (t, p) {
            (Step::Key(k), PathStep::Key(b)) => k.as_bytes() == *b,
            (Step::Index(i), PathStep::Index(j)) => i == j,
            _ => false,
        })
}

/// Whether `target` lies strictly under `path`.
pub fn leads_to(path: &[PathStep<'_>], target: &[Step]) -> bool {
    target.len() > path.len() && under(path, &target[..path.len()])
}

fn parse_list(what: &str, list: Option<&str>) -> Result<Option<Paths>, String> {
    let Some(list) = list else {
        return Ok(None);
    };
    let mut paths = Vec::new();
    for item in split_paths(list) {
        let item = item.trim();
        if item.is_empty() {
            return Err(format!("{what} '{list}': an empty entry"));
        }
        let ra = RecordAccessor::parse(item).map_err(|e| format!("{what}: {e}"))?;
        paths.push(ra.steps().to_vec());
    }
    Ok(Some(paths))
}

/// Splits at commas outside brackets (`$a['x,y']` is one path).
pub(crate) fn split_paths(list: &str) -> Vec<&str> {
    let (mut depth, mut start, mut items) = (0usize, 0, Vec::new());
    for (i, c) in list.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                items.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&list[start..]);
    items
}

impl KeyPolicy {
    /// From the configuration's lists (`None`: not given) and what to do
    /// with fields not allowed: `drop` or `mask[:TEXT]`.
    pub fn parse(
        allow_keys: Option<&str>,
        metadata_allow_keys: Option<&str>,
        drop_keys: Option<&str>,
        metadata_drop_keys: Option<&str>,
        not_allowed: &str,
    ) -> Result<KeyPolicy, String> {
        let mut p = KeyPolicy {
            allow_body: parse_list("allow_keys", allow_keys)?,
            allow_metadata: parse_list("metadata_allow_keys", metadata_allow_keys)?,
            drop_body: parse_list("drop_keys", drop_keys)?.unwrap_or_default(),
            drop_metadata: parse_list("metadata_drop_keys", metadata_drop_keys)?
                .unwrap_or_default(),
            removal: None,
        };
        let removal = match not_allowed.trim() {
            "drop" => Removal::Drop,
            "mask" => Removal::Mask(crate::action::DEFAULT_MASK.into()),
            m => match m.strip_prefix("mask:") {
                Some(text) => Removal::Mask(text.to_string()),
                None => {
                    return Err(format!(
                        "not_allowed '{m}': expected drop, mask or mask:TEXT"
                    ))
                }
            },
        };
        if p.is_active() {
            p.removal = Some(removal);
        }
        Ok(p)
    }

    /// Whether any list is set.
    pub fn is_active(&self) -> bool {
        self.allow_body.is_some()
            || self.allow_metadata.is_some()
            || !self.drop_body.is_empty()
            || !self.drop_metadata.is_empty()
    }

    fn lists(&self, metadata: bool) -> (Option<&Paths>, &Paths) {
        if metadata {
            (self.allow_metadata.as_ref(), &self.drop_metadata)
        } else {
            (self.allow_body.as_ref(), &self.drop_body)
        }
    }

    /// The verdict on the field at `path`, whose parent was kept (not
    /// removed, and allowed unless it is on the way to an allowed path).
    pub fn verdict(&self, path: &[PathStep<'_>], metadata: bool) -> Verdict {
        let (allow, drop) = self.lists(metadata);
        // A dropped path is exact: the field itself (and so what is under
        // it), not its parent.
        if drop.iter().any(|t| t.len() == path.len() && under(path, t)) {
            return Verdict::Remove { not_allowed: false };
        }
        match allow {
            None => Verdict::Keep,
            Some(a) if a.iter().any(|t| under(path, t)) => Verdict::Keep,
            Some(a) if a.iter().any(|t| leads_to(path, t)) => Verdict::Descend,
            Some(_) => Verdict::Remove { not_allowed: true },
        }
    }

    /// Whether a list names something under `path`, so that the walk must
    /// look inside its value.
    pub fn targets_below(&self, path: &[PathStep<'_>], metadata: bool) -> bool {
        let (_, drop) = self.lists(metadata);
        drop.iter().any(|t| leads_to(path, t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &'static str) -> PathStep<'static> {
        PathStep::Key(s.as_bytes())
    }

    #[test]
    fn allowed_paths_their_ancestors_and_the_rest() {
        let p = KeyPolicy::parse(
            Some("message, $kubernetes['labels'], $items[0]"),
            None,
            Some("$kubernetes['labels']['secret']"),
            None,
            "drop",
        )
        .unwrap();
        assert_eq!(p.verdict(&[key("message")], false), Verdict::Keep);
        assert_eq!(p.verdict(&[key("kubernetes")], false), Verdict::Descend);
        assert_eq!(
            p.verdict(&[key("kubernetes"), key("pod")], false),
            Verdict::Remove { not_allowed: true }
        );
        assert_eq!(
            p.verdict(&[key("kubernetes"), key("labels"), key("app")], false),
            Verdict::Keep
        );
        assert_eq!(
            p.verdict(&[key("kubernetes"), key("labels"), key("secret")], false),
            Verdict::Remove { not_allowed: false }
        );
        assert!(p.targets_below(&[key("kubernetes"), key("labels")], false));
        assert_eq!(
            p.verdict(&[key("items"), PathStep::Index(0)], false),
            Verdict::Keep
        );
        assert_eq!(
            p.verdict(&[key("items"), PathStep::Index(1)], false),
            Verdict::Remove { not_allowed: true }
        );
        assert_eq!(
            p.verdict(&[PathStep::Other], false),
            Verdict::Remove { not_allowed: true }
        );
        // The metadata has no list: everything stays.
        assert_eq!(p.verdict(&[key("anything")], true), Verdict::Keep);
    }

    #[test]
    fn drop_keys_alone_keep_everything_else() {
        let p =
            KeyPolicy::parse(None, None, Some("password,$http['cookie']"), None, "drop").unwrap();
        assert_eq!(
            p.verdict(&[key("password")], false),
            Verdict::Remove { not_allowed: false }
        );
        assert_eq!(p.verdict(&[key("user")], false), Verdict::Keep);
        assert_eq!(p.verdict(&[key("http")], false), Verdict::Keep);
        assert!(p.targets_below(&[key("http")], false));
        assert_eq!(
            p.verdict(&[key("http"), key("cookie")], false),
            Verdict::Remove { not_allowed: false }
        );
        assert_eq!(p.removal, Some(Removal::Drop));
    }

    #[test]
    fn masks_and_errors() {
        let p = KeyPolicy::parse(Some("a"), None, None, None, "mask").unwrap();
        assert_eq!(p.removal, Some(Removal::Mask("[REDACTED]".into())));
        let p = KeyPolicy::parse(None, Some("a"), None, None, "mask:[gone]").unwrap();
        assert_eq!(p.removal, Some(Removal::Mask("[gone]".into())));
        assert!(KeyPolicy::parse(None, None, None, None, "drop")
            .unwrap()
            .removal
            .is_none());
        let e = KeyPolicy::parse(Some("a"), None, None, None, "hide").unwrap_err();
        assert!(e.starts_with("not_allowed 'hide'"), "{e}");
        let e = KeyPolicy::parse(Some("a,,b"), None, None, None, "drop").unwrap_err();
        assert!(e.contains("an empty entry"), "{e}");
        let e = KeyPolicy::parse(None, None, Some("$bad["), None, "drop").unwrap_err();
        assert!(e.starts_with("drop_keys"), "{e}");
    }
}
