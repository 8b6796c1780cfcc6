//! The built-in detectors, written by hand.
//!
//! Each scanner is a single forward pass that looks only at the bytes that
//! can start or anchor a match (`@` for e-mail, `:` for IPv6, `=` and `:`
//! for key/value pairs, ...), found with `memchr` (or, in strings of up to
//! 128 bytes, marked in one vector pass: `Starts`), and parses outward from
//! there; every byte is visited a bounded number of times, so the time is
//! linear in the text whatever it holds. They find exactly what the
//! patterns in the comments would find with leftmost-first semantics (the
//! `regex` crate's), which `tests/detectors_reference.rs` checks against
//! the `regex` crate on generated text: hand-written so the filter does not
//! carry a regular-expression engine of 1 MB for eight fixed patterns.
//!
//! `\b`, `\s` and "word character" follow Unicode as the patterns would
//! (`char::is_alphanumeric` or `_`; `char::is_whitespace`); digits are
//! ASCII `0`-`9` (`[0-9]`, not `\d`).

use std::ops::Range;

use memchr::{memchr2_iter, memchr_iter, Memchr, Memchr2};
use wide::u8x16;

use crate::screen::vector::blocks;

/// A found candidate: the match (where the search goes on after it) and
/// the part to replace.
pub struct Hit {
    pub found: Range<usize>,
    pub end: usize,
}

/// Where a scanner starts from: every `c1` or `c2` in a string, in order.
/// In a string of up to [`MARKED_UP_TO`] bytes (most log fields), one
/// vector pass marks them all as bits (lowest first), which is cheaper
/// than a `memchr` call per position; longer strings use `memchr`.
enum Starts<'a> {
    Marked(u128),
    Search(Search<'a>),
}

/// The longest string whose starts are marked in one pass.
const MARKED_UP_TO: usize = 128;

impl Starts<'_> {
    /// Every `c` in `b`.
    fn of(b: &[u8], c: u8) -> Starts<'_> {
        if b.len() > MARKED_UP_TO {
            return Starts::Search(Search::One(memchr_iter(c, b)));
        }
        Starts::marked(b, |v| v.cmp_eq(u8x16::splat(c)))
    }

    /// Every `c1` or `c2` in `b`.
    fn of2(b: &[u8], c1: u8, c2: u8) -> Starts<'_> {
        if b.len() > MARKED_UP_TO {
            return Starts::Search(Search::Two(memchr2_iter(c1, c2, b)));
        }
        let (s1, s2) = (u8x16::splat(c1), u8x16::splat(c2));
        Starts::marked(b, |v| v.cmp_eq(s1) | v.cmp_eq(s2))
    }

    /// The bytes of `b` (at most [`MARKED_UP_TO`]) whose lanes `sought`
    /// sets, as bits.
    #[inline(always)]
    fn marked(b: &[u8], sought: impl Fn(u8x16) -> u8x16) -> Starts<'_> {
        let hits = |v: [u8; 16]| u128::from(sought(u8x16::new(v)).move_mask() as u16);
        if b.len() < 16 {
            let mut v = [0u8; 16];
            v[..b.len()].copy_from_slice(b);
            // The padding is no match, even where a zero byte is sought.
            return Starts::Marked(hits(v) & ((1 << b.len()) - 1));
        }
        let mut marks = 0u128;
        // Bytes read twice (the last block's first lanes) are marked again.
        blocks(b, |at, v, _| marks |= hits(v) << at);
        Starts::Marked(marks)
    }
}

/// The positions of a string longer than [`MARKED_UP_TO`].
enum Search<'a> {
    One(Memchr<'a>),
    Two(Memchr2<'a>),
}

impl Iterator for Starts<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        match self {
            Starts::Marked(0) => None,
            Starts::Marked(m) => {
                let i = m.trailing_zeros() as usize;
                *m &= *m - 1;
                Some(i)
            }
            Starts::Search(Search::One(it)) => it.next(),
            Starts::Search(Search::Two(it)) => it.next(),
        }
    }
}

#[inline]
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The character before byte `i`.
#[inline]
fn char_before(text: &str, i: usize) -> Option<char> {
    match text.as_bytes()[..i].last() {
        Some(&b) if b.is_ascii() => Some(char::from(b)),
        _ => text[..i].chars().next_back(),
    }
}

