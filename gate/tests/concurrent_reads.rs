//! The concurrent runner's check of each read kind catches a broken engine: for a planted bug
//! that changes what one kind of read answers, some reader's read of that kind matches no state
//! of its window (found by a reader, not only by the writer's own op-by-op comparison). The
//! resume check is the one that leans on the oracle's `token_after`: a token that resumes one
//! record too early must be caught by it.

// A test: a panic is a failure, so the workspace's no-panic lints do not apply.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use syncproof_gate::check::options::DEFAULT_MAX_OPS;
use syncproof_gate::faults::{Bug, FaultyOpener};
use syncproof_gate::model::reads::{self, READERS};
use syncproof_gate::run::concurrent::{run_concurrent, ConcurrentFinding};
use syncproof_memory::MemoryOpener;

/// Cases tried per bug: the default concurrent budget per engine.
const BUDGET: u64 = syncproof_gate::check::concurrent::DEFAULT_CONCURRENT_CASES;

/// The first case (of [`BUDGET`]) in which a reader's read of `kind` caught `bug`.
fn caught_by_a_reader(bug: Bug, kind: &str) -> Option<u64> {
    let engine = FaultyOpener::new(Box::new(MemoryOpener::default()), bug);
    (0..BUDGET).find(|&i| {
        let case = reads::case(5, i, DEFAULT_MAX_OPS, READERS);
        let run = run_concurrent(5, &case, bug.name(), &engine, None).unwrap();
        matches!(run.finding, Some(ConcurrentFinding::Read(f)) if f.read.kind() == kind)
    })
}

#[test]
fn each_read_kind_catches_a_bug_in_what_it_reads() {
    for (bug, kind) in [
        (Bug::AbsentGetIsNotFound, "get"),
        (Bug::CaseInsensitiveOrder, "list"),
        (Bug::InclusiveTokens, "resume_list"),
        (Bug::StatsWithoutAssets, "stats"),
        (Bug::SyncRunsById, "list_sync_runs"),
    ] {
        let at = caught_by_a_reader(bug, kind);
        eprintln!("{}: a {kind} read caught it at case {at:?}", bug.name());
        assert!(
            at.is_some(),
            "{} not caught by a {kind} read in {BUDGET} cases",
            bug.name()
        );
    }
}

/// And on the same engine without a bug, no read fails: the oracle's states and its resume
/// tokens agree with an engine that is right.
#[test]
fn a_correct_engine_passes_every_read() {
    let engine = MemoryOpener::default();
    for i in 0..BUDGET {
        let case = reads::case(5, i, DEFAULT_MAX_OPS, READERS);
        let run = run_concurrent(5, &case, "memory", &engine, None).unwrap();
        assert!(
            run.finding.is_none(),
            "case {i}: {:?}",
            run.finding.map(|f| f.describe())
        );
        assert!(run.counts.checked() > 0);
    }
}

/// A configuration with a known upstream race is replaced by its engine's default in the
/// concurrent phase, and the report says so; without the entry both are drawn.
#[test]
fn a_configuration_with_a_known_race_is_not_drawn() {
    use syncproof_engine::contract::Opener;
    use syncproof_gate::check::concurrent::run_phase;
    let (plain, racy) = (MemoryOpener::default(), MemoryOpener::default());
    let subjects = vec![vec![
        ("memory".to_string(), &plain as &dyn Opener),
        ("memory+racy".to_string(), &racy as &dyn Opener),
    ]];
    let mut o = syncproof_gate::Options {
        concurrent_cases: 12,
        ..Default::default()
    };
    o.known_races = vec![("memory+racy".into(), "a race".into())];
    let r = run_phase(&subjects, &o);
    assert_eq!(r.cases.get("memory"), Some(&12), "{:?}", r.cases);
    assert_eq!(
        r.not_drawn.get("memory+racy").map(String::as_str),
        Some("a race")
    );
    o.known_races.clear();
    let r = run_phase(&subjects, &o);
    assert!(
        r.cases.contains_key("memory+racy") && r.not_drawn.is_empty(),
        "{:?}",
        r.cases
    );
}
