//! `my_output`: appends one field of every record to a file, one line per
//! record. A starting point: replace `flush` with your delivery.

#![deny(missing_docs)]

use std::fs::{File, OpenOptions};
use std::io::Write;

use flb_rs_sdk::prelude::*;

config_struct! {
    /// The plugin's configuration keys: `fluent-bit -o my_output -h`
    /// lists them with these types, defaults and descriptions.
    pub struct Config {
        /// File the lines are appended to; created when missing.
        pub path: String,
        /// The record field written on each line.
        pub key: String = "log",
    }
}

/// One instance of the output (one `[OUTPUT]` section).
pub struct MyOutput {
    cfg: Config,
    file: File,
    written: Counter,
    line: Vec<u8>,
}

impl OutputPlugin for MyOutput {
    const NAME: &'static str = "my_output";
    const DESCRIPTION: &'static str = "Template: append one field of each record to a file";
    type Config = Config;

    fn new(cfg: Config, ctx: &InitContext) -> Result<Self, PluginError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&cfg.path)
            .map_err(|e| PluginError::new(format!("cannot open {}: {e}", cfg.path)))?;
        // Fluent Bit's own logger, with the instance's name.
        log::info!("appending the field '{}' to {}", cfg.key, cfg.path);
        Ok(MyOutput {
            // fluentbit_my_output_lines_total on Fluent Bit's HTTP server.
            written: ctx.counter("lines_total", "Lines written", &[])?,
            cfg,
            file,
            line: Vec::new(),
        })
    }

    fn flush(&mut self, chunk: &Chunk<'_>) -> FlushResult {
        // The chunk is rendered whole and written with one call: a failed
        // write leaves nothing half-done for the retry to repeat.
        self.line.clear();
        let mut n = 0u64;
        let mut records = chunk.records_until_error();
        for record in &mut records {
            // Zero-copy: the value borrows the chunk.
            match record.get(&self.cfg.key) {
                Some(Value::Str(s)) => self.line.extend_from_slice(s.as_bytes()),
                Some(other) => self.line.extend_from_slice(format!("{other:?}").as_bytes()),
                None => {}
            }
            self.line.push(b'\n');
            n += 1;
        }
        if let Err(e) = self.file.write_all(&self.line) {
            log::warn!(
                "cannot write to {}: {e}; Fluent Bit will retry",
                self.cfg.path
            );
            return FlushResult::Retry;
        }
        self.written.add(n as f64, &[]);
        match records.into_error() {
            // What came before the damage is written; the rest can never
            // be read, and a retry would only write the good part again.
            Some(e) => {
                log::error!("malformed chunk: {e}; {n} lines written, the rest dropped");
                FlushResult::Error
            }
            None => FlushResult::Ok,
        }
    }
}
