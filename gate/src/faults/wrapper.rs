//! The wrapper that injects one bug class into any engine: [`FaultyOpener`] opens engines
//! whose every call goes through the class's hooks ([`super::hooks::Fault`]), plus the state
//! some classes need (what outlives a handle, what one handle saw).

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use syncproof_engine::contract::{Opener, StoreDirs};
use syncproof_engine::engine::all_sync_runs;
use syncproof_engine::page::read_all;
use syncproof_engine::*;

use super::edit::page_by_offset;
use super::hooks::{Correct, Fault};
use super::Bug;

/// State that outlives one handle: what a reopen needs to misbehave with.
#[derive(Debug, Default)]
pub(crate) struct DirState {
    /// The sync the last handle had current.
    pub(super) current: Option<SyncId>,
    /// The grants of the last batch written, with their sync (for `ReopenLosesLastBatch`).
    pub(super) last_batch: Option<(SyncId, Vec<String>)>,
    /// Records put through the store's handles so far, and the count when each key was last
    /// put (for `GetMissesFlushed`: a memtable outlives a handle through its log).
    pub(super) puts: u64,
    pub(super) put_at: HashMap<RecordKey, u64>,
}

/// Per-handle state some classes keep.
#[derive(Debug, Default)]
pub(super) struct Local {
    /// The sync `view_sync` last set.
    pub(super) viewed: Option<SyncId>,
    /// Last record of the page each token was issued after (for `InclusiveTokens`).
    pub(super) token_last: HashMap<PageToken, Record>,
    /// Upserts sync → its base (for `DiffAdditionsOnly`).
    pub(super) diffs: HashMap<SyncId, SyncId>,
    /// Deletions syncs (for `DiffMissesDeletions`).
    pub(super) deletion_syncs: HashSet<SyncId>,
    /// Every principal each grant id ever had in a sync (for `StaleIndexAfterOverwrite`).
    pub(super) principals: HashMap<(SyncId, String), Vec<ResourceId>>,
    /// Grants deleted through this handle (for `DeleteLeavesIndexEntry`).
    pub(super) deleted: Vec<String>,
    /// The sync `start_sync` last resumed (for `SecondResumeStartsNew`).
    pub(super) resumed: Option<SyncId>,
}

/// Locks a mutex, taking it over if a panicking holder poisoned it (every update is whole).
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Opens engines of `inner` with `bug` injected.
pub struct FaultyOpener {
    label: String,
    inner: Box<dyn Opener>,
    bug: Option<Bug>,
    /// Per store directory: what outlives a handle; known directories are reopens.
    dirs: StoreDirs<Arc<Mutex<DirState>>>,
}

impl FaultyOpener {
    /// Wraps `inner` with `bug` injected.
    pub fn new(inner: Box<dyn Opener>, bug: Bug) -> Self {
        Self::with(inner, Some(bug))
    }

    /// Wraps `inner` with no bug: the wrapper's own bookkeeping, and nothing else.
    pub fn transparent(inner: Box<dyn Opener>) -> Self {
        Self::with(inner, None)
    }

    fn with(inner: Box<dyn Opener>, bug: Option<Bug>) -> Self {
        FaultyOpener {
            label: match bug {
                Some(b) => format!("{}+{}", inner.name(), b.name()),
                None => format!("{}+wrapper", inner.name()),
            },
            inner,
            bug,
            dirs: StoreDirs::new(),
        }
    }

    fn fault(&self) -> &'static dyn Fault {
        self.bug.map_or(&Correct, Bug::fault)
    }
}

impl Opener for FaultyOpener {
    fn name(&self) -> &str {
        &self.label
    }

    fn open(&self, dir: &Path, config: EngineConfig) -> Result<Box<dyn StorageEngine>> {
        let fault = self.fault();
        let config = fault.config(config);
        let (state, reopen) = self.dirs.open(dir);
        if reopen {
            fault.before_reopen(self.inner.as_ref(), dir, &config, &state)?;
        }
        let inner = self.inner.open(dir, config)?;
        if reopen && fault.reopen_keeps_handle() {
            let current = lock(&state).current.clone();
            if let Some(cur) = current {
                let _ = inner.set_current_sync(&cur);
            }
        } else {
            lock(&state).current = None;
        }
        Ok(Box::new(Faulty {
            inner,
            fault,
            dir: state,
            local: Mutex::default(),
        }))
    }
}

/// An engine with one bug injected.
pub struct Faulty {
    /// The engine underneath.
    pub(super) inner: Box<dyn StorageEngine>,
    fault: &'static dyn Fault,
    /// What outlives this handle.
    pub(super) dir: Arc<Mutex<DirState>>,
    /// What this handle saw.
    pub(super) local: Mutex<Local>,
}

impl Faulty {
    /// Whether the inner engine has a current sync.
    pub(super) fn has_current(&self) -> bool {
        self.inner.current_sync_token().is_ok()
    }

    fn note_current(&self, id: Option<SyncId>) {
        lock(&self.dir).current = id;
    }

    /// Lists everything through the inner engine, then filters, orders and pages it here
    /// with offset tokens (`faulty:N`).
    pub(super) fn list_here(
        &self,
        sync: Option<&SyncId>,
        fetch: &ListQuery,
        page: &PageRequest,
        keep: &dyn Fn(&Record) -> bool,
        order: &dyn Fn(&mut Vec<Record>),
    ) -> Result<Page<Record>> {
        let mut all = read_all(MAX_PAGE_SIZE, |req| self.inner.list(sync, fetch, req))?;
        all.retain(|r| keep(r));
        order(&mut all);
        page_by_offset(&all, page)
    }

