//! The hand-written detectors find exactly what their patterns find.
//!
//! Each built-in detector is specified by a regular expression (written in
//! `src/scan.rs` above its scanner; digits there are ASCII `[0-9]`) and
//! leftmost-first matching. The filter
//! does not carry a regex engine for them; this test does: it runs the
//! `regex` crate with the same patterns on generated text, built from
//! fragments that sit at every edge of the patterns (separators, quotes,
//! escapes, boundaries, non-ASCII letters, digits and spaces), and asserts
//! both give the same ranges after the same confirmation.

mod rng;

use flb_rs_redact::detect::{Builtin, Detector, Possible};
use regex::Regex;
use rng::Rng;

/// The patterns, and whether the secret is a capture group (the first
/// group that took part) rather than the whole match.
fn reference(b: Builtin) -> (&'static str, bool) {
    match b {
        // Not a pattern alone: see `cards_by_brute_force`.
        Builtin::Card => (
            r"^(?:[0-9]{13,19}|[0-9]{4}(?: [0-9]+)+|[0-9]{4}(?:-[0-9]+)+)$",
            false,
        ),
        Builtin::Email => (
            r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}\b",
            false,
        ),
        Builtin::Ipv4 => (
            r"\b(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}\b",
            false,
        ),
        Builtin::Ipv6 => (
            r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:%[0-9A-Za-z]+)?",
            false,
        ),
        Builtin::Jwt => (
            r"\beyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*",
            false,
        ),
        Builtin::Bearer => (
            concat!(
                r#"(?i:\bauthorization)(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?i:bearer)\s+([A-Za-z0-9\-._~+/]+=*)"#,
                r#"|(?:^\s*(?i:bearer)|\b(?:Bearer|BEARER))\s+([A-Za-z0-9\-._~+/]*[0-9\-_~+/][A-Za-z0-9\-._~+/]*=*|[A-Za-z]{16,}=*)"#,
                // Basic credentials, confirmed by their decoding.
                r#"|\b(?i:basic)\s+([A-Za-z0-9\-._~+/]+=*)"#,
            ),
            true,
        ),
        Builtin::AwsKeyId => (
            r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|A3T[A-Z0-9])[A-Z0-9]{16}\b",
            false,
        ),
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
            true,
        ),
    }
}

const ALL: [Builtin; 8] = Builtin::ALL;

fn by_reference(b: Builtin, re: &Regex, group: bool, text: &str) -> Vec<std::ops::Range<usize>> {
    if b == Builtin::Card {
        return cards_by_brute_force(re, text);
    }
    re.captures_iter(text)
        .filter_map(|c| {
            if !group {
                return c.get(0);
            }
            // The first group that took part, and which one it is.
            let (i, m) = c
                .iter()
                .enumerate()
                .skip(1)
                .find_map(|(i, m)| Some((i, m?)))?;
            // The bearer pattern's third group, Basic credentials, must
            // decode to `user:password`.
            let basic = b == Builtin::Bearer && i == 3;
            (!basic || flb_rs_redact::detect::basic_credentials(m.as_str())).then_some(m)
        })
        .map(|m| m.range())
        .filter(|r| !r.is_empty() && b.confirm(text, r.clone()))
        .collect()
}

fn is_word(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || c == '_')
}

/// Cards as the README defines them, the slow way: from each digit at a
/// word start, leftmost first, every end at a word end, longest first;
/// the first span that is a card number (`re`, anchored: one run, or
/// groups with one kind of separator and a first group of four) with 13
/// to 19 digits passing the Luhn check is taken, and the search goes on
/// after it.
fn cards_by_brute_force(re: &Regex, text: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut from = 0;
    for (s, c) in text.char_indices() {
        if s < from || !c.is_ascii_digit() || is_word(text[..s].chars().next_back()) {
            continue;
        }
        let ends = (s + 1..=text.len())
            .rev()
            .filter(|&e| text.is_char_boundary(e));
        for e in ends {
            let span = &text[s..e];
            let digits = span.bytes().filter(u8::is_ascii_digit).count();
            if (13..=19).contains(&digits)
                && !is_word(text[e..].chars().next())
                && re.is_match(span)
                && flb_rs_redact::detect::luhn(span.as_bytes())
            {
                out.push(s..e);
                from = e;
                break;
            }
        }
    }
    out
}

