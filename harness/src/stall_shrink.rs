//! Shrinking a stalled case (a hang or a runaway) with every try in a child process.
//!
//! A try that stalls never returns, so it cannot run in this process: each candidate is
//! written to a temporary repro file and replayed by a child `syncproof replay` under the
//! same limits, with a wall-clock timeout as a backstop (Pebble's reducer runs every try as
//! a subprocess with a time limit the same way). A try reproduces the stall when the child
//! reports `STALL at op N on ENGINE` for the same engine, or has to be killed.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use syncproof_gate::check::options::{DEFAULT_MEMORY_CEILING, DEFAULT_OP_BUDGET};
use syncproof_gate::run::kv::KvRepro;
use syncproof_gate::run::shrink::{shrink, shrink_seq, ShrinkFn};
use syncproof_gate::run::watchdog::{StallFinding, StallKind};
use syncproof_gate::Repro;

/// Added to the op budget for a child's wall-clock timeout: process start and store setup.
const CHILD_SLACK: Duration = Duration::from_secs(10);

/// A repro file of either level, as far as shrinking a stall needs it.
trait StalledRepro: Clone {
    type Op: Clone;
    fn ops(&self) -> &[Self::Op];
    /// The repro with these ops and this stall.
    fn with(&self, ops: Vec<Self::Op>, stall: StallFinding) -> Self;
    fn stall(&self) -> Option<&StallFinding>;
    fn text(&self) -> String;
    const SHRINK: ShrinkFn<Self::Op>;
}

/// [`StalledRepro`] for a repro type: its `ops` and `stall` fields, its RON text, and the
/// shrinker of its level.
macro_rules! stalled_repro {
    ($repro:ident, $op:ty, $shrink:expr) => {
        impl StalledRepro for $repro {
            type Op = $op;
            fn ops(&self) -> &[Self::Op] {
                &self.ops
            }
            fn with(&self, ops: Vec<Self::Op>, stall: StallFinding) -> Self {
                $repro {
                    ops,
                    stall: Some(stall),
                    ..self.clone()
                }
            }
            fn stall(&self) -> Option<&StallFinding> {
                self.stall.as_ref()
            }
            fn text(&self) -> String {
                self.to_ron()
            }
            const SHRINK: ShrinkFn<Self::Op> = $shrink;
        }
    };
}

stalled_repro!(Repro, syncproof_gate::model::ops::Op, shrink);
stalled_repro!(KvRepro, syncproof_gate::model::kv::KvOp, shrink_seq);

/// What a shrink of a stall did.
#[derive(Debug)]
pub struct Shrunk {
    /// Ops before and after.
    pub from_ops: usize,
    pub to_ops: usize,
    /// Child processes run.
    pub tries: usize,
    /// Whether the shrunk case stalled again when confirmed (`false`: the file is unchanged).
    pub reproduced: bool,
    /// The stall of the kept case.
    pub stall: StallFinding,
}

/// The limits a child replay runs under, from what the repro recorded.
fn child_limits(stall: &StallFinding) -> (Duration, u64) {
    match stall.kind {
        StallKind::OpBudget { budget_ms } => {
            (Duration::from_millis(budget_ms), DEFAULT_MEMORY_CEILING)
        }
        StallKind::MemoryCeiling { ceiling, .. } => (DEFAULT_OP_BUDGET, ceiling),
    }
}

/// Replays the repro at `file` in a child `exe replay` under `budget` and `ceiling`; the op
/// at which it stalled on `engine`, if it did (a child that must be killed stalled at its
/// last op).
fn try_in_child(
    exe: &Path,
    file: &Path,
    budget: Duration,
    ceiling: u64,
    engine: &str,
    last_op: usize,
) -> Result<Option<usize>, String> {
    let mut child = Command::new(exe)
        .arg("replay")
        .arg(file)
        .arg("--op-budget")
        .arg(format!("{}ms", budget.as_millis()))
        .arg("--memory-limit")
        .arg(ceiling.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("spawn {}: {e}", exe.display()))?;
    let deadline = Instant::now() + budget + CHILD_SLACK;
    loop {
        match child.try_wait().map_err(|e| format!("wait: {e}"))? {
            Some(_) => break,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Ok(Some(last_op));
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    let mut out = String::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut out);
    }
    let wanted = format!(" on {engine}");
    Ok(out.lines().find_map(|l| {
        let rest = l.strip_prefix("STALL at op ")?;
        let (n, on) = rest.split_once(' ')?;
        (format!(" {on}") == wanted)
            .then(|| n.parse().ok())
            .flatten()
    }))
}

fn shrink_file<R: StalledRepro>(
    exe: &Path,
    path: &Path,
    repro: R,
    time: Duration,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Shrunk, String> {
    let stall = repro
        .stall()
        .cloned()
        .ok_or("the repro records no stall (use `syncproof replay` for disagreements)")?;
    let (budget, ceiling) = child_limits(&stall);
    let scratch = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let candidate_path = scratch.path().join("candidate.ron");
    // One try: the candidate written to the scratch file and replayed in a child.
    let try_ops = |ops: &[R::Op]| -> Result<Option<usize>, String> {
        let candidate = repro.with(ops.to_vec(), stall.clone());
        std::fs::write(&candidate_path, candidate.text())
            .map_err(|e| format!("{}: {e}", candidate_path.display()))?;
        let last = ops.len().saturating_sub(1);
        try_in_child(exe, &candidate_path, budget, ceiling, &stall.engine, last)
    };
    let deadline = Instant::now() + time;
    let mut tries = 0;
    let mut first_error = None;
    let mut stalls = |ops: &[R::Op]| -> Option<usize> {
        if ops.is_empty() || Instant::now() >= deadline || first_error.is_some() {
            return None;
        }
        tries += 1;
        let at = try_ops(ops).unwrap_or_else(|e| {
            first_error = Some(e);
            None
        });
        progress(tries, ops.len());
        at
    };
    let from_ops = repro.ops().len();
    let shrunk_ops = R::SHRINK(repro.ops().to_vec(), &mut stalls);
    // Confirm outside the deadline: the kept case must stall again.
    let confirmed = try_ops(&shrunk_ops)?;
    if let Some(e) = first_error {
        return Err(e);
    }
    let tries = tries + 1;
    match confirmed {
        Some(at) if shrunk_ops.len() < from_ops => {
            let stall = StallFinding {
                op_index: at,
                ..stall
            };
            let to_ops = shrunk_ops.len();
            let kept = repro.with(shrunk_ops, stall.clone());
            std::fs::write(path, kept.text()).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(Shrunk {
                from_ops,
                to_ops,
                tries,
                reproduced: true,
                stall,
            })
        }
        c => Ok(Shrunk {
            from_ops,
            to_ops: from_ops,
            tries,
            reproduced: c.is_some(),
            stall,
        }),
    }
}

/// Shrinks the stalled repro at `path` in place, spending at most `time` on tries (each one a
/// child of `exe`, the `syncproof` binary), and says what it did.
pub fn shrink_stalled(
    exe: &Path,
    path: &Path,
    time: Duration,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Shrunk, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if let Ok(kv) = KvRepro::from_ron(&text) {
        return shrink_file(exe, path, kv, time, progress);
    }
    let repro = Repro::from_ron(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    shrink_file(exe, path, repro, time, progress)
}

/// The `syncproof` binary to run tries with: this one.
pub fn this_exe() -> Result<PathBuf, String> {
    std::env::current_exe().map_err(|e| format!("cannot find the syncproof binary: {e}"))
}
