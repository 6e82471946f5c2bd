//! Cleanup, diff, export and import: the whole-sync operations, streamed in chunks.

use super::{
    after, all_runs, decode_record_at, hex, not_found, put_run, read_run, KvStore, Stored,
};
use crate::codec::envelope;
use crate::codec::key::{prefix_successor, KeyBuilder, KeyKind};
use crate::engine::SyncImport;
use crate::error::{Error, Result};
use crate::kv::backend::{KvBackend, KvSnapshot, WriteBatch};
use crate::kv::layout::{primary_kind, sync_scoped_kinds, KvRecord};
use crate::kv::store::writes::plan_batch;
use crate::record::{PutMode, Record, RecordBatch, RecordKind, RecordType};
use crate::sync_run::{validate_sync_id, SyncId, SyncRun, SyncType};

/// Records copied per batch by diff and import.
const CHUNK: usize = 1_000;

/// Reads the next chunk of the entries under `prefix` from a fresh snapshot: up to `limit`
/// entries after `cursor` (from the prefix's start when it is `None`), each handed to
/// `visit`. Returns how many were read; when that is `limit`, `cursor` moves to the last key
/// read, and fewer means the prefix is used up. The snapshot is dropped on return, so what the
/// caller does with a chunk holds none open.
fn next_chunk<B: KvBackend>(
    backend: &B,
    prefix: &[u8],
    cursor: &mut Option<Vec<u8>>,
    limit: usize,
    visit: &mut Stored<'_>,
) -> Result<usize> {
    let snap = backend.snapshot()?;
    let start = cursor.as_deref().map_or_else(|| prefix.to_vec(), after);
    let end = prefix_successor(prefix);
    let mut n = 0;
    snap.scan(&start, end.as_deref(), false, &mut |key, value| {
        visit(key, value)?;
        n += 1;
        if n == limit {
            *cursor = Some(key.to_vec());
        }
        Ok(n < limit)
    })?;
    Ok(n)
}

/// Range deletes that remove every key of `sync` (records, indexes and its run).
fn delete_sync(batch: &mut WriteBatch, run: &SyncRun) {
    for kind in sync_scoped_kinds() {
        let prefix = KeyBuilder::new(kind).str(run.id.as_str()).finish();
        if let Some(end) = prefix_successor(&prefix) {
            batch.delete_range(prefix, end);
        }
    }
    batch.delete(
        KeyBuilder::new(KeyKind::SyncRun)
            .str(run.id.as_str())
            .finish(),
    );
    batch.delete(
        KeyBuilder::new(KeyKind::SyncRunByStart)
            .i64(run.started_at.0)
            .str(run.id.as_str())
            .finish(),
    );
}

/// The marker of a sync being written by a diff or an import ([`KeyKind::PendingSync`]).
fn pending_key(id: &SyncId) -> Vec<u8> {
    KeyBuilder::new(KeyKind::PendingSync)
        .str(id.as_str())
        .finish()
}

fn finished_run(snap: &dyn KvSnapshot, id: &SyncId, call: &str) -> Result<SyncRun> {
    let run = read_run(snap, id)?.ok_or_else(|| not_found(id).context(call))?;
    if run.ended_at.is_none() {
        return Err(Error::failed_precondition(format!(
            "{call}: sync {id} is not finished"
        )));
    }
    Ok(run)
}

/// Adds a copy of `record` (stored as `value`) to `batch` under `target`, with its indexes.
fn copy_record(batch: &mut WriteBatch, target: &str, record: &Record, value: &[u8]) {
    fn with_indexes<T: KvRecord>(batch: &mut WriteBatch, target: &str, r: &T, value: &[u8]) {
        let mut idx = Vec::new();
        r.index_keys(target, &mut idx);
        for k in idx {
            batch.put(k, Vec::new());
        }
        batch.put(r.primary_key(target), value.to_vec());
    }
    match record {
        Record::ResourceType(r) => with_indexes(batch, target, r, value),
        Record::Resource(r) => with_indexes(batch, target, r, value),
        Record::Entitlement(r) => with_indexes(batch, target, r, value),
        Record::Grant(r) => with_indexes(batch, target, r, value),
        Record::Asset(r) => with_indexes(batch, target, r, value),
    }
}

