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
        let db = fjall::Database::builder(dir.join(STORE_ENTRY))
            .open()
            .map_err(err)?;
        let ks = db
            .keyspace("kv", KeyspaceCreateOptions::default)
            .map_err(err)?;
        Ok(FjallBackend { db, ks, durability })
    }
}

/// The default: durable after `flush()`.
pub fn open(dir: &Path) -> Result<FjallBackend> {
    FjallBackend::open(dir, Durability::Flush)
}

/// Opens `KvStore`s over fjall.
pub fn opener() -> KvOpener<FjallBackend> {
    KvOpener::new("fjall", open).stored_in(STORE_ENTRY)
}

/// A fjall snapshot of the keyspace.
pub struct FjallSnapshot<'a> {
    snap: fjall::Snapshot,
    ks: &'a Keyspace,
}

impl KvSnapshot for FjallSnapshot<'_> {
    fn get(&self, key: &[u8], visit: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<bool> {
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
        b.commit().map_err(err)
    }
    fn flush(&self) -> Result<()> {
        self.db.persist(PersistMode::SyncAll).map_err(err)
    }
}

impl Drop for FjallBackend {
    fn drop(&mut self) {
        let _ = self.db.persist(PersistMode::SyncAll);
    }
}
