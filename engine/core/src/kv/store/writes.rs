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
    /// The key is known not to be stored (not in the sync's [`Written`] set): nothing to read.
    absent: bool,
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

/// What the writer knows exactly about the sync it created in this handle: a fingerprint
/// (64-bit hash) of every primary key a put of this handle has planned into it. The sync's
/// record ranges were empty when it was created (checked then) and only the handle's writer
/// puts records into its current sync, so a key whose fingerprint is not in the set cannot
/// be stored: a put skips the read of the old record that index upkeep and if-newer would
/// otherwise make (in an LSM, a point read through every level). The set is exact on
/// negatives; a fingerprint that is there (the key was written, or a collision) means a read
/// as before. Past [`Written::MAX_KEYS`] keys it stops answering, so its memory stays bounded
/// (about 16 bytes a key).
#[derive(Debug, Default)]
pub(crate) struct Written {
    keys: std::collections::HashSet<u64, std::hash::BuildHasherDefault<Fingerprint>>,
    full: bool,
    /// A planted bug (`KvStore::plant_forgetful_written_keys`): keys are never recorded, so
    /// every key looks absent and a re-put skips its read.
    pub(crate) forgetful: bool,
}

/// The hasher of a set of fingerprints: they are hashes already.
#[derive(Default)]
pub(crate) struct Fingerprint(u64);

impl std::hash::Hasher for Fingerprint {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl Written {
    /// Keys past which the set stops answering (and stops growing).
    pub(crate) const MAX_KEYS: usize = 4 << 20;

    fn fingerprint(pk: &[u8]) -> u64 {
        use std::hash::{BuildHasher, BuildHasherDefault};
        BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(pk)
    }

    /// Whether `pk`, a primary key in the set's sync, is known to be absent.
    fn absent(&self, pk: &[u8]) -> bool {
        !self.full && !self.keys.contains(&Self::fingerprint(pk))
    }

    /// Records that `pk` may now be stored.
    fn insert(&mut self, pk: &[u8]) {
        if self.full || self.forgetful {
            return;
        }
        if self.keys.len() >= Self::MAX_KEYS {
            self.full = true;
            self.keys = Default::default();
            return;
        }
        self.keys.insert(Self::fingerprint(pk));
    }
}

/// Adds the writes of `records` under `mode` to `batch`, reading what it needs from `snap`:
/// within the batch later records win (replace) or compete with earlier ones (if-newer);
/// a written record replaces the stored one and its index entries. With the `written` set of
/// a sync created in this handle, keys it does not hold are known absent and not read, and
/// the batch's keys join it (before the batch is written: a key whose write failed counts as
/// possibly stored).
pub(crate) fn plan_put<T: KvRecord>(
    snap: &dyn KvSnapshot,
    sync: &str,
    records: &[T],
    mode: PutMode,
    batch: &mut WriteBatch,
    written: Option<&mut Written>,
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
                    let absent = written.as_deref().is_some_and(|w| w.absent(pk));
                    let current = match mode {
                        PutMode::IfNewer if !absent => stored_time(snap, pk.as_slice())?,
                        PutMode::IfNewer | PutMode::Replace => None,
                    };
                    e.insert(slots.len());
                    slots.push(Slot {
                        pk: i,
                        absent,
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
    if let Some(w) = written {
        pks.iter().for_each(|pk| w.insert(pk));
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
            let old = if slot.absent {
                None
            } else {
                get_record(snap, &pk)?
            };
            if let Some(old) = old {
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
    written: Option<&mut Written>,
) -> Result<()> {
    match records {
        RecordBatch::ResourceTypes(v) => plan_put(snap, sync, v, mode, batch, written),
        RecordBatch::Resources(v) => plan_put(snap, sync, v, mode, batch, written),
        RecordBatch::Entitlements(v) => plan_put(snap, sync, v, mode, batch, written),
        RecordBatch::Grants(v) => plan_put(snap, sync, v, mode, batch, written),
        RecordBatch::Assets(v) => plan_put(snap, sync, v, mode, batch, written),
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
            let mut fresh = self.fresh();
            let written = match &mut *fresh {
                Some((id, w)) if id == sync => Some(w),
                _ => None,
            };
            plan_batch(&snap, sync.as_str(), records, mode, &mut batch, written)?;
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
    plan_batch(
        &Empty,
        sync.as_str(),
        records,
        PutMode::Replace,
        &mut batch,
        None,
    )?;
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::contract::g;

    /// A snapshot of an empty store that counts its point reads.
    #[derive(Default)]
    struct Counting(Cell<usize>);

    impl KvSnapshot for Counting {
        fn get(&self, _: &[u8], _: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<bool> {
            self.0.set(self.0.get() + 1);
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

    fn put(snap: &Counting, ids: &[&str], mode: PutMode, f: Option<&mut Written>) -> usize {
        let before = snap.0.get();
        let grants: Vec<_> = ids.iter().map(|i| g(i)).collect();
        plan_put(snap, "s", &grants, mode, &mut WriteBatch::new(), f).unwrap();
        snap.0.get() - before
    }

    /// Keys the set does not hold are not read; a key written before is, in either mode;
    /// without a set every key is; a full set answers nothing.
    #[test]
    fn a_written_set_skips_exactly_the_reads_of_keys_never_written() {
        let snap = Counting::default();
        let mut w = Written::default();
        assert_eq!(put(&snap, &["b", "a"], PutMode::Replace, Some(&mut w)), 0);
        assert_eq!(put(&snap, &["d", "c"], PutMode::IfNewer, Some(&mut w)), 0);
        // "b" may be stored: read (if-newer reads its time, the index upkeep its record).
        assert_eq!(put(&snap, &["b", "e"], PutMode::Replace, Some(&mut w)), 1);
        assert_eq!(put(&snap, &["e"], PutMode::IfNewer, Some(&mut w)), 2);
        // Twice in one batch: one slot, one read decision.
        assert_eq!(
            put(&snap, &["z", "z", "a"], PutMode::Replace, Some(&mut w)),
            1
        );
        assert_eq!(put(&snap, &["z"], PutMode::Replace, Some(&mut w)), 1);
        assert_eq!(put(&snap, &["x", "y"], PutMode::Replace, None), 2);
        w.full = true;
        assert_eq!(put(&snap, &["q"], PutMode::Replace, Some(&mut w)), 1);
    }
}