fn same_content(a: &Record, b: &Record) -> bool {
    match (a, b) {
        (Record::ResourceType(a), Record::ResourceType(b)) => a.same_content(b),
        (Record::Resource(a), Record::Resource(b)) => a.same_content(b),
        (Record::Entitlement(a), Record::Entitlement(b)) => a.same_content(b),
        (Record::Grant(a), Record::Grant(b)) => a.same_content(b),
        (Record::Asset(a), Record::Asset(b)) => a.same_content(b),
        _ => false,
    }
}

/// The entries of one sync's records of one kind, in key order, read [`CHUNK`] at a time
/// from a fresh snapshot each. A chunk's keys and values are copied end to end into one
/// buffer that every chunk reuses (not a pair of vectors per entry: the diff's merge reads
/// every record of two syncs, and those allocations were a fifth of its time).
struct Chunks<'a, B> {
    backend: &'a B,
    prefix: Vec<u8>,
    /// The chunk's keys and values, end to end.
    bytes: Vec<u8>,
    /// Per entry of the chunk: where its key ends and where its value ends in `bytes`.
    ends: Vec<(usize, usize)>,
    /// The entry [`Chunks::peek`] sees.
    next: usize,
    /// Where the next chunk starts ([`next_chunk`]).
    cursor: Option<Vec<u8>>,
    done: bool,
}

/// Entry `i` of a chunk laid out as [`Chunks`] holds it.
fn entry<'b>(bytes: &'b [u8], ends: &[(usize, usize)], i: usize) -> Option<(&'b [u8], &'b [u8])> {
    let start = match i.checked_sub(1) {
        Some(prev) => ends.get(prev)?.1,
        None => 0,
    };
    let &(key_end, value_end) = ends.get(i)?;
    Some((bytes.get(start..key_end)?, bytes.get(key_end..value_end)?))
}

impl<'a, B: KvBackend> Chunks<'a, B> {
    fn new(backend: &'a B, pk: KeyKind, sync: &SyncId) -> Self {
        Chunks {
            backend,
            prefix: KeyBuilder::new(pk).str(sync.as_str()).finish(),
            bytes: Vec::new(),
            ends: Vec::new(),
            next: 0,
            cursor: None,
            done: false,
        }
    }

    /// Reads the next chunk in place of the used-up one.
    fn fill(&mut self) -> Result<()> {
        self.bytes.clear();
        self.ends.clear();
        self.next = 0;
        let (bytes, ends) = (&mut self.bytes, &mut self.ends);
        let n = next_chunk(
            self.backend,
            &self.prefix,
            &mut self.cursor,
            CHUNK,
            &mut |k, v| {
                bytes.extend_from_slice(k);
                let key_end = bytes.len();
                bytes.extend_from_slice(v);
                ends.push((key_end, bytes.len()));
                Ok(())
            },
        )?;
        self.done = n < CHUNK;
        Ok(())
    }

    /// The next entry's key after the sync's prefix (the same for one record in any two
    /// syncs), reading the next chunk when this one is used up.
    fn peek(&mut self) -> Result<Option<&[u8]>> {
        if self.next >= self.ends.len() && !self.done {
            self.fill()?;
        }
        let n = self.prefix.len();
        Ok(entry(&self.bytes, &self.ends, self.next).map(|(k, _)| k.get(n..).unwrap_or_default()))
    }

    /// Takes the entry (key, value) [`Chunks::peek`] saw (only called after it returned one).
    fn pop(&mut self) -> (&[u8], &[u8]) {
        let i = self.next;
        self.next += 1;
        entry(&self.bytes, &self.ends, i).unwrap_or_default()
    }
}

