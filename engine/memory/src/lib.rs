//! # syncproof-memory: the reference engine
//!
//! The whole `StorageEngine` contract over plain typed `BTreeMap`s, with no codecs and no
//! indexes: every list is a full scan with an explicit predicate. It is slow on purpose and
//! written to be read against SPEC.md line by line, because it is the oracle every other
//! engine is compared with. Its page tokens use their own format (see `token`), so a bug in
//! the core token codec cannot hide by being shared.
//!
//! A [`MemoryStore`] plays the part of a path on disk: reopening means dropping the
//! [`MemoryEngine`] handle and opening a new one on the same store, which keeps the data and
//! clears the current and viewed sync (SPEC §2).
//!
//! The SPEC rules and the tests that pin them are listed in `syncproof_engine::contract`.

mod opener;
mod tables;
mod token;

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};

pub use opener::MemoryOpener;
use syncproof_engine::{
    validate_id, validate_sync_id, EngineConfig, EntitlementFilter, Error, GrantFilter, ListQuery,
    Page, PageRequest, PageToken, PutMode, Record, RecordBatch, RecordKey, RecordKind, RecordRef,
    Resource, ResourceFilter, Result, Stats, StorageEngine, SyncId, SyncImport, SyncRun, SyncType,
    EXPORT_CHUNK, RESUME_WINDOW_NANOS,
};
use tables::{insert_batch, with_batch, MemTable, SyncData, Tables};

/// The data of a memory store: what would be on disk. Clones share the same data.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    syncs: Arc<Mutex<BTreeMap<SyncId, SyncData>>>,
}

impl MemoryStore {
    /// An opener with no store yet.
    pub fn new() -> Self {
        Self::default()
    }
}

/// What belongs to one open handle, not to the data.
#[derive(Debug, Default)]
struct Handle {
    current: Option<SyncId>,
    viewed: Option<SyncId>,
}

/// An open handle on a [`MemoryStore`].
#[derive(Debug)]
pub struct MemoryEngine {
    config: EngineConfig,
    store: MemoryStore,
    handle: Mutex<Handle>,
}

/// Both locks, always taken in the same order (handle, then data).
struct State<'a> {
    handle: MutexGuard<'a, Handle>,
    syncs: MutexGuard<'a, BTreeMap<SyncId, SyncData>>,
}

impl MemoryEngine {
    /// A handle on a new, empty store.
    pub fn new(config: EngineConfig) -> Self {
        Self::open(MemoryStore::new(), config)
    }

    /// A handle on an existing store (the reopen of a persistent engine).
    pub fn open(store: MemoryStore, config: EngineConfig) -> Self {
        MemoryEngine {
            config,
            store,
            handle: Mutex::new(Handle::default()),
        }
    }

    /// The store this handle is on, to reopen it later.
    pub fn store(&self) -> MemoryStore {
        self.store.clone()
    }

    /// A deep copy of this handle and its store's data as they are now: a handle on a new
    /// store that later writes to either side do not reach. The concurrent runner keeps one
    /// per state a writer passes through, to check each concurrent read against its window.
    pub fn snapshot(&self) -> MemoryEngine {
        let st = self.state();
        let data = st.syncs.clone();
        let handle = Handle {
            current: st.handle.current.clone(),
            viewed: st.handle.viewed.clone(),
        };
        drop(st);
        MemoryEngine {
            config: self.config.clone(),
            store: MemoryStore {
                syncs: Arc::new(Mutex::new(data)),
            },
            handle: Mutex::new(handle),
        }
    }

    /// The sync a read of `sync` sees now (SPEC §2 resolution): its id, or `None` when no
    /// sync resolves.
    pub fn resolved(&self, sync: Option<&SyncId>) -> Result<Option<SyncId>> {
        let st = self.state();
        Ok(st.resolve(sync)?.map(|d| d.run.id.clone()))
    }

    /// The token this store issues for a page of `query` on the sync `issued_for` whose last
    /// record is `last`: resuming it reads the records of `query` strictly after `last`
    /// (or is refused when reads no longer resolve to `issued_for`). The concurrent runner
    /// resumes the oracle with it where an engine resumed its own token.
    pub fn token_after(issued_for: &SyncId, query: &ListQuery, last: &Record) -> PageToken {
        fn parts<T: MemTable>(r: &T) -> Vec<String> {
            T::key_parts(&r.key())
        }
        let parts = match last {
            Record::ResourceType(r) => parts(r),
            Record::Resource(r) => parts(r),
            Record::Entitlement(r) => parts(r),
            Record::Grant(r) => parts(r),
            Record::Asset(r) => parts(r),
        };
        token::encode(&scope(issued_for, query), &parts)
    }

