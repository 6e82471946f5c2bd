//! Shared set-up of the benchmarks: workload sizes, the workloads' inputs, and stores prepared
//! in temp dirs.
//!
//! Sizes: N = 1k and 10k grants by default; `SYNCPROOF_BENCH_LARGE=1` adds 100k and 1M, and
//! `SYNCPROOF_BENCH_SIZES=1000,100000` picks the sizes exactly. Every engine runs with its
//! registry durability (`Durability::Flush` for the key-value engines: commits reach the OS,
//! `flush()` fsyncs), and every write workload ends with `flush()`, so all engines pay for
//! durability the same way.

use syncproof_engine::contract::Opener;
use syncproof_engine::dirsync::sync_tree_and_files;
use syncproof_engine::kv::{fresh_writes, WriteBatch};
use syncproof_engine::{
    EngineConfig, GrantFilter, ListQuery, PageRequest, PutMode, RecordBatch, ResourceId,
    StorageEngine, SyncId, SyncType, Timestamp,
};
use syncproof_harness::engines::EngineInfo;
use syncproof_harness::existing::copy_tree_except;
use syncproof_harness::workload::{batches, grant, write_sync, Shape};

/// The environment variable that lists the sizes exactly.
pub const SIZES_VAR: &str = "SYNCPROOF_BENCH_SIZES";
/// The environment variable that adds the large sizes to the defaults.
pub const LARGE_VAR: &str = "SYNCPROOF_BENCH_LARGE";

/// Grant counts to measure (see the module doc). Exits with a message on a malformed list.
pub fn sizes() -> Vec<usize> {
    if let Ok(list) = std::env::var(SIZES_VAR) {
        return match parse_sizes(&list) {
            Ok(n) => n,
            Err(e) => {
                eprintln!("{SIZES_VAR}={list:?}: {e}");
                std::process::exit(2);
            }
        };
    }
    let mut n = vec![1_000, 10_000];
    if std::env::var_os(LARGE_VAR).is_some() {
        n.extend([100_000, 1_000_000]);
    }
    n
}

/// Parses a comma-separated list of grant counts (each at least 100, so that every workload
/// has something to look up).
pub fn parse_sizes(list: &str) -> Result<Vec<usize>, String> {
    list.split(',')
        .map(|s| {
            let s = s.trim().replace('_', "");
            match s.parse::<usize>() {
                Ok(n) if n >= 100 => Ok(n),
                Ok(n) => Err(format!("{n} is below the smallest size, 100")),
                Err(e) => Err(format!("{s:?} is not a grant count: {e}")),
            }
        })
        .collect()
}

/// The workload shape for `grants` grants: a user per 10 grants, a group (and its `member`
/// entitlement) per 100.
pub fn shape(grants: usize) -> Shape {
    Shape {
        users: (grants / 10).max(10),
        groups: (grants / 100).max(2),
        grants,
        assets: 0,
    }
}

/// The principals of the index-list workloads: 100 users (about 10 grants each).
pub fn index_principals(sh: &Shape) -> Vec<ResourceId> {
    (0..100)
        .map(|u| ResourceId::new("user", format!("{:07}", u * 7 % sh.users)))
        .collect()
}

/// The entitlements of the index-list workloads: up to 100 (about 100 grants each).
pub fn index_entitlements(sh: &Shape) -> Vec<String> {
    (0..sh.groups.min(100))
        .map(|i| grant(sh, i * 13 % sh.groups, 0).entitlement.id)
        .collect()
}

/// The grants of a principal, through the principal index.
pub fn principal_query(p: &ResourceId) -> ListQuery {
    ListQuery::Grants(GrantFilter::Principal(p.clone()))
}

/// The grants of an entitlement, through the entitlement index.
pub fn entitlement_query(id: &str) -> ListQuery {
    ListQuery::Grants(GrantFilter::Entitlement {
        id: id.to_string(),
        principal: None,
    })
}