impl<B: KvBackend> KvStore<B> {
    pub(super) fn cleanup_syncs(&self, keep: usize) -> Result<Vec<SyncId>> {
        if keep == 0 {
            return Err(Error::invalid_argument("cleanup: keep must be at least 1"));
        }
        let handle = self.handle();
        let runs = {
            let snap = self.backend.snapshot()?;
            all_runs(&snap)?
        };
        let mut fulls: Vec<&SyncRun> = runs
            .iter()
            .filter(|r| r.sync_type == SyncType::Full && r.ended_at.is_some())
            .collect();
        fulls.sort_by(|a, b| (b.ended_at, &b.id).cmp(&(a.ended_at, &a.id)));
        let oldest_kept_start = fulls.iter().take(keep).next_back().map(|r| r.started_at);
        let spared = |r: &SyncRun| {
            handle.current.as_ref() == Some(&r.id) || handle.viewed.as_ref() == Some(&r.id)
        };
        let mut doomed: Vec<&SyncRun> = fulls
            .iter()
            .skip(keep)
            .copied()
            .filter(|r| !spared(r))
            .collect();
        if let Some(start) = oldest_kept_start {
            doomed.extend(runs.iter().filter(|r| {
                r.sync_type != SyncType::Full && r.ended_at.is_some_and(|e| e < start) && !spared(r)
            }));
        }
        doomed.sort_by(|a, b| (a.started_at, &a.id).cmp(&(b.started_at, &b.id)));
        if doomed.is_empty() {
            return Ok(Vec::new());
        }
        let mut batch = WriteBatch::new();
        for r in &doomed {
            delete_sync(&mut batch, r);
        }
        self.write_runs(&batch)?;
        self.backend.reclaim()?;
        Ok(doomed.into_iter().map(|r| r.id.clone()).collect())
    }

    pub(super) fn diff(&self, base: &SyncId, applied: &SyncId) -> Result<(SyncId, SyncId)> {
        validate_sync_id(base)?;
        validate_sync_id(applied)?;
        let _writer = self.handle();
        let (now, up, del) = {
            let snap = self.backend.snapshot()?;
            finished_run(&snap, base, "generate_sync_diff")?;
            finished_run(&snap, applied, "generate_sync_diff")?;
            let now = self.config.clock.now();
            let up = self.mint(&snap, now)?;
            let del = self.config.ids.next_id(now);
            validate_sync_id(&del)
                .map_err(|e| e.context("the id source returned an invalid sync id"))?;
            if del == up || read_run(&snap, &del)?.is_some() {
                return Err(Error::already_exists(format!(
                    "id source returned existing sync id {del}"
                )));
            }
            (now, up, del)
        };
        let runs: Vec<SyncRun> = [
            (&up, SyncType::PartialUpserts),
            (&del, SyncType::PartialDeletions),
        ]
        .into_iter()
        .map(|(id, t)| SyncRun {
            id: id.clone(),
            sync_type: t,
            parent: Some(base.clone()),
            started_at: now,
            ended_at: Some(now),
            token: String::new(),
        })
        .collect();
        let copied = (|| -> Result<()> {
            // Marked pending first: a crash before the runs exist leaves keys that the next
            // open removes, not keys of no sync.
            let mut mark = WriteBatch::new();
            for run in &runs {
                mark.put(pending_key(&run.id), Vec::new());
            }
            self.backend.write(&mark)?;
            for kind in RecordKind::ALL {
                self.diff_kind(primary_kind(kind), base, applied, &up, &del)?;
            }
            // The runs go last, with the pending marks gone in the same batch: until they
            // exist, neither sync is visible.
            let mut batch = WriteBatch::new();
            for run in &runs {
                put_run(&mut batch, run)?;
                batch.delete(pending_key(&run.id));
            }
            self.write_runs(&batch)
        })();
        if let Err(e) = copied {
            let mut batch = WriteBatch::new();
            runs.iter().for_each(|r| delete_sync(&mut batch, r));
            let _ = self.write_runs(&batch);
            return Err(e);
        }
        Ok((up, del))
    }

