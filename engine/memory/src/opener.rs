//! Opening memory stores by path, so the memory engine plugs into the same `Opener` as the
//! persistent ones: the same directory means the same store (a reopen).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use syncproof_engine::contract::Opener;
use syncproof_engine::{EngineConfig, Result, StorageEngine};

use crate::{MemoryEngine, MemoryStore};

/// Keeps one [`MemoryStore`] per directory for as long as the opener lives.
#[derive(Debug, Default)]
pub struct MemoryOpener {
    stores: Mutex<HashMap<PathBuf, MemoryStore>>,
}

impl Opener for MemoryOpener {
    fn name(&self) -> &str {
        "memory"
    }

    fn open(&self, dir: &Path, config: EngineConfig) -> Result<Box<dyn StorageEngine>> {
        let mut stores = self.stores.lock().unwrap_or_else(|e| e.into_inner());
        let store = stores.entry(dir.to_path_buf()).or_default().clone();
        Ok(Box::new(MemoryEngine::open(store, config)))
    }
}
