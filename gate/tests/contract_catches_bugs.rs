//! Proof of power of the contract suite: for every injected bug class, the checks that claim
//! to catch it fail on an engine with that bug; and every check in the suite catches some bug.

// A test: a panic is a failure, so the workspace's no-panic lints do not apply.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeSet;
use syncproof_engine::contract::{run_all, run_named, CHECKS};
use syncproof_gate::faults::{Bug, FaultyOpener};
use syncproof_memory::MemoryOpener;

#[test]
fn every_bug_is_caught_by_its_checks() {
    let mut missed = Vec::new();
    // The stall classes never return; harness/tests/stall.rs shows the watchdog catches them.
    for &bug in Bug::ALL.iter().filter(|b| !Bug::STALLS.contains(b)) {
        let opener = FaultyOpener::new(Box::new(MemoryOpener::default()), bug);
        for check in bug.caught_by() {
            match run_named(&opener, check) {
                Err(failure) => eprintln!(
                    "{bug:?} caught by {check}: {}",
                    failure.0.lines().next().unwrap_or("")
                ),
                Ok(()) => missed.push(format!("{bug:?} not caught by {check}")),
            }
        }
    }
    assert!(
        missed.is_empty(),
        "bugs that went unnoticed:\n{}",
        missed.join("\n")
    );
}

/// The stall classes never return, so their checks cannot be run to a failure: each check
/// a hanging class claims must still be running after a while (on a thread left behind; it
/// only sleeps). `RunawayOnNulInId` has the same trigger and the same checks, but a thread
/// left to allocate without bound cannot be left behind: `harness/tests/stall.rs` shows the
/// memory ceiling stops it in a process of its own.
#[test]
fn the_hang_class_hangs_the_checks_it_claims() {
    let bug = Bug::HangOnNulInId;
    assert_eq!(bug.caught_by(), Bug::RunawayOnNulInId.caught_by());
    for &check in bug.caught_by() {
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let opener = FaultyOpener::new(Box::new(MemoryOpener::default()), bug);
            let _ = done.send(run_named(&opener, check).is_ok());
        });
        let got = finished.recv_timeout(std::time::Duration::from_secs(3));
        assert!(
            got.is_err(),
            "{check} finished on {bug:?} ({got:?}): it does not stall"
        );
        // The same check on the correct engine finishes, and passes.
        let clean = FaultyOpener::transparent(Box::new(MemoryOpener::default()));
        assert_eq!(run_named(&clean, check), Ok(()), "{check}");
    }
}

#[test]
fn every_check_catches_some_bug() {
    let covered: BTreeSet<&str> = Bug::ALL
        .iter()
        .flat_map(|b| b.caught_by().iter().copied())
        .collect();
    let uncovered: Vec<&str> = CHECKS
        .iter()
        .map(|c| c.name)
        .filter(|n| !covered.contains(n))
        .collect();
    assert!(
        uncovered.is_empty(),
        "checks never shown to catch a bug: {uncovered:?}"
    );
    let unknown: Vec<&str> = covered
        .iter()
        .copied()
        .filter(|n| !CHECKS.iter().any(|c| c.name == *n))
        .collect();
    assert!(
        unknown.is_empty(),
        "bugs name checks that do not exist: {unknown:?}"
    );
}

#[test]
fn the_wrapper_without_a_bug_passes_everything() {
    // So the catches above come from the injected bugs, not from the wrapper itself.
    let failures = run_all(&FaultyOpener::transparent(
        Box::new(MemoryOpener::default()),
    ));
    assert!(failures.is_empty(), "{failures:#?}");
}
