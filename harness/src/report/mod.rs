//! `syncproof report`: criterion's results turned into the published comparison report, and
//! the A/B comparison of two criterion baselines that gates engine changes in CI.
//!
//! - [`workloads`]: the benchmark groups (the benches take their names from here).
//! - [`criterion`]: reading criterion's `estimates.json`/`benchmark.json` files.
//! - [`results`]: the compact results committed beside the report, to regenerate it from.
//! - [`markdown`], [`svg`]: the report and its charts; [`machine`]: where it ran.
//! - [`compare`]: baseline against candidate, with a noise-aware verdict.

pub mod compare;
pub mod criterion;
pub mod machine;
pub mod markdown;
pub mod oneshot;
pub mod results;
mod run_info;
pub mod svg;
pub mod workloads;

use std::path::{Path, PathBuf};

pub use run_info::{criterion_dir, git_describe, run_info_file, RunInfo, RUN_INFO_FILE};

/// What `write_report` produced.
#[derive(Debug)]
pub struct Written {
    pub readme: PathBuf,
    pub charts: usize,
    pub measurements: usize,
}

/// The report's view of the engine registry.
pub fn engine_rows() -> Vec<markdown::EngineRow> {
    crate::engines::all()
        .into_iter()
        .map(|e| markdown::EngineRow {
            name: e.name.to_string(),
            backend: e.backend.clone(),
            durability: e.durability.to_string(),
            settings: (e.settings)(),
            kv: e.kv.is_some(),
        })
        .collect()
}

/// Where a report's numbers come from.
pub enum Source<'a> {
    /// The latest run in criterion's output directory.
    Criterion(&'a Path),
    /// A committed compact results file (`reports/results.json`).
    Results(&'a Path),
    /// A committed results file with the groups of the latest runs in criterion's output
    /// directory replaced by those runs' results (one bench binary re-run, the others kept).
    Updated {
        results: &'a Path,
        criterion: &'a Path,
    },
}

/// Writes `README.md`, one SVG chart per workload and the compact results (`results.json`)
/// into `out`, from `source`, including `notes` (markdown) when given. The machine and the
/// engines' settings are the ones the benchmark run recorded when it started.
pub fn write_report(
    source: Source<'_>,
    out: &Path,
    notes: Option<&Path>,
    report_command: &str,
) -> Result<Written, String> {
    let results = match source {
        Source::Criterion(dir) => results::Results::from_criterion(dir)?,
        Source::Results(path) => results::Results::read(path)?,
        Source::Updated { results, criterion } => {
            results::Results::read(results)?.merged(results::Results::from_criterion(criterion)?)
        }
    };
    let notes = notes
        .map(|p| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display())))
        .transpose()?;
    // The engines as the latest run that recorded them described them.
    let recorded = results
        .runs
        .iter()
        .filter(|r| !r.engines.is_empty())
        .max_by_key(|r| r.started_unix);
    let input = markdown::Input {
        measurements: &results.measurements,
        runs: results.runs.clone(),
        engines: recorded.map_or_else(engine_rows, |r| r.engines.clone()),
        engines_recorded: recorded.is_some(),
        report_command: report_command.to_string(),
        notes,
        oneshot: read_oneshot(&out.join(oneshot::ONESHOT_FILE))?,
    };
    let rendered = markdown::render(&input);
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    for (name, svg) in &rendered.charts {
        let path = out.join(name);
        std::fs::write(&path, svg).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let readme = out.join("README.md");
    std::fs::write(&readme, &rendered.markdown)
        .map_err(|e| format!("{}: {e}", readme.display()))?;
    results.write(&out.join(results::RESULTS_FILE))?;
    Ok(Written {
        readme,
        charts: rendered.charts.len(),
        measurements: results.measurements.len(),
    })
}

/// The one-shot run saved at `path`, if there is one.
fn read_oneshot(path: &Path) -> Result<Option<oneshot::OneShot>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Compares two saved criterion baselines in `criterion_dir`; `threshold` is a fraction.
pub fn compare_baselines(
    criterion_dir: &Path,
    baseline: &str,
    candidate: &str,
    threshold: f64,
) -> Result<compare::Comparison, String> {
    let a = criterion::load(criterion_dir, baseline)?;
    let b = criterion::load(criterion_dir, candidate)?;
    for (name, ms) in [(baseline, &a), (candidate, &b)] {
        if ms.is_empty() {
            return Err(format!(
                "{}: no results saved as baseline {name:?} (cargo bench -p syncproof-benches -- --save-baseline {name})",
                criterion_dir.display()
            ));
        }
    }
    Ok(compare::compare(&a, &b, threshold))
}