/// The character at byte `i`.
#[inline]
fn char_at(text: &str, i: usize) -> Option<char> {
    match text.as_bytes().get(i) {
        Some(&b) if b.is_ascii() => Some(char::from(b)),
        _ => text.get(i..).and_then(|s| s.chars().next()),
    }
}

/// Whether a word character at `i` starts a word (`\b` before it).
#[inline]
fn word_starts(text: &str, i: usize) -> bool {
    !word_before(text, i)
}

/// Whether a word ends just before `i` (`\b` after a word character).
#[inline]
fn word_ends(text: &str, i: usize) -> bool {
    !char_at(text, i).is_some_and(is_word)
}

/// The byte after the whitespace run starting at `i` (`\s*`).
#[inline]
fn skip_ws(text: &str, i: usize) -> usize {
    let rest = &text[i..];
    i + rest.len() - rest.trim_start().len()
}

#[inline]
fn digit(b: &[u8], i: usize) -> bool {
    b.get(i).is_some_and(u8::is_ascii_digit)
}

/// Whether the character before byte `i` is a word character: a byte
/// test for ASCII, a decode only after a non-ASCII byte.
#[inline]
fn word_before(text: &str, i: usize) -> bool {
    match text.as_bytes()[..i].last() {
        None => false,
        Some(&b) if b.is_ascii() => b.is_ascii_alphanumeric() || b == b'_',
        Some(_) => char_before(text, i).is_some_and(is_word),
    }
}

/// The first ASCII digit at or after `i`, eight bytes at a time (SWAR):
/// most of a log line is not digits, and this runs for every string.
fn next_digit(b: &[u8], mut i: usize) -> Option<usize> {
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while i + 8 <= b.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&b[i..i + 8]);
        let x = u64::from_le_bytes(word);
        // Per byte, without carries between bytes (the top bit is masked
        // off first): its top bit set when the byte is 0x30..=0x39.
        let y = x & LOW;
        let at_least_0 = y.wrapping_add(0x5050_5050_5050_5050);
        let above_9 = y.wrapping_add(0x4646_4646_4646_4646);
        let digits = at_least_0 & !above_9 & !x & HIGH;
        if digits != 0 {
            return Some(i + digits.trailing_zeros() as usize / 8);
        }
        i += 8;
    }
    (i..b.len()).find(|&k| b[k].is_ascii_digit())
}

#[inline]
fn word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The digits at word starts (`\b[0-9]`), in order: each may begin a
/// card number or an IPv4 address. `parse` returns the end of a match
/// there, where the search goes on.
fn at_digit_word_starts(text: &str, mut parse: impl FnMut(usize) -> Option<usize>) {
    let b = text.as_bytes();
    let mut i = 0;
    while let Some(d) = next_digit(b, i) {
        if !word_before(text, d) {
            if let Some(end) = parse(d) {
                i = end;
                continue;
            }
        }
        // Past the rest of this run of word bytes: no digit in it starts
        // a word.
        i = d + 1;
        while i < b.len() && word_byte(b[i]) {
            i += 1;
        }
    }
}

/// Per byte: (1 for a digit, all ones for a digit, space or dash).
const STRETCH: [(u32, u32); 256] = {
    let mut t = [(0u32, 0u32); 256];
    let mut c = b'0';
    while c <= b'9' {
        t[c as usize] = (1, u32::MAX);
        c += 1;
    }
    t[b' ' as usize] = (0, u32::MAX);
    t[b'-' as usize] = (0, u32::MAX);
    t
};

