//! What a bug class can change: one hook per engine call, each defaulting to the correct
//! behaviour (the inner engine's), so a class overrides only the calls its bug is in.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Mutex;

use syncproof_engine::contract::Opener;
use syncproof_engine::*;

use super::wrapper::{DirState, Faulty};

/// A bug class's behaviour. Every hook gets the wrapper (`w.inner` is the engine underneath)
/// and defaults to what a correct engine does.
pub(crate) trait Fault: Send + Sync {
    /// The configuration the inner engine is opened with.
    fn config(&self, config: EngineConfig) -> EngineConfig {
        config
    }
    /// Runs before the inner engine is reopened on a store opened before.
    fn before_reopen(
        &self,
        inner: &dyn Opener,
        dir: &Path,
        config: &EngineConfig,
        state: &Mutex<DirState>,
    ) -> Result<()> {
        let _ = (inner, dir, config, state);
        Ok(())
    }
    /// Whether a reopen restores the sync that was current (SPEC: it must not).
    fn reopen_keeps_handle(&self) -> bool {
        false
    }
    /// `start_sync`.
    fn start_sync(&self, w: &Faulty) -> Result<(SyncId, bool)> {
        w.inner.start_sync()
    }
    /// `start_new_sync`.
    fn start_new_sync(
        &self,
        w: &Faulty,
        sync_type: SyncType,
        parent: Option<&SyncId>,
    ) -> Result<SyncId> {
        w.inner.start_new_sync(sync_type, parent)
    }
    /// `set_current_sync`.
    fn set_current_sync(&self, w: &Faulty, id: &SyncId) -> Result<()> {
        w.inner.set_current_sync(id)
    }
    /// `checkpoint_sync`.
    fn checkpoint_sync(&self, w: &Faulty, token: &str) -> Result<()> {
        w.inner.checkpoint_sync(token)
    }
    /// `end_sync`.
    fn end_sync(&self, w: &Faulty) -> Result<()> {
        w.inner.end_sync()
    }
    /// `view_sync`.
    fn view_sync(&self, w: &Faulty, id: Option<&SyncId>) -> Result<()> {
        w.inner.view_sync(id)
    }
    /// `list_sync_runs`.
    fn list_sync_runs(&self, w: &Faulty, page: &PageRequest) -> Result<Page<SyncRun>> {
        w.inner.list_sync_runs(page)
    }
    /// `put`.
    fn put(&self, w: &Faulty, batch: &RecordBatch, mode: PutMode) -> Result<()> {
        w.inner.put(batch, mode)
    }
    /// `delete_grant`.
    fn delete_grant(&self, w: &Faulty, id: &str) -> Result<bool> {
        w.inner.delete_grant(id)
    }
    /// The sync a read that names `sync` goes to (`None`: resolved by the inner engine).
    fn read_target(&self, w: &Faulty, sync: Option<&SyncId>) -> Result<Option<SyncId>> {
        let _ = w;
        Ok(sync.cloned())
    }
    /// `get`, in the sync [`Fault::read_target`] chose.
    fn get(&self, w: &Faulty, sync: Option<&SyncId>, key: &RecordKey) -> Result<Option<Record>> {
        w.inner.get(sync, key)
    }
    /// `list`, in the sync [`Fault::read_target`] chose.
    fn list(
        &self,
        w: &Faulty,
        sync: Option<&SyncId>,
        query: &ListQuery,
        page: &PageRequest,
    ) -> Result<Page<Record>> {
        w.inner.list(sync, query, page)
    }
    /// `visit_get`: by default the lending form of the wrapper's own (faulty) `get`, so a bug
    /// of the owned read shows in both forms.
    fn visit_get(
        &self,
        w: &Faulty,
        sync: Option<&SyncId>,
        key: &RecordKey,
        visit: &mut Visitor<'_>,
    ) -> Result<bool> {
        owned_visit_get(w, sync, key, visit)
    }
    /// `visit_list`: by default the lending form of the wrapper's own `list`.
    fn visit_list(
        &self,
        w: &Faulty,
        sync: Option<&SyncId>,
        query: &ListQuery,
        page: &PageRequest,
        visit: &mut Visitor<'_>,
    ) -> Result<Option<PageToken>> {
        owned_visit_list(w, sync, query, page, visit)
    }
    /// `stats`, in the sync [`Fault::read_target`] chose.
    fn stats(&self, w: &Faulty, sync: Option<&SyncId>) -> Result<Stats> {
        w.inner.stats(sync)
    }
    /// `cleanup`.
    fn cleanup(&self, w: &Faulty, keep: usize) -> Result<Vec<SyncId>> {
        w.inner.cleanup(keep)
    }
    /// `generate_sync_diff`.
    fn generate_sync_diff(
        &self,
        w: &Faulty,
        base: &SyncId,
        applied: &SyncId,
    ) -> Result<(SyncId, SyncId)> {
        w.inner.generate_sync_diff(base, applied)
    }
    /// `verify`.
    fn verify(&self, w: &Faulty) -> Result<VerifyReport> {
        w.inner.verify()
    }
    /// A batch a clone into this engine imports, before the engine writes it; `earlier` is
    /// the fault's own memory of the same import's earlier batches.
    fn import_batch(&self, batch: RecordBatch, earlier: &mut HashSet<String>) -> RecordBatch {
        let _ = earlier;
        batch
    }
    /// `export_sync`.
    fn export_sync(
        &self,
        w: &Faulty,
        id: &SyncId,
        sink: &mut dyn FnMut(RecordBatch) -> Result<()>,
    ) -> Result<SyncRun> {
        w.inner.export_sync(id, sink)
    }
}

/// No bug: every hook does what a correct engine does.
pub(crate) struct Correct;

impl Fault for Correct {}
