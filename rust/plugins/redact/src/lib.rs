//! `rs_redact`, a filter that redacts secrets and personal data from
//! records in linear time: hand-written built-in detectors and user regular
//! expressions (`regex-lite`: no backtracking), applied by rules to chosen fields
//! or to every string, with a mask, a partial mask, a keyed hash or removal.
//! Records without a match pass through untouched and unencoded.

pub mod action;
pub mod detect;
pub mod keys;
mod plugin;
pub mod rule;
mod scan;
mod screen;
pub mod walk;

pub use plugin::{RedactConfig, RedactFilter};

#[cfg(test)]
mod linear_time {
    use std::time::Instant;

    use crate::detect::{Builtin, Detector};

    /// Inputs that drive backtracking engines into exponential time stay
    /// linear here: doubling the input about doubles the time. Asserted as a
    /// ratio between sizes, not as an absolute time.
    #[test]
    fn hostile_inputs_take_linear_time() {
        let hostile = |n: usize| format!("{}!", "a".repeat(n));
        // The classic (a+)+$ and a nested-quantifier email-like pattern.
        let detectors = [
            ("(a+)+$", Detector::regex(r"^(a+)+$").unwrap()),
            (
                "([a-zA-Z0-9]+\\.?)+@",
                Detector::regex(r"^([a-zA-Z0-9]+\.?)+@").unwrap(),
            ),
            ("email", Detector::builtin(Builtin::Email)),
            ("password", Detector::builtin(Builtin::Password)),
        ];
        for (name, d) in &detectors {
            // The fastest of 7 runs: a run the scheduler interrupted (other
            // tests run beside this one) says nothing about the engine.
            let time = |n: usize| {
                let text = hostile(n);
                (0..7)
                    .map(|_| {
                        let t = Instant::now();
                        std::hint::black_box(d.find(&text));
                        t.elapsed().as_secs_f64()
                    })
                    .fold(f64::INFINITY, f64::min)
            };
            time(10_000); // warm-up
            let small = time(50_000).max(1e-6);
            let large = time(200_000);
            println!(
                "{name}: 50,000 -> 200,000 bytes: {:.2}x the time",
                large / small
            );
            // 4x the input: a linear engine takes ~4x; allow generous noise.
            // A backtracking engine on (a+)+$ would not finish at all.
            assert!(
                large / small < 16.0,
                "{name}: 4x input took {:.1}x time",
                large / small
            );
        }
    }
}
