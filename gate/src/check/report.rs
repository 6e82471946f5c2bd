//! What a gate run found and measured, at either level; its rendering is in `render`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;
use syncproof_engine::scratch::Scratch;
use syncproof_engine::ErrorKind;

use super::driver::{Driven, Level};
use super::options::{Options, Shard};
use crate::run::latency::Percentiles;

/// One engine's numbers.
#[derive(Clone, Debug, Serialize)]
pub struct EngineReport {
    /// The label the engine was run under.
    pub engine: String,
    /// Ops it applied.
    pub ops: u64,
    /// Time spent inside its calls.
    pub busy_secs: f64,
    /// `ops / busy_secs`.
    pub ops_per_sec: f64,
    /// Percentiles by op kind.
    pub latency: BTreeMap<String, Percentiles>,
}

/// A disagreement, shrunk, with its repro `R`.
#[derive(Clone, Debug, Serialize)]
pub struct FailureReport<R> {
    /// The case index of the run.
    pub case: u64,
    /// Ops of the case as generated (up to the disagreement).
    pub original_ops: usize,
    /// Whether the shrunk sequence still disagreed when run again. `false` means the
    /// engine is flaky (or depends on state outside the store): the repro then holds the
    /// unshrunk sequence.
    pub shrink_reproduced: bool,
    /// The repro, as written.
    pub repro: R,
    /// Where it was written.
    pub repro_path: Option<PathBuf>,
    /// Why it could not be written (a run with this set fails loudly).
    pub repro_error: Option<String>,
    /// A `#[test]` to paste (API level).
    pub regression_test: Option<String>,
}

impl<R> FailureReport<R> {
    /// The report of a shrunk failure, with what saving its repro gave (`saved`).
    pub fn new(
        case: u64,
        original_ops: usize,
        shrink_reproduced: bool,
        repro: R,
        saved: Result<PathBuf, String>,
        regression_test: Option<String>,
    ) -> Self {
        let (repro_path, repro_error) = match saved {
            Ok(p) => (Some(p), None),
            Err(e) => (None, Some(e)),
        };
        FailureReport {
            case,
            original_ops,
            shrink_reproduced,
            repro,
            repro_path,
            repro_error,
            regression_test,
        }
    }
}

/// A contract check an engine failed.
#[derive(Clone, Debug, Serialize)]
pub struct ContractFailure {
    /// The engine's label.
    pub engine: String,
    /// The check's name.
    pub check: String,
    /// Its SPEC section.
    pub section: String,
    /// What went wrong.
    pub message: String,
}

/// A structural counter of one engine configuration (`StorageEngine::structure`): in how
/// many of its cases it ended above zero (the event it counts happened), and its largest value.
#[derive(Clone, Debug, Serialize)]
pub struct StructuralEvent {
    /// The label the engine ran under.
    pub engine: String,
    /// The engine's name for the counter.
    pub counter: String,
    /// Cases that ended with it above zero.
    pub cases: u64,
    /// Cases that reported it.
    pub of: u64,
    /// Its largest value.
    pub max: u64,
}

/// Records the puts of a case carried: the size proxy for engines without counters.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct RecordsPerCase {
    /// Median (the lower bound of its histogram bucket).
    pub p50: u64,
    /// 90th percentile (likewise).
    pub p90: u64,
    /// Largest.
    pub max: u64,
}

/// The kinds a level's coverage lists, each with its count (zero when never seen).
pub struct Kinds {
    /// Its op kinds.
    pub ops: &'static [&'static str],
    /// Its reach kinds (`run::reach`; `model::kv::KV_REACH_KINDS` for the KV level).
    pub reach: &'static [&'static str],
}

