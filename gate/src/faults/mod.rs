//! Deliberately broken engines: a wrapper that injects one bug class into any engine, so a
//! test can show that a checker (the contract suite, the differential runner) catches it.
//! A checker that passes a broken engine is worth nothing; these prove ours do not.
//!
//! Each [`Bug`] names the contract checks that must fail on it ([`Bug::caught_by`]), and a
//! test asserts both that they do and that every contract check is covered by some bug.

pub mod kv;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use syncproof_engine::contract::{Opener, StoreDirs};
use syncproof_engine::engine::all_sync_runs;
use syncproof_engine::page::read_all;
use syncproof_engine::*;

macro_rules! bugs {
    ($($(#[doc = $doc:literal])* $name:ident => [$($check:literal),+];)*) => {
        /// One injectable bug class.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Bug { $($(#[doc = $doc])* $name,)* }

        impl Bug {
            /// Every bug class.
            pub const ALL: &'static [Bug] = &[$(Bug::$name),*];

            /// The contract checks that must fail on an engine with this bug.
            pub fn caught_by(self) -> &'static [&'static str] {
                match self { $(Bug::$name => &[$($check),+],)* }
            }

            /// One line on what the bug does (its doc comment).
            pub fn doc(self) -> &'static str {
                match self { $(Bug::$name => concat!($($doc),*).trim(),)* }
            }

            /// Stable name, for test output and `--inject`.
            pub fn name(self) -> &'static str {
                match self { $(Bug::$name => stringify!($name),)* }
            }
        }
    };
}

bugs! {
    /// Ids longer than 1024 bytes are silently truncated instead of refused.
    TruncateLongIds => ["ids_length_limits"];
    /// `\0` is stripped from ids.
    StripNul => ["ids_any_characters"];
    /// Resource keys are joined with `:` and split at the first `:` on the way out.
    JoinResourceKey => ["resource_key_is_a_tuple"];
    /// `-0.0` in annotations is written as `0.0`.
    NormalizeNegativeZero => ["annotations_bit_exact"];
    /// Grant `sources` are dropped on write.
    DropGrantSources => ["descriptive_fields_round_trip"];
    /// The engine's clock runs one nanosecond ahead of the one it was given.
    ClockSkew => ["ids_and_times_come_from_the_sources"];
    /// `start_sync` always claims the sync is new.
    StartSyncAlwaysNew => ["start_sync_returns_current"];
    /// `start_sync` never resumes an unfinished sync.
    NoResume => ["start_sync_resumes_within_window"];
    /// `start_sync` creates a partial sync instead of a full one.
    NewSyncIsPartial => ["start_sync_starts_full"];
    /// `start_new_sync` of another type ends the current sync instead of refusing.
    StartNewSyncReplacesCurrent => ["start_new_sync_with_current"];
    /// The parent of `start_new_sync` is ignored.
    ParentIgnored => ["start_new_sync_parent_rules"];
    /// `set_current_sync` of a finished sync succeeds (without effect).
    SetCurrentAcceptsFinished => ["set_current_sync_rules"];
    /// `end_sync` without a current sync succeeds.
    EndWithoutCurrentOk => ["current_sync_calls_need_current"];
    /// `view_sync` while a sync is current succeeds (without effect).
    ViewWhileCurrentOk => ["view_sync_rules"];
    /// Writes without a current sync succeed (and go nowhere).
    WriteWithoutCurrentOk => ["writes_need_current"];
    /// `set_current_sync` does nothing, so writes stay in the previous sync.
    SetCurrentIgnored => ["writes_land_in_current"];
    /// `view_sync(Some)` does nothing.
    ViewIgnored => ["read_resolution_order"];
    /// Among full syncs ending at the same instant, reads pick the smaller id.
    TieBySmallerId => ["latest_finished_ties_by_id"];
    /// Reopening restores the current sync instead of clearing it.
    ReopenKeepsHandle => ["reopen_keeps_data_clears_handle"];
    /// A replace keeps the stored `discovered_at` when it is newer.
    ReplaceKeepsNewerDiscoveredAt => ["put_replaces_everything"];
    /// If-newer also writes on equal timestamps.
    IfNewerOnEqual => ["if_newer_rules"];
    /// A batch that fails validation still writes its valid records.
    PartialBatchOnError => ["batch_is_atomic"];
    /// Within a batch the first record with a key wins.
    FirstRecordWins => ["batch_later_record_wins"];
    /// Grants whose principal resource is not stored are refused.
    RequirePrincipal => ["no_referential_integrity"];
    /// `delete_grant` always answers `true`.
    DeleteAlwaysTrue => ["delete_grant_rules"];
    /// An asset without content type gets a default one instead of an error.
    AssetContentTypeDefaulted => ["put_asset_rules"];
    /// A get of an absent key is `NotFound` instead of `None`.
    AbsentGetIsNotFound => ["point_get_absent_is_none"];
    /// Lists sort case-insensitively instead of by bytes.
    CaseInsensitiveOrder => ["lists_in_byte_order"];
    /// Filters match prefixes (`user` also finds `user_group`).
    PrefixFilters => ["resource_filters_exact", "entitlement_filter_exact", "grant_filters_exact"];
    /// Page size 0 serves 50 records instead of 100.
    DefaultPageSize50 => ["page_size_default_and_clamp"];
    /// Filtered lists never return a next token.
    NoTokenOnFilteredLists => ["next_token_iff_more"];
    /// Resuming a token returns the last record of the previous page again.
    InclusiveTokens => ["tokens_resume_strictly_after"];
    /// A bad token silently restarts the list from the beginning.
    RestartOnBadToken => ["bad_tokens_rejected"];
    /// Sync runs are listed by id instead of `(started_at, id)`.
    SyncRunsById => ["sync_runs_list_order"];
    /// Stats never count assets.
    StatsWithoutAssets => ["stats_counts"];
    /// Cleanup keeps one full sync fewer than asked.
    CleanupKeepsOneFewer => ["cleanup_rules"];
    /// Cleanup deletes the viewed sync.
    CleanupDeletesViewed => ["cleanup_spares_unfinished_and_viewed"];
    /// Diff upserts hold additions only, not modifications.
    DiffAdditionsOnly => ["diff_contents"];
    /// Diff returns `(deletions, upserts)`.
    DiffIdsSwapped => ["diff_runs_and_handle"];
    /// Diff of a missing or unfinished sync succeeds.
    DiffUnchecked => ["diff_preconditions"];
    /// Export (and so clone) drops its last chunk.
    ExportDropsLastChunk => ["clone_copies_sync"];
    /// A page token over 64 KiB panics.
    PanicOnLongToken => ["bad_input_never_panics"];
    /// Reopening loses the last batch written before it.
    ReopenLosesLastBatch => ["flush_then_reopen_is_durable"];
    /// Batches are written in two halves, visible in between.
    TornBatches => ["concurrent_reads_see_whole_batches"];
    /// Resuming a token skips the first record after it (an off-by-one at page boundaries).
    SkipAtPageBoundary => ["tokens_resume_strictly_after", "lists_in_byte_order"];
    /// Overwriting a grant leaves its old principal's index entry behind.
    StaleIndexAfterOverwrite => ["put_replaces_everything"];
    /// Diff deletions are never written.
    DiffMissesDeletions => ["diff_contents"];
    /// A put of a record whose id has `\0` after its first byte never returns (a key-building
    /// loop that never advances).
    HangOnNulInId => ["ids_any_characters"];
    /// A put of a record whose id has `\0` after its first byte allocates without bound (a
    /// key-building loop that keeps appending).
    RunawayOnNulInId => ["ids_any_characters"];
}

