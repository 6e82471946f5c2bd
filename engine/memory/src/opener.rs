//! Opening memory stores by path, so the memory engine plugs into the same `Opener` as the
//! persistent ones: the same directory means the same store (a reopen).

use std::path::Path;

use syncproof_engine::contract::{Opener, StoreDirs};
use syncproof_engine::{EngineConfig, Result, StorageEngine};

use crate::{MemoryEngine, MemoryStore};

/// Keeps one [`MemoryStore`] per directory for as long as the directory exists: a store
/// whose directory was removed is forgotten at the next open, so an opener that serves a long
/// run (the oracle of a soak) holds only the stores still in use.
#[derive(Debug, Default)]
pub struct MemoryOpener {
    stores: StoreDirs<MemoryStore>,
}

impl Opener for MemoryOpener {
    fn name(&self) -> &str {
        "memory"
    }

    fn open(&self, dir: &Path, config: EngineConfig) -> Result<Box<dyn StorageEngine>> {
        let (store, _) = self.stores.open(dir);
        Ok(Box::new(MemoryEngine::open(store, config)))
    }
}

impl MemoryOpener {
    /// Stores held (one per directory still in use).
    pub fn stores_held(&self) -> usize {
        self.stores.live()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_of_removed_directories_are_forgotten() {
        let o = MemoryOpener::default();
        for _ in 0..50 {
            let d = tempfile::tempdir().unwrap();
            let _e = o.open(d.path(), EngineConfig::default()).unwrap();
        }
        let kept = tempfile::tempdir().unwrap();
        let _e = o.open(kept.path(), EngineConfig::default()).unwrap();
        assert_eq!(o.stores_held(), 1, "only the directory that still exists");
    }
}
