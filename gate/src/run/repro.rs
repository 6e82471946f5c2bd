//! Repro files: a shrunk failing sequence with what it needs to run again (`syncproof replay`),
//! and the regression test to paste into an engine's test suite.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use syncproof_engine::contract::Opener;

use crate::faults::{Bug, FaultyOpener};
use crate::model::ops::Op;
use crate::run::runner::Finding;
use crate::run::watchdog::StallFinding;

/// Makes an engine's opener from the label it was run under (`None`: unknown label). The
/// printed regression test calls one, so it works for any engine, in-tree or not.
pub type OpenerFn = fn(&str) -> Option<Box<dyn Opener>>;

/// An engine's opener with the label it is reported under.
pub type NamedOpener = (String, Box<dyn Opener>);

/// Format version of repro files.
pub const REPRO_VERSION: u32 = 1;

/// A replayable failing sequence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Repro {
    /// Format version ([`REPRO_VERSION`]).
    pub version: u32,
    /// Seed of the clock-and-id setup (and of the run that found it).
    pub seed: u64,
    /// Case index within that run.
    pub case: u64,
    /// Engines that disagreed with the oracle.
    pub engines: Vec<String>,
    /// The bug deliberately injected into them when this was found (`check --inject`).
    #[serde(default)]
    pub inject: Option<String>,
    /// The sequence to run.
    pub ops: Vec<Op>,
    /// What was seen when it was written.
    pub finding: Option<Finding>,
    /// The shrunk sequence stopped disagreeing when run again, so `ops` is the unshrunk
    /// case: the engine is flaky, or depends on more than the ops.
    #[serde(default)]
    pub flaky: bool,
    /// Set when the case hung or ran away instead of disagreeing (`finding` is then `None`).
    #[serde(default)]
    pub stall: Option<StallFinding>,
}

/// A repro as RON text (either level's).
pub(crate) fn to_ron<T: Serialize>(repro: &T) -> String {
    ron::ser::to_string_pretty(repro, ron::ser::PrettyConfig::new().struct_names(false))
        .unwrap_or_else(|e| format!("// could not serialise: {e}"))
}

/// Parses RON `text` as a repro of the kind `what` names (`"KV "`, `"concurrent "`, or `""`
/// for the API level's) whose format version, read by `version`, must be `expected`.
pub(crate) fn from_ron_versioned<T: serde::de::DeserializeOwned>(
    text: &str,
    what: &str,
    version: fn(&T) -> u32,
    expected: u32,
) -> Result<T, String> {
    let r: T = ron::from_str(text).map_err(|e| format!("not a {what}repro file: {e}"))?;
    match version(&r) {
        v if v == expected => Ok(r),
        v => Err(format!("{what}repro format version {v} is not {expected}")),
    }
}

/// Writes a repro's `text` as `dir/repro-<name>.ron` (`dir` created if needed, the name made
/// file-safe); returns its path.
pub(crate) fn write_repro(dir: &Path, name: &str, text: &str) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(format!("repro-{name}.ron").replace(['/', ' ', '(', ')'], "_"));
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

impl Repro {
    /// The repro as RON text.
    pub fn to_ron(&self) -> String {
        to_ron(self)
    }

    /// Parses a repro file's text.
    pub fn from_ron(text: &str) -> Result<Self, String> {
        from_ron_versioned(text, "", |r: &Repro| r.version, REPRO_VERSION)
    }

    /// Reads and parses a repro file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::from_ron(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Writes the repro into `dir` (created if needed); returns its path.
    pub fn save(&self, dir: &Path) -> Result<PathBuf, String> {
        let name = format!(
            "{}-seed{}-case{}",
            self.engines.join("+"),
            self.seed,
            self.case
        );
        write_repro(dir, &name, &self.to_ron())
    }

    /// Openers for `labels`, made by `open` and wrapped with the injected bug if the repro
    /// recorded one.
    pub fn openers_for(
        &self,
        labels: &[String],
        open: &dyn Fn(&str) -> Option<Box<dyn Opener>>,
    ) -> Result<Vec<NamedOpener>, String> {
        let bug = match &self.inject {
            None => None,
            Some(n) => Some(
                Bug::from_name(n).ok_or_else(|| format!("the repro names unknown bug {n:?}"))?,
            ),
        };
        labels
            .iter()
            .map(|label| {
                let o = open(label).ok_or_else(|| format!("no opener for engine {label:?}"))?;
                let o: Box<dyn Opener> = match bug {
                    Some(b) => Box::new(FaultyOpener::new(o, b)),
                    None => o,
                };
                Ok((label.clone(), o))
            })
            .collect()
    }

    /// A `#[test]` that replays this sequence against the engines and fails while they
    /// disagree with the oracle. `opener_fn` is the Rust path of an [`OpenerFn`] that makes
    /// each engine from its label (for the in-tree engines `syncproof_harness::engines::opener`;
    /// a third-party engine passes its own, see [`crate::Harness::regression_opener`]).
    pub fn regression_test(&self, opener_fn: &str) -> String {
        let without_finding = Repro {
            finding: None,
            ..self.clone()
        };
        format!(
            "#[test]\nfn syncproof_regression_seed{seed}_case{case}() {{\n    let repro = syncproof_gate::Repro::from_ron(r##\"\n{ron}\n\"##).unwrap();\n    syncproof_gate::assert_replay_agrees(&repro, {opener_fn});\n}}\n",
            seed = self.seed,
            case = self.case,
            ron = without_finding.to_ron(),
        )
    }
}