/// Payment card numbers: 13 to 19 digits at a word start and a word end,
/// either one run of digits, or groups joined by single spaces or single
/// dashes (one kind throughout) whose first group has four digits
/// (4-4-4-4, 4-6-5, 4-4-4-4-3, ...). From each start, the longest such
/// number that passes the Luhn check is taken (`4111 1111 1111 1111 12/27`
/// is a card and an expiry date); a start where none passes is left for
/// the next group (`12 4111 1111 1111 1111`, `2026 4111 ...`). So a UUID
/// (8-4-4-4-12) and a run of more than 19 digits are not cards. Candidates
/// go to `hit` only when they pass the Luhn check.
pub fn cards(text: &str, hit: &mut dyn FnMut(Hit)) {
    let b = text.as_bytes();
    // Every card lies in a stretch of digits, spaces and dashes with 13
    // digits or more: one branch-free pass rules out most strings with
    // many digits (times, UUIDs, counters) before any parsing. The
    // screen's `long_run` gate only counts 13 such bytes in a row (so
    // `2026-12-05 10` passes it); this pass counts the digits, and keeps
    // `cards` cheap when it is called without the screen.
    let mut run = 0u32;
    let enough = b.iter().any(|&c| {
        // Looked up, so that the loop's path from byte to byte is one
        // add and one AND (all ones for a digit, space or dash: the
        // stretch goes on; zero: it ends).
        let (digit, joins) = STRETCH[usize::from(c)];
        run = (run + digit) & joins;
        run >= 13
    });
    if !enough {
        return;
    }
    let run = |i: usize| b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    at_digit_word_starts(text, |i| {
        let first = run(i);
        let mut end = i + first;
        let mut best = None;
        let mut digits = first;
        if (13..=19).contains(&first) && word_ends(text, end) && luhn(&b[i..end]) {
            best = Some(end);
        }
        if first == 4 {
            let sep = *b.get(end)?;
            while matches!(sep, b' ' | b'-') && b.get(end) == Some(&sep) && digit(b, end + 1) {
                let n = run(end + 1);
                digits += n;
                if digits > 19 {
                    break;
                }
                end += 1 + n;
                if digits >= 13 && word_ends(text, end) && luhn(&b[i..end]) {
                    best = Some(end);
                }
            }
        }
        let end = best?;
        hit(Hit { found: i..end, end });
        Some(end)
    });
}

/// The Luhn check over the ASCII digits of `s`.
pub fn luhn(s: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in s
        .iter()
        .rev()
        .filter(|c| c.is_ascii_digit())
        .map(|c| u32::from(c - b'0'))
        .enumerate()
    {
        sum += if i % 2 == 1 {
            if d * 2 > 9 {
                d * 2 - 9
            } else {
                d * 2
            }
        } else {
            d
        };
    }
    sum % 10 == 0
}

#[inline]
fn local_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

/// `\b[A-Za-z0-9._%+-]+@LABEL(?:\.LABEL)*\.[A-Za-z]{2,}\b` where LABEL is
/// `[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?`.
pub fn emails(text: &str, hit: &mut dyn FnMut(Hit)) {
    let b = text.as_bytes();
    let mut from = 0;
    for at in memchr_iter(b'@', b) {
        if at < from {
            continue;
        }
        let mut l = at;
        while l > from && local_char(b[l - 1]) {
            l -= 1;
        }
        // The leftmost start with a word boundary there.
        let boundary = |s: usize| {
            char_before(text, s).is_some_and(is_word) != char_at(text, s).is_some_and(is_word)
        };
        let Some(start) = (l..at).find(|&s| boundary(s)) else {
            continue;
        };
        if let Some(end) = domain(text, at + 1) {
            hit(Hit {
                found: start..end,
                end,
            });
            from = end;
        }
    }
}

/// The end of `LABEL(?:\.LABEL)*\.[A-Za-z]{2,}\b` at `p`, as many labels as
/// can be taken first.
fn domain(text: &str, p: usize) -> Option<usize> {
    let b = text.as_bytes();
    // The dots that end a label, in order: a label is a whole run of
    // letters, digits and dashes, not starting or ending with a dash,
    // followed by a dot (a shorter one would be followed by more of the
    // run, which neither `.` nor the end allows).
    let mut dots: Vec<usize> = Vec::new();
    let mut q = p;
    loop {
        let mut e = q;
        while e < b.len() && (b[e].is_ascii_alphanumeric() || b[e] == b'-') {
            e += 1;
        }
        let label = e > q && b[q] != b'-' && b[e - 1] != b'-';
        if !label || b.get(e) != Some(&b'.') {
            break;
        }
        dots.push(e);
        q = e + 1;
    }
    dots.iter().rev().find_map(|&d| {
        let t = b[d + 1..]
            .iter()
            .take_while(|c| c.is_ascii_alphabetic())
            .count();
        (t >= 2 && word_ends(text, d + 1 + t)).then_some(d + 1 + t)
    })
}

