//! `syncproof check` as a library: generated sequences run in parallel on the oracle and the
//! engines under test; the first disagreement is shrunk and written as a repro file.
//!
//! A third-party engine runs the same suite from its own tests in a few lines:
//!
//! ```no_run
//! use syncproof_harness::check::Harness;
//! # fn my_opener() -> syncproof_memory::MemoryOpener { Default::default() }
//!
//! let report = Harness::new().engine("mine", Box::new(my_opener())).cases(200).run();
//! assert!(report.passed(), "{}", report.summary());
//! ```

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::Serialize;
use syncproof_engine::contract::{run_check, Opener, CHECKS};
use syncproof_engine::ErrorKind;

use crate::generate;
use crate::ops::{Op, OP_KINDS};
use crate::repro::{Repro, REPRO_VERSION};
use crate::runner::{run_case, run_case_with, Finding, Latencies};
use crate::shrink::shrink;

/// Which part of the case space this run covers: cases `i` with `i % count == index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Shard {
    /// Zero-based.
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Parses `k/n` (one-based `k`).
    pub fn parse(s: &str) -> Result<Shard, String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("shard {s:?} is not k/n"))?;
        let k: u64 = k
            .trim()
            .parse()
            .map_err(|_| format!("shard {s:?}: {k:?} is not a number"))?;
        let n: u64 = n
            .trim()
            .parse()
            .map_err(|_| format!("shard {s:?}: {n:?} is not a number"))?;
        if n == 0 || k == 0 || k > n {
            return Err(format!("shard {s:?}: need 1 <= k <= n"));
        }
        Ok(Shard {
            index: k - 1,
            count: n,
        })
    }
}

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// A bar on a terminal, a line every 10% otherwise.
    Auto,
    None,
}

/// What a run does.
#[derive(Clone, Debug)]
pub struct Options {
    pub cases: u64,
    pub seed: u64,
    pub max_ops: usize,
    pub time_budget: Option<Duration>,
    pub shard: Shard,
    /// Parent of the temp dirs (default: the system temp dir).
    pub tmp: Option<PathBuf>,
    /// Where repro files go.
    pub repro_dir: PathBuf,
    /// Run the contract suite on each engine first.
    pub contract: bool,
    /// The bug class deliberately injected into the engines, if any (recorded in repros).
    pub inject: Option<String>,
    pub progress: Progress,
}

/// Default number of sequences.
pub const DEFAULT_CASES: u64 = 1_000;
/// Default longest sequence.
pub const DEFAULT_MAX_OPS: usize = 40;

impl Default for Options {
    fn default() -> Self {
        Options {
            cases: DEFAULT_CASES,
            seed: 0x5eed,
            max_ops: DEFAULT_MAX_OPS,
            time_budget: None,
            shard: Shard { index: 0, count: 1 },
            tmp: None,
            repro_dir: PathBuf::from("syncproof-repros"),
            contract: true,
            inject: None,
            progress: Progress::None,
        }
    }
}

