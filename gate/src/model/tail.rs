//! The large tail: a share of cases open with one sync big enough to reach the engines' real
//! structure and the contract's size limits, which the small universe never does.
//!
//! A tail sync holds more grants than a page of the default size (`DEFAULT_PAGE_SIZE`), often
//! more than an export chunk (`EXPORT_CHUNK`), in batches of hundreds; ids of exactly
//! `MAX_ID_LEN` bytes and two that share all but their last bytes; a resource whose keys
//! are as long as a resource's can be (type, id and parent of `MAX_ID_LEN` `\0` bytes, each
//! escaped to two in a key); assets of kilobytes, or one at the configured limit and one a
//! byte over it; one tail in 25 holds more grants than the largest page and is read with a
//! page size above it, then deleted by a cleanup. It is read back through the default page
//! size and the principal index, then ended and (but for the huge one) cloned across engines
//! (out of the engine and back into a fresh store of it), so page boundaries, chunk
//! boundaries and key limits are crossed in every engine. The rest of the case follows as
//! generated (and is aimed at the tail's records too).

use syncproof_engine::contract::{self, Discovered};
use syncproof_engine::sync_run::splitmix64;
use syncproof_engine::*;

use crate::model::ops::{Op, SyncRef};
use crate::model::rng::pick_at;
use crate::model::universe;

/// Percent of cases that open with a tail sync.
pub const TAIL_PERCENT: u64 = 10;

/// Grant counts of a tail sync: just over a default page, and just over an export chunk.
const GRANTS: &[usize] = &[
    DEFAULT_PAGE_SIZE + 1,
    2 * DEFAULT_PAGE_SIZE + 7,
    EXPORT_CHUNK + 1,
    EXPORT_CHUNK + 250,
];
/// Records per put of a tail sync (at most six puts, so a shrunk repro stays short).
const BATCHES: &[usize] = &[250, 600, 2000];
/// Asset sizes of a tail sync, in bytes: kilobytes, and exactly the configured limit (then a
/// second asset a byte over it follows, which must be refused).
const ASSET_BYTES: &[usize] = &[4 << 10, 64 << 10, 300 << 10, universe::MAX_ASSET_BYTES];

/// One tail sync in this many holds more grants than the largest page (`MAX_PAGE_SIZE`), read
/// with a page size above it: the clamp. Rare, as each costs about as much as a hundred
/// ordinary cases.
const HUGE_EVERY: u64 = 25;

fn pick<T: Copy>(v: &[T], r: u64) -> Option<T> {
    pick_at(v, r).copied()
}

/// The grant of a tail sync numbered `i`: distinct ids in byte order, spread over the
/// universe's principals so index lists are long too.
fn grant(i: usize, id: String, at: Timestamp) -> Grant {
    let principal = pick(universe::REF_IDS, i as u64).unwrap_or("a");
    contract::grant(&id, "member", "group", "tail", "user", principal).discovered(at)
}

