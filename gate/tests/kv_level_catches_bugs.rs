//! Proof of power of the KV level: every KV bug class of the gate, injected into a correct
//! backend, is caught against the `BTreeMap` by the KV level's driver; a backend that loses
//! its data on reopen is caught too; a correct backend passes; and a range delete that stops
//! at a page is caught only by cases with fills.

// A test: a panic is a failure, so the workspace's no-panic lints do not apply.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::Path;

use syncproof_engine::contract::StoreDirs;
use syncproof_engine::kv::btree::SharedMap;
use syncproof_engine::kv::{BTreeBackend, DynBackend};
use syncproof_engine::Result;
use syncproof_gate::check::kv::check;
use syncproof_gate::faults::kv::{KvBug, RANGE_DELETE_STOP};
use syncproof_gate::model::kv::{case, KvOp, KvWrite};
use syncproof_gate::run::kv::{KvOpen, KvTarget};
use syncproof_gate::{Options, Progress};

/// The maps of the test backend's stores, by directory.
static MAPS: StoreDirs<SharedMap> = StoreDirs::new();

/// A correct persistent-looking backend: one shared map per directory.
fn open_btree(dir: &Path) -> Result<Box<dyn DynBackend>> {
    Ok(Box::new(BTreeBackend::on(MAPS.open(dir).0)))
}

/// A backend that loses everything on reopen.
fn open_forgetful(dir: &Path) -> Result<Box<dyn DynBackend>> {
    MAPS.forget(dir);
    open_btree(dir)
}

fn run(
    open: KvOpen,
    bug: Option<KvBug>,
    repros: &Path,
) -> syncproof_gate::check::report::Report<syncproof_gate::run::kv::KvRepro> {
    let options = Options {
        cases: 300,
        seed: 9,
        max_ops: 30,
        progress: Progress::None,
        repro_dir: repros.to_path_buf(),
        ..Options::default()
    };
    check(
        &options,
        &[KvTarget {
            label: "btree".into(),
            open,
            bug,
        }],
    )
}

#[test]
fn kv_level_catches_broken_backends() {
    let repros = tempfile::tempdir().unwrap();
    let clean = run(open_btree, None, repros.path());
    assert!(
        clean.passed(),
        "a correct backend must pass:\n{}",
        clean.summary()
    );
    assert_eq!(clean.cases_run, 300);
    let mut missed = Vec::new();
    for bug in KvBug::all() {
        let r = run(open_btree, Some(bug), repros.path());
        match &r.failure {
            Some(f) => {
                eprintln!(
                    "{}: caught in case {}, {} steps",
                    bug.name(),
                    f.case,
                    f.repro.ops.len()
                );
                assert!(
                    f.repro_path.as_ref().is_some_and(|p| p.is_file()),
                    "repro written"
                );
                assert!(!r.passed());
            }
            None => missed.push(bug.name()),
        }
    }
    let forgetful = run(open_forgetful, None, repros.path());
    if forgetful.failure.is_none() {
        missed.push("reopen loses data");
    }
    assert!(missed.is_empty(), "KV level missed: {missed:?}");
}

/// The cases of seed 9 as the KV level generates them, and the same cases without their
/// fills (the KV level before fills: eleven keys and whatever the case put one by one).
fn cases_with_and_without_fills(n: u64) -> (Vec<Vec<KvOp>>, Vec<Vec<KvOp>>) {
    let with: Vec<Vec<KvOp>> = (0..n).map(|i| case(9, i, 30)).collect();
    let without = with
        .iter()
        .map(|ops| {
            ops.iter()
                .map(|op| match op {
                    KvOp::Write(w) => KvOp::Write(
                        w.iter()
                            .filter(|w| !matches!(w, KvWrite::Fill { .. }))
                            .cloned()
                            .collect(),
                    ),
                    other => other.clone(),
                })
                .collect()
        })
        .collect();
    (with, without)
}

/// A range delete that stops after 256 keys (a loop that does not come back past a page) is
/// invisible to cases of a few short keys: no range ever holds 256. With fills, whose runs
/// span pages, the KV level finds it within the cases the test above runs, and shrinks the
/// fill to empty values and the fewest keys that still fail.
#[test]
fn only_fills_reveal_a_range_delete_that_stops_at_a_page() {
    let target = [KvTarget {
        label: "btree".into(),
        open: open_btree,
        bug: Some(KvBug::RangeDeleteStopsShort),
    }];
    let (with, without) = cases_with_and_without_fills(300);
    let first_found = |cases: &[Vec<KvOp>]| {
        cases.iter().position(|ops| {
            syncproof_gate::run::kv::run(ops, &target, None)
                .unwrap()
                .finding
                .is_some()
        })
    };
    assert_eq!(first_found(&without), None, "no fill, no range of 256 keys");
    let found = first_found(&with);
    assert!(found.is_some(), "fills must reveal it within 300 cases");
    eprintln!("RangeDeleteStopsShort: first found in case {found:?} with fills");
    // The shrunk repro's fill is as small as the failure allows: empty values, and one key
    // fewer passes.
    let repros = tempfile::tempdir().unwrap();
    let report = run(
        open_btree,
        Some(KvBug::RangeDeleteStopsShort),
        repros.path(),
    );
    let f = report.failure.as_ref().expect("caught");
    let ops = &f.repro.ops;
    let fills: Vec<(usize, usize, u16, u16)> = ops
        .iter()
        .enumerate()
        .flat_map(|(i, op)| match op {
            KvOp::Write(w) => w
                .iter()
                .enumerate()
                .filter_map(|(j, w)| match w {
                    KvWrite::Fill {
                        count, value_len, ..
                    } => Some((i, j, *count, *value_len)),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        })
        .collect();
    let [(i, j, count, value_len)] = fills[..] else {
        panic!("one fill expected: {}", report.summary());
    };
    assert_eq!(value_len, 0, "{}", report.summary());
    assert!(
        usize::from(count) > RANGE_DELETE_STOP,
        "{}",
        report.summary()
    );
    let fails = |ops: &[KvOp]| {
        syncproof_gate::run::kv::run(ops, &target, None)
            .unwrap()
            .finding
            .is_some()
    };
    let mut fewer = ops.clone();
    if let KvOp::Write(w) = &mut fewer[i] {
        if let KvWrite::Fill { count: c, .. } = &mut w[j] {
            *c -= 1;
        }
    }
    assert!(fails(ops), "the repro fails");
    assert!(!fails(&fewer), "one key fewer passes: {}", report.summary());
    eprintln!("RangeDeleteStopsShort: shrunk to a fill of {count} keys");
}