/// Every page of `query` in `sync` through the lending list, 1,000 per page, reading each
/// record's id from its view: the number of records and the id bytes seen.
pub fn lend_all(
    e: &dyn StorageEngine,
    sync: &SyncId,
    query: &ListQuery,
) -> syncproof_engine::Result<(usize, usize)> {
    let (mut n, mut bytes) = (0, 0);
    let mut req = PageRequest::first(1_000);
    loop {
        let next = e.visit_list(Some(sync), query, &req, &mut |v| {
            n += 1;
            bytes += v.id().len();
            Ok(())
        })?;
        match next {
            Some(t) => req = PageRequest::after(1_000, t),
            None => return Ok((n, bytes)),
        }
    }
}

/// A store of one engine in its own temp dir (removed on drop, after the engine closes).
pub struct Store {
    pub engine: Box<dyn StorageEngine>,
    _dir: tempfile::TempDir,
}

impl AsRef<Store> for Store {
    fn as_ref(&self) -> &Store {
        self
    }
}

/// A store with the syncs written into it.
impl AsRef<Store> for (Store, Vec<SyncId>) {
    fn as_ref(&self) -> &Store {
        &self.0
    }
}

impl Store {
    /// Closes the engine (it flushes and releases its files) and hands back its directory.
    fn close(self) -> tempfile::TempDir {
        drop(self.engine);
        self._dir
    }
}

/// A fresh, empty store.
pub fn empty(opener: &dyn Opener) -> Store {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = opener
        .open(dir.path(), EngineConfig::default())
        .expect("open");
    Store { engine, _dir: dir }
}

/// A store holding one finished sync of `grants` grants; returns it and the sync id.
pub fn with_sync(opener: &dyn Opener, grants: usize) -> (Store, SyncId) {
    let (s, ids) = with_syncs(opener, grants, 1);
    (s, ids[0].clone())
}

/// A store with one finished sync of N grants, built on first use: a filtered run builds
/// only the stores of the benchmarks it runs.
pub struct LazySync {
    opener: Box<dyn Opener>,
    grants: usize,
    cell: std::cell::OnceCell<(Store, SyncId)>,
}

impl LazySync {
    pub fn new(opener: Box<dyn Opener>, grants: usize) -> Self {
        LazySync {
            opener,
            grants,
            cell: std::cell::OnceCell::new(),
        }
    }
    /// The engine and its sync, built now if this is the first use.
    pub fn get(&self) -> (&dyn StorageEngine, &SyncId) {
        let (s, id) = self
            .cell
            .get_or_init(|| with_sync(self.opener.as_ref(), self.grants));
        (s.engine.as_ref(), id)
    }
}

/// A store holding `count` finished full syncs of `grants` grants, variants 0, 1, …: each
/// moves another tenth of the grants to other users. Flushed.
pub fn with_syncs(opener: &dyn Opener, grants: usize, count: u64) -> (Store, Vec<SyncId>) {
    let s = empty(opener);
    let ids = (0..count)
        .map(|v| write_sync(s.engine.as_ref(), shape(grants), v, &mut |_| {}).expect("write sync"))
        .collect();
    s.engine.flush().expect("flush");
    (s, ids)
}

/// A store whose current (unfinished) sync holds variant 0 of `grants` grants: where an
/// if-newer re-sync lands. Flushed. Returns it and the sync id.
pub fn with_open_sync(opener: &dyn Opener, grants: usize) -> (Store, SyncId) {
    let s = empty(opener);
    let id = s
        .engine
        .start_new_sync(SyncType::Full, None)
        .expect("start sync");
    for b in batches(shape(grants), 0) {
        s.engine.put(&b, PutMode::Replace).expect("put");
    }
    s.engine.flush().expect("flush");
    (s, id)
}

/// What a write workload's store holds before the timed work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fill {
    /// Nothing: a fresh store.
    Empty,
    /// This many finished full syncs ([`with_syncs`]).
    Syncs(u64),
    /// One unfinished sync holding variant 0 ([`with_open_sync`]), current in every copy.
    OpenSync,
}

