//! Deliberately broken key-value backends whose bugs only concurrent reads can see: each
//! wraps any [`KvBackend`], answers every single-threaded call exactly as the backend does,
//! and breaks the one promise a reader on another thread relies on (SPEC §6: a read sees one
//! consistent state). Put one under a `KvStore` (`KvOpener::new(name, |dir| ...)`) to show
//! that the concurrent mode catches it and the sequential mode does not
//! (`harness/tests/concurrency.rs`).

use syncproof_engine::kv::{Durability, KvBackend, KvSnapshot, ScanVisitor, WriteBatch};
use syncproof_engine::Result;

/// Applies each batch as two commits: its range deletes and the first half of its point
/// operations, then the rest. Every batch is still whole once `write` returns; a reader in
/// between sees half of it.
pub struct SplitCommits<B>(pub B);

impl<B: KvBackend> KvBackend for SplitCommits<B> {
    type Snapshot<'a> = B::Snapshot<'a>;

    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn durability(&self) -> Durability {
        self.0.durability()
    }
    fn snapshot(&self) -> Result<Self::Snapshot<'_>> {
        self.0.snapshot()
    }
    fn write(&self, batch: &WriteBatch) -> Result<()> {
        let half = batch.len() / 2;
        if half == 0 {
            return self.0.write(batch);
        }
        let (mut first, mut second) = (WriteBatch::new(), WriteBatch::new());
        for (start, end) in batch.ranges() {
            first.delete_range(start.clone(), end.clone());
        }
        for (i, (k, v)) in batch.ops().enumerate() {
            let into = if i < half { &mut first } else { &mut second };
            match v {
                Some(v) => into.put(k.to_vec(), v.to_vec()),
                None => into.delete(k.to_vec()),
            }
        }
        self.0.write(&first)?;
        self.0.write(&second)
    }
    fn flush(&self) -> Result<()> {
        self.0.flush()
    }
    fn reclaim(&self) -> Result<()> {
        self.0.reclaim()
    }
    fn structure(&self) -> Result<Vec<(&'static str, u64)>> {
        self.0.structure()
    }
}

/// Keys a [`FreshSnapshots`] scan reads from one backend snapshot before it takes the next.
pub const KEYS_PER_SNAPSHOT: usize = 3;

/// Takes a fresh backend snapshot for every point read and every [`KEYS_PER_SNAPSHOT`] keys
/// of a scan (a scan that re-opens its read transaction as it goes): one call's reads then
/// straddle the writes committed meanwhile.
pub struct FreshSnapshots<B>(pub B);

/// The snapshot of a [`FreshSnapshots`] backend: the backend itself, read anew as it goes.
pub struct Fresh<'a, B>(&'a B);

impl<B: KvBackend> KvSnapshot for Fresh<'_, B> {
    fn get(&self, key: &[u8], visit: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<bool> {
        self.0.snapshot()?.get(key, visit)
    }

    fn scan(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        reverse: bool,
        visit: ScanVisitor<'_>,
    ) -> Result<()> {
        // The bounds still to scan: `[lo, hi)`, narrowed past each chunk's last key.
        let mut lo = start.to_vec();
        let mut hi = end.map(<[u8]>::to_vec);
        loop {
            let mut seen = 0usize;
            let mut last: Option<Vec<u8>> = None;
            let mut stopped = false;
            {
                let snap = self.0.snapshot()?;
                snap.scan(&lo, hi.as_deref(), reverse, &mut |k, v| {
                    if seen == KEYS_PER_SNAPSHOT {
                        return Ok(false);
                    }
                    seen += 1;
                    last = Some(k.to_vec());
                    let more = visit(k, v)?;
                    stopped = !more;
                    Ok(more)
                })?;
            }
            let Some(last) = last else {
                return Ok(());
            };
            if stopped || seen < KEYS_PER_SNAPSHOT {
                return Ok(());
            }
            if reverse {
                hi = Some(last);
            } else {
                // The smallest key after `last`.
                lo = last;
                lo.push(0);
            }
        }
    }
}

impl<B: KvBackend> KvBackend for FreshSnapshots<B> {
    type Snapshot<'a> = Fresh<'a, B>;

    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn durability(&self) -> Durability {
        self.0.durability()
    }
    fn snapshot(&self) -> Result<Fresh<'_, B>> {
        Ok(Fresh(&self.0))
    }
    fn write(&self, batch: &WriteBatch) -> Result<()> {
        self.0.write(batch)
    }
    fn flush(&self) -> Result<()> {
        self.0.flush()
    }
    fn reclaim(&self) -> Result<()> {
        self.0.reclaim()
    }
    fn structure(&self) -> Result<Vec<(&'static str, u64)>> {
        self.0.structure()
    }
}
