//! Counters and gauges that the host exposes (in Fluent Bit: the instance's
//! cmetrics, shown on `/api/v2/metrics/prometheus`).
//!
//! Each update is a call into the host; update per chunk, not per record,
//! on hot paths.

use std::sync::Arc;

use crate::host::{Host, MetricKind, MetricOp};

pub(crate) struct Metric {
    host: Arc<dyn Host>,
    id: u32,
    labels: usize,
    name: String,
}

impl Metric {
    fn update(&self, op: MetricOp, value: f64, label_values: &[&str]) {
        if label_values.len() != self.labels {
            log::error!(
                "metric {}: {} label values given, {} declared; update ignored",
                self.name,
                label_values.len(),
                self.labels
            );
            return;
        }
        self.host.metric_update(self.id, op, value, label_values);
    }
}

pub(crate) fn create(
    host: &Arc<dyn Host>,
    kind: MetricKind,
    name: &str,
    help: &str,
    labels: &[&str],
) -> Result<Arc<Metric>, String> {
    let id = host.metric_create(kind, name, help, labels)?;
    Ok(Arc::new(Metric {
        host: host.clone(),
        id,
        labels: labels.len(),
        name: name.to_string(),
    }))
}

/// A value that only goes up.
#[derive(Clone)]
pub struct Counter(pub(crate) Arc<Metric>);

impl Counter {
    /// Adds one. `label_values` are in the order the labels were declared.
    pub fn inc(&self, label_values: &[&str]) {
        self.add(1.0, label_values);
    }

    /// Adds `v` (negative values are refused: a counter never goes down).
    pub fn add(&self, v: f64, label_values: &[&str]) {
        if v >= 0.0 {
            self.0.update(MetricOp::Add, v, label_values);
        }
    }
}

/// A value that goes up and down.
#[derive(Clone)]
pub struct Gauge(pub(crate) Arc<Metric>);

impl Gauge {
    /// Sets the value. `label_values` are in the order the labels were
    /// declared.
    pub fn set(&self, v: f64, label_values: &[&str]) {
        self.0.update(MetricOp::Set, v, label_values);
    }

    /// Adds `v`, which may be negative.
    pub fn add(&self, v: f64, label_values: &[&str]) {
        self.0.update(MetricOp::Add, v, label_values);
    }

    /// Adds one.
    pub fn inc(&self, label_values: &[&str]) {
        self.add(1.0, label_values);
    }

    /// Takes one away.
    pub fn dec(&self, label_values: &[&str]) {
        self.add(-1.0, label_values);
    }
}
