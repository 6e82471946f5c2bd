//! Time budgets and a memory ceiling, so that an engine that hangs or runs away gets a
//! verdict instead of a CI job killed from outside with nothing to show.
//!
//! Each worker thread owns a [`Beat`] and says on it what it is doing (op `i` of case `k` on
//! engine `e`, or a contract check) and when it started. A watcher thread looks at every beat
//! each tick: an op running longer than the op budget, or the process's resident memory over
//! the ceiling, is a [`Stall`]. A thread stuck inside an engine cannot be stopped from
//! outside, so a stall ends the process: the caller's handler writes the repro and reports,
//! then the process exits 1. Shrinking a stall therefore runs each try in a child process
//! with a timeout (`syncproof shrink`), as Pebble's reducer does.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// What a worker is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    /// Op `op` of case `case` on engine under test `subject` (`None`: the reference).
    Op {
        /// The case.
        case: u64,
        /// The engine under test (`None`: the reference).
        subject: Option<usize>,
        /// The op of the case.
        op: usize,
    },
    /// Job `job` of the contract suite.
    Check {
        /// The job's index.
        job: usize,
    },
}

/// One worker's current task and when it started; cheap to update on every op.
#[derive(Debug, Default)]
pub struct Beat {
    case: AtomicU64,
    current: Mutex<Option<(Task, Instant)>>,
}

impl Beat {
    fn set(&self, task: Option<Task>) {
        let mut c = self.current.lock().unwrap_or_else(|e| e.into_inner());
        *c = task.map(|t| (t, Instant::now()));
    }
    /// The worker starts case `case` (the case its next ops belong to).
    pub fn case(&self, case: u64) {
        self.case.store(case, Ordering::Relaxed);
    }
    /// The worker starts op `op` of its case on `subject` (`None`: the reference).
    pub fn op(&self, subject: Option<usize>, op: usize) {
        let case = self.case.load(Ordering::Relaxed);
        self.set(Some(Task::Op { case, subject, op }));
    }
    /// The worker starts contract job `job`.
    pub fn check(&self, job: usize) {
        self.set(Some(Task::Check { job }));
    }
    /// The worker is between tasks.
    pub fn idle(&self) {
        self.set(None);
    }
    fn current(&self) -> Option<(Task, Duration)> {
        let c = self.current.lock().unwrap_or_else(|e| e.into_inner());
        c.map(|(t, since)| (t, since.elapsed()))
    }
}

/// The limits a run is held to (`None`: no limit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest time one op (or one contract check) may take.
    pub op_budget: Option<Duration>,
    /// Largest resident memory of the process, in bytes (Linux only: read from
    /// `/proc/self/status`).
    pub memory_ceiling: Option<u64>,
}

/// Which limit was crossed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StallKind {
    /// An op ran longer than the budget.
    OpBudget {
        /// The budget, in milliseconds.
        budget_ms: u64,
    },
    /// The process's resident memory went over the ceiling.
    MemoryCeiling {
        /// The ceiling, in bytes.
        ceiling: u64,
        /// The resident memory seen, in bytes.
        rss: u64,
    },
}

impl StallKind {
    /// In words, for reports.
    pub fn describe(&self) -> String {
        match self {
            StallKind::OpBudget { budget_ms } => {
                format!("did not finish within the op budget of {budget_ms} ms (a hang)")
            }
            StallKind::MemoryCeiling { ceiling, rss } => format!(
                "drove the process to {} MiB resident, over the memory ceiling of {} MiB (a runaway)",
                rss >> 20,
                ceiling >> 20
            ),
        }
    }
}

/// A crossed limit, with the task that was running (the longest-running one for memory).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stall {
    /// Which limit was crossed.
    pub kind: StallKind,
    /// The task that was running.
    pub task: Option<Task>,
    /// How long that task had been running.
    pub elapsed: Duration,
}

/// A stall as a repro file records it: what was crossed, on which engine, at which op.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StallFinding {
    /// Which limit was crossed.
    pub kind: StallKind,
    /// The engine that was running the op.
    pub engine: String,
    /// The op it was running (the last op of the repro).
    pub op_index: usize,
}

