//! Reading criterion's results: `<dir>/<group>/<function>/<value>/<which>/{benchmark,estimates}.json`,
//! where `which` is `new` (the latest run) or the name of a saved baseline.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A point estimate with its 95% confidence interval, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    #[serde(rename = "point_estimate")]
    pub point: f64,
    pub confidence_interval: Interval,
}

/// A confidence interval, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub lower_bound: f64,
    pub upper_bound: f64,
}

impl Estimate {
    pub fn lower(&self) -> f64 {
        self.confidence_interval.lower_bound
    }
    pub fn upper(&self) -> f64 {
        self.confidence_interval.upper_bound
    }
}

/// One benchmark's result: `group/engine/size`, its median time per iteration and what one
/// iteration processes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    pub group: String,
    /// The criterion function id: the engine.
    pub engine: String,
    /// The criterion parameter: the grant count N.
    pub size: u64,
    pub median: Estimate,
    /// Elements one iteration processes (criterion's `Throughput::Elements`), if declared.
    pub elements: Option<u64>,
}

impl Measurement {
    /// `group/engine/size`, criterion's id.
    pub fn id(&self) -> String {
        format!("{}/{}/{}", self.group, self.engine, self.size)
    }
    /// Elements per second at the median, if the benchmark declared elements.
    pub fn per_second(&self) -> Option<f64> {
        self.elements
            .filter(|_| self.median.point > 0.0)
            .map(|e| e as f64 * 1e9 / self.median.point)
    }
}

#[derive(Deserialize)]
struct BenchmarkJson {
    group_id: String,
    function_id: Option<String>,
    value_str: Option<String>,
    throughput: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct EstimatesJson {
    median: Estimate,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn subdirs(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}

/// Every `group/function/value` benchmark under `dir` that has results for `which`, in
/// (group, engine, size) order. Benchmarks that are not `group/engine/size` (no function id,
/// or a parameter that is not a count) are skipped: syncproof's benches never make them.
pub fn load(dir: &Path, which: &str) -> Result<Vec<Measurement>, String> {
    Ok(load_timed(dir, which)?
        .into_iter()
        .map(|(m, _)| m)
        .collect())
}

/// [`load`], with the time each result was written (`None`: the file system has no times),
/// to tell a run's results from older ones left in the same directory.
pub fn load_timed(
    dir: &Path,
    which: &str,
) -> Result<Vec<(Measurement, Option<std::time::SystemTime>)>, String> {
    if !dir.is_dir() {
        return Err(format!(
            "{}: no criterion results here (run `cargo bench -p syncproof-benches` first)",
            dir.display()
        ));
    }
    let mut out = Vec::new();
    for group in subdirs(dir)? {
        for function in subdirs(&group)? {
            for value in subdirs(&function)? {
                let results = value.join(which);
                let estimates = results.join("estimates.json");
                if !estimates.is_file() {
                    continue;
                }
                // Saved baselines may lack benchmark.json; the latest run's describes the id.
                let described = [
                    results.join("benchmark.json"),
                    value.join("new/benchmark.json"),
                ]
                .into_iter()
                .find(|p| p.is_file())
                .ok_or_else(|| format!("{}: no benchmark.json beside it", estimates.display()))?;
                let b: BenchmarkJson = read_json(&described)?;
                let e: EstimatesJson = read_json(&estimates)?;
                let (Some(engine), Some(size)) = (
                    b.function_id,
                    b.value_str.and_then(|v| v.parse::<u64>().ok()),
                ) else {
                    continue;
                };
                let elements = b
                    .throughput
                    .as_ref()
                    .and_then(|t| t.get("Elements"))
                    .and_then(serde_json::Value::as_u64);
                let written = std::fs::metadata(&estimates)
                    .and_then(|m| m.modified())
                    .ok();
                out.push((
                    Measurement {
                        group: b.group_id,
                        engine,
                        size,
                        median: e.median,
                        elements,
                    },
                    written,
                ));
            }
        }
    }
    out.sort_by(|(a, _), (b, _)| (&a.group, &a.engine, a.size).cmp(&(&b.group, &b.engine, b.size)));
    Ok(out)
}
