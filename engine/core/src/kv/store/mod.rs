//! [`KvStore`]: records and secondary indexes as keys over any [`KvBackend`].
//!
//! - Writers are serialised by the handle lock; every write call is one atomic batch built
//!   from a snapshot taken under that lock (dropped before the batch is written).
//! - Reads copy the handle (current, viewed) as the last finished write call left it (each
//!   write publishes its handle when it returns), then take their one snapshot, and retry
//!   when a write changed the handle in between ([`KvStore::view`]): a read never pairs a
//!   handle with data committed after a later handle change (a handle naming a sync a later
//!   cleanup deleted), and never waits for a write in flight.
//! - If-newer reads only the envelope header of the stored value.
//! - Cleanup is range deletes per key kind; diff, export and import stream in chunks.

mod maintenance;
mod reads;
mod verify;
mod writes;

pub use writes::fresh_writes;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use super::backend::{KvBackend, KvSnapshot, WriteBatch};
use crate::codec::envelope;
use crate::codec::key::{decode_key, prefix_successor, KeyBuilder, KeyKind, OwnedPart};
use crate::contract::Opener;
use crate::engine::{EngineConfig, StorageEngine, SyncImport};
use crate::error::{Error, Result};
use crate::page::{Page, PageRequest, PageToken};
use crate::query::ListQuery;
use crate::record::{PutMode, Record, RecordBatch, RecordKey};
use crate::stats::Stats;
use crate::sync_run::{validate_sync_id, SyncId, SyncRun, SyncType};
use crate::RESUME_WINDOW_NANOS;

/// The open handle's state (SPEC §2: it belongs to the handle, not to the data).
#[derive(Clone, Debug, Default, PartialEq)]
struct Handle {
    current: Option<SyncId>,
    viewed: Option<SyncId>,
}

/// The sync-store contract over a key-value backend.
pub struct KvStore<B: KvBackend> {
    backend: B,
    config: EngineConfig,
    /// The writers' lock and their handle.
    handle: Mutex<Handle>,
    /// The handle as the last finished write call left it (what reads copy), and how many
    /// times a write call changed it.
    published: Mutex<(Handle, u64)>,
    latest: Mutex<LatestFull>,
    /// The sync this handle created, whose record ranges hold only what this handle put
    /// there, and the keys it put ([`writes::Written`]; `None`: no such sync, every put
    /// reads).
    fresh: Mutex<Option<(SyncId, writes::Written)>>,
    /// A planted bug for the tests that show the checks catch a broken written-key set.
    forgetful: std::sync::atomic::AtomicBool,
}

/// The writers' handle lock; dropping it publishes the handle to readers (after the write's
/// batch is committed, so no read sees a handle ahead of the data).
struct HandleGuard<'a> {
    guard: MutexGuard<'a, Handle>,
    published: &'a Mutex<(Handle, u64)>,
}

impl std::ops::Deref for HandleGuard<'_> {
    type Target = Handle;
    fn deref(&self) -> &Handle {
        &self.guard
    }
}

impl std::ops::DerefMut for HandleGuard<'_> {
    fn deref_mut(&mut self) -> &mut Handle {
        &mut self.guard
    }
}

impl Drop for HandleGuard<'_> {
    fn drop(&mut self) {
        // Handle updates are single assignments; a panic cannot leave it half-written.
        let mut p = self.published.lock().unwrap_or_else(|e| e.into_inner());
        if p.0 != *self.guard {
            *p = (self.guard.clone(), p.1 + 1);
        }
    }
}

/// A cache of the latest finished full sync, which every read that names no sync needs and
/// which otherwise costs a decode of every sync run. Writes that change sync runs bump
/// `epoch` before and after they commit and count themselves in `writing`; a reader may use
/// or fill the cache only for the epoch it saw, with no run write in flight, before taking its
/// snapshot, so the cached answer always belongs to the snapshot it is used with.
#[derive(Debug, Default)]
struct LatestFull {
    epoch: u64,
    writing: u32,
    cached: Option<(u64, Option<SyncId>)>,
}

/// The run-cache epoch a reader saw before taking its snapshot (`None`: a run write was in
/// flight, so the cache cannot be trusted for this read).
#[derive(Clone, Copy)]
struct Epoch(Option<u64>);

