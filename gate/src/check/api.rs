//! The API level: generated sync sequences on the oracle and the engines under test through
//! the `StorageEngine` contract, after the contract suite. A third-party engine runs it from
//! its own tests:
//!
//! ```no_run
//! use syncproof_gate::Harness;
//! # fn my_opener() -> syncproof_memory::MemoryOpener { Default::default() }
//!
//! let report = Harness::new().engine("mine", Box::new(my_opener())).cases(200).run();
//! assert!(report.passed(), "{}", report.summary());
//! ```

use std::sync::Mutex;
use std::time::Instant;

use syncproof_engine::contract::{run_check_in, Check, Opener, CHECKS};

use super::driver::{drive, Level};
use super::options::Options;
use super::report::{ContractFailure, FailureReport, Kinds, Report};
use super::stall::{StallAt, StallReport};
use crate::model::generate;
use crate::model::ops::{Op, OP_KINDS};
use crate::run::case::CaseRun;
use crate::run::repro::{OpenerFn, Repro, REPRO_VERSION};
use crate::run::runner::{run_case, run_case_watched, Finding};
use crate::run::shrink::{culprits, shrink, shrink_confirmed};
use crate::run::text::describe;
use crate::run::watchdog::{watch, Beat, Stall, StallFinding, Task};

/// The engines of a run and its options.
pub struct Harness {
    oracle: Box<dyn Opener>,
    /// Per engine under test: its configurations' labels and openers, its default first.
    engines: Vec<Vec<(String, Box<dyn Opener>)>>,
    regression_opener: String,
    /// What the run does.
    pub options: Options,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

/// The API level over borrowed engines, as the driver runs it.
struct Api<'h> {
    oracle: &'h dyn Opener,
    /// Per engine: its configurations, the default first.
    subjects: Vec<Vec<(String, &'h dyn Opener)>>,
    tmp: Option<&'h std::path::Path>,
    inject: Option<String>,
}

impl Level for Api<'_> {
    type Op = Op;
    type Finding = Finding;
    fn engine_labels(&self) -> Vec<String> {
        self.subjects
            .iter()
            .filter_map(|c| c.first().map(|(l, _)| l.clone()))
            .collect()
    }
    fn case_labels(&self, seed: u64, index: u64) -> Vec<String> {
        self.drawn(seed, index)
            .into_iter()
            .map(|(l, _)| l)
            .collect()
    }
    fn generate(&self, seed: u64, index: u64, max_ops: usize) -> Vec<Op> {
        generate::case(seed, index, max_ops)
    }
    fn reference_label(&self) -> String {
        format!("{} (oracle)", self.oracle.name())
    }
    fn run(
        &self,
        seed: u64,
        index: u64,
        ops: &[Op],
        beat: &Beat,
    ) -> Result<CaseRun<Finding>, String> {
        let drawn = self.drawn(seed, index);
        let mut run = run_case_watched(seed, ops, self.oracle, &drawn, self.tmp, beat, None)?;
        run.configurations = drawn.into_iter().map(|(l, _)| l).collect();
        let shape = generate::Shape::of(seed, index);
        run.shapes = [(shape.tail, "tail"), (shape.left_out.is_some(), "swarm")]
            .into_iter()
            .filter_map(|(is, name)| is.then_some(name))
            .collect();
        Ok(run)
    }
    fn save_stall(
        &self,
        seed: u64,
        case: u64,
        ops: Vec<Op>,
        stall: StallFinding,
        dir: &std::path::Path,
    ) -> Result<std::path::PathBuf, String> {
        Repro {
            version: REPRO_VERSION,
            seed,
            case,
            engines: vec![stall.engine.clone()],
            inject: self.inject.clone(),
            ops,
            finding: None,
            flaky: false,
            stall: Some(stall),
        }
        .save(dir)
    }
}

impl<'h> Api<'h> {
    /// The configuration of every engine that case `index` runs under
    /// ([`generate::configuration`]).
    fn drawn(&self, seed: u64, index: u64) -> Vec<(String, &'h dyn Opener)> {
        self.subjects
            .iter()
            .enumerate()
            .filter_map(|(j, c)| {
                c.get(generate::configuration(seed, index, j, c.len()))
                    .cloned()
            })
            .collect()
    }

