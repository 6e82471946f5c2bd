//! `KvBackend` over redb 4.
//!
//! One table of `&[u8] → &[u8]`; snapshots are read transactions; one write transaction per
//! batch, range deletes with `retain_in`. Durability: `Flush` commits with
//! `Durability::None` (atomic, not persisted until a later durable commit) and `flush()`
//! commits an empty transaction with `Durability::Immediate`; `Commit` makes every commit
//! immediate.

use std::ops::Bound;
use std::path::Path;

use redb::{ReadTransaction, ReadableDatabase, TableDefinition};
use syncproof_engine::contract::Configuration;
use syncproof_engine::kv::{
    drive, Durability, KvBackend, KvOpener, KvSnapshot, ScanVisitor, WriteBatch,
};
use syncproof_engine::{Error, Result};

/// Version of the upstream crate, for reports.
pub const UPSTREAM: &str = "redb 4.5";

const TABLE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("kv");

/// The file inside a store directory that holds the database.
pub const STORE_ENTRY: &str = "redb";

/// A redb database used as one ordered byte map.
pub struct RedbBackend {
    db: Db,
    durability: Durability,
}

/// The database, opened for writing or (for `verify` and `migrate --from`) read-only.
enum Db {
    Writable(redb::Database),
    ReadOnly(redb::ReadOnlyDatabase),
}

fn err(e: impl Into<redb::Error>) -> Error {
    let e: redb::Error = e.into();
    match e {
        redb::Error::Corrupted(_)
        | redb::Error::UpgradeRequired(_)
        | redb::Error::ValueTooLarge(_) => Error::corruption(format!("redb: {e}")),
        _ => Error::io(format!("redb: {e}")),
    }
}

impl RedbBackend {
    /// Opens (or creates) the database file `dir/redb`.
    pub fn open(dir: &Path, durability: Durability) -> Result<Self> {
        Self::open_with(dir, durability, &redb::Builder::new())
    }

    /// [`Self::open`] with redb's `builder` (cache size, integrity check on open).
    pub fn open_with(dir: &Path, durability: Durability, builder: &redb::Builder) -> Result<Self> {
        let db = builder.create(dir.join(STORE_ENTRY)).map_err(err)?;
        let txn = db.begin_write().map_err(err)?;
        txn.open_table(TABLE).map_err(err)?;
        txn.commit().map_err(err)?;
        Ok(RedbBackend {
            db: Db::Writable(db),
            durability,
        })
    }

    /// Opens the existing database file `dir/redb` with redb's `ReadOnlyDatabase`, which
    /// writes nothing; writes through it fail with `FailedPrecondition`.
    pub fn open_read_only(dir: &Path) -> Result<Self> {
        let path = dir.join(STORE_ENTRY);
        if !path.is_file() {
            return Err(Error::not_found(format!(
                "redb: no database file {}",
                path.display()
            )));
        }
        let db = contained(|| redb::ReadOnlyDatabase::open(&path).map_err(err))?;
        Ok(RedbBackend {
            db: Db::ReadOnly(db),
            durability: Durability::Flush,
        })
    }

    /// The database for a write, or `FailedPrecondition` when it was opened read-only.
    fn writable(&self) -> Result<&redb::Database> {
        match &self.db {
            Db::Writable(db) => Ok(db),
            Db::ReadOnly(_) => Err(Error::failed_precondition(
                "redb: the store was opened read-only",
            )),
        }
    }

    fn commit_durably(&self) -> Result<()> {
        let mut txn = self.writable()?.begin_write().map_err(err)?;
        txn.set_durability(redb::Durability::Immediate)
            .map_err(|e| Error::io(format!("redb: {e}")))?;
        txn.commit().map_err(err)
    }
}