/// The engines of a run and its options.
pub struct Harness {
    oracle: Box<dyn Opener>,
    engines: Vec<(String, Box<dyn Opener>)>,
    pub options: Options,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

/// Latency percentiles of one op kind on one engine, in microseconds.
#[derive(Clone, Debug, Serialize)]
pub struct Percentiles {
    pub count: usize,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
}

fn percentiles(samples: &mut [u64]) -> Percentiles {
    samples.sort_unstable();
    let at = |q: f64| {
        samples
            .get(((samples.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0) as f64
            / 1000.0
    };
    Percentiles {
        count: samples.len(),
        p50_us: at(0.5),
        p90_us: at(0.9),
        p99_us: at(0.99),
        max_us: at(1.0),
    }
}

/// One engine's numbers.
#[derive(Clone, Debug, Serialize)]
pub struct EngineReport {
    pub engine: String,
    pub ops: u64,
    pub busy_secs: f64,
    pub ops_per_sec: f64,
    pub latency: BTreeMap<String, Percentiles>,
}

/// A disagreement, shrunk.
#[derive(Clone, Debug, Serialize)]
pub struct FailureReport {
    pub case: u64,
    pub original_ops: usize,
    pub repro: Repro,
    pub repro_path: Option<PathBuf>,
    pub regression_test: String,
}

/// A contract check an engine failed.
#[derive(Clone, Debug, Serialize)]
pub struct ContractFailure {
    pub engine: String,
    pub check: String,
    pub section: String,
    pub message: String,
}

/// Everything a run found and measured.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub seed: u64,
    pub shard: Shard,
    pub cases_run: u64,
    pub ops_run: u64,
    pub elapsed_secs: f64,
    pub stopped_by_time: bool,
    pub engines: Vec<EngineReport>,
    pub op_kinds: BTreeMap<String, u64>,
    pub error_kinds: BTreeMap<String, u64>,
    pub contract_checks: usize,
    pub contract_failures: Vec<ContractFailure>,
    pub failure: Option<FailureReport>,
    pub setup_errors: Vec<String>,
}

#[derive(Default)]
struct Totals {
    cases: u64,
    ops: u64,
    latencies: Vec<Latencies>,
    op_kinds: BTreeMap<&'static str, u64>,
    error_kinds: BTreeMap<ErrorKind, u64>,
    setup_errors: Vec<String>,
}

impl Harness {
    /// A harness with the memory engine as the oracle and no engine under test yet.
    pub fn new() -> Self {
        Harness {
            oracle: Box::new(syncproof_memory::MemoryOpener::default()),
            engines: Vec::new(),
            options: Options::default(),
        }
    }
    /// Adds an engine under test.
    pub fn engine(mut self, label: impl Into<String>, opener: Box<dyn Opener>) -> Self {
        self.engines.push((label.into(), opener));
        self
    }
    pub fn cases(mut self, n: u64) -> Self {
        self.options.cases = n;
        self
    }
    pub fn seed(mut self, seed: u64) -> Self {
        self.options.seed = seed;
        self
    }
    pub fn max_ops(mut self, n: usize) -> Self {
        self.options.max_ops = n;
        self
    }
    pub fn options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    fn subjects(&self) -> Vec<(String, &dyn Opener)> {
        self.engines
            .iter()
            .map(|(l, o)| (l.clone(), o.as_ref()))
            .collect()
    }

    /// Runs the contract suite (if enabled) and the generated sequences.
    pub fn run(&self) -> Report {
        let o = &self.options;
        let start = Instant::now();
        let mut contract_failures = Vec::new();
        if o.contract {
            for (label, opener) in &self.engines {
                for c in CHECKS {
                    if let Err(f) = run_check(opener.as_ref(), c) {
                        contract_failures.push(ContractFailure {
                            engine: label.clone(),
                            check: c.name.into(),
                            section: c.section.into(),
                            message: f.0,
                        });
                    }
                }
            }
        }
        let subjects = self.subjects();
        let indices: Vec<u64> = (0..o.cases)
            .filter(|i| i % o.shard.count == o.shard.index)
            .collect();
        let totals = Mutex::new(Totals {
            latencies: vec![Latencies::new(); subjects.len()],
            ..Totals::default()
        });
        let found: Mutex<Option<(u64, Vec<Op>, Finding)>> = Mutex::new(None);
        let stop = AtomicBool::new(false);
        let timed_out = AtomicBool::new(false);
        let done = AtomicU64::new(0);
        let bar = progress_bar(o.progress, indices.len() as u64);
        indices.par_iter().for_each(|&i| {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            if o.time_budget.is_some_and(|b| start.elapsed() >= b) {
                timed_out.store(true, Ordering::Relaxed);
                stop.store(true, Ordering::Relaxed);
                return;
            }
            let ops = generate::case(o.seed, i, o.max_ops);
            match run_case(
                o.seed,
                &ops,
                self.oracle.as_ref(),
                &subjects,
                o.tmp.as_deref(),
            ) {
                Err(e) => {
                    let mut t = totals.lock().unwrap_or_else(|e| e.into_inner());
                    t.setup_errors.push(format!("case {i}: {e}"));
                    stop.store(true, Ordering::Relaxed);
                }
                Ok(run) => {
                    {
                        let mut t = totals.lock().unwrap_or_else(|e| e.into_inner());
                        t.cases += 1;
                        t.ops += run.ops_run as u64;
                        for (acc, lat) in t.latencies.iter_mut().zip(run.latencies) {
                            for (k, v) in lat {
                                acc.entry(k).or_default().extend(v);
                            }
                        }
                        for (k, n) in run.op_kinds {
                            *t.op_kinds.entry(k).or_default() += n;
                        }
                        for (k, n) in run.error_kinds {
                            *t.error_kinds.entry(k).or_default() += n;
                        }
                    }
                    if let Some(f) = run.finding {
                        let mut slot = found.lock().unwrap_or_else(|e| e.into_inner());
                        if slot.as_ref().is_none_or(|(j, _, _)| i < *j) {
                            *slot = Some((i, ops, f));
                        }
                        stop.store(true, Ordering::Relaxed);
                    }
                }
            }
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            bar.tick(n, &stop);
        });
        bar.finish();
        let totals = totals.into_inner().unwrap_or_else(|e| e.into_inner());
        let failure = found
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .map(|(case, ops, finding)| self.shrink_and_save(case, ops, finding));
        let engines = subjects
            .iter()
            .zip(totals.latencies)
            .map(|((label, _), lat)| {
                let ops: u64 = lat.values().map(|v| v.len() as u64).sum();
                let busy: u64 = lat.values().flatten().sum();
                let busy_secs = busy as f64 / 1e9;
                let latency = lat
                    .into_iter()
                    .map(|(k, mut v)| (k.to_string(), percentiles(&mut v)))
                    .collect();
                EngineReport {
                    engine: label.clone(),
                    ops,
                    busy_secs,
                    ops_per_sec: if busy_secs > 0.0 {
                        ops as f64 / busy_secs
                    } else {
                        0.0
                    },
                    latency,
                }
            })
            .collect();
        Report {
            seed: o.seed,
            shard: o.shard,
            cases_run: totals.cases,
            ops_run: totals.ops,
            elapsed_secs: start.elapsed().as_secs_f64(),
            stopped_by_time: timed_out.load(Ordering::Relaxed),
            engines,
            op_kinds: OP_KINDS
                .iter()
                .map(|k| (k.to_string(), totals.op_kinds.get(k).copied().unwrap_or(0)))
                .collect(),
            error_kinds: ErrorKind::ALL
                .iter()
                .map(|k| {
                    (
                        k.name().to_string(),
                        totals.error_kinds.get(k).copied().unwrap_or(0),
                    )
                })
                .collect(),
            contract_checks: CHECKS.len(),
            contract_failures,
            failure,
            setup_errors: totals.setup_errors,
        }
    }

    /// Shrinks a failing case against the engines that disagreed, and writes its repro.
    fn shrink_and_save(&self, case: u64, ops: Vec<Op>, finding: Finding) -> FailureReport {
        let o = &self.options;
        let expected = &finding.outcomes[0].1;
        let culprits: Vec<(String, &dyn Opener)> = self
            .subjects()
            .into_iter()
            .filter(|(l, _)| {
                finding
                    .outcomes
                    .iter()
                    .any(|(name, out)| name == l && out != expected)
            })
            .collect();
        let culprits = if culprits.is_empty() {
            self.subjects()
        } else {
            culprits
        };
        let original_ops = ops.len();
        let mut fails = |candidate: &[Op]| -> Option<usize> {
            run_case(
                o.seed,
                candidate,
                self.oracle.as_ref(),
                &culprits,
                o.tmp.as_deref(),
            )
            .ok()?
            .finding
            .map(|f| f.op_index)
        };
        let shrunk = shrink(ops, &mut fails);
        let final_finding = run_case(
            o.seed,
            &shrunk,
            self.oracle.as_ref(),
            &culprits,
            o.tmp.as_deref(),
        )
        .ok()
        .and_then(|r| r.finding)
        .or(Some(finding));
        let repro = Repro {
            version: REPRO_VERSION,
            seed: o.seed,
            case,
            engines: culprits.iter().map(|(l, _)| l.clone()).collect(),
            inject: o.inject.clone(),
            ops: shrunk,
            finding: final_finding,
        };
        let repro_path = repro.save(&o.repro_dir).ok();
        let regression_test = repro.regression_test();
        FailureReport {
            case,
            original_ops,
            repro,
            repro_path,
            regression_test,
        }
    }
}

impl Report {
    /// No contract failure, no disagreement, no setup error.
    pub fn passed(&self) -> bool {
        self.contract_failures.is_empty() && self.failure.is_none() && self.setup_errors.is_empty()
    }

    /// The human summary: per engine ops/s and latency percentiles, coverage, findings.
    pub fn summary(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "syncproof check: seed {} shard {}/{}: {} sequences, {} ops in {:.1}s{}",
            self.seed,
            self.shard.index + 1,
            self.shard.count,
            self.cases_run,
            self.ops_run,
            self.elapsed_secs,
            if self.stopped_by_time {
                " (stopped by the time budget)"
            } else {
                ""
            }
        );
        for e in &self.engines {
            let all: Vec<&Percentiles> = e.latency.values().collect();
            let worst = all.iter().map(|p| p.p99_us).fold(0.0, f64::max);
            let _ = writeln!(
                s,
                "  {:<14} {:>8} ops  {:>9.0} ops/s  worst p99 {:>9.1} µs",
                e.engine, e.ops, e.ops_per_sec, worst
            );
        }
        let _ = writeln!(
            s,
            "  latency p50/p99 µs by op (engines in the order above):"
        );
        for kind in OP_KINDS {
            let cells: Vec<String> = self
                .engines
                .iter()
                .map(|e| {
                    e.latency
                        .get(*kind)
                        .map_or("-".into(), |p| format!("{:.0}/{:.0}", p.p50_us, p.p99_us))
                })
                .collect();
            let _ = writeln!(s, "    {:<20} {}", kind, cells.join("  "));
        }
        let never: Vec<&str> = self
            .op_kinds
            .iter()
            .filter(|(_, n)| **n == 0)
            .map(|(k, _)| k.as_str())
            .collect();
        let _ = writeln!(
            s,
            "  coverage: op kinds {}",
            self.op_kinds
                .iter()
                .map(|(k, n)| format!("{k}={n}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let _ = writeln!(
            s,
            "            error kinds {}",
            self.error_kinds
                .iter()
                .map(|(k, n)| format!("{k}={n}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        if !never.is_empty() {
            let _ = writeln!(s, "  blind spots: never exercised: {}", never.join(", "));
        }
        let _ = writeln!(
            s,
            "  contract: {} checks per engine, {} failed",
            self.contract_checks,
            self.contract_failures.len()
        );
        for f in &self.contract_failures {
            let _ = writeln!(
                s,
                "    FAILED {} {} ({}): {}",
                f.engine,
                f.check,
                f.section,
                f.message.replace('\n', "\n      ")
            );
        }
        for e in &self.setup_errors {
            let _ = writeln!(s, "  SETUP ERROR {e}");
        }
        if let Some(f) = &self.failure {
            let _ = writeln!(
                s,
                "  DISAGREEMENT in case {} (shrunk from {} to {} ops):",
                f.case,
                f.original_ops,
                f.repro.ops.len()
            );
            s.push_str(&describe(&f.repro));
            if let Some(p) = &f.repro_path {
                let _ = writeln!(
                    s,
                    "  repro written to {}; run `syncproof replay {}`",
                    p.display(),
                    p.display()
                );
            }
            let _ = writeln!(s, "  regression test:\n{}", f.regression_test);
        }
        let _ = writeln!(s, "{}", if self.passed() { "PASSED" } else { "FAILED" });
        s
    }

    /// JUnit XML: one test case per engine for the contract, and one for the sequences.
    pub fn junit(&self) -> String {
        fn esc(s: &str) -> String {
            s.chars()
                .map(|c| match c {
                    '<' => "&lt;".into(),
                    '>' => "&gt;".into(),
                    '&' => "&amp;".into(),
                    '"' => "&quot;".into(),
                    c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {
                        format!("\\u{{{:x}}}", c as u32)
                    }
                    c => c.to_string(),
                })
                .collect()
        }
        let mut cases = Vec::new();
        for e in &self.engines {
            let fails: Vec<&ContractFailure> = self
                .contract_failures
                .iter()
                .filter(|f| f.engine == e.engine)
                .collect();
            let body = if fails.is_empty() {
                String::new()
            } else {
                let text: Vec<String> = fails
                    .iter()
                    .map(|f| format!("{} ({}): {}", f.check, f.section, f.message))
                    .collect();
                format!(
                    "<failure message=\"{} contract checks failed\">{}</failure>",
                    fails.len(),
                    esc(&text.join("\n"))
                )
            };
            cases.push(format!(
                "<testcase classname=\"syncproof.contract\" name=\"{}\">{body}</testcase>",
                esc(&e.engine)
            ));
        }
        let seq_body = match &self.failure {
            None => String::new(),
            Some(f) => format!(
                "<failure message=\"disagreement in case {}\">{}</failure>",
                f.case,
                esc(&describe(&f.repro))
            ),
        };
        cases.push(format!(
            "<testcase classname=\"syncproof.sequences\" name=\"seed {} shard {}/{}\" time=\"{:.3}\">{seq_body}</testcase>",
            self.seed,
            self.shard.index + 1,
            self.shard.count,
            self.elapsed_secs
        ));
        let failures = self
            .engines
            .iter()
            .filter(|e| self.contract_failures.iter().any(|f| f.engine == e.engine))
            .count()
            + usize::from(self.failure.is_some());
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"syncproof check\" tests=\"{}\" failures=\"{failures}\" time=\"{:.3}\">\n{}\n</testsuite>\n",
            cases.len(),
            self.elapsed_secs,
            cases.join("\n")
        )
    }
}

/// The shrunk sequence, and the failing op with every engine's outcome side by side.
pub fn describe(repro: &Repro) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    for (i, op) in repro.ops.iter().enumerate() {
        let _ = writeln!(s, "    {i:>3}: {}", abbreviate(&format!("{op:?}")));
    }
    if let Some(f) = &repro.finding {
        let _ = writeln!(s, "    outcomes of op {}:", f.op_index);
        for (engine, out) in &f.outcomes {
            let _ = writeln!(s, "      {engine:<18} {}", out.summary());
        }
    }
    s
}

/// Shortens runs of one repeated character (the 1025-byte ids) and very long lines.
pub fn abbreviate(text: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let mut j = i;
        while j < chars.len() && chars[j] == chars[i] {
            j += 1;
        }
        if j - i > 64 {
            out.push_str(&format!("{}…×{}", chars[i], j - i));
        } else {
            out.extend(&chars[i..j]);
        }
        i = j;
    }
    if out.chars().count() > 600 {
        let cut: String = out.chars().take(600).collect();
        format!("{cut}… ({} chars)", out.chars().count())
    } else {
        out
    }
}

/// Replays a repro on engines from the registry (comma-separated names, or `all`) and panics
/// with the side-by-side outcomes while any of them disagrees with the oracle.
pub fn assert_replay_agrees(repro: &Repro, engines: &str) {
    let selected = crate::engines::select(Some(engines)).unwrap_or_else(|e| panic!("{e}"));
    let openers = repro.openers(&selected).unwrap_or_else(|e| panic!("{e}"));
    let subjects: Vec<(String, &dyn Opener)> = openers
        .iter()
        .map(|(l, o)| (l.clone(), o.as_ref()))
        .collect();
    let oracle = syncproof_memory::MemoryOpener::default();
    let run = run_case_with(repro.seed, &repro.ops, &oracle, &subjects, None, false)
        .unwrap_or_else(|e| panic!("setup: {e}"));
    if let Some(f) = run.finding {
        let again = Repro {
            finding: Some(f),
            ..repro.clone()
        };
        panic!("engines disagree with the oracle:\n{}", describe(&again));
    }
}

/// Progress display: a bar on a terminal, a line per 10% elsewhere.
struct Bar {
    bar: Option<indicatif::ProgressBar>,
    total: u64,
    lines: bool,
    last_decile: AtomicU64,
    start: Instant,
}

fn progress_bar(p: Progress, total: u64) -> Bar {
    let on = p == Progress::Auto;
    let tty = std::io::stderr().is_terminal();
    let bar = (on && tty).then(|| {
        let b = indicatif::ProgressBar::new(total);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} sequences ({per_sec}, eta {eta})",
        ) {
            b.set_style(style);
        }
        b
    });
    Bar {
        bar,
        total,
        lines: on && !tty,
        last_decile: AtomicU64::new(0),
        start: Instant::now(),
    }
}

impl Bar {
    fn tick(&self, done: u64, stop: &AtomicBool) {
        if let Some(b) = &self.bar {
            b.set_position(done);
        } else if self.lines && self.total > 0 {
            let decile = done * 10 / self.total;
            if decile > self.last_decile.fetch_max(decile, Ordering::Relaxed)
                && !stop.load(Ordering::Relaxed)
            {
                eprintln!(
                    "syncproof check: {done}/{} sequences after {:.1}s",
                    self.total,
                    self.start.elapsed().as_secs_f64()
                );
            }
        }
    }
    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
