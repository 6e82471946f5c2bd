//! The `StorageEngine` contract (SPEC §2–§6) and the configuration every engine opens with.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::page::{Page, PageRequest, PageToken};
use crate::query::ListQuery;
use crate::record::{Asset, PutMode, Record, RecordBatch, RecordKey, DEFAULT_MAX_ASSET_BYTES};
use crate::stats::Stats;
use crate::sync_run::{IdSource, SyncId, SyncRun, SyncType, TimeSortableIds};
use crate::time::{Clock, SystemClock, Timestamp};
use crate::view::{lend, RecordView};

/// What a lending read hands each record to: a borrowed, validated view that lives for the
/// one call. An `Err` from the visitor stops the read and is its result.
pub type Visitor<'v> = dyn FnMut(RecordView<'_>) -> Result<()> + 'v;

/// How far back `start_sync` resumes an unfinished sync: 7 days (SPEC §2), inclusive.
pub const RESUME_WINDOW_NANOS: i64 = 7 * 24 * 3600 * Timestamp::NANOS_PER_SEC;

/// How many finished full syncs `cleanup` keeps when the caller has no opinion (SPEC §5).
pub const DEFAULT_KEEP_SYNCS: usize = 2;

/// Largest number of records an export hands its sink at once.
pub const EXPORT_CHUNK: usize = 1_000;

/// What every engine is opened with: where time and sync ids come from, and limits.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Where engines read the time (a manual clock in tests).
    pub clock: Arc<dyn Clock>,
    /// Where engines get new sync ids (seeded in tests).
    pub ids: Arc<dyn IdSource>,
    /// Largest asset payload the store accepts.
    pub max_asset_bytes: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            clock: Arc::new(SystemClock),
            ids: Arc::new(TimeSortableIds::default()),
            max_asset_bytes: DEFAULT_MAX_ASSET_BYTES,
        }
    }
}

/// What a verification found; empty `problems` means the store is consistent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Keys (or rows) looked at.
    pub keys: u64,
    /// Records decoded.
    pub records: u64,
    /// Index entries checked.
    pub index_entries: u64,
    /// Sync runs checked.
    pub sync_runs: u64,
    /// One line per inconsistency, naming the key.
    pub problems: Vec<String>,
}

/// The receiving end of [`StorageEngine::clone_sync`]: batches stream in, and the sync becomes
/// visible only at [`SyncImport::commit`]. Dropping an import without committing leaves the
/// target as it was (no sync run that looks complete).
pub trait SyncImport {
    /// Writes a batch of the imported sync.
    fn write(&mut self, batch: RecordBatch) -> Result<()>;
    /// Makes the imported sync visible; dropped uncommitted, the import leaves nothing.
    fn commit(self: Box<Self>) -> Result<()>;
}

/// The sync-store contract. Every method maps to one SPEC call; see SPEC.md for the rules and
/// `docs/decisions.md` for the readings chosen where SPEC is silent.
///
/// Argument errors are checked in this order: ids and filters (`InvalidArgument`), then
/// preconditions on the handle (`FailedPrecondition`), then referenced syncs (`NotFound`,
/// then `FailedPrecondition` for their state), then page tokens (`InvalidPageToken`).
pub trait StorageEngine: Send + Sync {
    /// Short engine name (`memory`, `sqlite`, `sled`, …).
    fn name(&self) -> &str;

    /// Returns the current sync, else resumes the newest unfinished sync started within
    /// [`RESUME_WINDOW_NANOS`], else starts a new `full` sync. `bool` is "newly created".
    fn start_sync(&self) -> Result<(SyncId, bool)>;
    /// Starts a sync of the given type (returns the current one if its type matches).
    fn start_new_sync(&self, sync_type: SyncType, parent: Option<&SyncId>) -> Result<SyncId>;
    /// Makes an existing unfinished sync current.
    fn set_current_sync(&self, id: &SyncId) -> Result<()>;
    /// The current sync's checkpoint token (empty until the first checkpoint).
    fn current_sync_token(&self) -> Result<String>;
    /// Stores the connector's resume token on the current sync.
    fn checkpoint_sync(&self, token: &str) -> Result<()>;
    /// Stamps `ended_at` on the current sync and clears current.
    fn end_sync(&self) -> Result<()>;
    /// Pins reads to a finished sync (`Some`) or unpins (`None`).
    fn view_sync(&self, id: Option<&SyncId>) -> Result<()>;
    /// One sync run by id.
    fn get_sync_run(&self, id: &SyncId) -> Result<Option<SyncRun>>;
    /// All sync runs in ascending `(started_at, id)` order.
    fn list_sync_runs(&self, page: &PageRequest) -> Result<Page<SyncRun>>;

    /// Writes a batch into the current sync, atomically.
    fn put(&self, batch: &RecordBatch, mode: PutMode) -> Result<()>;
    /// Deletes a grant (and its index entries) from the current sync; `true` if it existed.
    fn delete_grant(&self, id: &str) -> Result<bool>;

