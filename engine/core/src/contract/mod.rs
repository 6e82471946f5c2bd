//! The engine-generic contract suite: one check per SPEC rule, run against any engine.
//!
//! A third-party engine runs it from its own tests in a few lines:
//!
//! ```no_run
//! use syncproof_engine::contract::{run_all, Opener};
//! # use syncproof_engine::{EngineConfig, Result, StorageEngine};
//! # struct MyOpener;
//! # impl Opener for MyOpener {
//! #     fn name(&self) -> &str { "mine" }
//! #     fn open(&self, _: &std::path::Path, _: EngineConfig) -> Result<Box<dyn StorageEngine>> {
//! #         unimplemented!()
//! #     }
//! # }
//! // In a #[test] of the engine's crate:
//! fn my_engine_honours_the_contract() {
//!     let failures = run_all(&MyOpener);
//!     assert!(failures.is_empty(), "{failures:#?}");
//! }
//! # fn main() { my_engine_honours_the_contract() }
//! ```
//!
//! Every check returns `Err` with a message instead of panicking, and an engine panic is
//! caught and reported as a failure, so the suite can be pointed at a deliberately broken
//! engine to show that it catches the bug. The table of SPEC rules and the checks that pin
//! them is [`CHECKS`].

// The contract suite is a test harness in library form: its checks index into fixtures they
// built and run under `catch_unwind` (a panic is reported as a failure). No byte from disk or
// from a caller is decoded here, so the workspace's no-panic lints do not apply.
#![allow(clippy::indexing_slicing, clippy::expect_used, clippy::unwrap_used)]

mod checks;
mod configuration;
mod fixtures;
mod store_dirs;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Arc;

use crate::engine::{EngineConfig, StorageEngine};
use crate::error::Result;
use crate::sync_run::SeededIds;
use crate::time::{ManualClock, Timestamp};

pub use configuration::{configuration_label, split_label, Configuration, CONFIGURATION_SEPARATOR};
pub use fixtures::*;
pub use store_dirs::StoreDirs;

/// Opens stores of one engine. The harness and this suite only ever go through it.
pub trait Opener: Send + Sync {
    /// Engine name (`memory`, `sqlite`, …).
    fn name(&self) -> &str;
    /// Opens the store at `dir` (an existing directory owned by the caller), creating it if
    /// empty. Opening the same `dir` again after dropping the engine is a reopen.
    fn open(&self, dir: &Path, config: EngineConfig) -> Result<Box<dyn StorageEngine>>;
    /// The file or directory inside a store directory that holds this engine's data
    /// (`redb`, `sqlite.db`, …), so that tools can tell which engine's store a directory
    /// holds before opening it; `None` for an engine that keeps nothing on disk.
    fn store_entry(&self) -> Option<&str> {
        None
    }
    /// Opens the store already in `dir` without writing to it (`verify`, `migrate --from`):
    /// it fails when `dir` holds no store of this engine, and writes through the returned
    /// engine fail. `None`: the engine has no read-only open (callers open a copy instead).
    fn open_read_only(
        &self,
        dir: &Path,
        config: EngineConfig,
    ) -> Option<Result<Box<dyn StorageEngine>>> {
        let _ = (dir, config);
        None
    }
}

/// Why a check failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure(pub String);

impl From<crate::Error> for Failure {
    fn from(e: crate::Error) -> Self {
        Failure(format!("unexpected error: {e}"))
    }
}

impl From<String> for Failure {
    fn from(s: String) -> Self {
        Failure(s)
    }
}

/// A check's outcome.
pub type CheckResult = std::result::Result<(), Failure>;

/// One row of the rule table: a check, the SPEC section and the rule it pins.
pub struct Check {
    /// The check's name (also its function's).
    pub name: &'static str,
    /// The SPEC section it pins (`§4`, …).
    pub section: &'static str,
    /// The rule, in a sentence.
    pub rule: &'static str,
    /// Runs the check.
    pub run: fn(&mut Cx) -> CheckResult,
}

pub use checks::CHECKS;

/// Start instant of every check's clock: 2023-11-14T22:13:20Z.
pub const T0: Timestamp = Timestamp(1_700_000_000_000_000_000);

/// The context of one check: a fresh store in a temp dir, a manual clock, seeded ids.
pub struct Cx<'a> {
    opener: &'a dyn Opener,
    /// Parent of the check's temp dirs (`None`: the scratch default, [`crate::scratch`]).
    tmp: Option<std::path::PathBuf>,
    dirs: Vec<tempfile::TempDir>,
    /// The clock every engine of the check shares.
    pub clock: ManualClock,
    /// The id source every engine of the check shares.
    pub ids: Arc<SeededIds>,
    engine: Option<Box<dyn StorageEngine>>,
}

impl<'a> Cx<'a> {
    /// A context with a fresh store of `opener`'s engine.
    pub fn new(opener: &'a dyn Opener) -> std::result::Result<Self, Failure> {
        Self::new_in(opener, None)
    }

