//! Record writes: replace and if-newer batches, grant deletes, and the index upkeep of both.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use super::{get_record, hex, KvStore};
use crate::codec::envelope;
use crate::error::{Error, Result};
use crate::kv::backend::{KvBackend, KvSnapshot, WriteBatch};
use crate::kv::layout::KvRecord;
use crate::record::{PutMode, Record, RecordBatch};
use crate::sync_run::SyncId;
use crate::time::Timestamp;

/// What a batch has decided for one primary key so far.
struct Slot<'r, T> {
    /// Index of the record (and of its primary key) that opened this slot.
    pk: usize,
    /// `discovered_at` of the state the next record competes with (stored, then batch).
    current: Option<Timestamp>,
    winner: Option<&'r T>,
}

/// Reads the `discovered_at` of a stored envelope from its header only.
fn stored_time(snap: &dyn KvSnapshot, key: &[u8]) -> Result<Option<Timestamp>> {
    let mut out = None;
    snap.get(key, &mut |v| {
        out = Some(
            envelope::peek_discovered_at(v)
                .map_err(|e| e.corruption(format!("record at key {}", hex(key))))?,
        );
        Ok(())
    })?;
    Ok(out)
}

/// Adds the writes of `records` under `mode` to `batch`, reading what it needs from `snap`:
/// within the batch later records win (replace) or compete with earlier ones (if-newer);
/// a written record replaces the stored one and its index entries.
pub(crate) fn plan_put<T: KvRecord>(
    snap: &dyn KvSnapshot,
    sync: &str,
    records: &[T],
    mode: PutMode,
    batch: &mut WriteBatch,
) -> Result<()> {
    // Each primary key is built once; the map borrows it, and the batch takes it at the end.
    let mut pks: Vec<Vec<u8>> = records.iter().map(|r| r.primary_key(sync)).collect();
    let mut slots: Vec<Slot<'_, T>> = Vec::with_capacity(records.len());
    {
        let mut slot_of: HashMap<&[u8], usize> = HashMap::with_capacity(records.len());
        for (i, (r, pk)) in records.iter().zip(&pks).enumerate() {
            let slot = match slot_of.entry(pk.as_slice()) {
                Entry::Occupied(e) => slots
                    .get_mut(*e.get())
                    .ok_or_else(|| Error::io("plan_put: a slot index out of range"))?,
                Entry::Vacant(e) => {
                    let current = match mode {
                        PutMode::IfNewer => stored_time(snap, pk.as_slice())?,
                        PutMode::Replace => None,
                    };
                    e.insert(slots.len());
                    slots.push(Slot {
                        pk: i,
                        current,
                        winner: None,
                    });
                    slots
                        .last_mut()
                        .ok_or_else(|| Error::io("plan_put: no slot after a push"))?
                }
            };
            let write = match mode {
                PutMode::Replace => true,
                PutMode::IfNewer => slot.current.is_none_or(|t| r.discovered_at() > t),
            };
            if write {
                slot.current = Some(r.discovered_at());
                slot.winner = Some(r);
            }
        }
    }
    let mut old_index = Vec::new();
    let mut new_index = Vec::new();
    for slot in &slots {
        let Some(winner) = slot.winner else {
            continue;
        };
        let pk = pks.get_mut(slot.pk).map(std::mem::take).unwrap_or_default();

        old_index.clear();
        new_index.clear();
        if T::INDEXED {
            if let Some(old) = get_record(snap, &pk)? {
                let old = T::from_record(old).ok_or_else(|| {
                    Error::corruption(format!("key {} holds another record kind", hex(&pk)))
                })?;
                old.index_keys(sync, &mut old_index);
            }
            winner.index_keys(sync, &mut new_index);
        }
        for k in old_index.drain(..) {
            if !new_index.contains(&k) {
                batch.delete(k);
            }
        }
        for k in new_index.drain(..) {
            batch.put(k, Vec::new());
        }
        let value = envelope::encode(winner.as_record_ref())
            .map_err(|e| Error::invalid_argument(format!("record {:?}: {e}", winner.key())))?;
        batch.put(pk, value);
    }
    Ok(())
}

/// Dispatches [`plan_put`] on the batch's record type.
pub(crate) fn plan_batch(
    snap: &dyn KvSnapshot,
    sync: &str,
    records: &RecordBatch,
    mode: PutMode,
    batch: &mut WriteBatch,
) -> Result<()> {
    match records {
        RecordBatch::ResourceTypes(v) => plan_put(snap, sync, v, mode, batch),
        RecordBatch::Resources(v) => plan_put(snap, sync, v, mode, batch),
        RecordBatch::Entitlements(v) => plan_put(snap, sync, v, mode, batch),
        RecordBatch::Grants(v) => plan_put(snap, sync, v, mode, batch),
        RecordBatch::Assets(v) => plan_put(snap, sync, v, mode, batch),
    }
}

impl<B: KvBackend> KvStore<B> {
    /// Writes a validated batch into `sync` as one atomic backend batch.
    pub(super) fn write_records(
        &self,
        sync: &SyncId,
        records: &RecordBatch,
        mode: PutMode,
    ) -> Result<()> {
        let mut batch = WriteBatch::new();
        {
            let snap = self.backend.snapshot()?;
            plan_batch(&snap, sync.as_str(), records, mode, &mut batch)?;
        }
        if batch.is_empty() {
            return Ok(());
        }
        self.backend.write(&batch)
    }

    /// Deletes a grant and its index entries from `sync`; whether it existed.
    pub(super) fn remove_grant(&self, sync: &SyncId, id: &str) -> Result<bool> {
        let pk = crate::kv::layout::primary_key_of(
            sync.as_str(),
            &crate::RecordKey::Grant(id.to_string()),
        );
        let old = {
            let snap = self.backend.snapshot()?;
            get_record(&snap, &pk)?
        };
        let Some(old) = old else { return Ok(false) };
        let Record::Grant(g) = old else {
            return Err(Error::corruption(format!(
                "key {} holds a {} record",
                hex(&pk),
                old.kind().name()
            )));
        };
        let mut batch = WriteBatch::new();
        let mut idx = Vec::new();
        g.index_keys(sync.as_str(), &mut idx);
        for k in idx {
            batch.delete(k);
        }
        batch.delete(pk);
        self.backend.write(&batch)?;
        Ok(true)
    }
}

/// A snapshot of an empty store.
struct Empty;

impl KvSnapshot for Empty {
    fn get(&self, _: &[u8], _: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<bool> {
        Ok(false)
    }
    fn scan(
        &self,
        _: &[u8],
        _: Option<&[u8]>,
        _: bool,
        _: crate::kv::ScanVisitor<'_>,
    ) -> Result<()> {
        Ok(())
    }
}

/// The exact keys and values `KvStore`'s [`put`](crate::StorageEngine::put) writes for `records` (mode `Replace`) into a
/// sync that holds none of them yet: primary keys with their envelopes and every index entry.
/// The benchmarks write these straight into a backend as the floor that shows the layer's own
/// overhead; it also shows the layout without opening a store.
pub fn fresh_writes(sync: &SyncId, records: &RecordBatch) -> Result<WriteBatch> {
    records.validate(usize::MAX)?;
    let mut batch = WriteBatch::new();
    plan_batch(&Empty, sync.as_str(), records, PutMode::Replace, &mut batch)?;
    Ok(batch)
}
