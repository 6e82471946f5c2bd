//! The compact results a report is generated from: every measurement (median and its
//! interval, elements per iteration) with the run's description, in one JSON file committed
//! beside the report (`reports/results.json`), so that anyone can regenerate the report
//! (`syncproof report --results reports/results.json`) and audit its numbers without
//! criterion's output directory.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::criterion::{self, Measurement};
use super::run_info::RunInfo;

/// The file name of the compact results, beside the report.
pub const RESULTS_FILE: &str = "results.json";

/// Format version of [`Results`].
pub const RESULTS_VERSION: u32 = 1;

/// Everything a report is generated from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// [`RESULTS_VERSION`].
    pub version: u32,
    /// How the benchmarks were run (`None`: the run left no description).
    pub run: Option<RunInfo>,
    /// In (group, engine, size) order.
    pub measurements: Vec<Measurement>,
}

impl Results {
    /// The latest run in criterion's output directory.
    pub fn from_criterion(dir: &Path) -> Result<Self, String> {
        let measurements = criterion::load(dir, "new")?;
        if measurements.is_empty() {
            return Err(format!(
                "{}: no benchmark results (run `cargo bench -p syncproof-benches` first)",
                dir.display()
            ));
        }
        Ok(Results {
            version: RESULTS_VERSION,
            run: RunInfo::read(dir)?,
            measurements,
        })
    }

    /// Reads a results file.
    pub fn read(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let r: Results =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        if r.version != RESULTS_VERSION {
            return Err(format!(
                "{}: results format version {} is not {RESULTS_VERSION}",
                path.display(),
                r.version
            ));
        }
        if r.measurements.is_empty() {
            return Err(format!("{}: no measurements", path.display()));
        }
        Ok(r)
    }

    /// Writes the results as pretty JSON (one measurement per few lines, so diffs are legible).
    pub fn write(&self, path: &Path) -> Result<(), String> {
        let json = serde_json::to_string_pretty(self).map_err(|e| format!("results: {e}"))?;
        std::fs::write(path, json + "\n").map_err(|e| format!("{}: {e}", path.display()))
    }
}