/// The store a write workload starts from, built once per engine and size and copied for
/// every iteration: building two syncs of 100k grants takes SQLite over 20 s, and criterion
/// needs eleven such stores per benchmark, while a copy takes about a second.
///
/// A copy is the built store closed (so it flushed), its files copied into a fresh temp dir
/// except those the engine rebuilds on open (`volatile`, e.g. SQLite's `-shm`, mdbx's lock
/// file), the copies and their directories fsynced (the state a build leaves: it ends with
/// `flush()`, so the timed work's own `flush()` does not pay for the copy's writes), then
/// opened. The engine's caches start cold, as in a process that opens an existing store. An
/// engine that keeps nothing in its directory (the memory engine: no `store_entry`) cannot
/// be copied, so each of its instances is built afresh.
pub struct Template {
    opener: Box<dyn Opener>,
    grants: usize,
    fill: Fill,
    volatile: Vec<&'static str>,
    /// The closed store's directory and its syncs, for an engine whose files can be copied.
    built: Option<(tempfile::TempDir, Vec<SyncId>)>,
}

impl Template {
    /// Builds `engine`'s template now, unless the fill is empty or the engine cannot be
    /// copied.
    pub fn new(engine: &EngineInfo, grants: usize, fill: Fill) -> Self {
        let opener = (engine.opener)();
        let built = (fill != Fill::Empty && opener.store_entry().is_some()).then(|| {
            let (s, ids) = build(opener.as_ref(), grants, fill);
            (s.close(), ids)
        });
        Template {
            opener,
            grants,
            fill,
            volatile: engine.volatile_suffixes(),
            built,
        }
    }

    /// A store in the template's state and its syncs (see the type's doc).
    pub fn instance(&self) -> (Store, Vec<SyncId>) {
        let Some((from, ids)) = &self.built else {
            return build(self.opener.as_ref(), self.grants, self.fill);
        };
        let dir = tempfile::tempdir().expect("temp dir");
        copy_tree_except(from.path(), dir.path(), &self.volatile).expect("copy the template");
        sync_tree_and_files(dir.path()).expect("sync the copy");
        let engine = self
            .opener
            .open(dir.path(), EngineConfig::default())
            .expect("open the copied store");
        if self.fill == Fill::OpenSync {
            // Which sync is current is the handle's, not the store's: the copy resumes it.
            engine
                .set_current_sync(&ids[0])
                .expect("resume the open sync");
        }
        (Store { engine, _dir: dir }, ids.clone())
    }
}

/// A store in the state `fill` names, built by writing it.
fn build(opener: &dyn Opener, grants: usize, fill: Fill) -> (Store, Vec<SyncId>) {
    match fill {
        Fill::Empty => (empty(opener), Vec::new()),
        Fill::Syncs(count) => with_syncs(opener, grants, count),
        Fill::OpenSync => {
            let (s, id) = with_open_sync(opener, grants);
            (s, vec![id])
        }
    }
}

/// Variant 0 of the sync again, with every other record of each batch discovered one second
/// later: an if-newer re-sync over variant 0 replaces exactly half of the records.
pub fn half_newer(grants: usize) -> Vec<RecordBatch> {
    fn bump<T>(v: &mut [T], at: impl Fn(&mut T) -> &mut Timestamp) {
        for r in v.iter_mut().step_by(2) {
            let t = at(r);
            *t = Timestamp(t.0 + 1_000_000_000);
        }
    }
    batches(shape(grants), 0)
        .map(|mut b| {
            match &mut b {
                RecordBatch::ResourceTypes(v) => bump(v, |r| &mut r.discovered_at),
                RecordBatch::Resources(v) => bump(v, |r| &mut r.discovered_at),
                RecordBatch::Entitlements(v) => bump(v, |r| &mut r.discovered_at),
                RecordBatch::Grants(v) => bump(v, |r| &mut r.discovered_at),
                RecordBatch::Assets(v) => bump(v, |r| &mut r.discovered_at),
            }
            b
        })
        .collect()
}

