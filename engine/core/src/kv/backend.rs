//! The ordered key-value level (DESIGN "Two levels"): what a backend must offer so that
//! [`super::KvStore`] can implement the whole sync-store contract on top of it.

use std::sync::OnceLock;

use crate::error::Result;

/// When a committed write reaches stable storage. Set explicitly on every backend, and
/// equally, before comparing speeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Durability {
    /// Commits reach the OS (or the backend's journal buffer); `flush()` (and close) fsyncs.
    /// This is what SPEC §6 requires: acknowledged writes are durable after `flush()`.
    Flush,
    /// Every commit is fsynced before it returns.
    Commit,
}

impl Durability {
    /// In words, for reports.
    pub fn name(self) -> &'static str {
        match self {
            Durability::Flush => "flush (fsync on flush/close)",
            Durability::Commit => "commit (fsync every commit)",
        }
    }
}

/// A set of writes applied atomically: range deletes first, then point puts and deletes
/// (at most one per key: a later operation on a key replaces an earlier one).
///
/// Operations are appended as they come (a planned record batch allocates nothing per
/// operation beyond its key and value); the key order the backends consume is worked out once,
/// on the first [`WriteBatch::ops`], and only if the appends were not already ascending.
#[derive(Clone, Debug, Default)]
pub struct WriteBatch {
    entries: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    /// Whether some append was not above the one before (then `order` is needed).
    unordered: bool,
    /// Indexes into `entries` in key order, the last operation of each key only.
    order: OnceLock<Vec<usize>>,
    ranges: Vec<(Vec<u8>, Vec<u8>)>,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }
    fn push(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        if self.entries.last().is_some_and(|(last, _)| key <= *last) {
            self.unordered = true;
        }
        self.entries.push((key, value));
        self.order = OnceLock::new();
    }
    /// Sets `key` to `value`.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.push(key, Some(value));
    }
    /// Removes `key`.
    pub fn delete(&mut self, key: Vec<u8>) {
        self.push(key, None);
    }
    /// Removes every key in `[start, end)`.
    pub fn delete_range(&mut self, start: Vec<u8>, end: Vec<u8>) {
        self.ranges.push((start, end));
    }
    /// The key order of the entries when appends were not ascending (`None`: they were).
    fn order(&self) -> Option<&[usize]> {
        if !self.unordered {
            return None;
        }
        Some(self.order.get_or_init(|| {
            let key = |i: usize| self.entries.get(i).map(|(k, _)| k);
            let mut idx: Vec<usize> = (0..self.entries.len()).collect();
            // Equal keys: the latest operation first, so that dedup keeps it.
            idx.sort_unstable_by(|&a, &b| key(a).cmp(&key(b)).then(b.cmp(&a)));
            idx.dedup_by(|later, kept| key(*later) == key(*kept));
            idx
        }))
    }
    /// Point operations in key order: `Some(value)` puts, `None` deletes.
    pub fn ops(&self) -> impl Iterator<Item = (&[u8], Option<&[u8]>)> {
        let order = self.order();
        (0..self.len()).filter_map(move |i| {
            let j = match order {
                Some(o) => *o.get(i)?,
                None => i,
            };
            let (k, v) = self.entries.get(j)?;
            Some((k.as_slice(), v.as_deref()))
        })
    }
    /// Range deletes, applied before the point operations.
    pub fn ranges(&self) -> &[(Vec<u8>, Vec<u8>)] {
        &self.ranges
    }
    /// Whether the batch does nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.ranges.is_empty()
    }
    /// Number of point operations (distinct keys).
    pub fn len(&self) -> usize {
        self.order().map_or(self.entries.len(), <[usize]>::len)
    }
}

/// Batches are equal when they apply the same operations, however they were appended.
impl PartialEq for WriteBatch {
    fn eq(&self, other: &Self) -> bool {
        self.ranges == other.ranges && self.ops().eq(other.ops())
    }
}

impl Eq for WriteBatch {}

/// What a scan calls for each entry; returning `false` stops the scan.
pub type ScanVisitor<'v> = &'v mut dyn FnMut(&[u8], &[u8]) -> Result<bool>;

/// A consistent view of the store: every read through one snapshot sees the same state.
pub trait KvSnapshot {
    /// Calls `visit` with the value of `key` if present (borrowing the backend's bytes where
    /// it can); returns whether the key was present.
    fn get(&self, key: &[u8], visit: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<bool>;

    /// Visits the keys in `[start, end)` (`end = None`: to the last key) in ascending order,
    /// or descending when `reverse`, until `visit` returns `false`.
    fn scan(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        reverse: bool,
        visit: ScanVisitor<'_>,
    ) -> Result<()>;
}

/// An ordered byte-key store with atomic batches and consistent snapshots.
///
/// Implementations must not panic on any stored bytes, and must map their errors to
/// [`crate::ErrorKind::Io`] or [`crate::ErrorKind::Corruption`].
pub trait KvBackend: Send + Sync + 'static {
    /// A read snapshot. Callers drop it before calling [`KvBackend::write`] on the same
    /// thread (some backends implement snapshots with a reader lock).
    type Snapshot<'a>: KvSnapshot + 'a
    where
        Self: 'a;

