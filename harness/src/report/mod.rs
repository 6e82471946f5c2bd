//! `syncproof report`: criterion's results turned into the published comparison report, and
//! the A/B comparison of two criterion baselines that gates engine changes in CI.
//!
//! - [`workloads`]: the benchmark groups (the benches take their names from here).
//! - [`criterion`]: reading criterion's `estimates.json`/`benchmark.json` files.
//! - [`markdown`], [`svg`]: the report and its charts; [`machine`]: where it ran.
//! - [`compare`]: baseline against candidate, with a noise-aware verdict.

pub mod compare;
pub mod criterion;
pub mod machine;
pub mod markdown;
mod run_info;
pub mod svg;
pub mod workloads;

use std::path::{Path, PathBuf};

pub use run_info::{criterion_dir, RunInfo, RUN_INFO_FILE};

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

/// Reads the latest criterion results in `criterion_dir` and writes `README.md` and one SVG
/// chart per workload into `out`, including `notes` (markdown) when given.
pub fn write_report(
    criterion_dir: &Path,
    out: &Path,
    notes: Option<&Path>,
    report_command: &str,
) -> Result<Written, String> {
    let measurements = criterion::load(criterion_dir, "new")?;
    if measurements.is_empty() {
        return Err(format!(
            "{}: no benchmark results (run `cargo bench -p syncproof-benches` first)",
            criterion_dir.display()
        ));
    }
    let notes = notes
        .map(|p| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display())))
        .transpose()?;
    let input = markdown::Input {
        measurements: &measurements,
        run: RunInfo::read(criterion_dir)?,
        machine: machine::Machine::this(),
        engines: engine_rows(),
        report_command: report_command.to_string(),
        notes,
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
    Ok(Written {
        readme,
        charts: rendered.charts.len(),
        measurements: measurements.len(),
    })
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
