//! What to find: built-in detectors and user regular expressions.
//!
//! Every pattern runs on the `regex` crate, whose matching time is linear
//! in the input whatever the pattern: no input can make a rule backtrack
//! into exponential time. Detectors that a pattern alone cannot decide
//! (card numbers need the Luhn check, IPv6 addresses a real parse) find
//! candidates with a pattern and confirm each in code, so random digit runs
//! and hex-with-colons are not masked.

use std::ops::Range;

use regex::Regex;

/// A built-in detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// Payment card numbers: 13 to 19 digits, spaces or dashes between
    /// groups allowed, that pass the Luhn check.
    Card,
    Email,
    Ipv4,
    Ipv6,
    /// JSON Web Tokens: three base64url parts, the first two JSON objects.
    Jwt,
    /// The token of an `Authorization: Bearer <token>` header.
    Bearer,
    /// AWS access key ids (AKIA..., ASIA..., ...).
    AwsKeyId,
    /// The value of a secret key/value pair in text: `password=...`,
    /// `password: ...`, `"password": "..."`, `'password': '...'`, for the
    /// key words password, passwd, passphrase, pwd, pass, secret, token,
    /// api_key/apikey/api-key, private_key, access_key and secret_key, alone or
    /// as the last word of a longer key (`DB_PASSWORD`, `client-secret`,
    /// `x.api_key`, `accessToken`).
    Password,
}

impl Builtin {
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

    /// The pattern, and which part of a match to replace.
    fn pattern(self) -> (&'static str, Capture) {
        match self {
            Builtin::Card => (r"\b\d(?:[ -]?\d){12,18}\b", Capture::Whole),
            Builtin::Email => (
                r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}\b",
                Capture::Whole,
            ),
            Builtin::Ipv4 => (
                r"\b(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\b",
                Capture::Whole,
            ),
            Builtin::Ipv6 => (
                r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:%[0-9A-Za-z]+)?",
                Capture::Whole,
            ),
            Builtin::Jwt => (
                r"\beyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*",
                Capture::Whole,
            ),
            // After an `Authorization:` (or `authorization=`, `"authorization": "`),
            // any token. Elsewhere (a field holding the header's value, free
            // text), `Bearer` capitalised or at the start, and a token that
            // looks like one (a digit or symbol in it, or 16 letters or
            // more): "the bearer of bad news" and "Bearer tokens expire"
            // are prose.
            Builtin::Bearer => (
                concat!(
                    r#"(?i:\bauthorization)(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?i:bearer)\s+([A-Za-z0-9\-._~+/]+=*)"#,
                    r#"|(?:^\s*(?i:bearer)|\b(?:Bearer|BEARER))\s+([A-Za-z0-9\-._~+/]*[0-9\-_~+/][A-Za-z0-9\-._~+/]*=*|[A-Za-z]{16,}=*)"#,
                ),
                Capture::AnyGroup,
            ),
            Builtin::AwsKeyId => (
                r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|A3T[A-Z0-9])[A-Z0-9]{16}\b",
                Capture::Whole,
            ),
            // The key: a key word, alone or ending a longer key (words
            // joined by `_`, `-` or `.`, or camel case), maybe quoted (also
            // with an escaped quote: JSON in a JSON string). A quoted value
            // may follow `=` or `:` with spaces around; a bare value only
            // straight after `=` (`password= next` is prose, not a secret)
            // or after `:` and spaces. Quoted values run to the closing
            // quote, escapes inside included. The last branch is the
            // password of a URL's user info (`scheme://user:pw@host`).
            Builtin::Password => (
                concat!(
                    r#"(?:^|[^A-Za-z0-9_.-])(?:[A-Za-z0-9_.-]*[_.-])?"#,
                    r#"(?:(?i:password|passwd|passphrase|pwd|secret|token|api[_.-]?key|private[_.-]?key|access[_.-]?key|secret[_.-]?key)"#,
                    r#"|[A-Za-z0-9_.-]*[a-z0-9](?:Password|Passwd|Passphrase|Pwd|Secret|Token|ApiKey|PrivateKey|AccessKey|SecretKey))"#,
                    r#"(?:\\?["'])?"#,
                    r#"(?:\s*[:=]\s*(?:\\"((?:[^"\\]|\\[^"])*)\\"|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')"#,
                    r#"|(?:=|\s*:\s*)([^\s"',;&}\\][^\s"',;&}]*))"#,
                    r#"|://[^/\s:@]+:([^/\s@]+)@"#,
                ),
                Capture::AnyGroup,
            ),
        }
    }

    /// Whether a candidate the pattern found really is one.
    fn confirm(self, s: &str) -> bool {
        match self {
            Builtin::Card => luhn(s),
            Builtin::Ipv6 => {
                let addr = s.split('%').next().unwrap_or("");
                // Mixed case (`Cafe::Bad`) is a name, not an address.
                let upper = addr.bytes().any(|b| b.is_ascii_uppercase());
                let lower = addr.bytes().any(|b| b.is_ascii_lowercase());
                !(upper && lower)
                    && addr.matches(':').count() >= 2
                    && addr.parse::<std::net::Ipv6Addr>().is_ok()
            }
            _ => true,
        }
    }
}

