//! `KvBackend` over libmdbx 0.9.
//!
//! Reads run in read-only transactions and hand the visitor the page bytes in place
//! (`Cow::Borrowed`); the value envelope is readable at any alignment, so records are decoded
//! straight from those bytes. What a read returns is owned (the contract returns owned
//! records), so decoding allocates the records; only the copy of the raw bytes is avoided.
//! One write transaction per batch. Durability: `Flush` opens with `SafeNoSync` (commits are
//! atomic and crash-safe but not fsynced) and `flush()` forces a sync; `Commit` opens
//! `Durable`. Only the unnamed main table is used, so `max_tables` stays unset.

use std::borrow::Cow;
use std::path::Path;

use libmdbx::{
    Database, DatabaseOptions, Mode, NoWriteMap, PageSize, ReadWriteOptions, SyncMode, Transaction,
    WriteFlags, RO,
};
use syncproof_engine::codec::key::MAX_KEY_LEN;
use syncproof_engine::contract::Configuration;
use syncproof_engine::kv::{Durability, KvBackend, KvOpener, KvSnapshot, ScanVisitor, WriteBatch};
use syncproof_engine::{Error, Result};

/// Version of the upstream crate, for reports.
pub const UPSTREAM: &str = "libmdbx 0.9";

/// The smallest page size whose key-size limit holds every key syncproof can encode
/// ([`MAX_KEY_LEN`]). With the default 4 KiB pages libmdbx refuses keys over ~2 KB, and SPEC
/// allows five 1024-byte id components in one index key.
pub fn page_size() -> Result<usize> {
    (12..=16)
        .map(|shift| 1usize << shift)
        .find(|&p| {
            // SAFETY: a pure function of its arguments in libmdbx; no state, no pointers.
            let max = unsafe { mdbx_sys::mdbx_limits_keysize_max(p as isize, 0) };
            max >= 0 && max as usize >= MAX_KEY_LEN
        })
        .ok_or_else(|| {
            Error::invalid_argument(format!(
                "no libmdbx page size holds keys of {MAX_KEY_LEN} bytes"
            ))
        })
}

/// Largest database file: the memory map is reserved up to this size.
const MAX_SIZE: isize = 1 << 40;

/// The directory inside a store directory that holds the environment.
pub const STORE_ENTRY: &str = "mdbx";

/// A libmdbx environment used as one ordered byte map.
pub struct MdbxBackend {
    db: Database<NoWriteMap>,
    durability: Durability,
    /// Opened with `Mode::ReadOnly` (`verify`, `migrate --from`): writes and syncs refused.
    read_only: bool,
}

fn err(e: libmdbx::Error) -> Error {
    match e {
        libmdbx::Error::Corrupted
        | libmdbx::Error::Panic
        | libmdbx::Error::Invalid
        | libmdbx::Error::VersionMismatch => Error::corruption(format!("mdbx: {e}")),
        _ => Error::io(format!("mdbx: {e}")),
    }
}

impl MdbxBackend {
    /// Opens (or creates) the environment in `dir/mdbx`.
    pub fn open(dir: &Path, durability: Durability) -> Result<Self> {
        Self::open_growing(dir, durability, DEFAULT_GROWTH)
    }

    /// [`Self::open`] with the file growing (and shrinking once that much is free at its
    /// end) in steps of `growth` bytes.
    pub fn open_growing(dir: &Path, durability: Durability, growth: isize) -> Result<Self> {
        let path = dir.join(STORE_ENTRY);
        std::fs::create_dir_all(&path)?;
        let sync_mode = match durability {
            Durability::Flush => SyncMode::SafeNoSync,
            Durability::Commit => SyncMode::Durable,
        };
        let options = DatabaseOptions {
            page_size: Some(PageSize::Set(page_size()?)),
            mode: Mode::ReadWrite(ReadWriteOptions {
                sync_mode,
                max_size: Some(MAX_SIZE),
                growth_step: Some(growth),
                shrink_threshold: (growth != DEFAULT_GROWTH).then_some(2 * growth),
                ..ReadWriteOptions::default()
            }),
            ..DatabaseOptions::default()
        };
        let db = Database::open_with_options(&path, options).map_err(err)?;
        Ok(MdbxBackend {
            db,
            durability,
            read_only: false,
        })
    }

