//! SPEC §6, errors, durability and concurrency: what survives a reopen, batches seen whole,
//! bad input that must not panic, and calls that must return at all.
//!
//! Each class's one-line doc is its row in [`super::CLASSES`].

use std::path::Path;
use std::sync::Mutex;

use syncproof_engine::contract::Opener;
use syncproof_engine::*;

use super::edit::{batch_of, hang, has_late_nul, run_away};
use super::hooks::Fault;
use super::wrapper::{lock, DirState, Faulty};

/// Reopening loses the last batch of grants written before it.
pub struct ReopenLosesLastBatch;

impl Fault for ReopenLosesLastBatch {
    fn before_reopen(
        &self,
        inner: &dyn Opener,
        dir: &Path,
        config: &EngineConfig,
        state: &Mutex<DirState>,
    ) -> Result<()> {
        let Some((sync, ids)) = lock(state).last_batch.take() else {
            return Ok(());
        };
        let e = inner.open(dir, config.clone())?;
        if e.set_current_sync(&sync).is_ok() {
            for id in ids {
                e.delete_grant(&id)?;
            }
        }
        e.flush()
    }
    fn put(&self, w: &Faulty, batch: &RecordBatch, mode: PutMode) -> Result<()> {
        w.inner.put(batch, mode)?;
        let current = lock(&w.dir).current.clone();
        if let (RecordBatch::Grants(v), Some(cur)) = (batch, current) {
            lock(&w.dir).last_batch = Some((cur, v.iter().map(|g| g.id.clone()).collect()));
        }
        Ok(())
    }
}

pub struct TornBatches;

impl Fault for TornBatches {
    fn put(&self, w: &Faulty, batch: &RecordBatch, mode: PutMode) -> Result<()> {
        if batch.len() < 2 {
            return w.inner.put(batch, mode);
        }
        let records = batch.to_records();
        let (a, b) = records.split_at(records.len() / 2);
        for half in [a, b] {
            w.inner
                .put(&batch_of(batch.kind(), half.iter().cloned()), mode)?;
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        Ok(())
    }
}

pub struct StatsFromTwoSnapshots;

impl Fault for StatsFromTwoSnapshots {
    fn stats(&self, w: &Faulty, sync: Option<&SyncId>) -> Result<Stats> {
        let first = w.inner.stats(sync)?;
        // The time a scan of a large table takes, before the next table is read.
        std::thread::sleep(std::time::Duration::from_millis(2));
        Ok(Stats {
            grants: first.grants,
            ..w.inner.stats(sync)?
        })
    }
}

pub struct PanicOnLongToken;

impl Fault for PanicOnLongToken {
    fn list(
        &self,
        w: &Faulty,
        sync: Option<&SyncId>,
        query: &ListQuery,
        page: &PageRequest,
    ) -> Result<Page<Record>> {
        if page
            .token
            .as_ref()
            .is_some_and(|t| t.as_str().len() > 64 * 1024)
        {
            panic!("faulty engine: token too long");
        }
        w.inner.list(sync, query, page)
    }
}

pub struct HangOnNulInId;

impl Fault for HangOnNulInId {
    fn put(&self, w: &Faulty, batch: &RecordBatch, mode: PutMode) -> Result<()> {
        if has_late_nul(batch) {
            hang();
        }
        w.inner.put(batch, mode)
    }
}

pub struct RunawayOnNulInId;

impl Fault for RunawayOnNulInId {
    fn put(&self, w: &Faulty, batch: &RecordBatch, mode: PutMode) -> Result<()> {
        if has_late_nul(batch) {
            run_away();
        }
        w.inner.put(batch, mode)
    }
}