/// One `25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]` at `i`: the whole digit run (a
/// shorter one would be followed by a digit, which neither `.` nor `\b`
/// allows), 0 to 255, no leading zero.
#[inline]
fn octet(b: &[u8], i: usize) -> Option<usize> {
    let n = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || n > 3 || (n > 1 && b[i] == b'0') {
        return None;
    }
    let v = b[i..i + n]
        .iter()
        .fold(0u32, |v, &c| v * 10 + u32::from(c - b'0'));
    (v <= 255).then_some(i + n)
}

/// `\bOCTET(?:\.OCTET){3}\b`, found from its first dot: the octet before
/// it is the whole digit run there, which must start a word.
pub fn ipv4s(text: &str, hit: &mut dyn FnMut(Hit)) {
    let b = text.as_bytes();
    let mut from = 0;
    for dot in Starts::of(b, b'.') {
        if dot < from {
            continue;
        }
        let n = b[..dot]
            .iter()
            .rev()
            .take(4)
            .take_while(|c| c.is_ascii_digit())
            .count();
        let i = dot - n;
        if n == 0 || n > 3 || i < from || word_before(text, i) {
            continue;
        }
        let parsed = (|| {
            let mut q = i;
            for _ in 0..3 {
                q = octet(b, q).filter(|&e| b.get(e) == Some(&b'.'))? + 1;
            }
            octet(b, q).filter(|&e| word_ends(text, e))
        })();
        if let Some(end) = parsed {
            hit(Hit { found: i..end, end });
            from = end;
        }
    }
}

/// `[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:%[0-9A-Za-z]+)?`, found
/// from its colons.
pub fn ipv6s(text: &str, hit: &mut dyn FnMut(Hit)) {
    let b = text.as_bytes();
    let mut from = 0;
    for c in Starts::of(b, b':') {
        if c < from {
            continue;
        }
        // The leftmost start: up to four hex digits before the colon (from
        // further left, a longer hex run would not reach it).
        let mut start = c;
        while start > from && c - start < 4 && b[start - 1].is_ascii_hexdigit() {
            start -= 1;
        }
        // The groups after it, greedy: the same whatever the start.
        let (mut q, mut groups) = (c, 0);
        while groups < 7 && b.get(q) == Some(&b':') {
            q += 1;
            let mut h = 0;
            while h < 4 && b.get(q).is_some_and(u8::is_ascii_hexdigit) {
                q += 1;
                h += 1;
            }
            groups += 1;
        }
        if groups < 2 {
            continue;
        }
        if b.get(q) == Some(&b'%') {
            let zone = b[q + 1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric())
                .count();
            if zone > 0 {
                q += 1 + zone;
            }
        }
        hit(Hit {
            found: start..q,
            end: q,
        });
        from = q;
    }
}

#[inline]
fn base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-')
}

/// `\beyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`.
pub fn jwts(text: &str, hit: &mut dyn FnMut(Hit)) {
    let b = text.as_bytes();
    let run = |i: usize| b[i..].iter().take_while(|&&c| base64url(c)).count();
    let part = |i: usize| -> Option<usize> {
        let n = run(i);
        (b[i..].starts_with(b"eyJ") && n > 3 && b.get(i + n) == Some(&b'.')).then_some(i + n + 1)
    };
    let mut from = 0;
    // From each `J` (rare in text), the `eyJ` it may end.
    for j in memchr_iter(b'J', b) {
        let Some(i) = j.checked_sub(2) else { continue };
        if i < from || &b[i..j] != b"ey" || !word_starts(text, i) {
            continue;
        }
        if let Some(sig) = part(i).and_then(part) {
            let end = sig + run(sig);
            hit(Hit { found: i..end, end });
            from = end;
        }
    }
}

/// `\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|A3T[A-Z0-9])[A-Z0-9]{16}\b`.
pub fn aws_key_ids(text: &str, hit: &mut dyn FnMut(Hit)) {
    const PREFIXES: [&[u8]; 8] = [
        b"AKIA", b"ASIA", b"AGPA", b"AIDA", b"AROA", b"AIPA", b"ANPA", b"ANVA",
    ];
    let b = text.as_bytes();
    let upper_digit = |c: &u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    let mut from = 0;
    for i in memchr_iter(b'A', b) {
        if i < from || b.len() - i < 20 || !word_starts(text, i) {
            continue;
        }
        let key = &b[i..i + 20];
        let prefix = PREFIXES.contains(&&key[..4]) || key.starts_with(b"A3T");
        if prefix && key.iter().all(upper_digit) && word_ends(text, i + 20) {
            hit(Hit {
                found: i..i + 20,
                end: i + 20,
            });
            from = i + 20;
        }
    }
}

