//! Deliberately broken engines: a wrapper that injects one bug class into any engine, so a
//! test can show that a checker (the contract suite, the differential runner) catches it.
//! A checker that passes a broken engine is worth nothing; these prove ours do not.
//!
//! Fault classes are data. Each class is a small type in the file of its SPEC area
//! (`records`, `sync_runs`, `writes`, `reads`, `maintenance`, `durability`) that overrides
//! only the hooks of `hooks::Fault` its bug lives in; every other call does what a correct
//! engine does. Each has one row in the table below: its name, its one-line doc (what
//! `syncproof bugs` prints) and the contract checks that must fail on it ([`Bug::caught_by`]).
//! A test asserts both that they do and that every contract check is covered by some bug.
//! The KV level's classes are in [`kv`]; backends whose bugs only concurrent reads reveal
//! are in [`concurrency`]; backends whose `flush()` lies about durability, which only the
//! power-loss and I/O-error crash models reveal, are in [`syncs`].

pub mod concurrency;
mod durability;
mod edit;
mod hooks;
pub mod kv;
mod maintenance;
mod reads;
mod records;
mod sync_runs;
pub mod syncs;
mod wrapper;
mod writes;

pub use wrapper::{Faulty, FaultyOpener};

use hooks::Fault;

/// One row of the table of bug classes.
pub struct Class {
    /// The class.
    pub bug: Bug,
    /// Its name, for test output and `--inject`.
    pub name: &'static str,
    /// What it does, in one line (its doc comment in the table).
    doc: &'static str,
    /// The contract checks that must fail on an engine with this bug.
    pub caught_by: &'static [&'static str],
    /// Its behaviour.
    fault: &'static dyn Fault,
}

impl Class {
    /// What the class does, in one line.
    pub fn doc(&self) -> &'static str {
        self.doc.trim()
    }
}

