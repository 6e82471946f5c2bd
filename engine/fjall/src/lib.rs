//! `KvBackend` over fjall 3 (an LSM tree).
//!
//! One keyspace; snapshots are fjall snapshots; one atomic write batch per call, range deletes
//! expanded to point deletes (the writer lock of `KvStore` keeps that exact). Durability:
//! `Flush` commits to the journal's OS buffers (`PersistMode::Buffer`) and `flush()` persists
//! with `SyncAll`; `Commit` persists every batch with `SyncAll`. Freed space is reclaimed by
//! fjall's background compaction.

use std::ops::Bound;
use std::path::Path;

use fjall::{Keyspace, KeyspaceCreateOptions, PersistMode, Readable};
use syncproof_engine::contract::Configuration;
use syncproof_engine::kv::{
    drive, Durability, KvBackend, KvOpener, KvSnapshot, ScanVisitor, WriteBatch,
};
use syncproof_engine::{Error, ErrorKind, Result};

/// The directory inside a store directory that holds the database. fjall has no read-only
/// open, so `verify` and `migrate --from` open a copy of it.
pub const STORE_ENTRY: &str = "fjall";

/// Version of the upstream crate, for reports.
pub const UPSTREAM: &str = "fjall 3.1";

/// A fjall database with one keyspace used as an ordered byte map.
pub struct FjallBackend {
    db: fjall::Database,
    ks: Keyspace,
    durability: Durability,
    /// A planted bug ([`Options::reads_active_memtable_only`]).
    memtable_only: bool,
    /// The memtable size it was opened with (`None`: fjall's default).
    max_memtable: Option<u64>,
}

/// How a fjall backend is opened: the default, or a configuration of [`CONFIGURATIONS`].
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// When writes are persisted.
    pub durability: Durability,
    /// Memtable size at which fjall seals it and flushes it to a table (`None`: fjall's
    /// default, 64 MiB, which no generated case fills).
    pub max_memtable: Option<u64>,
    /// Data block size of the tables (`None`: fjall's default).
    pub data_block: Option<u32>,
    /// A planted bug for the gate's proof of power, never set by a configuration: point
    /// reads consult only the active memtable, so a key flushed (or sealed) out of it reads
    /// as absent. Invisible while the memtable never fills.
    #[doc(hidden)]
    pub reads_active_memtable_only: bool,
}

impl Options {
    /// fjall's defaults, durable after `flush()`.
    pub const DEFAULT: Options = Options {
        durability: Durability::Flush,
        max_memtable: None,
        data_block: None,
        reads_active_memtable_only: false,
    };
}

impl Default for Options {
    fn default() -> Self {
        Options::DEFAULT
    }
}

/// Memtables of 4 KiB and 1 KiB blocks: a case of a few dozen records seals memtables,
/// flushes tables and triggers compactions.
pub const TINY_MEMTABLE: Options = Options {
    max_memtable: Some(4 * 1024),
    data_block: Some(1024),
    ..Options::DEFAULT
};

/// The configurations besides the default ([`syncproof_engine::contract::Configuration`]).
pub const CONFIGURATIONS: &[Configuration] = &[
    Configuration {
        name: "tiny-memtable",
        what: "4 KiB memtables and 1 KiB data blocks: cases seal memtables, flush tables and \
               compact",
        opener: || Box::new(opener_with(tiny_memtable)),
        kv: Some(|d| Ok(Box::new(tiny_memtable(d)?))),
        known_race: Some(
            "fjall 3.1.13 with 4 KiB memtables lets a snapshot see part of a batch committed \
             while it is open (README, the concurrent phase)",
        ),
    },
    Configuration {
        name: "per-commit",
        what: "every batch persisted with SyncAll (Durability::Commit)",
        opener: || Box::new(opener_with(per_commit)),
        kv: Some(|d| Ok(Box::new(per_commit(d)?))),
        known_race: None,
    },
];

/// `fjall+tiny-memtable` ([`CONFIGURATIONS`]).
fn tiny_memtable(d: &Path) -> Result<FjallBackend> {
    FjallBackend::open_with(d, TINY_MEMTABLE)
}

/// `fjall+per-commit` ([`CONFIGURATIONS`]).
fn per_commit(d: &Path) -> Result<FjallBackend> {
    FjallBackend::open(d, Durability::Commit)
}

/// The error kind of a fjall error, by what it means: I/O failures (also inside the LSM tree,
/// and a database poisoned by an earlier failed write) are `Io`; a store locked by another
/// process, of another format version, or a deleted keyspace is `FailedPrecondition`; damaged
/// data (checksums, blocks, journal recovery) is `Corruption`.
fn kind_of(e: &fjall::Error) -> ErrorKind {
    use fjall::Error as F;
    match e {
        F::Io(_) | F::Storage(fjall::LsmError::Io(_)) | F::Poisoned => ErrorKind::Io,
        F::Locked | F::InvalidVersion(_) | F::KeyspaceDeleted => ErrorKind::FailedPrecondition,
        _ => ErrorKind::Corruption,
    }
}

fn err(e: fjall::Error) -> Error {
    Error::new(kind_of(&e), format!("fjall: {e}")).with_source(e)
}

