//! Timestamps for syslog headers, without a time zone database: UTC or a
//! fixed offset, as RFC 5424 allows and RFC 3164's receivers expect.

use flb_rs_sdk::EventTime;

/// A civil date and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

/// Converts seconds since the epoch to a civil date (proleptic Gregorian),
/// after Howard Hinnant's `civil_from_days`.
pub fn civil(seconds: i64) -> Civil {
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: (secs / 3600) as u32,
        minute: (secs % 3600 / 60) as u32,
        second: (secs % 60) as u32,
    }
}

/// Appends `n` as exactly `width` decimal digits (the last ones when `n`
/// is longer), without the `fmt` machinery: this runs for every message.
fn digits(out: &mut Vec<u8>, mut n: u64, width: usize) {
    let at = out.len();
    out.resize(at + width, b'0');
    for slot in out[at..].iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// `2026-11-24T23:05:09` for `local` seconds.
fn date_time(out: &mut Vec<u8>, local: i64) {
    let c = civil(local);
    if (0..=9999).contains(&c.year) {
        digits(out, c.year as u64, 4);
    } else {
        // Outside RFC 3339's range; written in full rather than wrapped.
        out.extend_from_slice(c.year.to_string().as_bytes());
    }
    for (sep, v) in [
        (b'-', c.month),
        (b'-', c.day),
        (b'T', c.hour),
        (b':', c.minute),
        (b':', c.second),
    ] {
        out.push(sep);
        digits(out, u64::from(v), 2);
    }
}

/// RFC 3339 as RFC 5424 wants it: `2026-11-24T23:05:09.123456Z`, with
/// `digits` (0 to 6) of fractional seconds and `offset_minutes` east of UTC
/// (`+02:00`; 0 writes `Z`).
pub fn rfc3339(out: &mut Vec<u8>, t: EventTime, frac_digits: u32, offset_minutes: i32) {
    let local = t.seconds + i64::from(offset_minutes) * 60;
    // Records of a chunk mostly share their second: the date and time of
    // the last one are kept.
    thread_local! {
        static LAST: std::cell::Cell<Option<(i64, [u8; 19])>> = const { std::cell::Cell::new(None) };
    }
    match LAST.get() {
        Some((s, text)) if s == local => out.extend_from_slice(&text),
        _ => {
            let at = out.len();
            date_time(out, local);
            if let Ok(text) = <[u8; 19]>::try_from(&out[at..]) {
                LAST.set(Some((local, text)));
            }
        }
    }
    let frac_digits = frac_digits.min(6);
    if frac_digits > 0 {
        out.push(b'.');
        digits(
            out,
            u64::from(t.nanos / 10u32.pow(9 - frac_digits)),
            frac_digits as usize,
        );
    }
    if offset_minutes == 0 {
        out.push(b'Z');
    } else {
        out.push(if offset_minutes < 0 { b'-' } else { b'+' });
        let m = offset_minutes.unsigned_abs();
        digits(out, u64::from(m / 60), 2);
        out.push(b':');
        digits(out, u64::from(m % 60), 2);
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// RFC 3164's `Mmm dd hh:mm:ss`, the day padded with a space (`Nov  4`).
pub fn rfc3164(out: &mut Vec<u8>, t: EventTime, offset_minutes: i32) {
    let c = civil(t.seconds + i64::from(offset_minutes) * 60);
    out.extend_from_slice(MONTHS[(c.month - 1) as usize].as_bytes());
    out.push(b' ');
    if c.day < 10 {
        out.push(b' ');
        digits(out, u64::from(c.day), 1);
    } else {
        digits(out, u64::from(c.day), 2);
    }
    for (sep, v) in [(b' ', c.hour), (b':', c.minute), (b':', c.second)] {
        out.push(sep);
        digits(out, u64::from(v), 2);
    }
}

/// Parses an offset such as `+02:00`, `-0530`, `Z` or `UTC`.
pub fn parse_offset(s: &str) -> Result<i32, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("z") || s.eq_ignore_ascii_case("utc") || s.is_empty() {
        return Ok(0);
    }
    let bad = || format!("'{s}': expected an offset such as +02:00, -05:30 or Z");
    let (sign, rest) = match s.as_bytes()[0] {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return Err(bad()),
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let h: i32 = digits[..2].parse().map_err(|_| bad())?;
    let m: i32 = digits[2..].parse().map_err(|_| bad())?;
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(sign * (h * 60 + m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_match_known_points() {
        assert_eq!(
            civil(0),
            Civil {
                year: 1970,
                month: 1,
                day: 1,
                hour: 0,
                minute: 0,
                second: 0
            }
        );
        // 2000-02-29 (leap day of a year divisible by 400).
        assert_eq!(
            civil(951_782_400),
            Civil {
                year: 2000,
                month: 2,
                day: 29,
                hour: 0,
                minute: 0,
                second: 0
            }
        );
        // 2026-11-24T23:05:09Z
        assert_eq!(
            civil(1_795_561_509),
            Civil {
                year: 2026,
                month: 11,
                day: 24,
                hour: 23,
                minute: 5,
                second: 9
            }
        );
        // 2100-03-01, after a non-leap 2100-02-28.
        assert_eq!(civil(4_107_542_400).month, 3);
        assert_eq!(civil(4_107_542_400).day, 1);
        // Before the epoch.
        assert_eq!(
            civil(-1),
            Civil {
                year: 1969,
                month: 12,
                day: 31,
                hour: 23,
                minute: 59,
                second: 59
            }
        );
    }

    #[test]
    fn rfc3339_precision_and_offsets() {
        let t = EventTime::new(1_795_561_509, 123_456_789);
        let f = |d, o| {
            let mut s = Vec::new();
            rfc3339(&mut s, t, d, o);
            String::from_utf8(s).unwrap()
        };
        assert_eq!(f(6, 0), "2026-11-24T23:05:09.123456Z");
        assert_eq!(f(3, 0), "2026-11-24T23:05:09.123Z");
        assert_eq!(f(0, 0), "2026-11-24T23:05:09Z");
        assert_eq!(
            f(9, 0),
            "2026-11-24T23:05:09.123456Z",
            "RFC 5424 allows at most 6 digits"
        );
        assert_eq!(f(6, 120), "2026-11-25T01:05:09.123456+02:00");
        assert_eq!(f(6, -330), "2026-11-24T17:35:09.123456-05:30");
    }

    #[test]
    fn the_kept_second_is_only_reused_for_the_same_second() {
        let f = |secs| {
            let mut s = Vec::new();
            rfc3339(&mut s, EventTime::new(secs, 0), 0, 0);
            String::from_utf8(s).unwrap()
        };
        for (secs, want) in [
            (1_795_561_509, "2026-11-24T23:05:09Z"),
            (1_795_561_509, "2026-11-24T23:05:09Z"),
            (1_795_561_510, "2026-11-24T23:05:10Z"),
            (1_795_561_509, "2026-11-24T23:05:09Z"),
            (0, "1970-01-01T00:00:00Z"),
        ] {
            assert_eq!(f(secs), want);
        }
    }

    #[test]
    fn rfc3164_pads_the_day_with_a_space() {
        let mut s = Vec::new();
        rfc3164(&mut s, EventTime::new(1_793_833_509, 0), 0); // 2026-11-04T23:05:09Z
        assert_eq!(s, b"Nov  4 23:05:09");
        s.clear();
        rfc3164(&mut s, EventTime::new(1_795_561_509, 0), 0);
        assert_eq!(s, b"Nov 24 23:05:09");
    }

    #[test]
    fn offsets_parse() {
        assert_eq!(parse_offset("Z"), Ok(0));
        assert_eq!(parse_offset("+02:00"), Ok(120));
        assert_eq!(parse_offset("-0530"), Ok(-330));
        assert!(parse_offset("+2").is_err());
        assert!(parse_offset("+24:00").is_err());
        assert!(parse_offset("CET").is_err());
    }
}
