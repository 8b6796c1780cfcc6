//! Plugins for testing the FFI boundary: they count, stall and panic on
//! request. Linked only with the `testkit` feature of `flb-rs`, never into
//! a packaged Fluent Bit.

use std::time::Duration;

use flb_rs_sdk::prelude::*;

config_struct! {
    pub struct CountConfig {
        /// What every flush returns: ok, retry or error.
        pub result: String = "ok",
        /// Time each flush takes, to make flushes overlap.
        pub delay: Duration = "0",
        /// Panic in `init`, `flush` or `exit`; empty for never.
        pub panic_in: String = "",
        /// Decode every record; off measures the boundary alone.
        pub decode: bool = "on",
        /// Start a thread that logs and counts for 300 ms and is never joined:
        /// off, on, or then_fail (init fails after starting it).
        pub leak_thread: String = "off",
    }
}

/// `rs_test_count`: reads every field of every record and counts records,
/// fields and flushes in its metrics.
pub struct CountOutput {
    result: FlushResult,
    delay: Duration,
    panic_in: String,
    decode: bool,
    records: Counter,
    fields: Counter,
    in_flight: Gauge,
    busy: bool,
}

impl OutputPlugin for CountOutput {
    const NAME: &'static str = "rs_test_count";
    const DESCRIPTION: &'static str = "Test: count records, optionally stall or panic";
    type Config = CountConfig;

    fn new(cfg: CountConfig, ctx: &InitContext) -> Result<Self, PluginError> {
        if cfg.panic_in == "init" {
            panic!("rs_test_count: panic in init, as configured");
        }
        let result = match cfg.result.as_str() {
            "ok" => FlushResult::Ok,
            "retry" => FlushResult::Retry,
            "error" => FlushResult::Error,
            other => {
                return Err(PluginError::new(format!(
                    "result '{other}': expected ok, retry or error"
                )))
            }
        };
        if cfg.leak_thread != "off" {
            let leaked = ctx.counter("leaked_total", "Updates from the leaked thread", &[])?;
            // The handle is dropped: nothing joins this thread.
            drop(ctx.spawner().spawn("leak", move || {
                for _ in 0..150 {
                    log::warn!("the leaked thread is still running");
                    leaked.inc(&[]);
                    std::thread::sleep(Duration::from_millis(2));
                }
            }));
            if cfg.leak_thread == "then_fail" {
                return Err(PluginError::new(
                    "failing after starting a thread, as configured",
                ));
            }
        }
        Ok(CountOutput {
            result,
            delay: cfg.delay,
            panic_in: cfg.panic_in,
            decode: cfg.decode,
            records: ctx.counter("records_total", "Records flushed", &["tag"])?,
            fields: ctx.counter("fields_total", "Fields read", &[])?,
            in_flight: ctx.gauge(
                "in_flight",
                "Flushes running at once (must never exceed 1)",
                &[],
            )?,
            busy: false,
        })
    }

    fn flush(&mut self, chunk: &Chunk<'_>) -> FlushResult {
        if self.panic_in == "flush" {
            panic!("rs_test_count: panic in flush, as configured");
        }
        assert!(!self.busy, "two flushes ran at once on one instance");
        self.busy = true;
        self.in_flight.inc(&[]);
        let (mut records, mut fields) = (0u64, 0u64);
        for ev in chunk
            .records()
            .take(if self.decode { usize::MAX } else { 0 })
        {
            let Ok(ev) = ev else {
                log::error!("malformed chunk");
                self.in_flight.dec(&[]);
                self.busy = false;
                return FlushResult::Error;
            };
            records += 1;
            fields += ev.body.iter().count() as u64;
        }
        if !self.delay.is_zero() {
            std::thread::sleep(self.delay);
        }
        self.records.add(records as f64, &[chunk.tag]);
        self.fields.add(fields as f64, &[]);
        self.in_flight.dec(&[]);
        self.busy = false;
        self.result
    }

    fn exit(&mut self) {
        if self.panic_in == "exit" {
            panic!("rs_test_count: panic in exit, as configured");
        }
    }
}

config_struct! {
    pub struct PanicFilterConfig {
        /// Panic on records that have this key.
        pub key: String = "panic",
    }
}

/// `rs_test_panic`: a filter that panics on records holding `key`.
pub struct PanicFilter {
    key: String,
}

impl FilterPlugin for PanicFilter {
    const NAME: &'static str = "rs_test_panic";
    const DESCRIPTION: &'static str = "Test: panic on records that hold a given key";
    type Config = PanicFilterConfig;

    fn new(cfg: PanicFilterConfig, _: &InitContext) -> Result<Self, PluginError> {
        Ok(PanicFilter { key: cfg.key })
    }

    fn filter(&mut self, ev: &Event<'_>, _: &str, _: &mut EventEncoder) -> Decision {
        if ev.get(&self.key).is_some() {
            panic!("rs_test_panic: record holds '{}'", self.key);
        }
        Decision::Keep
    }
}
