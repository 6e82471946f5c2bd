//! The two diff bug classes sit in the diff itself (issue 12 item 15): every read of a diff
//! sync — get, list, stats, export — sees what the broken diff wrote, so the checks that read
//! diff syncs catch them, not only the export the runner observes a diff through. (They used
//! to be injected in `export_sync` alone: get, list and stats of the diff syncs were right.)

// A test: a panic is a failure, so the workspace's no-panic lints do not apply.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;

use syncproof_engine::contract::{g, list_all, Opener};
use syncproof_engine::sync_run::SeededIds;
use syncproof_engine::time::{ManualClock, Timestamp};
use syncproof_engine::*;
use syncproof_gate::faults::{Bug, FaultyOpener};
use syncproof_memory::MemoryOpener;

/// Two full syncs (grants a, b; then a modified and c) and their diff, on a fresh store.
fn diffed(opener: &dyn Opener, dir: &std::path::Path) -> (Box<dyn StorageEngine>, SyncId, SyncId) {
    let clock = ManualClock::new(Timestamp(1_000));
    let config = EngineConfig {
        clock: Arc::new(clock.clone()),
        ids: Arc::new(SeededIds::new(7)),
        ..EngineConfig::default()
    };
    let e = opener.open(dir, config).unwrap();
    let base = e.start_sync().unwrap().0;
    e.put(&RecordBatch::Grants(vec![g("a"), g("b")]), PutMode::Replace)
        .unwrap();
    e.end_sync().unwrap();
    clock.advance(10);
    let applied = e.start_new_sync(SyncType::Full, None).unwrap();
    let mut a = g("a");
    a.sources = vec!["changed".into()];
    e.put(&RecordBatch::Grants(vec![a, g("c")]), PutMode::Replace)
        .unwrap();
    e.end_sync().unwrap();
    let (up, del) = e.generate_sync_diff(&base, &applied).unwrap();
    (e, up, del)
}

/// What every read of `sync` says: the grants listed, `get` of each of `keys`, stats, and
/// the exported records.
fn reads(e: &dyn StorageEngine, sync: &SyncId, keys: &[&str]) -> String {
    let listed = list_all(e, Some(sync), &ListQuery::Grants(GrantFilter::All), 1).unwrap();
    let got: Vec<_> = keys
        .iter()
        .map(|k| e.get(Some(sync), &RecordKey::Grant(k.to_string())).unwrap())
        .collect();
    let mut exported = Vec::new();
    e.export_sync(sync, &mut |b| {
        exported.extend(b.to_records());
        Ok(())
    })
    .unwrap();
    format!(
        "list {:?}\nget {got:?}\nstats {:?}\nexport {exported:?}",
        listed,
        e.stats(Some(sync)).unwrap()
    )
}

#[test]
fn every_read_of_the_diff_syncs_sees_the_broken_diff() {
    let tmp = tempfile::tempdir().unwrap();
    let oracle = MemoryOpener::default();
    let (want, want_up, want_del) = diffed(&oracle, &tmp.path().join("oracle"));
    for (bug, deletions) in [
        (Bug::DiffMissesDeletions, true),
        (Bug::DiffAdditionsOnly, false),
    ] {
        let faulty = FaultyOpener::new(Box::new(MemoryOpener::default()), bug);
        let (got, up, del) = diffed(&faulty, &tmp.path().join(bug.name()));
        assert_eq!((&up, &del), (&want_up, &want_del), "same diff sync ids");
        let (sync, keys): (&SyncId, &[&str]) = if deletions {
            (&del, &["b"])
        } else {
            (&up, &["a"])
        };
        let (w, gt) = (
            reads(want.as_ref(), sync, keys),
            reads(got.as_ref(), sync, keys),
        );
        for (line_w, line_g) in w.lines().zip(gt.lines()) {
            let what = line_w.split(' ').next().unwrap_or("");
            assert_ne!(
                line_w, line_g,
                "{bug:?}: `{what}` of the diff sync does not see the bug"
            );
        }
        // The other diff sync is untouched.
        let other = if deletions { &up } else { &del };
        assert_eq!(
            reads(want.as_ref(), other, &["a", "b", "c"]),
            reads(got.as_ref(), other, &["a", "b", "c"]),
            "{bug:?}"
        );
    }
    // Without a bug, the wrapper reads the diff syncs as the oracle does.
    let clean = FaultyOpener::transparent(Box::new(MemoryOpener::default()));
    let (got, up, del) = diffed(&clean, &tmp.path().join("clean"));
    for s in [&up, &del] {
        assert_eq!(
            reads(want.as_ref(), s, &["a", "b", "c"]),
            reads(got.as_ref(), s, &["a", "b", "c"])
        );
    }
}
