//! The runtime as a host drives it: outputs on their worker thread, the
//! filter loop, inputs through the bounded queue, panics, logs, metrics.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use flb_rs_sdk::prelude::*;
use flb_rs_sdk::runtime::FilterOutcome;
use flb_rs_sdk::testing::{chunk, Harness};
use flb_rs_sdk::{EventKind, Events, Writer};
use log::{Level, LevelFilter};

flb_rs_sdk::config_struct! {
    struct OutCfg {
        /// ok, retry, error or panic
        mode: String = "ok",
        delay: Duration = "0",
    }
}

struct Out {
    mode: String,
    delay: Duration,
    records: Counter,
    busy: Arc<AtomicUsize>,
}

static EXITS: AtomicUsize = AtomicUsize::new(0);

impl OutputPlugin for Out {
    const NAME: &'static str = "t_out";
    const DESCRIPTION: &'static str = "test output";
    type Config = OutCfg;

    fn new(cfg: OutCfg, ctx: &InitContext) -> Result<Self, PluginError> {
        if cfg.mode == "fail" {
            return Err(PluginError::new("refusing to start"));
        }
        log::info!("started in mode {}", cfg.mode);
        log::debug!("debug detail");
        Ok(Out {
            mode: cfg.mode,
            delay: cfg.delay,
            records: ctx.counter("records_total", "records", &["tag"])?,
            busy: Arc::new(AtomicUsize::new(0)),
        })
    }

    fn flush(&mut self, chunk: &Chunk<'_>) -> FlushResult {
        assert_eq!(
            self.busy.fetch_add(1, Ordering::SeqCst),
            0,
            "flushes overlapped"
        );
        std::thread::sleep(self.delay);
        let n = chunk.records().filter(Result::is_ok).count();
        self.records.add(n as f64, &[chunk.tag]);
        self.busy.fetch_sub(1, Ordering::SeqCst);
        match self.mode.as_str() {
            "retry" => FlushResult::Retry,
            "error" => FlushResult::Error,
            "panic" => panic!("boom in flush"),
            _ => FlushResult::Ok,
        }
    }

    fn exit(&mut self) {
        EXITS.fetch_add(1, Ordering::SeqCst);
    }
}

fn one_record() -> Vec<u8> {
    chunk(&[(EventTime::new(1, 0), &[("msg", "a")])])
}

#[test]
fn output_flushes_on_its_thread_and_reports_metrics_and_logs() {
    let h = Harness::output::<Out>(&[]).unwrap();
    let data = chunk(&[
        (EventTime::new(1, 0), &[("msg", "a")]),
        (EventTime::new(2, 0), &[("msg", "b")]),
    ]);
    assert_eq!(h.flush("app", &data), FlushResult::Ok);
    assert_eq!(h.flush("app", &data), FlushResult::Ok);
    assert_eq!(h.host.metric("records_total", &["app"]), Some(4.0));
    assert!(h.host.logged(Level::Info, "started in mode ok"));
    assert!(h.host.logged(Level::Debug, "debug detail"));
    let before = EXITS.load(Ordering::SeqCst);
    drop(h);
    assert!(
        EXITS.load(Ordering::SeqCst) > before,
        "exit runs on destroy"
    );
}

#[test]
fn log_level_filters_per_instance() {
    let entry = flb_rs_sdk::PluginEntry::output::<Out>();
    let h = Harness::create(&entry, &[], LevelFilter::Info).unwrap();
    assert!(h.host.logged(Level::Info, "started"));
    assert!(!h.host.logs().iter().any(|(l, _)| *l == Level::Debug));
    let quiet = Harness::create(&entry, &[], LevelFilter::Error).unwrap();
    assert!(quiet.host.logs().is_empty());
}

#[test]
fn results_pass_through_and_panics_become_retry() {
    for (mode, want) in [
        ("retry", FlushResult::Retry),
        ("error", FlushResult::Error),
        ("panic", FlushResult::Retry),
    ] {
        let h = Harness::output::<Out>(&[("mode", mode)]).unwrap();
        assert_eq!(h.flush("t", &one_record()), want, "{mode}");
        // The instance keeps working after a panic.
        assert_eq!(h.flush("t", &one_record()), want, "{mode} again");
    }
    let h = Harness::output::<Out>(&[("mode", "panic")]).unwrap();
    h.flush("t", &one_record());
    assert!(h.host.logged(Level::Error, "panic in flush: boom in flush"));
}