    fn state(&self) -> State<'_> {
        // A panic while holding a lock cannot leave the maps half-written: every mutation
        // below is computed first and applied with infallible inserts. So poison is ignored.
        let handle = self.handle.lock().unwrap_or_else(|e| e.into_inner());
        let syncs = self.store.syncs.lock().unwrap_or_else(|e| e.into_inner());
        State { handle, syncs }
    }
}

fn not_found(id: &SyncId) -> Error {
    Error::not_found(format!("no sync {id}"))
}

impl State<'_> {
    fn run(&self, id: &SyncId) -> Result<&SyncRun> {
        self.syncs
            .get(id)
            .map(|d| &d.run)
            .ok_or_else(|| not_found(id))
    }

    /// The current sync's data, or `FailedPrecondition` naming the call.
    fn current_mut(&mut self, call: &str) -> Result<&mut SyncData> {
        let id = self
            .handle
            .current
            .clone()
            .ok_or_else(|| Error::failed_precondition(format!("{call}: no current sync")))?;
        self.syncs
            .get_mut(&id)
            .ok_or_else(|| Error::corruption(format!("{call}: current sync {id} vanished")))
    }

    /// Which sync a read sees (SPEC §2): named, else current, else viewed, else the latest
    /// finished full sync, else none.
    fn resolve(&self, named: Option<&SyncId>) -> Result<Option<&SyncData>> {
        if let Some(id) = named {
            validate_sync_id(id)?;
            return self.syncs.get(id).map(Some).ok_or_else(|| not_found(id));
        }
        if let Some(id) = self.handle.current.as_ref().or(self.handle.viewed.as_ref()) {
            return Ok(self.syncs.get(id));
        }
        Ok(self
            .syncs
            .values()
            .filter(|d| d.run.sync_type == SyncType::Full && d.run.ended_at.is_some())
            .max_by(|a, b| (a.run.ended_at, &a.run.id).cmp(&(b.run.ended_at, &b.run.id))))
    }

    /// Creates a new unfinished sync and makes it current.
    fn create_sync(
        &mut self,
        config: &EngineConfig,
        t: SyncType,
        parent: Option<SyncId>,
    ) -> Result<SyncId> {
        let now = config.clock.now();
        let id = config.ids.next_id(now);
        validate_sync_id(&id)
            .map_err(|e| e.context("the id source returned an invalid sync id"))?;
        if self.syncs.contains_key(&id) {
            return Err(Error::already_exists(format!(
                "id source returned existing sync id {id}"
            )));
        }
        let run = SyncRun {
            id: id.clone(),
            sync_type: t,
            parent,
            started_at: now,
            ended_at: None,
            token: String::new(),
        };
        self.syncs.insert(
            id.clone(),
            SyncData {
                run,
                tables: Tables::default(),
            },
        );
        self.handle.current = Some(id.clone());
        Ok(id)
    }
}

/// The predicate of every filter, written out in full, over a borrowed record (a list tests
/// every record it passes over, so none is cloned to be tested).
fn matches(query: &ListQuery, record: RecordRef<'_>) -> bool {
    match (query, record) {
        (ListQuery::ResourceTypes, RecordRef::ResourceType(_)) => true,
        (
            ListQuery::Resources(ResourceFilter {
                resource_type,
                parent,
            }),
            RecordRef::Resource(r),
        ) => {
            resource_type
                .as_ref()
                .is_none_or(|t| &r.id.resource_type == t)
                && parent.as_ref().is_none_or(|p| r.parent.as_ref() == Some(p))
        }
        (ListQuery::Entitlements(EntitlementFilter { resource }), RecordRef::Entitlement(e)) => {
            resource.as_ref().is_none_or(|r| &e.resource == r)
        }
        (ListQuery::Grants(f), RecordRef::Grant(g)) => match f {
            GrantFilter::All => true,
            GrantFilter::Resource(r) => &g.entitlement.resource == r,
            GrantFilter::Entitlement { id, principal } => {
                &g.entitlement.id == id && principal.as_ref().is_none_or(|p| &g.principal == p)
            }
            GrantFilter::Principal(p) => &g.principal == p,
            GrantFilter::ResourceType(t) => &g.entitlement.resource.resource_type == t,
        },
        _ => false,
    }
}

