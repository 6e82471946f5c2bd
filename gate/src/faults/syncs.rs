//! Deliberately broken key-value backends whose bugs only a fault model below the process
//! can see: [`Unsynced`] wraps any [`KvBackend`] with one [`SyncBug`] in `flush()`, the call
//! that makes committed batches durable. Every read and write is the backend's own, so the
//! differential runner, the concurrent mode and a SIGKILL crash test (the page cache survives
//! a killed process) all pass it; `syncproof crash --model power-loss` or `--model io-error`
//! must not (`harness/tests/fault_models.rs`). [`RenamedFile`] is a whole backend whose
//! durability rests on a rename, with or without the directory sync it needs.

use syncproof_engine::kv::{Durability, KvBackend, KvSnapshot, WriteBatch};
use syncproof_engine::Result;

/// One durability bug an [`Unsynced`] backend plants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncBug {
    /// `flush()` returns `Ok` without syncing anything: acknowledged batches sit in the OS
    /// page cache, which a process kill keeps and a power loss does not.
    FlushDoesNotSync,
    /// `flush()` syncs but reports success when the sync failed (the "fsyncgate" class): the
    /// data the failed sync was to persist is lost, and the caller is told it is durable.
    FlushIgnoresErrors,
}

/// A backend with one planted [`SyncBug`].
pub struct Unsynced<B> {
    /// The backend underneath.
    pub backend: B,
    /// The bug it plants.
    pub bug: SyncBug,
}

impl<B: KvBackend> KvBackend for Unsynced<B> {
    type Snapshot<'a> = B::Snapshot<'a>;

    fn name(&self) -> &'static str {
        self.backend.name()
    }
    fn durability(&self) -> Durability {
        self.backend.durability()
    }
    fn snapshot(&self) -> Result<B::Snapshot<'_>> {
        self.backend.snapshot()
    }
    fn write(&self, batch: &WriteBatch) -> Result<()> {
        self.backend.write(batch)
    }
    fn flush(&self) -> Result<()> {
        match self.bug {
            SyncBug::FlushDoesNotSync => Ok(()),
            SyncBug::FlushIgnoresErrors => {
                let _ignored = self.backend.flush();
                Ok(())
            }
        }
    }
    fn reclaim(&self) -> Result<()> {
        self.backend.reclaim()
    }
    fn structure(&self) -> Result<Vec<(&'static str, u64)>> {
        self.backend.structure()
    }
}

/// A test-only backend that keeps its data in one file, rewritten whole on every `flush()`:
/// written to `<file>.tmp`, synced, renamed over `<file>`, and (unless the bug is planted) the
/// directory synced. Without the directory sync the rename may revert at a power loss, and
/// with it every write since the previous rename: the fault model's "a rename not followed by
/// an `fsync` of its directory may revert". A killed process keeps the rename.
pub struct RenamedFile {
    map: syncproof_engine::kv::BTreeBackend,
    file: std::path::PathBuf,
    sync_dir: bool,
}

/// The file a [`RenamedFile`] keeps its data in, inside the store directory.
pub const RENAMED_FILE: &str = "renamed-file.kv";

impl RenamedFile {
    /// Opens (or creates) the store in `dir`; `sync_dir: false` plants the bug.
    pub fn open(dir: &std::path::Path, sync_dir: bool) -> Result<Self> {
        let file = dir.join(RENAMED_FILE);
        let map = syncproof_engine::kv::BTreeBackend::new();
        match std::fs::read(&file) {
            Ok(bytes) => {
                let mut batch = WriteBatch::new();
                for (k, v) in decode_pairs(&bytes)? {
                    batch.put(k, v);
                }
                map.write(&batch)?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        Ok(RenamedFile {
            map,
            file,
            sync_dir,
        })
    }
}

/// The file's format: pairs of (u32 length, bytes) for key then value, little-endian.
fn decode_pairs(mut b: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    fn take(b: &mut &[u8]) -> Result<Vec<u8>> {
        let corrupt = || syncproof_engine::Error::corruption("renamed-file: cut short");
        let (len, rest) = b.split_first_chunk::<4>().ok_or_else(corrupt)?;
        let n = u32::from_le_bytes(*len) as usize;
        let (bytes, rest) = rest.split_at_checked(n).ok_or_else(corrupt)?;
        *b = rest;
        Ok(bytes.to_vec())
    }
    let mut out = Vec::new();
    while !b.is_empty() {
        let k = take(&mut b)?;
        let v = take(&mut b)?;
        out.push((k, v));
    }
    Ok(out)
}

impl KvBackend for RenamedFile {
    type Snapshot<'a> = <syncproof_engine::kv::BTreeBackend as KvBackend>::Snapshot<'a>;

    fn name(&self) -> &'static str {
        "renamed-file"
    }
    fn durability(&self) -> Durability {
        Durability::Flush
    }
    fn snapshot(&self) -> Result<Self::Snapshot<'_>> {
        self.map.snapshot()
    }
    fn write(&self, batch: &WriteBatch) -> Result<()> {
        self.map.write(batch)
    }
    fn flush(&self) -> Result<()> {
        use std::io::Write;
        let mut bytes = Vec::new();
        self.map.snapshot()?.scan(&[], None, false, &mut |k, v| {
            for part in [k, v] {
                bytes.extend_from_slice(&(part.len() as u32).to_le_bytes());
                bytes.extend_from_slice(part);
            }
            Ok(true)
        })?;
        let tmp = self.file.with_extension("tmp");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &self.file)?;
        if self.sync_dir {
            if let Some(dir) = self.file.parent() {
                std::fs::File::open(dir)?.sync_all()?;
            }
        }
        Ok(())
    }
}

impl Drop for RenamedFile {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}
