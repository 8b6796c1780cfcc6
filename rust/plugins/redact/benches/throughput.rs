//! Records per second through `rs_redact` with a realistic rule set, on
//! synthetic application and access logs where about half the records hold
//! something to redact. Run: `cargo bench -p flb-rs-redact`.
//!
//! This measures the filter alone, through the same runtime Fluent Bit
//! drives (decode, scan, re-encode of changed records); the comparison with
//! Fluent Bit's `lua` filter is a whole-process one, in the README.

use std::time::Instant;

use flb_rs_redact::RedactFilter;
use flb_rs_sdk::runtime::FilterOutcome;
use flb_rs_sdk::testing::Harness;
use flb_rs_sdk::{EventEncoder, EventTime};

// The same generator as the reference test's, so every run sees the same
// records.
#[path = "../tests/rng/mod.rs"]
mod rng;
use rng::Rng;

/// The check digit that makes `partial` + digit pass the Luhn check.
fn luhn_digit(partial: &str) -> char {
    ('0'..='9')
        .find(|d| flb_rs_redact::detect::luhn(format!("{partial}{d}").as_bytes()))
        .expect("one digit always completes a Luhn number")
}

fn line(r: &mut Rng, i: u64) -> String {
    let ip = format!("10.{}.{}.{}", r.below(256), r.below(256), 1 + r.below(254));
    match r.below(100) {
        0..=39 => format!(
            "{ip} - - \"GET /api/v1/orders HTTP/1.1\" 200 {} \"Mozilla/5.0 (X11; Linux x86_64)\" rt=0.{:03}",
            100 + r.below(90_000),
            r.below(1000)
        ),
        40..=44 => format!(
            "user signup completed for user{i}@example.com plan=pro trial_days=14 request_id={:016x}",
            r.next()
        ),
        45 => {
            let mut s: String = std::iter::once('4')
                .chain((0..14).map(|_| char::from(b'0' + r.below(10) as u8)))
                .collect();
            s.push(luhn_digit(&s));
            format!(
                "payment accepted card {}-{}-{}-{} amount=19.99 currency=EUR order={i}",
                &s[0..4],
                &s[4..8],
                &s[8..12],
                &s[12..16]
            )
        }
        46..=47 => format!(
            "auth attempt user=svc{} password=Pw{:08x} result=denied",
            i % 97,
            r.next() as u32
        ),
        _ => format!(
            "worker {} processed batch {i} in {}ms queue_depth={} status=ok component=scheduler",
            i % 16,
            1 + r.below(5000),
            r.below(300)
        ),
    }
}

fn main() {
    let records: u64 = std::env::var("RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let chunks: Vec<Vec<u8>> = (0..records / 1000)
        .map(|c| {
            let mut enc = EventEncoder::new();
            for i in 0..1000 {
                let l = line(&mut r, c * 1000 + i);
                enc.record(EventTime::new(1_700_000_000, 0), |m| m.str("log", &l));
            }
            enc.into_bytes()
        })
        .collect();
    // The four detectors most logs need, then every detector.
    let four: &[(&str, &str)] = &[
        ("rule", "card detector=card action=keep_last:4"),
        ("rule", "email detector=email"),
        ("rule", "ip detector=ipv4"),
        ("rule", "pw detector=password"),
    ];
    let more: &[(&str, &str)] = &[
        ("rule", "ip6 detector=ipv6"),
        ("rule", "jwt detector=jwt"),
        ("rule", "bearer detector=bearer"),
        ("rule", "aws detector=aws_key"),
    ];
    for rules in [four.to_vec(), [four, more].concat()] {
        let h = Harness::filter::<RedactFilter>(&rules).unwrap();
        let mut best = f64::MAX;
        let mut changed = 0;
        for _round in 0..5 {
            let t = Instant::now();
            changed = 0;
            for c in &chunks {
                if let FilterOutcome::Modified(b) = h.filter_chunk("bench", c) {
                    changed += b.len();
                }
            }
            best = best.min(t.elapsed().as_secs_f64());
        }
        let n = (chunks.len() * 1000) as f64;
        println!(
            "rs_redact, {} rules, {n} records in chunks of 1000: best of 5 rounds {:.3} s, {:.0} records/s, {:.2} us/record ({changed} bytes of changed chunks)",
            rules.len(),
            best,
            n / best,
            best / n * 1e6
        );
    }
}
