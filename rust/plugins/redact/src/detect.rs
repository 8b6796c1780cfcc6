//! What to find: built-in detectors and user regular expressions.
//!
//! The built-in detectors are hand-written scanners (`scan`), linear in the
//! input; those that a pattern alone cannot decide (card numbers need the
//! Luhn check, IPv6 addresses a real parse) confirm each candidate in code,
//! so random digit runs and hex-with-colons are not masked. User patterns
//! run on `regex-lite`, whose matching time is linear in the input whatever
//! the pattern: no input can make a rule backtrack into exponential time.

use std::ops::Range;

use memchr::memmem;

use crate::scan::{self, Hit};
pub use crate::screen::Traits;
use crate::screen::*;

/// A built-in detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// Payment card numbers: 13 to 19 digits, in one run or in groups
    /// (the first of four) joined by single spaces or dashes, that pass
    /// the Luhn check.
    Card,
    Email,
    Ipv4,
    Ipv6,
    /// JSON Web Tokens: three base64url parts, the first two JSON objects.
    Jwt,
    /// The token of an `Authorization: Bearer <token>` header, and HTTP
    /// Basic credentials (`Basic <base64 of user:password>`).
    Bearer,
    /// AWS access key ids (AKIA..., ASIA..., ...).
    AwsKeyId,
    /// The value of a secret key/value pair in text: `password=...`,
    /// `password: ...`, `"password": "..."`, `'password': '...'`, for the
    /// key words password, passwd, passphrase, pwd, secret, token,
    /// api_key/apikey/api-key, private_key, access_key and secret_key, alone or
    /// as the last word of a longer key (`DB_PASSWORD`, `client-secret`,
    /// `x.api_key`, `accessToken`).
    Password,
}

// Each built-in detector has a bit in a byte.
const _: () = assert!(Builtin::ALL.len() <= 8);

impl Builtin {
    /// Every built-in detector.
    pub const ALL: [Builtin; 8] = [
        Builtin::Card,
        Builtin::Email,
        Builtin::Ipv4,
        Builtin::Ipv6,
        Builtin::Jwt,
        Builtin::Bearer,
        Builtin::AwsKeyId,
        Builtin::Password,
    ];

    pub fn parse(name: &str) -> Result<Builtin, String> {
        Ok(match name.trim().to_ascii_lowercase().as_str() {
            "card" | "credit_card" | "pan" => Builtin::Card,
            "email" => Builtin::Email,
            "ipv4" => Builtin::Ipv4,
            "ipv6" => Builtin::Ipv6,
            "jwt" => Builtin::Jwt,
            "bearer" => Builtin::Bearer,
            "aws_key" | "aws_access_key_id" => Builtin::AwsKeyId,
            "password" => Builtin::Password,
            other => {
                return Err(format!(
                    "unknown detector '{other}' (card, email, ipv4, ipv6, jwt, bearer, aws_key, password)"
                ))
            }
        })
    }

    /// The scanner that finds this detector's candidates.
    fn scanner(self) -> fn(&str, &mut dyn FnMut(Hit)) {
        match self {
            Builtin::Card => scan::cards,
            Builtin::Email => scan::emails,
            Builtin::Ipv4 => scan::ipv4s,
            Builtin::Ipv6 => scan::ipv6s,
            Builtin::Jwt => scan::jwts,
            Builtin::Bearer => scan::bearer_tokens,
            Builtin::AwsKeyId => scan::aws_key_ids,
            Builtin::Password => scan::password_values,
        }
    }

    /// This detector's bit in a [`Possible`] set.
    pub fn bit(self) -> u8 {
        1 << self as u8
    }

    /// Whether a candidate the scanner found really is one.
    pub fn confirm(self, text: &str, found: Range<usize>) -> bool {
        let s = &text[found.clone()];
        match self {
            Builtin::Ipv6 => whole_token(self, text, found) && ipv6_address(s),
            Builtin::Ipv4 => whole_token(self, text, found),
            _ => true,
        }
    }
}

/// The built-in detectors that can match in one string, decided from its
/// [`Traits`]: what every match needs, by the detector's definition. Made
/// once per string and asked once per rule, so the gates are computed
/// once, without branches, for all detectors at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Possible(u8);