    /// The latest finished full sync; with `smaller_wins`, ties go to the smaller id (a bug).
    pub(super) fn latest(&self, smaller_wins: bool) -> Result<Option<SyncId>> {
        let runs = all_sync_runs(self.inner.as_ref())?;
        Ok(runs
            .into_iter()
            .filter(|r| r.sync_type == SyncType::Full && r.ended_at.is_some())
            .max_by(|a, b| {
                let ids = if smaller_wins {
                    b.id.cmp(&a.id)
                } else {
                    a.id.cmp(&b.id)
                };
                a.ended_at.cmp(&b.ended_at).then(ids)
            })
            .map(|r| r.id))
    }
}

impl StorageEngine for Faulty {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn start_sync(&self) -> Result<(SyncId, bool)> {
        let out = self.fault.start_sync(self)?;
        self.note_current(Some(out.0.clone()));
        Ok(out)
    }

    fn start_new_sync(&self, sync_type: SyncType, parent: Option<&SyncId>) -> Result<SyncId> {
        let id = self.fault.start_new_sync(self, sync_type, parent)?;
        self.note_current(Some(id.clone()));
        Ok(id)
    }

    fn set_current_sync(&self, id: &SyncId) -> Result<()> {
        let r = self.fault.set_current_sync(self, id);
        if r.is_ok() {
            self.note_current(Some(id.clone()));
        }
        r
    }

    fn current_sync_token(&self) -> Result<String> {
        self.inner.current_sync_token()
    }

    fn checkpoint_sync(&self, token: &str) -> Result<()> {
        self.fault.checkpoint_sync(self, token)
    }

    fn end_sync(&self) -> Result<()> {
        let r = self.fault.end_sync(self);
        if r.is_ok() {
            self.note_current(None);
        }
        r
    }

    fn view_sync(&self, id: Option<&SyncId>) -> Result<()> {
        let r = self.fault.view_sync(self, id);
        if r.is_ok() {
            lock(&self.local).viewed = id.cloned();
        }
        r
    }

    fn get_sync_run(&self, id: &SyncId) -> Result<Option<SyncRun>> {
        self.inner.get_sync_run(id)
    }

    fn list_sync_runs(&self, page: &PageRequest) -> Result<Page<SyncRun>> {
        self.fault.list_sync_runs(self, page)
    }

    fn put(&self, batch: &RecordBatch, mode: PutMode) -> Result<()> {
        self.fault.put(self, batch, mode)
    }

    fn delete_grant(&self, id: &str) -> Result<bool> {
        self.fault.delete_grant(self, id)
    }

    fn get(&self, sync: Option<&SyncId>, key: &RecordKey) -> Result<Option<Record>> {
        let target = self.fault.read_target(self, sync)?;
        self.fault.get(self, target.as_ref(), key)
    }

    fn list(
        &self,
        sync: Option<&SyncId>,
        query: &ListQuery,
        page: &PageRequest,
    ) -> Result<Page<Record>> {
        let target = self.fault.read_target(self, sync)?;
        self.fault.list(self, target.as_ref(), query, page)
    }

    fn visit_get(
        &self,
        sync: Option<&SyncId>,
        key: &RecordKey,
        visit: &mut Visitor<'_>,
    ) -> Result<bool> {
        self.fault.visit_get(self, sync, key, visit)
    }

    fn visit_list(
        &self,
        sync: Option<&SyncId>,
        query: &ListQuery,
        page: &PageRequest,
        visit: &mut Visitor<'_>,
    ) -> Result<Option<PageToken>> {
        self.fault.visit_list(self, sync, query, page, visit)
    }

    fn stats(&self, sync: Option<&SyncId>) -> Result<Stats> {
        let target = self.fault.read_target(self, sync)?;
        self.fault.stats(self, target.as_ref())
    }

    fn cleanup(&self, keep: usize) -> Result<Vec<SyncId>> {
        self.fault.cleanup(self, keep)
    }

    fn generate_sync_diff(&self, base: &SyncId, applied: &SyncId) -> Result<(SyncId, SyncId)> {
        self.fault.generate_sync_diff(self, base, applied)
    }

    fn export_sync(
        &self,
        id: &SyncId,
        sink: &mut dyn FnMut(RecordBatch) -> Result<()>,
    ) -> Result<SyncRun> {
        self.fault.export_sync(self, id, sink)
    }

    fn begin_import<'a>(&'a self, run: &SyncRun) -> Result<Box<dyn SyncImport + 'a>> {
        Ok(Box::new(FaultyImport {
            inner: self.inner.begin_import(run)?,
            fault: self.fault,
            earlier: Default::default(),
        }))
    }

    fn flush(&self) -> Result<()> {
        self.inner.flush()
    }
    fn verify(&self) -> Result<VerifyReport> {
        self.fault.verify(self)
    }
    fn structure(&self) -> Result<Vec<(&'static str, u64)>> {
        self.inner.structure()
    }
}

/// An import into a faulty engine: each batch goes through the fault's `import_batch` hook.
struct FaultyImport<'a> {
    inner: Box<dyn SyncImport + 'a>,
    fault: &'static dyn Fault,
    /// What the fault keeps of this import's earlier batches (empty unless it keeps something).
    earlier: std::collections::HashSet<String>,
}

impl SyncImport for FaultyImport<'_> {
    fn write(&mut self, batch: RecordBatch) -> Result<()> {
        self.inner
            .write(self.fault.import_batch(batch, &mut self.earlier))
    }
    fn commit(self: Box<Self>) -> Result<()> {
        self.inner.commit()
    }
}
