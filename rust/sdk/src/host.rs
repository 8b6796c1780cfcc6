//! What a plugin instance needs from the program that runs it.
//!
//! Inside Fluent Bit these are the C host's callbacks (see the FFI crate);
//! in tests, [`crate::testing::TestHost`].

use log::{Level, LevelFilter};

/// Kinds of metric a plugin can declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// Only goes up (see [`crate::metrics::Counter`]).
    Counter,
    /// Goes up and down (see [`crate::metrics::Gauge`]).
    Gauge,
}

/// How an update changes a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricOp {
    /// Add to the value (counters and gauges).
    Add,
    /// Replace the value (gauges only).
    Set,
}

/// Services of the host, for one plugin instance.
///
/// Every method may be called from any thread, concurrently: the plugin's
/// own threads log and update metrics.
pub trait Host: Send + Sync + 'static {
    /// Writes one log line for this instance. Only called for levels that
    /// [`Host::log_level`] lets through.
    fn log(&self, level: Level, message: &str);

    /// The most verbose level this instance logs at.
    fn log_level(&self) -> LevelFilter;

    /// Declares a metric; returns the id later updates name.
    fn metric_create(
        &self,
        kind: MetricKind,
        name: &str,
        help: &str,
        labels: &[&str],
    ) -> Result<u32, String>;

    /// Updates a metric for one combination of label values.
    fn metric_update(&self, id: u32, op: MetricOp, value: f64, label_values: &[&str]);
}
