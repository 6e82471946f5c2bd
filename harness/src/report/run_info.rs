//! What a benchmark run records about itself next to criterion's results, so that a report
//! can state the exact command, sizes, commit, machine and engine settings it was made from —
//! as they were when the benchmarks ran, not when the report was written.

use std::path::{Path, PathBuf};

use super::machine::Machine;
use super::markdown::EngineRow;

/// The file, inside criterion's output directory, that a run's description is written to.
pub const RUN_INFO_FILE: &str = "syncproof-run.json";

/// How one `cargo bench` run of `syncproof-benches` was made.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RunInfo {
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
    /// Describes the running benchmark process (`args` are the bench binary's arguments).
    pub fn of_this_run(sizes: Vec<usize>, args: &[String], env: &[(&str, String)]) -> Self {
        let mut command: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        command.push("cargo bench -p syncproof-benches".into());
        let filters: Vec<&String> = args.iter().filter(|a| a.as_str() != "--bench").collect();
        if !filters.is_empty() {
            command.push("--".into());
            command.extend(filters.into_iter().cloned());
        }
        RunInfo {
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

    /// Writes the description into `criterion_dir`.
    pub fn write(&self, criterion_dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(criterion_dir)?;
        let json = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(criterion_dir.join(RUN_INFO_FILE), json)
    }

    /// Reads the description from `criterion_dir`; `Ok(None)` when there is none.
    pub fn read(criterion_dir: &Path) -> Result<Option<Self>, String> {
        let path = criterion_dir.join(RUN_INFO_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
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

fn git_describe() -> Option<String> {
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
            vec![1_000, 100_000],
            &args,
            &[("SYNCPROOF_BENCH_SIZES", "1000,100000".into())],
        );
        assert_eq!(
            info.command,
            "SYNCPROOF_BENCH_SIZES=1000,100000 cargo bench -p syncproof-benches -- ingest/redb"
        );
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(RunInfo::read(dir.path()).unwrap(), None);
        info.write(dir.path()).unwrap();
        assert_eq!(RunInfo::read(dir.path()).unwrap(), Some(info));
        std::fs::write(dir.path().join(RUN_INFO_FILE), "{not json").unwrap();
        let err = RunInfo::read(dir.path()).unwrap_err();
        assert!(err.contains(RUN_INFO_FILE), "{err}");
    }

    #[test]
    fn without_arguments_the_command_has_no_separator() {
        let info = RunInfo::of_this_run(vec![1_000], &["--bench".to_string()], &[]);
        assert_eq!(info.command, "cargo bench -p syncproof-benches");
    }
}