#[inline]
fn token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
}

#[inline]
fn starts_with_ci(b: &[u8], i: usize, word: &[u8]) -> bool {
    b.get(i..i + word.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(word))
}

/// `\\?["']` at `i`: its length, or 0.
#[inline]
fn quote(b: &[u8], i: usize) -> usize {
    match (b.get(i), b.get(i + 1)) {
        (Some(b'\\'), Some(b'"' | b'\'')) => 2,
        (Some(b'"' | b'\''), _) => 1,
        _ => 0,
    }
}

/// The bearer detector, three branches, leftmost first:
///
/// ```text
/// (?i:\bauthorization)(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?i:bearer)\s+([A-Za-z0-9\-._~+/]+=*)
/// (?:^\s*(?i:bearer)|\b(?:Bearer|BEARER))\s+([A-Za-z0-9\-._~+/]*[0-9\-_~+/][A-Za-z0-9\-._~+/]*=*|[A-Za-z]{16,}=*)
/// \b(?i:basic)\s+([A-Za-z0-9\-._~+/]+=*)
/// ```
///
/// The third branch's token (HTTP Basic credentials, RFC 7617) must also
/// pass [`basic_credentials`]: decode to `user:password`.
pub fn bearer_tokens(text: &str, hit: &mut dyn FnMut(Hit)) {
    let b = text.as_bytes();
    // Candidate starts, in order: `authorization` found from its `z`,
    // `bearer` and `basic` from their `b`.
    let mut words = memchr2_iter(b'b', b'B', b)
        .filter_map(|i| {
            if starts_with_ci(b, i, b"bearer") {
                Some((i, Scheme::Bearer))
            } else if starts_with_ci(b, i, b"basic") {
                Some((i, Scheme::Basic))
            } else {
                None
            }
        })
        .peekable();
    // Every branch needs a `bearer` or a `basic`: without one,
    // `authorization` is not looked for.
    if words.peek().is_none() {
        return;
    }
    let mut auth = memchr2_iter(b'z', b'Z', b)
        .filter_map(|z| z.checked_sub(7))
        .filter(|&i| starts_with_ci(b, i, b"authorization"))
        .peekable();
    let mut from = 0;
    loop {
        let (i, word) = match (auth.peek(), words.peek()) {
            (Some(&a), Some(&(r, _))) if a < r => (a, None),
            (Some(&a), None) => (a, None),
            (_, Some(&(r, w))) => (r, Some(w)),
            (None, None) => return,
        };
        if word.is_none() {
            auth.next();
        } else {
            words.next();
        }
        if i < from {
            continue;
        }
        let found = match word {
            None => authorization_token(text, i),
            Some(Scheme::Bearer) => {
                let at_start = from == 0 && text[..i].trim_start().is_empty();
                let exact = matches!(&b[i..i + 6], b"Bearer" | b"BEARER") && word_starts(text, i);
                (at_start || exact)
                    .then(|| looks_like_token(text, i + 6))
                    .flatten()
            }
            Some(Scheme::Basic) => word_starts(text, i)
                .then(|| token_after(text, i + 5))
                .flatten(),
        };
        if let Some(found) = found {
            let end = found.end;
            // A Basic token that is no `user:password` is no match, but
            // the search goes on after it all the same.
            if !matches!(word, Some(Scheme::Basic)) || basic_credentials(&text[found.clone()]) {
                hit(Hit { found, end });
            }
            from = end;
        }
    }
}

/// The first branch at `i` (`authorization` there): the token.
fn authorization_token(text: &str, i: usize) -> Option<Range<usize>> {
    let b = text.as_bytes();
    if !word_starts(text, i) {
        return None;
    }
    let mut q = i + "authorization".len();
    q = skip_ws(text, q + quote(b, q));
    if !matches!(b.get(q), Some(b':' | b'=')) {
        return None;
    }
    q = skip_ws(text, q + 1);
    q += quote(b, q);
    if !starts_with_ci(b, q, b"bearer") {
        return None;
    }
    token_after(text, q + 6)
}

/// The scheme word a candidate starts with.
#[derive(Debug, Clone, Copy)]
enum Scheme {
    Bearer,
    Basic,
}