/// A token scope that names the list, its filter and the sync unambiguously.
fn scope(sync: &SyncId, query: &ListQuery) -> String {
    format!("{sync:?}|{query:?}")
}

/// Pages through one typed table: records after the token's key that match, in key order.
fn list_table<T: MemTable>(
    data: &SyncData,
    query: &ListQuery,
    page: &PageRequest,
) -> Result<Page<Record>> {
    let scope = scope(&data.run.id, query);
    let after = match &page.token {
        None => None,
        Some(t) => {
            let parts = token::decode(t, &scope)?;
            Some(T::key_from_parts(&parts).ok_or_else(|| {
                Error::invalid_page_token("page token: key does not fit this list")
            })?)
        }
    };
    let size = page.effective_size();
    // From just past the token's key: a page costs its own length (plus the records the
    // filter passes over), not a rescan of the table from its start.
    let from = after.as_ref().map_or(Bound::Unbounded, Bound::Excluded);
    let mut items: Vec<T> = T::table(&data.tables)
        .range((from, Bound::Unbounded))
        .map(|(_, r)| r)
        .filter(|r| matches(query, r.as_record_ref()))
        .take(size + 1)
        .cloned()
        .collect();
    let next_token = if items.len() > size {
        items.truncate(size);
        items
            .last()
            .map(|last| token::encode(&scope, &T::key_parts(&last.key())))
    } else {
        None
    };
    Ok(Page {
        items: items.into_iter().map(T::into_record).collect(),
        next_token,
    })
}

fn put_typed<T: MemTable>(tables: &mut Tables, records: &[T], mode: PutMode) {
    let table = T::table_mut(tables);
    for r in records {
        let write = match (mode, table.get(&r.key())) {
            (PutMode::Replace, _) | (PutMode::IfNewer, None) => true,
            (PutMode::IfNewer, Some(old)) => r.discovered_at() > old.discovered_at(),
        };
        if write {
            table.insert(r.key(), r.clone());
        }
    }
}

/// Records of `applied` absent from `base` or different from it in anything but
/// `discovered_at` (`upserts`), and records of `base` absent from `applied` (`deletions`).
fn diff_typed<T: MemTable>(base: &Tables, applied: &Tables, up: &mut Tables, del: &mut Tables) {
    let (b, a) = (T::table(base), T::table(applied));
    for (k, r) in a {
        if b.get(k).is_none_or(|old| !old.same_content(r)) {
            T::table_mut(up).insert(k.clone(), r.clone());
        }
    }
    for (k, r) in b {
        if !a.contains_key(k) {
            T::table_mut(del).insert(k.clone(), r.clone());
        }
    }
}

fn export_typed<T: MemTable>(
    tables: &Tables,
    wrap: fn(Vec<T>) -> RecordBatch,
    sink: &mut dyn FnMut(RecordBatch) -> Result<()>,
) -> Result<()> {
    let all: Vec<T> = T::table(tables).values().cloned().collect();
    for chunk in all.chunks(EXPORT_CHUNK) {
        sink(wrap(chunk.to_vec()))?;
    }
    Ok(())
}

impl StorageEngine for MemoryEngine {
    fn name(&self) -> &str {
        "memory"
    }

    fn start_sync(&self) -> Result<(SyncId, bool)> {
        let mut st = self.state();
        if let Some(id) = &st.handle.current {
            return Ok((id.clone(), false));
        }
        let now = self.config.clock.now();
        let window_start = now.saturating_sub_nanos(RESUME_WINDOW_NANOS);
        let resumable = st
            .syncs
            .values()
            .map(|d| &d.run)
            .filter(|r| r.ended_at.is_none() && r.started_at >= window_start)
            .max_by(|a, b| (a.started_at, &a.id).cmp(&(b.started_at, &b.id)))
            .map(|r| r.id.clone());
        if let Some(id) = resumable {
            st.handle.current = Some(id.clone());
            return Ok((id, false));
        }
        st.create_sync(&self.config, SyncType::Full, None)
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
        let mut st = self.state();
        if let Some(id) = st.handle.current.clone() {
            let current_type = st.run(&id)?.sync_type;
            return if current_type == sync_type {
                Ok(id)
            } else {
                Err(Error::failed_precondition(format!(
                    "sync {id} of type {} is current; cannot start a {} sync",
                    current_type.name(),
                    sync_type.name()
                )))
            };
        }
        if let Some(p) = parent {
            st.run(p).map_err(|e| e.context("parent"))?;
        }
        st.create_sync(&self.config, sync_type, parent.cloned())
    }