/// The configurations besides the default ([`Configuration`]).
pub const CONFIGURATIONS: &[Configuration] = &[
    Configuration {
        name: "tiny-cache",
        what: "a 16 KiB page cache (default 1 GiB): reads of a few dozen records go to the \
               file and evict",
        opener: || Box::new(opener_with(tiny_cache)),
        kv: Some(|d| Ok(Box::new(tiny_cache(d)?))),
        known_race: None,
    },
    Configuration {
        name: "checked-open",
        what: "every open verifies every page's checksum and rebuilds the allocator \
               (set_check_integrity_on_open): each reopen runs redb's repair path",
        opener: || Box::new(opener_with(checked_open)),
        kv: Some(|d| Ok(Box::new(checked_open(d)?))),
        known_race: None,
    },
    Configuration {
        name: "per-commit",
        what: "every commit Durability::Immediate (Durability::Commit)",
        opener: || Box::new(opener_with(per_commit)),
        kv: Some(|d| Ok(Box::new(per_commit(d)?))),
        known_race: None,
    },
];

/// `redb+tiny-cache` ([`CONFIGURATIONS`]).
fn tiny_cache(d: &Path) -> Result<RedbBackend> {
    RedbBackend::open_with(
        d,
        Durability::Flush,
        redb::Builder::new().set_cache_size(16 << 10),
    )
}

/// `redb+checked-open` ([`CONFIGURATIONS`]).
fn checked_open(d: &Path) -> Result<RedbBackend> {
    RedbBackend::open_with(
        d,
        Durability::Flush,
        redb::Builder::new().set_check_integrity_on_open(true),
    )
}

/// `redb+per-commit` ([`CONFIGURATIONS`]).
fn per_commit(d: &Path) -> Result<RedbBackend> {
    RedbBackend::open(d, Durability::Commit)
}

/// The default: durable after `flush()`.
pub fn open(dir: &Path) -> Result<RedbBackend> {
    RedbBackend::open(dir, Durability::Flush)
}

/// Opens `KvStore`s over redb.
pub fn opener() -> KvOpener<RedbBackend> {
    opener_with(open)
}

/// Opens `KvStore`s over the redb databases `open` opens (the default, or a configuration).
pub fn opener_with(open: fn(&Path) -> Result<RedbBackend>) -> KvOpener<RedbBackend> {
    KvOpener::new("redb", open)
        .stored_in(STORE_ENTRY)
        .with_read_only(RedbBackend::open_read_only)
}

/// Runs a redb call, turning a panic into a `Corruption` error: redb 4.5 panics in its B-tree
/// code (`btree_base.rs`, `btree_iters.rs`) on some damaged files instead of returning an error
/// (found by the corruption tests).
fn contained<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|p| {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Err(Error::corruption(format!("redb panicked: {msg}")))
    })
}

/// A redb value guard read as bytes.
struct Guarded<'a>(redb::AccessGuard<'a, &'static [u8]>);

impl AsRef<[u8]> for Guarded<'_> {
    fn as_ref(&self) -> &[u8] {
        self.0.value()
    }
}

/// A read transaction.
pub struct RedbSnapshot {
    txn: ReadTransaction,
}

/// A redb range whose every step runs under [`contained`]: a redb panic while iterating
/// becomes one `Corruption` item and ends the iteration. The caller's visitor runs outside.
struct ContainedRange<I>(Option<I>);

impl<I> ContainedRange<I> {
    /// One step (`next` or `next_back`) of the inner iterator, contained.
    fn step<T>(&mut self, f: impl FnOnce(&mut I) -> Option<Result<T>>) -> Option<Result<T>> {
        let inner = self.0.as_mut()?;
        match contained(|| Ok(f(inner))) {
            Ok(item) => item,
            Err(e) => {
                self.0 = None;
                Some(Err(e))
            }
        }
    }
}

impl<T, I: Iterator<Item = Result<T>>> Iterator for ContainedRange<I> {
    type Item = Result<T>;
    fn next(&mut self) -> Option<Result<T>> {
        self.step(Iterator::next)
    }
}

impl<T, I: DoubleEndedIterator<Item = Result<T>>> DoubleEndedIterator for ContainedRange<I> {
    fn next_back(&mut self) -> Option<Result<T>> {
        self.step(DoubleEndedIterator::next_back)
    }
}