/// Everything a run found and measured. `R` is the level's repro type.
#[derive(Clone, Debug, Serialize)]
pub struct Report<R = crate::run::repro::Repro> {
    /// `api` or `kv`.
    pub level: &'static str,
    /// Seed of the run.
    pub seed: u64,
    /// Shard of the run.
    pub shard: Shard,
    /// Cases this shard was asked for (`None`: unbounded, a soak).
    pub cases_asked: Option<u64>,
    /// The fewest checked cases that pass.
    pub min_cases: u64,
    /// Cases run to their end.
    pub cases_run: u64,
    /// Ops applied over all cases.
    pub ops_run: u64,
    /// Wall time of the whole run.
    pub elapsed_secs: f64,
    /// Wall time of the generated sequences alone (the contract suite runs before them).
    pub sequence_secs: f64,
    /// Engine-op applications whose outcome was compared with the reference's: every op of
    /// every case, once per engine under test.
    pub checked_applications: u64,
    /// [`Self::checked_applications`] per second of [`Self::sequence_secs`]: the gate's
    /// throughput.
    pub checked_per_sec: f64,
    /// Worker threads that ran the sequences.
    pub threads: usize,
    /// Where the stores were: the directory, its file system, and whether it is in RAM.
    pub stores: Scratch,
    /// Whether the time budget ended the run before its cases were done.
    pub stopped_by_time: bool,
    /// The engines under test (the reference is not among them).
    pub engines: Vec<EngineReport>,
    /// Ops applied by kind, every kind listed.
    pub op_kinds: BTreeMap<String, u64>,
    /// What the cases reached (`run::reach`), every kind of the level listed.
    pub reach: BTreeMap<String, u64>,
    /// Error kinds the reference returned, every kind listed.
    pub error_kinds: BTreeMap<String, u64>,
    /// Cases run, by the label each engine ran under: one entry per configuration of every
    /// engine under test (empty at the KV level).
    pub configurations: BTreeMap<String, u64>,
    /// Structural counters per engine configuration, where the engines can tell.
    pub structure: Vec<StructuralEvent>,
    /// Records put per case.
    pub records_per_case: RecordsPerCase,
    /// Cases that opened with a large tail sync (`tail`) and swarm cases that left op kinds
    /// out (`swarm`); API level.
    pub shapes: BTreeMap<String, u64>,
    /// Contract checks run per engine (0 when the contract did not run).
    pub contract_checks: usize,
    /// The contract checks that failed.
    pub contract_failures: Vec<ContractFailure>,
    /// The shrunk lowest failing case.
    pub failure: Option<FailureReport<R>>,
    /// Stores that could not be set up.
    pub setup_errors: Vec<String>,
    /// The concurrent phase (API level; `None` when it did not run).
    pub concurrent: Option<super::concurrent::ConcurrentReport>,
}

impl<R> Report<R> {
    /// Time spent inside the calls of the engines under test, summed over engines and
    /// threads. Beside `threads × sequence_secs` it says how much of the workers' time the
    /// engines themselves took and how much the gate's own work did (the reference,
    /// generation, comparison, stores set up and removed).
    pub fn engines_busy_secs(&self) -> f64 {
        self.engines.iter().map(|e| e.busy_secs).sum()
    }

