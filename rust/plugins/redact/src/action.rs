//! What to put instead of what was found.

use std::ops::Range;

use openssl::sha::Sha256;

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
    Hash(Box<HashKey>),
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
                Some(k) if !k.is_empty() => Ok(Action::Hash(Box::new(HashKey::new(k.as_bytes())))),
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
            Action::Hash(key) => format!("[h:{}]", key.token(found)),
            Action::DropField => String::new(),
        }
    }
}

/// The `hash_key`, prepared once: HMAC-SHA256 (RFC 2104) with the key's
/// inner and outer pads already hashed, so that each value costs two
/// copies of a SHA-256 state and no allocation or key setup.
#[derive(Clone)]
pub struct HashKey {
    inner: Sha256,
    outer: Sha256,
    /// SHA-256 of the key, to compare keys without keeping them.
    id: [u8; 32],
}

impl HashKey {
    /// HMAC's block size for SHA-256.
    const BLOCK: usize = 64;

    /// Prepares `key` (any length).
    pub fn new(key: &[u8]) -> HashKey {
        // A key longer than a block is hashed first (RFC 2104).
        let mut block = [0u8; Self::BLOCK];
        if key.len() > Self::BLOCK {
            block[..32].copy_from_slice(&openssl::sha::sha256(key));
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let pad = |byte: u8| {
            let mut h = Sha256::new();
            h.update(&block.map(|b| b ^ byte));
            h
        };
        HashKey {
            inner: pad(0x36),
            outer: pad(0x5c),
            id: openssl::sha::sha256(key),
        }
    }

    /// HMAC-SHA256 of `value`.
    fn mac(&self, value: &[u8]) -> [u8; 32] {
        let mut inner = self.inner.clone();
        inner.update(value);
        let mut outer = self.outer.clone();
        outer.update(&inner.finish());
        outer.finish()
    }

    /// The first 16 hex digits of the MAC.
    fn token(&self, value: &str) -> String {
        use std::fmt::Write;
        let mac = self.mac(value.as_bytes());
        mac.iter()
            .take(8)
            .fold(String::with_capacity(16), |mut s, b| {
                let _ = write!(s, "{b:02x}");
                s
            })
    }
}

impl std::fmt::Debug for HashKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HashKey(..)")
    }
}

impl PartialEq for HashKey {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for HashKey {}

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
        let h = redact(text, &r, &Action::Hash(Box::new(HashKey::new(b"k1"))));
        assert_eq!(
            h,
            redact(text, &r, &Action::Hash(Box::new(HashKey::new(b"k1")))),
            "same value, same token"
        );
        assert_ne!(
            h,
            redact(text, &r, &Action::Hash(Box::new(HashKey::new(b"k2")))),
            "another key, another token"
        );
        assert!(
            h.starts_with("card [h:")
                && h.ends_with("] end")
                && h.len() == "card [h:] end".len() + 16
        );
    }

    /// RFC 4231's test cases 1 (short key) and 6 (a key longer than a
    /// block), and OpenSSL's own HMAC on a key of exactly one block.
    #[test]
    fn the_prepared_key_gives_hmac_sha256() {
        let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(
            hex(&HashKey::new(&[0x0b; 20]).mac(b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            hex(&HashKey::new(&[0xaa; 131])
                .mac(b"Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        let key = [7u8; 64];
        let pkey = openssl::pkey::PKey::hmac(&key).unwrap();
        let mut s =
            openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &pkey).unwrap();
        s.update(b"alice").unwrap();
        assert_eq!(
            HashKey::new(&key).mac(b"alice").to_vec(),
            s.sign_to_vec().unwrap()
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
