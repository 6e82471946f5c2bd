//! Metamorphic configurations earn their place: a planted bug that lives where only a
//! configuration's structure reaches (a read path that consults only fjall's active memtable)
//! passes every case on fjall's defaults, whose 64 MiB memtable no generated case fills, and is
//! caught, shrunk and named by its configuration once `check` draws `fjall+tiny-memtable` for
//! some cases. Every configuration of every engine also agrees with the oracle.

use syncproof_engine::contract::Opener;
use syncproof_fjall::{FjallBackend, Options, TINY_MEMTABLE};
use syncproof_gate::Harness;
use syncproof_gate::Progress;

/// fjall's defaults, with point reads that see only the active memtable.
const BUGGY_DEFAULT: Options = Options {
    reads_active_memtable_only: true,
    ..Options::DEFAULT
};

/// `fjall+tiny-memtable`, with the same bug.
const BUGGY_TINY: Options = Options {
    reads_active_memtable_only: true,
    ..TINY_MEMTABLE
};

fn buggy(open: fn(&std::path::Path) -> syncproof_engine::Result<FjallBackend>) -> Box<dyn Opener> {
    Box::new(syncproof_fjall::opener_with(open))
}

/// A harness of `cases` sequences without the contract suite, writing repros into `repros`.
fn harness(cases: u64, repros: &tempfile::TempDir) -> Harness {
    let mut h = Harness::new().cases(cases).seed(7);
    h.options.contract = false;
    // The sequences' draw of configurations is what this measures; the concurrent phase
    // reads while fjall's cleanup reclaims (rotating its memtable), which meets the planted
    // bug on the defaults too.
    h.options.concurrent_cases = 0;
    h.options.progress = Progress::None;
    h.options.repro_dir = repros.path().to_path_buf();
    h
}

#[test]
fn a_memtable_bug_is_caught_only_under_the_tiny_memtable_configuration() {
    let repros = tempfile::tempdir().unwrap();
    let defaults_only = harness(300, &repros)
        .engine(
            "fjall",
            buggy(|d| FjallBackend::open_with(d, BUGGY_DEFAULT)),
        )
        .run();
    assert!(
        defaults_only.passed(),
        "on fjall's defaults the memtable never fills, so the bug should stay hidden:\n{}",
        defaults_only.summary()
    );
    assert_eq!(defaults_only.cases_run, 300);
    // And the summary says why: on the defaults fjall never made a table.
    assert!(
        defaults_only
            .blind_spots()
            .contains(&"structure fjall tables".to_string()),
        "{:?}",
        defaults_only.blind_spots()
    );

    let drawn = harness(300, &repros)
        .engine(
            "fjall",
            buggy(|d| FjallBackend::open_with(d, BUGGY_DEFAULT)),
        )
        .configuration(
            "fjall+tiny-memtable",
            buggy(|d| FjallBackend::open_with(d, BUGGY_TINY)),
        )
        .run();
    let failure = drawn.failure.as_ref().unwrap_or_else(|| {
        panic!(
            "the configuration did not catch the bug:\n{}",
            drawn.summary()
        )
    });
    eprintln!(
        "caught at case {}; shrunk from {} ops to {}",
        failure.case,
        failure.original_ops,
        failure.repro.ops.len()
    );
    assert_eq!(failure.repro.engines, ["fjall+tiny-memtable"]);
    assert!(failure.shrink_reproduced, "{}", drawn.summary());
    assert!(
        failure.repro.ops.len() < failure.original_ops,
        "not shrunk: {} of {} ops",
        failure.repro.ops.len(),
        failure.original_ops
    );
    assert!(
        failure.case < 50,
        "caught only at case {} (target: within 50)",
        failure.case
    );
    // The repro names the configuration, so a replay by label runs it again (here on the
    // correct engine, which agrees).
    assert!(syncproof_harness::engines::opener(&failure.repro.engines[0]).is_some());
}

#[test]
fn every_configuration_agrees_with_the_oracle() {
    let repros = tempfile::tempdir().unwrap();
    let mut h = harness(40, &repros);
    for e in syncproof_harness::engines::all() {
        if e.name != "memory" {
            h = h.configured(e.configured_openers());
        }
    }
    let report = h.run();
    assert!(report.passed(), "{}", report.summary());
    let drawn: Vec<&String> = report
        .configurations
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(l, _)| l)
        .collect();
    assert!(
        drawn.iter().filter(|l| l.contains('+')).count() >= 8,
        "too few configurations drawn in 40 cases: {drawn:?}"
    );
    // The structural counters tell the configurations apart: fjall's default memtable never
    // fills in a case, the tiny one flushes tables, so `fjall tables` is no blind spot.
    let tables = |engine: &str| {
        report
            .structure
            .iter()
            .find(|e| e.engine == engine && e.counter == "tables")
            .map(|e| e.cases)
    };
    assert_eq!(tables("fjall"), Some(0), "{}", report.summary());
    assert!(
        tables("fjall+tiny-memtable").is_some_and(|n| n > 0),
        "{}",
        report.summary()
    );
    assert!(
        !report
            .structural_blind_spots()
            .contains(&"structure fjall tables".to_string()),
        "{:?}",
        report.structural_blind_spots()
    );
}
