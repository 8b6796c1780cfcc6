//! `rs_example_gen`: emits numbered records from a thread of its own.

use std::thread::JoinHandle;
use std::time::Duration;

use flb_rs_sdk::prelude::*;
use flb_rs_sdk::Spawner;

config_struct! {
    pub struct GenConfig {
        /// Text of the `message` field.
        pub message: String = "hello from rust",
        /// Records to emit in all; 0 means no end.
        pub count: u64 = "0",
        /// Pause between records (0 emits as fast as the host takes them).
        pub interval: Duration = "1s",
        /// Records per batch handed to the host.
        pub batch: usize = "1",
    }
}

pub struct GenInput {
    cfg: GenConfig,
    spawner: Spawner,
    emitted: Counter,
    thread: Option<JoinHandle<()>>,
}

impl InputPlugin for GenInput {
    const NAME: &'static str = "rs_example_gen";
    const DESCRIPTION: &'static str = "Example: generate numbered records";
    type Config = GenConfig;

    fn new(cfg: GenConfig, ctx: &InitContext) -> Result<Self, PluginError> {
        if cfg.batch == 0 {
            return Err(PluginError::new("batch must be at least 1"));
        }
        Ok(GenInput {
            cfg,
            spawner: ctx.spawner(),
            emitted: ctx.counter("records_total", "Records emitted", &[])?,
            thread: None,
        })
    }

    fn start(&mut self, emitter: Emitter) -> Result<(), PluginError> {
        let message = self.cfg.message.clone();
        let (count, interval, batch) = (self.cfg.count, self.cfg.interval, self.cfg.batch as u64);
        let emitted = self.emitted.clone();
        self.thread = Some(self.spawner.spawn("gen", move || {
            let mut seq = 0u64;
            while count == 0 || seq < count {
                // Nothing is produced while the host has the input paused.
                if emitter.wait_while_paused().is_err() {
                    return;
                }
                let mut enc = EventEncoder::new();
                let n = if count == 0 {
                    batch
                } else {
                    batch.min(count - seq)
                };
                for _ in 0..n {
                    enc.record(EventTime::now(), |m| {
                        m.str("message", &message);
                        m.uint("seq", seq);
                    });
                    seq += 1;
                }
                if emitter.emit(enc).is_err() {
                    return;
                }
                emitted.add(n as f64, &[]);
                if !interval.is_zero() && emitter.wait_stop(interval) {
                    return;
                }
            }
            log::debug!("emitted all {count} records");
        })?);
        Ok(())
    }

    fn exit(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
