//! `rs_redact`: the filter that applies the rules to every record.

use flb_rs_sdk::prelude::*;
use flb_rs_sdk::{EventHead, ValueReader, Writer};

use crate::keys::KeyPolicy;
use crate::rule::{Rule, RuleSet};
use crate::walk::{rewrite, scan, Plan, Removed, Scratch, Tally};

config_struct! {
    pub struct RedactConfig {
        /// A rule: NAME [fields=*|KEY|$path,...] [scope=body|metadata|both]
        /// [action=mask|mask:TEXT|keep_last:N|hash|drop]
        /// [detector=card|email|ipv4|ipv6|jwt|bearer|aws_key|password | regex=RE].
        /// Repeatable; rules apply in order.
        pub rule: Multi<String>,
        /// Secret for the hash action (HMAC-SHA256). Keep it out of the
        /// configuration file, e.g. ${REDACT_HASH_KEY}.
        pub hash_key: Option<String>,
        /// Allow list for the body: only these keys or paths
        /// ($kubernetes['labels']) stay, with all under them; every other
        /// field is removed (see not_allowed). The rules apply to what stays.
        pub allow_keys: Option<String>,
        /// Allow list for the metadata, as allow_keys.
        pub metadata_allow_keys: Option<String>,
        /// Keys or paths always removed from the body, allowed or not.
        pub drop_keys: Option<String>,
        /// Keys or paths always removed from the metadata.
        pub metadata_drop_keys: Option<String>,
        /// What happens to a field outside an allow list: drop (the field
        /// goes), mask (its value becomes [REDACTED]) or mask:TEXT.
        pub not_allowed: String = "drop",
    }
}

pub struct RedactFilter {
    rules: RuleSet,
    keys: KeyPolicy,
    /// What the scans changed (per rule) and removed (by the key lists),
    /// counted per record and published once per chunk.
    tally: Tally,
    removed_total: Counter,
    /// Records seen in this chunk, and those of them with metadata: what
    /// each rule looked at, published once per chunk.
    records: u64,
    with_metadata: u64,
    changed_records: u64,
    scratch: Scratch,
    scanned_total: Counter,
    changed_total: Counter,
    records_changed_total: Counter,
    body: Writer,
    meta: Writer,
}

impl FilterPlugin for RedactFilter {
    const NAME: &'static str = "rs_redact";
    const DESCRIPTION: &'static str =
        "Redact secrets and personal data (cards, e-mail, IPs, tokens, passwords, regexes)";
    type Config = RedactConfig;
    /// A chunk that cannot be filtered (a panic, a malformed event) is
    /// dropped and logged, never passed on with what it should not hold.
    const ON_FAILURE: OnFailure = OnFailure::Drop;

