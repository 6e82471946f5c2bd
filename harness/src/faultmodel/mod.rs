//! `syncproof crash`: the fault models below the process (README, "Fault model"), for every
//! engine and any engine a user plugs in, without privileges.
//!
//! - [`Model::Kill`]: SIGKILL of the writing child at a random instant; the page cache
//!   survives, so this checks what the engine's process-level commit does.
//! - [`Model::PowerLoss`]: the child runs with the recorder preloaded ([`recording`]); from
//!   its record, crash states that keep only what was synced, a random subset of the rest,
//!   or the rest with its last writes torn ([`image`]).
//! - [`Model::IoError`]: the n-th write, sync or read of a store file fails with `EIO` or
//!   `ENOSPC`, once or from then on; the call that hit it must fail with `Io`, the child must
//!   not panic, abort or hang, and the store, reopened and after a power loss, must hold
//!   every call acknowledged before the failure.
//!
//! Every crash state is checked the same way ([`probe`]): against the oracle's states in the
//! window the child's marks ([`workload`]) give, in a child process of its own.

pub mod drive;
pub mod image;
pub mod probe;
pub mod recording;
pub mod workload;

use syncproof_engine::contract::Opener;
use syncproof_engine::kv::KvOpener;
use syncproof_gate::faults::concurrency::{RaceBug, Racy};
use syncproof_gate::faults::syncs::{RenamedFile, SyncBug, Unsynced};

/// A fault model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Model {
    Kill,
    PowerLoss,
    IoError,
}

impl Model {
    pub const ALL: [Model; 3] = [Model::Kill, Model::PowerLoss, Model::IoError];
    pub fn name(self) -> &'static str {
        match self {
            Model::Kill => "kill",
            Model::PowerLoss => "power-loss",
            Model::IoError => "io-error",
        }
    }
    pub fn parse(s: &str) -> Result<Model, String> {
        Model::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| format!("unknown model {s:?}: kill, power-loss or io-error"))
    }
}

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
pub fn opener(label: &str) -> Result<Box<dyn Opener>, String> {
    crate::engines::opener(label)
        .or_else(|| planted(label))
        .ok_or_else(|| format!("unknown engine {label:?} (see `syncproof engines`)"))
}

/// The files of `label`'s engine that it rebuilds after a crash (left out of crash states).
pub fn volatile_files(label: &str) -> Vec<&'static str> {
    let (name, _) = syncproof_engine::contract::split_label(label);
    crate::engines::all()
        .into_iter()
        .find(|e| e.name == name)
        .map(|e| e.volatile_files.iter().map(|v| v.suffix).collect())
        .unwrap_or_default()
}