impl Possible {
    pub fn of(t: &Traits) -> Possible {
        let bit = |b: Builtin, yes: bool| u8::from(yes) << b as u8;
        // 13 digits or more, maybe joined by spaces or dashes.
        Possible(
            bit(Builtin::Card, t.long_run)
                | bit(Builtin::Email, t.has(SEEN_AT | SEEN_DOT))
                // Four numbers, three dots.
                | bit(Builtin::Ipv4, t.digits >= 4 && t.dots >= 3)
                // Eight groups (seven colons), or `::` for the missing ones.
                | bit(Builtin::Ipv6, t.colons >= 7 || t.pair(PAIR_COLONS))
                | bit(Builtin::Jwt, t.has(SEEN_DOT) && t.pair(PAIR_YJ))
                | bit(Builtin::Bearer, t.pair(PAIR_BE))
                | bit(Builtin::AwsKeyId, t.has(SEEN_UPPER_A) && t.len >= 20)
                // `key=`, `key:` / `"key" :`, or `://user:password@`.
                | bit(
                    Builtin::Password,
                    t.has(SEEN_EQ) || t.pair(PAIR_KEY_COLON | PAIR_COLON_SLASH),
                ),
        )
    }

    /// Of a string's bytes.
    pub fn of_bytes(text: &[u8]) -> Possible {
        Possible::of(&Traits::of(text))
    }

    /// Whether any of the detectors in `bits` (their [`Builtin::bit`]s)
    /// can match.
    pub fn any(self, bits: u8) -> bool {
        self.0 & bits != 0
    }
}

/// Whether `s` (an address, maybe with a `%zone`) parses as an IPv6
/// address in one letter case.
fn ipv6_address(s: &str) -> bool {
    let addr = s.split('%').next().unwrap_or("");
    // Eight groups, or `::` for the missing ones: anything else cannot
    // parse (clock times, hex dumps), so the parser is not asked.
    let colons = addr.bytes().filter(|&b| b == b':').count();
    if colons < 2 || (colons != 7 && !addr.contains("::")) {
        return false;
    }
    // Mixed case (`Cafe::Bad`) is a name, not an address.
    let upper = addr.bytes().any(|b| b.is_ascii_uppercase());
    let lower = addr.bytes().any(|b| b.is_ascii_lowercase());
    !(upper && lower) && addr.parse::<std::net::Ipv6Addr>().is_ok()
}

pub use crate::scan::{basic_credentials, luhn};

/// A compiled "what to find".
#[derive(Debug, Clone)]
pub enum Detector {
    Builtin(Builtin),
    Regex(Box<UserRegex>),
}

/// A user's pattern.
#[derive(Debug, Clone)]
pub struct UserRegex {
    re: regex_lite::Regex,
    /// Replace the first group (the pattern has one), or the whole match.
    first_group: bool,
    /// Text every match starts with, when the pattern says so plainly: a
    /// string without it is not searched.
    prefix: Option<memmem::Finder<'static>>,
}

impl Detector {
    pub fn builtin(b: Builtin) -> Detector {
        Detector::Builtin(b)
    }

    /// A user's regular expression; the whole match is replaced, or the
    /// first capture group when the pattern has one.
    pub fn regex(pattern: &str) -> Result<Detector, String> {
        let re = regex_lite::RegexBuilder::new(pattern)
            .size_limit(10 << 20)
            .build()
            .map_err(|e| format!("invalid regular expression: {e}"))?;
        Ok(Detector::Regex(Box::new(UserRegex {
            first_group: re.captures_len() > 1,
            prefix: literal_prefix(pattern).map(|p| memmem::Finder::new(p.as_bytes()).into_owned()),
            re,
        })))
    }

    /// Whether a string where `possible` detectors can match can hold a
    /// match of this one.
    pub fn may_match(&self, possible: Possible) -> bool {
        match self {
            Detector::Builtin(b) => possible.any(b.bit()),
            Detector::Regex(_) => true,
        }
    }

