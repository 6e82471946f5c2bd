//! The fault models below the process (README, "Fault model"), for any engine an
//! [`OpenerFn`] makes, without privileges: `syncproof crash` runs them on the in-tree engines,
//! and a third party runs them on its own engine from its own test binary ([`child_main`]).
//!
//! - [`Model::Kill`]: SIGKILL of the writing child at a random instant; the page cache
//!   survives, so this checks what the engine's process-level commit does.
//! - [`Model::PowerLoss`]: the child runs with the recorder preloaded ([`recording`]); from
//!   its record, crash states that keep only what was synced, a random subset of the rest,
//!   or the rest with its last writes torn ([`image`]).
//! - [`Model::IoError`]: the n-th write, sync or read of a store file fails with `EIO` or
//!   `ENOSPC`, once or from then on; the call that hit it must fail with `Io`, the child must
//!   not panic, abort or hang, and the store, reopened and after a power loss, must hold
//!   every call acknowledged before the failure.
//!
//! Every crash state is checked the same way ([`probe`]): against the oracle's states in the
//! window the child's marks ([`workload`]) give, in a child process of its own.
//!
//! The children are the program that runs the parent, re-executed ([`Children`]): the
//! `syncproof` binary with its hidden `crash-child` command, or a third party's test binary
//! (`harness = false`) whose `main` calls [`child_main`] first, as sled's crash tests
//! re-execute their own test binary. What a child is to do travels in [`CHILD_ENV`].

pub mod drive;
pub mod image;
pub mod probe;
pub mod process;
pub mod recording;
pub mod workload;

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::run::repro::OpenerFn;

/// A fault model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Model {
    /// SIGKILL of the writing process; the page cache survives.
    Kill,
    /// Power loss: what was not synced may be lost, torn or reverted.
    PowerLoss,
    /// The n-th write, sync or read fails with `EIO` or `ENOSPC`.
    IoError,
}

impl Model {
    /// Every model, weakest first.
    pub const ALL: [Model; 3] = [Model::Kill, Model::PowerLoss, Model::IoError];
    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Model::Kill => "kill",
            Model::PowerLoss => "power-loss",
            Model::IoError => "io-error",
        }
    }
    /// The model named `s`.
    pub fn parse(s: &str) -> Result<Model, String> {
        Model::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| format!("unknown model {s:?}: kill, power-loss or io-error"))
    }
}

/// The engines a crash run can open, by label: in the parent (to check the labels and leave
/// out volatile files) and in every child (to open the store).
#[derive(Clone, Copy, Debug)]
pub struct Engines {
    /// Makes the opener of a label (`None`: unknown label).
    pub opener: OpenerFn,
    /// The files (by name suffix) of a label's engine that it rebuilds after a crash, left out
    /// of crash states (SQLite's `-shm` wal-index, say). Must name why in the engine's docs.
    pub volatile_files: fn(&str) -> Vec<&'static str>,
}

impl Engines {
    /// Engines with no volatile files.
    pub const fn new(opener: OpenerFn) -> Self {
        fn none(_: &str) -> Vec<&'static str> {
            Vec::new()
        }
        Engines {
            opener,
            volatile_files: none,
        }
    }

    /// The opener of `label`, or an error that names it.
    pub fn open(&self, label: &str) -> Result<Box<dyn syncproof_engine::contract::Opener>, String> {
        (self.opener)(label).ok_or_else(|| format!("unknown engine {label:?}"))
    }
}

/// How the children are started: `program` with `args`, which must make it call
/// [`child_main`] before anything else.
#[derive(Clone, Debug)]
pub struct Children {
    /// The executable (usually `std::env::current_exe()`).
    pub program: PathBuf,
    /// Its arguments: `["crash-child"]` for `syncproof`; none for a `harness = false` test
    /// binary.
    pub args: Vec<String>,
}

