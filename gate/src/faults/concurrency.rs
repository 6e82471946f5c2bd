//! Deliberately broken key-value backends whose bugs only concurrent reads can see: [`Racy`]
//! wraps any [`KvBackend`] with one [`RaceBug`], answers every single-threaded call exactly as
//! the backend does, and breaks the one promise a reader on another thread relies on (SPEC
//! §6: a read sees one consistent state). Put one under a `KvStore`
//! (`KvOpener::new(name, |dir| ...)`) to show that the concurrent mode catches it and the
//! sequential mode does not (`harness/tests/concurrency.rs`).

use syncproof_engine::kv::{Durability, KvBackend, KvSnapshot, ScanVisitor, WriteBatch};
use syncproof_engine::Result;

/// Keys a [`RaceBug::FreshSnapshots`] scan reads from one backend snapshot before it takes the
/// next.
pub const KEYS_PER_SNAPSHOT: usize = 3;

/// One race a [`Racy`] backend plants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RaceBug {
    /// Each batch is applied as two commits: its range deletes and the first half of its point
    /// operations, then the rest. Every batch is whole once `write` returns; a reader in
    /// between sees half of it.
    SplitCommits,
    /// Every point read and every [`KEYS_PER_SNAPSHOT`] keys of a scan take a fresh backend
    /// snapshot (a scan that re-opens its read transaction as it goes): one call's reads then
    /// straddle the writes committed meanwhile.
    FreshSnapshots,
}

/// A backend with one planted [`RaceBug`].
pub struct Racy<B> {
    /// The backend underneath.
    pub backend: B,
    /// The race it plants.
    pub bug: RaceBug,
}

/// The snapshot of a [`Racy`] backend: the backend's own, or (for
/// [`RaceBug::FreshSnapshots`]) the backend itself, read anew as it goes.
pub enum RacySnapshot<'a, B: KvBackend + 'a> {
    /// One consistent snapshot.
    Whole(B::Snapshot<'a>),
    /// A fresh snapshot per point read and per few keys of a scan.
    Fresh(&'a B),
}

impl<B: KvBackend> KvSnapshot for RacySnapshot<'_, B> {
    fn get(&self, key: &[u8], visit: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<bool> {
        match self {
            RacySnapshot::Whole(s) => s.get(key, visit),
            RacySnapshot::Fresh(b) => b.snapshot()?.get(key, visit),
        }
    }

    fn scan(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        reverse: bool,
        visit: ScanVisitor<'_>,
    ) -> Result<()> {
        match self {
            RacySnapshot::Whole(s) => s.scan(start, end, reverse, visit),
            RacySnapshot::Fresh(b) => fresh_scan(*b, start, end, reverse, visit),
        }
    }
}

/// A scan of `[start, end)` that takes a new snapshot of `b` every [`KEYS_PER_SNAPSHOT`] keys.
fn fresh_scan<B: KvBackend>(
    b: &B,
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
        b.snapshot()?
            .scan(&lo, hi.as_deref(), reverse, &mut |k, v| {
                if seen == KEYS_PER_SNAPSHOT {
                    return Ok(false);
                }
                seen += 1;
                last = Some(k.to_vec());
                let more = visit(k, v)?;
                stopped = !more;
                Ok(more)
            })?;
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

/// `batch` as two batches: its range deletes and the first half of its point operations, then
/// the rest (`None` when it has fewer than two point operations to split).
fn halves(batch: &WriteBatch) -> Option<(WriteBatch, WriteBatch)> {
    let half = batch.len() / 2;
    if half == 0 {
        return None;
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
    Some((first, second))
}

impl<B: KvBackend> KvBackend for Racy<B> {
    type Snapshot<'a> = RacySnapshot<'a, B>;

    fn name(&self) -> &'static str {
        self.backend.name()
    }
    fn durability(&self) -> Durability {
        self.backend.durability()
    }
    fn snapshot(&self) -> Result<RacySnapshot<'_, B>> {
        Ok(match self.bug {
            RaceBug::FreshSnapshots => RacySnapshot::Fresh(&self.backend),
            RaceBug::SplitCommits => RacySnapshot::Whole(self.backend.snapshot()?),
        })
    }
    fn write(&self, batch: &WriteBatch) -> Result<()> {
        match (self.bug, halves(batch)) {
            (RaceBug::SplitCommits, Some((first, second))) => {
                self.backend.write(&first)?;
                self.backend.write(&second)
            }
            _ => self.backend.write(batch),
        }
    }
    fn flush(&self) -> Result<()> {
        self.backend.flush()
    }
    fn reclaim(&self) -> Result<()> {
        self.backend.reclaim()
    }
    fn structure(&self) -> Result<Vec<(&'static str, u64)>> {
        self.backend.structure()
    }
}