    /// Opens the existing environment in `dir/mdbx` with `Mode::ReadOnly` (`MDBX_RDONLY`):
    /// nothing is written to the data file; writes through it fail with
    /// `FailedPrecondition`.
    pub fn open_read_only(dir: &Path) -> Result<Self> {
        let path = dir.join(STORE_ENTRY);
        if !path.join("mdbx.dat").is_file() {
            return Err(Error::not_found(format!(
                "mdbx: no environment in {}",
                path.display()
            )));
        }
        let options = DatabaseOptions {
            mode: Mode::ReadOnly,
            ..DatabaseOptions::default()
        };
        let db = Database::open_with_options(&path, options).map_err(err)?;
        Ok(MdbxBackend {
            db,
            durability: Durability::Flush,
            read_only: true,
        })
    }

    fn refuse_if_read_only(&self) -> Result<()> {
        if self.read_only {
            return Err(Error::failed_precondition(
                "mdbx: the store was opened read-only",
            ));
        }
        Ok(())
    }
}

/// The step by which the file grows by default.
const DEFAULT_GROWTH: isize = 16 << 20;

/// The configurations besides the default ([`Configuration`]).
pub const CONFIGURATIONS: &[Configuration] = &[
    Configuration {
        name: "small-growth",
        what: "the file grows in 64 KiB steps and shrinks when 128 KiB are free: cases remap \
               the environment as it grows and shrinks",
        opener: || Box::new(opener_with(small_growth)),
        kv: Some(|d| Ok(Box::new(small_growth(d)?))),
        known_race: None,
    },
    Configuration {
        name: "per-commit",
        what: "every commit durable (SyncMode::Durable, Durability::Commit)",
        opener: || Box::new(opener_with(per_commit)),
        kv: Some(|d| Ok(Box::new(per_commit(d)?))),
        known_race: None,
    },
];

/// `mdbx+small-growth` ([`CONFIGURATIONS`]).
fn small_growth(d: &Path) -> Result<MdbxBackend> {
    MdbxBackend::open_growing(d, Durability::Flush, 64 << 10)
}

/// `mdbx+per-commit` ([`CONFIGURATIONS`]).
fn per_commit(d: &Path) -> Result<MdbxBackend> {
    MdbxBackend::open(d, Durability::Commit)
}

/// The default: durable after `flush()`.
pub fn open(dir: &Path) -> Result<MdbxBackend> {
    MdbxBackend::open(dir, Durability::Flush)
}

/// Opens `KvStore`s over libmdbx.
pub fn opener() -> KvOpener<MdbxBackend> {
    opener_with(open)
}

/// Opens `KvStore`s over the environments `open` opens (the default, or a configuration).
pub fn opener_with(open: fn(&Path) -> Result<MdbxBackend>) -> KvOpener<MdbxBackend> {
    KvOpener::new("mdbx", open)
        .stored_in(STORE_ENTRY)
        .with_read_only(MdbxBackend::open_read_only)
}

/// A read-only transaction.
pub struct MdbxSnapshot<'a> {
    txn: Transaction<'a, RO, NoWriteMap>,
}

