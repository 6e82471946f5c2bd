//! SPEC §2, sync runs: starting, resuming, the current and the viewed sync, the order of runs,
//! and where ids and times come from.
//!
//! Each class's one-line doc is its row in [`super::CLASSES`].

use std::sync::Arc;

use syncproof_engine::engine::all_sync_runs;
use syncproof_engine::*;

use super::edit::{page_by_offset, swallow};
use super::hooks::Fault;
use super::wrapper::{lock, Faulty};

pub struct ClockSkew;

#[derive(Debug)]
struct SkewedClock(Arc<dyn Clock>);

impl Clock for SkewedClock {
    fn now(&self) -> Timestamp {
        self.0.now().saturating_add_nanos(1)
    }
}

impl Fault for ClockSkew {
    fn config(&self, mut config: EngineConfig) -> EngineConfig {
        config.clock = Arc::new(SkewedClock(config.clock));
        config
    }
}

pub struct StartSyncAlwaysNew;

impl Fault for StartSyncAlwaysNew {
    fn start_sync(&self, w: &Faulty) -> Result<(SyncId, bool)> {
        w.inner.start_sync().map(|(id, _)| (id, true))
    }
}

pub struct NoResume;

impl Fault for NoResume {
    fn start_sync(&self, w: &Faulty) -> Result<(SyncId, bool)> {
        let had_current = w.has_current();
        let (id, new) = w.inner.start_sync()?;
        if new || had_current {
            return Ok((id, new));
        }
        w.inner.end_sync()?;
        Ok((w.inner.start_new_sync(SyncType::Full, None)?, true))
    }
}

pub struct SecondResumeStartsNew;

impl Fault for SecondResumeStartsNew {
    fn start_sync(&self, w: &Faulty) -> Result<(SyncId, bool)> {
        let had_current = w.has_current();
        let (id, new) = w.inner.start_sync()?;
        if new || !had_current {
            return Ok((id, new));
        }
        // The first resume of a sync is remembered; the next one of the same sync ends it.
        let first = {
            let mut local = lock(&w.local);
            let first = local.resumed.as_ref() != Some(&id);
            local.resumed = Some(id.clone());
            first
        };
        if first {
            return Ok((id, false));
        }
        w.inner.end_sync()?;
        Ok((w.inner.start_new_sync(SyncType::Full, None)?, true))
    }
}

pub struct NewSyncIsPartial;

impl Fault for NewSyncIsPartial {
    fn start_sync(&self, w: &Faulty) -> Result<(SyncId, bool)> {
        let (id, new) = w.inner.start_sync()?;
        if !new {
            return Ok((id, new));
        }
        w.inner.end_sync()?;
        Ok((w.inner.start_new_sync(SyncType::Partial, None)?, true))
    }
}

pub struct StartNewSyncReplacesCurrent;

impl Fault for StartNewSyncReplacesCurrent {
    fn start_new_sync(
        &self,
        w: &Faulty,
        sync_type: SyncType,
        parent: Option<&SyncId>,
    ) -> Result<SyncId> {
        match w.inner.start_new_sync(sync_type, parent) {
            Err(e) if e.kind == ErrorKind::FailedPrecondition => {
                w.inner.end_sync()?;
                w.inner.start_new_sync(sync_type, parent)
            }
            other => other,
        }
    }
}

pub struct ParentIgnored;

impl Fault for ParentIgnored {
    fn start_new_sync(
        &self,
        w: &Faulty,
        sync_type: SyncType,
        _parent: Option<&SyncId>,
    ) -> Result<SyncId> {
        w.inner.start_new_sync(sync_type, None)
    }
}

pub struct SetCurrentAcceptsFinished;

impl Fault for SetCurrentAcceptsFinished {
    fn set_current_sync(&self, w: &Faulty, id: &SyncId) -> Result<()> {
        swallow(
            w.inner.set_current_sync(id),
            &[ErrorKind::FailedPrecondition],
            || (),
        )
    }
}

pub struct EndWithoutCurrentOk;

impl Fault for EndWithoutCurrentOk {
    fn end_sync(&self, w: &Faulty) -> Result<()> {
        swallow(w.inner.end_sync(), &[ErrorKind::FailedPrecondition], || ())
    }
}

pub struct ViewWhileCurrentOk;

impl Fault for ViewWhileCurrentOk {
    fn view_sync(&self, w: &Faulty, id: Option<&SyncId>) -> Result<()> {
        swallow(
            w.inner.view_sync(id),
            &[ErrorKind::FailedPrecondition],
            || (),
        )
    }
}

pub struct WriteWithoutCurrentOk;

impl Fault for WriteWithoutCurrentOk {
    fn checkpoint_sync(&self, w: &Faulty, token: &str) -> Result<()> {
        swallow(
            w.inner.checkpoint_sync(token),
            &[ErrorKind::FailedPrecondition],
            || (),
        )
    }
    fn put(&self, w: &Faulty, batch: &RecordBatch, mode: PutMode) -> Result<()> {
        swallow(
            w.inner.put(batch, mode),
            &[ErrorKind::FailedPrecondition],
            || (),
        )
    }
    fn delete_grant(&self, w: &Faulty, id: &str) -> Result<bool> {
        swallow(
            w.inner.delete_grant(id),
            &[ErrorKind::FailedPrecondition],
            || false,
        )
    }
}

pub struct SetCurrentIgnored;

impl Fault for SetCurrentIgnored {
    fn set_current_sync(&self, w: &Faulty, id: &SyncId) -> Result<()> {
        if w.inner.get_sync_run(id)?.is_some() {
            return Ok(());
        }
        w.inner.set_current_sync(id)
    }
}

pub struct ViewIgnored;

impl Fault for ViewIgnored {
    fn view_sync(&self, w: &Faulty, id: Option<&SyncId>) -> Result<()> {
        if id.is_some() {
            return Ok(());
        }
        w.inner.view_sync(id)
    }
}

pub struct TieBySmallerId;

impl Fault for TieBySmallerId {
    fn read_target(&self, w: &Faulty, sync: Option<&SyncId>) -> Result<Option<SyncId>> {
        if sync.is_none() && !w.has_current() && lock(&w.local).viewed.is_none() {
            return w.latest(true);
        }
        Ok(sync.cloned())
    }
}

pub struct ReopenKeepsHandle;

impl Fault for ReopenKeepsHandle {
    fn reopen_keeps_handle(&self) -> bool {
        true
    }
}

pub struct SyncRunsById;

impl Fault for SyncRunsById {
    fn list_sync_runs(&self, w: &Faulty, page: &PageRequest) -> Result<Page<SyncRun>> {
        let mut all = all_sync_runs(w.inner.as_ref())?;
        all.sort_by(|a, b| a.id.cmp(&b.id));
        page_by_offset(&all, page)
    }
}