/// Pieces that sit on the patterns' edges.
const FRAGMENTS: &[&str] = &[
    "4111",
    "1111",
    "5500",
    "0004",
    "37828224631",
    "0005",
    "1",
    "0",
    "9",
    "12",
    "255",
    "256",
    "01",
    " ",
    "  ",
    "-",
    "--",
    "\t",
    "\n",
    "\u{a0}",
    "\u{2003}",
    "\u{b}",
    "\u{85}",
    "٣",
    "é",
    "ß",
    "_",
    "x",
    "Z",
    "q",
    "@",
    "@@",
    "jane.doe+x",
    "example",
    ".",
    "..",
    "com",
    "co",
    "uk",
    "a-b",
    "-a",
    ":",
    "::",
    "dead",
    "beef",
    "Cafe",
    "fe80",
    "2001",
    "db8",
    "%eth0",
    "%",
    "[",
    "]",
    "(",
    "<",
    "$",
    "eyJ",
    "eyJhbGci",
    "abc_-",
    "sig",
    "Bearer",
    "BEARER",
    "bearer",
    "Bearer ",
    "Basic ",
    "basic",
    "BASIC",
    "dXNlcjpwYXNz",
    "YTpi",
    "YTpiYw==",
    "YTpiYw",
    "Authorization",
    "authorization",
    "AUTHORIZATION",
    "abcdefghijklmnopqrst",
    "t0k",
    "~",
    "+",
    "/",
    "=",
    "==",
    "\"",
    "'",
    "\\",
    "\\\"",
    "\\'",
    "password",
    "Password",
    "PASSWORD",
    "passwd",
    "pwd",
    "secret",
    "token",
    "Token",
    "api_key",
    "api-key",
    "apikey",
    "ApiKey",
    "private_key",
    "access.key",
    "secretKey",
    "DB_",
    "db",
    "my.",
    "x-",
    "AWS_SECRET_ACCESS_KEY",
    "accessToken",
    "bypass",
    "max_tokens",
    "AKIA",
    "ASIA",
    "A3TX",
    "IOSFODNN7EXAMPLE",
    "ABCDEFGH01234567",
    "://",
    "https://",
    "bob",
    "hunter2",
    ",",
    ";",
    "&",
    "}",
    "{",
    "ok",
    "GET /a?x=1",
];

/// Per detector, the fragments its matches are made of (with a few
/// others), so that every detector's matches are reached often.
const THEMES: &[&[&str]] = &[
    &[
        "4111",
        "1111",
        "5500",
        "0004",
        "37828224631",
        "0005",
        "1",
        "0",
        " ",
        "-",
        "--",
        "x",
        "٣",
        "_",
        "4111 1111 1111 1111",
        "4111111111111111",
    ],
    &[
        "a",
        "jane.doe+x",
        "@",
        "example",
        ".",
        "com",
        "uk",
        "a-b",
        "-",
        " ",
        "é",
        "_",
        "5",
    ],
    &[
        "1", "0", "9", "12", "255", "256", "01", ".", ".", " ", "x", "_", "٣", "10.0.0", "1.2",
        "192.168.", "1.2.3.4",
    ],
    &[
        "dead", "beef", "Cafe", ":", "::", "1", "%eth0", "%", ".", " ", "(", "x", "fe80", "12345",
    ],
    &[
        "eyJ",
        "eyJhbGci",
        "abc_-",
        ".",
        "sig",
        " ",
        "x",
        "_",
        "eyJa.eyJb.",
        "é",
    ],
    &[
        "Bearer ",
        "bearer",
        "BEARER",
        " ",
        "Authorization",
        ": ",
        "=",
        "\"",
        "Basic ",
        "basic",
        "dXNlcjpwYXNz",
        "YTpi",
        "YTpiYw=",
        "auth",
        "t0k",
        "abcdefghijklmnopqrst",
        "==",
        ".",
        "~",
    ],
    &[
        "AKIA",
        "ASIA",
        "A3TX",
        "IOSFODNN7EXAMPLE",
        "ABCDEFGH01234567",
        "X",
        " ",
        "_",
        "é",
    ],
    &[
        "password",
        "DB_PASSWORD",
        "accessToken",
        "api-key",
        "=",
        ":",
        " ",
        "\"",
        "'",
        "\\",
        "\\\"",
        "x",
        ",",
        "://",
        "bob",
        ":",
        "@",
    ],
];

/// Every detector with its compiled reference pattern.
fn references() -> Vec<(Builtin, Regex, bool, Detector)> {
    ALL.iter()
        .map(|&b| {
            let (p, group) = reference(b);
            (b, Regex::new(p).unwrap(), group, Detector::builtin(b))
        })
        .collect()
}