/// The Luhn check over the digits of `s` (13 to 19 of them).
pub fn luhn(s: &str) -> bool {
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let d2 = d * 2;
                if d2 > 9 {
                    d2 - 9
                } else {
                    d2
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// Which part of a match is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Capture {
    /// The whole match.
    Whole,
    /// A user pattern's first group.
    First,
    /// The first group that took part in the match (patterns whose
    /// branches capture the secret in different groups).
    AnyGroup,
}

/// A compiled "what to find".
#[derive(Debug, Clone)]
pub struct Detector {
    re: Regex,
    capture: Capture,
    builtin: Option<Builtin>,
}

impl Detector {
    pub fn builtin(b: Builtin) -> Detector {
        let (p, capture) = b.pattern();
        Detector {
            // The built-in patterns are fixed and covered by tests.
            re: Regex::new(p).unwrap_or_else(|e| unreachable!("built-in pattern {b:?}: {e}")),
            capture,
            builtin: Some(b),
        }
    }

    /// A user's regular expression; the whole match is replaced, or the
    /// first capture group when the pattern has one.
    pub fn regex(pattern: &str) -> Result<Detector, String> {
        let re = regex::RegexBuilder::new(pattern)
            .size_limit(10 << 20)
            .build()
            .map_err(|e| format!("invalid regular expression: {e}"))?;
        let capture = if re.captures_len() > 1 {
            Capture::First
        } else {
            Capture::Whole
        };
        Ok(Detector {
            re,
            capture,
            builtin: None,
        })
    }

    /// The pattern, for a set of all of them (see `rule::Screen`).
    pub fn pattern(&self) -> &str {
        self.re.as_str()
    }

    /// Byte ranges of `text` to replace, in order, not overlapping.
    pub fn find(&self, text: &str) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        for caps in self.re.captures_iter(text) {
            let m = match self.capture {
                Capture::Whole => caps.get(0),
                Capture::First => caps.get(1),
                Capture::AnyGroup => caps.iter().skip(1).flatten().next(),
            };
            let Some(m) = m else { continue };
            if m.is_empty() {
                continue;
            }
            if let Some(b) = self.builtin {
                if !b.confirm(m.as_str()) {
                    continue;
                }
                if !whole_token(b, text, m.range()) {
                    continue;
                }
            }
            out.push(m.range());
        }
        out
    }
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
    fn user_regexes_replace_the_first_group_or_the_match() {
        let d = Detector::regex(r"ssn=(\d{3}-\d{2}-\d{4})").unwrap();
        assert_eq!(d.find("ssn=123-45-6789 ok").len(), 1);
        let text = "ssn=123-45-6789 ok";
        assert_eq!(&text[d.find(text)[0].clone()], "123-45-6789");
        let e = Detector::regex("(unclosed").unwrap_err();
        assert!(e.starts_with("invalid regular expression"), "{e}");
    }
}