impl KvSnapshot for MdbxSnapshot<'_> {
    fn get(&self, key: &[u8], visit: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<bool> {
        let table = self.txn.open_table(None).map_err(err)?;
        match self.txn.get::<Cow<'_, [u8]>>(&table, key).map_err(err)? {
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
        let table = self.txn.open_table(None).map_err(err)?;
        let mut cursor = self.txn.cursor(&table).map_err(err)?;
        type Kv<'t> = Option<(Cow<'t, [u8]>, Cow<'t, [u8]>)>;
        if reverse {
            // Position on the last key below `end`.
            let mut item: Kv<'_> = match end {
                Some(e) => match cursor.set_range::<Cow<[u8]>, Cow<[u8]>>(e).map_err(err)? {
                    Some(_) => cursor.prev().map_err(err)?,
                    None => cursor.last().map_err(err)?,
                },
                None => cursor.last().map_err(err)?,
            };
            while let Some((k, v)) = item {
                if &*k < start || !visit(&k, &v)? {
                    break;
                }
                item = cursor.prev().map_err(err)?;
            }
        } else {
            let mut item: Kv<'_> = cursor.set_range(start).map_err(err)?;
            while let Some((k, v)) = item {
                if end.is_some_and(|e| &*k >= e) || !visit(&k, &v)? {
                    break;
                }
                item = cursor.next().map_err(err)?;
            }
        }
        Ok(())
    }
}

impl KvBackend for MdbxBackend {
    type Snapshot<'a> = MdbxSnapshot<'a>;

    fn name(&self) -> &'static str {
        "mdbx"
    }
    fn durability(&self) -> Durability {
        self.durability
    }
    fn snapshot(&self) -> Result<MdbxSnapshot<'_>> {
        Ok(MdbxSnapshot {
            txn: self.db.begin_ro_txn().map_err(err)?,
        })
    }
    fn write(&self, batch: &WriteBatch) -> Result<()> {
        self.refuse_if_read_only()?;
        let txn = self.db.begin_rw_txn().map_err(err)?;
        let table = txn.open_table(None).map_err(err)?;
        // One cursor for the whole batch: the point operations are in key order, and a
        // positioned cursor whose leaf page brackets the next key (or whose stack has pages to
        // its right) finds it without a descent from the root (mdbx.c `cursor_seek`, "See if
        // we're already on the right page"), where `mdbx_put` starts each key from a fresh
        // cursor. In a profile of a clone at 100k that descent was 28% of the clone.
        let mut cursor = txn.cursor(&table).map_err(err)?;
        for (start, end) in batch.ranges() {
            // Deleted in place: after `mdbx_cursor_del` the cursor stands on the next record
            // (`MDBX_GET_CURRENT` after a delete steps to it, mdbx.c `cursor_ops`), so a range
            // costs one descent instead of one per key and no list of doomed keys is built.
            // Once the last record of the table is gone the cursor reports the new last
            // record, below `start` (every key from `start` on was deleted): that ends the
            // range too.
            let mut item: Option<(Cow<'_, [u8]>, ())> = cursor.set_range(start).map_err(err)?;
            while let Some((k, ())) = item {
                if k.as_ref() >= end.as_slice() || k.as_ref() < start.as_slice() {
                    break;
                }
                cursor.del(WriteFlags::empty()).map_err(err)?;
                item = cursor.get_current().map_err(err)?;
            }
        }
        for (k, v) in batch.ops() {
            match v {
                Some(v) => cursor.put(k, v, WriteFlags::empty()).map_err(err)?,
                None => {
                    if cursor.set::<()>(k).map_err(err)?.is_some() {
                        cursor.del(WriteFlags::empty()).map_err(err)?;
                    }
                }
            }
        }
        drop(cursor);
        txn.commit().map_err(err)?;
        Ok(())
    }
    fn flush(&self) -> Result<()> {
        self.refuse_if_read_only()?;
        self.db.sync(true).map(|_| ()).map_err(err)
    }
    /// Branch pages of the B-tree (above zero once a leaf split) and overflow pages (values
    /// larger than a page).
    fn structure(&self) -> Result<Vec<(&'static str, u64)>> {
        let stat = self.db.stat().map_err(err)?;
        let n = |x: usize| u64::try_from(x).unwrap_or(u64::MAX);
        Ok(vec![
            ("branch_pages", n(stat.branch_pages())),
            ("overflow_pages", n(stat.overflow_pages())),
        ])
    }
}

