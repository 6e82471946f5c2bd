//! SPEC §5, maintenance: cleanup of old syncs, diff, export and clone.
//!
//! Each class's one-line doc is its row in [`super::CLASSES`].

use std::collections::HashSet;

use syncproof_engine::*;

use super::edit::{batch_of, swallow};
use super::hooks::Fault;
use super::wrapper::{lock, Faulty};

pub struct CleanupKeepsOneFewer;

impl Fault for CleanupKeepsOneFewer {
    fn cleanup(&self, w: &Faulty, keep: usize) -> Result<Vec<SyncId>> {
        w.inner.cleanup(if keep > 1 { keep - 1 } else { keep })
    }
}

pub struct CleanupDeletesViewed;

impl Fault for CleanupDeletesViewed {
    fn cleanup(&self, w: &Faulty, keep: usize) -> Result<Vec<SyncId>> {
        let viewed = lock(&w.local).viewed.clone();
        w.inner.view_sync(None)?;
        let deleted = w.inner.cleanup(keep);
        if let Some(v) = viewed {
            let _ = w.inner.view_sync(Some(&v));
        }
        deleted
    }
}

pub struct DiffIdsSwapped;

impl Fault for DiffIdsSwapped {
    fn generate_sync_diff(
        &self,
        w: &Faulty,
        base: &SyncId,
        applied: &SyncId,
    ) -> Result<(SyncId, SyncId)> {
        w.inner
            .generate_sync_diff(base, applied)
            .map(|(up, del)| (del, up))
    }
}

pub struct DiffUnchecked;

impl Fault for DiffUnchecked {
    fn generate_sync_diff(
        &self,
        w: &Faulty,
        base: &SyncId,
        applied: &SyncId,
    ) -> Result<(SyncId, SyncId)> {
        swallow(
            w.inner.generate_sync_diff(base, applied),
            &[ErrorKind::NotFound, ErrorKind::FailedPrecondition],
            || (base.clone(), applied.clone()),
        )
    }
}

pub struct ExportDropsLastChunk;

impl Fault for ExportDropsLastChunk {
    fn export_sync(
        &self,
        w: &Faulty,
        id: &SyncId,
        sink: &mut dyn FnMut(RecordBatch) -> Result<()>,
    ) -> Result<SyncRun> {
        let mut held: Option<RecordBatch> = None;
        w.inner.export_sync(id, &mut |batch| {
            if let Some(prev) = held.replace(batch) {
                sink(prev)?;
            }
            Ok(())
        })
    }
}

/// Export drops the first record of every chunk after the first: a sync of more than
/// `EXPORT_CHUNK` records of one kind loses one at each chunk boundary, so its clone does.
pub struct ExportDropsChunkBoundary;

impl Fault for ExportDropsChunkBoundary {
    fn export_sync(
        &self,
        w: &Faulty,
        id: &SyncId,
        sink: &mut dyn FnMut(RecordBatch) -> Result<()>,
    ) -> Result<SyncRun> {
        let mut seen = std::collections::BTreeSet::new();
        w.inner.export_sync(id, &mut |batch| {
            let kind = batch.kind();
            if seen.insert(kind.name()) {
                return sink(batch);
            }
            let mut rest = RecordBatch::empty(kind);
            for r in batch.to_records().into_iter().skip(1) {
                rest.push(r)?;
            }
            sink(rest)
        })
    }
}

/// Which records of a sync a read must not see.
type Hidden<'a> = Box<dyn Fn(&Record) -> bool + 'a>;

/// A diff bug sits in the diff itself: every read of a diff sync (get, list, stats, export)
/// sees what the broken diff wrote, as if it had stored it so. `hidden` says which records
/// of the sync a read resolves to the diff got wrong (`None`: the read sees no such sync).
trait BrokenDiff {
    fn hidden<'w>(&self, w: &'w Faulty, sync: Option<&SyncId>) -> Option<Hidden<'w>>;
}