    /// One record kind of a diff, as a merge of the two syncs' records in key order (both
    /// read in chunks, no point reads): a record of `applied` that `base` lacks, or holds with
    /// other content, goes into `up`; a record of `base` that `applied` lacks goes into `del`.
    /// Two records whose stored bytes are equal outside `discovered_at` (the common case of a
    /// re-sync: everything rediscovered, little changed) have the same content without
    /// decoding; others are decoded and compared ([`same_content`]: NaNs equal).
    fn diff_kind(
        &self,
        pk: KeyKind,
        base: &SyncId,
        applied: &SyncId,
        up: &SyncId,
        del: &SyncId,
    ) -> Result<()> {
        let mut ours = Chunks::new(&self.backend, pk, applied);
        let mut theirs = Chunks::new(&self.backend, pk, base);
        let mut batch = WriteBatch::new();
        let mut copied = 0;
        loop {
            let order = match (ours.peek()?, theirs.peek()?) {
                (None, None) => break,
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (Some(a), Some(b)) => a.cmp(b),
            };
            match order {
                std::cmp::Ordering::Less => {
                    let (key, value) = ours.pop();
                    copy_record(
                        &mut batch,
                        up.as_str(),
                        &decode_record_at(key, value)?,
                        value,
                    );
                    copied += 1;
                }
                std::cmp::Ordering::Greater => {
                    let (key, value) = theirs.pop();
                    copy_record(
                        &mut batch,
                        del.as_str(),
                        &decode_record_at(key, value)?,
                        value,
                    );
                    copied += 1;
                }
                std::cmp::Ordering::Equal => {
                    let (key, value) = ours.pop();
                    let (their_key, their_value) = theirs.pop();
                    if !envelope::same_but_discovered_at(value, their_value) {
                        let record = decode_record_at(key, value)?;
                        if !same_content(&record, &decode_record_at(their_key, their_value)?) {
                            copy_record(&mut batch, up.as_str(), &record, value);
                            copied += 1;
                        }
                    }
                }
            }
            if copied >= CHUNK {
                self.backend.write(&std::mem::take(&mut batch))?;
                copied = 0;
            }
        }
        if !batch.is_empty() {
            self.backend.write(&batch)?;
        }
        Ok(())
    }

    pub(super) fn export(
        &self,
        id: &SyncId,
        sink: &mut dyn FnMut(RecordBatch) -> Result<()>,
    ) -> Result<SyncRun> {
        validate_sync_id(id)?;
        let run = {
            let snap = self.backend.snapshot()?;
            finished_run(&snap, id, "export")?
        };
        for kind in RecordKind::ALL {
            let prefix = KeyBuilder::new(primary_kind(kind))
                .str(id.as_str())
                .finish();
            let mut cursor = None;
            loop {
                let mut batch = RecordBatch::empty(kind);
                let n = next_chunk(
                    &self.backend,
                    &prefix,
                    &mut cursor,
                    crate::engine::EXPORT_CHUNK,
                    &mut |key, value| {
                        batch.push(decode_record_at(key, value)?).map_err(|e| {
                            Error::corruption(format!("key {}: {}", hex(key), e.message))
                        })
                    },
                )?;
                if n > 0 {
                    sink(batch)?;
                }
                if n < crate::engine::EXPORT_CHUNK {
                    break;
                }
            }
        }
        Ok(run)
    }

    /// Removes what interrupted diffs and imports left: the keys of every sync still marked
    /// pending ([`KeyKind::PendingSync`]) and its mark. Runs when a store opens for writing,
    /// when no diff or import can be running; returns the syncs removed.
    pub fn recover(&self) -> Result<Vec<SyncId>> {
        let prefix = KeyBuilder::new(KeyKind::PendingSync).finish();
        let end = prefix_successor(&prefix);
        let mut pending = Vec::new();
        let snap = self.backend.snapshot()?;
        snap.scan(&prefix, end.as_deref(), false, &mut |key, _| {
            let parts = super::key_parts(key, KeyKind::PendingSync)?;
            if let Some(crate::codec::key::OwnedPart::Str(s)) = parts.first() {
                pending.push(SyncId(s.clone()));
            }
            Ok(true)
        })?;
        let mut batch = WriteBatch::new();
        for id in &pending {
            if read_run(&snap, id)?.is_some() {
                // Its run exists: the mark alone is stale (cannot happen: the run's batch
                // deletes it); the sync's keys are the run's.
                batch.delete(pending_key(id));
                continue;
            }
            for kind in sync_scoped_kinds() {
                let prefix = KeyBuilder::new(kind).str(id.as_str()).finish();
                if let Some(end) = prefix_successor(&prefix) {
                    batch.delete_range(prefix, end);
                }
            }
        }
        drop(snap);
        if !batch.is_empty() {
            self.backend.write(&batch)?;
        }
        Ok(pending)
    }