    fn set_current_sync(&self, id: &SyncId) -> Result<()> {
        validate_sync_id(id)?;
        let mut st = self.state();
        if st.run(id)?.ended_at.is_some() {
            return Err(Error::failed_precondition(format!("sync {id} is finished")));
        }
        st.handle.current = Some(id.clone());
        Ok(())
    }

    fn current_sync_token(&self) -> Result<String> {
        let mut st = self.state();
        Ok(st.current_mut("current_sync_token")?.run.token.clone())
    }

    fn checkpoint_sync(&self, token: &str) -> Result<()> {
        let mut st = self.state();
        st.current_mut("checkpoint_sync")?.run.token = token.to_string();
        Ok(())
    }

    fn end_sync(&self) -> Result<()> {
        let mut st = self.state();
        let now = self.config.clock.now();
        st.current_mut("end_sync")?.run.ended_at = Some(now);
        st.handle.current = None;
        Ok(())
    }

    fn view_sync(&self, id: Option<&SyncId>) -> Result<()> {
        let Some(id) = id else {
            self.state().handle.viewed = None;
            return Ok(());
        };
        validate_sync_id(id)?;
        let mut st = self.state();
        if let Some(cur) = &st.handle.current {
            return Err(Error::failed_precondition(format!(
                "view_sync: sync {cur} is current"
            )));
        }
        if st.run(id)?.ended_at.is_none() {
            return Err(Error::failed_precondition(format!(
                "view_sync: sync {id} is not finished"
            )));
        }
        st.handle.viewed = Some(id.clone());
        Ok(())
    }

    fn get_sync_run(&self, id: &SyncId) -> Result<Option<SyncRun>> {
        validate_sync_id(id)?;
        Ok(self.state().syncs.get(id).map(|d| d.run.clone()))
    }

    fn list_sync_runs(&self, page: &PageRequest) -> Result<Page<SyncRun>> {
        const SCOPE: &str = "sync_runs";
        let st = self.state();
        let after = match &page.token {
            None => None,
            Some(t) => match token::decode(t, SCOPE)?.as_slice() {
                [started, id] => Some((
                    started
                        .parse::<i64>()
                        .map_err(|_| Error::invalid_page_token("page token: bad time"))?,
                    SyncId(id.clone()),
                )),
                _ => {
                    return Err(Error::invalid_page_token(
                        "page token: key does not fit this list",
                    ))
                }
            },
        };
        let mut runs: Vec<&SyncRun> = st.syncs.values().map(|d| &d.run).collect();
        runs.sort_by(|a, b| (a.started_at, &a.id).cmp(&(b.started_at, &b.id)));
        let size = page.effective_size();
        let mut items: Vec<SyncRun> = runs
            .into_iter()
            .filter(|r| {
                after
                    .as_ref()
                    .is_none_or(|(t, id)| (r.started_at.0, &r.id) > (*t, id))
            })
            .take(size + 1)
            .cloned()
            .collect();
        let next_token = if items.len() > size {
            items.truncate(size);
            items
                .last()
                .map(|r| token::encode(SCOPE, &[r.started_at.0.to_string(), r.id.0.clone()]))
        } else {
            None
        };
        Ok(Page { items, next_token })
    }

    fn put(&self, batch: &RecordBatch, mode: PutMode) -> Result<()> {
        batch.validate(self.config.max_asset_bytes)?;
        let mut st = self.state();
        let data = st.current_mut("put")?;
        with_batch!(batch, |v| put_typed(&mut data.tables, v, mode));
        Ok(())
    }

    fn delete_grant(&self, id: &str) -> Result<bool> {
        validate_id("grant.id", id)?;
        let mut st = self.state();
        Ok(st
            .current_mut("delete_grant")?
            .tables
            .grants
            .remove(id)
            .is_some())
    }

    fn get(&self, sync: Option<&SyncId>, key: &RecordKey) -> Result<Option<Record>> {
        key.validate()?;
        let st = self.state();
        let Some(data) = st.resolve(sync)? else {
            return Ok(None);
        };
        let t = &data.tables;
        Ok(match key {
            RecordKey::ResourceType(k) => {
                t.resource_types.get(k).cloned().map(Record::ResourceType)
            }
            RecordKey::Resource(k) => t.resources.get(k).cloned().map(Record::Resource),
            RecordKey::Entitlement(k) => t.entitlements.get(k).cloned().map(Record::Entitlement),
            RecordKey::Grant(k) => t.grants.get(k).cloned().map(Record::Grant),
            RecordKey::Asset(k) => t.assets.get(k).cloned().map(Record::Asset),
        })
    }

