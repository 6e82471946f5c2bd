//! `KvStore` over the `BTreeMap` backend against every contract check: the key-value layer's
//! logic, separated from any real backend's behaviour.

// A test: a panic is a failure, so the workspace's no-panic lints do not apply.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

#[test]
fn kv_store_over_btree_honours_the_contract() {
    syncproof_engine::contract::assert_passes(&syncproof_engine::kv::BTreeOpener::default());
}

/// `fresh_writes` (the benchmarks' raw floor) is exactly what `KvStore::put` writes into an
/// empty sync: the same keys and the same values, index entries included.
#[test]
fn fresh_writes_are_what_put_writes() {
    use syncproof_engine::codec::key::{decode_key, KeyKind};
    use syncproof_engine::contract::{child, grant};
    use syncproof_engine::kv::{fresh_writes, BTreeBackend, KvStore};
    use syncproof_engine::*;

    let map = BTreeBackend::new();
    let s = KvStore::new(map.clone(), EngineConfig::default());
    let (id, _) = s.start_sync().unwrap();
    let batches = [
        RecordBatch::Grants(vec![
            grant("g1", "e", "group", "eng", "user", "alice"),
            grant("g2", "e", "group", "eng", "user", "bob"),
        ]),
        RecordBatch::Resources(vec![child("user", "alice", "org", "acme")]),
    ];
    let mut expected = std::collections::BTreeMap::new();
    for b in &batches {
        s.put(b, PutMode::Replace).unwrap();
        for (k, v) in fresh_writes(&id, b).unwrap().ops() {
            expected.insert(k.to_vec(), v.expect("fresh writes only put").to_vec());
        }
    }
    let written: std::collections::BTreeMap<_, _> = map
        .map()
        .read()
        .unwrap()
        .iter()
        .filter(|(k, _)| {
            let kind = decode_key(k).unwrap().kind;
            kind != KeyKind::SyncRun && kind != KeyKind::SyncRunByStart
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(written.len(), 3 + 2 * 5 + 1);
    assert_eq!(written, expected);
}

/// A put skips its read of the old record only for a key the sync cannot hold: a store whose
/// set of written keys forgets them (a planted bug) leaves stale index entries and writes
/// older records over newer ones, and the contract checks of both rules catch it.
#[test]
fn a_written_key_set_that_forgets_is_caught_by_the_stale_index_and_if_newer_checks() {
    use syncproof_engine::contract::{run_named, Opener};
    use syncproof_engine::kv::{BTreeBackend, KvStore};

    struct Forgetful;
    impl Opener for Forgetful {
        fn name(&self) -> &str {
            "kv-btree+forgetful-written-keys"
        }
        fn open(
            &self,
            _: &std::path::Path,
            config: syncproof_engine::EngineConfig,
        ) -> syncproof_engine::Result<Box<dyn syncproof_engine::StorageEngine>> {
            let store = KvStore::new(BTreeBackend::new(), config);
            store.plant_forgetful_written_keys();
            Ok(Box::new(store))
        }
    }
    for check in [
        "put_replaces_everything",
        "if_newer_rules",
        "import_later_batch_wins",
    ] {
        assert!(
            run_named(&Forgetful, check).is_err(),
            "{check} must fail on a store that forgets the keys it wrote"
        );
        assert!(
            run_named(&syncproof_engine::kv::BTreeOpener::default(), check).is_ok(),
            "{check} passes on the correct store"
        );
    }
}
