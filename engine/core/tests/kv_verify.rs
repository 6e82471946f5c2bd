//! `KvStore::verify` passes a consistent store and reports each kind of damage.

// A test: a panic is a failure, so the workspace's no-panic lints do not apply.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use syncproof_engine::codec::key::{KeyBuilder, KeyKind};
use syncproof_engine::contract::{child, grant};
use syncproof_engine::kv::{BTreeBackend, KvBackend, KvSnapshot, KvStore, WriteBatch};
use syncproof_engine::*;

fn store() -> (KvStore<BTreeBackend>, SyncId) {
    let s = KvStore::new(BTreeBackend::new(), EngineConfig::default());
    let (id, _) = s.start_sync().unwrap();
    s.put(
        &RecordBatch::Grants(vec![grant("g1", "e", "group", "eng", "user", "alice")]),
        PutMode::Replace,
    )
    .unwrap();
    s.put(
        &RecordBatch::Resources(vec![child("user", "alice", "org", "acme")]),
        PutMode::Replace,
    )
    .unwrap();
    s.end_sync().unwrap();
    (s, id)
}

fn problems(s: &KvStore<BTreeBackend>) -> Vec<String> {
    s.verify().unwrap().problems
}

#[test]
fn a_consistent_store_verifies() {
    let (s, _) = store();
    let r = s.verify().unwrap();
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!((r.records, r.index_entries, r.sync_runs), (2, 7, 1));
}

#[test]
fn a_missing_index_entry_is_reported() {
    let (s, id) = store();
    let mut b = WriteBatch::new();
    b.delete(
        KeyBuilder::new(KeyKind::GrantByPrincipal)
            .str(id.as_str())
            .str("user")
            .str("alice")
            .str("g1")
            .finish(),
    );
    s.backend().write(&b).unwrap();
    assert!(
        problems(&s)
            .iter()
            .any(|p| p.contains("missing index entry")),
        "{:?}",
        problems(&s)
    );
}

#[test]
fn a_stray_index_entry_is_reported() {
    let (s, id) = store();
    let mut b = WriteBatch::new();
    b.put(
        KeyBuilder::new(KeyKind::GrantByPrincipal)
            .str(id.as_str())
            .str("user")
            .str("bob")
            .str("g1")
            .finish(),
        vec![],
    );
    s.backend().write(&b).unwrap();
    assert!(
        problems(&s)
            .iter()
            .any(|p| p.contains("points to no record")),
        "{:?}",
        problems(&s)
    );
}

#[test]
fn a_flipped_byte_is_reported() {
    let (s, id) = store();
    let key = KeyBuilder::new(KeyKind::Grant)
        .str(id.as_str())
        .str("g1")
        .finish();
    let mut value = Vec::new();
    s.backend()
        .snapshot()
        .unwrap()
        .get(&key, &mut |v| {
            value = v.to_vec();
            Ok(())
        })
        .unwrap();
    let last = value.len() - 1;
    value[last] ^= 0x40;
    let mut b = WriteBatch::new();
    b.put(key, value);
    s.backend().write(&b).unwrap();
    assert!(
        problems(&s).iter().any(|p| p.contains("checksum")),
        "{:?}",
        problems(&s)
    );
}

#[test]
fn keys_of_a_sync_without_a_run_are_reported() {
    let (s, id) = store();
    let mut b = WriteBatch::new();
    b.delete(KeyBuilder::new(KeyKind::SyncRun).str(id.as_str()).finish());
    s.backend().write(&b).unwrap();
    assert!(
        problems(&s).iter().any(|p| p.contains("no sync run")),
        "{:?}",
        problems(&s)
    );
}
