//! How a third party gates its engine with syncproof: the differential against the oracle,
//! the KV level on its backend, and a regression test pasted from the gate's own output.

use syncproof_engine::contract::Opener;
use syncproof_example_third_party::{open_backend, MineOpener};
use syncproof_gate::check::kv::check as check_kv;
use syncproof_gate::faults::{Bug, FaultyOpener};
use syncproof_gate::run::kv::KvTarget;
use syncproof_gate::{Harness, Options, Progress};

/// What printed regression tests call to make an engine from its label.
pub fn syncproof_opener(label: &str) -> Option<Box<dyn Opener>> {
    (label == "mine").then(|| Box::new(MineOpener) as Box<dyn Opener>)
}

fn options(repros: &std::path::Path) -> Options {
    Options {
        cases: 200,
        seed: 11,
        progress: Progress::None,
        repro_dir: repros.to_path_buf(),
        ..Options::default()
    }
}

#[test]
fn the_differential_passes() {
    let repros = tempfile::tempdir().unwrap();
    let report = Harness::new()
        .engine("mine", Box::new(MineOpener))
        .options(options(repros.path()))
        .run();
    assert!(report.passed(), "{}", report.summary());
    assert_eq!(report.cases_run, 200);
    assert!(report.contract_checks > 0);
    // The concurrent phase ran on it too: reads on other threads checked against the oracle.
    let concurrent = report
        .concurrent
        .as_ref()
        .expect("the concurrent phase ran");
    assert!(concurrent.reads_checked() > 0 && concurrent.failure.is_none());
}

#[test]
fn the_kv_level_passes() {
    let repros = tempfile::tempdir().unwrap();
    let report = check_kv(
        &options(repros.path()),
        &[KvTarget {
            label: "mine".into(),
            open: open_backend,
            bug: None,
        }],
    );
    assert!(report.passed(), "{}", report.summary());
    assert_eq!(report.cases_run, 200);
}

/// A bug in "mine" (here injected) is found, and the printed regression test replays it
/// through this crate's own `syncproof_opener`, not through syncproof's registry.
#[test]
fn a_bug_prints_a_regression_test_that_uses_our_opener() {
    let repros = tempfile::tempdir().unwrap();
    let report = Harness::new()
        .engine(
            "mine",
            Box::new(FaultyOpener::new(Box::new(MineOpener), Bug::PrefixFilters)),
        )
        .options(Options {
            contract: false,
            ..options(repros.path())
        })
        .run();
    let f = report.failure.as_ref().expect("the injected bug is caught");
    let test = f.regression_test.as_deref().expect("printed");
    assert!(
        test.contains("syncproof_gate::assert_replay_agrees(&repro, crate::syncproof_opener)"),
        "{test}"
    );
    // Replayed on the bug-free engine (the fix), the repro agrees with the oracle.
    syncproof_gate::assert_replay_agrees(&f.repro, syncproof_opener);
    if let Ok(path) = std::env::var("SYNCPROOF_PRINT_REGRESSION") {
        std::fs::write(path, test).unwrap();
    }
}