/// The ops of a tail sync for `seed`.
pub fn tail_sync(seed: u64) -> Vec<Op> {
    let r = |k: u64| splitmix64(seed ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let huge = r(5) % HUGE_EVERY == 0;
    let grants = if huge {
        MAX_PAGE_SIZE + 1
    } else {
        pick(GRANTS, r(1)).unwrap_or(DEFAULT_PAGE_SIZE + 1)
    };
    let batch = if huge {
        2000
    } else {
        pick(BATCHES, r(2)).unwrap_or(100)
    };
    let asset_bytes = pick(ASSET_BYTES, r(3)).unwrap_or(4 << 10);
    let at = universe::discovered(u8::try_from(r(4) % 4).unwrap_or(0));
    let mut ops = vec![Op::StartNewSync {
        sync_type: SyncType::Full,
        parent: None,
    }];
    // Ids at the limit: exactly MAX_ID_LEN bytes, and one that shares all but its last 24.
    let at_limit = "x".repeat(MAX_ID_LEN);
    let neighbour = format!("{}{}", "x".repeat(MAX_ID_LEN - 24), "y".repeat(24));
    // `\0` is escaped to two bytes in keys: a resource of `\0` ids with a parent of `\0`
    // ids has the longest key a resource can have.
    let nul = "\0".repeat(MAX_ID_LEN);
    let parent = "\0".repeat(MAX_ID_LEN - 1) + "p";
    ops.push(Op::Put {
        batch: RecordBatch::Resources(vec![Resource {
            display_name: "widest key".into(),
            ..contract::child(&nul, &nul, &nul, &parent).discovered(at)
        }]),
        mode: PutMode::Replace,
    });
    let mut all: Vec<Grant> = (0..grants)
        .map(|i| grant(i, format!("tail{i:05}"), at))
        .collect();
    all.push(grant(0, at_limit.clone(), at));
    all.push(Grant {
        principal: ResourceId::new(nul.clone(), nul),
        ..grant(1, neighbour, at)
    });
    for chunk in all.chunks(batch.max(1)) {
        ops.push(Op::Put {
            batch: RecordBatch::Grants(chunk.to_vec()),
            mode: PutMode::Replace,
        });
    }
    let asset = |id: &str, bytes: usize| {
        contract::asset(
            id,
            &(0..bytes).map(|i| (i % 251) as u8).collect::<Vec<u8>>(),
        )
        .discovered(at)
    };
    ops.push(Op::Put {
        batch: RecordBatch::Assets(vec![asset("tail-asset", asset_bytes)]),
        mode: PutMode::Replace,
    });
    if asset_bytes == universe::MAX_ASSET_BYTES {
        ops.push(Op::PutAsset(asset("tail-asset-over", asset_bytes + 1)));
        ops.push(Op::Get {
            sync: None,
            key: RecordKey::Asset("tail-asset".into()),
        });
    }
    ops.push(Op::Get {
        sync: None,
        key: RecordKey::Grant(at_limit),
    });
    ops.push(Op::List {
        sync: None,
        query: ListQuery::Grants(GrantFilter::All),
        page_size: if huge { MAX_PAGE_SIZE + 5 } else { 0 },
    });
    ops.push(Op::List {
        sync: None,
        query: ListQuery::Grants(GrantFilter::Principal(ResourceId::new("user", "a"))),
        page_size: 0,
    });
    ops.push(Op::EndSync);
    // One clone across engines: it exports from this engine and imports into a fresh store
    // of this engine again (through the memory engine), so both chunked paths cross their
    // boundaries. A `clone_sync` into the same engine would run the same two paths again at
    // the tail's full size, the most expensive op of a tail case; the ordinary cases keep it.
    // A huge tail is not cloned: the smaller tails already cross the export chunk, and two
    // more copies of ten thousand grants would cost more than the rest of the run's tails.
    if !huge {
        ops.push(Op::CloneAcross(SyncRef::Nth(0)));
    } else {
        // A later full sync, then a cleanup that deletes the huge one: a range delete of ten
        // thousand records, and the rest of the case pages small syncs again.
        ops.push(Op::StartNewSync {
            sync_type: SyncType::Full,
            parent: None,
        });
        ops.push(Op::AdvanceClock(1_000_000_000));
        ops.push(Op::EndSync);
        ops.push(Op::Cleanup { keep: 1 });
    }
    ops
}

/// Whether a case of `seed` opens with a tail sync: [`TAIL_PERCENT`] of seeds do.
pub fn has_tail(seed: u64) -> bool {
    splitmix64(seed) % 100 < TAIL_PERCENT
}

/// `ops` opened with a tail sync in [`TAIL_PERCENT`] of seeds.
pub fn with_tail(ops: Vec<Op>, seed: u64) -> Vec<Op> {
    if !has_tail(seed) {
        return ops;
    }
    let mut out = tail_sync(seed);
    out.extend(ops);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn a_tail_sync_crosses_the_boundaries_it_is_for() {
        let (mut crossed_chunk, mut cloned_past_chunk) = (false, false);
        for seed in 0..64 {
            let ops = tail_sync(seed);
            let grants: usize = ops
                .iter()
                .map(|op| match op {
                    Op::Put {
                        batch: RecordBatch::Grants(g),
                        ..
                    } => g.len(),
                    _ => 0,
                })
                .sum();
            assert!(grants > DEFAULT_PAGE_SIZE, "{grants}");
            crossed_chunk |= grants > EXPORT_CHUNK;
            let longest = ops
                .iter()
                .filter_map(|op| match op {
                    Op::Put {
                        batch: RecordBatch::Grants(g),
                        ..
                    } => g.iter().map(|g| g.id.len()).max(),
                    _ => None,
                })
                .max();
            assert_eq!(longest, Some(MAX_ID_LEN));
            // Every tail but the huge one is cloned, and a cloned tail crosses a chunk often.
            let cloned = ops.iter().any(|o| matches!(o, Op::CloneAcross(_)));
            assert_eq!(cloned, grants <= MAX_PAGE_SIZE, "{grants}");
            cloned_past_chunk |= cloned && grants > EXPORT_CHUNK;
        }
        assert!(crossed_chunk && cloned_past_chunk);
    }

    #[test]
    fn about_a_tenth_of_cases_get_a_tail() {
        let n = (0..2000u64)
            .filter(|s| !with_tail(Vec::new(), *s).is_empty())
            .count();
        assert!((120..=280).contains(&n), "{n} of 2000");
    }
}