impl KvSnapshot for RedbSnapshot {
    fn get(&self, key: &[u8], visit: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<bool> {
        // Only redb's calls are contained: a panic in `visit` (syncproof's own decoding) is a
        // bug of ours and must not be reported as a damaged store.
        let table = contained(|| self.txn.open_table(TABLE).map_err(err))?;
        let value = contained(|| table.get(key).map_err(err))?;
        match value {
            Some(v) => {
                let bytes = contained(|| Ok(v.value()))?;
                visit(bytes).map(|_| true)
            }
            None => Ok(false),
        }
    }

    fn scan(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        reverse: bool,
        visit: ScanVisitor<'_>,
    ) -> Result<()> {
        if end.is_some_and(|e| e <= start) {
            return Ok(());
        }
        let table = contained(|| self.txn.open_table(TABLE).map_err(err))?;
        let upper = end.map_or(Bound::Unbounded, Bound::Excluded);
        let range = contained(|| {
            table
                .range::<&[u8]>((Bound::Included(start), upper))
                .map_err(err)
        })?;
        let items = range.map(|item| item.map(|(k, v)| (Guarded(k), Guarded(v))).map_err(err));
        drive(ContainedRange(Some(items)), reverse, visit)
    }
}

impl KvBackend for RedbBackend {
    type Snapshot<'a> = RedbSnapshot;

    fn name(&self) -> &'static str {
        "redb"
    }
    fn durability(&self) -> Durability {
        self.durability
    }
    fn snapshot(&self) -> Result<RedbSnapshot> {
        let txn = match &self.db {
            Db::Writable(db) => db.begin_read(),
            Db::ReadOnly(db) => db.begin_read(),
        };
        Ok(RedbSnapshot {
            txn: txn.map_err(err)?,
        })
    }
    fn write(&self, batch: &WriteBatch) -> Result<()> {
        contained(|| self.write_batch(batch))
    }
    fn flush(&self) -> Result<()> {
        contained(|| self.commit_durably())
    }
    /// Branch pages of the B-trees (above zero once a leaf split) and bytes freed and not
    /// yet reused, from the stats of a write transaction that is then aborted.
    fn structure(&self) -> Result<Vec<(&'static str, u64)>> {
        let Db::Writable(db) = &self.db else {
            return Ok(Vec::new());
        };
        let txn = db.begin_write().map_err(err)?;
        let stats = txn.stats().map_err(err)?;
        txn.abort().map_err(err)?;
        Ok(vec![
            ("branch_pages", stats.branch_pages()),
            ("fragmented_bytes", stats.fragmented_bytes()),
        ])
    }
}

impl RedbBackend {
    fn write_batch(&self, batch: &WriteBatch) -> Result<()> {
        let mut txn = self.writable()?.begin_write().map_err(err)?;
        let durability = match self.durability {
            Durability::Flush => redb::Durability::None,
            Durability::Commit => redb::Durability::Immediate,
        };
        txn.set_durability(durability)
            .map_err(|e| Error::io(format!("redb: {e}")))?;
        {
            let mut table = txn.open_table(TABLE).map_err(err)?;
            for (start, end) in batch.ranges() {
                if end > start {
                    table
                        .retain_in::<&[u8], _>(start.as_slice()..end.as_slice(), |_, _| false)
                        .map_err(err)?;
                }
            }
            for (k, v) in batch.ops() {
                match v {
                    Some(v) => {
                        table.insert(k, v).map_err(err)?;
                    }
                    None => {
                        table.remove(k).map_err(err)?;
                    }
                }
            }
        }
        txn.commit().map_err(err)
    }
}

impl Drop for RedbBackend {
    fn drop(&mut self) {
        if let Db::Writable(_) = self.db {
            let _ = self.commit_durably();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_an_iteration_step_becomes_one_corruption_item() {
        let items = (0..5).map(|i: u8| -> Result<u8> {
            if i == 2 {
                panic!("damaged page");
            }
            Ok(i)
        });
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let got: Vec<Result<u8>> = ContainedRange(Some(items)).collect();
        std::panic::set_hook(hook);
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[..2], [Ok(0), Ok(1)]);
        assert!(got[2]
            .as_ref()
            .is_err_and(|e| e.kind == syncproof_engine::ErrorKind::Corruption
                && e.message.contains("damaged page")));
    }
}