    /// Assembles the report of a driven run.
    pub fn from_driven<L: Level>(
        level: &'static str,
        o: &Options,
        labels: Vec<String>,
        kinds: Kinds,
        driven: Driven<L>,
        failure: Option<FailureReport<R>>,
        elapsed_secs: f64,
    ) -> Self {
        let engines = labels
            .into_iter()
            .zip(driven.totals.latencies)
            .map(|(engine, lat)| {
                let ops: u64 = lat.values().map(|h| h.samples()).sum();
                let busy_secs = lat.values().map(|h| h.sum_ns()).sum::<u128>() as f64 / 1e9;
                EngineReport {
                    engine,
                    ops,
                    busy_secs,
                    ops_per_sec: if busy_secs > 0.0 {
                        ops as f64 / busy_secs
                    } else {
                        0.0
                    },
                    latency: lat
                        .iter()
                        .map(|(k, h)| (k.to_string(), Percentiles::from(h)))
                        .collect(),
                }
            })
            .collect::<Vec<EngineReport>>();
        let checked_applications: u64 = engines.iter().map(|e| e.ops).sum();
        let sequence_secs = driven.secs;
        Report {
            level,
            seed: o.seed,
            shard: o.shard,
            cases_asked: o.cases_in_shard(),
            min_cases: o.required_cases(),
            cases_run: driven.totals.cases,
            ops_run: driven.totals.ops,
            elapsed_secs,
            sequence_secs,
            checked_applications,
            checked_per_sec: if sequence_secs > 0.0 {
                checked_applications as f64 / sequence_secs
            } else {
                0.0
            },
            threads: o.threads(),
            stores: Scratch::resolve(o.tmp.as_deref()),
            stopped_by_time: driven.stopped_by_time,
            engines,
            op_kinds: kinds
                .ops
                .iter()
                .map(|k| {
                    (
                        k.to_string(),
                        driven.totals.op_kinds.get(k).copied().unwrap_or(0),
                    )
                })
                .collect(),
            reach: kinds
                .reach
                .iter()
                .map(|k| {
                    (
                        k.to_string(),
                        driven.totals.reach.get(k).copied().unwrap_or(0),
                    )
                })
                .collect(),
            error_kinds: ErrorKind::ALL
                .iter()
                .map(|k| {
                    (
                        k.name().to_string(),
                        driven.totals.error_kinds.get(k).copied().unwrap_or(0),
                    )
                })
                .collect(),
            configurations: driven.totals.configurations,
            structure: driven
                .totals
                .structure
                .iter()
                .map(|((engine, counter), h)| StructuralEvent {
                    engine: engine.clone(),
                    counter: counter.to_string(),
                    cases: h.cases,
                    of: h.of,
                    max: h.max,
                })
                .collect(),
            shapes: driven
                .totals
                .shapes
                .iter()
                .map(|(k, n)| (k.to_string(), *n))
                .collect(),
            records_per_case: RecordsPerCase {
                p50: driven.totals.records_put.quantile_ns(0.5),
                p90: driven.totals.records_put.quantile_ns(0.9),
                max: driven.totals.records_put.quantile_ns(1.0),
            },
            contract_checks: 0,
            contract_failures: Vec::new(),
            failure,
            setup_errors: driven.setup_errors,
            concurrent: None,
        }
    }

    /// Whether the run checked fewer cases than it needed to pass.
    pub fn too_few_cases(&self) -> bool {
        self.failure.is_none() && self.cases_run < self.min_cases
    }

    /// Something was checked, and nothing failed: no contract failure, no disagreement, no
    /// setup error, no repro that could not be written, and at least the minimum of cases.
    pub fn passed(&self) -> bool {
        self.contract_failures.is_empty()
            && self.failure.is_none()
            && self.setup_errors.is_empty()
            && !self.too_few_cases()
            && self.concurrent.as_ref().is_none_or(|c| {
                c.failure.is_none() && c.setup_errors.is_empty() && c.cases_run() > 0
            })
    }

    /// Op kinds, error kinds and reach kinds the run never exercised.
    pub fn blind_spots(&self) -> Vec<String> {
        let ops = self
            .op_kinds
            .iter()
            .filter(|(_, n)| **n == 0)
            .map(|(k, _)| format!("op {k}"));
        let errors = self
            .error_kinds
            .iter()
            .filter(|(_, n)| **n == 0)
            .map(|(k, _)| format!("error {k}"));
        let reach = self
            .reach
            .iter()
            .filter(|(_, n)| **n == 0)
            .map(|(k, _)| format!("reach {k}"));
        ops.chain(errors)
            .chain(reach)
            .chain(self.structural_blind_spots())
            .collect()
    }

    /// Structural counters that no configuration of an engine ever moved above zero
    /// (`engine counter`): machinery the run never reached on that engine.
    pub fn structural_blind_spots(&self) -> Vec<String> {
        let mut by_engine: BTreeMap<(String, &str), u64> = BTreeMap::new();
        for e in &self.structure {
            let (engine, _) = syncproof_engine::contract::split_label(&e.engine);
            *by_engine
                .entry((engine.to_string(), e.counter.as_str()))
                .or_default() += e.cases;
        }
        by_engine
            .into_iter()
            .filter(|(_, n)| *n == 0)
            .map(|((engine, counter), _)| format!("structure {engine} {counter}"))
            .collect()
    }
}
