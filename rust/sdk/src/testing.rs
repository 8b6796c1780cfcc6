//! A host for unit tests: drives a plugin through the same runtime Fluent
//! Bit uses, and records what it logs and what its metrics say.
//!
//! ```
//! use flb_rs_sdk::testing::{chunk, Harness};
//! # use flb_rs_sdk::prelude::*;
//! # struct Null;
//! # impl OutputPlugin for Null {
//! #     const NAME: &'static str = "null"; const DESCRIPTION: &'static str = "";
//! #     type Config = ();
//! #     fn new(_: (), _: &InitContext) -> Result<Self, PluginError> { Ok(Null) }
//! #     fn flush(&mut self, _: &Chunk<'_>) -> FlushResult { FlushResult::Ok }
//! # }
//! let h = Harness::output::<Null>(&[]).unwrap();
//! let data = chunk(&[(EventTime::new(1, 0), &[("msg", "hi")])]);
//! assert_eq!(h.flush("tag", &data), FlushResult::Ok);
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use log::{Level, LevelFilter};

use crate::config::Properties;
use crate::encode::EventEncoder;
use crate::event::EventTime;
use crate::host::{Host, MetricKind, MetricOp};
use crate::plugin::{FilterPlugin, FlushResult, InputPlugin, OutputPlugin, PluginError};
use crate::runtime::{FilterOutcome, Instance, PluginEntry};

/// One declared metric and its values per label combination.
#[derive(Debug, Clone)]
pub struct TestMetric {
    /// Counter or gauge.
    pub kind: MetricKind,
    /// The name the plugin gave, without Fluent Bit's prefix.
    pub name: String,
    /// The help text.
    pub help: String,
    /// The label names, in declaration order.
    pub labels: Vec<String>,
    /// The current value for each combination of label values updated so
    /// far.
    pub values: HashMap<Vec<String>, f64>,
}

/// A [`Host`] that keeps everything in memory.
pub struct TestHost {
    level: LevelFilter,
    logs: Mutex<Vec<(Level, String)>>,
    metrics: Mutex<Vec<TestMetric>>,
}

impl TestHost {
    /// A host that keeps log lines up to `level`.
    pub fn new(level: LevelFilter) -> Arc<TestHost> {
        Arc::new(TestHost {
            level,
            logs: Mutex::new(Vec::new()),
            metrics: Mutex::new(Vec::new()),
        })
    }

    /// Every line logged so far, in order.
    pub fn logs(&self) -> Vec<(Level, String)> {
        self.logs.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// True when some message at `level` contains `needle`.
    pub fn logged(&self, level: Level, needle: &str) -> bool {
        self.logs()
            .iter()
            .any(|(l, m)| *l == level && m.contains(needle))
    }

    /// The value of a metric for some label values.
    pub fn metric(&self, name: &str, label_values: &[&str]) -> Option<f64> {
        let key: Vec<String> = label_values.iter().map(|s| s.to_string()).collect();
        self.metrics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|m| m.name == name)
            .and_then(|m| m.values.get(&key).copied())
    }

    /// Every metric declared so far, with its values.
    pub fn metrics(&self) -> Vec<TestMetric> {
        self.metrics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Host for TestHost {
    fn log(&self, level: Level, message: &str) {
        self.logs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((level, message.to_string()));
    }

    fn log_level(&self) -> LevelFilter {
        self.level
    }

    fn metric_create(
        &self,
        kind: MetricKind,
        name: &str,
        help: &str,
        labels: &[&str],
    ) -> Result<u32, String> {
        let mut m = self.metrics.lock().unwrap_or_else(|e| e.into_inner());
        if m.iter().any(|x| x.name == name) {
            return Err(format!("metric {name} declared twice"));
        }
        m.push(TestMetric {
            kind,
            name: name.to_string(),
            help: help.to_string(),
            labels: labels.iter().map(|s| s.to_string()).collect(),
            values: HashMap::new(),
        });
        Ok(m.len() as u32 - 1)
    }

    fn metric_update(&self, id: u32, op: MetricOp, value: f64, label_values: &[&str]) {
        let mut m = self.metrics.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(metric) = m.get_mut(id as usize) {
            let v = metric
                .values
                .entry(label_values.iter().map(|s| s.to_string()).collect())
                .or_insert(0.0);
            match op {
                MetricOp::Add => *v += value,
                MetricOp::Set => *v = value,
            }
        }
    }
}

/// A plugin instance under test with its [`TestHost`].
pub struct Harness {
    /// What the instance logged and counted.
    pub host: Arc<TestHost>,
    /// The instance, driven as Fluent Bit would drive it.
    pub instance: Instance,
}

impl Harness {
    /// Starts an output with these properties (logging up to debug); the
    /// error is what Fluent Bit would log when init fails.
    pub fn output<P: OutputPlugin>(props: &[(&str, &str)]) -> Result<Harness, PluginError> {
        Self::create(&PluginEntry::output::<P>(), props, LevelFilter::Debug)
    }

    /// Starts a filter with these properties (logging up to debug).
    pub fn filter<P: FilterPlugin>(props: &[(&str, &str)]) -> Result<Harness, PluginError> {
        Self::create(&PluginEntry::filter::<P>(), props, LevelFilter::Debug)
    }

    /// Starts an input with these properties (logging up to debug); its
    /// threads run until the harness is dropped.
    pub fn input<P: InputPlugin>(props: &[(&str, &str)]) -> Result<Harness, PluginError> {
        Self::create(&PluginEntry::input::<P>(), props, LevelFilter::Debug)
    }

    /// Starts the plugin of `entry` with these properties, logging up to
    /// `level`.
    pub fn create(
        entry: &PluginEntry,
        props: &[(&str, &str)],
        level: LevelFilter,
    ) -> Result<Harness, PluginError> {
        let host = TestHost::new(level);
        let props: Properties = props.iter().map(|(k, v)| (*k, *v)).collect();
        let dyn_host: Arc<dyn Host> = host.clone();
        let instance = Instance::create(entry, dyn_host, &props)?;
        Ok(Harness { host, instance })
    }

    /// Output: flushes one chunk (V1 or V2 events) as Fluent Bit would.
    pub fn flush(&self, tag: &str, data: &[u8]) -> FlushResult {
        self.instance.flush(tag, data)
    }

    /// Filter: runs one chunk through the filter.
    pub fn filter_chunk(&self, tag: &str, data: &[u8]) -> FilterOutcome {
        self.instance.filter(tag, data)
    }

    /// Collects from an input until `records` records arrived or `timeout`
    /// passed; returns the appended buffers with their tags.
    pub fn collect(&self, records: usize, timeout: Duration) -> Vec<(Option<String>, Vec<u8>)> {
        let deadline = Instant::now() + timeout;
        let mut got = Vec::new();
        let mut n = 0;
        while n < records {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || !self.instance.wait_input(left) {
                break;
            }
            n += self.instance.collect(&mut |tag, data, records| {
                // The count handed to the host (Fluent Bit trusts it) is
                // the events' own.
                assert_eq!(
                    records,
                    crate::Events::new(data).count(),
                    "a batch's record count differs from its events"
                );
                got.push((tag.map(str::to_string), data.to_vec()));
                true
            });
        }
        got
    }
}

/// Builds a chunk of V2 events whose bodies hold string fields.
pub fn chunk(records: &[(EventTime, &[(&str, &str)])]) -> Vec<u8> {
    let mut enc = EventEncoder::new();
    for (t, fields) in records {
        enc.record(*t, |m| {
            for (k, v) in *fields {
                m.str(k, v);
            }
        });
    }
    enc.into_bytes()
}