    fn new(cfg: RedactConfig, ctx: &InitContext) -> Result<Self, PluginError> {
        let key = cfg.hash_key.as_deref();
        let rules = cfg
            .rule
            .0
            .iter()
            .map(|line| Rule::parse(line, key).map_err(PluginError::new))
            .collect::<Result<Vec<_>, _>>()?;
        let keys = KeyPolicy::parse(
            cfg.allow_keys.as_deref(),
            cfg.metadata_allow_keys.as_deref(),
            cfg.drop_keys.as_deref(),
            cfg.metadata_drop_keys.as_deref(),
            &cfg.not_allowed,
        )
        .map_err(PluginError::new)?;
        if rules.is_empty() && !keys.is_active() {
            return Err(PluginError::new(
                "no rule: add at least one 'rule NAME ... detector=... | regex=...', \
                 or allow_keys / drop_keys",
            ));
        }
        for (i, r) in rules.iter().enumerate() {
            if rules[..i].iter().any(|o| o.name == r.name) {
                return Err(PluginError::new(format!(
                    "rule '{}' is defined twice: rule names label the metrics, make them unique",
                    r.name
                )));
            }
        }
        log::info!(
            "{} rule(s): {}",
            rules.len(),
            rules
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        Ok(RedactFilter {
            records: 0,
            with_metadata: 0,
            tally: Tally {
                changed: vec![0; rules.len()],
                removed: Removed::default(),
            },
            changed_records: 0,
            scratch: Scratch::default(),
            scanned_total: ctx.counter(
                "records_scanned_total",
                "Records a rule looked at",
                &["rule"],
            )?,
            changed_total: ctx.counter(
                "fields_changed_total",
                "Fields a rule masked, hashed or dropped",
                &["rule"],
            )?,
            records_changed_total: ctx.counter(
                "records_changed_total",
                "Records with at least one change",
                &[],
            )?,
            removed_total: ctx.counter(
                "fields_removed_total",
                "Fields removed by the key lists: outside an allow list, or on a drop list",
                &["reason"],
            )?,
            rules: RuleSet::new(rules),
            keys,
            body: Writer::new(),
            meta: Writer::new(),
        })
    }

    fn filter(&mut self, ev: &Event<'_>, tag: &str, out: &mut EventEncoder) -> Decision {
        // The runtime decides every record with `filter_body` (it never
        // returns `None` for a body that reads whole); this is for a
        // caller holding a whole event, whose body is read again.
        let mut body = ValueReader::new(ev.body.raw());
        self.filter_body(&ev.head(), &mut body, tag, out)
            .unwrap_or(Decision::Keep)
    }

    fn filter_body(
        &mut self,
        head: &EventHead<'_>,
        body: &mut ValueReader<'_>,
        _tag: &str,
        out: &mut EventEncoder,
    ) -> Option<Decision> {
        let (rules, keys) = (&self.rules, &self.keys);
        let (tally, scratch) = (&mut self.tally, &mut self.scratch);
        // A malformed body is the runtime's to report: it drops this
        // decision and treats the chunk as malformed. The record is not
        // counted, nor is anything decided in it before the failure.
        let body_plan = scan(body, rules, keys, false, tally, scratch).ok()?;
        self.records += 1;
        self.with_metadata += u64::from(head.metadata.is_some());
        let meta_plan = head.metadata.as_ref().map(|m| {
            // Most records' metadata is empty: nothing to look at.
            let plan = if m.is_empty() {
                Plan::default()
            } else {
                // Read whole already, so it reads again.
                scan(
                    &mut ValueReader::new(m.raw()),
                    rules,
                    keys,
                    true,
                    tally,
                    scratch,
                )
                .unwrap_or_else(|e| {
                    log::error!("metadata unreadable while redacting: {e}");
                    Plan::default()
                })
            };
            (m, plan)
        });
        let meta_changed = meta_plan.as_ref().is_some_and(|(_, p)| !p.is_empty());
        if body_plan.is_empty() && !meta_changed {
            // The common case: nothing found, nothing encoded.
            return Some(Decision::Keep);
        }
        let body = body.complete_map().ok()?;
        self.body.clear();
        self.meta.clear();
        let written = rewrite(&body, &body_plan, &mut self.body).and_then(|()| match &meta_plan {
            Some((m, plan)) => rewrite(m, plan, &mut self.meta),
            None => Ok(()),
        });
        if let Err(e) = written {
            // Cannot happen for a record that was read whole; if it does,
            // the record goes rather than pass with what it should not hold.
            log::error!("record dropped: unreadable while redacting: {e}");
            return Some(Decision::Drop);
        }
        let metadata = meta_plan.as_ref().map(|_| self.meta.as_bytes());
        out.record_encoded(head.time, metadata, self.body.as_bytes());
        self.changed_records += 1;
        Some(Decision::Replace)
    }

    fn chunk_done(&mut self) {
        for (i, r) in self.rules.iter().enumerate() {
            // A rule looks at every record's body, or at the metadata of
            // those that have it.
            let scanned = match (r.body, r.metadata) {
                (true, _) => self.records,
                (false, true) => self.with_metadata,
                (false, false) => 0,
            };
            if scanned > 0 {
                self.scanned_total.add(scanned as f64, &[&r.name]);
            }
            if self.tally.changed[i] > 0 {
                self.changed_total
                    .add(self.tally.changed[i] as f64, &[&r.name]);
            }
        }
        if self.changed_records > 0 {
            self.records_changed_total
                .add(self.changed_records as f64, &[]);
        }
        let Removed {
            not_allowed,
            dropped,
        } = std::mem::take(&mut self.tally.removed);
        if not_allowed > 0 {
            self.removed_total.add(not_allowed as f64, &["not_allowed"]);
        }
        if dropped > 0 {
            self.removed_total.add(dropped as f64, &["drop_keys"]);
        }
        (self.records, self.with_metadata) = (0, 0);
        self.tally.changed.iter_mut().for_each(|n| *n = 0);
        self.changed_records = 0;
    }
}
