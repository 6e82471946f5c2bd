//! The concurrent mode earns its place: each planted bug below answers every single-threaded
//! call correctly, so the sequential mode passes it on every case, and breaks the one promise
//! a reader on another thread relies on (SPEC §6: a read sees one consistent state), so the
//! default concurrent phase of `check` catches it, shrinks it and writes a repro that replays.
//! All six engines pass the concurrent mode.

use syncproof_engine::contract::Opener;
use syncproof_engine::kv::KvOpener;
use syncproof_gate::check::concurrent::{
    ConcurrentRepro, DEFAULT_CONCURRENT_CASES, REPLAY_SCHEDULES,
};
use syncproof_gate::faults::concurrency::{RaceBug, Racy};
use syncproof_gate::faults::{Bug, FaultyOpener};
use syncproof_gate::run::concurrent::run_schedules;
use syncproof_gate::{Harness, Progress, Report};

/// A harness over `opener` with `cases` sequences and `concurrent` concurrent cases, no
/// contract suite, stores in RAM, repros into `repros`.
fn harness(
    label: &str,
    opener: Box<dyn Opener>,
    cases: u64,
    concurrent: u64,
    repros: &tempfile::TempDir,
) -> Harness {
    let mut h = Harness::new().engine(label, opener).cases(cases).seed(11);
    h.options.contract = false;
    h.options.progress = Progress::None;
    h.options.concurrent_cases = concurrent;
    h.options.repro_dir = repros.path().to_path_buf();
    h
}

/// The tests of this file run one at a time: each measures races between its own threads,
/// which tests running beside it on a two-core machine would drown.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs the planted bug `make()` through the sequential mode alone (it must pass) and through
/// the default concurrent phase (it must fail). A race shows in some schedules only: when the
/// shrunk case failed again, its repro must fail again when replayed; when it did not, the
/// report must say FLAKY and keep the unshrunk case. Returns the concurrent report.
fn caught_only_concurrently(label: &str, make: &dyn Fn() -> Box<dyn Opener>) -> Report {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let repros = tempfile::tempdir().unwrap();
    let sequential = harness(label, make(), 150, 0, &repros).run();
    assert!(
        sequential.passed(),
        "{label}: the sequential mode should not see a bug of concurrency:\n{}",
        sequential.summary()
    );
    assert!(sequential.concurrent.is_none());
    let concurrent = harness(label, make(), 1, DEFAULT_CONCURRENT_CASES, &repros).run();
    assert!(
        !concurrent.passed(),
        "{label}: not caught:\n{}",
        concurrent.summary()
    );
    let phase = concurrent.concurrent.as_ref().unwrap();
    let f = phase
        .failure
        .as_ref()
        .unwrap_or_else(|| panic!("{label}: no concurrent failure:\n{}", concurrent.summary()));
    if !f.shrink_reproduced {
        assert!(
            concurrent.summary().contains("FLAKY"),
            "{}",
            concurrent.summary()
        );
        assert_eq!(
            f.repro.concurrent.writer.len(),
            f.original_ops,
            "{label}: unshrunk"
        );
        eprintln!("{label} (rare):\n{}", concurrent.summary());
        return concurrent;
    }
    assert!(f.shrink_reproduced, "{label}: {}", concurrent.summary());
    assert!(
        f.repro.concurrent.writer.len() <= f.original_ops,
        "{label}: shrunk"
    );
    // The repro file replays: it fails again in some of its schedules. How often a race
    // shows depends on how the threads are scheduled, and the other tests of this binary
    // load the same two cores, so the replay gets up to five rounds of `syncproof replay`'s
    // schedules (one round was seen to pass, under the whole workspace's tests).
    let path = f.repro_path.as_ref().unwrap();
    let repro = ConcurrentRepro::from_ron(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(repro, f.repro);
    let opener = make();
    let (mut ran, mut failures) = (0, 0);
    for _ in 0..5 {
        let (r, failed, _) = run_schedules(
            repro.seed,
            &repro.concurrent,
            &repro.engine,
            opener.as_ref(),
            None,
            REPLAY_SCHEDULES,
            true,
        )
        .unwrap();
        ran += r;
        failures += failed;
        if failures > 0 {
            break;
        }
    }
    assert!(
        failures > 0,
        "{label}: the repro did not fail in {ran} schedules"
    );
    eprintln!("{label}:\n{}", concurrent.summary());
    concurrent
}

#[test]
fn a_batch_applied_as_two_commits_is_caught_only_concurrently() {
    caught_only_concurrently("redb-split-commits", &|| {
        Box::new(KvOpener::new("redb", |d| {
            Ok(Racy {
                backend: syncproof_redb::open(d)?,
                bug: RaceBug::SplitCommits,
            })
        }))
    });
}

#[test]
fn a_scan_that_takes_a_fresh_snapshot_every_few_keys_is_caught_only_concurrently() {
    caught_only_concurrently("mdbx-fresh-snapshots", &|| {
        Box::new(KvOpener::new("mdbx", |d| {
            Ok(Racy {
                backend: syncproof_mdbx::open(d)?,
                bug: RaceBug::FreshSnapshots,
            })
        }))
    });
}

#[test]
fn stats_from_two_snapshots_is_caught_only_concurrently() {
    caught_only_concurrently("fjall-stats-two-snapshots", &|| {
        Box::new(FaultyOpener::new(
            Box::new(syncproof_fjall::opener()),
            Bug::StatsFromTwoSnapshots,
        ))
    });
}

#[test]
fn sled_without_its_read_lock_is_caught_only_concurrently() {
    caught_only_concurrently("sled-unlocked", &|| {
        Box::new(syncproof_sled::opener_with(|d| {
            Ok(syncproof_sled::open(d)?.without_read_lock())
        }))
    });
}

#[test]
fn all_six_engines_pass_the_concurrent_mode() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let repros = tempfile::tempdir().unwrap();
    for info in syncproof_harness::engines::all() {
        let report = harness(
            info.name,
            (info.opener)(),
            1,
            DEFAULT_CONCURRENT_CASES,
            &repros,
        )
        .run();
        assert!(report.passed(), "{}:\n{}", info.name, report.summary());
        let phase = report.concurrent.as_ref().unwrap();
        assert_eq!(phase.cases_run(), DEFAULT_CONCURRENT_CASES, "{}", info.name);
        assert!(
            phase.reads_checked() > 0 && phase.counts.overlapping > 0,
            "{}",
            info.name
        );
    }
}
