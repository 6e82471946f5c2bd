//! A `BTreeMap` backend: the reference the real backends are checked against at the KV level,
//! and a quick way to run `KvStore` without a disk.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, RwLock, RwLockReadGuard};

use super::backend::{Durability, KvBackend, KvSnapshot, ScanVisitor, WriteBatch};
use crate::error::Result;

/// The map; clones share it (so a "reopen" keeps the data).
pub type SharedMap = Arc<RwLock<BTreeMap<Vec<u8>, Vec<u8>>>>;

/// An in-memory ordered map. Snapshots hold a read lock, so a batch is seen wholly or not.
#[derive(Clone, Debug, Default)]
pub struct BTreeBackend {
    map: SharedMap,
}

impl BTreeBackend {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }
    /// A backend over an existing map.
    pub fn on(map: SharedMap) -> Self {
        BTreeBackend { map }
    }
    /// The shared map (to reopen it later).
    pub fn map(&self) -> SharedMap {
        self.map.clone()
    }
}

/// A read-locked view of the map.
pub struct BTreeSnapshot<'a>(RwLockReadGuard<'a, BTreeMap<Vec<u8>, Vec<u8>>>);

impl KvSnapshot for BTreeSnapshot<'_> {
    fn get(&self, key: &[u8], visit: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<bool> {
        match self.0.get(key) {
            Some(v) => visit(v).map(|_| true),
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
        let range = self
            .0
            .range::<[u8], _>((Bound::Included(start), upper))
            .map(Ok);
        super::backend::drive(range, reverse, visit)
    }
}

impl KvBackend for BTreeBackend {
    type Snapshot<'a> = BTreeSnapshot<'a>;

    fn name(&self) -> &'static str {
        "btree"
    }
    fn durability(&self) -> Durability {
        Durability::Flush
    }
    fn snapshot(&self) -> Result<BTreeSnapshot<'_>> {
        Ok(BTreeSnapshot(
            self.map.read().unwrap_or_else(|e| e.into_inner()),
        ))
    }
    fn write(&self, batch: &WriteBatch) -> Result<()> {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        for (start, end) in batch.ranges() {
            if end <= start {
                continue;
            }
            let doomed: Vec<Vec<u8>> = map
                .range::<[u8], _>((
                    Bound::Included(start.as_slice()),
                    Bound::Excluded(end.as_slice()),
                ))
                .map(|(k, _)| k.clone())
                .collect();
            for k in doomed {
                map.remove(&k);
            }
        }
        for (k, v) in batch.ops() {
            match v {
                Some(v) => map.insert(k.to_vec(), v.to_vec()),
                None => map.remove(k),
            };
        }
        Ok(())
    }
    fn flush(&self) -> Result<()> {
        Ok(())
    }
}

/// Opens `KvStore`s over `BTreeBackend`s, one map per directory (so reopening a directory
/// keeps its data, and removing it forgets the map): the key-value layer without any disk,
/// for tests and fuzzing.
#[derive(Debug, Default)]
pub struct BTreeOpener {
    maps: crate::contract::StoreDirs<SharedMap>,
}

impl crate::contract::Opener for BTreeOpener {
    fn name(&self) -> &str {
        "kv-btree"
    }
    fn open(
        &self,
        dir: &std::path::Path,
        config: crate::EngineConfig,
    ) -> Result<Box<dyn crate::StorageEngine>> {
        let (map, _) = self.maps.open(dir);
        let store = super::KvStore::new(BTreeBackend::on(map), config);
        store.recover()?;
        Ok(Box::new(store))
    }
}