    /// Every configuration of every engine, looked up by label.
    fn by_label(&self, label: &str) -> Option<(String, &'h dyn Opener)> {
        self.subjects
            .iter()
            .flatten()
            .find(|(l, _)| l == label)
            .cloned()
    }
}

impl Harness {
    /// A harness with the memory engine as the oracle and no engine under test yet.
    pub fn new() -> Self {
        Harness {
            oracle: Box::new(syncproof_memory::MemoryOpener::default()),
            engines: Vec::new(),
            regression_opener: "crate::syncproof_opener".into(),
            options: Options::default(),
        }
    }
    /// Adds an engine under test.
    pub fn engine(mut self, label: impl Into<String>, opener: Box<dyn Opener>) -> Self {
        self.engines.push(vec![(label.into(), opener)]);
        self
    }
    /// Adds a configuration to the engine added last (metamorphic testing: see
    /// [`syncproof_engine::contract::Configuration`]): each case runs that engine under one
    /// of its configurations, drawn per case, the default included; its label
    /// (`fjall+tiny-memtable`) is what findings and repros name. Without an engine added
    /// first it is the first engine.
    pub fn configuration(mut self, label: impl Into<String>, opener: Box<dyn Opener>) -> Self {
        self.add_configuration(label.into(), opener);
        self
    }
    /// Adds an engine with its configurations, its default first ([`Self::engine`], then
    /// [`Self::configuration`] for each of the rest); nothing when `configurations` is empty.
    pub fn configured(
        mut self,
        configurations: impl IntoIterator<Item = (String, Box<dyn Opener>)>,
    ) -> Self {
        let mut it = configurations.into_iter();
        if let Some(default) = it.next() {
            self.engines.push(vec![default]);
            for (label, o) in it {
                self.add_configuration(label, o);
            }
        }
        self
    }
    fn add_configuration(&mut self, label: String, opener: Box<dyn Opener>) {
        match self.engines.last_mut() {
            Some(c) => c.push((label, opener)),
            None => self.engines.push(vec![(label, opener)]),
        }
    }
    /// Sets the number of cases.
    pub fn cases(mut self, n: u64) -> Self {
        self.options.cases = n;
        self
    }
    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.options.seed = seed;
        self
    }
    /// Sets the longest sequence.
    pub fn max_ops(mut self, n: usize) -> Self {
        self.options.max_ops = n;
        self
    }
    /// Replaces every option.
    pub fn options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }
    /// The Rust path of the [`OpenerFn`] the printed regression test calls to make each
    /// engine from its label. Default: `crate::syncproof_opener`, a function the engine's
    /// test crate defines at its root.
    pub fn regression_opener(mut self, path: impl Into<String>) -> Self {
        self.regression_opener = path.into();
        self
    }

    fn api(&self) -> Api<'_> {
        Api {
            oracle: self.oracle.as_ref(),
            subjects: self
                .engines
                .iter()
                .map(|c| c.iter().map(|(l, o)| (l.clone(), o.as_ref())).collect())
                .collect(),
            tmp: self.options.tmp.as_deref(),
            inject: self.options.inject.clone(),
        }
    }

    /// Runs the contract suite on every engine, checks in parallel.
    fn contract(&self) -> Vec<ContractFailure> {
        let o = &self.options;
        let jobs: Vec<(&str, &dyn Opener, &Check)> = self
            .engines
            .iter()
            .filter_map(|c| c.first())
            .flat_map(|(l, e)| CHECKS.iter().map(move |c| (l.as_str(), e.as_ref(), c)))
            .collect();
        let next = std::sync::atomic::AtomicUsize::new(0);
        let failures = Mutex::new(Vec::new());
        let beats: Vec<Beat> = (0..o.threads()).map(|_| Beat::default()).collect();
        let on_stall = |stall: Stall| {
            let at = match stall.task {
                Some(Task::Check { job }) => {
                    jobs.get(job).map(|(label, _, check)| StallAt::Check {
                        check: format!("{} on {label}", check.name),
                    })
                }
                _ => None,
            };
            let at = at.unwrap_or(StallAt::Nowhere {});
            StallReport::new("syncproof check (contract)", stall.kind, stall.elapsed, at)
                .emit(o.on_stall.as_ref());
        };
        watch(&beats, o.limits(), &on_stall, || {
            std::thread::scope(|s| {
                for beat in &beats {
                    let (jobs, next, failures) = (&jobs, &next, &failures);
                    s.spawn(move || loop {
                        let j = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&(label, opener, check)) = jobs.get(j) else {
                            return;
                        };
                        beat.check(j);
                        let result = run_check_in(opener, check, o.tmp.as_deref());
                        beat.idle();
                        if let Err(f) = result {
                            failures.lock().unwrap_or_else(|e| e.into_inner()).push((
                                j,
                                ContractFailure {
                                    engine: label.to_string(),
                                    check: check.name.into(),
                                    section: check.section.into(),
                                    message: f.0,
                                },
                            ));
                        }
                    });
                }
            })
        });
        let mut failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
        failures.sort_by_key(|(j, _)| *j);
        failures.into_iter().map(|(_, f)| f).collect()
    }

    /// Runs the contract suite (if enabled) and the generated sequences.
    pub fn run(&self) -> Report {
        let start = Instant::now();
        let o = &self.options;
        let contract_failures = if o.contract {
            self.contract()
        } else {
            Vec::new()
        };
        let api = self.api();
        let driven = drive(&api, o, "syncproof check");
        let failure = driven
            .failure
            .clone()
            .map(|(case, ops, finding)| self.shrink_and_save(&api, case, ops, finding));
        let mut report = Report::from_driven(
            "api",
            o,
            api.engine_labels(),
            Kinds {
                ops: OP_KINDS,
                reach: crate::run::reach::REACH,
            },
            driven,
            failure,
            start.elapsed().as_secs_f64(),
        );
        for (label, _) in api.subjects.iter().flatten() {
            report.configurations.entry(label.clone()).or_insert(0);
        }
        // After a disagreement the run has failed already: its shrunk repro is the news.
        if o.concurrent_cases > 0 && report.failure.is_none() {
            report.concurrent = Some(super::concurrent::run_phase(&api.subjects, o));
        }
        report.contract_checks = if o.contract { CHECKS.len() } else { 0 };
        report.contract_failures = contract_failures;
        report
    }

    /// Shrinks a failing case against the engines that disagreed, and writes its repro.
    fn shrink_and_save(
        &self,
        api: &Api<'_>,
        case: u64,
        ops: Vec<Op>,
        finding: Finding,
    ) -> FailureReport<Repro> {
        let o = &self.options;
        let labels = culprits(&finding.outcomes);
        let culprits: Vec<(String, &dyn Opener)> =
            labels.iter().filter_map(|l| api.by_label(l)).collect();
        let original_ops = ops.len();
        let again = |candidate: &[Op]| {
            run_case(o.seed, candidate, api.oracle, &culprits, api.tmp)
                .ok()
                .and_then(|r| r.finding)
        };
        let shrunk = shrink_confirmed(ops, finding, |f| f.op_index, shrink, &again);
        let repro = Repro {
            version: REPRO_VERSION,
            seed: o.seed,
            case,
            engines: labels,
            inject: o.inject.clone(),
            ops: shrunk.ops,
            finding: Some(shrunk.finding),
            flaky: !shrunk.reproduced,
            stall: None,
        };
        let saved = repro.save(&o.repro_dir);
        let test = repro.regression_test(&self.regression_opener);
        FailureReport::new(
            case,
            original_ops,
            shrunk.reproduced,
            repro,
            saved,
            Some(test),
        )
    }
}

/// Replays a repro on the engines it names, each made by `open` from its label (and wrapped
/// with the injected bug the repro records), and panics with the side-by-side outcomes while
/// any of them disagrees with the oracle. The printed regression tests call this.
pub fn assert_replay_agrees(repro: &Repro, open: OpenerFn) {
    let openers = repro
        .openers_for(&repro.engines, &open)
        .unwrap_or_else(|e| panic!("{e}"));
    let subjects: Vec<(String, &dyn Opener)> = openers
        .iter()
        .map(|(l, o)| (l.clone(), o.as_ref()))
        .collect();
    let oracle = syncproof_memory::MemoryOpener::default();
    let run = run_case(repro.seed, &repro.ops, &oracle, &subjects, None)
        .unwrap_or_else(|e| panic!("setup: {e}"));
    if let Some(f) = run.finding {
        let again = Repro {
            finding: Some(f),
            ..repro.clone()
        };
        panic!("engines disagree with the oracle:\n{}", describe(&again));
    }
}