/// The raw floor's input: for each batch of one sync of `grants` grants, exactly the keys and
/// values the key-value layer writes for it (`kv::fresh_writes`), under a sync id minted
/// by the default id source, so keys have their real length.
pub fn raw_floor(grants: usize) -> Vec<WriteBatch> {
    let config = EngineConfig::default();
    let sync = config.ids.next_id(config.clock.now());
    batches(shape(grants), 0)
        .map(|b| fresh_writes(&sync, &b).expect("workload records are valid"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use syncproof_harness::workload::records_per_sync;

    #[test]
    fn sizes_parse_and_refuse_nonsense() {
        assert_eq!(parse_sizes("1000, 100_000").unwrap(), vec![1_000, 100_000]);
        assert!(parse_sizes("10").unwrap_err().contains("below"));
        assert!(parse_sizes("1k").unwrap_err().contains("not a grant count"));
        assert!(parse_sizes("").is_err());
    }

    #[test]
    fn half_newer_moves_every_other_record_forward() {
        let old: Vec<_> = batches(shape(1_000), 0).collect();
        let new = half_newer(1_000);
        let (mut newer, mut same) = (0, 0);
        for (o, n) in old.iter().zip(&new) {
            for (a, b) in o.to_records().iter().zip(n.to_records()) {
                assert_eq!(a.key(), b.key());
                match b.discovered_at().0 - a.discovered_at().0 {
                    0 => same += 1,
                    1_000_000_000 => newer += 1,
                    d => panic!("moved by {d}"),
                }
            }
        }
        assert_eq!(newer + same, records_per_sync(&shape(1_000)));
        let ceil_halves: u64 = old.iter().map(|b| b.len().div_ceil(2) as u64).sum();
        assert_eq!(
            newer, ceil_halves,
            "every other record of each batch is newer"
        );
    }

    /// Every engine's template copy holds the syncs the template was built with, and the
    /// timed work on one copy reaches neither the template nor another copy.
    #[test]
    fn a_template_copy_holds_what_was_built_and_nothing_another_copy_did() {
        for info in syncproof_harness::engines::all() {
            let t = Template::new(&info, 200, Fill::Syncs(2));
            let copied = t.built.is_some();
            assert_eq!(copied, t.opener.store_entry().is_some(), "{}", info.name);
            let (a, ids) = t.instance();
            assert_eq!(ids.len(), 2, "{}", info.name);
            let want = a.engine.stats(Some(&ids[0])).unwrap();
            assert_eq!(want.grants, 200, "{}", info.name);
            assert_eq!(a.engine.cleanup(1).unwrap(), vec![ids[0].clone()]);
            assert!(a.engine.get_sync_run(&ids[0]).unwrap().is_none());

            let (b, ids_b) = t.instance();
            if copied {
                assert_eq!(ids_b, ids, "{}: a copy has the template's syncs", info.name);
            }
            assert_eq!(
                b.engine.stats(Some(&ids_b[0])).unwrap(),
                want,
                "{}",
                info.name
            );
            assert_eq!(b.engine.stats(Some(&ids_b[1])).unwrap().grants, 200);
        }
    }

    #[test]
    fn an_open_sync_template_copies_the_unfinished_sync() {
        let info = syncproof_harness::engines::all()
            .into_iter()
            .find(|e| e.name == "sqlite")
            .expect("sqlite is registered");
        let t = Template::new(&info, 200, Fill::OpenSync);
        let (s, ids) = t.instance();
        assert!(t.built.is_some());
        // A put without a sync argument lands in the current sync: the copy's open one.
        s.engine.put(&half_newer(200)[0], PutMode::IfNewer).unwrap();
        assert_eq!(s.engine.stats(Some(&ids[0])).unwrap().grants, 200);
        assert_eq!(
            s.engine.get_sync_run(&ids[0]).unwrap().unwrap().ended_at,
            None
        );
        assert!(Template::new(&info, 200, Fill::Empty).built.is_none());
    }

    #[test]
    fn raw_floor_has_every_record_and_its_index_entries() {
        let n = 1_000;
        let puts: usize = raw_floor(n).iter().map(WriteBatch::len).sum();
        let sh = shape(n);
        // Grants carry five index entries, resources with a parent and entitlements one.
        let expected = records_per_sync(&sh) as usize + 5 * n + (sh.users + sh.groups) + sh.groups;
        assert_eq!(puts, expected);
    }
}
