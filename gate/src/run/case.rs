//! What one case produced, at either level, and what the cases of a run add up to.

use std::collections::BTreeMap;

use syncproof_engine::ErrorKind;

use super::latency::{Histogram, Latencies};

/// Latencies of one case on one engine, by op kind, in nanoseconds: raw samples (a case has
/// a few dozen ops), folded into the run's histograms by [`Totals::absorb`].
pub type Samples = BTreeMap<&'static str, Vec<u64>>;

/// What one case produced, at either level.
#[derive(Debug)]
pub struct CaseRun<F> {
    /// The first disagreement, if any.
    pub finding: Option<F>,
    /// Ops applied (up to and including the disagreeing one).
    pub ops_run: usize,
    /// Per engine under test, in the level's order: latency samples by op kind.
    pub latencies: Vec<Samples>,
    /// Ops applied, by kind.
    pub op_kinds: BTreeMap<&'static str, u64>,
    /// Error kinds the reference returned.
    pub error_kinds: BTreeMap<ErrorKind, u64>,
    /// What the case reached, by reach kind (`run::reach`).
    pub reach: BTreeMap<&'static str, u64>,
    /// The labels the engines ran under, in the level's order (a configuration's label when
    /// one was drawn; empty at the KV level).
    pub configurations: Vec<String>,
    /// Per engine that ran the case to its end: its label and its structural counters at the
    /// end (`StorageEngine::structure`).
    pub structure: Vec<(String, Vec<(&'static str, u64)>)>,
    /// Records the case's puts carried (the reach proxy where an engine has no counters).
    pub records_put: u64,
    /// What shaped the case beyond its generated ops (`tail`, `swarm`; API level).
    pub shapes: Vec<&'static str>,
}

impl<F> CaseRun<F> {
    /// An empty run over `engines` engines under test.
    pub fn new(engines: usize) -> Self {
        CaseRun {
            finding: None,
            ops_run: 0,
            latencies: vec![Samples::new(); engines],
            op_kinds: BTreeMap::new(),
            error_kinds: BTreeMap::new(),
            reach: BTreeMap::new(),
            configurations: Vec::new(),
            structure: Vec::new(),
            records_put: 0,
            shapes: Vec::new(),
        }
    }
}

/// In how many cases an engine's structural counter was above zero at the end, and its
/// largest value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Happened {
    /// Cases that ended with the counter above zero.
    pub cases: u64,
    /// Cases that reported the counter.
    pub of: u64,
    /// Its largest value.
    pub max: u64,
}

/// What the cases of a run add up to: bounded whatever the number of cases.
#[derive(Debug)]
pub struct Totals {
    /// Cases run to their end.
    pub cases: u64,
    /// Ops applied, over all cases.
    pub ops: u64,
    /// Per engine under test: latency histograms by op kind.
    pub latencies: Vec<Latencies>,
    /// Ops applied, by kind.
    pub op_kinds: BTreeMap<&'static str, u64>,
    /// Error kinds the reference returned.
    pub error_kinds: BTreeMap<ErrorKind, u64>,
    /// What the cases reached, by reach kind.
    pub reach: BTreeMap<&'static str, u64>,
    /// Cases run to their end, by the label each engine ran under.
    pub configurations: BTreeMap<String, u64>,
    /// Structural counters by engine label and counter name.
    pub structure: BTreeMap<(String, &'static str), Happened>,
    /// Records put per case.
    pub records_put: Histogram,
    /// Cases by what shaped them (`tail`, `swarm`).
    pub shapes: BTreeMap<&'static str, u64>,
}

impl Totals {
    /// Nothing yet, over `engines` engines under test.
    pub fn new(engines: usize) -> Self {
        Totals {
            cases: 0,
            ops: 0,
            latencies: vec![Latencies::new(); engines],
            op_kinds: BTreeMap::new(),
            error_kinds: BTreeMap::new(),
            reach: BTreeMap::new(),
            configurations: BTreeMap::new(),
            structure: BTreeMap::new(),
            records_put: Histogram::default(),
            shapes: BTreeMap::new(),
        }
    }

    /// Adds one case; hands back its finding.
    pub fn absorb<F>(&mut self, run: CaseRun<F>) -> Option<F> {
        self.cases += 1;
        self.ops += run.ops_run as u64;
        for (acc, samples) in self.latencies.iter_mut().zip(run.latencies) {
            for (kind, ns) in samples {
                let h = acc.entry(kind).or_default();
                ns.into_iter().for_each(|n| h.record(n));
            }
        }
        for (kind, n) in run.op_kinds {
            *self.op_kinds.entry(kind).or_default() += n;
        }
        for (kind, n) in run.error_kinds {
            *self.error_kinds.entry(kind).or_default() += n;
        }
        for (kind, n) in run.reach {
            *self.reach.entry(kind).or_default() += n;
        }
        for label in run.configurations {
            *self.configurations.entry(label).or_default() += 1;
        }
        for (label, counters) in run.structure {
            for (name, n) in counters {
                let h = self.structure.entry((label.clone(), name)).or_default();
                h.of += 1;
                h.cases += u64::from(n > 0);
                h.max = h.max.max(n);
            }
        }
        self.records_put.record(run.records_put);
        for s in run.shapes {
            *self.shapes.entry(s).or_default() += 1;
        }
        run.finding
    }
}