impl Bug {
    /// The classes that stall instead of answering wrongly: the watchdog's op budget and
    /// memory ceiling catch them, and only in a process of their own, since the stalled
    /// thread never returns (`harness/tests/stall.rs`).
    pub const STALLS: &'static [Bug] = &[Bug::HangOnNulInId, Bug::RunawayOnNulInId];
}

/// Whether some id in `batch` has `\0` after its first byte (the stall bugs' trigger).
fn has_late_nul(batch: &RecordBatch) -> bool {
    let found = std::cell::Cell::new(false);
    map_ids(batch, &|s| {
        if s.bytes().skip(1).any(|b| b == 0) {
            found.set(true);
        }
        s.to_string()
    });
    found.get()
}

/// Never returns: sleeps forever ([`Bug::HangOnNulInId`]).
fn hang() -> ! {
    loop {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Never returns: keeps 16 MiB more resident every 10 ms ([`Bug::RunawayOnNulInId`]).
fn run_away() -> ! {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        hoard.push(vec![1u8; 16 << 20]);
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

impl Bug {
    /// Looks a bug up by its name.
    pub fn from_name(name: &str) -> Option<Bug> {
        Self::ALL.iter().copied().find(|b| b.name() == name)
    }
}

/// State that outlives one handle: what a reopen needs to misbehave with.
#[derive(Debug, Default)]
struct DirState {
    current: Option<SyncId>,
    last_batch: Option<(SyncId, Vec<String>)>,
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
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Debug)]
struct SkewedClock(Arc<dyn Clock>);

impl Clock for SkewedClock {
    fn now(&self) -> Timestamp {
        self.0.now().saturating_add_nanos(1)
    }
}

impl Opener for FaultyOpener {
    fn name(&self) -> &str {
        &self.label
    }

    fn open(&self, dir: &Path, mut config: EngineConfig) -> Result<Box<dyn StorageEngine>> {
        if self.bug == Some(Bug::ClockSkew) {
            config.clock = Arc::new(SkewedClock(config.clock));
        }
        let (state, reopen) = self.dirs.open(dir);
        if reopen && self.bug == Some(Bug::ReopenLosesLastBatch) {
            let last_batch = lock(&state).last_batch.take();
            if let Some((sync, ids)) = last_batch {
                let e = self.inner.open(dir, config.clone())?;
                if e.set_current_sync(&sync).is_ok() {
                    for id in ids {
                        e.delete_grant(&id)?;
                    }
                }
                e.flush()?;
            }
        }
        let inner = self.inner.open(dir, config)?;
        if reopen && self.bug == Some(Bug::ReopenKeepsHandle) {
            let current = lock(&state).current.clone();
            if let Some(cur) = current {
                let _ = inner.set_current_sync(&cur);
            }
        } else {
            lock(&state).current = None;
        }
        Ok(Box::new(Faulty {
            inner,
            bug: self.bug,
            dir: state,
            local: Mutex::default(),
        }))
    }
}

/// Per-handle state of the wrapper.
#[derive(Debug, Default)]
struct Local {
    viewed: Option<SyncId>,
    /// Last record of the page each token was issued after (for `InclusiveTokens`).
    token_last: HashMap<PageToken, Record>,
    /// Upserts sync → its base (for `DiffAdditionsOnly`).
    diffs: HashMap<SyncId, SyncId>,
    /// Deletions syncs (for `DiffMissesDeletions`).
    deletion_syncs: HashSet<SyncId>,
    /// Every principal each grant id ever had in a sync (for `StaleIndexAfterOverwrite`).
    principals: HashMap<(SyncId, String), Vec<ResourceId>>,
}

/// Which records of a sync a read must not see (the diff bugs).
type Hidden<'a> = Box<dyn Fn(&Record) -> bool + 'a>;

/// An engine with one bug injected.
pub struct Faulty {
    inner: Box<dyn StorageEngine>,
    bug: Option<Bug>,
    dir: Arc<Mutex<DirState>>,
    local: Mutex<Local>,
}

/// Rewrites every id string of a batch.
fn map_ids(batch: &RecordBatch, f: &dyn Fn(&str) -> String) -> RecordBatch {
    let rid = |r: &ResourceId| ResourceId::new(f(&r.resource_type), f(&r.resource));
    match batch {
        RecordBatch::ResourceTypes(v) => RecordBatch::ResourceTypes(
            v.iter()
                .map(|r| ResourceType {
                    id: f(&r.id),
                    ..r.clone()
                })
                .collect(),
        ),
        RecordBatch::Resources(v) => RecordBatch::Resources(
            v.iter()
                .map(|r| Resource {
                    id: rid(&r.id),
                    parent: r.parent.as_ref().map(rid),
                    ..r.clone()
                })
                .collect(),
        ),
        RecordBatch::Entitlements(v) => RecordBatch::Entitlements(
            v.iter()
                .map(|r| Entitlement {
                    id: f(&r.id),
                    resource: rid(&r.resource),
                    ..r.clone()
                })
                .collect(),
        ),
        RecordBatch::Grants(v) => RecordBatch::Grants(
            v.iter()
                .map(|r| Grant {
                    id: f(&r.id),
                    entitlement: EntitlementRef {
                        id: f(&r.entitlement.id),
                        resource: rid(&r.entitlement.resource),
                    },
                    principal: rid(&r.principal),
                    ..r.clone()
                })
                .collect(),
        ),
        RecordBatch::Assets(v) => RecordBatch::Assets(
            v.iter()
                .map(|r| Asset {
                    id: f(&r.id),
                    ..r.clone()
                })
                .collect(),
        ),
    }
}

fn map_key(key: &RecordKey, f: &dyn Fn(&str) -> String) -> RecordKey {
    match key {
        RecordKey::ResourceType(i) => RecordKey::ResourceType(f(i)),
        RecordKey::Resource(r) => {
            RecordKey::Resource(ResourceId::new(f(&r.resource_type), f(&r.resource)))
        }
        RecordKey::Entitlement(i) => RecordKey::Entitlement(f(i)),
        RecordKey::Grant(i) => RecordKey::Grant(f(i)),
        RecordKey::Asset(i) => RecordKey::Asset(f(i)),
    }
}

fn truncate_id(s: &str) -> String {
    let mut end = s.len().min(MAX_ID_LEN);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

fn joined(r: &ResourceId) -> ResourceId {
    ResourceId::new(format!("{}:{}", r.resource_type, r.resource), "_")
}

fn split(r: &ResourceId) -> ResourceId {
    match r.resource_type.split_once(':') {
        Some((t, rest)) => ResourceId::new(t, rest),
        None => r.clone(),
    }
}

fn positive_zero(m: &Metadata) -> Metadata {
    match m {
        Metadata::F64(f) if *f == 0.0 => Metadata::F64(0.0),
        Metadata::List(v) => Metadata::List(v.iter().map(positive_zero).collect()),
        Metadata::Map(v) => Metadata::Map(
            v.iter()
                .map(|(k, v)| (k.clone(), positive_zero(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn with_annotations(batch: &RecordBatch, f: &dyn Fn(&Metadata) -> Metadata) -> RecordBatch {
    macro_rules! each {
        ($v:expr, $variant:ident) => {
            RecordBatch::$variant(
                $v.iter()
                    .map(|r| {
                        let mut r = r.clone();
                        r.annotations = f(&r.annotations);
                        r
                    })
                    .collect(),
            )
        };
    }
    match batch {
        RecordBatch::ResourceTypes(v) => each!(v, ResourceTypes),
        RecordBatch::Resources(v) => each!(v, Resources),
        RecordBatch::Entitlements(v) => each!(v, Entitlements),
        RecordBatch::Grants(v) => each!(v, Grants),
        RecordBatch::Assets(v) => each!(v, Assets),
    }
}

fn rid_prefix(filter: &ResourceId, value: &ResourceId) -> bool {
    value.resource_type == filter.resource_type
        && value.resource.starts_with(filter.resource.as_str())
}

/// The filters of SPEC §4, matching prefixes instead of exact values.
fn prefix_match(query: &ListQuery, r: &Record) -> bool {
    match (query, r) {
        (ListQuery::Resources(f), Record::Resource(x)) => {
            f.resource_type
                .as_ref()
                .is_none_or(|t| x.id.resource_type.starts_with(t.as_str()))
                && f.parent
                    .as_ref()
                    .is_none_or(|p| x.parent.as_ref().is_some_and(|xp| rid_prefix(p, xp)))
        }
        (ListQuery::Entitlements(f), Record::Entitlement(x)) => f
            .resource
            .as_ref()
            .is_none_or(|p| rid_prefix(p, &x.resource)),
        (ListQuery::Grants(f), Record::Grant(x)) => match f {
            GrantFilter::All => true,
            GrantFilter::Resource(p) => rid_prefix(p, &x.entitlement.resource),
            GrantFilter::Entitlement { id, principal } => {
                x.entitlement.id.starts_with(id.as_str())
                    && principal
                        .as_ref()
                        .is_none_or(|p| rid_prefix(p, &x.principal))
            }
            GrantFilter::Principal(p) => rid_prefix(p, &x.principal),
            GrantFilter::ResourceType(t) => {
                x.entitlement.resource.resource_type.starts_with(t.as_str())
            }
        },
        _ => true,
    }
}

/// The query with its filter removed.
fn unfiltered(query: &ListQuery) -> ListQuery {
    match query {
        ListQuery::ResourceTypes => ListQuery::ResourceTypes,
        ListQuery::Resources(_) => ListQuery::Resources(ResourceFilter::default()),
        ListQuery::Entitlements(_) => ListQuery::Entitlements(EntitlementFilter::default()),
        ListQuery::Grants(_) => ListQuery::Grants(GrantFilter::All),
    }
}

fn swallow<T>(r: Result<T>, kinds: &[ErrorKind], default: impl FnOnce() -> T) -> Result<T> {
    match r {
        Err(e) if kinds.contains(&e.kind) => Ok(default()),
        other => other,
    }
}

/// A record's id as one lowercase string (for `CaseInsensitiveOrder`).
fn folded_key(r: &Record) -> String {
    format!("{:?}", r.key()).to_lowercase()
}

impl Faulty {
    fn has_current(&self) -> bool {
        self.inner.current_sync_token().is_ok()
    }

    fn note_current(&self, id: Option<SyncId>) {
        lock(&self.dir).current = id;
    }

    /// Lists everything through the inner engine, then filters, orders and pages it here
    /// with offset tokens (`faulty:N`).
    fn list_here(
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
        let offset = match &page.token {
            None => 0,
            Some(t) => t
                .as_str()
                .strip_prefix("faulty:")
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| Error::invalid_page_token("faulty: not an offset token"))?,
        };
        let items: Vec<Record> = all
            .iter()
            .skip(offset)
            .take(page.effective_size())
            .cloned()
            .collect();
        let end = offset + items.len();
        let next_token = (end < all.len()).then(|| PageToken(format!("faulty:{end}")));
        Ok(Page { items, next_token })
    }

    /// The latest finished full sync; with `smaller_wins`, ties go to the smaller id (a bug).
    fn latest(&self, smaller_wins: bool) -> Result<Option<SyncId>> {
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

    /// The sync a read should go to, with the `TieBySmallerId` bug applied.
    /// For the two diff bugs: which records of the sync a read resolves to the diff wrote
    /// wrongly, as if the diff itself had stored them so (`None`: the read sees no such
    /// sync). `DiffMissesDeletions` hides every record of a deletions sync;
    /// `DiffAdditionsOnly` hides the records of an upserts sync whose key its base holds
    /// (modifications). Every read of the sync (get, list, stats, export) goes through it.
    fn diff_hides(&self, sync: Option<&SyncId>) -> Option<Hidden<'_>> {
        let local = lock(&self.local);
        let seen = sync.cloned().or_else(|| local.viewed.clone())?;
        match self.bug {
            Some(Bug::DiffMissesDeletions) if local.deletion_syncs.contains(&seen) => {
                Some(Box::new(|_| true))
            }
            Some(Bug::DiffAdditionsOnly) => {
                let base = local.diffs.get(&seen)?.clone();
                Some(Box::new(move |r: &Record| {
                    matches!(self.inner.get(Some(&base), &r.key()), Ok(Some(_)))
                }))
            }
            _ => None,
        }
    }

    fn read_target(&self, sync: Option<&SyncId>) -> Result<Option<SyncId>> {
        if self.bug == Some(Bug::TieBySmallerId)
            && sync.is_none()
            && !self.has_current()
            && lock(&self.local).viewed.is_none()
        {
            return self.latest(true);
        }
        Ok(sync.cloned())
    }
}

impl StorageEngine for Faulty {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn start_sync(&self) -> Result<(SyncId, bool)> {
        let had_current = self.has_current();
        let (id, new) = self.inner.start_sync()?;
        let out = match self.bug {
            Some(Bug::StartSyncAlwaysNew) => (id, true),
            Some(Bug::NoResume) if !new && !had_current => {
                self.inner.end_sync()?;
                (self.inner.start_new_sync(SyncType::Full, None)?, true)
            }
            Some(Bug::NewSyncIsPartial) if new => {
                self.inner.end_sync()?;
                (self.inner.start_new_sync(SyncType::Partial, None)?, true)
            }
            _ => (id, new),
        };
        self.note_current(Some(out.0.clone()));
        Ok(out)
    }

    fn start_new_sync(&self, sync_type: SyncType, parent: Option<&SyncId>) -> Result<SyncId> {
        let parent = if self.bug == Some(Bug::ParentIgnored) {
            None
        } else {
            parent
        };
        let id = match self.inner.start_new_sync(sync_type, parent) {
            Err(e)
                if e.kind == ErrorKind::FailedPrecondition
                    && self.bug == Some(Bug::StartNewSyncReplacesCurrent) =>
            {
                self.inner.end_sync()?;
                self.inner.start_new_sync(sync_type, parent)?
            }
            other => other?,
        };
        self.note_current(Some(id.clone()));
        Ok(id)
    }

    fn set_current_sync(&self, id: &SyncId) -> Result<()> {
        if self.bug == Some(Bug::SetCurrentIgnored) && self.inner.get_sync_run(id)?.is_some() {
            return Ok(());
        }
        let r = self.inner.set_current_sync(id);
        if r.is_ok() {
            self.note_current(Some(id.clone()));
        }
        if self.bug == Some(Bug::SetCurrentAcceptsFinished) {
            return swallow(r, &[ErrorKind::FailedPrecondition], || ());
        }
        r
    }

    fn current_sync_token(&self) -> Result<String> {
        self.inner.current_sync_token()
    }

    fn checkpoint_sync(&self, token: &str) -> Result<()> {
        let r = self.inner.checkpoint_sync(token);
        if self.bug == Some(Bug::WriteWithoutCurrentOk) {
            return swallow(r, &[ErrorKind::FailedPrecondition], || ());
        }
        r
    }

    fn end_sync(&self) -> Result<()> {
        let r = self.inner.end_sync();
        if r.is_ok() {
            self.note_current(None);
        }
        if self.bug == Some(Bug::EndWithoutCurrentOk) {
            return swallow(r, &[ErrorKind::FailedPrecondition], || ());
        }
        r
    }

    fn view_sync(&self, id: Option<&SyncId>) -> Result<()> {
        if self.bug == Some(Bug::ViewIgnored) && id.is_some() {
            return Ok(());
        }
        let r = self.inner.view_sync(id);
        if r.is_ok() {
            lock(&self.local).viewed = id.cloned();
        }
        if self.bug == Some(Bug::ViewWhileCurrentOk) {
            return swallow(r, &[ErrorKind::FailedPrecondition], || ());
        }
        r
    }

    fn get_sync_run(&self, id: &SyncId) -> Result<Option<SyncRun>> {
        self.inner.get_sync_run(id)
    }

    fn list_sync_runs(&self, page: &PageRequest) -> Result<Page<SyncRun>> {
        if self.bug != Some(Bug::SyncRunsById) {
            return self.inner.list_sync_runs(page);
        }
        let mut all = all_sync_runs(self.inner.as_ref())?;
        all.sort_by(|a, b| a.id.cmp(&b.id));
        let offset = match &page.token {
            None => 0,
            Some(t) => t
                .as_str()
                .parse::<usize>()
                .map_err(|_| Error::invalid_page_token("faulty: bad offset"))?,
        };
        let items: Vec<SyncRun> = all
            .iter()
            .skip(offset)
            .take(page.effective_size())
            .cloned()
            .collect();
        let end = offset + items.len();
        Ok(Page {
            items,
            next_token: (end < all.len()).then(|| PageToken(end.to_string())),
        })
    }

    fn put(&self, batch: &RecordBatch, mode: PutMode) -> Result<()> {
        let mut batch = batch.clone();
        match self.bug {
            Some(Bug::HangOnNulInId) if has_late_nul(&batch) => hang(),
            Some(Bug::RunawayOnNulInId) if has_late_nul(&batch) => run_away(),
            Some(Bug::TruncateLongIds) => batch = map_ids(&batch, &truncate_id),
            Some(Bug::StripNul) => batch = map_ids(&batch, &|s| s.replace('\0', "")),
            Some(Bug::JoinResourceKey) => {
                if let RecordBatch::Resources(v) = &mut batch {
                    v.iter_mut().for_each(|r| r.id = joined(&r.id));
                }
            }
            Some(Bug::NormalizeNegativeZero) => batch = with_annotations(&batch, &positive_zero),
            Some(Bug::DropGrantSources) => {
                if let RecordBatch::Grants(v) = &mut batch {
                    v.iter_mut().for_each(|g| g.sources.clear());
                }
            }
            Some(Bug::AssetContentTypeDefaulted) => {
                if let RecordBatch::Assets(v) = &mut batch {
                    v.iter_mut()
                        .filter(|a| a.content_type.is_empty())
                        .for_each(|a| a.content_type = "application/octet-stream".into());
                }
            }
            Some(Bug::FirstRecordWins) => {
                let mut seen = HashSet::new();
                let records: Vec<Record> = batch
                    .to_records()
                    .into_iter()
                    .filter(|r| seen.insert(r.key()))
                    .collect();
                let mut dedup = RecordBatch::empty(batch.kind());
                for r in records {
                    let _ = dedup.push(r);
                }
                batch = dedup;
            }
            Some(Bug::RequirePrincipal) => {
                if let RecordBatch::Grants(v) = &batch {
                    for g in v {
                        if self
                            .inner
                            .get(None, &RecordKey::Resource(g.principal.clone()))?
                            .is_none()
                        {
                            return Err(Error::not_found(format!(
                                "principal {} of grant {} is not stored",
                                g.principal, g.id
                            )));
                        }
                    }
                }
            }
            Some(Bug::ReplaceKeepsNewerDiscoveredAt) | Some(Bug::IfNewerOnEqual) => {
                let keep_newer = self.bug == Some(Bug::ReplaceKeepsNewerDiscoveredAt)
                    && mode == PutMode::Replace;
                let tie_writes = self.bug == Some(Bug::IfNewerOnEqual) && mode == PutMode::IfNewer;
                if keep_newer || tie_writes {
                    if let RecordBatch::Grants(v) = &mut batch {
                        for g in v.iter_mut() {
                            if let Ok(Some(Record::Grant(old))) =
                                self.inner.get(None, &RecordKey::Grant(g.id.clone()))
                            {
                                if keep_newer && old.discovered_at > g.discovered_at {
                                    g.discovered_at = old.discovered_at;
                                }
                                if tie_writes && old.discovered_at == g.discovered_at {
                                    self.inner.put(
                                        &RecordBatch::Grants(vec![g.clone()]),
                                        PutMode::Replace,
                                    )?;
                                }
                            }
                        }
                    }
                }
            }
            Some(Bug::TornBatches) if batch.len() >= 2 => {
                let records = batch.to_records();
                let (a, b) = records.split_at(records.len() / 2);
                for half in [a, b] {
                    let mut part = RecordBatch::empty(batch.kind());
                    for r in half {
                        let _ = part.push(r.clone());
                    }
                    self.inner.put(&part, mode)?;
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                return Ok(());
            }
            _ => {}
        }
        if self.bug == Some(Bug::StaleIndexAfterOverwrite) {
            if let (RecordBatch::Grants(v), Some(cur)) = (&batch, lock(&self.dir).current.clone()) {
                let mut local = lock(&self.local);
                for g in v {
                    local
                        .principals
                        .entry((cur.clone(), g.id.clone()))
                        .or_default()
                        .push(g.principal.clone());
                }
            }
        }
        let r = self.inner.put(&batch, mode);
        match self.bug {
            Some(Bug::WriteWithoutCurrentOk) => {
                return swallow(r, &[ErrorKind::FailedPrecondition], || ())
            }
            Some(Bug::PartialBatchOnError) => {
                if let Err(e) = &r {
                    if e.kind == ErrorKind::InvalidArgument {
                        for rec in batch.to_records() {
                            let mut one = RecordBatch::empty(batch.kind());
                            let _ = one.push(rec);
                            let _ = self.inner.put(&one, mode);
                        }
                    }
                }
            }
            Some(Bug::ReopenLosesLastBatch) if r.is_ok() => {
                let current = lock(&self.dir).current.clone();
                if let (RecordBatch::Grants(v), Some(cur)) = (&batch, current) {
                    lock(&self.dir).last_batch =
                        Some((cur, v.iter().map(|g| g.id.clone()).collect()));
                }
            }
            _ => {}
        }
        r
    }

    fn delete_grant(&self, id: &str) -> Result<bool> {
        let r = self.inner.delete_grant(id);
        match self.bug {
            Some(Bug::DeleteAlwaysTrue) => r.map(|_| true),
            Some(Bug::WriteWithoutCurrentOk) => {
                swallow(r, &[ErrorKind::FailedPrecondition], || false)
            }
            _ => r,
        }
    }

    fn get(&self, sync: Option<&SyncId>, key: &RecordKey) -> Result<Option<Record>> {
        let target = self.read_target(sync)?;
        let key = match self.bug {
            Some(Bug::TruncateLongIds) => map_key(key, &truncate_id),
            Some(Bug::StripNul) => map_key(key, &|s| s.replace('\0', "")),
            Some(Bug::JoinResourceKey) => match key {
                RecordKey::Resource(r) => RecordKey::Resource(joined(r)),
                k => k.clone(),
            },
            _ => key.clone(),
        };
        let mut got = self.inner.get(target.as_ref(), &key)?;
        if let (Some(hides), Some(r)) = (self.diff_hides(target.as_ref()), &got) {
            if hides(r) {
                got = None;
            }
        }
        Ok(match (self.bug, got) {
            (Some(Bug::JoinResourceKey), Some(Record::Resource(mut r))) => {
                r.id = split(&r.id);
                Some(Record::Resource(r))
            }
            (Some(Bug::AbsentGetIsNotFound), None) => {
                return Err(Error::not_found(format!("{key:?} not found")))
            }
            (_, got) => got,
        })
    }

    fn list(
        &self,
        sync: Option<&SyncId>,
        query: &ListQuery,
        page: &PageRequest,
    ) -> Result<Page<Record>> {
        let target = self.read_target(sync)?;
        let sync = target.as_ref();
        if let Some(hides) = self.diff_hides(sync) {
            return self.list_here(sync, query, page, &|r| !hides(r), &|_| {});
        }
        match self.bug {
            Some(Bug::CaseInsensitiveOrder) => {
                return self
                    .list_here(sync, query, page, &|_| true, &|v| v.sort_by_key(folded_key));
            }
            Some(Bug::PrefixFilters) => {
                query.validate()?;
                return self.list_here(
                    sync,
                    &unfiltered(query),
                    page,
                    &|r| prefix_match(query, r),
                    &|_| {},
                );
            }
            Some(Bug::DefaultPageSize50) if page.size == 0 => {
                return self.inner.list(
                    sync,
                    query,
                    &PageRequest {
                        size: 50,
                        token: page.token.clone(),
                    },
                );
            }
            Some(Bug::PanicOnLongToken)
                if page
                    .token
                    .as_ref()
                    .is_some_and(|t| t.as_str().len() > 64 * 1024) =>
            {
                panic!("faulty engine: token too long");
            }
            Some(Bug::StaleIndexAfterOverwrite) => {
                if let ListQuery::Grants(GrantFilter::Principal(p)) = query {
                    // The sync this read sees: named, else current, else viewed, else latest.
                    let in_sync = match sync {
                        Some(s) => Some(s.clone()),
                        None => {
                            let handle = lock(&self.dir)
                                .current
                                .clone()
                                .or_else(|| lock(&self.local).viewed.clone());
                            match handle {
                                Some(s) => Some(s),
                                None => self.latest(false)?,
                            }
                        }
                    };
                    let history = lock(&self.local).principals.clone();
                    let p = p.clone();
                    return self.list_here(
                        sync,
                        &unfiltered(query),
                        page,
                        &|r| match r {
                            Record::Grant(g) => {
                                g.principal == p
                                    || in_sync.as_ref().is_some_and(|s| {
                                        history
                                            .get(&(s.clone(), g.id.clone()))
                                            .is_some_and(|ps| ps.contains(&p))
                                    })
                            }
                            _ => false,
                        },
                        &|_| {},
                    );
                }
            }
            _ => {}
        }
        let mut result = self.inner.list(sync, query, page);
        if self.bug == Some(Bug::RestartOnBadToken) {
            if let Err(e) = &result {
                if e.kind == ErrorKind::InvalidPageToken {
                    result = self.inner.list(sync, query, &PageRequest::first(page.size));
                }
            }
        }
        let mut p = result?;
        let filtered = !matches!(
            query,
            ListQuery::ResourceTypes | ListQuery::Grants(GrantFilter::All)
        ) && unfiltered(query) != *query;
        if self.bug == Some(Bug::NoTokenOnFilteredLists) && filtered {
            p.next_token = None;
        }
        if self.bug == Some(Bug::SkipAtPageBoundary) && page.token.is_some() && !p.items.is_empty()
        {
            p.items.remove(0);
        }
        if self.bug == Some(Bug::InclusiveTokens) {
            let mut local = lock(&self.local);
            if let Some(prev) = page.token.as_ref().and_then(|t| local.token_last.get(t)) {
                p.items.insert(0, prev.clone());
                p.items.truncate(page.effective_size());
            }
            if let (Some(t), Some(last)) = (&p.next_token, p.items.last()) {
                local.token_last.insert(t.clone(), last.clone());
            }
        }
        Ok(p)
    }

    fn stats(&self, sync: Option<&SyncId>) -> Result<Stats> {
        let target = self.read_target(sync)?;
        if let (Some(hides), Some(id)) = (self.diff_hides(target.as_ref()), target.as_ref()) {
            let mut s = Stats::default();
            self.inner.export_sync(id, &mut |batch| {
                batch
                    .to_records()
                    .iter()
                    .filter(|r| !hides(r))
                    .for_each(|r| s.count(r));
                Ok(())
            })?;
            return Ok(s);
        }
        let mut s = self.inner.stats(target.as_ref())?;
        if self.bug == Some(Bug::StatsWithoutAssets) {
            s.assets = 0;
        }
        Ok(s)
    }

    fn cleanup(&self, keep: usize) -> Result<Vec<SyncId>> {
        match self.bug {
            Some(Bug::CleanupKeepsOneFewer) if keep > 1 => self.inner.cleanup(keep - 1),
            Some(Bug::CleanupDeletesViewed) => {
                let viewed = lock(&self.local).viewed.clone();
                self.inner.view_sync(None)?;
                let deleted = self.inner.cleanup(keep);
                if let Some(v) = viewed {
                    let _ = self.inner.view_sync(Some(&v));
                }
                deleted
            }
            _ => self.inner.cleanup(keep),
        }
    }

    fn generate_sync_diff(&self, base: &SyncId, applied: &SyncId) -> Result<(SyncId, SyncId)> {
        let r = self.inner.generate_sync_diff(base, applied);
        if self.bug == Some(Bug::DiffUnchecked) {
            return swallow(
                r,
                &[ErrorKind::NotFound, ErrorKind::FailedPrecondition],
                || (base.clone(), applied.clone()),
            );
        }
        let (up, del) = r?;
        lock(&self.local).diffs.insert(up.clone(), base.clone());
        lock(&self.local).deletion_syncs.insert(del.clone());
        Ok(if self.bug == Some(Bug::DiffIdsSwapped) {
            (del, up)
        } else {
            (up, del)
        })
    }

    fn export_sync(
        &self,
        id: &SyncId,
        sink: &mut dyn FnMut(RecordBatch) -> Result<()>,
    ) -> Result<SyncRun> {
        if let Some(hides) = self.diff_hides(Some(id)) {
            return self.inner.export_sync(id, &mut |batch| {
                let mut kept = RecordBatch::empty(batch.kind());
                for r in batch.to_records() {
                    if !hides(&r) {
                        let _ = kept.push(r);
                    }
                }
                sink(kept)
            });
        }
        match self.bug {
            Some(Bug::ExportDropsLastChunk) => {
                let mut held: Option<RecordBatch> = None;
                let run = self.inner.export_sync(id, &mut |batch| {
                    if let Some(prev) = held.replace(batch) {
                        sink(prev)?;
                    }
                    Ok(())
                })?;
                Ok(run)
            }
            _ => self.inner.export_sync(id, sink),
        }
    }

    fn begin_import<'a>(&'a self, run: &SyncRun) -> Result<Box<dyn SyncImport + 'a>> {
        self.inner.begin_import(run)
    }

    fn flush(&self) -> Result<()> {
        self.inner.flush()
    }
}
