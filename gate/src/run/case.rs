//! What one case produced, at either level, and what the cases of a run add up to.

use std::collections::BTreeMap;

use syncproof_engine::ErrorKind;

use super::latency::Latencies;

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
        }
    }
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
        run.finding
    }
}