/// Hex of a key, for error messages.
pub(crate) fn hex(key: &[u8]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

/// The smallest key after `key`.
pub(crate) fn after(key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(key.len() + 1);
    k.extend_from_slice(key);
    k.push(0);
    k
}

/// Whether `sync` holds no record of any kind (one seek per kind): what a new sync's set of
/// written keys ([`writes::Written`]) starts from. Records under an id without a run are damage or an
/// import's leftovers; a sync created over them reads before every put as usual.
fn records_absent(snap: &dyn KvSnapshot, sync: &SyncId) -> Result<bool> {
    for kind in crate::RecordKind::ALL {
        let prefix = KeyBuilder::new(super::layout::primary_kind(kind))
            .str(sync.as_str())
            .finish();
        let end = prefix_successor(&prefix);
        let mut any = false;
        snap.scan(&prefix, end.as_deref(), false, &mut |_, _| {
            any = true;
            Ok(false)
        })?;
        if any {
            return Ok(false);
        }
    }
    Ok(true)
}

fn run_key(id: &SyncId) -> Vec<u8> {
    KeyBuilder::new(KeyKind::SyncRun).str(id.as_str()).finish()
}

fn run_start_key(run: &SyncRun) -> Vec<u8> {
    KeyBuilder::new(KeyKind::SyncRunByStart)
        .i64(run.started_at.0)
        .str(run.id.as_str())
        .finish()
}

/// Decodes the record stored at `key`; damage is `Corruption` naming the key.
pub(crate) fn decode_record_at(key: &[u8], value: &[u8]) -> Result<Record> {
    envelope::decode_record(value).map_err(|e| e.corruption(format!("record at key {}", hex(key))))
}

/// What a read hands the stored bytes of each record to, with the key they are stored under.
pub(crate) type Stored<'v> = dyn FnMut(&[u8], &[u8]) -> Result<()> + 'v;

/// Views one stored record envelope in place ([`envelope::view`]), naming its key when the
/// bytes are damaged.
pub(crate) fn view_record_at<'v>(key: &[u8], value: &'v [u8]) -> Result<crate::RecordView<'v>> {
    envelope::view(value).map_err(|e| e.corruption(format!("record at key {}", hex(key))))
}

/// Reads and decodes one stored record.
pub(crate) fn get_record(snap: &dyn KvSnapshot, key: &[u8]) -> Result<Option<Record>> {
    let mut out = None;
    snap.get(key, &mut |v| {
        out = Some(decode_record_at(key, v)?);
        Ok(())
    })?;
    Ok(out)
}

fn read_run(snap: &dyn KvSnapshot, id: &SyncId) -> Result<Option<SyncRun>> {
    let key = run_key(id);
    let mut out = None;
    snap.get(&key, &mut |v| {
        let run =
            envelope::decode_sync_run(v).map_err(|e| e.corruption(format!("sync run {id}")))?;
        if &run.id != id {
            return Err(Error::corruption(format!(
                "sync run stored under {id} says it is {}",
                run.id
            )));
        }
        out = Some(run);
        Ok(())
    })?;
    Ok(out)
}

fn all_runs(snap: &dyn KvSnapshot) -> Result<Vec<SyncRun>> {
    let prefix = KeyBuilder::new(KeyKind::SyncRun).finish();
    let end = prefix_successor(&prefix);
    let mut runs = Vec::new();
    snap.scan(&prefix, end.as_deref(), false, &mut |k, v| {
        runs.push(
            envelope::decode_sync_run(v)
                .map_err(|e| e.corruption(format!("sync run at key {}", hex(k))))?,
        );
        Ok(true)
    })?;
    Ok(runs)
}

fn put_run(batch: &mut WriteBatch, run: &SyncRun) -> Result<()> {
    let value = envelope::encode_sync_run(run)
        .map_err(|e| Error::invalid_argument(format!("sync run {}: {e}", run.id)))?;
    batch.put(run_key(&run.id), value);
    batch.put(run_start_key(run), Vec::new());
    Ok(())
}

fn not_found(id: &SyncId) -> Error {
    Error::not_found(format!("no sync {id}"))
}

/// Decodes a stored key of `kind`, or reports corruption.
pub(crate) fn key_parts(key: &[u8], kind: KeyKind) -> Result<Vec<OwnedPart>> {
    let d = decode_key(key).map_err(|e| e.corruption(format!("key {}", hex(key))))?;
    if d.kind != kind {
        return Err(Error::corruption(format!(
            "key {} is a {}, expected {}",
            hex(key),
            d.kind.name(),
            kind.name()
        )));
    }
    Ok(d.parts)
}