impl Drop for MdbxBackend {
    fn drop(&mut self) {
        if !self.read_only {
            let _ = self.db.sync(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use syncproof_engine::kv::{Durability, KvBackend, KvSnapshot, WriteBatch};

    fn keys_of(b: &super::MdbxBackend) -> Vec<u32> {
        let snap = b.snapshot().unwrap();
        let mut keys = Vec::new();
        snap.scan(b"", None, false, &mut |k, _| {
            keys.push(u32::from_be_bytes(k.try_into().unwrap()));
            Ok(true)
        })
        .unwrap();
        keys
    }

    /// Range deletes that span many leaf pages, end on a page boundary or at the last key,
    /// and meet in one batch delete exactly their keys (the in-place cursor delete must step
    /// across pages, not stop where a leaf ends).
    #[test]
    fn range_deletes_cross_pages_and_delete_exactly_their_keys() {
        let dir = syncproof_engine::scratch::tempdir(None).unwrap();
        let b = super::MdbxBackend::open(dir.path(), Durability::Flush).unwrap();
        let n = 20_000u32;
        let mut fill = WriteBatch::new();
        for i in 0..n {
            fill.put(i.to_be_bytes().to_vec(), vec![7; 100]);
        }
        b.write(&fill).unwrap();
        let mut expected: Vec<u32> = (0..n).collect();
        let ranges: &[(u32, u32)] = &[(1_000, 9_000), (9_500, 9_501), (12_000, n + 5), (0, 1)];
        let mut batch = WriteBatch::new();
        for &(s, e) in ranges {
            batch.delete_range(s.to_be_bytes().to_vec(), e.to_be_bytes().to_vec());
            expected.retain(|k| !(s..e).contains(k));
        }
        // A put inside a deleted range survives: point operations come after the ranges.
        batch.put(5_000u32.to_be_bytes().to_vec(), vec![1]);
        expected.push(5_000);
        expected.sort_unstable();
        b.write(&batch).unwrap();
        assert!(b
            .structure()
            .unwrap()
            .iter()
            .any(|&(k, v)| k == "branch_pages" && v > 0));
        assert_eq!(keys_of(&b), expected);

        // Seeded ranges and refills against a model, then the whole table at once.
        let mut model: std::collections::BTreeSet<u32> = expected.into_iter().collect();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut draw = |m: u32| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            u32::try_from((x >> 33) % u64::from(m)).unwrap()
        };
        for _ in 0..40 {
            let mut batch = WriteBatch::new();
            for _ in 0..draw(3) + 1 {
                let s = draw(n);
                let e = s + draw(4_000);
                batch.delete_range(s.to_be_bytes().to_vec(), e.to_be_bytes().to_vec());
                model.retain(|k| !(s..e).contains(k));
            }
            for _ in 0..draw(2_000) {
                let k = draw(n);
                batch.put(k.to_be_bytes().to_vec(), vec![3; 60]);
                model.insert(k);
            }
            b.write(&batch).unwrap();
            assert_eq!(keys_of(&b), model.iter().copied().collect::<Vec<_>>());
        }
        let mut all = WriteBatch::new();
        all.delete_range(vec![0], vec![0xff; 5]);
        b.write(&all).unwrap();
        assert_eq!(keys_of(&b), Vec::<u32>::new());
    }

    #[test]
    fn page_size_fits_the_longest_key() {
        let p = super::page_size().unwrap();
        assert!(p.is_power_of_two() && p >= 4096, "{p}");
        let max = unsafe { mdbx_sys::mdbx_limits_keysize_max(p as isize, 0) };
        assert!(max as usize >= super::MAX_KEY_LEN);
        eprintln!(
            "mdbx page size {p}, max key {max}, longest key {}",
            super::MAX_KEY_LEN
        );
    }
}
