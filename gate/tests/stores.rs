//! Where the gate puts its stores, and what it says it checked: the stores go to the scratch
//! default (in RAM when the system has a RAM-backed temp dir) or where `tmp` says, the report
//! names that place, and its count of checked engine-op applications is what ran.

// A test: a panic is a failure, so the workspace's no-panic lints do not apply.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use syncproof_engine::contract::Opener;
use syncproof_engine::scratch::{Chosen, Scratch};
use syncproof_engine::{EngineConfig, Result, StorageEngine};
use syncproof_gate::faults::{Bug, FaultyOpener};
use syncproof_gate::{Harness, Options, Progress, Report};
use syncproof_memory::MemoryOpener;

/// The memory engine, noting every directory it is asked to open a store in.
struct Recording {
    inner: MemoryOpener,
    dirs: Arc<Mutex<Vec<PathBuf>>>,
}

impl Opener for Recording {
    fn name(&self) -> &str {
        "recording"
    }
    fn open(&self, dir: &Path, config: EngineConfig) -> Result<Box<dyn StorageEngine>> {
        self.dirs.lock().unwrap().push(dir.to_path_buf());
        self.inner.open(dir, config)
    }
}

fn recording() -> (Box<Recording>, Arc<Mutex<Vec<PathBuf>>>) {
    let dirs = Arc::new(Mutex::new(Vec::new()));
    let opener = Recording {
        inner: MemoryOpener::default(),
        dirs: dirs.clone(),
    };
    (Box::new(opener), dirs)
}

fn options(tmp: Option<&Path>, repros: &Path) -> Options {
    Options {
        cases: 10,
        seed: 3,
        progress: Progress::None,
        tmp: tmp.map(Path::to_path_buf),
        repro_dir: repros.to_path_buf(),
        ..Options::default()
    }
}

/// Every store of the contract suite and of the sequences is opened under the directory the
/// report names: the default when no `tmp` is given, the given one otherwise.
#[test]
fn every_store_is_where_the_report_says() {
    let repros = tempfile::tempdir().unwrap();
    let given = tempfile::tempdir().unwrap();
    for tmp in [None, Some(given.path())] {
        let (opener, dirs) = recording();
        let r = Harness::new()
            .engine("recording", opener)
            .options(options(tmp, repros.path()))
            .run();
        assert!(r.passed(), "{}", r.summary());
        match tmp {
            None => assert_eq!(&r.stores, Scratch::default_dir()),
            Some(t) => {
                assert_eq!(r.stores.path, t);
                assert_eq!(r.stores.chosen, Chosen::Given);
            }
        }
        let dirs = dirs.lock().unwrap();
        assert!(dirs.len() > 10, "{} stores opened", dirs.len());
        for d in dirs.iter() {
            assert!(
                d.starts_with(&r.stores.path),
                "{} is not under {}",
                d.display(),
                r.stores.path.display()
            );
        }
        let line = format!("stores: {}", r.stores.describe());
        assert!(
            r.summary().contains(&line),
            "{line:?} not in\n{}",
            r.summary()
        );
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["stores"]["path"], r.stores.path.display().to_string());
        assert_eq!(json["stores"]["in_ram"], r.stores.in_ram);
    }
}

/// Runs 30 cases of seed 3 on `engines`, no contract suite and no concurrent phase, stores in
/// the default place, on `threads` workers (`None`: the machine's parallelism).
fn run_sequences(engines: Vec<(&str, Box<dyn Opener>)>, threads: Option<usize>) -> Report {
    let repros = tempfile::tempdir().unwrap();
    let mut h = Harness::new();
    for (label, opener) in engines {
        h = h.engine(label, opener);
    }
    h.options(Options {
        cases: 30,
        contract: false,
        concurrent_cases: 0,
        threads,
        ..options(None, repros.path())
    })
    .run()
}

/// The throughput line counts every op of every case once per engine under test, over the
/// sequences' own wall time.
#[test]
fn the_checked_count_is_every_op_on_every_engine() {
    let (a, _) = recording();
    let (b, _) = recording();
    let r = run_sequences(vec![("a", a), ("b", b)], None);
    assert!(r.passed(), "{}", r.summary());
    assert!(r.ops_run > 30, "{} ops", r.ops_run);
    assert_eq!(r.checked_applications, 2 * r.ops_run);
    assert!(r.sequence_secs > 0.0 && r.sequence_secs <= r.elapsed_secs);
    let rate = r.checked_applications as f64 / r.sequence_secs;
    assert!((r.checked_per_sec - rate).abs() <= rate * 1e-9);
    let line = format!(
        "checked: {} engine-op applications against the reference",
        r.checked_applications
    );
    assert!(
        r.summary().contains(&line),
        "{line:?} not in\n{}",
        r.summary()
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["checked_applications"], r.checked_applications);
}

/// The time line is the engines' own call time over the workers' time. An engine made slow on
/// purpose (`StatsFromTwoSnapshots` sleeps 2 ms inside every `stats` call and answers
/// correctly when nothing writes meanwhile) is charged at least that sleep, more than the same
/// engine without it; and the sum is never more than the threads could have spent in the
/// sequences.
#[test]
fn the_time_line_is_the_engines_share_of_the_workers_time() {
    let (plain, _) = recording();
    let (slowed, _) = recording();
    let slowed = Box::new(FaultyOpener::new(slowed, Bug::StatsFromTwoSnapshots));
    let r = run_sequences(vec![("plain", plain), ("slowed", slowed)], Some(2));
    assert!(r.passed(), "{}", r.summary());
    assert_eq!(r.threads, 2);
    let busy = |label: &str| {
        r.engines
            .iter()
            .find(|e| e.engine == label)
            .unwrap_or_else(|| panic!("no {label} in {r:?}"))
    };
    let stats_calls = busy("slowed").latency.get("stats").map_or(0, |p| p.count);
    assert!(stats_calls > 0, "no stats op in 30 cases: {r:?}");
    let slept = stats_calls as f64 * 0.002;
    assert!(
        busy("slowed").busy_secs >= slept,
        "slowed busy {} s, slept {slept} s in {stats_calls} stats calls",
        busy("slowed").busy_secs
    );
    assert!(
        busy("slowed").busy_secs > busy("plain").busy_secs,
        "{} s against {} s",
        busy("slowed").busy_secs,
        busy("plain").busy_secs
    );
    let sum: f64 = r.engines.iter().map(|e| e.busy_secs).sum();
    assert!(r.engines.iter().all(|e| e.busy_secs > 0.0));
    assert!((r.engines_busy_secs() - sum).abs() <= 1e-12, "{r:?}");
    assert!(
        r.engines_busy_secs() <= r.sequence_secs * 2.0,
        "{} busy in {} s on 2 threads",
        r.engines_busy_secs(),
        r.sequence_secs
    );
    let line = format!(
        "time: the engines under test were busy {:.1}s of the 2 workers' {:.1}s",
        r.engines_busy_secs(),
        r.sequence_secs * 2.0
    );
    assert!(
        r.summary().contains(&line),
        "{line:?} not in\n{}",
        r.summary()
    );
}
