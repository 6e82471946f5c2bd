//! The one driver both levels run on: case indices of the shard handed out in increasing
//! order to worker threads, one at a time (a soak never collects them), the time budget, the
//! stop on a setup error, and the lowest failing case index whatever the thread count.
//!
//! Why the lowest failing index is exact: indices are handed out in order, so when case `k`
//! fails every case below `k` has already started and is run to its end (only cases above the
//! lowest failure seen so far stop being started). The failure reported is the minimum over
//! all of them, the same on a laptop and on a CI runner with another core count.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use super::options::Options;
use super::progress::Bar;
use super::stall::{StallAt, StallReport};
use crate::run::case::{CaseRun, Totals};
use crate::run::text::abbreviate;
use crate::run::watchdog::{watch, Beat, Stall, StallFinding, Task};

/// A level of checking: how a case is generated and run.
pub trait Level: Sync {
    /// One step of a case.
    type Op: Clone + Send + Sync + std::fmt::Debug;
    /// Where a case first disagreed.
    type Finding: Clone + Send;
    /// The engines under test, in the order [`CaseRun::latencies`] uses.
    fn engine_labels(&self) -> Vec<String>;
    /// Case `index` of the run with `seed`.
    fn generate(&self, seed: u64, index: u64, max_ops: usize) -> Vec<Self::Op>;
    /// The label of the reference the engines are compared with.
    fn reference_label(&self) -> String;
    /// The labels case `index` runs the engines under, in [`Self::engine_labels`]' order:
    /// each engine's label, or the label of the configuration drawn for the case.
    fn case_labels(&self, seed: u64, index: u64) -> Vec<String> {
        let _ = (seed, index);
        self.engine_labels()
    }
    /// Runs case `index` (its `ops`) on fresh stores, saying each op on `beat`. `Err` only
    /// when a store cannot be set up at all.
    fn run(
        &self,
        seed: u64,
        index: u64,
        ops: &[Self::Op],
        beat: &Beat,
    ) -> Result<CaseRun<Self::Finding>, String>;
    /// Writes the repro of case `case` of the run with `seed`, cut after the op that stalled
    /// (`ops`), into `dir`; its path.
    fn save_stall(
        &self,
        seed: u64,
        case: u64,
        ops: Vec<Self::Op>,
        stall: StallFinding,
        dir: &Path,
    ) -> Result<PathBuf, String>;
}

/// The first (lowest-index) failing case: its index, its ops and what was seen.
pub type Failing<L> = (u64, Vec<<L as Level>::Op>, <L as Level>::Finding);

/// Everything the driver measured.
pub struct Driven<L: Level> {
    /// What the cases that ran add up to.
    pub totals: Totals,
    /// Setups that failed (each stops the run).
    pub setup_errors: Vec<String>,
    /// Whether the time budget stopped the run before its cases were done.
    pub stopped_by_time: bool,
    /// Wall time of the run's cases.
    pub secs: f64,
    /// The lowest failing case.
    pub failure: Option<Failing<L>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs the cases of `o` (its shard, budget and threads) on `level`.
pub fn drive<L: Level>(level: &L, o: &Options, what: &'static str) -> Driven<L> {
    let start = Instant::now();
    let asked = o.cases_in_shard();
    let totals = Mutex::new(Totals::new(level.engine_labels().len()));
    let setup_errors = Mutex::new(Vec::new());
    let failure: Mutex<Option<Failing<L>>> = Mutex::new(None);
    let next = AtomicU64::new(0);
    let lowest_failing = AtomicU64::new(u64::MAX);
    let stop = AtomicBool::new(false);
    let timed_out = AtomicBool::new(false);
    let done = AtomicU64::new(0);
    let bar = Bar::new(o.progress, asked, what);
    let beats: Vec<Beat> = (0..o.threads()).map(|_| Beat::default()).collect();
    let worker = |beat: &Beat| loop {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        if o.time_budget.is_some_and(|b| start.elapsed() >= b) {
            timed_out.store(true, Ordering::Relaxed);
            return;
        }
        let k = next.fetch_add(1, Ordering::SeqCst);
        if asked.is_some_and(|a| k >= a) || k >= lowest_failing.load(Ordering::SeqCst) {
            return;
        }
        let Some(index) = o.shard.case_index(k) else {
            return;
        };
        let ops = level.generate(o.seed, index, o.max_ops);
        beat.case(index);
        match level.run(o.seed, index, &ops, beat) {
            Err(e) => {
                lock(&setup_errors).push((index, e));
                stop.store(true, Ordering::Relaxed);
            }
            Ok(run) => {
                let found = lock(&totals).absorb(run);
                if let Some(f) = found {
                    lowest_failing.fetch_min(k, Ordering::SeqCst);
                    let mut slot = lock(&failure);
                    if slot.as_ref().is_none_or(|(j, _, _)| index < *j) {
                        *slot = Some((index, ops, f));
                    }
                }
            }
        }
        bar.tick(done.fetch_add(1, Ordering::Relaxed) + 1);
    };
    let on_stall = |stall: Stall| {
        bar.finish();
        report_stall(level, o, what, stall);
    };
    watch(&beats, o.limits(), &on_stall, || {
        std::thread::scope(|s| {
            for beat in &beats {
                s.spawn(move || worker(beat));
            }
        })
    });
    bar.finish();
    let mut setup_errors = setup_errors.into_inner().unwrap_or_else(|e| e.into_inner());
    setup_errors.sort();
    Driven {
        secs: start.elapsed().as_secs_f64(),
        totals: totals.into_inner().unwrap_or_else(|e| e.into_inner()),
        setup_errors: setup_errors
            .into_iter()
            .map(|(i, e)| format!("case {i}: {e}"))
            .collect(),
        // Cut short only if cases were left that a pass would have needed.
        stopped_by_time: timed_out.load(Ordering::Relaxed)
            && asked.is_none_or(|a| next.load(Ordering::SeqCst) < a),
        failure: failure.into_inner().unwrap_or_else(|e| e.into_inner()),
    }
}

/// Reports a stall of a driven run: the engine, the case and the op, with the repro of the
/// case cut after that op; then [`Options::on_stall`]. The watchdog exits 1 after it.
fn report_stall<L: Level>(level: &L, o: &Options, what: &str, stall: Stall) {
    let Some(Task::Op { case, subject, op }) = stall.task else {
        let at = StallAt::Nowhere {};
        return StallReport::new(what, stall.kind, stall.elapsed, at).emit(o.on_stall.as_ref());
    };
    let engine = match subject {
        Some(i) => level
            .case_labels(o.seed, case)
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("engine {i}")),
        None => level.reference_label(),
    };
    let mut ops = level.generate(o.seed, case, o.max_ops);
    ops.truncate(op + 1);
    let at = StallAt::Op {
        engine: engine.clone(),
        case,
        op_index: op,
        op: ops
            .last()
            .map_or_else(String::new, |x| abbreviate(&format!("{x:?}"))),
    };
    let mut report = StallReport::new(what, stall.kind.clone(), stall.elapsed, at);
    let finding = StallFinding {
        kind: stall.kind,
        engine,
        op_index: op,
    };
    report.repro = Some(level.save_stall(o.seed, case, ops, finding, &o.repro_dir));
    report.emit(o.on_stall.as_ref());
}