/// `\s+([A-Za-z0-9\-._~+/]+=*)` at `q`: the token's range.
fn token_after(text: &str, q: usize) -> Option<Range<usize>> {
    let b = text.as_bytes();
    let t = skip_ws(text, q);
    if t == q {
        return None;
    }
    let n = b[t..].iter().take_while(|&&c| token_char(c)).count();
    (n > 0).then(|| t..equals_after(b, t + n))
}

/// Whether `token` is HTTP Basic credentials: standard base64 (padded or
/// not) of at least three bytes holding a `:` (between user and
/// password) and no control character. "Basic auth" and other prose
/// after the word fail it: their letters decode to no such text.
pub fn basic_credentials(token: &str) -> bool {
    let data = token.trim_end_matches('=');
    let pad = token.len() - data.len();
    if pad > 2 || (pad > 0 && token.len() % 4 != 0) || data.len() % 4 == 1 {
        return false;
    }
    let (mut acc, mut bits, mut bytes, mut colon) = (0u32, 0u32, 0usize, false);
    for c in data.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return false,
        };
        acc = (acc << 6 | u32::from(v)) & 0xffff;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            match (acc >> bits) as u8 {
                b':' => colon = true,
                0..=0x1f | 0x7f => return false,
                _ => {}
            }
            bytes += 1;
        }
    }
    colon && bytes >= 3
}

/// The second branch's token after `bearer` ends at `q`.
fn looks_like_token(text: &str, q: usize) -> Option<Range<usize>> {
    let b = text.as_bytes();
    let token = token_after(text, q)?;
    let t = token.start;
    if b[token.clone()]
        .iter()
        .any(|c| c.is_ascii_digit() || matches!(c, b'-' | b'_' | b'~' | b'+' | b'/'))
    {
        return Some(token);
    }
    let letters = b[t..]
        .iter()
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    (letters >= 16).then(|| t..equals_after(b, t + letters))
}

/// The end of the `=*` at `i`.
fn equals_after(b: &[u8], i: usize) -> usize {
    i + b[i..].iter().take_while(|&&c| c == b'=').count()
}

#[inline]
fn key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// Key words, matched in any case.
const WORDS: [&[u8]; 6] = [
    b"password",
    b"passwd",
    b"passphrase",
    b"pwd",
    b"secret",
    b"token",
];
/// Stems of `...key` key words.
const KEYED: [&[u8]; 4] = [b"api", b"private", b"access", b"secret"];
/// Camel-case key words, matched after a lower-case letter or digit.
const CAMEL: [&[u8]; 10] = [
    b"Password",
    b"Passwd",
    b"Passphrase",
    b"Pwd",
    b"Secret",
    b"Token",
    b"ApiKey",
    b"PrivateKey",
    b"AccessKey",
    b"SecretKey",
];

/// Whether a key whose last two bytes are `pen` and `last` can be a
/// secret key: every key word of [`secret_key`] (password, passwd,
/// passphrase, pwd, secret, token, ...key and their camel-case forms) ends
/// in one of these pairs of letters, in either case. Most keys in log text
/// end otherwise (`page`, `size`, `limit`, `temperature`, `policy`): they
/// are ruled out with no key word compared.
#[inline]
fn key_word_end(pen: u8, last: u8) -> bool {
    // OR 0x20 lowers an ASCII letter and makes no other byte one.
    matches!(
        [pen | 0x20, last | 0x20],
        [b'r', b'd'] | [b'w', b'd'] | [b's', b'e'] | [b'e', b't'] | [b'e', b'n'] | [b'e', b'y']
    )
}

