//! The concurrent mode's cases: a writer sequence and the scripts of reads that reader threads
//! issue against the same handle while the writer applies it (SPEC §6: reads may run on
//! other threads while one thread writes, and each sees one consistent state).
//!
//! The writer opens with a sync of many grants (so pages are full and reads scan long
//! enough for commits to land during them), then goes on as an ordinary generated case
//! ([`crate::model::generate`]) without its reopens
//! (a reopen closes the handle the readers share: each becomes a flush) and without the
//! large tail (every state the writer passes through is kept to check reads against, and a
//! tail of ten thousand grants per state would be all the mode measured). The reads are
//! aimed at what the writer puts, as the aim pass aims a sequential case's reads: most keys
//! and filter values are the writer's, the rest the universe's; syncs are the current
//! resolution or one of the first few the writer creates; resumes continue a page the same
//! reader read earlier, with the token the engine gave it.

use serde::{Deserialize, Serialize};
use syncproof_engine::contract::{self, Discovered};
use syncproof_engine::*;

use crate::model::aim::Written;
use crate::model::ops::{Op, SyncRef};
use crate::model::rng::Rng;
use crate::model::universe;

/// Reader threads per concurrent case, by default.
pub const READERS: usize = 2;

/// Reads in one reader's script (it runs the script over and over while the writer writes).
pub const SCRIPT_READS: usize = 16;

/// Percent of keys and filter values taken from what the writer puts.
const AIM_PERCENT: u64 = 80;

/// One read a reader issues.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Read {
    /// `get`.
    Get {
        /// The sync read (`None`: resolution).
        sync: Option<SyncRef>,
        /// The key.
        key: RecordKey,
    },
    /// The first page of a list.
    List {
        /// The sync read (`None`: resolution).
        sync: Option<SyncRef>,
        /// What is listed.
        query: ListQuery,
        /// Records per page (0: the default).
        page_size: usize,
    },
    /// The next page of the `n`-th (modulo) page with a next token this reader read so far,
    /// with the engine's token (a first page of all grants when it has none yet).
    Resume(u16),
    /// `stats`.
    Stats {
        /// The sync counted (`None`: resolution).
        sync: Option<SyncRef>,
    },
    /// `get_sync_run`.
    GetSyncRun(SyncRef),
    /// The first page of `list_sync_runs`.
    ListSyncRuns {
        /// Runs per page (0: the default).
        page_size: usize,
    },
}

/// A concurrent case: the writer's sequence and each reader's script.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConcurrentCase {
    /// What the writer applies, in order.
    pub writer: Vec<Op>,
    /// What each reader issues, over and over, while the writer writes.
    pub readers: Vec<Vec<Read>>,
}

/// Grants the writer's opening sync puts, and per batch: enough that a page of the default
/// size is full and a read scans long enough for commits to land during it.
const OPENING_GRANTS: usize = 160;
const OPENING_BATCH: usize = 40;

/// The writer's opening: a full sync of [`OPENING_GRANTS`] grants over the universe's
/// principals, in batches of [`OPENING_BATCH`], left current for the case to go on in (the
/// aim pass then re-puts them in large batches when it turns a later full sync into a
/// re-sync).
fn opening(seed: u64) -> Vec<Op> {
    let at = universe::discovered(u8::try_from(seed % 4).unwrap_or(0));
    let grants: Vec<Grant> = (0..OPENING_GRANTS)
        .map(|i| {
            let principal = crate::model::rng::pick_at(universe::REF_IDS, i as u64)
                .copied()
                .unwrap_or("a");
            let entitlement = if i % 3 == 0 { "admin" } else { "member" };
            contract::grant(
                &format!("c{i:04}"),
                entitlement,
                "group",
                "eng",
                "user",
                principal,
            )
            .discovered(at)
        })
        .collect();
    let mut ops = vec![Op::StartNewSync {
        sync_type: SyncType::Full,
        parent: None,
    }];
    ops.extend(grants.chunks(OPENING_BATCH).map(|c| Op::Put {
        batch: RecordBatch::Grants(c.to_vec()),
        mode: PutMode::Replace,
    }));
    ops
}

/// The writer of concurrent case `index` of a run with `seed`: an opening sync of many
/// grants, then a sequential case without its reopens and its large tail, aimed at both.
pub fn writer(seed: u64, index: u64, max_ops: usize) -> Vec<Op> {
    let mut ops = opening(seed ^ index);
    ops.extend(crate::model::generate::unaimed_case(
        seed ^ 0xC0C0,
        index,
        max_ops,
    ));
    let aimed = crate::model::aim::aim(ops, seed.rotate_left(7) ^ index, max_ops);
    aimed
        .into_iter()
        .map(|op| match op {
            Op::Reopen => Op::Flush,
            op => op,
        })
        .collect()
}

