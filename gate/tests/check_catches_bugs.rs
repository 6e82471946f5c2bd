//! Proof of power of `syncproof check`: each bug class the issue names, injected into an
//! engine, is caught by the generated sequences within the default budget, and the shrunk
//! repro has at most 12 ops and replays to the same disagreement.

// A test: a panic is a failure, so the workspace's no-panic lints do not apply.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use syncproof_gate::faults::{Bug, FaultyOpener};
use syncproof_gate::run::runner::run_case;
use syncproof_gate::{Harness, Options, Progress, Repro};
use syncproof_memory::MemoryOpener;

/// The classes `check` must catch (issue: proof of power).
const CLASSES: &[Bug] = &[
    Bug::SkipAtPageBoundary,
    Bug::InclusiveTokens,
    Bug::IfNewerOnEqual,
    Bug::StaleIndexAfterOverwrite,
    Bug::PrefixFilters,
    Bug::CleanupKeepsOneFewer,
    Bug::DiffMissesDeletions,
    Bug::DiffAdditionsOnly,
    Bug::NormalizeNegativeZero,
    Bug::ReopenLosesLastBatch,
    // Structural: only the large tail reaches them (see detection.rs).
    Bug::SkipsRecord101,
    Bug::ExportDropsChunkBoundary,
    Bug::TruncateNearLimit,
    Bug::GetMissesFlushed,
];

#[test]
fn check_catches_every_bug_class_with_a_short_repro() {
    let repro_dir = tempfile::tempdir().unwrap();
    let mut problems = Vec::new();
    for &bug in CLASSES {
        let options = Options {
            contract: false,
            progress: Progress::None,
            repro_dir: repro_dir.path().to_path_buf(),
            ..Options::default()
        };
        let report = Harness::new()
            .engine(
                bug.name(),
                Box::new(FaultyOpener::new(Box::new(MemoryOpener::default()), bug)),
            )
            .options(options)
            .run();
        let Some(f) = &report.failure else {
            problems.push(format!(
                "{bug:?}: not caught in {} sequences",
                report.cases_run
            ));
            continue;
        };
        eprintln!(
            "{bug:?}: caught in case {} after {} sequences, shrunk {} -> {} ops",
            f.case,
            report.cases_run,
            f.original_ops,
            f.repro.ops.len()
        );
        if f.repro.ops.len() > 12 {
            problems.push(format!(
                "{bug:?}: repro has {} ops:\n{}",
                f.repro.ops.len(),
                syncproof_gate::run::text::describe(&f.repro)
            ));
        }
        // The written file replays to a disagreement on the same engine.
        let path = f.repro_path.as_ref().expect("repro written");
        let loaded = Repro::load(path).unwrap();
        assert_eq!(loaded.ops, f.repro.ops);
        let opener = FaultyOpener::new(Box::new(MemoryOpener::default()), bug);
        let again = run_case(
            loaded.seed,
            &loaded.ops,
            &MemoryOpener::default(),
            &[(bug.name().into(), &opener)],
            None,
        )
        .unwrap();
        if again.finding.is_none() {
            problems.push(format!("{bug:?}: the repro file does not reproduce"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_correct_engine_passes_and_the_run_is_reproducible() {
    let run = || {
        let options = Options {
            cases: 60,
            seed: 99,
            contract: false,
            progress: Progress::None,
            ..Options::default()
        };
        Harness::new()
            .engine(
                "wrapper",
                Box::new(FaultyOpener::transparent(Box::new(MemoryOpener::default()))),
            )
            .options(options)
            .run()
    };
    let (a, b) = (run(), run());
    assert!(a.passed(), "{}", a.summary());
    assert_eq!(
        (a.cases_run, a.ops_run, &a.op_kinds, &a.error_kinds),
        (b.cases_run, b.ops_run, &b.op_kinds, &b.error_kinds)
    );
}
