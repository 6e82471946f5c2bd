//! `syncproof crash` on the in-tree engines: the gate's fault models
//! ([`syncproof_gate::faultmodel`], re-exported here) with the registry's engines and the
//! planted ones, and this executable as the children.

pub use syncproof_gate::faultmodel::*;

use syncproof_engine::contract::Opener;
use syncproof_engine::kv::KvOpener;
use syncproof_gate::faults::concurrency::{RaceBug, Racy};
use syncproof_gate::faults::syncs::{RenamedFile, SyncBug, Unsynced};

/// Engines with a planted durability bug, openable by label like the registry's (for the
/// tests that show each fault model catching what the weaker one misses), with what each
/// plants; and `renamed-file`, the correct form of the one backend that is not an engine's.
pub const PLANTED: [(&str, &str); 5] = [
    (
        "fjall+flush-does-not-sync",
        "fjall whose flush() returns Ok without syncing (SyncBug::FlushDoesNotSync)",
    ),
    (
        "fjall+flush-ignores-errors",
        "fjall whose flush() returns Ok when its sync failed (SyncBug::FlushIgnoresErrors)",
    ),
    (
        "fjall+split-commits",
        "fjall that writes each batch as two commits (RaceBug::SplitCommits)",
    ),
    (
        "renamed-file+no-dir-sync",
        "a store in one file renamed into place on flush() without syncing its directory",
    ),
    (
        "renamed-file",
        "the same store with the directory synced after the rename: correct",
    ),
];

fn planted(label: &str) -> Option<Box<dyn Opener>> {
    Some(match label {
        "fjall+flush-does-not-sync" => Box::new(KvOpener::new("fjall", |d| {
            Ok(Unsynced {
                backend: syncproof_fjall::open(d)?,
                bug: SyncBug::FlushDoesNotSync,
            })
        })),
        "fjall+flush-ignores-errors" => Box::new(KvOpener::new("fjall", |d| {
            Ok(Unsynced {
                backend: syncproof_fjall::open(d)?,
                bug: SyncBug::FlushIgnoresErrors,
            })
        })),
        "fjall+split-commits" => Box::new(KvOpener::new("fjall", |d| {
            Ok(Racy {
                backend: syncproof_fjall::open(d)?,
                bug: RaceBug::SplitCommits,
            })
        })),
        "renamed-file+no-dir-sync" => Box::new(KvOpener::new("renamed-file", |d| {
            RenamedFile::open(d, false)
        })),
        "renamed-file" => Box::new(KvOpener::new("renamed-file", |d| {
            RenamedFile::open(d, true)
        })),
        _ => return None,
    })
}

/// The opener of `label`: an engine of the registry (or one of its configurations), or a
/// [`PLANTED`] one.
pub fn opener(label: &str) -> Option<Box<dyn Opener>> {
    crate::engines::opener(label).or_else(|| planted(label))
}

/// The engines `syncproof crash` runs: the registry's and the [`PLANTED`] ones.
pub const ENGINES: Engines = Engines {
    opener,
    volatile_files,
};

/// The children of `syncproof crash`: the hidden `crash-child` command of the `syncproof`
/// executable at `program`.
pub fn children(program: std::path::PathBuf) -> Children {
    Children {
        program,
        args: vec!["crash-child".into()],
    }
}

/// The files of `label`'s engine that it rebuilds after a crash (left out of crash states).
pub fn volatile_files(label: &str) -> Vec<&'static str> {
    let (name, _) = syncproof_engine::contract::split_label(label);
    crate::engines::all()
        .into_iter()
        .find(|e| e.name == name)
        .map(|e| e.volatile_suffixes())
        .unwrap_or_default()
}