/// Query shapes a reader fills with the writer's values ([`Written::query`] replaces the
/// placeholders).
fn shapes() -> Vec<ListQuery> {
    let rid = ResourceId::new("user", "a");
    vec![
        ListQuery::Grants(GrantFilter::All),
        ListQuery::Grants(GrantFilter::All),
        ListQuery::Grants(GrantFilter::Principal(rid.clone())),
        ListQuery::Grants(GrantFilter::Principal(rid.clone())),
        ListQuery::Grants(GrantFilter::Entitlement {
            id: "e".into(),
            principal: None,
        }),
        ListQuery::Grants(GrantFilter::Resource(rid.clone())),
        ListQuery::Grants(GrantFilter::ResourceType("user".into())),
        ListQuery::Resources(ResourceFilter::default()),
        ListQuery::Resources(ResourceFilter {
            resource_type: Some("user".into()),
            parent: None,
        }),
        ListQuery::Resources(ResourceFilter {
            resource_type: None,
            parent: Some(rid.clone()),
        }),
        ListQuery::Entitlements(EntitlementFilter::default()),
        ListQuery::Entitlements(EntitlementFilter {
            resource: Some(rid),
        }),
        ListQuery::ResourceTypes,
    ]
}

/// The sync a read names: half the time the resolution, else one of the first four syncs.
fn sync(rng: &mut Rng) -> Option<SyncRef> {
    if rng.percent(50) {
        None
    } else {
        Some(SyncRef::Nth(u8::try_from(rng.next_u64() % 4).unwrap_or(0)))
    }
}

/// The script of reader `reader` of a concurrent case whose writer is `writer`.
pub fn script(seed: u64, index: u64, reader: usize, writer: &[Op]) -> Vec<Read> {
    let mut written = Written::default();
    for op in writer {
        match op {
            Op::Put { batch, .. } => written.absorb(batch),
            Op::PutAsset(a) => written.absorb(&RecordBatch::Assets(vec![a.clone()])),
            _ => {}
        }
    }
    let mut rng = Rng(syncproof_engine::sync_run::splitmix64(
        seed ^ index.rotate_left(23) ^ (reader as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03),
    ));
    let shapes = shapes();
    let mut out = Vec::with_capacity(SCRIPT_READS);
    for _ in 0..SCRIPT_READS {
        let aimed = rng.percent(AIM_PERCENT);
        let page_size = rng.pick(universe::PAGE_SIZES).copied().unwrap_or(0);
        let read = match rng.next_u64() % 20 {
            0..4 => {
                let fallback =
                    RecordKey::Grant(rng.pick(universe::IDS).copied().unwrap_or("a").to_string());
                let key = if aimed {
                    written.key(&mut rng).unwrap_or(fallback)
                } else {
                    fallback
                };
                Read::Get {
                    sync: sync(&mut rng),
                    key,
                }
            }
            4..11 => {
                let shape = rng
                    .pick(&shapes)
                    .cloned()
                    .unwrap_or(ListQuery::ResourceTypes);
                let query = if aimed {
                    written.paged_query(&shape, &mut rng)
                } else {
                    shape
                };
                Read::List {
                    sync: sync(&mut rng),
                    query,
                    page_size,
                }
            }
            11..14 => Read::Resume(u16::try_from(rng.next_u64() % 64).unwrap_or(0)),
            14..17 => Read::Stats {
                sync: sync(&mut rng),
            },
            17..19 => Read::GetSyncRun(SyncRef::Nth(u8::try_from(rng.next_u64() % 4).unwrap_or(0))),
            _ => Read::ListSyncRuns { page_size },
        };
        out.push(read);
    }
    out
}

/// Concurrent case `index` of a run with `seed`, with `readers` reader threads.
pub fn case(seed: u64, index: u64, max_ops: usize, readers: usize) -> ConcurrentCase {
    let writer = writer(seed, index, max_ops);
    let readers = (0..readers)
        .map(|r| script(seed, index, r, &writer))
        .collect();
    ConcurrentCase { writer, readers }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn cases_are_deterministic_aimed_and_reopen_free() {
        assert_eq!(case(3, 1, 30, 2), case(3, 1, 30, 2));
        assert_ne!(case(3, 1, 30, 2), case(3, 2, 30, 2));
        let mut aimed_gets = 0;
        for i in 0..40 {
            let c = case(5, i, 30, 2);
            assert!(!c.writer.iter().any(|o| matches!(o, Op::Reopen)));
            assert_eq!(c.readers.len(), 2);
            assert_ne!(c.readers[0], c.readers[1], "readers differ");
            let keys: Vec<RecordKey> = c
                .writer
                .iter()
                .filter_map(|o| match o {
                    Op::Put {
                        batch: RecordBatch::Grants(g),
                        ..
                    } => Some(g.iter().map(|g| RecordKey::Grant(g.id.clone())).collect()),
                    _ => None::<Vec<RecordKey>>,
                })
                .flatten()
                .collect();
            aimed_gets += c
                .readers
                .iter()
                .flatten()
                .filter(|r| matches!(r, Read::Get { key, .. } if keys.contains(key)))
                .count();
        }
        assert!(
            aimed_gets > 20,
            "gets meet the writer's grants: {aimed_gets}"
        );
    }
}