impl<B: KvBackend> KvStore<B> {
    /// Opens the contract over `backend`.
    pub fn new(backend: B, config: EngineConfig) -> Self {
        KvStore {
            backend,
            config,
            handle: Mutex::new(Handle::default()),
            published: Mutex::new((Handle::default(), 0)),
            latest: Mutex::new(LatestFull::default()),
            fresh: Mutex::new(None),
            forgetful: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Plants a bug, for tests of the checks only: from the next sync this handle creates on,
    /// the set of keys it wrote forgets them, so a re-put of a key skips the read that index
    /// upkeep and if-newer need (a stale index entry, an if-newer that always writes).
    #[doc(hidden)]
    pub fn plant_forgetful_written_keys(&self) {
        self.forgetful
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// The backend underneath.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// The writers' lock: held for a whole write call; the handle it guards is published to
    /// readers when it drops.
    fn handle(&self) -> HandleGuard<'_> {
        // Handle updates are single assignments; a panic cannot leave it half-written.
        HandleGuard {
            guard: self.handle.lock().unwrap_or_else(|e| e.into_inner()),
            published: &self.published,
        }
    }

    /// The published handle and its version.
    fn published(&self) -> (Handle, u64) {
        // Handle updates are single assignments; a panic cannot leave it half-written.
        self.published
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// What a read answers from: the published handle, the run-cache epoch and one snapshot.
    /// A write that changes the handle between the copy and the snapshot makes it try again,
    /// so the handle is never older than the last handle change the snapshot holds the data
    /// of (record commits in between are fine: they leave the handle as it is).
    fn view(&self) -> Result<(Handle, Epoch, B::Snapshot<'_>)> {
        loop {
            let (handle, version) = self.published();
            let seen = self.epoch();
            let snap = self.backend.snapshot()?;
            if self.published().1 == version {
                return Ok((handle, seen, snap));
            }
        }
    }

    /// An empty set of written keys for a sync whose record ranges are known empty (with the
    /// planted bug when it is planted).
    fn new_written(&self) -> writes::Written {
        let mut written = writes::Written::default();
        written.forgetful = self.forgetful.load(std::sync::atomic::Ordering::Relaxed);
        written
    }

    fn fresh(&self) -> MutexGuard<'_, Option<(SyncId, writes::Written)>> {
        // The set only grows, and before the batch it covers is written: a panic cannot
        // leave a stored key out of it.
        self.fresh.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn latest(&self) -> MutexGuard<'_, LatestFull> {
        // Every update of the cache leaves it consistent; a panic cannot leave it half-written.
        self.latest.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The epoch to read under; call before taking the snapshot the read uses.
    fn epoch(&self) -> Epoch {
        let l = self.latest();
        Epoch((l.writing == 0).then_some(l.epoch))
    }

    /// Writes a batch that creates, changes or deletes sync runs, invalidating the cache of
    /// the latest full sync for its whole duration.
    fn write_runs(&self, batch: &WriteBatch) -> Result<()> {
        {
            let mut l = self.latest();
            l.writing += 1;
            l.epoch += 1;
        }
        let out = self.backend.write(batch);
        let mut l = self.latest();
        l.writing -= 1;
        l.epoch += 1;
        out
    }

    /// The latest finished full sync in `snap`, from the cache when `seen` allows.
    fn latest_full(&self, snap: &dyn KvSnapshot, seen: Epoch) -> Result<Option<SyncId>> {
        let valid = |l: &LatestFull, e: u64| l.writing == 0 && l.epoch == e;
        if let Some(e) = seen.0 {
            let l = self.latest();
            if let Some((at, id)) = &l.cached {
                if *at == e && valid(&l, e) {
                    return Ok(id.clone());
                }
            }
        }
        let latest = all_runs(snap)?
            .into_iter()
            .filter(|r| r.sync_type == SyncType::Full)
            .filter_map(|r| r.ended_at.map(|e| (e, r.id)))
            .max()
            .map(|(_, id)| id);
        if let Some(e) = seen.0 {
            let mut l = self.latest();
            if valid(&l, e) {
                l.cached = Some((e, latest.clone()));
            }
        }
        Ok(latest)
    }

    /// Which sync a read sees (SPEC §2), answered from `snap`, which was taken after `seen`.
    fn resolve(
        &self,
        snap: &dyn KvSnapshot,
        seen: Epoch,
        named: Option<&SyncId>,
        handle: &Handle,
    ) -> Result<Option<SyncId>> {
        if let Some(id) = named {
            validate_sync_id(id)?;
            return match read_run(snap, id)? {
                Some(_) => Ok(Some(id.clone())),
                None => Err(not_found(id)),
            };
        }
        if let Some(id) = handle.current.as_ref().or(handle.viewed.as_ref()) {
            return Ok(Some(id.clone()));
        }
        self.latest_full(snap, seen)
    }

    /// A point get in the sync a read resolves to (SPEC §2): hands `each` the stored bytes of
    /// the record at `key`, with its primary key; `false` when it is absent or no sync
    /// resolves. The owned and the lending get are this with a decoder or a viewer as `each`.
    fn get_each(
        &self,
        sync: Option<&SyncId>,
        key: &RecordKey,
        each: &mut Stored<'_>,
    ) -> Result<bool> {
        key.validate()?;
        let (handle, seen, snap) = self.view()?;
        let Some(sync) = self.resolve(&snap, seen, sync, &handle)? else {
            return Ok(false);
        };
        let pk = super::layout::primary_key_of(sync.as_str(), key);
        snap.get(&pk, &mut |v| each(&pk, v))
    }

    /// Mints a new sync id, refusing one that already exists.
    fn mint(&self, snap: &dyn KvSnapshot, now: crate::Timestamp) -> Result<SyncId> {
        let id = self.config.ids.next_id(now);
        validate_sync_id(&id)
            .map_err(|e| e.context("the id source returned an invalid sync id"))?;
        if read_run(snap, &id)?.is_some() {
            return Err(Error::already_exists(format!(
                "id source returned existing sync id {id}"
            )));
        }
        Ok(id)
    }

    /// Creates an unfinished sync and makes it current (the handle lock is held by the caller).
    fn create_sync(
        &self,
        handle: &mut Handle,
        sync_type: SyncType,
        parent: Option<SyncId>,
    ) -> Result<SyncId> {
        let now = self.config.clock.now();
        let (id, empty) = {
            let snap = self.backend.snapshot()?;
            let id = self.mint(&snap, now)?;
            let empty = records_absent(&snap, &id)?;
            (id, empty)
        };
        let run = SyncRun {
            id: id.clone(),
            sync_type,
            parent,
            started_at: now,
            ended_at: None,
            token: String::new(),
        };
        let mut batch = WriteBatch::new();
        put_run(&mut batch, &run)?;
        self.write_runs(&batch)?;
        handle.current = Some(id.clone());
        *self.fresh() = empty.then(|| (id.clone(), self.new_written()));
        Ok(id)
    }

    /// Rewrites the current sync's run with `f` applied.
    fn update_current(
        &self,
        handle: &Handle,
        call: &str,
        f: impl FnOnce(&mut SyncRun),
    ) -> Result<()> {
        let id = handle
            .current
            .clone()
            .ok_or_else(|| Error::failed_precondition(format!("{call}: no current sync")))?;
        let mut run = {
            let snap = self.backend.snapshot()?;
            read_run(&snap, &id)?
                .ok_or_else(|| Error::corruption(format!("{call}: current sync {id} vanished")))?
        };
        f(&mut run);
        let mut batch = WriteBatch::new();
        put_run(&mut batch, &run)?;
        self.write_runs(&batch)
    }

    fn current_id(handle: &Handle, call: &str) -> Result<SyncId> {
        handle
            .current
            .clone()
            .ok_or_else(|| Error::failed_precondition(format!("{call}: no current sync")))
    }
}

impl<B: KvBackend> StorageEngine for KvStore<B> {
    fn name(&self) -> &str {
        self.backend.name()
    }

    fn start_sync(&self) -> Result<(SyncId, bool)> {
        let mut handle = self.handle();
        if let Some(id) = &handle.current {
            return Ok((id.clone(), false));
        }
        let now = self.config.clock.now();
        let window_start = now.saturating_sub_nanos(RESUME_WINDOW_NANOS);
        let resumable = {
            let snap = self.backend.snapshot()?;
            all_runs(&snap)?
                .into_iter()
                .filter(|r| r.ended_at.is_none() && r.started_at >= window_start)
                .map(|r| (r.started_at, r.id))
                .max()
        };
        if let Some((_, id)) = resumable {
            handle.current = Some(id.clone());
            return Ok((id, false));
        }
        self.create_sync(&mut handle, SyncType::Full, None)
            .map(|id| (id, true))
    }

    fn start_new_sync(&self, sync_type: SyncType, parent: Option<&SyncId>) -> Result<SyncId> {
        if let Some(p) = parent {
            validate_sync_id(p)?;
            if !sync_type.allows_parent() {
                return Err(Error::invalid_argument(format!(
                    "a {} sync takes no parent",
                    sync_type.name()
                )));
            }
        }
        let mut handle = self.handle();
        if let Some(id) = handle.current.clone() {
            let snap = self.backend.snapshot()?;
            let run = read_run(&snap, &id)?
                .ok_or_else(|| Error::corruption(format!("current sync {id} vanished")))?;
            return if run.sync_type == sync_type {
                Ok(id)
            } else {
                Err(Error::failed_precondition(format!(
                    "sync {id} of type {} is current; cannot start a {} sync",
                    run.sync_type.name(),
                    sync_type.name()
                )))
            };
        }
        if let Some(p) = parent {
            let snap = self.backend.snapshot()?;
            if read_run(&snap, p)?.is_none() {
                return Err(not_found(p).context("parent"));
            }
        }
        self.create_sync(&mut handle, sync_type, parent.cloned())
    }

    fn set_current_sync(&self, id: &SyncId) -> Result<()> {
        validate_sync_id(id)?;
        let mut handle = self.handle();
        let run = {
            let snap = self.backend.snapshot()?;
            read_run(&snap, id)?.ok_or_else(|| not_found(id))?
        };
        if run.ended_at.is_some() {
            return Err(Error::failed_precondition(format!("sync {id} is finished")));
        }
        handle.current = Some(id.clone());
        Ok(())
    }

    fn current_sync_token(&self) -> Result<String> {
        let handle = self.handle();
        let id = Self::current_id(&handle, "current_sync_token")?;
        let snap = self.backend.snapshot()?;
        Ok(read_run(&snap, &id)?
            .ok_or_else(|| Error::corruption(format!("current sync {id} vanished")))?
            .token)
    }

    fn checkpoint_sync(&self, token: &str) -> Result<()> {
        let handle = self.handle();
        self.update_current(&handle, "checkpoint_sync", |r| r.token = token.to_string())
    }

    fn end_sync(&self) -> Result<()> {
        let mut handle = self.handle();
        let now = self.config.clock.now();
        self.update_current(&handle, "end_sync", |r| r.ended_at = Some(now))?;
        handle.current = None;
        Ok(())
    }

    fn view_sync(&self, id: Option<&SyncId>) -> Result<()> {
        let Some(id) = id else {
            self.handle().viewed = None;
            return Ok(());
        };
        validate_sync_id(id)?;
        let mut handle = self.handle();
        if let Some(cur) = &handle.current {
            return Err(Error::failed_precondition(format!(
                "view_sync: sync {cur} is current"
            )));
        }
        let run = {
            let snap = self.backend.snapshot()?;
            read_run(&snap, id)?.ok_or_else(|| not_found(id))?
        };
        if run.ended_at.is_none() {
            return Err(Error::failed_precondition(format!(
                "view_sync: sync {id} is not finished"
            )));
        }
        handle.viewed = Some(id.clone());
        Ok(())
    }

    fn get_sync_run(&self, id: &SyncId) -> Result<Option<SyncRun>> {
        validate_sync_id(id)?;
        let snap = self.backend.snapshot()?;
        read_run(&snap, id)
    }

    fn list_sync_runs(&self, page: &PageRequest) -> Result<Page<SyncRun>> {
        self.list_runs(page)
    }

    fn put(&self, batch: &RecordBatch, mode: PutMode) -> Result<()> {
        batch.validate(self.config.max_asset_bytes)?;
        let handle = self.handle();
        let sync = Self::current_id(&handle, "put")?;
        self.write_records(&sync, batch, mode)
    }

    fn delete_grant(&self, id: &str) -> Result<bool> {
        crate::validate_id("grant.id", id)?;
        let handle = self.handle();
        let sync = Self::current_id(&handle, "delete_grant")?;
        self.remove_grant(&sync, id)
    }

    fn get(&self, sync: Option<&SyncId>, key: &RecordKey) -> Result<Option<Record>> {
        let mut out = None;
        self.get_each(sync, key, &mut |pk, v| {
            let record = decode_record_at(pk, v)?;
            if record.kind() != key.kind() {
                return Err(reads::wrong_kind(pk, record.kind()));
            }
            out = Some(record);
            Ok(())
        })?;
        Ok(out)
    }

    fn visit_get(
        &self,
        sync: Option<&SyncId>,
        key: &RecordKey,
        visit: &mut crate::Visitor<'_>,
    ) -> Result<bool> {
        self.get_each(sync, key, &mut |pk, v| {
            let view = view_record_at(pk, v)?;
            if view.kind() != key.kind() {
                return Err(reads::wrong_kind(pk, view.kind()));
            }
            visit(view)
        })
    }

    fn list(
        &self,
        sync: Option<&SyncId>,
        query: &ListQuery,
        page: &PageRequest,
    ) -> Result<Page<Record>> {
        query.validate()?;
        let (handle, seen, snap) = self.view()?;
        let resolved = self.resolve(&snap, seen, sync, &handle)?;
        reads::list(&snap, resolved.as_ref(), query, page)
    }

    fn visit_list(
        &self,
        sync: Option<&SyncId>,
        query: &ListQuery,
        page: &PageRequest,
        visit: &mut crate::Visitor<'_>,
    ) -> Result<Option<PageToken>> {
        query.validate()?;
        let (handle, seen, snap) = self.view()?;
        let resolved = self.resolve(&snap, seen, sync, &handle)?;
        reads::visit_list(&snap, resolved.as_ref(), query, page, visit)
    }

    fn stats(&self, sync: Option<&SyncId>) -> Result<Stats> {
        let (handle, seen, snap) = self.view()?;
        match self.resolve(&snap, seen, sync, &handle)? {
            Some(s) => reads::stats(&snap, &s),
            None => Ok(Stats::default()),
        }
    }

    fn cleanup(&self, keep: usize) -> Result<Vec<SyncId>> {
        self.cleanup_syncs(keep)
    }

    fn generate_sync_diff(&self, base: &SyncId, applied: &SyncId) -> Result<(SyncId, SyncId)> {
        self.diff(base, applied)
    }

    fn export_sync(
        &self,
        id: &SyncId,
        sink: &mut dyn FnMut(RecordBatch) -> Result<()>,
    ) -> Result<SyncRun> {
        self.export(id, sink)
    }

    fn begin_import<'a>(&'a self, run: &SyncRun) -> Result<Box<dyn SyncImport + 'a>> {
        self.import(run)
    }

    fn flush(&self) -> Result<()> {
        self.backend.flush()
    }

    fn verify(&self) -> Result<crate::engine::VerifyReport> {
        self.verify_store()
    }
    fn structure(&self) -> Result<Vec<(&'static str, u64)>> {
        self.backend.structure()
    }
}

/// Opens `KvStore`s over a backend type: the `Opener` of every key-value engine.
pub struct KvOpener<B> {
    name: &'static str,
    open: fn(&Path) -> Result<B>,
    entry: Option<&'static str>,
    read_only: Option<fn(&Path) -> Result<B>>,
}

impl<B: KvBackend> KvOpener<B> {
    /// `open` opens (or creates) the backend's files inside the given directory.
    pub fn new(name: &'static str, open: fn(&Path) -> Result<B>) -> Self {
        KvOpener {
            name,
            open,
            entry: None,
            read_only: None,
        }
    }
    /// Names the file or directory in a store directory that holds the backend's data
    /// ([`Opener::store_entry`]).
    pub fn stored_in(mut self, entry: &'static str) -> Self {
        self.entry = Some(entry);
        self
    }
    /// Adds the backend's read-only open of an existing store ([`Opener::open_read_only`]).
    pub fn with_read_only(mut self, open: fn(&Path) -> Result<B>) -> Self {
        self.read_only = Some(open);
        self
    }
}

impl<B: KvBackend> Opener for KvOpener<B> {
    fn name(&self) -> &str {
        self.name
    }
    fn store_entry(&self) -> Option<&str> {
        self.entry
    }
    fn open_read_only(
        &self,
        dir: &Path,
        config: EngineConfig,
    ) -> Option<Result<Box<dyn StorageEngine>>> {
        let open = self.read_only?;
        Some(open(dir).map(|b| Box::new(KvStore::new(b, config)) as Box<dyn StorageEngine>))
    }
    fn open(&self, dir: &Path, config: EngineConfig) -> Result<Box<dyn StorageEngine>> {
        let backend = (self.open)(dir)?;
        // The names the backend created (its directory, its files) must survive a power
        // loss as much as the data in them: not every backend syncs its directories.
        crate::dirsync::sync_tree(dir)
            .map_err(|e| crate::Error::io(format!("syncing {}: {e}", dir.display())))?;
        let store = KvStore::new(backend, config);
        store.recover()?;
        Ok(Box::new(store))
    }
}
