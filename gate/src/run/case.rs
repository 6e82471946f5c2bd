//! What one case produced, at either level: the driver folds these into a run's totals.

use std::collections::BTreeMap;

use syncproof_engine::ErrorKind;

use super::latency::Latencies;

/// What one case produced, at either level.
#[derive(Debug)]
pub struct CaseRun<F> {
    /// The first disagreement, if any.
    pub finding: Option<F>,
    /// Ops applied (up to and including the disagreeing one).
    pub ops_run: usize,
    /// Per engine under test, in the level's order: latencies by op kind.
    pub latencies: Vec<Latencies>,
    /// Ops applied, by kind.
    pub op_kinds: BTreeMap<&'static str, u64>,
    /// Error kinds the reference returned.
    pub error_kinds: BTreeMap<ErrorKind, u64>,
}

impl<F> Default for CaseRun<F> {
    fn default() -> Self {
        CaseRun {
            finding: None,
            ops_run: 0,
            latencies: Vec::new(),
            op_kinds: BTreeMap::new(),
            error_kinds: BTreeMap::new(),
        }
    }
}
