//! The op model: one variant per `StorageEngine` call, plus `Reopen`, `AdvanceClock`, and
//! reads that page through a whole list. Sync and token references are symbolic, resolved
//! at run time, so a sequence stays meaningful as it is shrunk.

use serde::{Deserialize, Serialize};
use syncproof_engine::{Asset, ListQuery, PutMode, RecordBatch, RecordKey, SyncId, SyncType};

/// A reference to a sync, resolved against the syncs created so far in the run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncRef {
    /// The n-th sync created (modulo how many exist; a missing id when none exist).
    Nth(u8),
    /// A well-formed id no engine will ever mint.
    Missing,
    /// An invalid id (empty).
    Invalid,
}

/// The id nothing mints.
pub const MISSING_SYNC: &str = "no-such-sync";

impl SyncRef {
    /// The sync id this reference means, given the syncs created so far.
    pub fn resolve(&self, created: &[SyncId]) -> SyncId {
        match self {
            SyncRef::Nth(n) => created
                .get(usize::from(*n) % created.len().max(1))
                .cloned()
                .unwrap_or_else(|| SyncId::new(MISSING_SYNC)),
            SyncRef::Missing => SyncId::new(MISSING_SYNC),
            SyncRef::Invalid => SyncId::new(""),
        }
    }
}

/// A page token for a resumed read: one an engine issued earlier, or a forged one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenRef {
    /// The n-th token this engine issued so far (modulo; forged "" when none).
    Issued(u16),
    /// A token made up by the generator (malformed, tampered, of another list).
    Forged(String),
    /// The n-th token (modulo) that this engine issued so far for a list of the same sync
    /// reference and query as the resumed read (forged "" when none): a resume of its own
    /// list, which the records written since may have moved.
    OfList(u16),
}

/// One step of a sequence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Op {
    /// `start_sync`.
    StartSync,
    /// `start_new_sync`.
    StartNewSync {
        /// The type asked for.
        sync_type: SyncType,
        /// The parent, if any.
        parent: Option<SyncRef>,
    },
    /// `set_current_sync`.
    SetCurrentSync(SyncRef),
    /// `current_sync_token`.
    CurrentSyncToken,
    /// `checkpoint_sync` with this token.
    CheckpointSync(String),
    /// `end_sync`.
    EndSync,
    /// `view_sync`.
    ViewSync(Option<SyncRef>),
    /// `get_sync_run`.
    GetSyncRun(SyncRef),
    /// Pages through the sync-run list to the end.
    ListSyncRuns {
        /// Runs per page.
        page_size: usize,
    },
    /// `put`.
    Put {
        /// The records.
        batch: RecordBatch,
        /// Replace or if-newer.
        mode: PutMode,
    },
    /// `delete_grant`.
    DeleteGrant(String),
    /// `get`.
    Get {
        /// The sync to read (`None`: resolved).
        sync: Option<SyncRef>,
        /// The record asked for.
        key: RecordKey,
    },
    /// Pages through a list to the end with `page_size`, each engine with its own tokens.
    List {
        /// The sync to read (`None`: resolved).
        sync: Option<SyncRef>,
        /// The list and its filter.
        query: ListQuery,
        /// Items per page.
        page_size: usize,
    },
    /// Reads one page resuming from a token (possibly of another list, stale or forged).
    ResumeList {
        /// The sync to read (`None`: resolved).
        sync: Option<SyncRef>,
        /// The list and its filter.
        query: ListQuery,
        /// Items per page.
        page_size: usize,
        /// The token to resume from.
        token: TokenRef,
    },
    /// `stats`.
    Stats {
        /// The sync to count (`None`: resolved).
        sync: Option<SyncRef>,
    },
    /// `cleanup`.
    Cleanup {
        /// Full syncs to keep.
        keep: usize,
    },
    /// `generate_sync_diff`.
    Diff {
        /// The older sync.
        base: SyncRef,
        /// The newer sync.
        applied: SyncRef,
    },
    /// Clones a sync into a fresh store of the same engine and reads the copy back.
    CloneSync(SyncRef),
    /// Clones a sync across engines: into a fresh store of the memory engine, from there into
    /// a fresh store of the engine itself, and reads that copy back. The engine's export meets
    /// a foreign import and its import a foreign export; the oracle makes the same two hops.
    CloneAcross(SyncRef),
    /// `flush`.
    Flush,
    /// Drops the engine and opens the same store again.
    Reopen,
    /// Moves the shared clock by this many nanoseconds (back, when negative: clocks do).
    AdvanceClock(i64),
    /// `put_asset`: one asset into the current sync.
    PutAsset(Asset),
    /// `verify`: the store checked at rest. An invariant more than a comparison: clean on
    /// the oracle, so clean on every engine; problems are a `Corruption` outcome naming them.
    Verify,
}

/// Every op kind's name, for coverage tables.
pub const OP_KINDS: &[&str] = &[
    "start_sync",
    "start_new_sync",
    "set_current_sync",
    "current_sync_token",
    "checkpoint_sync",
    "end_sync",
    "view_sync",
    "get_sync_run",
    "list_sync_runs",
    "put",
    "put_if_newer",
    "delete_grant",
    "get",
    "list",
    "resume_list",
    "stats",
    "cleanup",
    "diff",
    "clone_sync",
    "clone_across",
    "flush",
    "reopen",
    "advance_clock",
    "put_asset",
    "verify",
];

impl Op {
    /// The op's kind, one of [`OP_KINDS`].
    pub fn kind(&self) -> &'static str {
        match self {
            Op::StartSync => "start_sync",
            Op::StartNewSync { .. } => "start_new_sync",
            Op::SetCurrentSync(_) => "set_current_sync",
            Op::CurrentSyncToken => "current_sync_token",
            Op::CheckpointSync(_) => "checkpoint_sync",
            Op::EndSync => "end_sync",
            Op::ViewSync(_) => "view_sync",
            Op::GetSyncRun(_) => "get_sync_run",
            Op::ListSyncRuns { .. } => "list_sync_runs",
            Op::Put {
                mode: PutMode::Replace,
                ..
            } => "put",
            Op::Put {
                mode: PutMode::IfNewer,
                ..
            } => "put_if_newer",
            Op::DeleteGrant(_) => "delete_grant",
            Op::Get { .. } => "get",
            Op::List { .. } => "list",
            Op::ResumeList { .. } => "resume_list",
            Op::Stats { .. } => "stats",
            Op::Cleanup { .. } => "cleanup",
            Op::Diff { .. } => "diff",
            Op::CloneSync(_) => "clone_sync",
            Op::CloneAcross(_) => "clone_across",
            Op::Flush => "flush",
            Op::Reopen => "reopen",
            Op::AdvanceClock(_) => "advance_clock",
            Op::PutAsset(_) => "put_asset",
            Op::Verify => "verify",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_refs_resolve() {
        let created = vec![SyncId::new("x"), SyncId::new("y")];
        assert_eq!(SyncRef::Nth(3).resolve(&created), SyncId::new("y"));
        assert_eq!(SyncRef::Nth(0).resolve(&[]), SyncId::new(MISSING_SYNC));
        assert_eq!(SyncRef::Invalid.resolve(&created), SyncId::new(""));
    }
}
