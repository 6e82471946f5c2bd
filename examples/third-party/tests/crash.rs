//! The fault models on a third party's engine, through the library API alone: kill, power
//! loss and I/O errors on "mine-log", which must pass all three, and on three planted bugs:
//! a `flush()` that does not sync and one that ignores a failed sync, each of which the weaker
//! model misses and the stronger one catches, and a batch written as two commits (two
//! appends), which the power-loss model catches at the crash point between the two writes,
//! while a kill would have to land in the microseconds between them (it can, rarely: the
//! test asserts that whatever a kill finds is that half-written batch).
//!
//! This test binary is its own crash child (`harness = false` in Cargo.toml): the fault
//! models re-execute it with `SYNCPROOF_CRASH_CHILD` set, and `main` hands such a run to
//! [`child_main`] before anything else. The recorder (an `LD_PRELOAD` library) is built on
//! first use when missing. `SYNCPROOF_CRASH_POINTS` sets the crash points per run (default 6);
//! `SYNCPROOF_CRASH_SOAK=<states>` runs only the soak of "mine-log" (at least that many crash
//! states per model).

use std::process::ExitCode;
use std::time::Duration;

use syncproof_engine::contract::Opener;
use syncproof_engine::kv::KvOpener;
use syncproof_example_third_party::log::LogBackend;
use syncproof_example_third_party::log_opener;
use syncproof_gate::faultmodel::drive::{self, EngineRun, Options};
use syncproof_gate::faultmodel::{child_main, recording, Children, Engines, Model};
use syncproof_gate::faults::concurrency::{RaceBug, Racy};
use syncproof_gate::faults::syncs::{SyncBug, Unsynced};

/// The engines the crash children can open: "mine-log", and the same with a planted bug.
fn opener(label: &str) -> Option<Box<dyn Opener>> {
    Some(match label {
        "mine-log" => Box::new(log_opener()),
        "mine-log+flush-does-not-sync" => Box::new(KvOpener::new("mine-log", |d| {
            Ok(Unsynced {
                backend: LogBackend::open(d)?,
                bug: SyncBug::FlushDoesNotSync,
            })
        })),
        "mine-log+flush-ignores-errors" => Box::new(KvOpener::new("mine-log", |d| {
            Ok(Unsynced {
                backend: LogBackend::open(d)?,
                bug: SyncBug::FlushIgnoresErrors,
            })
        })),
        "mine-log+split-commits" => Box::new(KvOpener::new("mine-log", |d| {
            Ok(Racy {
                backend: LogBackend::open(d)?,
                bug: RaceBug::SplitCommits,
            })
        })),
        _ => return None,
    })
}

/// "mine-log" rebuilds no file after a crash: every file is part of its crash states.
const ENGINES: Engines = Engines::new(opener);

fn env_number(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn options(model: Model, repros: &std::path::Path) -> Result<Options, String> {
    let points = env_number("SYNCPROOF_CRASH_POINTS").unwrap_or(6);
    // Stores on disk (the default), where durability is tested.
    Ok(Options {
        points,
        timeout: Duration::from_secs(60),
        repro_dir: repros.to_path_buf(),
        ..Options::new(model, ENGINES, Children::this_executable()?)
    })
}

fn run(model: Model, label: &str, repros: &std::path::Path) -> Result<EngineRun, String> {
    let runs = drive::run(&options(model, repros)?, &[label.to_string()]);
    eprint!("{}", drive::summary(model, &runs));
    runs.into_iter().next().ok_or_else(|| "no run".to_string())
}

/// The checks, each a (what, passed) pair.
fn checks(repros: &std::path::Path) -> Result<Vec<(String, bool)>, String> {
    recording::library_or_build()?;
    let mut out = Vec::new();
    for model in Model::ALL {
        let r = run(model, "mine-log", repros)?;
        out.push((
            format!("mine-log passes {} ({} states)", model.name(), r.states),
            r.passed(),
        ));
    }
    for (label, weaker, stronger) in [
        (
            "mine-log+flush-does-not-sync",
            Model::Kill,
            Model::PowerLoss,
        ),
        (
            "mine-log+flush-ignores-errors",
            Model::PowerLoss,
            Model::IoError,
        ),
    ] {
        let missed = run(weaker, label, repros)?;
        out.push((
            format!("{label} passes {} (it cannot see the bug)", weaker.name()),
            missed.passed(),
        ));
        let caught = run(stronger, label, repros)?;
        out.push((
            format!(
                "{label} is caught by {}, with a shrunk repro",
                stronger.name()
            ),
            !caught.findings.is_empty()
                && caught.findings.iter().all(|f| f.saved.is_some())
                && caught.shrunk.is_some(),
        ));
        // The first repro, read back from its file, makes the failing state again.
        let replayed = match caught.findings.first().and_then(|f| f.saved.as_ref()) {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
                let repro = drive::CrashRepro::from_ron(&text)?;
                drive::replay(&options(stronger, repros)?, &repro, repros)?
            }
            None => EngineRun::default(),
        };
        out.push((
            format!("{label}: its repro replays and fails again"),
            !replayed.findings.is_empty(),
        ));
    }
    let label = "mine-log+split-commits";
    let caught = run(Model::PowerLoss, label, repros)?;
    out.push((
        format!("{label} is caught by power-loss, with a shrunk repro"),
        !caught.findings.is_empty() && caught.shrunk.is_some(),
    ));
    // A kill sees it only if it lands between the two appends; whatever it finds must be
    // that half-written batch, nothing else.
    let kill = run(Model::Kill, label, repros)?;
    out.push((
        format!(
            "{label}: the kill model finds nothing but a half-written batch ({} of {} states)",
            kill.findings.len(),
            kill.states
        ),
        kill.states > 0
            && kill
                .findings
                .iter()
                .all(|f| f.what.contains("points to missing") || f.what.contains("Inconsistent")),
    ));
    Ok(out)
}

/// `SYNCPROOF_CRASH_SOAK=<states>`: only "mine-log", with at least that many crash states
/// per model (a kill is one state per point, a power loss four, an injected error one or two).
fn soak(states: usize, repros: &std::path::Path) -> Result<Vec<(String, bool)>, String> {
    recording::library_or_build()?;
    let mut out = Vec::new();
    for (model, points) in [
        (Model::Kill, states),
        (Model::PowerLoss, states.div_ceil(4)),
        (Model::IoError, states),
    ] {
        let runs = drive::run(
            &Options {
                points,
                ..options(model, repros)?
            },
            &["mine-log".to_string()],
        );
        eprint!("{}", drive::summary(model, &runs));
        let r = runs.first().ok_or("no run")?;
        out.push((
            format!(
                "mine-log passes {} ({} states, {} consistent, in {:.0} s)",
                model.name(),
                r.states,
                r.consistent,
                r.seconds
            ),
            r.passed(),
        ));
    }
    Ok(out)
}

fn main() -> ExitCode {
    if let Some(code) = child_main(&ENGINES) {
        std::process::exit(code);
    }
    let repros = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("temp dir: {e}");
            return ExitCode::FAILURE;
        }
    };
    let results = match env_number("SYNCPROOF_CRASH_SOAK") {
        Some(states) => soak(states, repros.path()),
        None => checks(repros.path()),
    };
    match results {
        Ok(results) => {
            let mut failed = 0;
            for (what, passed) in &results {
                println!("{} {what}", if *passed { "ok  " } else { "FAIL" });
                failed += usize::from(!passed);
            }
            println!("crash: {} checks, {failed} failed", results.len());
            if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("crash: {e}");
            ExitCode::FAILURE
        }
    }
}
