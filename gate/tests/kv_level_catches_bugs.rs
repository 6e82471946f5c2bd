//! Proof of power of the KV level: every KV bug class of the gate, injected into a correct
//! backend, is caught against the `BTreeMap` by the KV level's driver; a backend that loses
//! its data on reopen is caught too; and a correct backend passes.

// A test: a panic is a failure, so the workspace's no-panic lints do not apply.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::Path;

use syncproof_engine::contract::StoreDirs;
use syncproof_engine::kv::btree::SharedMap;
use syncproof_engine::kv::{BTreeBackend, DynBackend};
use syncproof_engine::Result;
use syncproof_gate::check::kv::check;
use syncproof_gate::faults::kv::KvBug;
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