impl FjallBackend {
    /// Opens (or creates) the database in `dir/fjall`.
    pub fn open(dir: &Path, durability: Durability) -> Result<Self> {
        Self::open_with(
            dir,
            Options {
                durability,
                ..Options::DEFAULT
            },
        )
    }

    /// Opens (or creates) the database in `dir/fjall` with `options`.
    pub fn open_with(dir: &Path, options: Options) -> Result<Self> {
        let db = fjall::Database::builder(dir.join(STORE_ENTRY))
            .open()
            .map_err(err)?;
        let ks = db
            .keyspace("kv", || {
                let mut o = KeyspaceCreateOptions::default();
                if let Some(m) = options.max_memtable {
                    o = o.max_memtable_size(m);
                }
                if let Some(b) = options.data_block {
                    o = o.data_block_size_policy(fjall::config::BlockSizePolicy::all(b));
                }
                o
            })
            .map_err(err)?;
        Ok(FjallBackend {
            db,
            ks,
            durability: options.durability,
            memtable_only: options.reads_active_memtable_only,
            max_memtable: options.max_memtable,
        })
    }
}

/// The default: durable after `flush()`.
pub fn open(dir: &Path) -> Result<FjallBackend> {
    FjallBackend::open(dir, Durability::Flush)
}

/// Opens `KvStore`s over fjall.
pub fn opener() -> KvOpener<FjallBackend> {
    opener_with(open)
}

/// Opens `KvStore`s over the databases `open` opens (the default, a configuration, or a
/// planted bug's).
pub fn opener_with(open: fn(&Path) -> Result<FjallBackend>) -> KvOpener<FjallBackend> {
    KvOpener::new("fjall", open).stored_in(STORE_ENTRY)
}

/// A fjall snapshot of the keyspace.
pub struct FjallSnapshot<'a> {
    snap: fjall::Snapshot,
    ks: &'a Keyspace,
    memtable_only: bool,
}

impl KvSnapshot for FjallSnapshot<'_> {
    fn get(&self, key: &[u8], visit: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<bool> {
        if self.memtable_only {
            use fjall::AbstractTree;
            return match self.ks.tree.active_memtable().get(key, fjall::SeqNo::MAX) {
                Some(v) if !v.is_tombstone() => visit(&v.value).map(|_| true),
                _ => Ok(false),
            };
        }
        match self.snap.get(self.ks, key).map_err(err)? {
            Some(v) => visit(&v).map(|_| true),
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
        let upper = end.map_or(Bound::Unbounded, Bound::Excluded);
        let entries = self
            .snap
            .range::<&[u8], _>(self.ks, (Bound::Included(start), upper))
            .map(|g| g.into_inner().map_err(err));
        drive(entries, reverse, visit)
    }
}

impl KvBackend for FjallBackend {
    type Snapshot<'a> = FjallSnapshot<'a>;

    fn name(&self) -> &'static str {
        "fjall"
    }
    fn durability(&self) -> Durability {
        self.durability
    }
    fn snapshot(&self) -> Result<FjallSnapshot<'_>> {
        Ok(FjallSnapshot {
            snap: self.db.snapshot(),
            ks: &self.ks,
            memtable_only: self.memtable_only,
        })
    }
    fn write(&self, batch: &WriteBatch) -> Result<()> {
        let mode = match self.durability {
            Durability::Flush => PersistMode::Buffer,
            Durability::Commit => PersistMode::SyncAll,
        };
        let mut b = self.db.batch().durability(Some(mode));
        if !batch.ranges().is_empty() {
            let snap = self.db.snapshot();
            for (start, end) in batch.ranges() {
                for g in snap.range::<&[u8], _>(&self.ks, start.as_slice()..end.as_slice()) {
                    b.remove(&self.ks, g.key().map_err(err)?);
                }
            }
        }
        for (k, v) in batch.ops() {
            match v {
                Some(v) => b.insert(&self.ks, k, v),
                None => b.remove(&self.ks, k),
            }
        }
        b.commit().map_err(err)?;
        // The planted bug's store seals a full memtable before the write returns (fjall seals
        // it on a worker thread, some time later), so what the bug hides is the same on every
        // run of the same ops, and a shrunk repro replays.
        if self.memtable_only {
            use fjall::AbstractTree;
            let full = self
                .max_memtable
                .is_some_and(|m| self.ks.tree.active_memtable().size() > m);
            if full {
                self.ks.rotate_memtable().map_err(err)?;
            }
        }
        Ok(())
    }
    fn flush(&self) -> Result<()> {
        self.db.persist(PersistMode::SyncAll).map_err(err)
    }
    /// Tables on disk (each made by a memtable flush or a compaction) and compactions
    /// completed since open.
    fn structure(&self) -> Result<Vec<(&'static str, u64)>> {
        let n = |x: usize| u64::try_from(x).unwrap_or(u64::MAX);
        Ok(vec![
            ("tables", n(self.ks.table_count())),
            ("compactions", n(self.db.compactions_completed())),
        ])
    }
}

impl Drop for FjallBackend {
    fn drop(&mut self) {
        let _ = self.db.persist(PersistMode::SyncAll);
    }
}
