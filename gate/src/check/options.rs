//! What a gate run does: cases, seed, budget, shard, threads, where stores and repros go.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::stall::StallHook;
use crate::run::watchdog::Limits;

/// Which part of the case space this run covers: cases `i` with `i % count == index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Shard {
    /// Zero-based.
    pub index: u64,
    /// How many shards the case space is split into.
    pub count: u64,
}

impl Default for Shard {
    fn default() -> Self {
        Shard { index: 0, count: 1 }
    }
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

    /// How many of the first `cases` case indices belong to this shard.
    pub fn cases_of(&self, cases: u64) -> u64 {
        cases / self.count + u64::from(self.index < cases % self.count)
    }

    /// The `k`-th case index of this shard (`None` past `u64::MAX`).
    pub fn case_index(&self, k: u64) -> Option<u64> {
        k.checked_mul(self.count)?.checked_add(self.index)
    }
}

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// A bar on a terminal, a line every 10% otherwise.
    Auto,
    /// Nothing.
    None,
}

/// What a run does.
#[derive(Clone, Debug)]
pub struct Options {
    /// Case indices `0..cases` (of which this shard runs its share); `u64::MAX` with a time
    /// budget is a soak: cases are generated one at a time, never collected.
    pub cases: u64,
    /// A run that checked fewer cases than this fails (a time budget that cut the run short
    /// must not read as a pass). `None`: a tenth of the shard's cases (at least one), or one
    /// case for an unbounded soak.
    pub min_cases: Option<u64>,
    /// Seed of generation, clocks and id sources.
    pub seed: u64,
    /// Longest sequence.
    pub max_ops: usize,
    /// Stop starting new cases after this long.
    pub time_budget: Option<Duration>,
    /// The share of the case space this run covers.
    pub shard: Shard,
    /// Worker threads (`None`: the machine's parallelism). The reported failure is the lowest
    /// failing case index whatever this is.
    pub threads: Option<usize>,
    /// Parent of the stores' temp dirs. `None`: the scratch default, a RAM-backed temp dir
    /// when the system has one (`syncproof_engine::scratch`); the report says which was used.
    pub tmp: Option<PathBuf>,
    /// Where repro files go.
    pub repro_dir: PathBuf,
    /// Run the contract suite on each engine first (API level only).
    pub contract: bool,
    /// The bug class deliberately injected into the engines, if any (recorded in repros).
    pub inject: Option<String>,
    /// Progress display.
    pub progress: Progress,
    /// Longest time one op or one contract check may take before the run is a stall
    /// (`None`: no limit).
    pub op_budget: Option<Duration>,
    /// Largest resident memory of the process, in bytes, before the run is a stall (`None`:
    /// no limit).
    pub memory_ceiling: Option<u64>,
    /// Concurrent cases per engine after the sequences (0: no concurrent phase; see
    /// [`crate::check::concurrent`]).
    pub concurrent_cases: u64,
    /// Reader threads per concurrent case.
    pub readers: usize,
    /// Configuration labels with a known upstream race, each with what it is: the
    /// concurrent phase runs their engine's default instead when it draws one (the sequences
    /// still draw them). An engine with no other configuration (one pinned) runs it anyway.
    pub known_races: Vec<(String, String)>,
    /// Called with the report of a stall, after it is printed and before the process exits 1
    /// (the CLI shrinks the repro there, in child processes).
    pub on_stall: Option<StallHook>,
}

/// Default number of sequences.
pub const DEFAULT_CASES: u64 = 1_000;
/// Default longest sequence.
pub const DEFAULT_MAX_OPS: usize = 40;
/// Default [`Options::op_budget`]: far above any op of a healthy engine (milliseconds), far
/// below a CI job's time limit.
pub const DEFAULT_OP_BUDGET: Duration = Duration::from_secs(30);
/// Default [`Options::memory_ceiling`]: 4 GiB, twenty times what the default check on all six
/// engines uses (200 MB max RSS, `/usr/bin/time -v syncproof check --seed 7 --tmp /dev/shm`).
pub const DEFAULT_MEMORY_CEILING: u64 = 4 << 30;

impl Default for Options {
    fn default() -> Self {
        Options {
            cases: DEFAULT_CASES,
            min_cases: None,
            seed: 0x5eed,
            max_ops: DEFAULT_MAX_OPS,
            time_budget: None,
            shard: Shard::default(),
            threads: None,
            tmp: None,
            repro_dir: PathBuf::from("syncproof-repros"),
            contract: true,
            inject: None,
            progress: Progress::None,
            op_budget: Some(DEFAULT_OP_BUDGET),
            memory_ceiling: Some(DEFAULT_MEMORY_CEILING),
            concurrent_cases: crate::check::concurrent::DEFAULT_CONCURRENT_CASES,
            readers: crate::model::reads::READERS,
            known_races: Vec::new(),
            on_stall: None,
        }
    }
}

impl Options {
    /// Worker threads: the `threads` field, or the machine's parallelism; at least one.
    /// The watchdog's limits.
    pub fn limits(&self) -> Limits {
        Limits {
            op_budget: self.op_budget,
            memory_ceiling: self.memory_ceiling,
        }
    }

    /// Worker threads: `threads`, or the machine's parallelism.
    pub fn threads(&self) -> usize {
        self.threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1)
    }

    /// Cases this shard is asked for (`None`: unbounded).
    pub fn cases_in_shard(&self) -> Option<u64> {
        (self.cases != u64::MAX).then(|| self.shard.cases_of(self.cases))
    }

    /// The minimum that must be checked for the run to pass (never more than was asked).
    pub fn required_cases(&self) -> u64 {
        match (self.min_cases, self.cases_in_shard()) {
            (Some(m), Some(asked)) => m.min(asked),
            (Some(m), None) => m,
            (None, Some(asked)) => asked.div_ceil(10).max(1),
            (None, None) => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_cases() {
        for cases in [0u64, 1, 7, 20, 1001] {
            let n = 3;
            let total: u64 = (0..n)
                .map(|k| Shard { index: k, count: n }.cases_of(cases))
                .sum();
            assert_eq!(total, cases);
            for k in 0..n {
                let s = Shard { index: k, count: n };
                let by_scan = (0..cases).filter(|i| i % n == k).count() as u64;
                assert_eq!(s.cases_of(cases), by_scan, "cases {cases} shard {k}");
            }
        }
        assert_eq!(Shard::default().case_index(u64::MAX), Some(u64::MAX));
        assert_eq!(Shard { index: 1, count: 2 }.case_index(u64::MAX), None);
    }

    #[test]
    fn the_default_minimum_is_a_tenth_and_never_more_than_asked() {
        let o = Options {
            cases: 1000,
            ..Options::default()
        };
        assert_eq!(o.required_cases(), 100);
        let soak = Options {
            cases: u64::MAX,
            ..Options::default()
        };
        assert_eq!(soak.required_cases(), 1);
        let strict = Options {
            cases: 5,
            min_cases: Some(50),
            ..Options::default()
        };
        assert_eq!(strict.required_cases(), 5);
    }
}
