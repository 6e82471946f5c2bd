//! The compact results a report is generated from: every measurement (median and its
//! interval, elements per iteration) with the descriptions of the runs that measured them
//! (one per bench binary; a later run of one binary can replace its groups and leave the
//! others' as they were), in one JSON file committed
//! beside the report (`reports/results.json`), so that anyone can regenerate the report
//! (`syncproof report --results reports/results.json`) and audit its numbers without
//! criterion's output directory.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::criterion::{self, Measurement};
use super::run_info::RunInfo;

/// The file name of the compact results, beside the report.
pub const RESULTS_FILE: &str = "results.json";

/// Format version of [`Results`]; version 1 (one optional `run`) is still read.
pub const RESULTS_VERSION: u32 = 2;

/// Everything a report is generated from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// [`RESULTS_VERSION`].
    pub version: u32,
    /// How the benchmarks were run, one run per bench binary, each naming its groups, oldest
    /// first (empty: the runs left no description).
    pub runs: Vec<RunInfo>,
    /// In (group, engine, size) order.
    pub measurements: Vec<Measurement>,
}

/// Version 1: one run for every measurement.
#[derive(Deserialize)]
struct ResultsV1 {
    run: Option<RunInfo>,
    measurements: Vec<Measurement>,
}

#[derive(Deserialize)]
struct Version {
    version: u32,
}

/// The distinct groups of `ms`, in order.
fn groups(ms: &[Measurement]) -> Vec<String> {
    let mut out: Vec<String> = ms.iter().map(|m| m.group.clone()).collect();
    out.dedup();
    out
}

impl Results {
    /// The latest runs in criterion's output directory: each described run's results for its
    /// groups, written after it started (older results of a group, left by an earlier run
    /// with other filters, are not this run's and are left out). Without any run
    /// description, every result, with no description.
    pub fn from_criterion(dir: &Path) -> Result<Self, String> {
        let timed = criterion::load_timed(dir, "new")?;
        let mut runs = RunInfo::read_all(dir)?;
        let measurements: Vec<Measurement> = if runs.is_empty() {
            timed.into_iter().map(|(m, _)| m).collect()
        } else {
            timed
                .into_iter()
                .filter(|(m, written)| {
                    // A run named for its groups claims them before a legacy catch-all.
                    let run = runs
                        .iter()
                        .find(|r| r.groups.contains(&m.group))
                        .or_else(|| runs.iter().find(|r| r.groups.is_empty()));
                    run.is_some_and(|r| {
                        written.is_none_or(|t| {
                            t.duration_since(std::time::UNIX_EPOCH)
                                .is_ok_and(|d| d.as_secs() >= r.started_unix)
                        })
                    })
                })
                .map(|(m, _)| m)
                .collect()
        };
        if measurements.is_empty() {
            return Err(format!(
                "{}: no benchmark results of a recorded run (run `cargo bench -p syncproof-benches` first)",
                dir.display()
            ));
        }
        // Each run names exactly the groups it has results for here.
        let found = groups(&measurements);
        let named: Vec<String> = runs.iter().flat_map(|r| r.groups.clone()).collect();
        for r in &mut runs {
            if r.groups.is_empty() {
                r.groups = found
                    .iter()
                    .filter(|g| !named.contains(g))
                    .cloned()
                    .collect();
            } else {
                r.groups.retain(|g| found.contains(g));
            }
        }
        runs.retain(|r| !r.groups.is_empty());
        runs.sort_by_key(|r| r.started_unix);
        Ok(Results {
            version: RESULTS_VERSION,
            runs,
            measurements,
        })
    }

    /// Reads a results file (format version 1 or 2).
    pub fn read(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let bad = |e: serde_json::Error| format!("{}: {e}", path.display());
        let r = match serde_json::from_str::<Version>(&text).map_err(bad)?.version {
            RESULTS_VERSION => serde_json::from_str::<Results>(&text).map_err(bad)?,
            1 => {
                let v1: ResultsV1 = serde_json::from_str(&text).map_err(bad)?;
                let groups = groups(&v1.measurements);
                Results {
                    version: RESULTS_VERSION,
                    runs: v1
                        .run
                        .map(|r| RunInfo { groups, ..r })
                        .into_iter()
                        .collect(),
                    measurements: v1.measurements,
                }
            }
            v => {
                return Err(format!(
                    "{}: results format version {v} is neither 1 nor {RESULTS_VERSION}",
                    path.display()
                ))
            }
        };
        if r.measurements.is_empty() {
            return Err(format!("{}: no measurements", path.display()));
        }
        Ok(r)
    }

    /// These results with `newer`'s: every group `newer` measured is taken from `newer`
    /// (measurements and run), every other group stays as it was.
    pub fn merged(mut self, newer: Results) -> Results {
        let replaced = groups(&newer.measurements);
        self.measurements.retain(|m| !replaced.contains(&m.group));
        for r in &mut self.runs {
            r.groups.retain(|g| !replaced.contains(g));
        }
        self.runs.retain(|r| !r.groups.is_empty());
        self.runs.extend(newer.runs);
        self.runs.sort_by_key(|r| r.started_unix);
        self.measurements.extend(newer.measurements);
        self.measurements
            .sort_by(|a, b| (&a.group, &a.engine, a.size).cmp(&(&b.group, &b.engine, b.size)));
        self
    }

    /// The run that measured `group`, if described.
    pub fn run_of(&self, group: &str) -> Option<&RunInfo> {
        self.runs.iter().find(|r| r.covers(group))
    }

    /// Writes the results as pretty JSON (one measurement per few lines, so diffs are legible).
    pub fn write(&self, path: &Path) -> Result<(), String> {
        let json = serde_json::to_string_pretty(self).map_err(|e| format!("results: {e}"))?;
        std::fs::write(path, json + "\n").map_err(|e| format!("{}: {e}", path.display()))
    }
}
