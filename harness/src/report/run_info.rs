//! What a benchmark run records about itself next to criterion's results, so that a report
//! can state the exact command, sizes, commit, machine and engine settings it was made from —
//! as they were when the benchmarks ran, not when the report was written.

use std::path::{Path, PathBuf};

use super::machine::Machine;
use super::markdown::EngineRow;

/// The file, inside criterion's output directory, that a run recorded before runs were
/// recorded per bench binary was written to; still read.
pub const RUN_INFO_FILE: &str = "syncproof-run.json";

/// The file, inside criterion's output directory, that the latest run of bench binary
/// `bench` is described in.
pub fn run_info_file(bench: &str) -> String {
    format!("syncproof-run-{bench}.json")
}

/// How one run of one bench binary of `syncproof-benches` was made.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RunInfo {
    /// The bench binary (`engines`, `read_while_writing`; empty: a run recorded before runs
    /// named it).
    #[serde(default)]
    pub bench: String,
    /// The criterion groups this run's results are (empty: every group, for a run recorded
    /// before runs named them).
    #[serde(default)]
    pub groups: Vec<String>,
    /// The command, with the environment variables that shaped it.
    pub command: String,
    /// Grant counts measured.
    pub sizes: Vec<usize>,
    /// `git describe --always --dirty` of the tree the benchmarks were built from.
    pub commit: String,
    /// Seconds since the Unix epoch at the start of the run.
    pub started_unix: u64,
    /// The machine the benchmarks ran on, read when they started (`None`: a run recorded
    /// before syncproof recorded it).
    #[serde(default)]
    pub machine: Option<Machine>,
    /// The engines as the benchmarked build described them: upstream versions, durability,
    /// settings (empty: not recorded).
    #[serde(default)]
    pub engines: Vec<EngineRow>,
}

impl RunInfo {
    /// Describes the running bench binary `bench` (`args` are its arguments), which measures
    /// the groups `workloads` assigns to it.
    pub fn of_this_run(
        bench: &str,
        sizes: Vec<usize>,
        args: &[String],
        env: &[(&str, String)],
    ) -> Self {
        let mut command: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        command.push(format!("cargo bench -p syncproof-benches --bench {bench}"));
        let filters: Vec<&String> = args.iter().filter(|a| a.as_str() != "--bench").collect();
        if !filters.is_empty() {
            command.push("--".into());
            command.extend(filters.into_iter().cloned());
        }
        RunInfo {
            bench: bench.to_string(),
            groups: super::workloads::groups_of(bench),
            command: command.join(" "),
            sizes,
            commit: git_describe().unwrap_or_else(|| "unknown".into()),
            started_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            machine: Some(Machine::this()),
            engines: super::engine_rows(),
        }
    }

    /// Writes the description into `criterion_dir`, as its bench binary's latest run.
    pub fn write(&self, criterion_dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(criterion_dir)?;
        let json = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        let file = if self.bench.is_empty() {
            RUN_INFO_FILE.to_string()
        } else {
            run_info_file(&self.bench)
        };
        std::fs::write(criterion_dir.join(file), json)
    }

    /// Every run described in `criterion_dir` (one per bench binary, plus a legacy
    /// [`RUN_INFO_FILE`]), in file-name order; empty when there is none.
    pub fn read_all(criterion_dir: &Path) -> Result<Vec<Self>, String> {
        let mut files = Vec::new();
        match std::fs::read_dir(criterion_dir) {
            Ok(entries) => {
                for entry in entries {
                    let entry = entry.map_err(|e| format!("{}: {e}", criterion_dir.display()))?;
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if name.starts_with("syncproof-run") && name.ends_with(".json") {
                        files.push(entry.path());
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(format!("{}: {e}", criterion_dir.display())),
        }
        files.sort();
        files
            .into_iter()
            .map(|path| {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
            })
            .collect()
    }

    /// Whether this run measured `group`: one of its groups, or any group for a run that
    /// did not name them.
    pub fn covers(&self, group: &str) -> bool {
        self.groups.is_empty() || self.groups.iter().any(|g| g == group)
    }
}

/// Where criterion writes its results, found as criterion finds it: `CRITERION_HOME`, else
/// `$CARGO_TARGET_DIR/criterion`, else `criterion` in the `target` directory that holds the
/// running executable (a bench in `target/release/deps`, `syncproof` in `target/release`),
/// else `target/criterion` under the current directory.
pub fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.ancestors()
                .find(|a| a.file_name().is_some_and(|n| n == "target"))
                .map(|t| t.join("criterion"))
        })
        .unwrap_or_else(|| PathBuf::from("target/criterion"))
}

/// `git describe --always --dirty` of the working tree, if git can tell.
pub fn git_describe() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_names_env_and_filters_and_round_trips() {
        let args = ["--bench".to_string(), "ingest/redb".to_string()];
        let info = RunInfo::of_this_run(
            "engines",
            vec![1_000, 100_000],
            &args,
            &[("SYNCPROOF_BENCH_SIZES", "1000,100000".into())],
        );
        assert_eq!(
            info.command,
            "SYNCPROOF_BENCH_SIZES=1000,100000 cargo bench -p syncproof-benches --bench engines -- ingest/redb"
        );
        assert!(info.covers("ingest") && !info.covers("readers_alone"));
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(RunInfo::read_all(dir.path()).unwrap(), Vec::new());
        info.write(dir.path()).unwrap();
        let other = RunInfo::of_this_run("read_while_writing", vec![2_000], &[], &[]);
        assert!(other.covers("readers_alone") && !other.covers("ingest"));
        other.write(dir.path()).unwrap();
        assert_eq!(RunInfo::read_all(dir.path()).unwrap(), vec![info, other]);
        let broken = dir.path().join(run_info_file("engines"));
        std::fs::write(&broken, "{not json").unwrap();
        let err = RunInfo::read_all(dir.path()).unwrap_err();
        assert!(err.contains(&run_info_file("engines")), "{err}");
    }

    #[test]
    fn without_arguments_the_command_has_no_separator() {
        let info = RunInfo::of_this_run("engines", vec![1_000], &["--bench".to_string()], &[]);
        assert_eq!(
            info.command,
            "cargo bench -p syncproof-benches --bench engines"
        );
    }
}