#[test]
fn hand_written_detectors_match_their_patterns() {
    let refs = references();
    let seed = std::env::var("REFERENCE_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0x9E37_79B9_7F4A_7C15);
    let mut rng = Rng(seed);
    let mut hits = [0usize; 8];
    // REFERENCE_STRINGS=10000000 for a longer hunt.
    let strings: usize = std::env::var("REFERENCE_STRINGS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    for _ in 0..strings {
        let n = 1 + rng.below(14);
        // Half the strings from every fragment, half from one theme.
        let pool = if rng.below(2) == 0 {
            FRAGMENTS
        } else {
            THEMES[rng.below(THEMES.len() as u64) as usize]
        };
        let text: String = (0..n)
            .map(|_| pool[rng.below(pool.len() as u64) as usize])
            .collect();
        for (k, (b, re, group, d)) in refs.iter().enumerate() {
            let want = by_reference(*b, re, *group, &text);
            let got = d.find(&text);
            assert_eq!(got, want, "{b:?} on {text:?}");
            // The one pass over the bytes rules a detector out only where
            // it finds nothing.
            assert!(
                d.may_match(Possible::of_bytes(text.as_bytes())) || want.is_empty(),
                "{b:?} ruled out on {text:?}"
            );
            hits[k] += usize::from(!want.is_empty());
        }
    }
    // The generator reaches every detector's matches, not only its misses.
    for (k, b) in ALL.iter().enumerate() {
        println!("{b:?}: {} of {strings} strings with a match", hits[k]);
        assert!(hits[k] > 20, "{b:?}: only {} strings with a match", hits[k]);
    }
}

/// Hand-picked edges, on top of the generated ones.
#[test]
fn edges_match_their_patterns() {
    let texts = [
        "4111 1111 1111 1111 1111 11",
        "12 4111 1111 1111 1111 and 2026 4111 1111 1111 1111 and 4111 1111 1111 1111 12/27",
        "12345678-1234-1234-1234-123456789012 4111-1111 1111-1111 3782 822463 10005",
        "4111111111111111111111",
        "x4111111111111111 4111-1111-1111-1111",
        "a@b.co.uk a@b.com.x a@b.com5 é.a@x.com _a@x.io a@-b.com a@b-.com",
        "1.2.3.4.5 v1.2.3.4 01.2.3.4 1.2.3.04 255.255.255.255 256.1.1.1",
        "deadbeef::1 1:2:3:4:5:6:7:8:9 ::1%eth0. fe80::1%",
        "eyJa.eyJb. eyJa.eyJb.c-d_e xeyJa.eyJb.c",
        "Authorization: \"Bearer abc\" authorization=bearer   x= Bearer x1 BEARER abcdefghijklmnopq.rs",
        "  bearer abc123 and Bearer tokens",
        "Authorization: Basic dXNlcjpwYXNz basic auth BASIC YTpiYw== xbasic YTpi Basic\tYTpiYw=",
        "Basic Bearer x1 basic dXNlcjpwYXNz.x basic YTpiYw== basic YTpiYw=== basic YTpi-",
        "AKIAIOSFODNN7EXAMPLE A3TXIOSFODNN7EXAMPLE AKIAIOSFODNN7EXAMPLEX",
        r#"password="a\"b" pwd='x\'y' token=\"q\" secret:\"unclosed"#,
        "password:  x password =y DB_PASSWORD=z,password= w api.key=k&accessToken:t",
        "https://bob:hunter2@db x://a:b:c@d ://:x@y",
        "password=\"\" token='' pwd=\"a\\\nb\"",
        "key=password=value password\"=x password\\\"=y",
        // Where the byte screen's pairs and counts sit on their edges,
        // one to a string (another part of a string could let a detector
        // run that this one would rule out).
        "1://1:2@h",
        "pwd\u{a0}: x",
        "\"token\"\t: y",
        "::1",
        "1:2:3:4:5:6:7:8",
        "1.2.3.4",
        "Bearer\u{3000}abc1",
        "bEARER x9",
        "bAsIc YTpi",
        "eyJa.eyJb.",
        "4111-1111-1111-1111",
        "4111 1111 1111 1111",
    ];
    for (b, re, group, d) in references() {
        for text in texts {
            let want = by_reference(b, &re, group, text);
            assert!(
                d.may_match(Possible::of_bytes(text.as_bytes())) || want.is_empty(),
                "{b:?} ruled out on {text:?}"
            );
            assert_eq!(d.find(text), want, "{b:?} on {text:?}");
        }
    }
}