/// Whether a whole key names a secret: a key word in any case, alone or
/// after `_`, `.` or `-`; or a camel-case key word after a lower-case
/// letter or digit.
///
/// ```text
/// (?:[A-Za-z0-9_.-]*[_.-])?(?i:password|passwd|passphrase|pwd|secret|token|api[_.-]?key|private[_.-]?key|access[_.-]?key|secret[_.-]?key)
/// [A-Za-z0-9_.-]*[a-z0-9](?:Password|Passwd|Passphrase|Pwd|Secret|Token|ApiKey|PrivateKey|AccessKey|SecretKey)
/// ```
pub fn secret_key(key: &[u8]) -> bool {
    if !matches!(key, [.., pen, last] if key_word_end(*pen, *last)) {
        return false;
    }
    let ends_word = |len: usize| {
        key.len() == len
            || (key.len() > len && matches!(key[key.len() - len - 1], b'_' | b'.' | b'-'))
    };
    let ends_ci =
        |w: &[u8]| key.len() >= w.len() && key[key.len() - w.len()..].eq_ignore_ascii_case(w);
    if WORDS.iter().any(|w| ends_ci(w) && ends_word(w.len())) {
        return true;
    }
    // `api[_.-]?key` and its siblings.
    if ends_ci(b"key") {
        let stem = &key[..key.len() - 3];
        let (stem, sep) = match stem.last() {
            Some(b'_' | b'.' | b'-') => (&stem[..stem.len() - 1], 1),
            _ => (stem, 0),
        };
        let found = KEYED.iter().any(|w| {
            stem.len() >= w.len()
                && stem[stem.len() - w.len()..].eq_ignore_ascii_case(w)
                && ends_word(w.len() + sep + 3)
        });
        if found {
            return true;
        }
    }
    CAMEL.iter().any(|w| {
        key.len() > w.len()
            && key.ends_with(w)
            && matches!(key[key.len() - w.len() - 1], b'a'..=b'z' | b'0'..=b'9')
    })
}

/// The password detector: a secret key's value, or a URL's password.
///
/// ```text
/// (?:^|[^A-Za-z0-9_.-])KEY(?:\\?["'])?
///   (?:\s*[:=]\s*(?:\\"((?:[^"\\]|\\[^"])*)\\"|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')
///    |(?:=|\s*:\s*)([^\s"',;&}\\][^\s"',;&}]*))
/// |://[^/\s:@]+:([^/\s@]+)@
/// ```
///
/// Every match has a `=` or `:` after the key (past quotes and spaces), or
/// is a `://`: the scan goes from one of those to the next, looking back
/// for the key.
pub fn password_values(text: &str, hit: &mut dyn FnMut(Hit)) {
    let b = text.as_bytes();
    let mut from = 0;
    for k in Starts::of2(b, b'=', b':') {
        if k < from {
            continue;
        }
        if let Some(h) = key_value(text, k, from) {
            from = h.end;
            if !h.found.is_empty() {
                hit(h);
            }
            continue;
        }
        if b[k..].starts_with(b"://") {
            if let Some(h) = url_password(text, k) {
                from = h.end;
                hit(h);
            }
        }
    }
}

/// The key/value match whose separator is at `k`, if its key names a
/// secret and starts after `from`.
fn key_value(text: &str, k: usize, from: usize) -> Option<Hit> {
    let b = text.as_bytes();
    // Back from the separator: spaces, an optional quote (maybe escaped),
    // the key.
    let mut j = match k.checked_sub(1).map(|i| b[i]) {
        // Most separators follow a key's last character directly.
        Some(c) if c.is_ascii_alphanumeric() => k,
        _ => text[..k].trim_end().len(),
    };
    if j > 0 && matches!(b[j - 1], b'"' | b'\'') {
        j -= 1;
        if j > 0 && b[j - 1] == b'\\' {
            j -= 1;
        }
    }
    let key_end = j;
    // Most separators are ruled out here, before their key is read.
    if !(j > 1 && key_word_end(b[j - 2], b[j - 1])) {
        return None;
    }
    while j > 0 && key_char(b[j - 1]) {
        j -= 1;
    }
    let key_start = j;
    if key_start == key_end || !secret_key(&b[key_start..key_end]) {
        return None;
    }
    // Where the match starts: at the character before the key.
    let start = char_before(text, key_start).map_or(0, |c| key_start - c.len_utf8());
    if start < from {
        return None;
    }
    let q = quote(b, key_end);
    value_at(text, key_end + q).or_else(|| if q > 0 { value_at(text, key_end) } else { None })
}

/// The value part after the key (and its quote, if taken) at `p`.
fn value_at(text: &str, p: usize) -> Option<Hit> {
    let b = text.as_bytes();
    // A quoted value after `=` or `:`, spaces around.
    let s = skip_ws(text, p);
    if matches!(b.get(s), Some(b':' | b'=')) {
        let v = skip_ws(text, s + 1);
        let quoted = match (b.get(v), b.get(v + 1)) {
            (Some(b'\\'), Some(b'"')) => escaped_quoted(text, v + 2),
            (Some(&q @ (b'"' | b'\'')), _) => quoted(text, v + 1, q),
            _ => None,
        };
        if quoted.is_some() {
            return quoted;
        }
    }
    // A bare value, straight after `=`, or after `:` and spaces.
    let v = if b.get(p) == Some(&b'=') {
        p + 1
    } else if b.get(s) == Some(&b':') {
        skip_ws(text, s + 1)
    } else {
        return None;
    };
    let stop = |c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ';' | '&' | '}');
    let first = char_at(text, v)?;
    if stop(first) || first == '\\' {
        return None;
    }
    let end = text[v..].find(stop).map_or(text.len(), |n| v + n);
    Some(Hit { found: v..end, end })
}

