//! `rs_example_set`: sets fields to fixed values and removes fields.

use flb_rs_sdk::prelude::*;

config_struct! {
    pub struct SetConfig {
        /// Sets a field: `KEY VALUE` (the value may contain spaces). Repeatable.
        pub set: Multi<String>,
        /// Removes a field by name. Repeatable.
        pub remove: Multi<String>,
    }
}

pub struct SetFilter {
    set: Vec<(String, String)>,
    remove: Vec<String>,
    changed: Counter,
}

impl FilterPlugin for SetFilter {
    const NAME: &'static str = "rs_example_set";
    const DESCRIPTION: &'static str = "Example: set and remove record fields";
    type Config = SetConfig;

    fn new(cfg: SetConfig, ctx: &InitContext) -> Result<Self, PluginError> {
        let set = cfg
            .set
            .0
            .iter()
            .map(|s| match s.trim().split_once(char::is_whitespace) {
                Some((k, v)) => Ok((k.to_string(), v.trim().to_string())),
                None => Err(PluginError::new(format!(
                    "set '{s}': expected a key and a value separated by a space"
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SetFilter {
            set,
            remove: cfg.remove.0,
            changed: ctx.counter("changed_records_total", "Records changed", &[])?,
        })
    }

    fn filter(&mut self, ev: &Event<'_>, _tag: &str, out: &mut EventEncoder) -> Decision {
        let touched = |k: &[u8]| {
            self.remove.iter().any(|r| r.as_bytes() == k)
                || self.set.iter().any(|(s, _)| s.as_bytes() == k)
        };
        // Already as wanted: keep the record untouched, at no cost.
        let unchanged = self.remove.iter().all(|r| ev.body.get(r).is_none())
            && self
                .set
                .iter()
                .all(|(k, v)| matches!(ev.body.get(k), Some(Value::Str(s)) if s == v.as_str()));
        if unchanged {
            return Decision::Keep;
        }
        let meta = ev.metadata.map(Value::Map);
        out.record_with_metadata(ev.time, meta.as_ref(), |m| {
            for (k, v) in ev.body.iter() {
                if !matches!(k, Value::Str(s) if touched(s.as_bytes())) {
                    m.entry(&k, &v);
                }
            }
            for (k, v) in &self.set {
                m.str(k, v);
            }
        });
        self.changed.inc(&[]);
        Decision::Replace
    }
}