/// The hooks of a [`BrokenDiff`] class: the diff notes the syncs it made (upserts → base,
/// and the deletions sync), and every read of a diff sync goes through `hidden`.
macro_rules! diff_hooks {
    () => {
        fn generate_sync_diff(
            &self,
            w: &Faulty,
            base: &SyncId,
            applied: &SyncId,
        ) -> Result<(SyncId, SyncId)> {
            let (up, del) = w.inner.generate_sync_diff(base, applied)?;
            let mut local = lock(&w.local);
            local.diffs.insert(up.clone(), base.clone());
            local.deletion_syncs.insert(del.clone());
            Ok((up, del))
        }
        fn get(
            &self,
            w: &Faulty,
            sync: Option<&SyncId>,
            key: &RecordKey,
        ) -> Result<Option<Record>> {
            let got = w.inner.get(sync, key)?;
            Ok(match (self.hidden(w, sync), got) {
                (Some(hides), Some(r)) if hides(&r) => None,
                (_, got) => got,
            })
        }
        fn list(
            &self,
            w: &Faulty,
            sync: Option<&SyncId>,
            query: &ListQuery,
            page: &PageRequest,
        ) -> Result<Page<Record>> {
            match self.hidden(w, sync) {
                Some(hides) => w.list_here(sync, query, page, &|r| !hides(r), &|_| {}),
                None => w.inner.list(sync, query, page),
            }
        }
        fn stats(&self, w: &Faulty, sync: Option<&SyncId>) -> Result<Stats> {
            let (Some(hides), Some(id)) = (self.hidden(w, sync), sync) else {
                return w.inner.stats(sync);
            };
            let mut s = Stats::default();
            w.inner.export_sync(id, &mut |batch| {
                batch
                    .to_records()
                    .iter()
                    .filter(|r| !hides(r))
                    .for_each(|r| s.count(r));
                Ok(())
            })?;
            Ok(s)
        }
        fn export_sync(
            &self,
            w: &Faulty,
            id: &SyncId,
            sink: &mut dyn FnMut(RecordBatch) -> Result<()>,
        ) -> Result<SyncRun> {
            let Some(hides) = self.hidden(w, Some(id)) else {
                return w.inner.export_sync(id, sink);
            };
            w.inner.export_sync(id, &mut |batch| {
                let kind = batch.kind();
                sink(batch_of(
                    kind,
                    batch.to_records().into_iter().filter(|r| !hides(r)),
                ))
            })
        }
    };
}

/// The sync a read of `sync` sees, as far as the diff bugs care: the named one, else the
/// viewed one (a diff sync is never current, nor the latest full sync).
fn seen(w: &Faulty, sync: Option<&SyncId>) -> Option<SyncId> {
    sync.cloned().or_else(|| lock(&w.local).viewed.clone())
}

pub struct DiffAdditionsOnly;

impl BrokenDiff for DiffAdditionsOnly {
    fn hidden<'w>(&self, w: &'w Faulty, sync: Option<&SyncId>) -> Option<Hidden<'w>> {
        let seen = seen(w, sync)?;
        let base = lock(&w.local).diffs.get(&seen)?.clone();
        Some(Box::new(move |r: &Record| {
            matches!(w.inner.get(Some(&base), &r.key()), Ok(Some(_)))
        }))
    }
}

impl Fault for DiffAdditionsOnly {
    diff_hooks!();
}

pub struct DiffMissesDeletions;

impl BrokenDiff for DiffMissesDeletions {
    fn hidden<'w>(&self, w: &'w Faulty, sync: Option<&SyncId>) -> Option<Hidden<'w>> {
        let seen = seen(w, sync)?;
        lock(&w.local)
            .deletion_syncs
            .contains(&seen)
            .then(|| Box::new(|_: &Record| true) as Hidden<'w>)
    }
}

impl Fault for DiffMissesDeletions {
    diff_hooks!();
}

/// The private escape of [`ExportEscapesNul`].
const ESCAPED_NUL: &str = "\\0";

/// Rewrites every grant id of `batch` with `f`.
fn map_grant_ids(batch: RecordBatch, f: impl Fn(&str) -> String) -> RecordBatch {
    match batch {
        RecordBatch::Grants(v) => {
            RecordBatch::Grants(v.into_iter().map(|g| Grant { id: f(&g.id), ..g }).collect())
        }
        other => other,
    }
}

pub struct ExportEscapesNul;

impl Fault for ExportEscapesNul {
    fn export_sync(
        &self,
        w: &Faulty,
        id: &SyncId,
        sink: &mut dyn FnMut(RecordBatch) -> Result<()>,
    ) -> Result<SyncRun> {
        w.inner.export_sync(id, &mut |b| {
            sink(map_grant_ids(b, |id| id.replace('\0', ESCAPED_NUL)))
        })
    }
    fn import_batch(&self, batch: RecordBatch, _: &mut HashSet<String>) -> RecordBatch {
        map_grant_ids(batch, |id| id.replace(ESCAPED_NUL, "\0"))
    }
}

/// An import keeps the first write of each grant id and drops later ones: a bulk load that
/// inserts only what is absent, so the later of two writes of one record is lost.
pub struct ImportFirstWriteWins;

impl Fault for ImportFirstWriteWins {
    fn import_batch(&self, batch: RecordBatch, earlier: &mut HashSet<String>) -> RecordBatch {
        match batch {
            RecordBatch::Grants(v) => RecordBatch::Grants(
                v.into_iter()
                    .filter(|g| earlier.insert(g.id.clone()))
                    .collect(),
            ),
            other => other,
        }
    }
}
