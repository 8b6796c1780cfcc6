//! `rs_example_jsonl`: writes each record as one JSON line
//! `{"date":<seconds.fraction>,"tag":"...",<fields>}` to a file.

use std::fs::{File, OpenOptions};
use std::io::Write;

use flb_rs_sdk::json;
use flb_rs_sdk::prelude::*;

config_struct! {
    pub struct JsonLinesConfig {
        /// File the records are appended to; created when missing.
        pub path: String,
        /// Name of the key that holds the record's timestamp.
        pub time_key: String = "date",
        /// Also write the tag, under the key `tag`.
        pub include_tag: bool = "on",
        /// fsync the file after every chunk, so an OK means the records are on disk.
        pub sync: bool = "off",
    }
}

pub struct JsonLinesOutput {
    file: File,
    cfg: JsonLinesConfig,
    records: Counter,
    dropped: Counter,
    line: String,
}

impl OutputPlugin for JsonLinesOutput {
    const NAME: &'static str = "rs_example_jsonl";
    const DESCRIPTION: &'static str = "Example: append records to a file as JSON lines";
    type Config = JsonLinesConfig;

    fn new(cfg: JsonLinesConfig, ctx: &InitContext) -> Result<Self, PluginError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&cfg.path)
            .map_err(|e| PluginError::new(format!("cannot open {}: {e}", cfg.path)))?;
        log::info!("writing to {}", cfg.path);
        Ok(JsonLinesOutput {
            file,
            records: ctx.counter("records_total", "Records written", &[])?,
            dropped: ctx.counter(
                "dropped_records_total",
                "Records that could not be written",
                &[],
            )?,
            cfg,
            line: String::new(),
        })
    }

    fn flush(&mut self, chunk: &Chunk<'_>) -> FlushResult {
        // The whole chunk is rendered first and written with one call, so a
        // failed write leaves nothing half-written to retry on top of.
        let mut out = String::new();
        let mut written = 0u64;
        let mut unwritable = 0u64;
        let mut records = chunk.records_until_error();
        for ev in &mut records {
            self.line.clear();
            self.line.push('{');
            json::write_str(&mut self.line, &self.cfg.time_key);
            self.line.push(':');
            self.line
                .push_str(&format!("{}.{:09}", ev.time.seconds, ev.time.nanos));
            if self.cfg.include_tag {
                self.line.push_str(",\"tag\":");
                json::write_str(&mut self.line, chunk.tag);
            }
            let mut body = String::new();
            match json::write_value(&mut body, &Value::Map(ev.body)) {
                Ok(()) => {
                    if body.len() > 2 {
                        self.line.push(',');
                        self.line.push_str(&body[1..body.len() - 1]);
                    }
                    self.line.push_str("}\n");
                    out.push_str(&self.line);
                    written += 1;
                }
                Err(e) => {
                    log::error!("record at offset {} not written: {e}", ev.offset);
                    unwritable += 1;
                }
            }
        }
        if let Err(e) = self.file.write_all(out.as_bytes()).and_then(|()| {
            if self.cfg.sync {
                self.file.sync_data()
            } else {
                Ok(())
            }
        }) {
            log::warn!("write to {} failed: {e}; retrying later", self.cfg.path);
            return FlushResult::Retry;
        }
        self.records.add(written as f64, &[]);
        if unwritable > 0 {
            self.dropped.add(unwritable as f64, &[]);
        }
        match records.into_error() {
            // The records before the damage are written; the rest can never
            // be read, so retrying would only duplicate the good ones.
            Some(e) => {
                log::error!(
                    "malformed chunk (tag {}): {e}; {written} records written before it, the rest is dropped",
                    chunk.tag
                );
                FlushResult::Error
            }
            None => FlushResult::Ok,
        }
    }
}
