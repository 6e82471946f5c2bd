//! Reach: what a run's cases got to beyond which op kinds ran, read from the reference's
//! outcomes (so every count is of something every engine was compared on). The generator
//! aims reads at written records and opens some cases with a large sync (`model::aim`,
//! `model::tail`); these counts show whether that happened. A kind that never happened is a
//! blind spot, reported with the op and error kinds never seen.

use std::collections::BTreeMap;

use syncproof_engine::{Record, DEFAULT_PAGE_SIZE, EXPORT_CHUNK, MAX_ID_LEN, MAX_PAGE_SIZE};

use super::outcome::{Outcome, Value};
use crate::model::ops::Op;

/// A get that found a record.
pub const GET_HIT: &str = "get_hit";
/// A filtered list that returned records.
pub const FILTERED_LIST_HIT: &str = "filtered_list_hit";
/// A resumed page that returned records.
pub const RESUME_HIT: &str = "resume_hit";
/// A grant delete that deleted a grant.
pub const DELETE_HIT: &str = "delete_hit";
/// A diff with upserts or deletions.
pub const DIFF_NONEMPTY: &str = "diff_nonempty";
/// A list of more than `DEFAULT_PAGE_SIZE` records.
pub const LIST_PAST_PAGE: &str = "list_past_page";
/// A clone of more than `EXPORT_CHUNK` grants.
pub const CLONE_PAST_CHUNK: &str = "clone_past_chunk";
/// A record read back with an id of `MAX_ID_LEN` bytes.
pub const ID_AT_LIMIT: &str = "id_at_limit";
/// A list page of `MAX_PAGE_SIZE` records: a page size above the clamp, clamped.
pub const LIST_AT_CLAMP: &str = "list_at_clamp";
/// An asset of exactly the configured limit read back.
pub const ASSET_AT_LIMIT: &str = "asset_at_limit";
/// A `verify` that checked a store and found it clean.
pub const VERIFY_CLEAN: &str = "verify_clean";

/// Every reach kind of the API level, in the order reports list them.
pub const REACH: &[&str] = &[
    GET_HIT,
    FILTERED_LIST_HIT,
    RESUME_HIT,
    DELETE_HIT,
    DIFF_NONEMPTY,
    LIST_PAST_PAGE,
    CLONE_PAST_CHUNK,
    ID_AT_LIMIT,
    LIST_AT_CLAMP,
    ASSET_AT_LIMIT,
    VERIFY_CLEAN,
];

/// The longest id part of a record.
fn longest_id(r: &Record) -> usize {
    match r {
        Record::ResourceType(t) => t.id.len(),
        Record::Resource(r) => r.id.resource_type.len().max(r.id.resource.len()),
        Record::Entitlement(e) => e.id.len(),
        Record::Grant(g) => g.id.len(),
        Record::Asset(a) => a.id.len(),
    }
}

/// Counts what `op`, answered `expected` by the reference, reached.
pub fn note(op: &Op, expected: &Outcome, reach: &mut BTreeMap<&'static str, u64>) {
    let Outcome::Ok(v) = expected else { return };
    let mut hit = |k: &'static str| *reach.entry(k).or_default() += 1;
    let at_limit = |r: &Record| longest_id(r) == MAX_ID_LEN;
    match (op, &**v) {
        (Op::Get { .. }, Value::Record(Some(r))) => {
            hit(GET_HIT);
            if at_limit(r) {
                hit(ID_AT_LIMIT);
            }
            if matches!(r, Record::Asset(a) if a.data.len() == crate::model::universe::MAX_ASSET_BYTES)
            {
                hit(ASSET_AT_LIMIT);
            }
        }
        (Op::Verify, Value::Unit) => hit(VERIFY_CLEAN),
        (Op::List { query, .. }, Value::Pages { pages, .. }) => {
            let n: usize = pages.iter().map(Vec::len).sum();
            if n > 0 && query.is_filtered() {
                hit(FILTERED_LIST_HIT);
            }
            if n > DEFAULT_PAGE_SIZE {
                hit(LIST_PAST_PAGE);
            }
            if pages.iter().any(|p| p.len() == MAX_PAGE_SIZE) {
                hit(LIST_AT_CLAMP);
            }
            if pages.iter().flatten().any(at_limit) {
                hit(ID_AT_LIMIT);
            }
        }
        (Op::ResumeList { .. }, Value::Page { items, .. }) if !items.is_empty() => hit(RESUME_HIT),
        (Op::DeleteGrant(_), Value::Bool(true)) => hit(DELETE_HIT),
        (
            Op::Diff { .. },
            Value::Diff {
                upserted, deleted, ..
            },
        ) if !upserted.is_empty() || !deleted.is_empty() => hit(DIFF_NONEMPTY),
        (Op::CloneSync(_), Value::Cloned { records, .. })
        | (Op::CloneAcross(_), Value::ClonedAcross { back: records, .. }) => {
            let grants = records
                .iter()
                .filter(|r| matches!(r, Record::Grant(_)))
                .count();
            if grants > EXPORT_CHUNK {
                hit(CLONE_PAST_CHUNK);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use syncproof_engine::{GrantFilter, ListQuery, RecordKey, ResourceId};

    fn grant(id: &str) -> Record {
        Record::Grant(syncproof_engine::contract::g(id))
    }

    #[test]
    fn counts_what_the_reference_answered() {
        let mut reach = BTreeMap::new();
        let all = Op::List {
            sync: None,
            query: ListQuery::Grants(GrantFilter::All),
            page_size: 0,
        };
        let pages = |n: usize| {
            Outcome::ok(Value::Pages {
                pages: vec![vec![grant("g"); n]],
                error: None,
            })
        };
        note(&all, &pages(DEFAULT_PAGE_SIZE), &mut reach);
        note(&all, &pages(DEFAULT_PAGE_SIZE + 1), &mut reach);
        let by_principal = Op::List {
            sync: None,
            query: ListQuery::Grants(GrantFilter::Principal(ResourceId::new("user", "u"))),
            page_size: 1,
        };
        note(&by_principal, &pages(1), &mut reach);
        note(&by_principal, &pages(0), &mut reach);
        let get = Op::Get {
            sync: None,
            key: RecordKey::Grant("x".into()),
        };
        note(&get, &Outcome::ok(Value::Record(None)), &mut reach);
        let long = "x".repeat(MAX_ID_LEN);
        note(
            &get,
            &Outcome::ok(Value::Record(Some(grant(&long)))),
            &mut reach,
        );
        note(
            &Op::DeleteGrant("x".into()),
            &Outcome::ok(Value::Bool(false)),
            &mut reach,
        );
        note(
            &get,
            &Outcome::Err(syncproof_engine::ErrorKind::NotFound, String::new()),
            &mut reach,
        );
        let counts: Vec<(&str, u64)> = reach.into_iter().collect();
        assert_eq!(
            counts,
            vec![
                (FILTERED_LIST_HIT, 1),
                (GET_HIT, 1),
                (ID_AT_LIMIT, 1),
                (LIST_PAST_PAGE, 1),
            ]
        );
    }
}
