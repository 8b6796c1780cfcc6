//! What to put instead of what was found.

use std::ops::Range;

use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;

/// The text that `mask` puts in place of what was found.
pub const DEFAULT_MASK: &str = "[REDACTED]";

/// A replacement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A fixed text.
    Mask(String),
    /// Keep the last `n` characters, mask the others with `*`.
    KeepLast(usize),
    /// A keyed hash (HMAC-SHA256, first 16 hex digits): the same value always
    /// gives the same token, so records stay correlatable, and without the
    /// key the value cannot be guessed by hashing candidates.
    Hash(Vec<u8>),
    /// Remove the whole field.
    DropField,
}

impl Action {
    /// Parses `mask`, `mask:TEXT`, `keep_last:N`, `hash` or `drop`;
    /// `hash_key` is the secret for `hash`.
    pub fn parse(s: &str, hash_key: Option<&str>) -> Result<Action, String> {
        let (name, arg) = match s.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (s, None),
        };
        match (name.trim().to_ascii_lowercase().as_str(), arg) {
            ("mask", None) => Ok(Action::Mask(DEFAULT_MASK.into())),
            ("mask", Some(t)) => Ok(Action::Mask(t.to_string())),
            ("keep_last", Some(n)) => n
                .trim()
                .parse()
                .map(Action::KeepLast)
                .map_err(|_| format!("keep_last:{n}: expected a number of characters")),
            ("hash", None) => match hash_key {
                Some(k) if !k.is_empty() => Ok(Action::Hash(k.as_bytes().to_vec())),
                _ => Err("hash needs hash_key to be set".to_string()),
            },
            ("drop", None) => Ok(Action::DropField),
            _ => Err(format!(
                "unknown action '{s}' (mask, mask:TEXT, keep_last:N, hash, drop)"
            )),
        }
    }

    /// The replacement for one found value.
    pub fn replacement(&self, found: &str) -> String {
        match self {
            Action::Mask(t) => t.clone(),
            Action::KeepLast(n) => {
                let count = found.chars().count();
                let keep = (*n).min(count);
                let mut out: String = "*".repeat(count - keep);
                out.extend(found.chars().skip(count - keep));
                out
            }
            Action::Hash(key) => format!("[h:{}]", keyed_hash(key, found)),
            Action::DropField => String::new(),
        }
    }
}

fn keyed_hash(key: &[u8], value: &str) -> String {
    let mac = PKey::hmac(key)
        .and_then(|k| {
            let mut s = Signer::new(MessageDigest::sha256(), &k)?;
            s.update(value.as_bytes())?;
            s.sign_to_vec()
        })
        // HMAC-SHA256 over memory cannot fail; if OpenSSL ever says so, the
        // value is still not leaked.
        .unwrap_or_default();
    mac.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// `text` with each range replaced by what `action` makes of it.
pub fn redact(text: &str, ranges: &[Range<usize>], action: &Action) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for r in ranges {
        out.push_str(&text[at..r.start]);
        out.push_str(&action.replacement(&text[r.clone()]));
        at = r.end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_replace_as_configured() {
        let text = "card 4111111111111111 end";
        let r = vec![std::ops::Range { start: 5, end: 21 }];
        assert_eq!(
            redact(text, &r, &Action::Mask("[REDACTED]".into())),
            "card [REDACTED] end"
        );
        assert_eq!(
            redact(text, &r, &Action::KeepLast(4)),
            "card ************1111 end"
        );
        let h = redact(text, &r, &Action::Hash(b"k1".to_vec()));
        assert_eq!(
            h,
            redact(text, &r, &Action::Hash(b"k1".to_vec())),
            "same value, same token"
        );
        assert_ne!(
            h,
            redact(text, &r, &Action::Hash(b"k2".to_vec())),
            "another key, another token"
        );
        assert!(
            h.starts_with("card [h:")
                && h.ends_with("] end")
                && h.len() == "card [h:] end".len() + 16
        );
    }

    #[test]
    fn keep_last_counts_characters_not_bytes() {
        assert_eq!(Action::KeepLast(2).replacement("héllo"), "***lo");
        assert_eq!(Action::KeepLast(9).replacement("ab"), "ab");
    }

    #[test]
    fn parsing() {
        assert_eq!(
            Action::parse("mask:XXX", None),
            Ok(Action::Mask("XXX".into()))
        );
        assert_eq!(Action::parse("keep_last:4", None), Ok(Action::KeepLast(4)));
        assert_eq!(Action::parse("drop", None), Ok(Action::DropField));
        assert!(Action::parse("hash", None)
            .unwrap_err()
            .contains("hash_key"));
        assert!(Action::parse("keep_last:x", None).is_err());
        assert!(Action::parse("shred", None).is_err());
    }
}