/// The resident memory of this process in bytes (`None` where it cannot be read).
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kb.checked_mul(1024)
}

/// The first limit `beats` cross, if any.
pub fn crossed(beats: &[Beat], limits: Limits) -> Option<Stall> {
    let running: Vec<(Task, Duration)> = beats.iter().filter_map(Beat::current).collect();
    if let Some(budget) = limits.op_budget {
        if let Some(&(task, elapsed)) = running.iter().find(|(_, e)| *e > budget) {
            return Some(Stall {
                kind: StallKind::OpBudget {
                    budget_ms: budget.as_millis().try_into().unwrap_or(u64::MAX),
                },
                task: Some(task),
                elapsed,
            });
        }
    }
    let ceiling = limits.memory_ceiling?;
    let rss = resident_bytes()?;
    if rss <= ceiling {
        return None;
    }
    let longest = running.iter().max_by_key(|(_, e)| *e).copied();
    Some(Stall {
        kind: StallKind::MemoryCeiling { ceiling, rss },
        task: longest.map(|(t, _)| t),
        elapsed: longest.map_or(Duration::ZERO, |(_, e)| e),
    })
}

/// Runs `body` while a watcher thread checks `beats` against `limits` every tick. On the
/// first stall it calls `on_stall`, which reports it, and then ends the process with exit
/// code 1: the stalled thread cannot be stopped, and the run cannot finish without it.
pub fn watch<R: Send>(
    beats: &[Beat],
    limits: Limits,
    on_stall: &(dyn Fn(Stall) + Sync),
    body: impl FnOnce() -> R + Send,
) -> R {
    if limits.op_budget.is_none() && limits.memory_ceiling.is_none() {
        return body();
    }
    let tick = limits
        .op_budget
        .map_or(Duration::from_millis(100), |b| b / 4)
        .clamp(Duration::from_millis(5), Duration::from_millis(100));
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                std::thread::park_timeout(tick);
                if done.load(Ordering::Relaxed) {
                    return;
                }
                if let Some(stall) = crossed(beats, limits) {
                    on_stall(stall);
                    std::process::exit(1);
                }
            }
        });
        let r = body();
        done.store(true, Ordering::Relaxed);
        watcher.thread().unpark();
        r
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_op_over_budget_is_a_stall_naming_its_task() {
        let beats = [Beat::default(), Beat::default()];
        let limits = Limits {
            op_budget: Some(Duration::from_millis(20)),
            memory_ceiling: None,
        };
        beats[0].case(7);
        beats[0].op(Some(1), 3);
        beats[1].check(2);
        beats[1].idle();
        assert_eq!(crossed(&beats, limits), None, "nothing is over budget yet");
        std::thread::sleep(Duration::from_millis(30));
        let stall = crossed(&beats, limits).expect("op 3 is over budget");
        assert_eq!(
            stall.task,
            Some(Task::Op {
                case: 7,
                subject: Some(1),
                op: 3
            })
        );
        assert_eq!(stall.kind, StallKind::OpBudget { budget_ms: 20 });
        beats[0].idle();
        assert_eq!(crossed(&beats, limits), None, "an idle worker never stalls");
    }

    #[test]
    fn memory_over_the_ceiling_is_a_stall() {
        let rss = resident_bytes().expect("Linux reports VmRSS");
        assert!(rss > 1 << 20, "{rss}");
        let beats = [Beat::default()];
        beats[0].op(None, 0);
        let low = Limits {
            op_budget: None,
            memory_ceiling: Some(1 << 20),
        };
        let stall = crossed(&beats, low).expect("over a 1 MiB ceiling");
        assert!(
            matches!(stall.kind, StallKind::MemoryCeiling { ceiling, .. } if ceiling == 1 << 20)
        );
        assert_eq!(
            stall.task,
            Some(Task::Op {
                case: 0,
                subject: None,
                op: 0
            })
        );
        let high = Limits {
            op_budget: None,
            memory_ceiling: Some(u64::MAX),
        };
        assert_eq!(crossed(&beats, high), None);
    }
}