    fn list(
        &self,
        sync: Option<&SyncId>,
        query: &ListQuery,
        page: &PageRequest,
    ) -> Result<Page<Record>> {
        query.validate()?;
        let st = self.state();
        let Some(data) = st.resolve(sync)? else {
            return match page.token {
                None => Ok(Page::empty()),
                Some(_) => Err(Error::invalid_page_token(
                    "page token: no sync to read resolves now",
                )),
            };
        };
        match query.kind() {
            RecordKind::ResourceType => {
                list_table::<syncproof_engine::ResourceType>(data, query, page)
            }
            RecordKind::Resource => list_table::<Resource>(data, query, page),
            RecordKind::Entitlement => {
                list_table::<syncproof_engine::Entitlement>(data, query, page)
            }
            RecordKind::Grant => list_table::<syncproof_engine::Grant>(data, query, page),
            RecordKind::Asset => Err(Error::invalid_argument("assets have no list")),
        }
    }

    fn stats(&self, sync: Option<&SyncId>) -> Result<Stats> {
        let st = self.state();
        let Some(data) = st.resolve(sync)? else {
            return Ok(Stats::default());
        };
        let t = &data.tables;
        let mut by_type = BTreeMap::new();
        for r in t.resources.values() {
            *by_type.entry(r.id.resource_type.clone()).or_insert(0) += 1;
        }
        Ok(Stats {
            resource_types: t.resource_types.len() as u64,
            resources: t.resources.len() as u64,
            resources_by_type: by_type,
            entitlements: t.entitlements.len() as u64,
            grants: t.grants.len() as u64,
            assets: t.assets.len() as u64,
        })
    }

    fn cleanup(&self, keep: usize) -> Result<Vec<SyncId>> {
        if keep == 0 {
            return Err(Error::invalid_argument("cleanup: keep must be at least 1"));
        }
        let mut st = self.state();
        let mut fulls: Vec<&SyncRun> = st
            .syncs
            .values()
            .map(|d| &d.run)
            .filter(|r| r.sync_type == SyncType::Full && r.ended_at.is_some())
            .collect();
        // Latest first: greatest ended_at, ties by greater id.
        fulls.sort_by(|a, b| (b.ended_at, &b.id).cmp(&(a.ended_at, &a.id)));
        let oldest_kept_start = fulls
            .get(..keep.min(fulls.len()))
            .and_then(|k| k.last())
            .map(|r| r.started_at);
        let mut doomed: Vec<&SyncRun> = fulls.iter().skip(keep).copied().collect();
        if let Some(start) = oldest_kept_start {
            doomed.extend(st.syncs.values().map(|d| &d.run).filter(|r| {
                r.sync_type != SyncType::Full && r.ended_at.is_some_and(|e| e < start)
            }));
        }
        let spared = [st.handle.current.as_ref(), st.handle.viewed.as_ref()];
        doomed.retain(|r| !spared.contains(&Some(&r.id)));
        doomed.sort_by(|a, b| (a.started_at, &a.id).cmp(&(b.started_at, &b.id)));
        let ids: Vec<SyncId> = doomed.into_iter().map(|r| r.id.clone()).collect();
        for id in &ids {
            st.syncs.remove(id);
        }
        Ok(ids)
    }

