//! The gate never claims more than it did: each test pins one way the gate of f3e1724
//! misreported (the issue "The gate must never lie", part 2), and fails on that behaviour.

// A test: a panic is a failure, so the workspace's no-panic lints do not apply.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::Duration;

use syncproof_gate::faults::{Bug, FaultyOpener};
use syncproof_gate::{Harness, Options, Progress};
use syncproof_memory::MemoryOpener;

fn faulty(bug: Bug) -> Box<FaultyOpener> {
    Box::new(FaultyOpener::new(Box::new(MemoryOpener::default()), bug))
}

fn clean() -> Box<FaultyOpener> {
    Box::new(FaultyOpener::transparent(Box::new(MemoryOpener::default())))
}

fn quiet(o: Options) -> Options {
    Options {
        progress: Progress::None,
        ..o
    }
}

/// Item 1: without the contract suite, no contract checks are reported as run.
#[test]
fn a_skipped_contract_is_reported_as_not_run() {
    let r = Harness::new()
        .engine("wrapper", clean())
        .options(quiet(Options {
            cases: 5,
            contract: false,
            ..Options::default()
        }))
        .run();
    assert!(r.passed(), "{}", r.summary());
    assert_eq!(r.contract_checks, 0);
    assert!(r.summary().contains("contract: not run"), "{}", r.summary());
    assert!(!r.junit().contains("syncproof.contract"), "{}", r.junit());
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["contract_checks"], 0);
}

/// Item 2: a time budget that lets nothing run is a failure, and the summary says how many
/// cases ran out of how many were asked.
#[test]
fn a_run_cut_short_by_its_budget_does_not_pass() {
    let r = Harness::new()
        .engine("wrapper", clean())
        .options(quiet(Options {
            cases: 1000,
            contract: false,
            time_budget: Some(Duration::from_millis(1)),
            ..Options::default()
        }))
        .run();
    assert!(r.cases_run < 100, "{}", r.cases_run);
    assert!(!r.passed(), "{}", r.summary());
    let s = r.summary();
    assert!(
        s.contains("of 1000 cases") && s.contains("TOO FEW CASES"),
        "{s}"
    );
    assert!(s.trim_end().ends_with("FAILED"), "{s}");
    assert!(r.junit().contains("too few cases"), "{}", r.junit());
    // An explicit minimum of one lets a short smoke run pass once it checked something.
    let r = Harness::new()
        .engine("wrapper", clean())
        .options(quiet(Options {
            cases: 1000,
            min_cases: Some(1),
            contract: false,
            time_budget: Some(Duration::from_millis(300)),
            ..Options::default()
        }))
        .run();
    assert!(r.cases_run >= 1 && r.passed(), "{}", r.summary());
}

/// Item 5: a soak (unbounded cases with a time budget) runs without collecting case indices.
#[test]
fn an_unbounded_soak_runs_until_its_budget() {
    let r = Harness::new()
        .engine("wrapper", clean())
        .options(quiet(Options {
            cases: u64::MAX,
            contract: false,
            time_budget: Some(Duration::from_millis(500)),
            ..Options::default()
        }))
        .run();
    assert!(r.passed(), "{}", r.summary());
    assert!(r.cases_run > 0 && r.cases_asked.is_none());
    assert!(r.summary().contains("cases (unbounded)"), "{}", r.summary());
}

/// Item 6: the reported failure is the lowest failing case index, whatever the thread count.
#[test]
fn the_reported_failure_does_not_depend_on_the_thread_count() {
    let case_with = |threads| {
        let repros = tempfile::tempdir().unwrap();
        let r = Harness::new()
            .engine("bug", faulty(Bug::SkipAtPageBoundary))
            .options(quiet(Options {
                cases: 1000,
                seed: 5,
                contract: false,
                threads: Some(threads),
                repro_dir: repros.path().to_path_buf(),
                ..Options::default()
            }))
            .run();
        r.failure.expect("the bug is caught").case
    };
    let cases: Vec<u64> = [1, 2, 4, 8].into_iter().map(case_with).collect();
    assert!(cases.iter().all(|c| *c == cases[0]), "{cases:?}");
}

/// Item 8: a repro that cannot be written is said, not dropped; the contract suite honours
/// `tmp` (a missing parent makes every check fail instead of silently using /tmp).
#[test]
fn unwritable_repros_and_the_contract_tmp_fail_loudly() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "not a directory").unwrap();
    let r = Harness::new()
        .engine("bug", faulty(Bug::PrefixFilters))
        .options(quiet(Options {
            contract: false,
            repro_dir: blocker.join("repros"),
            ..Options::default()
        }))
        .run();
    let f = r.failure.as_ref().expect("caught");
    assert!(f.repro_path.is_none() && f.repro_error.is_some());
    assert!(r.summary().contains("REPRO NOT WRITTEN"), "{}", r.summary());

    let r = Harness::new()
        .engine("wrapper", clean())
        .options(quiet(Options {
            cases: 2,
            tmp: Some(dir.path().join("missing")),
            ..Options::default()
        }))
        .run();
    assert!(!r.passed());
    assert!(
        r.contract_failures
            .iter()
            .all(|f| f.message.contains("temp dir")),
        "{:?}",
        r.contract_failures
    );
    assert_eq!(r.contract_failures.len(), r.contract_checks);
}

