//! The concurrent phase of `check`: concurrent cases ([`crate::model::reads`]) on every
//! engine, one case at a time (so the readers really overlap the writer), each read checked
//! against its window of states ([`crate::run::concurrent`]); a failure is shrunk, with each
//! candidate judged over several schedules, and written as a repro that `syncproof replay`
//! re-runs over many schedules.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use syncproof_engine::contract::Opener;

use super::options::Options;
use super::report::FailureReport;
use crate::model::generate;
use crate::model::reads::{self, ConcurrentCase};
use crate::run::concurrent::{run_schedules, ConcurrentFinding, ReadCounts};
use crate::run::repro::{from_ron_versioned, to_ron, write_repro};
use crate::run::shrink::remove_chunks;

/// Concurrent cases per engine in a default `check`.
pub const DEFAULT_CONCURRENT_CASES: u64 = 40;

/// Fewest schedules a shrink candidate is run under before it is judged passing; more when
/// the failing case itself needed more to fail again (three times as many as it needed).
pub const SHRINK_SCHEDULES: usize = 12;

/// Most schedules the failing case is run under to see how often it fails before shrinking.
const CONFIRM_SCHEDULES: usize = 200;

/// Schedules `syncproof replay` runs a concurrent repro under by default.
pub const REPLAY_SCHEDULES: usize = 100;

/// Longest a shrink may take: past it the smallest failing case so far is kept.
const SHRINK_TIME: Duration = Duration::from_secs(60);

/// Format version of concurrent repro files.
pub const CONCURRENT_REPRO_VERSION: u32 = 1;

/// A replayable failing concurrent case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConcurrentRepro {
    /// Format version ([`CONCURRENT_REPRO_VERSION`]).
    pub concurrent_version: u32,
    /// Seed of the clock-and-id setup (and of the run that found it).
    pub seed: u64,
    /// Case index within that run's concurrent phase.
    pub case: u64,
    /// The engine (with its configuration) that failed.
    pub engine: String,
    /// The bug deliberately injected when this was found (`check --inject`).
    #[serde(default)]
    pub inject: Option<String>,
    /// The writer's sequence and the readers' scripts.
    pub concurrent: ConcurrentCase,
    /// What was seen when it was written.
    pub finding: Option<ConcurrentFinding>,
    /// Schedules the shrunk case was last run under, and how many of them failed.
    pub schedules: (usize, usize),
}

impl ConcurrentRepro {
    /// The repro as RON text.
    pub fn to_ron(&self) -> String {
        to_ron(self)
    }

    /// Parses a concurrent repro file's text.
    pub fn from_ron(text: &str) -> Result<Self, String> {
        from_ron_versioned(
            text,
            "concurrent ",
            |r: &ConcurrentRepro| r.concurrent_version,
            CONCURRENT_REPRO_VERSION,
        )
    }

    /// Writes the repro into `dir` (created if needed); returns its path.
    pub fn save(&self, dir: &Path) -> Result<PathBuf, String> {
        let name = format!(
            "concurrent-{}-seed{}-case{}",
            self.engine, self.seed, self.case
        );
        write_repro(dir, &name, &self.to_ron())
    }
}

/// What the concurrent phase did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ConcurrentReport {
    /// Reader threads per case.
    pub readers: usize,
    /// Cases run, per engine label (a configuration's label when one was drawn).
    pub cases: BTreeMap<String, u64>,
    /// Configurations with a known upstream race that the phase did not draw, each with what
    /// it is ([`Options::known_races`]).
    pub not_drawn: BTreeMap<String, String>,
    /// Writer ops applied, all cases together.
    pub writer_ops: u64,
    /// The reads checked, all cases together.
    #[serde(flatten)]
    pub counts: ReadCounts,
    /// Wall time of the phase.
    pub secs: f64,
    /// Engines whose store could not be set up.
    pub setup_errors: Vec<String>,
    /// The first failure, shrunk, with its repro.
    pub failure: Option<FailureReport<ConcurrentRepro>>,
}

impl ConcurrentReport {
    /// Reads checked, of every kind.
    pub fn reads_checked(&self) -> u64 {
        self.counts.checked()
    }

    /// Cases run, every engine together.
    pub fn cases_run(&self) -> u64 {
        self.cases.values().sum()
    }
}