impl Children {
    /// The running executable, re-executed with no arguments: a test target with
    /// `harness = false` whose `main` calls [`child_main`] first.
    pub fn this_executable() -> Result<Self, String> {
        Ok(Children {
            program: std::env::current_exe().map_err(|e| format!("current executable: {e}"))?,
            args: Vec::new(),
        })
    }
}

/// The environment variable that tells a child what to do: a [`ChildSpec`] as JSON.
pub const CHILD_ENV: &str = "SYNCPROOF_CRASH_CHILD";

/// What a child does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Role {
    /// Runs the workload on the store, writing its marks.
    Workload,
    /// Opens a crash state and writes the probe's verdict.
    Probe,
}

/// One child's task.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ChildSpec {
    /// What it does.
    pub role: Role,
    /// The engine's label.
    pub engine: String,
    /// The store directory.
    pub store: PathBuf,
    /// The workload.
    pub workload: workload::Workload,
    /// The marks file (written by a workload, read by a probe).
    pub marks: PathBuf,
    /// Where a probe writes its verdict (JSON): a file, not stdout, since a test binary
    /// writes its own lines there.
    pub verdict: PathBuf,
}

impl ChildSpec {
    /// The command that runs this child.
    pub fn command(&self, children: &Children) -> Command {
        let mut c = Command::new(&children.program);
        c.args(&children.args)
            .env(CHILD_ENV, serde_json::to_string(self).unwrap_or_default())
            .stdin(std::process::Stdio::null());
        c
    }
}

/// The child's side: when this process is a crash child ([`CHILD_ENV`] is set), does its
/// task on `engines` and returns the process's exit code (0: done; 1: it could not do it, said
/// on stderr), which the caller passes to `std::process::exit`; `None` in any other process.
///
/// ```no_run
/// # fn my_opener(_: &str) -> Option<Box<dyn syncproof_engine::contract::Opener>> { None }
/// use syncproof_gate::faultmodel::{child_main, Engines};
/// // tests/crash.rs, a `harness = false` test target
/// fn main() {
///     if let Some(code) = child_main(&Engines::new(my_opener)) {
///         std::process::exit(code);
///     }
///     // … the parent: drive::run with Children::this_executable()
/// }
/// ```
pub fn child_main(engines: &Engines) -> Option<i32> {
    let text = std::env::var(CHILD_ENV).ok()?;
    let result = serde_json::from_str::<ChildSpec>(&text)
        .map_err(|e| format!("{CHILD_ENV}: {e}"))
        .and_then(|spec| match spec.role {
            Role::Workload => workload::run_child(
                engines,
                &spec.engine,
                &spec.store,
                spec.workload,
                &spec.marks,
            ),
            Role::Probe => probe_child(engines, &spec),
        });
    Some(match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("syncproof crash child: {e}");
            1
        }
    })
}

/// A probe child: opens the crash state and writes its verdict.
fn probe_child(engines: &Engines, spec: &ChildSpec) -> Result<(), String> {
    // No marks file: the child was killed before its first mark, and nothing began.
    let text = match std::fs::read_to_string(&spec.marks) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        r => r.map_err(|e| format!("{}: {e}", spec.marks.display()))?,
    };
    let t = workload::Timeline::parse(&text)?;
    let opener = engines.open(&spec.engine)?;
    let w = spec.workload;
    let cx = crate::run::runner::Context::new(opener.as_ref(), w.store_seed() ^ 0xAF7E_5EED, None);
    let verdict = match opener.open(&spec.store, cx.config()) {
        Ok(e) => probe::check(e.as_ref(), &w, &t),
        Err(err) => probe::Verdict::Unreadable(format!("open: {err}")),
    };
    write_verdict(&spec.verdict, &verdict)
}

fn write_verdict(path: &Path, v: &probe::Verdict) -> Result<(), String> {
    let json = serde_json::to_string(v).map_err(|e| format!("verdict: {e}"))?;
    std::fs::write(path, json).map_err(|e| format!("{}: {e}", path.display()))
}