/// Item 9: error kinds never seen are blind spots, like op kinds.
#[test]
fn never_seen_error_kinds_are_blind_spots() {
    let r = Harness::new()
        .engine("wrapper", clean())
        .options(quiet(Options {
            cases: 20,
            contract: false,
            ..Options::default()
        }))
        .run();
    let blind = r.blind_spots();
    assert!(blind.iter().any(|b| b == "error Io"), "{blind:?}");
    assert!(blind.iter().any(|b| b == "error Corruption"), "{blind:?}");
    assert!(r.summary().contains("error Io"), "{}", r.summary());
}

/// Item 7: the oracle forgets the stores of finished cases, so a long run stays flat.
#[test]
fn the_oracle_holds_no_finished_case() {
    let oracle = MemoryOpener::default();
    let engine = MemoryOpener::default();
    for i in 0..30 {
        let ops = syncproof_gate::model::generate::case(1, i, 20);
        syncproof_gate::run::runner::run_case(1, &ops, &oracle, &[("m".into(), &engine)], None)
            .unwrap();
    }
    // The last case's directories are gone too; the next open prunes them.
    let d = tempfile::tempdir().unwrap();
    use syncproof_engine::contract::Opener;
    let _e = oracle.open(d.path(), Default::default()).unwrap();
    assert_eq!(oracle.stores_held(), 1);
}

/// An engine that has a bug in its first `bad_opens` opens and none after: a flaky engine,
/// as seen from the gate (it depends on more than the ops).
struct Flaky {
    bad: FaultyOpener,
    good: MemoryOpener,
    opens: std::sync::atomic::AtomicUsize,
    bad_opens: usize,
}

impl syncproof_engine::contract::Opener for Flaky {
    fn name(&self) -> &str {
        "flaky"
    }
    fn open(
        &self,
        dir: &std::path::Path,
        config: syncproof_engine::EngineConfig,
    ) -> syncproof_engine::Result<Box<dyn syncproof_engine::StorageEngine>> {
        let n = self.opens.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if n < self.bad_opens {
            self.bad.open(dir, config)
        } else {
            self.good.open(dir, config)
        }
    }
}

/// Item 14: a shrink that no longer reproduces says so (FLAKY, in the summary and the repro)
/// instead of silently reporting the unshrunk finding as if it were shrunk.
#[test]
fn a_shrink_that_stops_reproducing_is_reported_as_flaky() {
    use syncproof_engine::contract::Opener;
    let (seed, max_ops) = (3, 40);
    // How many opens the cases up to the first failing one take, on one thread.
    let counting = Flaky {
        bad: FaultyOpener::new(Box::new(MemoryOpener::default()), Bug::PrefixFilters),
        good: MemoryOpener::default(),
        opens: Default::default(),
        bad_opens: usize::MAX,
    };
    let oracle = MemoryOpener::default();
    let subjects: Vec<(String, &dyn Opener)> = vec![("flaky".into(), &counting)];
    let first_failing = (0..1000)
        .find(|&i| {
            let ops = syncproof_gate::model::generate::case(seed, i, max_ops);
            syncproof_gate::run::runner::run_case(seed, &ops, &oracle, &subjects, None)
                .unwrap()
                .finding
                .is_some()
        })
        .expect("the bug is caught");
    let bad_opens = counting.opens.load(std::sync::atomic::Ordering::SeqCst);
    let repros = tempfile::tempdir().unwrap();
    let r = Harness::new()
        .engine(
            "flaky",
            Box::new(Flaky {
                bad: FaultyOpener::new(Box::new(MemoryOpener::default()), Bug::PrefixFilters),
                good: MemoryOpener::default(),
                opens: Default::default(),
                bad_opens,
            }),
        )
        .options(quiet(Options {
            seed,
            max_ops,
            contract: false,
            threads: Some(1),
            repro_dir: repros.path().to_path_buf(),
            ..Options::default()
        }))
        .run();
    let f = r.failure.as_ref().expect("found while the engine was bad");
    assert_eq!(f.case, first_failing);
    assert!(!f.shrink_reproduced && f.repro.flaky, "{}", r.summary());
    assert!(r.summary().contains("FLAKY"), "{}", r.summary());
    let saved = syncproof_gate::Repro::load(f.repro_path.as_ref().unwrap()).unwrap();
    assert!(saved.flaky);
}