/// Bytes lent to a flush that note when they are let go.
struct Lent {
    bytes: Vec<u8>,
    dropped: Arc<AtomicUsize>,
}

impl AsRef<[u8]> for Lent {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        self.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_lent_chunk_is_let_go_before_the_flush_returns() {
    // The host's buffer is lent, not copied: whatever the flush did (ok,
    // retry, error, panic), the flush thread holds nothing of it once the
    // caller's flush returns, and the plugin read the lent bytes.
    for mode in ["ok", "retry", "error", "panic"] {
        let h = Harness::output::<Out>(&[("mode", mode)]).unwrap();
        let dropped = Arc::new(AtomicUsize::new(0));
        for i in 1..=3 {
            let lent = Box::new(Lent {
                bytes: one_record(),
                dropped: dropped.clone(),
            });
            h.instance.flush_lent("lent", lent, 0);
            assert_eq!(dropped.load(Ordering::SeqCst), i, "{mode}, flush {i}");
        }
        if mode != "panic" {
            assert_eq!(h.host.metric("records_total", &["lent"]), Some(3.0));
        }
    }
}

#[test]
fn init_errors_are_reported_not_panicked() {
    let e = Harness::output::<Out>(&[("mode", "fail")]).err().unwrap();
    assert_eq!(e.0, "refusing to start");
    let e = Harness::output::<Out>(&[("nope", "1")]).err().unwrap();
    assert!(e.0.contains("unknown configuration key 'nope'"), "{e}");
}

#[test]
fn concurrent_flushes_are_serialised_and_all_delivered() {
    let h = Arc::new(Harness::output::<Out>(&[("delay", "1ms")]).unwrap());
    let fields: &[(&str, &str)] = &[("m", "x")];
    let data = Arc::new(chunk(&[(EventTime::new(1, 0), fields); 10]));
    let threads: Vec<JoinHandle<()>> = (0..4)
        .map(|_| {
            let (h, data) = (h.clone(), data.clone());
            std::thread::spawn(move || {
                for _ in 0..25 {
                    assert_eq!(h.flush("c", &data), FlushResult::Ok);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(h.host.metric("records_total", &["c"]), Some(1000.0));
}

flb_rs_sdk::config_struct! {
    struct FilterCfg {
        /// Records whose `msg` is this are dropped.
        drop: String = "drop",
        /// Records whose `msg` is this are replaced by two.
        split: String = "split",
        /// Records whose `msg` is this panic.
        panic: String = "panic",
    }
}

struct Filt(FilterCfg);

impl FilterPlugin for Filt {
    const NAME: &'static str = "t_filter";
    const DESCRIPTION: &'static str = "test filter";
    type Config = FilterCfg;

    fn new(cfg: FilterCfg, _: &InitContext) -> Result<Self, PluginError> {
        Ok(Filt(cfg))
    }

    fn filter(&mut self, ev: &Event<'_>, _: &str, out: &mut EventEncoder) -> Decision {
        let msg = ev
            .get("msg")
            .and_then(|v| v.as_str())
            .map(|s| s.to_str_lossy().into_owned());
        match msg.as_deref() {
            Some(m) if m == self.0.drop => Decision::Drop,
            Some(m) if m == self.0.panic => panic!("filter panic"),
            Some(m) if m == self.0.split => {
                for part in ["one", "two"] {
                    out.record(ev.time, |w| w.str("msg", part));
                }
                Decision::Replace
            }
            _ => Decision::Keep,
        }
    }
}

fn msgs(data: &[u8]) -> Vec<String> {
    Events::new(data)
        .map(|e| {
            let e = e.unwrap();
            match e.kind {
                EventKind::Record => e
                    .get("msg")
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_string(),
                k => format!("{k:?}"),
            }
        })
        .collect()
}

#[test]
fn filter_keeps_untouched_chunks_without_encoding() {
    let h = Harness::filter::<Filt>(&[]).unwrap();
    let data = chunk(&[
        (EventTime::new(1, 0), &[("msg", "a")]),
        (EventTime::new(2, 0), &[("msg", "b")]),
    ]);
    assert_eq!(h.filter_chunk("t", &data), FilterOutcome::Unchanged);
}

#[test]
fn filter_drops_and_replaces_and_copies_the_rest_verbatim() {
    let h = Harness::filter::<Filt>(&[]).unwrap();
    let recs = [
        (EventTime::new(1, 0), &[("msg", "a")][..]),
        (EventTime::new(2, 0), &[("msg", "drop")][..]),
        (EventTime::new(3, 0), &[("msg", "b")][..]),
        (EventTime::new(4, 0), &[("msg", "split")][..]),
        (EventTime::new(5, 0), &[("msg", "c")][..]),
    ];
    let data = chunk(&recs);
    let FilterOutcome::Modified(out) = h.filter_chunk("t", &data) else {
        panic!("expected a modified chunk")
    };
    assert_eq!(msgs(&out), ["a", "b", "one", "two", "c"]);
    // Kept records are the input's bytes.
    let first = chunk(&recs[..1]);
    assert_eq!(&out[..first.len()], &first[..]);
    let last = chunk(&recs[4..]);
    assert_eq!(&out[out.len() - last.len()..], &last[..]);
}

#[test]
fn filter_passes_group_markers_and_malformed_tails_unchanged() {
    let h = Harness::filter::<Filt>(&[]).unwrap();
    let mut w = Writer::new();
    // A group start marker, then records, then garbage.
    w.array_len(2);
    w.array_len(2);
    w.event_time(EventTime::new(0xffff_ffff, 0));
    w.map_len(0);
    w.map(|m| m.str("resource", "r"));
    let mut data = w.into_bytes();
    data.extend(chunk(&[
        (EventTime::new(1, 0), &[("msg", "drop")]),
        (EventTime::new(2, 0), &[("msg", "z")]),
    ]));
    let garbage = [0x92, 0xc1, 0x00];
    data.extend(garbage);
    let FilterOutcome::Modified(out) = h.filter_chunk("t", &data) else {
        panic!("expected a modified chunk")
    };
    assert!(out.ends_with(&garbage), "malformed tail kept byte for byte");
    let kinds: Vec<_> = Events::new(&out)
        .filter_map(Result::ok)
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, [EventKind::GroupStart, EventKind::Record]);
    assert!(h.host.logged(Level::Error, "malformed chunk"));
}

#[test]
fn filter_panic_leaves_the_chunk_unchanged() {
    let h = Harness::filter::<Filt>(&[]).unwrap();
    let data = chunk(&[
        (EventTime::new(1, 0), &[("msg", "drop")]),
        (EventTime::new(2, 0), &[("msg", "panic")]),
    ]);
    assert_eq!(h.filter_chunk("t", &data), FilterOutcome::Unchanged);
    assert!(h.host.logged(Level::Error, "panic in filter: filter panic"));
    // And it keeps working.
    let data = chunk(&[(EventTime::new(1, 0), &[("msg", "drop")])]);
    assert!(matches!(
        h.filter_chunk("t", &data),
        FilterOutcome::Modified(_)
    ));
}

flb_rs_sdk::config_struct! {
    struct InCfg {
        count: u64 = "10",
    }
}

struct In {
    count: u64,
    spawner: flb_rs_sdk::Spawner,
    thread: Option<JoinHandle<Result<(), flb_rs_sdk::EmitError>>>,
    paused: Arc<AtomicUsize>,
}

impl InputPlugin for In {
    const NAME: &'static str = "t_in";
    const DESCRIPTION: &'static str = "test input";
    type Config = InCfg;

    fn new(cfg: InCfg, ctx: &InitContext) -> Result<Self, PluginError> {
        Ok(In {
            count: cfg.count,
            spawner: ctx.spawner(),
            thread: None,
            paused: Arc::new(AtomicUsize::new(0)),
        })
    }

    fn start(&mut self, emitter: Emitter) -> Result<(), PluginError> {
        let count = self.count;
        self.thread = Some(self.spawner.spawn("emit", move || {
            for i in 0..count {
                let mut enc = EventEncoder::new();
                enc.record(EventTime::new(i as i64, 0), |m| m.uint("seq", i));
                emitter.emit(enc)?;
            }
            log::info!("all emitted");
            Ok(())
        })?);
        Ok(())
    }

    fn pause(&mut self) {
        self.paused.fetch_add(1, Ordering::SeqCst);
    }

    fn exit(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn input_records_arrive_in_order_through_the_queue() {
    let h = Harness::input::<In>(&[("count", "500")]).unwrap();
    let got = h.collect(500, Duration::from_secs(10));
    let seqs: Vec<u64> = got
        .iter()
        .flat_map(|(_, data)| {
            Events::new(data)
                .map(|e| e.unwrap().get("seq").unwrap().as_u64().unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(seqs, (0..500).collect::<Vec<_>>());
    // Logs from the plugin's own thread belong to the instance.
    let host = h.host.clone();
    drop(h);
    assert!(host.logged(Level::Info, "all emitted"));
}

#[test]
fn input_blocked_on_a_full_queue_stops_at_destroy() {
    // Nobody collects: the emitting thread fills the queue and blocks;
    // destroying the instance must wake it and report what is lost.
    let h = Harness::input::<In>(&[("count", "100000")]).unwrap();
    assert!(h.instance.wait_input(Duration::from_secs(5)));
    let host = h.host.clone();
    let started = std::time::Instant::now();
    drop(h);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(host.logged(Level::Warn, "still queued at shutdown"));
}

#[test]
fn refused_appends_are_offered_again() {
    let h = Harness::input::<In>(&[("count", "3")]).unwrap();
    assert!(h.instance.wait_input(Duration::from_secs(5)));
    let mut offered = 0;
    let n = h.instance.collect(&mut |_, _, _| {
        offered += 1;
        false
    });
    assert_eq!((n, offered), (0, 1));
    let got = h.collect(3, Duration::from_secs(5));
    let total: usize = got.iter().map(|(_, d)| Events::new(d).count()).sum();
    assert_eq!(total, 3);
}

struct Paused {
    spawner: flb_rs_sdk::Spawner,
    thread: Option<JoinHandle<()>>,
}

impl InputPlugin for Paused {
    const NAME: &'static str = "t_paused";
    const DESCRIPTION: &'static str = "emits one record per resume";
    type Config = ();

    fn new(_: (), ctx: &InitContext) -> Result<Self, PluginError> {
        Ok(Paused {
            spawner: ctx.spawner(),
            thread: None,
        })
    }

    fn start(&mut self, emitter: Emitter) -> Result<(), PluginError> {
        self.thread = Some(self.spawner.spawn("paused", move || {
            let mut seq = 0u64;
            while emitter.wait_while_paused().is_ok() {
                let mut enc = EventEncoder::new();
                enc.record(EventTime::new(1, 0), |m| m.uint("seq", seq));
                seq += 1;
                if emitter.emit(enc).is_err() {
                    return;
                }
            }
        })?);
        Ok(())
    }

    fn exit(&mut self) {
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

#[test]
fn pause_from_inside_append_neither_deadlocks_nor_lets_the_source_run_on() {
    let h = Harness::input::<Paused>(&[]).unwrap();
    assert!(h.instance.wait_input(Duration::from_secs(5)));
    // The host pauses from within its append, as Fluent Bit does when an
    // input hits its buffer limit.
    let mut appended = 0;
    h.instance.collect(&mut |_, _, _| {
        appended += 1;
        h.instance.pause();
        true
    });
    assert!(appended >= 1);
    // Drain what was queued before the pause took effect; then nothing more
    // arrives while paused (the thread waits instead of emitting).
    while !h.collect(1, Duration::from_millis(200)).is_empty() {}
    assert!(h.collect(1, Duration::from_millis(300)).is_empty());
    h.instance.resume();
    assert!(!h.collect(1, Duration::from_secs(5)).is_empty());
}

/// The same filter, dropping what it cannot get through.
struct StrictFilt(Filt);

impl FilterPlugin for StrictFilt {
    const NAME: &'static str = "t_strict_filter";
    const DESCRIPTION: &'static str = "test filter that fails closed";
    const ON_FAILURE: OnFailure = OnFailure::Drop;
    type Config = FilterCfg;

    fn new(cfg: FilterCfg, ctx: &InitContext) -> Result<Self, PluginError> {
        Filt::new(cfg, ctx).map(StrictFilt)
    }

    fn filter(&mut self, ev: &Event<'_>, tag: &str, out: &mut EventEncoder) -> Decision {
        self.0.filter(ev, tag, out)
    }
}

#[test]
fn a_fail_closed_filter_drops_what_it_cannot_filter() {
    let h = Harness::filter::<StrictFilt>(&[]).unwrap();
    let data = chunk(&[
        (EventTime::new(1, 0), &[("msg", "a")]),
        (EventTime::new(2, 0), &[("msg", "panic")]),
    ]);
    assert_eq!(
        h.filter_chunk("t", &data),
        FilterOutcome::Modified(Vec::new())
    );
    assert!(h.host.logged(
        Level::Error,
        "panic in filter: filter panic; the chunk (2 records) is dropped rather than passed on unfiltered"
    ));
    // A malformed tail goes; the good records before it are kept.
    let mut data = chunk(&[
        (EventTime::new(1, 0), &[("msg", "a")]),
        (EventTime::new(2, 0), &[("msg", "b")]),
    ]);
    let good = data.len();
    data.extend_from_slice(&[0x92, 0xc1]);
    let FilterOutcome::Modified(out) = h.filter_chunk("t", &data) else {
        panic!("expected the tail to be dropped")
    };
    assert_eq!(out, &data[..good]);
    assert!(h.host.logged(Level::Error, "its last 2 bytes are dropped"));
}

/// Decides while reading the body: drops a record whose first value is
/// "drop", having read only that far; an empty body goes to `filter`.
struct BodyFilt;

/// Events `BodyFilt::filter` was given.
static BODY_FILT_WHOLE: AtomicUsize = AtomicUsize::new(0);

impl FilterPlugin for BodyFilt {
    const NAME: &'static str = "t_body_filter";
    const DESCRIPTION: &'static str = "test filter reading bodies";
    type Config = ();

    fn new(_: (), _: &InitContext) -> Result<Self, PluginError> {
        Ok(BodyFilt)
    }

    fn filter(&mut self, ev: &Event<'_>, _: &str, _: &mut EventEncoder) -> Decision {
        assert!(ev.body.is_empty(), "only empty bodies are decided here");
        BODY_FILT_WHOLE.fetch_add(1, Ordering::SeqCst);
        Decision::Keep
    }

    fn filter_body(
        &mut self,
        _: &flb_rs_sdk::EventHead<'_>,
        body: &mut flb_rs_sdk::ValueReader<'_>,
        _: &str,
        _: &mut EventEncoder,
    ) -> Option<Decision> {
        use flb_rs_sdk::msgpack::Token;
        let Ok(Token::Map(n)) = body.read_token() else {
            return Some(Decision::Keep);
        };
        if n == 0 {
            // Decided by `filter`, on the whole event.
            return None;
        }
        let _key = body.read_value().ok()?;
        Some(match body.read_value() {
            Ok(Value::Str(s)) if s == "drop" => Decision::Drop,
            _ => Decision::Keep,
        })
    }
}

#[test]
fn a_filter_reading_bodies_decides_once_and_the_runtime_checks_the_rest() {
    let h = Harness::filter::<BodyFilt>(&[]).unwrap();
    let recs = [
        (
            EventTime::new(1, 0),
            &[("msg", "a"), ("more", "unread")][..],
        ),
        (
            EventTime::new(2, 0),
            &[("msg", "drop"), ("more", "unread")][..],
        ),
        (EventTime::new(3, 0), &[][..]),
        (EventTime::new(4, 0), &[("msg", "b")][..]),
    ];
    let data = chunk(&recs);
    let FilterOutcome::Modified(out) = h.filter_chunk("t", &data) else {
        panic!("expected a modified chunk")
    };
    let mut expected = chunk(&recs[..1]);
    expected.extend(chunk(&recs[2..]));
    assert_eq!(out, expected, "the rest is the input's bytes");
    // Only the record it left undecided went to `filter`, read whole.
    assert_eq!(BODY_FILT_WHOLE.load(Ordering::SeqCst), 1);

    // A body cut short after the part the filter read: its decision is
    // dropped, and the malformed tail is kept byte for byte.
    let mut data = chunk(&recs[..1]);
    let cut = chunk(&recs[1..2]);
    data.extend_from_slice(&cut[..cut.len() - 2]);
    assert_eq!(h.filter_chunk("t", &data), FilterOutcome::Unchanged);
    assert!(h.host.logged(Level::Error, "malformed chunk"));
}
