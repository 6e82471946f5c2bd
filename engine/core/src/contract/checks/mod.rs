//! The checks, one module per SPEC section, and the rule table that lists them.

mod maintenance;
mod reads;
mod records;
mod safety;
mod sync_runs;
mod writes;

use super::Check;

macro_rules! checks {
    ($($module:ident :: $name:ident, $section:literal, $rule:literal;)*) => {
        /// Every SPEC rule and the check that fails when an engine breaks it.
        pub static CHECKS: &[Check] = &[
            $(Check { name: stringify!($name), section: $section, rule: $rule, run: $module::$name },)*
        ];
    };
}

checks! {
    records::ids_length_limits, "§1", "id components are 1..=1024 bytes; empty or longer is InvalidArgument, in writes, reads, filters and sync names";
    records::ids_any_characters, "§1", "any character is allowed in ids (\\0, :, |, non-ASCII) and ids stay distinct";
    records::resource_key_is_a_tuple, "§1", "a resource key is a tuple, never a joined string";
    records::annotations_bit_exact, "§1", "annotations survive bit-exactly (NaN payloads aside), also across reopen";
    records::descriptive_fields_round_trip, "§1", "descriptive fields are stored and returned unchanged";
    sync_runs::ids_and_times_come_from_the_sources, "§2", "sync ids come from the id source, times from the clock; one id per sync";
    sync_runs::start_sync_returns_current, "§2", "start_sync returns the current sync, not new";
    sync_runs::start_sync_resumes_within_window, "§2", "start_sync resumes the newest unfinished sync (any type) started within 7 days, ties by id";
    sync_runs::start_sync_starts_full, "§2", "start_sync starts a new full sync when nothing is resumable; finished syncs are never resumed";
    sync_runs::start_new_sync_with_current, "§2", "start_new_sync returns the current sync if its type matches, else FailedPrecondition";
    sync_runs::start_new_sync_parent_rules, "§2", "full/resources_only take no parent (InvalidArgument); a given parent must exist (NotFound)";
    sync_runs::set_current_sync_rules, "§2", "set_current_sync needs an existing (NotFound) unfinished (FailedPrecondition) sync";
    sync_runs::current_sync_calls_need_current, "§2", "token, checkpoint and end need a current sync; end stamps ended_at from the clock and clears current";
    sync_runs::view_sync_rules, "§2", "view_sync pins a finished existing sync, is refused while a sync is current, None unpins";
    sync_runs::writes_need_current, "§2", "every write without a current sync is FailedPrecondition, even while viewing";
    sync_runs::writes_land_in_current, "§2", "writes always land in the current sync";
    sync_runs::read_resolution_order, "§2", "reads see the named sync, else current, else viewed, else latest finished full, else nothing";
    sync_runs::latest_finished_ties_by_id, "§2", "latest finished = greatest ended_at, ties broken by greater id";
    sync_runs::reopen_keeps_data_clears_handle, "§2", "reopening keeps all data and clears current and viewed";
    writes::put_replaces_everything, "§3", "replacing replaces fields, discovered_at and every index entry";
    writes::if_newer_rules, "§3", "if-newer writes when absent or strictly newer; equal or older is no write";
    writes::batch_is_atomic, "§3", "a batch with any invalid record writes nothing";
    writes::batch_later_record_wins, "§3", "within a batch a later record wins; if-newer compares against earlier ones";
    writes::no_referential_integrity, "§3", "dangling references are stored and indexed";
    writes::delete_grant_rules, "§3", "delete_grant returns whether it existed, removes index entries, touches the current sync only";
    writes::put_asset_rules, "§3", "assets need a content type and at most the size limit; empty data is stored empty";
    reads::point_get_absent_is_none, "§4", "point gets of absent keys are None";
    reads::point_get_finds_flushed_records, "§4", "point gets find every record of a sync of 2,000 grants, the first written too";
    reads::lists_in_byte_order, "§4", "lists come in ascending key order, components compared as bytes";
    reads::resource_filters_exact, "§4", "resource filters (type, parent, both) are exact";
    reads::entitlement_filter_exact, "§4", "the entitlement resource filter is exact";
    reads::grant_filters_exact, "§4", "grant filters (resource, entitlement, entitlement+principal, principal, resource type) are exact";
    reads::page_size_default_and_clamp, "§4", "page size 0 means 100; above 10,000 is clamped to 10,000";
    reads::next_token_iff_more, "§4", "next_token is present iff another matching record follows";
    reads::tokens_resume_strictly_after, "§4", "a token resumes strictly after the last key, across writes and deletes";
    reads::bad_tokens_rejected, "§4", "malformed or foreign tokens (other list, filter or sync) are InvalidPageToken";
    reads::sync_runs_list_order, "§4", "sync runs list in ascending (started_at, id) order, paged";
    reads::lending_reads_match_owned, "§4", "the lending get and list lend, as checked archives, exactly what the owned forms return: records, tokens, error kinds; a visitor's error ends the read";
    reads::stats_counts, "§4", "stats counts each kind, resources per type, in the resolved sync";
    maintenance::cleanup_rules, "§5", "cleanup keeps the latest full syncs, deletes older fulls and partials ended before the oldest kept started";
    maintenance::cleanup_spares_unfinished_and_viewed, "§5", "cleanup never deletes unfinished, current or viewed syncs; keep 0 is InvalidArgument";
    maintenance::diff_contents, "§5", "diff: upserts hold new or changed records (discovered_at ignored), deletions hold removed ones, all kinds";
    maintenance::diff_runs_and_handle, "§5", "diff creates two finished syncs with parent = base, upserts id first, leaving current and view alone";
    maintenance::diff_preconditions, "§5", "diff needs two existing finished syncs";
    maintenance::clone_copies_sync, "§5", "clone copies run and records (in chunks) to another store; AlreadyExists, NotFound, FailedPrecondition";
    maintenance::clone_across_engines, "§5", "a clone into another engine, and back, holds what the source lists";
    maintenance::import_later_batch_wins, "§5", "an import that writes a record twice holds the later one, with only its index entries";
    safety::bad_input_never_panics, "§6", "bad input yields errors, never panics";
    safety::flush_then_reopen_is_durable, "§6", "acknowledged writes survive flush and reopen";
    safety::concurrent_reads_see_one_state, "§6", "engines are Send + Sync; with one writer, every read (stats, lists, index lists, gets) equals one state the writer passed through while it ran";
}