    /// Short name (`sled`, `mdbx`, …).
    fn name(&self) -> &'static str;
    /// The durability this backend was opened with.
    fn durability(&self) -> Durability;
    /// A consistent read view.
    fn snapshot(&self) -> Result<Self::Snapshot<'_>>;
    /// Applies a batch atomically: after a crash it is wholly visible or not at all.
    fn write(&self, batch: &WriteBatch) -> Result<()>;
    /// Makes every committed batch durable.
    fn flush(&self) -> Result<()>;
    /// Gives freed space back where the backend can (compaction); called after cleanup.
    fn reclaim(&self) -> Result<()> {
        Ok(())
    }
    /// Structural counters of the backend, where the engine can tell (B-tree branch pages,
    /// LSM tables, compactions since open, overflow pages): each named by the engine, each
    /// above zero once the event it counts has happened (a page split, a memtable flush).
    /// The gate prints in how many cases each one did, so a configuration that never
    /// reaches the machinery it exists for shows as a blind spot. Default: none.
    fn structure(&self) -> Result<Vec<(&'static str, u64)>> {
        Ok(Vec::new())
    }
}

/// Opens a raw key-value backend in a directory (creating it when empty), as the KV level
/// runs it: an engine's default, or one of its configurations
/// ([`crate::contract::Configuration::kv`]).
pub type KvOpen = fn(&std::path::Path) -> Result<Box<dyn DynBackend>>;

/// An object-safe view of any [`KvBackend`] (whose snapshot type makes it not object-safe),
/// for tools that handle backends of several types at once.
pub trait DynBackend: Send + Sync {
    /// Short name (`sled`, `mdbx`, …).
    fn name(&self) -> &'static str;
    /// Applies a batch atomically.
    fn write(&self, batch: &WriteBatch) -> Result<()>;
    /// The value of `key`, copied.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// At most `limit` entries of `[start, end)` in order (or reverse), copied, from one snapshot.
    fn scan(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;
    /// Makes every committed batch durable.
    fn flush(&self) -> Result<()>;
    /// The backend's structural counters ([`KvBackend::structure`]). Default: none.
    fn structure(&self) -> Result<Vec<(&'static str, u64)>> {
        Ok(Vec::new())
    }
}

impl<B: KvBackend> DynBackend for B {
    fn name(&self) -> &'static str {
        KvBackend::name(self)
    }
    fn write(&self, batch: &WriteBatch) -> Result<()> {
        KvBackend::write(self, batch)
    }
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let snap = self.snapshot()?;
        let mut out = None;
        snap.get(key, &mut |v| {
            out = Some(v.to_vec());
            Ok(())
        })?;
        Ok(out)
    }
    fn scan(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let snap = self.snapshot()?;
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        snap.scan(start, end, reverse, &mut |k, v| {
            out.push((k.to_vec(), v.to_vec()));
            Ok(out.len() < limit)
        })?;
        Ok(out)
    }
    fn flush(&self) -> Result<()> {
        KvBackend::flush(self)
    }
    fn structure(&self) -> Result<Vec<(&'static str, u64)>> {
        KvBackend::structure(self)
    }
}

/// Feeds entries from a double-ended iterator to a scan visitor, forwards or backwards, until
/// the visitor declines: the loop every backend's [`KvSnapshot::scan`] shares.
pub fn drive<I, K, V>(entries: I, reverse: bool, visit: ScanVisitor<'_>) -> Result<()>
where
    I: DoubleEndedIterator<Item = Result<(K, V)>>,
    K: AsRef<[u8]>,
    V: AsRef<[u8]>,
{
    let mut each = |item: Result<(K, V)>| -> Result<bool> {
        let (k, v) = item?;
        visit(k.as_ref(), v.as_ref())
    };
    if reverse {
        for item in entries.rev() {
            if !each(item)? {
                break;
            }
        }
    } else {
        for item in entries {
            if !each(item)? {
                break;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod write_batch_tests {
    use super::WriteBatch;

    fn ops(b: &WriteBatch) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        b.ops()
            .map(|(k, v)| (k.to_vec(), v.map(<[u8]>::to_vec)))
            .collect()
    }

    #[test]
    fn ops_come_in_key_order_with_the_last_operation_per_key() {
        let mut b = WriteBatch::new();
        b.put(b"b".to_vec(), b"1".to_vec());
        b.put(b"a".to_vec(), b"2".to_vec());
        b.delete(b"b".to_vec());
        b.put(b"c".to_vec(), b"3".to_vec());
        b.put(b"a".to_vec(), b"4".to_vec());
        let expected = vec![
            (b"a".to_vec(), Some(b"4".to_vec())),
            (b"b".to_vec(), None),
            (b"c".to_vec(), Some(b"3".to_vec())),
        ];
        assert_eq!(ops(&b), expected);
        assert_eq!(b.len(), 3);
        // An append after the order was worked out is seen.
        b.put(b"b".to_vec(), b"5".to_vec());
        assert_eq!(ops(&b)[1], (b"b".to_vec(), Some(b"5".to_vec())));
        assert_eq!(b.len(), 3);
    }

    #[test]
    fn ascending_appends_and_equality_by_effect() {
        let mut a = WriteBatch::new();
        a.put(b"a".to_vec(), vec![]);
        a.put(b"b".to_vec(), vec![]);
        let mut b = WriteBatch::new();
        b.put(b"b".to_vec(), vec![9]);
        b.put(b"a".to_vec(), vec![]);
        b.put(b"b".to_vec(), vec![]);
        assert_eq!(a.len(), 2);
        assert_eq!(a, b);
        b.delete(b"a".to_vec());
        assert_ne!(a, b);
        assert!(WriteBatch::new().is_empty());
    }
}