/// Runs the phase: `o.concurrent_cases` cases on each engine of `subjects` (per engine its
/// configurations, the default first; each case draws one as the sequential phase does).
pub fn run_phase(subjects: &[Vec<(String, &dyn Opener)>], o: &Options) -> ConcurrentReport {
    let start = Instant::now();
    let mut report = ConcurrentReport {
        readers: o.readers,
        ..ConcurrentReport::default()
    };
    let race = |label: &str| o.known_races.iter().find(|(l, _)| l == label);
    for (label, _) in subjects.iter().flat_map(|c| c.iter().skip(1)) {
        if let Some((l, why)) = race(label) {
            report.not_drawn.insert(l.clone(), why.clone());
        }
    }
    'cases: for index in 0..o.concurrent_cases {
        let case = reads::case(o.seed, index, o.max_ops, o.readers);
        for (j, configurations) in subjects.iter().enumerate() {
            let drawn = generate::configuration(o.seed, index, j, configurations.len());
            let drawn = match configurations.get(drawn) {
                Some((label, _)) if drawn > 0 && race(label).is_some() => 0,
                _ => drawn,
            };
            let Some((label, opener)) = configurations.get(drawn) else {
                continue;
            };
            let run = match crate::run::concurrent::run_concurrent(
                o.seed,
                &case,
                label,
                *opener,
                o.tmp.as_deref(),
            ) {
                Ok(r) => r,
                Err(e) => {
                    report.setup_errors.push(e);
                    break 'cases;
                }
            };
            *report.cases.entry(label.clone()).or_default() += 1;
            report.writer_ops += run.ops_run as u64;
            report.counts.add(&run.counts);
            if let Some(finding) = run.finding {
                report.failure = Some(shrink_and_save(o, index, case, label, *opener, finding));
                break 'cases;
            }
        }
    }
    report.secs = start.elapsed().as_secs_f64();
    report
}

/// How many writer ops `f` needs: up to the op that disagreed, or up to the last that may
/// have run during the read that failed.
fn needs(f: &ConcurrentFinding) -> usize {
    match f {
        ConcurrentFinding::Writer(f) => f.op_index + 1,
        ConcurrentFinding::Read(f) => f.window.1.max(1),
    }
}

/// Shrinks a failing concurrent case: drops writer ops past what the failure needs, then
/// chunks of the writer's ops, whole readers and chunks of each script, keeping each cut that
/// still fails in one of the schedules a candidate is judged over; then writes its repro.
fn shrink_and_save(
    o: &Options,
    index: u64,
    case: ConcurrentCase,
    label: &str,
    opener: &dyn Opener,
    finding: ConcurrentFinding,
) -> FailureReport<ConcurrentRepro> {
    let original_ops = case.writer.len();
    let tmp = o.tmp.as_deref();
    let deadline = Instant::now() + SHRINK_TIME;
    // How rare the failure is decides how many schedules judge a candidate.
    let needed = run_schedules(o.seed, &case, label, opener, tmp, CONFIRM_SCHEDULES, true)
        .ok()
        .filter(|(_, failed, _)| *failed > 0)
        .map(|(ran, _, _)| ran);
    let schedules = needed.map_or(0, |n| (3 * n).clamp(SHRINK_SCHEDULES, CONFIRM_SCHEDULES));
    let fails = |c: &ConcurrentCase| -> Option<ConcurrentFinding> {
        if schedules == 0 || Instant::now() >= deadline {
            return None;
        }
        run_schedules(o.seed, c, label, opener, tmp, schedules, true)
            .ok()
            .and_then(|(_, _, f)| f)
    };
    let mut best = case.clone();
    // The writer past what the failure needs, then chunks of it; whole readers; then chunks
    // of each reader's script (delta debugging, as the sequences shrink: run::shrink).
    let cut = ConcurrentCase {
        writer: best.writer.iter().take(needs(&finding)).cloned().collect(),
        readers: best.readers.clone(),
    };
    if fails(&cut).is_some() {
        best = cut;
    }
    let mut attempts = 0;
    let readers = best.readers.clone();
    best.writer = remove_chunks(best.writer, &mut attempts, &mut |w| {
        let c = ConcurrentCase {
            writer: w.to_vec(),
            readers: readers.clone(),
        };
        fails(&c).map(|f| needs(&f).min(w.len()))
    });
    let writer = best.writer.clone();
    best.readers = remove_chunks(best.readers, &mut attempts, &mut |rs| {
        let c = ConcurrentCase {
            writer: writer.clone(),
            readers: rs.to_vec(),
        };
        fails(&c).map(|_| rs.len())
    });
    for r in 0..best.readers.len() {
        let Some(script) = best.readers.get(r).cloned() else {
            continue;
        };
        let shrunk = remove_chunks(script, &mut attempts, &mut |reads| {
            let mut c = best.clone();
            if let Some(s) = c.readers.get_mut(r) {
                *s = reads.to_vec();
            }
            fails(&c).map(|_| reads.len())
        });
        if let Some(s) = best.readers.get_mut(r) {
            *s = shrunk;
        }
    }
    let again = run_schedules(
        o.seed,
        &best,
        label,
        opener,
        tmp,
        schedules.max(SHRINK_SCHEDULES),
        false,
    )
    .unwrap_or((0, 0, None));
    let reproduced = again.1 > 0;
    let repro = ConcurrentRepro {
        concurrent_version: CONCURRENT_REPRO_VERSION,
        seed: o.seed,
        case: index,
        engine: label.to_string(),
        inject: o.inject.clone(),
        concurrent: if reproduced { best } else { case },
        finding: Some(again.2.filter(|_| reproduced).unwrap_or(finding)),
        schedules: (again.0, again.1),
    };
    let saved = repro.save(&o.repro_dir);
    FailureReport::new(index, original_ops, reproduced, repro, saved, None)
}