    /// A context whose stores live in temp dirs under `tmp` (if `None`, the scratch default:
    /// in RAM when the system can, see [`crate::scratch`]).
    pub fn new_in(
        opener: &'a dyn Opener,
        tmp: Option<&Path>,
    ) -> std::result::Result<Self, Failure> {
        let mut cx = Cx {
            opener,
            tmp: tmp.map(Path::to_path_buf),
            dirs: Vec::new(),
            clock: ManualClock::new(T0),
            ids: Arc::new(SeededIds::new(1)),
            engine: None,
        };
        let dir = cx.new_dir()?;
        cx.engine = Some(cx.open_at(&dir, cx.config())?);
        Ok(cx)
    }

    fn new_dir(&mut self) -> std::result::Result<std::path::PathBuf, Failure> {
        let d = crate::scratch::tempdir(self.tmp.as_deref())
            .map_err(|e| Failure(format!("temp dir: {e}")))?;
        let p = d.path().to_path_buf();
        self.dirs.push(d);
        Ok(p)
    }

    fn open_at(
        &self,
        dir: &Path,
        config: EngineConfig,
    ) -> std::result::Result<Box<dyn StorageEngine>, Failure> {
        self.opener
            .open(dir, config)
            .map_err(|e| Failure(format!("open: {e}")))
    }

    /// The configuration every engine of this check shares (same clock and id source).
    pub fn config(&self) -> EngineConfig {
        EngineConfig {
            clock: Arc::new(self.clock.clone()),
            ids: self.ids.clone(),
            ..EngineConfig::default()
        }
    }

    /// The engine under test.
    pub fn e(&self) -> &dyn StorageEngine {
        self.engine.as_deref().expect("engine is open")
    }

    /// Closes and reopens the engine on the same store.
    pub fn reopen(&mut self) -> CheckResult {
        self.engine = None;
        let dir = self.dirs[0].path().to_path_buf();
        self.engine = Some(self.open_at(&dir, self.config())?);
        Ok(())
    }

    /// Replaces the engine with one opened on a fresh store with `config`.
    pub fn reopen_fresh_with(&mut self, config: EngineConfig) -> CheckResult {
        self.engine = None;
        let dir = self.new_dir()?;
        let last = self.dirs.len() - 1;
        self.dirs.swap(0, last);
        self.engine = Some(self.open_at(&dir, config)?);
        Ok(())
    }

    /// A fresh store of `other`, another engine (for clones across engines).
    pub fn foreign(
        &mut self,
        other: &dyn Opener,
    ) -> std::result::Result<Box<dyn StorageEngine>, Failure> {
        let dir = self.new_dir()?;
        Ok(other.open(&dir, self.config())?)
    }

    /// A second engine of the same kind on a fresh store (for clone checks).
    pub fn another(&mut self) -> std::result::Result<Box<dyn StorageEngine>, Failure> {
        let dir = self.new_dir()?;
        self.open_at(&dir, self.config())
    }

    /// Moves the clock forward.
    pub fn tick(&self, nanos: i64) {
        self.clock.advance(nanos);
    }
}

/// Runs one check on a fresh context, turning panics into failures.
pub fn run_check(opener: &dyn Opener, check: &Check) -> CheckResult {
    run_check_in(opener, check, None)
}

/// [`run_check`] with the check's stores in temp dirs under `tmp`.
pub fn run_check_in(opener: &dyn Opener, check: &Check, tmp: Option<&Path>) -> CheckResult {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let mut cx = Cx::new_in(opener, tmp)?;
        (check.run)(&mut cx)
    }));
    match outcome {
        Ok(r) => r,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "non-string panic".into());
            Err(Failure(format!("panicked: {msg}")))
        }
    }
}

/// Runs every check; returns `(check name, failure)` for each that failed.
pub fn run_all(opener: &dyn Opener) -> Vec<(&'static str, Failure)> {
    CHECKS
        .iter()
        .filter_map(|c| run_check(opener, c).err().map(|f| (c.name, f)))
        .collect()
}

/// Runs the named check only (for focused tests).
pub fn run_named(opener: &dyn Opener, name: &str) -> CheckResult {
    let check = CHECKS
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| Failure(format!("no check named {name}")))?;
    run_check(opener, check)
}

/// The rule table as markdown (committed as `docs/spec-rules.md`, checked by a test).
pub fn rules_markdown() -> String {
    let mut out = String::from(
        "# SPEC rules and the checks that pin them\n\n\
         Generated from `syncproof_engine::contract::CHECKS`; `cargo test` fails when this file\n\
         and the code disagree (regenerate with `UPDATE_RULES=1 cargo test -p syncproof-engine`).\n\
         Each check runs against every engine; `gate/src/faults/mod.rs` names, for each check,\n\
         a bug class it is proven to catch.\n\n\
         | section | rule | check |\n|---|---|---|\n",
    );
    for c in CHECKS {
        out.push_str(&format!(
            "| {} | {} | `{}` |\n",
            c.section,
            c.rule.replace('|', "\\|"),
            c.name
        ));
    }
    out
}

/// Runs every check and panics listing each failure: the one line an engine's test needs.
pub fn assert_passes(opener: &dyn Opener) {
    let failures = run_all(opener);
    for (name, failure) in &failures {
        eprintln!("FAILED {name}: {}", failure.0);
    }
    assert!(
        failures.is_empty(),
        "{}: {} of {} contract checks failed",
        opener.name(),
        failures.len(),
        CHECKS.len()
    );
}
