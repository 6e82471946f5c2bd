//! The KV level reaches the backends' structure: with fill runs, its cases delete and scan
//! ranges that span leaf pages, and mdbx's counters show branch pages (a B-tree more than one
//! page deep, which eleven short keys never make) and overflow pages (its 20,000-byte
//! values); and every configuration of a backend runs as a target of its own, so
//! `fjall+tiny-memtable` flushes tables and compacts, which fjall's defaults never do at
//! this size. A counter that never moves would be one of the summary's blind spots.

// A test: a panic is a failure, so the workspace's no-panic lints do not apply.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use syncproof_gate::check::kv::check;
use syncproof_gate::{Options, Progress};

#[test]
fn kv_cases_span_pages_and_reach_branch_pages_overflow_pages_and_flushes() {
    let repros = tempfile::tempdir().unwrap();
    let options = Options {
        cases: 60,
        seed: 7,
        max_ops: 30,
        progress: Progress::None,
        repro_dir: repros.path().to_path_buf(),
        ..Options::default()
    };
    let selected = syncproof_harness::engines::select(Some("mdbx,fjall")).unwrap();
    let targets = syncproof_harness::engines::kv_targets(&selected, None);
    let labels: Vec<&str> = targets.iter().map(|t| t.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "mdbx",
            "mdbx+small-growth",
            "mdbx+per-commit",
            "fjall",
            "fjall+tiny-memtable",
            "fjall+per-commit"
        ]
    );
    let report = check(&options, &targets);
    assert!(report.passed(), "{}", report.summary());
    for kind in ["range_delete_past_pages", "scan_past_pages"] {
        assert!(
            report.reach.get(kind).is_some_and(|n| *n > 0),
            "{kind}: {}",
            report.summary()
        );
    }
    let happened = |engine: &str, counter: &str| {
        report
            .structure
            .iter()
            .find(|e| e.engine == engine && e.counter == counter)
            .map_or(0, |e| e.cases)
    };
    for (engine, counter) in [
        ("mdbx", "branch_pages"),
        ("mdbx", "overflow_pages"),
        ("fjall+tiny-memtable", "tables"),
        ("fjall+tiny-memtable", "compactions"),
    ] {
        assert!(
            happened(engine, counter) > 0,
            "{engine} {counter}: {}",
            report.summary()
        );
    }
    // fjall's defaults: a 64 MiB memtable that no case fills.
    assert_eq!(happened("fjall", "tables"), 0, "{}", report.summary());
}
