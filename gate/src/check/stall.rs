//! The verdict on a run that stalled: an op over its time budget, or the process over its
//! memory ceiling ([`crate::run::watchdog`]). It names the engine, the case and the op, and
//! the repro of the case cut after that op; the process then exits 1.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use crate::run::watchdog::StallKind;

/// What is known of a stall when it is reported.
#[derive(Clone, Debug, serde::Serialize)]
pub struct StallReport {
    /// The run that stalled (`syncproof check`, …).
    pub what: String,
    /// Which limit was crossed.
    pub kind: StallKind,
    /// How long the stalled task had been running.
    pub elapsed: Duration,
    /// The engine running the stalled op (`None`: no op was running, or it was a contract
    /// check, named in `check`).
    pub engine: Option<String>,
    /// The case that stalled.
    pub case: Option<u64>,
    /// The op of that case that stalled.
    pub op_index: Option<usize>,
    /// The op, abbreviated.
    pub op: Option<String>,
    /// The contract check that stalled, with its engine.
    pub check: Option<String>,
    /// Where the repro was written, or why it could not be.
    pub repro: Option<Result<PathBuf, String>>,
}

impl StallReport {
    /// A stall of `what` with nothing known yet of where.
    pub fn new(what: &str, kind: StallKind, elapsed: Duration) -> Self {
        StallReport {
            what: what.into(),
            kind,
            elapsed,
            engine: None,
            case: None,
            op_index: None,
            op: None,
            check: None,
            repro: None,
        }
    }

    /// The report as text. Its line `STALL at op N on ENGINE` is what `syncproof shrink`
    /// looks for in the output of each try.
    pub fn text(&self) -> String {
        let mut s = format!("{}: FAILED: STALL\n", self.what);
        let running = format!("{:.1} s", self.elapsed.as_secs_f64());
        match (&self.engine, self.case, self.op_index, &self.check) {
            (Some(engine), Some(case), Some(op), _) => {
                s += &format!("STALL at op {op} on {engine}\n");
                s += &format!(
                    "  engine {engine}, case {case}, op {op} ({}), running for {running}, {}\n",
                    self.op.as_deref().unwrap_or("?"),
                    self.kind.describe()
                );
            }
            (_, _, _, Some(check)) => {
                s += &format!(
                    "  contract check {check}, running for {running}, {}\n",
                    self.kind.describe()
                );
            }
            _ => {
                s += &format!(
                    "  no op was running: the process {}\n",
                    self.kind.describe()
                )
            }
        }
        match &self.repro {
            Some(Ok(path)) => {
                s += &format!(
                    "  repro (the case cut after that op): {}\n  replay: syncproof replay {}\n  shrink: syncproof shrink {}\n",
                    path.display(),
                    path.display(),
                    path.display()
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
    pub fn emit(&self, hook: Option<fn(&StallReport)>) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(self.text().as_bytes());
        let _ = out.flush();
        drop(out);
        if let Some(hook) = hook {
            hook(self);
        }
    }
}
