//! Integrity check of a `KvStore` at rest: every envelope passes its checksum and decodes, every
//! record has exactly the index entries its fields produce, every index entry points to a
//! record that produces it, every sync-run index entry matches its run, and every key of a sync
//! belongs to a sync run that exists.

use std::collections::BTreeSet;

use super::{hex, read_run, KvStore};
use crate::codec::envelope;
use crate::codec::key::{decode_key, KeyKind, OwnedPart};
use crate::engine::VerifyReport;
use crate::error::Result;
use crate::kv::backend::{KvBackend, KvSnapshot};
use crate::kv::layout::KvRecord;
use crate::record::Record;
use crate::sync_run::SyncId;

fn expected_indexes(record: &Record, sync: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    match record {
        Record::ResourceType(r) => r.index_keys(sync, &mut out),
        Record::Resource(r) => r.index_keys(sync, &mut out),
        Record::Entitlement(r) => r.index_keys(sync, &mut out),
        Record::Grant(r) => r.index_keys(sync, &mut out),
        Record::Asset(r) => r.index_keys(sync, &mut out),
    }
    out
}

fn primary_key(record: &Record, sync: &str) -> Vec<u8> {
    match record {
        Record::ResourceType(r) => r.primary_key(sync),
        Record::Resource(r) => r.primary_key(sync),
        Record::Entitlement(r) => r.primary_key(sync),
        Record::Grant(r) => r.primary_key(sync),
        Record::Asset(r) => r.primary_key(sync),
    }
}

impl<B: KvBackend> KvStore<B> {
    /// Checks the whole store from one snapshot (see the module docs).
    pub fn verify_store(&self) -> Result<VerifyReport> {
        let snap = self.backend.snapshot()?;
        let mut report = VerifyReport::default();
        let mut expected_index: BTreeSet<Vec<u8>> = BTreeSet::new();
        let mut seen_index: Vec<Vec<u8>> = Vec::new();
        let mut syncs_with_keys: BTreeSet<String> = BTreeSet::new();
        let mut runs: BTreeSet<String> = BTreeSet::new();
        let mut pending: BTreeSet<String> = BTreeSet::new();
        let mut problems = Vec::new();
        snap.scan(&[], None, false, &mut |key, value| {
            report.keys += 1;
            let decoded = match decode_key(key) {
                Ok(d) => d,
                Err(e) => {
                    problems.push(format!("key {}: undecodable: {e}", hex(key)));
                    return Ok(true);
                }
            };
            let first = match decoded.parts.first() {
                Some(OwnedPart::Str(s)) => s.clone(),
                _ => String::new(),
            };
            match decoded.kind {
                KeyKind::SyncRun => {
                    report.sync_runs += 1;
                    match envelope::decode_sync_run(value) {
                        Ok(run) if run.id.0 == first => {
                            runs.insert(first);
                            let start = crate::codec::key::KeyBuilder::new(KeyKind::SyncRunByStart)
                                .i64(run.started_at.0)
                                .str(run.id.as_str())
                                .finish();
                            expected_index.insert(start);
                        }
                        Ok(run) => {
                            problems.push(format!("sync run key {} holds run {}", hex(key), run.id))
                        }
                        Err(e) => problems.push(format!("sync run {first}: {e}")),
                    }
                }
                KeyKind::SyncRunByStart => seen_index.push(key.to_vec()),
                // A diff or an import writing this sync now (the open that follows a crash
                // removes a stale one): its keys are not a lost run's.
                KeyKind::PendingSync => {
                    pending.insert(first);
                }
                kind if kind.schema().len() >= 2
                    && matches!(
                        kind,
                        KeyKind::ResourceType
                            | KeyKind::Resource
                            | KeyKind::Entitlement
                            | KeyKind::Grant
                            | KeyKind::Asset
                    ) =>
                {
                    report.records += 1;
                    syncs_with_keys.insert(first.clone());
                    match envelope::decode_record(value) {
                        Ok(record) => {
                            if primary_key(&record, &first) != key {
                                problems.push(format!(
                                    "record at key {} belongs under another key",
                                    hex(key)
                                ));
                            }
                            expected_index.extend(expected_indexes(&record, &first));
                        }
                        Err(e) => problems.push(format!("record at key {}: {e}", hex(key))),
                    }
                }
                _ => {
                    syncs_with_keys.insert(first);
                    if !value.is_empty() {
                        problems.push(format!("index entry {} has a value", hex(key)));
                    }
                    seen_index.push(key.to_vec());
                }
            }
            Ok(true)
        })?;
        report.index_entries = seen_index.len() as u64;
        for k in &seen_index {
            if !expected_index.remove(k) {
                problems.push(format!(
                    "index entry {} points to no record that produces it",
                    hex(k)
                ));
            }
        }
        for k in expected_index {
            problems.push(format!("missing index entry {}", hex(&k)));
        }
        for s in syncs_with_keys
            .difference(&runs)
            .filter(|s| !pending.contains(*s))
        {
            // Keys of a sync without a run: an interrupted import or diff, or corruption.
            if read_run(&snap, &SyncId(s.clone()))?.is_none() {
                problems.push(format!("keys of sync {s:?} but no sync run"));
            }
        }
        report.problems = problems;
        Ok(report)
    }
}
