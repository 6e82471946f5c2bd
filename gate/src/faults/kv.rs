//! Deliberately broken key-value backends: a wrapper that injects one bug class into any
//! `DynBackend`, so a test (or `syncproof check --level kv --inject`) shows the KV level
//! catches it.

use syncproof_engine::kv::{DynBackend, WriteBatch};
use syncproof_engine::Result;

/// One injectable KV bug class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KvBug {
    /// Range deletes in a batch are dropped; its point writes still apply.
    IgnoresRangeDeletes,
    /// A reverse scan skips its first entry.
    ReverseScanSkipsFirst,
    /// A scan with a limit above one returns one entry fewer than it could.
    ScanLimitOffByOne,
    /// A value of zero bytes reads as absent.
    EmptyValueIsAbsent,
    /// A range delete removes at most [`RANGE_DELETE_STOP`] keys of its range: a bounded
    /// delete loop that does not come back for the rest (one B-tree page's worth, as a
    /// cursor that stops at a page boundary would).
    RangeDeleteStopsShort,
}

/// Keys a [`KvBug::RangeDeleteStopsShort`] range delete removes before it stops.
pub const RANGE_DELETE_STOP: usize = 256;

/// The table of KV bug classes: each with its one-line description.
pub const KV_BUGS: &[(KvBug, &str, &str)] = &[
    (
        KvBug::IgnoresRangeDeletes,
        "IgnoresRangeDeletes",
        "range deletes in a batch are dropped; its point writes still apply",
    ),
    (
        KvBug::ReverseScanSkipsFirst,
        "ReverseScanSkipsFirst",
        "a reverse scan skips its first entry",
    ),
    (
        KvBug::ScanLimitOffByOne,
        "ScanLimitOffByOne",
        "a scan with a limit above one returns one entry fewer than it could",
    ),
    (
        KvBug::EmptyValueIsAbsent,
        "EmptyValueIsAbsent",
        "a value of zero bytes reads as absent",
    ),
    (
        KvBug::RangeDeleteStopsShort,
        "RangeDeleteStopsShort",
        "a range delete removes at most 256 keys of its range (a loop that stops at a page)",
    ),
];

impl KvBug {
    /// Every KV bug class.
    pub fn all() -> impl Iterator<Item = KvBug> {
        KV_BUGS.iter().map(|(b, _, _)| *b)
    }
    /// Stable name, for `--inject`.
    pub fn name(self) -> &'static str {
        KV_BUGS
            .iter()
            .find(|(b, _, _)| *b == self)
            .map_or("?", |(_, n, _)| n)
    }
    /// One line on what the bug does.
    pub fn doc(self) -> &'static str {
        KV_BUGS
            .iter()
            .find(|(b, _, _)| *b == self)
            .map_or("?", |(_, _, d)| d)
    }
    /// Looks a bug up by its name.
    pub fn from_name(name: &str) -> Option<KvBug> {
        KV_BUGS
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(b, _, _)| *b)
    }
}

/// A backend with one bug injected.
pub struct FaultyKv {
    inner: Box<dyn DynBackend>,
    bug: KvBug,
}

impl FaultyKv {
    /// Wraps `inner` with `bug`.
    pub fn new(inner: Box<dyn DynBackend>, bug: KvBug) -> Self {
        FaultyKv { inner, bug }
    }
}

impl DynBackend for FaultyKv {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn write(&self, batch: &WriteBatch) -> Result<()> {
        let bounded = self.bug == KvBug::RangeDeleteStopsShort;
        if !(self.bug == KvBug::IgnoresRangeDeletes || bounded) || batch.ranges().is_empty() {
            return self.inner.write(batch);
        }
        let mut points = WriteBatch::new();
        // The bounded loop's deletes come first: a point write of the batch to the same key
        // comes later and wins, as a range delete's would.
        for (start, end) in batch.ranges().iter().filter(|_| bounded) {
            if start < end {
                for (k, _) in self
                    .inner
                    .scan(start, Some(end), false, RANGE_DELETE_STOP)?
                {
                    points.delete(k);
                }
            }
        }
        for (k, v) in batch.ops() {
            match v {
                Some(v) => points.put(k.to_vec(), v.to_vec()),
                None => points.delete(k.to_vec()),
            }
        }
        self.inner.write(&points)
    }
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let v = self.inner.get(key)?;
        Ok(match v {
            Some(v) if v.is_empty() && self.bug == KvBug::EmptyValueIsAbsent => None,
            v => v,
        })
    }
    fn scan(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut out = self.inner.scan(start, end, reverse, limit)?;
        match self.bug {
            KvBug::ReverseScanSkipsFirst if reverse && !out.is_empty() => {
                out.remove(0);
            }
            KvBug::ScanLimitOffByOne if limit > 1 && out.len() == limit => {
                out.pop();
            }
            _ => {}
        }
        Ok(out)
    }
    fn flush(&self) -> Result<()> {
        self.inner.flush()
    }
    fn structure(&self) -> Result<Vec<(&'static str, u64)>> {
        self.inner.structure()
    }
}