    /// Byte ranges of `text` to replace, in order, not overlapping.
    pub fn find(&self, text: &str) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        match self {
            Detector::Builtin(b) => b.scanner()(text, &mut |h: Hit| {
                if !h.found.is_empty() && b.confirm(text, h.found.clone()) {
                    out.push(h.found);
                }
            }),
            Detector::Regex(u) => {
                if u.prefix
                    .as_ref()
                    .is_some_and(|f| f.find(text.as_bytes()).is_none())
                {
                    return out;
                }
                for caps in u.re.captures_iter(text) {
                    let m = if u.first_group {
                        caps.get(1)
                    } else {
                        caps.get(0)
                    };
                    if let Some(m) = m.filter(|m| !m.is_empty()) {
                        out.push(m.range());
                    }
                }
            }
        }
        out
    }
}

/// The literal text every match of `pattern` starts with, read plainly off
/// its beginning (letters, digits, some punctuation, escaped punctuation),
/// or `None` where that is not certain: an alternation anywhere, flags,
/// anchors, a class or group first.
fn literal_prefix(pattern: &str) -> Option<String> {
    if pattern.contains('|') {
        return None;
    }
    let mut out = String::new();
    let mut chars = pattern.chars().peekable();
    while let Some(&c) = chars.peek() {
        let lit = if c.is_alphanumeric() || " =:-_@/,;'\"<>!#%&~`".contains(c) {
            chars.next();
            c
        } else if c == '\\' {
            let mut ahead = chars.clone();
            ahead.next();
            match ahead.next() {
                // `\<` and `\>` are word boundaries, not text.
                Some(e) if e.is_ascii_punctuation() && !matches!(e, '<' | '>') => {
                    chars.next();
                    chars.next();
                    e
                }
                _ => break,
            }
        } else {
            break;
        };
        // A quantifier makes the character before it optional or
        // repeated: it is not a fixed part of the prefix.
        if matches!(chars.peek(), Some('?' | '*' | '{' | '+')) {
            if chars.peek() == Some(&'+') {
                out.push(lit);
            }
            break;
        }
        out.push(lit);
    }
    (!out.is_empty()).then_some(out)
}

