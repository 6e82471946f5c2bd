//! The verdict on a run that stalled: an op over its time budget, or the process over its
//! memory ceiling ([`crate::run::watchdog`]). It names the engine, the case and the op, and
//! the repro of the case cut after that op; the process then exits 1.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::run::watchdog::StallKind;

/// Where a stall happened.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum StallAt {
    /// An op of a case on an engine.
    Op {
        /// The engine running the op.
        engine: String,
        /// The case.
        case: u64,
        /// The op's index in the case.
        op_index: usize,
        /// The op, abbreviated.
        op: String,
    },
    /// A contract check.
    Check {
        /// The check and the engine it ran on (`ids_length_limits on redb`).
        check: String,
    },
    /// Nothing was running (the process went over its memory ceiling between tasks).
    Nowhere {},
}

/// What is known of a stall when it is reported.
#[derive(Clone, Debug, serde::Serialize)]
pub struct StallReport {
    /// The run that stalled (`syncproof check`, …).
    pub what: String,
    /// Which limit was crossed.
    pub kind: StallKind,
    /// How long the stalled task had been running.
    pub elapsed: Duration,
    /// Where.
    #[serde(flatten)]
    pub at: StallAt,
    /// Where the repro was written, or why it could not be (`None`: no case to write).
    pub repro: Option<Result<PathBuf, String>>,
}

/// What to do with a stall's report after it is printed and before the process exits 1 (the
/// CLI writes its JUnit and JSON there, then shrinks the case in child processes).
#[derive(Clone)]
pub struct StallHook(pub Arc<dyn Fn(&StallReport) + Send + Sync>);

impl std::fmt::Debug for StallHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StallHook")
    }
}

impl StallReport {
    /// A stall of `what` at `at`, with no repro yet.
    pub fn new(what: &str, kind: StallKind, elapsed: Duration, at: StallAt) -> Self {
        StallReport {
            what: what.into(),
            kind,
            elapsed,
            at,
            repro: None,
        }
    }

    /// The report as text. Its line `STALL at op N on ENGINE` is what `syncproof shrink`
    /// looks for in the output of each try.
    pub fn text(&self) -> String {
        let mut s = format!("{}: FAILED: STALL\n", self.what);
        let running = format!("{:.1} s", self.elapsed.as_secs_f64());
        let kind = self.kind.describe();
        match &self.at {
            StallAt::Op {
                engine,
                case,
                op_index,
                op,
            } => {
                s += &format!("STALL at op {op_index} on {engine}\n");
                s += &format!(
                    "  engine {engine}, case {case}, op {op_index} ({op}), running for {running}, {kind}\n"
                );
            }
            StallAt::Check { check } => {
                s += &format!("  contract check {check}, running for {running}, {kind}\n");
            }
            StallAt::Nowhere {} => s += &format!("  no op was running: the process {kind}\n"),
        }
        match &self.repro {
            Some(Ok(path)) => {
                let p = path.display();
                s += &format!(
                    "  repro (the case cut after that op): {p}\n  replay: syncproof replay {p}\n  shrink: syncproof shrink {p}\n"
                );
            }
            Some(Err(e)) => s += &format!("  the repro could not be written: {e}\n"),
            None => {}
        }
        s
    }

    /// Writes the report to stdout (flushed; straight to the stream, so that a test harness
    /// that captures `print!` cannot swallow it when the process exits), then hands it to
    /// `hook`.
    pub fn emit(&self, hook: Option<&StallHook>) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(self.text().as_bytes());
        let _ = out.flush();
        drop(out);
        if let Some(hook) = hook {
            (hook.0)(self);
        }
    }
}
