//! Per-directory state of openers that keep their stores in memory (the memory engine, the
//! `BTreeMap` key-value layer, the fault wrapper, a test backend): the same directory means the
//! same store, and a store whose directory no longer exists is forgotten, so an opener that
//! serves a long run (the oracle of a soak) holds only the stores still in use.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Fewest entries before the first prune.
const FIRST_PRUNE: usize = 16;

/// A map from store directory to its state `V`, pruned of removed directories.
///
/// Pruning stats every entry, so it runs only when the map has doubled since the last one:
/// amortised O(1) per open, and never more than twice the live stores (or `FIRST_PRUNE`).
#[derive(Debug)]
pub struct StoreDirs<V> {
    inner: Mutex<Inner<V>>,
}

#[derive(Debug)]
struct Inner<V> {
    map: BTreeMap<PathBuf, V>,
    prune_at: usize,
}

impl<V> Inner<V> {
    fn prune(&mut self) {
        self.map.retain(|d, _| d.exists());
        self.prune_at = (2 * self.map.len()).max(FIRST_PRUNE);
    }
}

impl<V> Default for StoreDirs<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> StoreDirs<V> {
    /// An empty map (usable in a `static`).
    pub const fn new() -> Self {
        StoreDirs {
            inner: Mutex::new(Inner {
                map: BTreeMap::new(),
                prune_at: FIRST_PRUNE,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<V>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores whose directory still exists (prunes first).
    pub fn live(&self) -> usize {
        let mut inner = self.lock();
        inner.prune();
        inner.map.len()
    }

    /// Entries held right now, removed directories not yet pruned included.
    pub fn held(&self) -> usize {
        self.lock().map.len()
    }

    /// Forgets the store of `dir` (a test backend that loses its data on reopen).
    pub fn forget(&self, dir: &Path) {
        self.lock().map.remove(dir);
    }
}

impl<V: Clone + Default> StoreDirs<V> {
    /// The state of `dir`, created if new, and whether it existed (a reopen).
    pub fn open(&self, dir: &Path) -> (V, bool) {
        let mut inner = self.lock();
        if inner.map.len() >= inner.prune_at {
            inner.prune();
        }
        match inner.map.get(dir) {
            Some(v) => (v.clone(), true),
            None => {
                let v = V::default();
                inner.map.insert(dir.to_path_buf(), v.clone());
                (v, false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removed_directories_are_forgotten_and_the_map_stays_bounded() {
        let dirs: StoreDirs<u32> = StoreDirs::new();
        let kept = tempfile::tempdir().unwrap();
        assert_eq!(dirs.open(kept.path()), (0, false));
        assert_eq!(
            dirs.open(kept.path()),
            (0, true),
            "the same directory is a reopen"
        );
        let mut most = 0;
        for _ in 0..1000 {
            let d = tempfile::tempdir().unwrap();
            dirs.open(d.path());
            most = most.max(dirs.held());
        }
        assert!(most <= FIRST_PRUNE, "held {most} entries for 1 live store");
        assert_eq!(dirs.live(), 1);
        assert_eq!(
            dirs.open(kept.path()),
            (0, true),
            "a live store is never pruned"
        );
        dirs.forget(kept.path());
        assert_eq!(dirs.open(kept.path()), (0, false));
    }
}
