//! How fast the generated sequences find each planted bug: cases to first detection.
//!
//! For a bug class and a seed, the cases of a run (`model::generate::case`, or the unaimed
//! form to measure what the aim buys, or the form without swarm cases to measure what they
//! buy) run in order on the memory engine with the bug injected,
//! against the oracle, until one disagrees: its index plus one is how many cases the gate
//! needed. The contract suite takes no part; this measures the sequences alone. Stall classes
//! are left out (the watchdog finds them, and a run that meets one cannot go on), and so are
//! the classes only concurrent reads see (`Bug::CONCURRENT`; the concurrent phase finds them)
//! and those only an import writing a record twice meets (`Bug::IMPORT_ONLY`; the contract
//! suite finds them).
//! `syncproof bugs --detection` prints the table; `gate/tests/detection.rs` holds the
//! sequences to it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use syncproof_memory::MemoryOpener;

use crate::check::options::DEFAULT_MAX_OPS;
use crate::faults::{Bug, FaultyOpener};
use crate::model::generate::{case, case_without_swarm, unaimed_case};
use crate::run::runner::run_case;

/// The most cases (median over seeds) a class may need to first detection: the issue's
/// target, held by `gate/tests/detection.rs` and counted by `syncproof bugs --detection`.
pub const TARGET_CASES: u64 = 50;

/// Which generator the cases come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cases {
    /// `generate::case`: aimed at what each case wrote (the gate's cases).
    Aimed,
    /// `generate::unaimed_case`: every value from the whole universe.
    Unaimed,
    /// `generate::case_without_swarm`: aimed, but every case keeps the whole op mix.
    WithoutSwarm,
}

/// One class's cases to first detection, per seed (`None`: not within the budget).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detection {
    /// The class.
    pub bug: Bug,
    /// Per seed, in the order asked.
    pub cases: Vec<Option<u64>>,
}

impl Detection {
    /// Whether the median is within [`TARGET_CASES`].
    pub fn within_target(&self) -> bool {
        self.median().is_some_and(|m| m <= TARGET_CASES)
    }

    /// The median over the seeds, a miss counting as more than any number; `None` when half
    /// the seeds or more missed.
    pub fn median(&self) -> Option<u64> {
        let mut v: Vec<u64> = self.cases.iter().map(|c| c.unwrap_or(u64::MAX)).collect();
        v.sort_unstable();
        v.get(v.len().checked_sub(1)? / 2)
            .copied()
            .filter(|m| *m != u64::MAX)
    }
}

/// Cases until the first disagreement of `bug` with the oracle, for `seed`, at most
/// `budget` cases. `Err` when a store cannot be set up.
pub fn cases_to_detection(
    bug: Bug,
    seed: u64,
    budget: u64,
    cases: Cases,
) -> Result<Option<u64>, String> {
    let oracle = MemoryOpener::default();
    let engine = FaultyOpener::new(Box::new(MemoryOpener::default()), bug);
    let engines = [(
        bug.name().to_string(),
        &engine as &dyn syncproof_engine::contract::Opener,
    )];
    for index in 0..budget {
        let ops = match cases {
            Cases::Aimed => case(seed, index, DEFAULT_MAX_OPS),
            Cases::Unaimed => unaimed_case(seed, index, DEFAULT_MAX_OPS),
            Cases::WithoutSwarm => case_without_swarm(seed, index, DEFAULT_MAX_OPS),
        };
        if run_case(seed, &ops, &oracle, &engines, None)?
            .finding
            .is_some()
        {
            return Ok(Some(index + 1));
        }
    }
    Ok(None)
}

/// [`cases_to_detection`] for every non-stall class of `bugs` and every seed, on `threads`
/// threads; in the order of `bugs`.
pub fn measure(
    bugs: &[Bug],
    seeds: &[u64],
    budget: u64,
    cases: Cases,
    threads: usize,
) -> Result<Vec<Detection>, String> {
    let bugs: Vec<Bug> = bugs
        .iter()
        .copied()
        .filter(|b| b.sequences_can_meet())
        .collect();
    let jobs: Vec<(usize, usize)> = (0..bugs.len())
        .flat_map(|b| (0..seeds.len()).map(move |s| (b, s)))
        .collect();
    let results = Mutex::new(vec![vec![None; seeds.len()]; bugs.len()]);
    let errors = Mutex::new(Vec::new());
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| loop {
                let Some(&(b, k)) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) else {
                    return;
                };
                let (Some(&bug), Some(&seed)) = (bugs.get(b), seeds.get(k)) else {
                    return;
                };
                match cases_to_detection(bug, seed, budget, cases) {
                    Ok(n) => {
                        let mut r = results.lock().unwrap_or_else(|e| e.into_inner());
                        if let Some(slot) = r.get_mut(b).and_then(|row| row.get_mut(k)) {
                            *slot = n;
                        }
                    }
                    Err(e) => errors
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(format!("{}: {e}", bug.name())),
                }
            });
        }
    });
    let errors = errors.into_inner().unwrap_or_else(|e| e.into_inner());
    if let Some(e) = errors.first() {
        return Err(e.clone());
    }
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    Ok(bugs
        .into_iter()
        .zip(results)
        .map(|(bug, cases)| Detection { bug, cases })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_counts_misses_as_worst() {
        let d = |cases: Vec<Option<u64>>| Detection {
            bug: Bug::PrefixFilters,
            cases,
        };
        assert_eq!(d(vec![Some(3), None, Some(1)]).median(), Some(3));
        assert_eq!(d(vec![Some(3), None, None]).median(), None);
        assert_eq!(d(vec![Some(4), Some(2)]).median(), Some(2));
        assert_eq!(d(vec![]).median(), None);
    }
}
