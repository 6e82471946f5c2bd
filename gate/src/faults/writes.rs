//! SPEC §3, writes: replace and if-newer upserts, batches as a unit, grant deletes, assets,
//! and the index entries a write replaces.
//!
//! Each class's one-line doc is its row in [`super::CLASSES`].

use std::collections::HashSet;

use syncproof_engine::*;

use super::edit::batch_of;
use super::hooks::Fault;
use super::wrapper::{lock, Faulty};

pub struct ReplaceKeepsNewerDiscoveredAt;

impl Fault for ReplaceKeepsNewerDiscoveredAt {
    fn put(&self, w: &Faulty, batch: &RecordBatch, mode: PutMode) -> Result<()> {
        let mut batch = batch.clone();
        if let (RecordBatch::Grants(v), PutMode::Replace) = (&mut batch, mode) {
            for g in v.iter_mut() {
                if let Ok(Some(Record::Grant(old))) =
                    w.inner.get(None, &RecordKey::Grant(g.id.clone()))
                {
                    if old.discovered_at > g.discovered_at {
                        g.discovered_at = old.discovered_at;
                    }
                }
            }
        }
        w.inner.put(&batch, mode)
    }
}

pub struct IfNewerOnEqual;

impl Fault for IfNewerOnEqual {
    fn put(&self, w: &Faulty, batch: &RecordBatch, mode: PutMode) -> Result<()> {
        if let (RecordBatch::Grants(v), PutMode::IfNewer) = (batch, mode) {
            for g in v {
                if let Ok(Some(Record::Grant(old))) =
                    w.inner.get(None, &RecordKey::Grant(g.id.clone()))
                {
                    if old.discovered_at == g.discovered_at {
                        w.inner
                            .put(&RecordBatch::Grants(vec![g.clone()]), PutMode::Replace)?;
                    }
                }
            }
        }
        w.inner.put(batch, mode)
    }
}

pub struct PartialBatchOnError;

impl Fault for PartialBatchOnError {
    fn put(&self, w: &Faulty, batch: &RecordBatch, mode: PutMode) -> Result<()> {
        let r = w.inner.put(batch, mode);
        if let Err(e) = &r {
            if e.kind == ErrorKind::InvalidArgument {
                for rec in batch.to_records() {
                    let _ = w.inner.put(&batch_of(batch.kind(), [rec]), mode);
                }
            }
        }
        r
    }
}

pub struct FirstRecordWins;

impl Fault for FirstRecordWins {
    fn put(&self, w: &Faulty, batch: &RecordBatch, mode: PutMode) -> Result<()> {
        let mut seen = HashSet::new();
        let firsts = batch
            .to_records()
            .into_iter()
            .filter(|r| seen.insert(r.key()));
        w.inner.put(&batch_of(batch.kind(), firsts), mode)
    }
}

pub struct DeleteAlwaysTrue;

impl Fault for DeleteAlwaysTrue {
    fn delete_grant(&self, w: &Faulty, id: &str) -> Result<bool> {
        w.inner.delete_grant(id).map(|_| true)
    }
}

pub struct AssetContentTypeDefaulted;

impl Fault for AssetContentTypeDefaulted {
    fn put(&self, w: &Faulty, batch: &RecordBatch, mode: PutMode) -> Result<()> {
        let mut batch = batch.clone();
        if let RecordBatch::Assets(v) = &mut batch {
            v.iter_mut()
                .filter(|a| a.content_type.is_empty())
                .for_each(|a| a.content_type = "application/octet-stream".into());
        }
        w.inner.put(&batch, mode)
    }
}

/// Overwriting a grant leaves its old principal's index entry behind: a list by principal
/// still finds the grant under every principal it ever had in the sync.
pub struct StaleIndexAfterOverwrite;

impl Fault for StaleIndexAfterOverwrite {
    fn put(&self, w: &Faulty, batch: &RecordBatch, mode: PutMode) -> Result<()> {
        if let (RecordBatch::Grants(v), Some(cur)) = (batch, lock(&w.dir).current.clone()) {
            let mut local = lock(&w.local);
            for g in v {
                local
                    .principals
                    .entry((cur.clone(), g.id.clone()))
                    .or_default()
                    .push(g.principal.clone());
            }
        }
        w.inner.put(batch, mode)
    }
    fn list(
        &self,
        w: &Faulty,
        sync: Option<&SyncId>,
        query: &ListQuery,
        page: &PageRequest,
    ) -> Result<Page<Record>> {
        let ListQuery::Grants(GrantFilter::Principal(p)) = query else {
            return w.inner.list(sync, query, page);
        };
        // The sync this read sees: named, else current, else viewed, else latest.
        let in_sync = match sync {
            Some(s) => Some(s.clone()),
            None => {
                let handle = lock(&w.dir)
                    .current
                    .clone()
                    .or_else(|| lock(&w.local).viewed.clone());
                match handle {
                    Some(s) => Some(s),
                    None => w.latest(false)?,
                }
            }
        };
        let history = lock(&w.local).principals.clone();
        w.list_here(
            sync,
            &query.unfiltered(),
            page,
            &|r| match r {
                Record::Grant(g) => {
                    g.principal == *p
                        || in_sync.as_ref().is_some_and(|s| {
                            history
                                .get(&(s.clone(), g.id.clone()))
                                .is_some_and(|ps| ps.contains(p))
                        })
                }
                _ => false,
            },
            &|_| {},
        )
    }
}

/// A delete that removes the record and leaves its index entries: reads look the record up
/// by the entries and skip it, so every answer is right; only `verify` sees the dangling
/// entries.
pub struct DeleteLeavesIndexEntry;

impl Fault for DeleteLeavesIndexEntry {
    fn delete_grant(&self, w: &Faulty, id: &str) -> Result<bool> {
        let deleted = w.inner.delete_grant(id)?;
        if deleted {
            lock(&w.local).deleted.push(id.to_string());
        }
        Ok(deleted)
    }
    fn verify(&self, w: &Faulty) -> Result<VerifyReport> {
        let mut r = w.inner.verify()?;
        r.problems.extend(
            lock(&w.local)
                .deleted
                .iter()
                .map(|id| format!("principal index entry of deleted grant {id:?} has no record")),
        );
        Ok(r)
    }
}