    pub(super) fn import<'a>(&'a self, run: &SyncRun) -> Result<Box<dyn SyncImport + 'a>> {
        validate_sync_id(&run.id)?;
        if run.ended_at.is_none() {
            return Err(Error::failed_precondition(format!(
                "import: sync {} is not finished",
                run.id
            )));
        }
        // Under the writers' lock, so that no diff or other import marks the id between the
        // checks and the mark.
        let _writer = self.handle();
        let snap = self.backend.snapshot()?;
        if read_run(&snap, &run.id)?.is_some() {
            return Err(Error::already_exists(format!(
                "import: sync {} exists",
                run.id
            )));
        }
        // The target's record ranges are empty and no other import or diff is writing them:
        // only this import's writes land there, so its set of written keys is exact and a put
        // of a key it never wrote skips the read of an old record (the bulk path of a clone).
        // Two imports of one id at once are not supported either way: the one dropped removes
        // the other's records.
        let mut pending = false;
        snap.get(&pending_key(&run.id), &mut |_| {
            pending = true;
            Ok(())
        })?;
        let written =
            (!pending && super::records_absent(&snap, &run.id)?).then(|| self.new_written());
        drop(snap);
        // Marked pending first (see the diff): a crash mid-import leaves nothing visible and
        // nothing the next open does not remove.
        let mut mark = WriteBatch::new();
        mark.put(pending_key(&run.id), Vec::new());
        self.backend.write(&mark)?;
        Ok(Box::new(KvImport {
            store: self,
            run: run.clone(),
            written,
            dirty: true,
            committed: false,
        }))
    }
}

/// Streams records into a sync that becomes visible (its run is written) only at commit;
/// dropped uncommitted, it removes what it wrote.
struct KvImport<'a, B: KvBackend> {
    store: &'a KvStore<B>,
    run: SyncRun,
    /// The keys this import wrote, when its target was empty at the start (see `import`).
    written: Option<super::writes::Written>,
    dirty: bool,
    committed: bool,
}

impl<B: KvBackend> SyncImport for KvImport<'_, B> {
    fn write(&mut self, records: RecordBatch) -> Result<()> {
        records.validate(self.store.config.max_asset_bytes)?;
        let mut batch = WriteBatch::new();
        {
            let snap = self.store.backend.snapshot()?;
            plan_batch(
                &snap,
                self.run.id.as_str(),
                &records,
                PutMode::Replace,
                &mut batch,
                self.written.as_mut(),
            )?;
        }
        self.dirty = true;
        self.store.backend.write(&batch)
    }

    fn commit(mut self: Box<Self>) -> Result<()> {
        let _writer = self.store.handle();
        {
            let snap = self.store.backend.snapshot()?;
            if read_run(&snap, &self.run.id)?.is_some() {
                self.dirty = false; // the data under this id is someone else's now
                return Err(Error::already_exists(format!(
                    "import: sync {} exists",
                    self.run.id
                )));
            }
        }
        let mut batch = WriteBatch::new();
        put_run(&mut batch, &self.run)?;
        batch.delete(pending_key(&self.run.id));
        self.store.write_runs(&batch)?;
        self.committed = true;
        Ok(())
    }
}

impl<B: KvBackend> Drop for KvImport<'_, B> {
    fn drop(&mut self) {
        if self.dirty && !self.committed {
            let mut batch = WriteBatch::new();
            delete_sync(&mut batch, &self.run);
            let _ = self.store.write_runs(&batch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::BTreeBackend;

    /// The merge's reader hands over every entry of a prefix once, in order, across chunk
    /// boundaries (2.5 chunks), and nothing of a neighbouring prefix.
    #[test]
    fn chunks_read_every_entry_across_chunk_boundaries() {
        let backend = BTreeBackend::new();
        let sync = SyncId::new("s");
        let mut batch = WriteBatch::new();
        let keys: Vec<Vec<u8>> = (0..CHUNK * 5 / 2)
            .map(|i| {
                KeyBuilder::new(KeyKind::Grant)
                    .str("s")
                    .str(&format!("{i:05}"))
                    .finish()
            })
            .collect();
        for (i, k) in keys.iter().enumerate() {
            batch.put(k.clone(), i.to_le_bytes().to_vec());
        }
        batch.put(
            KeyBuilder::new(KeyKind::Grant).str("t").str("x").finish(),
            Vec::new(),
        );
        backend.write(&batch).unwrap();
        let mut chunks = Chunks::new(&backend, KeyKind::Grant, &sync);
        let mut got = Vec::new();
        while chunks.peek().unwrap().is_some() {
            let (k, v) = chunks.pop();
            got.push((k.to_vec(), v.to_vec()));
        }
        let want: Vec<(Vec<u8>, Vec<u8>)> = keys
            .into_iter()
            .enumerate()
            .map(|(i, k)| (k, i.to_le_bytes().to_vec()))
            .collect();
        assert_eq!(got, want);
    }
}