    /// Point get in the resolved sync (`sync`, else current, else viewed, else latest full).
    fn get(&self, sync: Option<&SyncId>, key: &RecordKey) -> Result<Option<Record>>;
    /// One page of a list in the resolved sync, in primary-key order.
    fn list(
        &self,
        sync: Option<&SyncId>,
        query: &ListQuery,
        page: &PageRequest,
    ) -> Result<Page<Record>>;
    /// The lending form of [`StorageEngine::get`]: the record, if present, lent to `visit`
    /// as a checked archive instead of returned owned; `true` if it was present. Same
    /// resolution, validation and errors as `get`. The default lends the owned record
    /// ([`owned_visit_get`]); engines that hold archives lend them in place.
    fn visit_get(
        &self,
        sync: Option<&SyncId>,
        key: &RecordKey,
        visit: &mut Visitor<'_>,
    ) -> Result<bool> {
        owned_visit_get(self, sync, key, visit)
    }
    /// The lending form of [`StorageEngine::list`]: the page's records, in order, each lent
    /// to `visit` for one call; returns the page's `next_token`. Same page, token and errors
    /// as `list` with the same arguments. The default lends the owned page
    /// ([`owned_visit_list`]).
    fn visit_list(
        &self,
        sync: Option<&SyncId>,
        query: &ListQuery,
        page: &PageRequest,
        visit: &mut Visitor<'_>,
    ) -> Result<Option<PageToken>> {
        owned_visit_list(self, sync, query, page, visit)
    }
    /// Record counts in the resolved sync (all zero when nothing resolves).
    fn stats(&self, sync: Option<&SyncId>) -> Result<Stats>;

    /// Deletes old syncs, keeping the `keep` latest finished full ones; returns the deleted
    /// ids in sync-run list order.
    fn cleanup(&self, keep: usize) -> Result<Vec<SyncId>>;
    /// Creates the `(partial_upserts, partial_deletions)` pair from `base` to `applied`.
    fn generate_sync_diff(&self, base: &SyncId, applied: &SyncId) -> Result<(SyncId, SyncId)>;
    /// Streams a finished sync's records to `sink` in chunks of at most [`EXPORT_CHUNK`],
    /// kind by kind in [`crate::RecordKind::ALL`] order, each kind in key order.
    fn export_sync(
        &self,
        id: &SyncId,
        sink: &mut dyn FnMut(RecordBatch) -> Result<()>,
    ) -> Result<SyncRun>;
    /// Begins receiving a sync from another store (`AlreadyExists` if the id is present).
    fn begin_import<'a>(&'a self, run: &SyncRun) -> Result<Box<dyn SyncImport + 'a>>;
    /// Makes every acknowledged write durable.
    fn flush(&self) -> Result<()>;

    /// Checks the store at rest (checksums, indexes against records, sync runs). Engines that
    /// cannot say so refuse rather than report a store they did not look at as consistent.
    fn verify(&self) -> Result<VerifyReport> {
        Err(Error::failed_precondition(format!(
            "engine {} has no integrity check",
            self.name()
        )))
    }

    /// Structural counters of the store, where the engine can tell (B-tree branch pages,
    /// LSM tables, compactions since open, overflow pages): each named by the engine, each
    /// above zero once the event it counts has happened (a page split, a memtable flush).
    /// The gate prints in how many cases each one did, so a configuration that never
    /// reaches the machinery it exists for shows as a blind spot. Default: none.
    fn structure(&self) -> Result<Vec<(&'static str, u64)>> {
        Ok(Vec::new())
    }

    /// Writes one asset into the current sync (SPEC §3 `put_asset`).
    fn put_asset(&self, asset: &Asset) -> Result<()> {
        self.put(&RecordBatch::Assets(vec![asset.clone()]), PutMode::Replace)
    }

    /// Copies one finished sync, run and records, into `target` (SPEC §5), streaming.
    fn clone_sync(&self, id: &SyncId, target: &dyn StorageEngine) -> Result<()> {
        let run = self
            .get_sync_run(id)?
            .ok_or_else(|| Error::not_found(format!("clone_sync: no sync {id}")))?;
        if !run.is_finished() {
            return Err(Error::failed_precondition(format!(
                "clone_sync: sync {id} is not finished"
            )));
        }
        let mut import = target.begin_import(&run)?;
        self.export_sync(id, &mut |batch| import.write(batch))?;
        import.commit()
    }
}

/// Every sync run of a store, in list order (pages through `list_sync_runs` to the end).
pub fn all_sync_runs(e: &dyn StorageEngine) -> Result<Vec<SyncRun>> {
    crate::page::read_all(crate::page::MAX_PAGE_SIZE, |req| e.list_sync_runs(req))
}

/// [`StorageEngine::visit_get`] over the owned `get`: the record archived once and lent.
pub fn owned_visit_get<E: StorageEngine + ?Sized>(
    e: &E,
    sync: Option<&SyncId>,
    key: &RecordKey,
    visit: &mut Visitor<'_>,
) -> Result<bool> {
    match e.get(sync, key)? {
        Some(r) => lend(r.as_ref(), visit).map(|()| true),
        None => Ok(false),
    }
}

/// [`StorageEngine::visit_list`] over the owned `list`: each record archived once and lent.
pub fn owned_visit_list<E: StorageEngine + ?Sized>(
    e: &E,
    sync: Option<&SyncId>,
    query: &ListQuery,
    page: &PageRequest,
    visit: &mut Visitor<'_>,
) -> Result<Option<PageToken>> {
    let page = e.list(sync, query, page)?;
    for r in &page.items {
        lend(r.as_ref(), &mut *visit)?;
    }
    Ok(page.next_token)
}