/// `((?:[^"\\]|\\[^"])*)\\"` from `i`.
fn escaped_quoted(text: &str, i: usize) -> Option<Hit> {
    let b = text.as_bytes();
    let mut k = i;
    loop {
        match b.get(k)? {
            b'"' => return None,
            b'\\' => match char_at(text, k + 1)? {
                '"' => {
                    return Some(Hit {
                        found: i..k,
                        end: k + 2,
                    })
                }
                c => k += 1 + c.len_utf8(),
            },
            _ => k += 1,
        }
    }
}

/// `((?:[^Q\\]|\\.)*)Q` from `i`, for the quote `Q`.
fn quoted(text: &str, i: usize, q: u8) -> Option<Hit> {
    let b = text.as_bytes();
    let mut k = i;
    loop {
        match *b.get(k)? {
            c if c == q => {
                return Some(Hit {
                    found: i..k,
                    end: k + 1,
                })
            }
            b'\\' => match char_at(text, k + 1)? {
                '\n' => return None,
                c => k += 1 + c.len_utf8(),
            },
            _ => k += 1,
        }
    }
}

/// `://[^/\s:@]+:([^/\s@]+)@` at `k`.
fn url_password(text: &str, k: usize) -> Option<Hit> {
    let b = text.as_bytes();
    let run = |i: usize, stop: &[char]| {
        text[i..]
            .find(|c: char| c.is_whitespace() || stop.contains(&c))
            .map_or(text.len(), |n| i + n)
    };
    let colon = run(k + 3, &['/', ':', '@']);
    if colon == k + 3 || b.get(colon) != Some(&b':') {
        return None;
    }
    let at = run(colon + 1, &['/', '@']);
    (at > colon + 1 && b.get(at) == Some(&b'@')).then(|| Hit {
        found: colon + 1..at,
        end: at + 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Marked or searched, the starts are every position of either byte,
    /// in order: in every length around the block edges and the limit,
    /// zero bytes (the padding of a short string) included.
    #[test]
    fn starts_are_every_position_in_order() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for len in 0..=MARKED_UP_TO + 20 {
            for _ in 0..50 {
                let text: Vec<u8> = (0..len)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        b"=:.\0ab"[(state % 6) as usize]
                    })
                    .collect();
                for (c1, c2) in [(b'=', b':'), (b'.', b'.'), (0, 0)] {
                    let want: Vec<usize> = (0..len)
                        .filter(|&i| text[i] == c1 || text[i] == c2)
                        .collect();
                    let got: Vec<usize> = Starts::of2(&text, c1, c2).collect();
                    assert_eq!(got, want, "{c1} {c2} in {text:?}");
                    let one: Vec<usize> = (0..len).filter(|&i| text[i] == c1).collect();
                    let got: Vec<usize> = Starts::of(&text, c1).collect();
                    assert_eq!(got, one, "{c1} in {text:?}");
                }
            }
        }
    }

    /// `key_word_end` lets through exactly the last two letters of the
    /// key words, in either case: no key word is ruled out, and no more
    /// separators are read back than must be.
    #[test]
    fn key_word_end_is_the_key_words_last_letters() {
        let key: &[u8] = b"key";
        let words = WORDS.iter().chain(&CAMEL).chain([&key]);
        let ends: Vec<[u8; 2]> = words
            .map(|w| [w[w.len() - 2], w[w.len() - 1]].map(|c| c.to_ascii_lowercase()))
            .collect();
        for pen in 0..=255u8 {
            for last in 0..=255u8 {
                let lower = [pen, last].map(|c| c.to_ascii_lowercase());
                assert_eq!(
                    key_word_end(pen, last),
                    ends.contains(&lower),
                    "{pen} {last}"
                );
            }
        }
    }
}
