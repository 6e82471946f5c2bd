//! `KvBackend` over sled 0.34.7: the legacy engine and migration source.
//!
//! sled has no multi-read snapshots, so consistency across the reads of one call comes from a
//! reader-writer lock: snapshots hold it shared, batches exclusively. Batches use
//! `apply_batch` (atomic); range deletes are expanded to point deletes inside the batch.
//! Durability: sled flushes in the background every 500 ms; `flush()` (and drop) flush
//! explicitly, and `Durability::Commit` flushes after every batch.

use std::ops::Bound;
use std::path::Path;
use std::sync::{RwLock, RwLockReadGuard};

use syncproof_engine::contract::Configuration;
use syncproof_engine::kv::{
    drive, Durability, KvBackend, KvOpener, KvSnapshot, ScanVisitor, WriteBatch,
};
use syncproof_engine::{Error, Result};

/// The directory inside a store directory that holds the database. sled has no read-only
/// open, so `verify` and `migrate --from` open a copy of it.
pub const STORE_ENTRY: &str = "sled";

/// Version of the upstream crate, for reports.
pub const UPSTREAM: &str = "sled 0.34.7";

/// How long [`SledBackend::open`] waits for a lock a closed handle still holds.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// A sled database used as an ordered byte map (its default tree).
pub struct SledBackend {
    db: sled::Db,
    lock: RwLock<()>,
    /// Whether snapshots take the shared side of `lock` (always, but for the planted bug of
    /// [`SledBackend::without_read_lock`]).
    read_lock: bool,
    durability: Durability,
}

fn err(e: sled::Error) -> Error {
    match e {
        sled::Error::Corruption { .. } => Error::corruption(format!("sled: {e}")),
        _ => Error::io(format!("sled: {e}")),
    }
}

impl SledBackend {
    /// Opens (or creates) the database in `dir/sled`.
    ///
    /// Upstream quirk: after a `Db` is dropped, sled's background threads can keep its file
    /// lock for a while, so an immediate reopen in the same process fails with "could not
    /// acquire lock" (sled's own test build blocks on the lock for this reason). Opening
    /// retries on that error alone, with backoff, for up to [`LOCK_WAIT`].
    pub fn open(dir: &Path, durability: Durability) -> Result<Self> {
        Self::open_with(dir, durability, sled::Config::new())
    }

    /// [`Self::open`] with sled's `config` (its path is set here).
    pub fn open_with(dir: &Path, durability: Durability, config: sled::Config) -> Result<Self> {
        let config = config.path(dir.join(STORE_ENTRY));
        let start = std::time::Instant::now();
        let mut pause = std::time::Duration::from_millis(1);
        loop {
            // sled 0.34 panics on some damaged files (e.g. serialization.rs:662) instead of
            // returning an error: contain it as a corruption error.
            let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| config.open()))
                .map_err(|p| {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                Error::corruption(format!(
                    "sled panicked while opening {}: {msg}",
                    dir.display()
                ))
            })?;
            match opened {
                Ok(db) => {
                    return Ok(SledBackend {
                        db,
                        lock: RwLock::new(()),
                        read_lock: true,
                        durability,
                    })
                }
                Err(e)
                    if e.to_string().contains("could not acquire lock")
                        && start.elapsed() < LOCK_WAIT =>
                {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(std::time::Duration::from_millis(50));
                }
                Err(e) => return Err(err(e)),
            }
        }
    }
}

impl SledBackend {
    /// A planted bug, for the concurrency tests only: snapshots no longer take the lock, so
    /// a read of several keys (a list through an index, stats) can straddle a batch, as it
    /// would on bare sled. The concurrent mode must catch it and the sequential mode cannot
    /// (`harness/tests/concurrency.rs`). Never use it for anything else.
    #[doc(hidden)]
    pub fn without_read_lock(mut self) -> Self {
        self.read_lock = false;
        self
    }
}

/// The configurations besides the default ([`Configuration`]).
pub const CONFIGURATIONS: &[Configuration] = &[
    Configuration {
        name: "tiny-segments",
        what: "4 KiB log segments (default 512 KiB; sled's own knob for triggering \
               correctness-critical paths) and a 64 KiB cache: cases roll segments, store \
               large values as blobs and page nodes out",
        opener: || Box::new(opener_with(tiny_segments)),
        kv: Some(|d| Ok(Box::new(tiny_segments(d)?))),
        known_race: None,
    },
    Configuration {
        name: "per-commit",
        what: "a flush after every batch (Durability::Commit)",
        opener: || Box::new(opener_with(per_commit)),
        kv: Some(|d| Ok(Box::new(per_commit(d)?))),
        known_race: None,
    },
];

/// `sled+tiny-segments` ([`CONFIGURATIONS`]).
fn tiny_segments(d: &Path) -> Result<SledBackend> {
    SledBackend::open_with(
        d,
        Durability::Flush,
        sled::Config::new()
            .segment_size(4096)
            .cache_capacity(64 << 10),
    )
}

/// `sled+per-commit` ([`CONFIGURATIONS`]).
fn per_commit(d: &Path) -> Result<SledBackend> {
    SledBackend::open(d, Durability::Commit)
}

/// The default: durable after `flush()`.
pub fn open(dir: &Path) -> Result<SledBackend> {
    SledBackend::open(dir, Durability::Flush)
}

/// Opens `KvStore`s over sled.
pub fn opener() -> KvOpener<SledBackend> {
    opener_with(open)
}

/// Opens `KvStore`s over the databases `open` opens (the default, or a configuration).
pub fn opener_with(open: fn(&Path) -> Result<SledBackend>) -> KvOpener<SledBackend> {
    KvOpener::new("sled", open).stored_in(STORE_ENTRY)
}

/// A read view: the shared side of the backend's lock.
pub struct SledSnapshot<'a> {
    db: &'a sled::Db,
    _guard: Option<RwLockReadGuard<'a, ()>>,
}

impl KvSnapshot for SledSnapshot<'_> {
    fn get(&self, key: &[u8], visit: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<bool> {
        match self.db.get(key).map_err(err)? {
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
            .db
            .range::<&[u8], _>((Bound::Included(start), upper))
            .map(|item| item.map_err(err));
        drive(entries, reverse, visit)
    }
}

impl KvBackend for SledBackend {
    type Snapshot<'a> = SledSnapshot<'a>;

    fn name(&self) -> &'static str {
        "sled"
    }
    fn durability(&self) -> Durability {
        self.durability
    }
    fn snapshot(&self) -> Result<SledSnapshot<'_>> {
        let guard = self
            .read_lock
            .then(|| self.lock.read().unwrap_or_else(|e| e.into_inner()));
        Ok(SledSnapshot {
            db: &self.db,
            _guard: guard,
        })
    }
    fn write(&self, batch: &WriteBatch) -> Result<()> {
        let _guard = self.lock.write().unwrap_or_else(|e| e.into_inner());
        let mut b = sled::Batch::default();
        for (start, end) in batch.ranges() {
            for item in self.db.range::<&[u8], _>(start.as_slice()..end.as_slice()) {
                b.remove(item.map_err(err)?.0);
            }
        }
        for (k, v) in batch.ops() {
            match v {
                Some(v) => b.insert(k, v),
                None => b.remove(k),
            }
        }
        self.db.apply_batch(b).map_err(err)?;
        if self.durability == Durability::Commit {
            self.db.flush().map_err(err)?;
        }
        Ok(())
    }
    fn flush(&self) -> Result<()> {
        self.db.flush().map(|_| ()).map_err(err)
    }
}

impl Drop for SledBackend {
    fn drop(&mut self) {
        let _ = self.db.flush();
    }
}