/// An address is a whole token, not a piece of a longer run: a MAC-like
/// string of hex and colons for IPv6, a version number such as `1.2.3.4.5`
/// for IPv4.
fn whole_token(b: Builtin, text: &str, r: Range<usize>) -> bool {
    let before = text[..r.start].chars().next_back();
    let mut after = text[r.end..].chars();
    match b {
        // Nothing of a word, a path or a call touches it: `Add::add(`,
        // `std::io::Error` and `a.b::c` are code, even where a piece of
        // them would parse as an address.
        Builtin::Ipv6 => {
            let joined = |c: char| c.is_alphanumeric() || matches!(c, ':' | '_' | '.' | '$');
            let next = after.next();
            let sentence_end =
                next == Some('.') && !after.next().is_some_and(char::is_alphanumeric);
            let touches_after = next.is_some_and(|c| joined(c) || matches!(c, '(' | '<'));
            !before.is_some_and(joined) && (!touches_after || sentence_end)
        }
        Builtin::Ipv4 => {
            let dotted_before = before == Some('.');
            let dotted_after =
                after.next() == Some('.') && after.next().is_some_and(|c| c.is_ascii_digit());
            !dotted_before && !dotted_after
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The detectors the byte pass lets run on `text`.
    fn may(text: &str) -> Vec<Builtin> {
        let p = Possible::of_bytes(text.as_bytes());
        Builtin::ALL
            .into_iter()
            .filter(|b| p.any(b.bit()))
            .collect()
    }

    #[test]
    fn the_byte_pass_rules_out_detectors_on_ordinary_text() {
        use Builtin::*;
        // What most records are made of: none of these runs a detector
        // (timestamps, UUIDs and durations have digits, dots and colons,
        // but not the counts and pairs an address or a key needs).
        for text in [
            "2026-03-05T22:17:51.755Z",
            "3bf9d0bc-e572-4e97-a14e-0a0067bc7d48",
            "debug",
            "took 12.5 ms at 10:42:07, v1.2",
        ] {
            assert_eq!(may(text), [], "{text}");
        }
        // Each detector still runs where its match could be.
        for (text, b) in [
            ("4111 1111 1111 1111", Card),
            ("10.0.0.1", Ipv4),
            ("fe80::1", Ipv6),
            ("1:2:3:4:5:6:7:8", Ipv6),
            ("Bearer x", Bearer),
            ("eyJa.eyJb.c", Jwt),
            ("password: x", Password),
            ("\"pwd\" : x", Password),
            ("1://1:2@h", Password),
            ("pwd=1", Password),
        ] {
            assert!(may(text).contains(&b), "{b:?} on {text}");
        }
    }

    fn found(b: Builtin, text: &str) -> Vec<&str> {
        Detector::builtin(b)
            .find(text)
            .into_iter()
            .map(|r| &text[r])
            .collect::<Vec<_>>()
    }

    #[test]
    fn cards_pass_luhn_and_random_digits_do_not() {
        assert_eq!(
            found(Builtin::Card, "paid with 4111 1111 1111 1111 today"),
            ["4111 1111 1111 1111"]
        );
        assert_eq!(
            found(Builtin::Card, "card=5500-0000-0000-0004;"),
            ["5500-0000-0000-0004"]
        );
        assert_eq!(
            found(Builtin::Card, "amex 378282246310005"),
            ["378282246310005"]
        );
        // Same length, fails Luhn: an order number, left alone.
        assert!(found(Builtin::Card, "order 4111111111111112").is_empty());
        // Too short, and a timestamp.
        assert!(found(Builtin::Card, "pin 123456789012").is_empty());
        assert!(found(Builtin::Card, "ts=1700000000123").is_empty());
    }

    #[test]
    fn cards_beside_other_numbers() {
        let card = "4111 1111 1111 1111";
        for text in [
            format!("qty 12 {card} ok"),
            format!("2026 {card}"),
            format!("{card} 12/27"),
            format!("{card} 1234"),
        ] {
            assert_eq!(found(Builtin::Card, &text), [card], "{text}");
        }
        assert_eq!(
            found(
                Builtin::Card,
                "amex 3782 822463 10005, diners 3056-930902-5904"
            ),
            ["3782 822463 10005", "3056-930902-5904"]
        );
        for text in [
            // A UUID whose first groups are digits and pass the Luhn check.
            "id 12345678-1234-1234-1234-123456789012",
            // Groups that do not start with four digits, mixed separators,
            // more than 19 digits in one run.
            "411 1111 1111 1111 1",
            "4111 1111-1111 1111",
            "41111111111111111111111",
        ] {
            assert!(found(Builtin::Card, text).is_empty(), "{text}");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(
            found(Builtin::Email, "from jane.doe+x@mail.example.org."),
            ["jane.doe+x@mail.example.org"]
        );
        assert!(found(Builtin::Email, "user@localhost and @handle and a@b").is_empty());
    }

    #[test]
    fn ip_addresses() {
        assert_eq!(
            found(Builtin::Ipv4, "client 192.0.2.10:443 and 10.0.0.1"),
            ["192.0.2.10", "10.0.0.1"]
        );
        assert!(found(Builtin::Ipv4, "999.1.1.1 and 1.2.3").is_empty());
        assert!(
            found(Builtin::Ipv4, "v1.2.3.4.5 and 10.1.2.3.4").is_empty(),
            "versions and OIDs are not addresses"
        );
        assert_eq!(found(Builtin::Ipv4, "from 10.1.2.3."), ["10.1.2.3"]);
        assert_eq!(
            found(Builtin::Ipv6, "from 2001:db8::1 and fe80::1%eth0"),
            ["2001:db8::1", "fe80::1%eth0"]
        );
        assert_eq!(found(Builtin::Ipv6, "loopback ::1"), ["::1"]);
        // Times and MAC-like runs are not addresses.
        assert!(found(Builtin::Ipv6, "at 12:30:45 and aa:bb:cc:dd:ee:ff:00:11:22").is_empty());
    }

    #[test]
    fn tokens_and_keys() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
        assert_eq!(found(Builtin::Jwt, &format!("token {jwt} end")), [jwt]);
        assert!(found(Builtin::Jwt, "eyJ.notatoken").is_empty());
        assert_eq!(
            found(Builtin::Bearer, "Authorization: Bearer abc.def-123=="),
            ["abc.def-123=="]
        );
        assert_eq!(
            found(Builtin::Bearer, r#"{"authorization":"Bearer t0k3n"}"#),
            ["t0k3n"]
        );
        assert_eq!(
            found(Builtin::Bearer, " Bearer t0k3n"),
            ["t0k3n"],
            "a header's value"
        );
        assert!(
            found(Builtin::Bearer, "the bearer of news; Authorization: Bearer").is_empty(),
            "prose, and a header without a token"
        );
        assert_eq!(
            found(Builtin::AwsKeyId, "key AKIAIOSFODNN7EXAMPLE used"),
            ["AKIAIOSFODNN7EXAMPLE"]
        );
        assert!(found(
            Builtin::AwsKeyId,
            "AKIAIOSFODNN7EXAMPL and XAKIAIOSFODNN7EXAMPLE"
        )
        .is_empty());
    }

    #[test]
    fn password_pairs_keep_the_key_and_lose_the_value() {
        assert_eq!(
            found(Builtin::Password, "user=bob password=hunter2 next"),
            ["hunter2"]
        );
        assert_eq!(
            found(Builtin::Password, r#"{"password": "s3 cr3t", "x": 1}"#),
            ["s3 cr3t"]
        );
        assert_eq!(
            found(Builtin::Password, "PWD: abc;api_key=k-1&x"),
            ["abc", "k-1"]
        );
        assert!(found(Builtin::Password, "passwords are checked").is_empty());
    }

    #[test]
    fn password_keys_ending_longer_names() {
        for (text, want) in [
            ("SOMETHING_PASSWORD=value", "value"),
            ("export DB_PASSWORD=abc1 next", "abc1"),
            ("client-secret: xyz", "xyz"),
            ("x.api_key=k9", "k9"),
            ("dbPassword=p1", "p1"),
            (r#"{"accessToken":"t1"}"#, "t1"),
            ("AWS_SECRET_ACCESS_KEY=wJalr/K7MDENG", "wJalr/K7MDENG"),
            ("secret_key=s", "s"),
        ] {
            assert_eq!(found(Builtin::Password, text), [want], "{text}");
        }
        // A key word inside a longer word, or followed by more of a name,
        // is not the key.
        for text in [
            "bypass=1",
            "max_tokens=100",
            "tokenizer=fast",
            "author: bob",
            "password_policy=strict",
            "compass=north",
        ] {
            assert!(found(Builtin::Password, text).is_empty(), "{text}");
        }
    }

    #[test]
    fn password_values_quoted_escaped_or_bare() {
        for (text, want) in [
            // A JSON document in a string: the escaped quote is part of
            // the password.
            (r#"{"user":"a","password":"p\"ss w","x":1}"#, r#"p\"ss w"#),
            // JSON inside a JSON string: quotes escaped.
            (r#"{\"password\":\"abc\"}"#, "abc"),
            ("'password': 'x y'", "x y"),
            (r#"password = "q r""#, "q r"),
            ("https://bob:hunter2@db.example.com/x", "hunter2"),
        ] {
            assert_eq!(found(Builtin::Password, text), [want], "{text}");
        }
        // `=` then a space: the next word is log text, not the value.
        assert!(found(Builtin::Password, "password= hunter and more").is_empty());
        assert!(found(Builtin::Password, "login ok, password=").is_empty());
    }

    #[test]
    fn code_paths_are_not_ipv6_addresses() {
        for text in [
            "called Add::add(x)",
            "std::io::Error; use ab::cd::ef;",
            "foo.dead::beef",
            "Vec::<u8> and cafe::Bad",
            "fn dead::beef_1",
        ] {
            assert!(found(Builtin::Ipv6, text).is_empty(), "{text}");
        }
        assert_eq!(found(Builtin::Ipv6, "peer dead::beef."), ["dead::beef"]);
        assert_eq!(found(Builtin::Ipv6, "[2001:db8::1]:443"), ["2001:db8::1"]);
    }

    #[test]
    fn bearer_tokens_in_free_text() {
        assert_eq!(
            found(
                Builtin::Bearer,
                "... sent header Bearer abc123def to the API"
            ),
            ["abc123def"]
        );
        assert_eq!(
            found(Builtin::Bearer, "curl -H 'Authorization: Bearer t0k'"),
            ["t0k"]
        );
        assert_eq!(
            found(Builtin::Bearer, r#"{\"Authorization\":\"Bearer xyz\"}"#),
            ["xyz"]
        );
        assert_eq!(
            found(
                Builtin::Bearer,
                "got Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"
            ),
            ["eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"]
        );
        for text in [
            "Bearer tokens expire after an hour",
            "the bearer of bad news",
            "Bearer authentication.",
        ] {
            assert!(found(Builtin::Bearer, text).is_empty(), "{text}");
        }
    }

    #[test]
    fn basic_credentials_wherever_they_are() {
        // `dXNlcjpwYXNz` is `user:pass`, `YTpiYw==` is `a:bc`.
        for (text, want) in [
            ("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
            (r#"{"authorization":"basic YTpiYw=="}"#, "YTpiYw=="),
            ("Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
            ("curl -H 'Proxy-Authorization: BASIC YTpiYw'", "YTpiYw"),
            ("sent Basic dXNlcjpwYXNz, got 401", "dXNlcjpwYXNz"),
        ] {
            assert_eq!(found(Builtin::Bearer, text), [want], "{text}");
        }
        // Prose, and tokens that do not decode to `user:password`: no
        // colon (`YWJj` is `abc`), too short, bad padding or alphabet, a
        // control character (`YQo6Yg==` is `a\n:b`), not a word start.
        for text in [
            "Basic auth failed for the client",
            "basic plan selected",
            "Authorization: Basic YWJj",
            "Basic YTo=",
            "Basic YTpiYw===",
            "Basic YTpi-Yw",
            "Basic YQo6Yg==",
            "xBasic dXNlcjpwYXNz",
        ] {
            assert!(found(Builtin::Bearer, text).is_empty(), "{text}");
        }
    }

    #[test]
    fn literal_prefixes_are_only_what_every_match_starts_with() {
        for (pattern, want) in [
            (r"ssn=(\d{3}-\d{2}-\d{4})", Some("ssn=")),
            (r"secret[0-9]+", Some("secret")),
            (r"ab+c", Some("ab")),
            (r"abc?d", Some("ab")),
            (r"ab*", Some("a")),
            (r"ab{0,2}", Some("a")),
            (r"a\.b\\c", Some("a.b\\c")),
            (r"x\<y", Some("x")),
            (r"key: (\w+)", Some("key: ")),
            (r"foo|bar", None),
            (r"(?i)token", None),
            (r"^token", None),
            (r"\btoken", None),
            (r"[a-z]+@", None),
            (r"a?", None),
        ] {
            assert_eq!(literal_prefix(pattern).as_deref(), want, "{pattern}");
        }
    }

    #[test]
    fn the_prefix_check_skips_only_strings_without_a_match() {
        for pattern in [r"ssn=(\d{3}-\d{2}-\d{4})", r"ab+c", r"abc?d", r"k\.v=(\S+)"] {
            let d = Detector::regex(pattern).unwrap();
            let plain = regex_lite::Regex::new(pattern).unwrap();
            for text in [
                "ssn=123-45-6789",
                "x ssn=12-3",
                "abbbc abd abcd",
                "ac",
                "k.v=1 kxv=2",
                "",
            ] {
                let want = plain.find_iter(text).count();
                assert_eq!(d.find(text).len(), want, "{pattern} on {text}");
            }
        }
    }

    #[test]
    fn user_regexes_replace_the_first_group_or_the_match() {
        let d = Detector::regex(r"ssn=(\d{3}-\d{2}-\d{4})").unwrap();
        assert_eq!(d.find("ssn=123-45-6789 ok").len(), 1);
        let text = "ssn=123-45-6789 ok";
        assert_eq!(&text[d.find(text)[0].clone()], "123-45-6789");
        let e = Detector::regex("(unclosed").unwrap_err();
        assert!(e.starts_with("invalid regular expression"), "{e}");
    }
}
