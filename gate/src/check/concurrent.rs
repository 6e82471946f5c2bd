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
use crate::run::concurrent::{run_schedules, ConcurrentFinding};
use crate::run::repro::{to_ron, write_repro};

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
        let r: ConcurrentRepro =
            ron::from_str(text).map_err(|e| format!("not a concurrent repro file: {e}"))?;
        if r.concurrent_version != CONCURRENT_REPRO_VERSION {
            return Err(format!(
                "concurrent repro format version {} is not {CONCURRENT_REPRO_VERSION}",
                r.concurrent_version
            ));
        }
        Ok(r)
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
    /// Writer ops applied, all cases together.
    pub writer_ops: u64,
    /// Reads checked against their windows, by kind.
    pub reads: BTreeMap<String, u64>,
    /// Reads during which at least one write ran.
    pub overlapping: u64,
    /// The most states one read's window held.
    pub widest: usize,
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
        self.reads.values().sum()
    }

    /// Cases run, every engine together.
    pub fn cases_run(&self) -> u64 {
        self.cases.values().sum()
    }

    /// The summary's lines for the phase.
    pub fn summary(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let each: Vec<String> = self.cases.iter().map(|(l, n)| format!("{l} {n}")).collect();
        let _ = writeln!(
            s,
            "  concurrent: {} cases ({}), {} writer ops, {} reader threads each, in {:.1}s",
            self.cases_run(),
            each.join(", "),
            self.writer_ops,
            self.readers,
            self.secs
        );
        let kinds: Vec<String> = self.reads.iter().map(|(k, n)| format!("{k}={n}")).collect();
        let _ = writeln!(
            s,
            "    {} reads checked against their window of states ({}); {} ran while a write did, windows of up to {} states",
            self.reads_checked(),
            kinds.join(" "),
            self.overlapping,
            self.widest
        );
        for e in &self.setup_errors {
            let _ = writeln!(s, "    SETUP ERROR {e}");
        }
        if self.setup_errors.is_empty() && self.failure.is_none() && self.cases_run() == 0 {
            let _ = writeln!(s, "    NO CONCURRENT CASE RAN");
        }
        if let Some(f) = &self.failure {
            let r = &f.repro;
            let _ = writeln!(
                s,
                "  CONCURRENCY FAILURE in concurrent case {} on {} (writer shrunk from {} to {} ops, {} readers; failed in {} of {} schedules when run again):",
                f.case,
                r.engine,
                f.original_ops,
                r.concurrent.writer.len(),
                r.concurrent.readers.len(),
                r.schedules.1,
                r.schedules.0
            );
            if !f.shrink_reproduced {
                let _ = writeln!(s, "  FLAKY: the shrunk case did not fail again; the repro holds the unshrunk case");
            }
            if let Some(finding) = &r.finding {
                for line in finding.describe().lines() {
                    let _ = writeln!(s, "    {line}");
                }
            }
            if let Some(p) = &f.repro_path {
                let _ = writeln!(
                    s,
                    "  repro written to {}; run `syncproof replay {}` (it tries many schedules)",
                    p.display(),
                    p.display()
                );
            }
            if let Some(e) = &f.repro_error {
                let _ = writeln!(s, "  REPRO NOT WRITTEN: {e}");
            }
        }
        s
    }
}

/// Concurrent case `index` of a run with `options`.
pub fn case(o: &Options, index: u64) -> ConcurrentCase {
    reads::case(o.seed, index, o.max_ops, o.readers)
}

/// Runs the phase: `o.concurrent_cases` cases on each engine of `subjects` (per engine its
/// configurations, the default first; each case draws one as the sequential phase does).
pub fn run_phase(subjects: &[Vec<(String, &dyn Opener)>], o: &Options) -> ConcurrentReport {
    let start = Instant::now();
    let mut report = ConcurrentReport {
        readers: o.readers,
        ..ConcurrentReport::default()
    };
    'cases: for index in 0..o.concurrent_cases {
        let case = case(o, index);
        for (j, configurations) in subjects.iter().enumerate() {
            let drawn = generate::configuration(o.seed, index, j, configurations.len());
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
            for (k, n) in &run.reads {
                *report.reads.entry((*k).to_string()).or_default() += n;
            }
            report.overlapping += run.overlapping;
            report.widest = report.widest.max(run.widest);
            if let Some(finding) = run.finding {
                report.failure = Some(shrink_and_save(o, index, case, label, *opener, finding));
                break 'cases;
            }
        }
    }
    report.secs = start.elapsed().as_secs_f64();
    report
}

/// Shrinks a failing concurrent case: drops writer ops past the failing read's window, then
/// chunks of the writer's ops, whole readers and single reads, keeping each cut that still
/// fails in one of [`SHRINK_SCHEDULES`] schedules; then writes its repro.
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
        if schedules == 0 {
            return None;
        }
        run_schedules(o.seed, c, label, opener, tmp, schedules, true)
            .ok()
            .and_then(|(_, _, f)| f)
    };
    let mut best = case.clone();
    let mut best_finding = finding.clone();
    // The writer past what the failure needs.
    let keep = match &finding {
        ConcurrentFinding::Writer(f) => f.op_index + 1,
        ConcurrentFinding::Read(f) => f.window.1,
    };
    if keep < best.writer.len() {
        let mut cut = best.clone();
        cut.writer.truncate(keep.max(1));
        if let Some(f) = fails(&cut) {
            best = cut;
            best_finding = f;
        }
    }
    // Chunks of the writer, halving the chunk size.
    let mut size = best.writer.len() / 2;
    while size >= 1 && Instant::now() < deadline {
        let mut at = 0;
        while at < best.writer.len() && Instant::now() < deadline {
            let mut cut = best.clone();
            let end = (at + size).min(cut.writer.len());
            cut.writer.drain(at..end);
            match fails(&cut) {
                Some(f) if !cut.writer.is_empty() => {
                    best = cut;
                    best_finding = f;
                }
                _ => at += size,
            }
        }
        size /= 2;
    }
    // Whole readers, then single reads.
    let mut r = 0;
    while r < best.readers.len() && best.readers.len() > 1 && Instant::now() < deadline {
        let mut cut = best.clone();
        cut.readers.remove(r);
        match fails(&cut) {
            Some(f) => {
                best = cut;
                best_finding = f;
            }
            None => r += 1,
        }
    }
    for r in 0..best.readers.len() {
        let mut i = 0;
        while best
            .readers
            .get(r)
            .is_some_and(|s| i < s.len() && s.len() > 1)
            && Instant::now() < deadline
        {
            let mut cut = best.clone();
            if let Some(s) = cut.readers.get_mut(r) {
                s.remove(i);
            }
            match fails(&cut) {
                Some(f) => {
                    best = cut;
                    best_finding = f;
                }
                None => i += 1,
            }
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
    if let Some(f) = again.2 {
        best_finding = f;
    }
    let repro = ConcurrentRepro {
        concurrent_version: CONCURRENT_REPRO_VERSION,
        seed: o.seed,
        case: index,
        engine: label.to_string(),
        inject: o.inject.clone(),
        concurrent: if reproduced { best } else { case },
        finding: Some(if reproduced { best_finding } else { finding }),
        schedules: (again.0, again.1),
    };
    let saved = repro.save(&o.repro_dir);
    FailureReport::new(index, original_ops, reproduced, repro, saved, None)
}