macro_rules! bugs {
    ($($(#[doc = $doc:literal])* $area:ident :: $name:ident => [$($check:literal),+];)*) => {
        /// One injectable bug class: a row of [`CLASSES`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Bug { $($(#[doc = $doc])* $name,)* }

        impl Bug {
            /// Every bug class, in table order.
            pub const ALL: &'static [Bug] = &[$(Bug::$name),*];
        }

        /// The table of bug classes: one row each, grouped by SPEC area.
        pub static CLASSES: &[Class] = &[$(Class {
            bug: Bug::$name,
            name: stringify!($name),
            doc: concat!($($doc),*),
            caught_by: &[$($check),+],
            fault: &$area::$name,
        },)*];
    };
}

bugs! {
    // §1 records (records.rs)
    /// Ids longer than 1024 bytes are silently truncated instead of refused.
    records::TruncateLongIds => ["ids_length_limits"];
    /// Ids are cut to 1,000 bytes (a key buffer a little short of the 1,024-byte limit).
    records::TruncateNearLimit => ["ids_length_limits"];
    /// `\0` is stripped from ids.
    records::StripNul => ["ids_any_characters"];
    /// Resource keys are joined with `:` and split at the first `:` on the way out.
    records::JoinResourceKey => ["resource_key_is_a_tuple"];
    /// `-0.0` in annotations is written as `0.0`.
    records::NormalizeNegativeZero => ["annotations_bit_exact"];
    /// Grant `sources` are dropped on write.
    records::DropGrantSources => ["descriptive_fields_round_trip"];
    /// Grants whose principal resource is not stored are refused.
    records::RequirePrincipal => ["no_referential_integrity"];
    // §2 sync runs (sync_runs.rs)
    /// The engine's clock runs one nanosecond ahead of the one it was given.
    sync_runs::ClockSkew => ["ids_and_times_come_from_the_sources"];
    /// `start_sync` always claims the sync is new.
    sync_runs::StartSyncAlwaysNew => ["start_sync_returns_current"];
    /// `start_sync` never resumes an unfinished sync.
    sync_runs::NoResume => ["start_sync_resumes_within_window"];
    /// `start_sync` resumes the current sync once; the second time it ends it and starts a
    /// new full sync (a retry limit applied to resumes).
    sync_runs::SecondResumeStartsNew => ["start_sync_returns_current"];
    /// `start_sync` creates a partial sync instead of a full one.
    sync_runs::NewSyncIsPartial => ["start_sync_starts_full"];
    /// `start_new_sync` of another type ends the current sync instead of refusing.
    sync_runs::StartNewSyncReplacesCurrent => ["start_new_sync_with_current"];
    /// The parent of `start_new_sync` is ignored.
    sync_runs::ParentIgnored => ["start_new_sync_parent_rules"];
    /// `set_current_sync` of a finished sync succeeds (without effect).
    sync_runs::SetCurrentAcceptsFinished => ["set_current_sync_rules"];
    /// `end_sync` without a current sync succeeds.
    sync_runs::EndWithoutCurrentOk => ["current_sync_calls_need_current"];
    /// `view_sync` while a sync is current succeeds (without effect).
    sync_runs::ViewWhileCurrentOk => ["view_sync_rules"];
    /// Writes without a current sync succeed (and go nowhere).
    sync_runs::WriteWithoutCurrentOk => ["writes_need_current"];
    /// `set_current_sync` does nothing, so writes stay in the previous sync.
    sync_runs::SetCurrentIgnored => ["writes_land_in_current"];
    /// `view_sync(Some)` does nothing.
    sync_runs::ViewIgnored => ["read_resolution_order"];
    /// Among full syncs ending at the same instant, reads pick the smaller id.
    sync_runs::TieBySmallerId => ["latest_finished_ties_by_id"];
    /// Reopening restores the current sync instead of clearing it.
    sync_runs::ReopenKeepsHandle => ["reopen_keeps_data_clears_handle"];
    /// Sync runs are listed by id instead of `(started_at, id)`.
    sync_runs::SyncRunsById => ["sync_runs_list_order"];
    // §3 writes (writes.rs)
    /// A replace keeps the stored `discovered_at` when it is newer.
    writes::ReplaceKeepsNewerDiscoveredAt => ["put_replaces_everything"];
    /// If-newer also writes on equal timestamps.
    writes::IfNewerOnEqual => ["if_newer_rules"];
    /// A batch that fails validation still writes its valid records.
    writes::PartialBatchOnError => ["batch_is_atomic"];
    /// Within a batch the first record with a key wins.
    writes::FirstRecordWins => ["batch_later_record_wins"];
    /// `delete_grant` always answers `true`.
    writes::DeleteAlwaysTrue => ["delete_grant_rules"];
    /// An asset without content type gets a default one instead of an error.
    writes::AssetContentTypeDefaulted => ["put_asset_rules"];
    /// Overwriting a grant leaves its old principal's index entry behind.
    writes::StaleIndexAfterOverwrite => ["put_replaces_everything"];
    /// A grant delete leaves its index entries behind, invisible to reads (they skip entries
    /// without a record); only `verify` sees them.
    writes::DeleteLeavesIndexEntry => ["delete_grant_rules"];
    // §4 reads (reads.rs)
    /// A get of an absent key is `NotFound` instead of `None`.
    reads::AbsentGetIsNotFound => ["point_get_absent_is_none"];
    /// Lists sort case-insensitively instead of by bytes.
    reads::CaseInsensitiveOrder => ["lists_in_byte_order"];
    /// Filters match prefixes (`user` also finds `user_group`).
    reads::PrefixFilters => ["resource_filters_exact", "entitlement_filter_exact", "grant_filters_exact"];
    /// Page size 0 serves 50 records instead of 100.
    reads::DefaultPageSize50 => ["page_size_default_and_clamp"];
    /// Filtered lists never return a next token.
    reads::NoTokenOnFilteredLists => ["next_token_iff_more"];
    /// Resuming a token returns the last record of the previous page again.
    reads::InclusiveTokens => ["tokens_resume_strictly_after"];
    /// A bad token silently restarts the list from the beginning.
    reads::RestartOnBadToken => ["bad_tokens_rejected"];
    /// Stats never count assets.
    reads::StatsWithoutAssets => ["stats_counts"];
    /// Resuming a token skips the first record after it (an off-by-one at page boundaries).
    reads::SkipAtPageBoundary => ["tokens_resume_strictly_after", "lists_in_byte_order"];
    /// Resuming a page of the default size skips its first record: record 101 of a list.
    reads::SkipsRecord101 => ["page_size_default_and_clamp"];
    /// A point get consults only the active memtable: a record put more than 256 record puts
    /// ago (flushed since) reads as absent; lists are right.
    reads::GetMissesFlushed => ["point_get_finds_flushed_records"];
    /// The lending list does not lend the last record of a page that has a next token (its
    /// visitor loop stops one short); the owned list is right.
    reads::LendingDropsPageEnd => ["lending_reads_match_owned"];
    /// The lending get answers "absent" for every asset (a kind its dispatch forgot).
    reads::LendingGetMissesAssets => ["lending_reads_match_owned"];
    // §5 maintenance (maintenance.rs)
    /// Cleanup keeps one full sync fewer than asked.
    maintenance::CleanupKeepsOneFewer => ["cleanup_rules"];
    /// Cleanup deletes the viewed sync.
    maintenance::CleanupDeletesViewed => ["cleanup_spares_unfinished_and_viewed"];
    /// Diff upserts hold additions only, not modifications.
    maintenance::DiffAdditionsOnly => ["diff_contents"];
    /// Diff returns `(deletions, upserts)`.
    maintenance::DiffIdsSwapped => ["diff_runs_and_handle"];
    /// Diff of a missing or unfinished sync succeeds.
    maintenance::DiffUnchecked => ["diff_preconditions"];
    /// Export (and so clone) drops its last chunk.
    maintenance::ExportDropsLastChunk => ["clone_copies_sync"];
    /// Export (and so clone) drops the first record of every chunk after the first.
    maintenance::ExportDropsChunkBoundary => ["clone_copies_sync"];
    /// Diff deletions are never written.
    maintenance::DiffMissesDeletions => ["diff_contents"];
    /// Export writes `\0` in grant ids as a private two-byte escape that the engine's own
    /// import undoes: a clone into the same engine round-trips, one into another does not.
    maintenance::ExportEscapesNul => ["clone_across_engines"];
    /// An import keeps the first write of each grant id and drops later ones (a bulk load
    /// that inserts only what is absent).
    maintenance::ImportFirstWriteWins => ["import_later_batch_wins"];
    // §6 errors, durability, concurrency (durability.rs)
    /// A page token over 64 KiB panics.
    durability::PanicOnLongToken => ["bad_input_never_panics"];
    /// Reopening loses the last batch written before it.
    durability::ReopenLosesLastBatch => ["flush_then_reopen_is_durable"];
    /// Batches are written in two halves, visible in between.
    durability::TornBatches => ["concurrent_reads_see_one_state"];
    /// Stats counts grants in one snapshot and every other kind in a second one taken a
    /// moment later (a stats that scans its tables one by one, each in its own read).
    durability::StatsFromTwoSnapshots => ["concurrent_reads_see_one_state"];
    /// A put of a record whose id has `\0` after its first byte never returns (a key-building
    /// loop that never advances).
    durability::HangOnNulInId => ["ids_length_limits", "ids_any_characters"];
    /// A put of a record whose id has `\0` after its first byte allocates without bound (a
    /// key-building loop that keeps appending).
    durability::RunawayOnNulInId => ["ids_length_limits", "ids_any_characters"];
}

impl Bug {
    /// Whether the bug is a stall ([`Bug::STALLS`]).
    pub fn stalls(self) -> bool {
        Bug::STALLS.contains(&self)
    }

    /// The class's row of [`CLASSES`] (the table is in the enum's order: `bugs!` builds both).
    pub fn class(self) -> &'static Class {
        CLASSES
            .get(self as usize)
            .unwrap_or_else(|| unreachable!("the bugs! table has a row for every Bug"))
    }

    /// The contract checks that must fail on an engine with this bug.
    pub fn caught_by(self) -> &'static [&'static str] {
        self.class().caught_by
    }

    /// One line on what the bug does (its doc comment in the table).
    pub fn doc(self) -> &'static str {
        self.class().doc()
    }

    /// Stable name, for test output and `--inject`.
    pub fn name(self) -> &'static str {
        self.class().name
    }

    /// Looks a bug up by its name.
    pub fn from_name(name: &str) -> Option<Bug> {
        CLASSES.iter().find(|c| c.name == name).map(|c| c.bug)
    }

    /// Its behaviour.
    pub(crate) fn fault(self) -> &'static dyn Fault {
        self.class().fault
    }

    /// Whether the generated sequences can find the bug at all: not a stall (the watchdog's
    /// business), not a class only reads on other threads see ([`Bug::CONCURRENT`]) and not
    /// one only an import that writes a record twice meets ([`Bug::IMPORT_ONLY`]).
    pub fn sequences_can_meet(self) -> bool {
        !self.stalls() && !Bug::CONCURRENT.contains(&self) && !Bug::IMPORT_ONLY.contains(&self)
    }

    /// The classes only an import that writes one record twice meets: the cases import only
    /// through `clone_sync`, whose export hands each record over once, so no case does; the
    /// contract's `import_later_batch_wins` catches them.
    pub const IMPORT_ONLY: &'static [Bug] = &[Bug::ImportFirstWriteWins];

    /// The classes every single-threaded call answers correctly: only reads on other threads
    /// while a write runs see them, so the sequences never do; the concurrent phase and the
    /// contract's concurrency check catch them (`harness/tests/concurrency.rs`).
    pub const CONCURRENT: &'static [Bug] = &[Bug::StatsFromTwoSnapshots];

    /// The classes that stall instead of answering wrongly: the watchdog's op budget and
    /// memory ceiling catch them, and only in a process of their own, since the stalled
    /// thread never returns (`harness/tests/stall.rs`).
    pub const STALLS: &'static [Bug] = &[Bug::HangOnNulInId, Bug::RunawayOnNulInId];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bug_has_one_row_and_names_are_unique() {
        for &b in Bug::ALL {
            assert_eq!(CLASSES.iter().filter(|c| c.bug == b).count(), 1, "{b:?}");
            assert_eq!(b.class().bug, b, "the row found by index is the bug's own");
            assert_eq!(Bug::from_name(b.name()), Some(b));
            assert!(!b.doc().is_empty() && !b.caught_by().is_empty(), "{b:?}");
        }
        assert_eq!(CLASSES.len(), Bug::ALL.len());
    }
}