    fn generate_sync_diff(&self, base: &SyncId, applied: &SyncId) -> Result<(SyncId, SyncId)> {
        validate_sync_id(base)?;
        validate_sync_id(applied)?;
        let mut st = self.state();
        for id in [base, applied] {
            if st.run(id)?.ended_at.is_none() {
                return Err(Error::failed_precondition(format!(
                    "generate_sync_diff: sync {id} is not finished"
                )));
            }
        }
        let (Some(b), Some(a)) = (st.syncs.get(base), st.syncs.get(applied)) else {
            return Err(Error::not_found("generate_sync_diff: no such sync"));
        };
        let (b, a) = (&b.tables, &a.tables);
        let (mut up, mut del) = (Tables::default(), Tables::default());
        diff_typed::<syncproof_engine::ResourceType>(b, a, &mut up, &mut del);
        diff_typed::<Resource>(b, a, &mut up, &mut del);
        diff_typed::<syncproof_engine::Entitlement>(b, a, &mut up, &mut del);
        diff_typed::<syncproof_engine::Grant>(b, a, &mut up, &mut del);
        diff_typed::<syncproof_engine::Asset>(b, a, &mut up, &mut del);
        let now = self.config.clock.now();
        let up_id = self.config.ids.next_id(now);
        let del_id = self.config.ids.next_id(now);
        for id in [&up_id, &del_id] {
            validate_sync_id(id)
                .map_err(|e| e.context("the id source returned an invalid sync id"))?;
        }
        for id in [&up_id, &del_id] {
            if st.syncs.contains_key(id) || up_id == del_id {
                return Err(Error::already_exists(format!(
                    "id source returned existing sync id {id}"
                )));
            }
        }
        for (id, t, tables) in [
            (&up_id, SyncType::PartialUpserts, up),
            (&del_id, SyncType::PartialDeletions, del),
        ] {
            let run = SyncRun {
                id: id.clone(),
                sync_type: t,
                parent: Some(base.clone()),
                started_at: now,
                ended_at: Some(now),
                token: String::new(),
            };
            st.syncs.insert(id.clone(), SyncData { run, tables });
        }
        Ok((up_id, del_id))
    }

    fn export_sync(
        &self,
        id: &SyncId,
        sink: &mut dyn FnMut(RecordBatch) -> Result<()>,
    ) -> Result<SyncRun> {
        validate_sync_id(id)?;
        // Copy out under the lock, stream without it (the sink may write anywhere).
        let data = {
            let st = self.state();
            let run = st.run(id)?;
            if run.ended_at.is_none() {
                return Err(Error::failed_precondition(format!(
                    "export: sync {id} is not finished"
                )));
            }
            st.syncs
                .get(id)
                .cloned()
                .ok_or_else(|| Error::not_found(format!("export: no sync {id}")))?
        };
        let t = &data.tables;
        export_typed(t, RecordBatch::ResourceTypes, sink)?;
        export_typed(t, RecordBatch::Resources, sink)?;
        export_typed(t, RecordBatch::Entitlements, sink)?;
        export_typed(t, RecordBatch::Grants, sink)?;
        export_typed(t, RecordBatch::Assets, sink)?;
        Ok(data.run)
    }

    fn begin_import<'a>(&'a self, run: &SyncRun) -> Result<Box<dyn SyncImport + 'a>> {
        validate_sync_id(&run.id)?;
        if run.ended_at.is_none() {
            return Err(Error::failed_precondition(format!(
                "import: sync {} is not finished",
                run.id
            )));
        }
        if self.state().syncs.contains_key(&run.id) {
            return Err(Error::already_exists(format!(
                "import: sync {} exists",
                run.id
            )));
        }
        Ok(Box::new(MemoryImport {
            engine: self,
            data: SyncData {
                run: run.clone(),
                tables: Tables::default(),
            },
        }))
    }

    fn flush(&self) -> Result<()> {
        Ok(())
    }

    /// Nothing is at rest: the maps are typed, so there is nothing to be inconsistent but counts.
    fn verify(&self) -> Result<syncproof_engine::VerifyReport> {
        let st = self.state();
        let records: usize = st
            .syncs
            .values()
            .map(|d| {
                d.tables.resource_types.len()
                    + d.tables.resources.len()
                    + d.tables.entitlements.len()
                    + d.tables.grants.len()
                    + d.tables.assets.len()
            })
            .sum();
        Ok(syncproof_engine::VerifyReport {
            records: records as u64,
            sync_runs: st.syncs.len() as u64,
            ..Default::default()
        })
    }
}

/// Buffers an incoming sync; it appears in the store only at commit.
struct MemoryImport<'a> {
    engine: &'a MemoryEngine,
    data: SyncData,
}

impl SyncImport for MemoryImport<'_> {
    fn write(&mut self, batch: RecordBatch) -> Result<()> {
        batch.validate(self.engine.config.max_asset_bytes)?;
        insert_batch(&mut self.data.tables, batch);
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<()> {
        let mut st = self.engine.state();
        let id = self.data.run.id.clone();
        if st.syncs.contains_key(&id) {
            return Err(Error::already_exists(format!("import: sync {id} exists")));
        }
        st.syncs.insert(id, self.data);
        Ok(())
    }
}
