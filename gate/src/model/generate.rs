//! Proptest strategies for op sequences that model real syncs — start, pages of puts (with
//! if-newer ties), checkpoints, end or abandonment, reopen — mixed with reads through every
//! filter, maintenance (cleanup, diff, clone, views) and deliberately wrong calls.

use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::ValueTree;
use syncproof_engine::*;

use crate::model::ops::{Op, SyncRef, TokenRef};
use crate::model::universe;

/// An id from the universe, rarely an invalid one.
fn id() -> impl Strategy<Value = String> {
    prop_oneof![
        40 => select(universe::IDS).prop_map(String::from),
        1 => select(universe::invalid_ids().to_vec()),
    ]
}

fn valid_id() -> impl Strategy<Value = String> {
    select(universe::IDS).prop_map(String::from)
}

fn rtype() -> impl Strategy<Value = String> {
    select(universe::TYPES).prop_map(String::from)
}

/// A referenced resource (principal, entitlement resource, parent, filter value).
fn rid() -> impl Strategy<Value = ResourceId> {
    (select(universe::REF_TYPES), select(universe::REF_IDS))
        .prop_map(|(t, r)| ResourceId::new(t, r))
}

fn meta() -> impl Strategy<Value = (Metadata, Timestamp)> {
    (any::<u8>(), any::<u8>())
        .prop_map(|(a, t)| (universe::annotations(a), universe::discovered(t)))
}

fn small_strs() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(select(&["", "x", "y\0"][..]).prop_map(String::from), 0..2)
}

fn grant() -> impl Strategy<Value = Grant> {
    (id(), valid_id(), rid(), rid(), small_strs(), meta()).prop_map(
        |(id, e, er, p, sources, (annotations, discovered_at))| Grant {
            id,
            entitlement: EntitlementRef {
                id: e,
                resource: er,
            },
            principal: p,
            sources,
            annotations,
            discovered_at,
        },
    )
}

fn resource() -> impl Strategy<Value = Resource> {
    (
        rtype(),
        id(),
        prop::option::weighted(0.6, rid()),
        (text(), text()),
        meta(),
    )
        .prop_map(
            |(t, r, parent, (name, description), (annotations, discovered_at))| Resource {
                id: ResourceId::new(t, r),
                parent,
                display_name: name,
                description,
                annotations,
                discovered_at,
            },
        )
}

fn text() -> impl Strategy<Value = String> {
    select(universe::TEXTS).prop_map(String::from)
}

fn entitlement() -> impl Strategy<Value = Entitlement> {
    let texts = (text(), text(), select(universe::PURPOSES), text());
    (id(), rid(), small_strs(), texts, meta()).prop_map(
        |(
            id,
            resource,
            grantable_to,
            (name, description, purpose, slug),
            (annotations, discovered_at),
        )| Entitlement {
            id,
            resource,
            display_name: name,
            description,
            purpose: purpose.into(),
            slug,
            grantable_to,
            annotations,
            discovered_at,
        },
    )
}

fn resource_type() -> impl Strategy<Value = ResourceType> {
    (rtype(), small_strs(), (text(), text()), meta()).prop_map(
        |(id, traits, (name, description), (annotations, discovered_at))| ResourceType {
            id,
            display_name: name,
            description,
            traits,
            annotations,
            discovered_at,
        },
    )
}

fn asset() -> impl Strategy<Value = Asset> {
    (
        id(),
        select(&["image/png", "text/plain", ""][..]),
        prop::collection::vec(any::<u8>(), 0..8),
        meta(),
    )
        .prop_map(|(id, ct, data, (annotations, discovered_at))| Asset {
            id,
            content_type: ct.into(),
            data,
            annotations,
            discovered_at,
        })
}

fn batch() -> impl Strategy<Value = RecordBatch> {
    let n = 1..6;
    prop_oneof![
        6 => prop::collection::vec(grant(), n.clone()).prop_map(RecordBatch::Grants),
        3 => prop::collection::vec(resource(), n.clone()).prop_map(RecordBatch::Resources),
        2 => prop::collection::vec(entitlement(), n.clone()).prop_map(RecordBatch::Entitlements),
        1 => prop::collection::vec(resource_type(), n.clone()).prop_map(RecordBatch::ResourceTypes),
        1 => prop::collection::vec(asset(), 1..3).prop_map(RecordBatch::Assets),
    ]
}

fn put() -> impl Strategy<Value = Op> {
    (
        batch(),
        prop_oneof![2 => Just(PutMode::Replace), 1 => Just(PutMode::IfNewer)],
    )
        .prop_map(|(batch, mode)| Op::Put { batch, mode })
}

fn sync_ref() -> impl Strategy<Value = SyncRef> {
    prop_oneof![12 => any::<u8>().prop_map(SyncRef::Nth), 1 => Just(SyncRef::Missing), 1 => Just(SyncRef::Invalid)]
}

fn read_sync() -> impl Strategy<Value = Option<SyncRef>> {
    prop::option::weighted(0.3, sync_ref())
}

fn sync_type() -> impl Strategy<Value = SyncType> {
    prop_oneof![4 => Just(SyncType::Full), 2 => Just(SyncType::Partial), 1 => Just(SyncType::ResourcesOnly), 1 => Just(SyncType::PartialUpserts), 1 => Just(SyncType::PartialDeletions)]
}

fn query() -> impl Strategy<Value = ListQuery> {
    let grant_filter = prop_oneof![
        Just(GrantFilter::All),
        rid().prop_map(GrantFilter::Resource),
        (valid_id(), prop::option::of(rid()))
            .prop_map(|(id, principal)| GrantFilter::Entitlement { id, principal }),
        rid().prop_map(GrantFilter::Principal),
        rtype().prop_map(GrantFilter::ResourceType),
        (id(), rid()).prop_map(|(id, p)| GrantFilter::Entitlement {
            id,
            principal: Some(p)
        }),
    ];
    prop_oneof![
        1 => Just(ListQuery::ResourceTypes),
        2 => (prop::option::of(rtype()), prop::option::of(rid()))
            .prop_map(|(resource_type, parent)| ListQuery::Resources(ResourceFilter { resource_type, parent })),
        1 => prop::option::of(rid()).prop_map(|resource| ListQuery::Entitlements(EntitlementFilter { resource })),
        4 => grant_filter.prop_map(ListQuery::Grants),
    ]
}

fn key() -> impl Strategy<Value = RecordKey> {
    prop_oneof![
        3 => id().prop_map(RecordKey::Grant),
        2 => (rtype(), id()).prop_map(|(t, r)| RecordKey::Resource(ResourceId::new(t, r))),
        1 => id().prop_map(RecordKey::Entitlement),
        1 => rtype().prop_map(RecordKey::ResourceType),
        1 => id().prop_map(RecordKey::Asset),
    ]
}

fn page_size() -> impl Strategy<Value = usize> {
    select(universe::PAGE_SIZES)
}

fn token() -> impl Strategy<Value = TokenRef> {
    prop_oneof![4 => any::<u16>().prop_map(TokenRef::Issued), 1 => select(universe::FORGED_TOKENS).prop_map(|t| TokenRef::Forged(t.into()))]
}

/// A read of any kind.
pub fn read() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (read_sync(), key()).prop_map(|(sync, key)| Op::Get { sync, key }),
        5 => (read_sync(), query(), page_size()).prop_map(|(sync, query, page_size)| Op::List { sync, query, page_size }),
        2 => (read_sync(), query(), page_size(), token()).prop_map(|(sync, query, page_size, token)| Op::ResumeList { sync, query, page_size, token }),
        1 => read_sync().prop_map(|sync| Op::Stats { sync }),
        1 => page_size().prop_map(|page_size| Op::ListSyncRuns { page_size }),
        1 => sync_ref().prop_map(Op::GetSyncRun),
    ]
}

/// A maintenance call, a view change, a flush, reopen or clock move.
pub fn maintenance() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0usize..4).prop_map(|keep| Op::Cleanup { keep }),
        2 => (sync_ref(), sync_ref()).prop_map(|(base, applied)| Op::Diff { base, applied }),
        1 => sync_ref().prop_map(Op::CloneSync),
        1 => sync_ref().prop_map(Op::CloneAcross),
        2 => prop::option::weighted(0.7, sync_ref()).prop_map(Op::ViewSync),
        1 => Just(Op::Flush),
        2 => Just(Op::Reopen),
        2 => select(universe::ADVANCES).prop_map(Op::AdvanceClock),
        1 => sync_ref().prop_map(Op::SetCurrentSync),
        1 => Just(Op::Verify),
    ]
}

/// Any single op, including the ones that are wrong at most times.
pub fn any_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => put(),
        2 => read(),
        2 => maintenance(),
        1 => Just(Op::StartSync),
        1 => (sync_type(), prop::option::weighted(0.3, sync_ref())).prop_map(|(sync_type, parent)| Op::StartNewSync { sync_type, parent }),
        3 => sync_ref().prop_map(Op::SetCurrentSync),
        1 => Just(Op::CurrentSyncToken),
        1 => select(&["", "cursor=2", "\0"][..]).prop_map(|t| Op::CheckpointSync(t.into())),
        1 => Just(Op::EndSync),
        1 => id().prop_map(Op::DeleteGrant),
    ]
}

/// A realistic sync: start (or resume), pages of puts with reads, deletes and checkpoints in
/// between, then usually an end, sometimes an abandonment and reopen.
fn sync_episode() -> impl Strategy<Value = Vec<Op>> {
    let start = prop_oneof![
        2 => Just(Op::StartSync),
        3 => (sync_type(), prop::option::weighted(0.3, sync_ref())).prop_map(|(sync_type, parent)| Op::StartNewSync { sync_type, parent }),
    ];
    let middle = prop_oneof![
        6 => put(),
        2 => read(),
        1 => valid_id().prop_map(Op::DeleteGrant),
        1 => select(&["page=1", "page=2"][..]).prop_map(|t| Op::CheckpointSync(t.into())),
        1 => Just(Op::CurrentSyncToken),
        1 => select(universe::ADVANCES).prop_map(Op::AdvanceClock),
        1 => asset().prop_map(Op::PutAsset),
        // A view mid-sync: wrong while a sync is current, so it must be refused.
        1 => prop::option::weighted(0.7, sync_ref()).prop_map(Op::ViewSync),
    ];
    (
        start,
        prop::collection::vec(middle, 1..8),
        prop::bool::weighted(0.85),
        prop::bool::weighted(0.15),
    )
        .prop_map(|(start, middle, end, reopen)| {
            let mut ops = vec![start];
            ops.extend(middle);
            if end {
                ops.push(Op::EndSync);
            }
            if reopen {
                ops.push(Op::Reopen);
            }
            ops
        })
}

/// A whole sequence of at most `max_ops` ops.
pub fn sequence(max_ops: usize) -> impl Strategy<Value = Vec<Op>> {
    let episode = prop_oneof![
        5 => sync_episode(),
        3 => prop::collection::vec(read(), 1..4),
        2 => prop::collection::vec(maintenance(), 1..3),
        1 => prop::collection::vec(any_op(), 1..3),
    ];
    prop::collection::vec(episode, 1..12).prop_map(move |episodes| {
        let mut ops: Vec<Op> = episodes.into_iter().flatten().collect();
        ops.truncate(max_ops.max(1));
        ops
    })
}

/// The sequence of case `index` of a run with `seed`: deterministic, independent of how
/// many cases run before it or in which thread; generated by [`sequence`], opened with a
/// large tail sync in some cases ([`crate::model::tail`]), then aimed at what it writes
/// ([`crate::model::aim`]), and ended with [`Op::Verify`]; half the cases are swarm cases
/// that leave some op kinds out ([`crate::model::swarm`], [`Shape`]).
pub fn case(seed: u64, index: u64, max_ops: usize) -> Vec<Op> {
    shaped_case(seed, index, max_ops, true)
}

/// [`case`] with every case keeping the whole mix (no swarm cases): what the swarm buys is
/// measured against it (`check::detection`).
pub fn case_without_swarm(seed: u64, index: u64, max_ops: usize) -> Vec<Op> {
    shaped_case(seed, index, max_ops, false)
}

fn shaped_case(seed: u64, index: u64, max_ops: usize, swarm: bool) -> Vec<Op> {
    let shape = Shape::of(seed, index);
    let left_out = shape.left_out.as_ref().filter(|_| swarm);
    let generated = match left_out {
        // Generated twice as long, so the kinds it keeps still fill the case.
        Some(out) => {
            let mut ops = crate::model::swarm::apply(unaimed_case(seed, index, 2 * max_ops), out);
            ops.truncate(max_ops.max(1));
            ops
        }
        None => unaimed_case(seed, index, max_ops),
    };
    let ops = crate::model::tail::with_tail(generated, shape.aim_seed ^ 0x7a11);
    let aim_seed = shape.aim_seed;
    let mut ops = crate::model::aim::aim(ops, aim_seed, max_ops);
    // Every case ends with the store checked at rest.
    if max_ops > 1 {
        ops.truncate(max_ops - 1);
        ops.push(Op::Verify);
    }
    ops
}

/// What shapes case `index` of a run with `seed` beyond its generated ops: whether it opens
/// with a tail sync and which op kinds it leaves out as a swarm case.
pub struct Shape {
    /// The seed of the aim and tail passes.
    aim_seed: u64,
    /// Whether the case opens with a large tail sync ([`crate::model::tail`]).
    pub tail: bool,
    /// The kinds a swarm case leaves out ([`crate::model::swarm`]; `None`: the whole mix).
    pub left_out: Option<Vec<&'static str>>,
}

impl Shape {
    /// The shape of case `index` of a run with `seed`.
    pub fn of(seed: u64, index: u64) -> Shape {
        let aim_seed =
            syncproof_engine::sync_run::splitmix64(seed.rotate_left(29) ^ index ^ 0xa1a1);
        Shape {
            aim_seed,
            tail: crate::model::tail::has_tail(aim_seed ^ 0x7a11),
            left_out: crate::model::swarm::left_out(aim_seed ^ 0x5a4a),
        }
    }
}

/// Which of an engine's `count` configurations case `index` of a run with `seed` runs it
/// under (0 is its default): uniform, a function of the seed, the case and the engine's place
/// in the run alone, so a case names its configurations as exactly as its ops.
pub fn configuration(seed: u64, index: u64, engine: usize, count: usize) -> usize {
    let draw = syncproof_engine::sync_run::splitmix64(
        seed.rotate_left(17)
            ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (engine as u64 + 1) << 48,
    );
    usize::try_from(draw % count.max(1) as u64).unwrap_or(0)
}

/// [`case`] without the tail and the aim: every value drawn from the whole universe (what
/// cases were before; kept to measure what the tail and the aim buy).
pub fn unaimed_case(seed: u64, index: u64, max_ops: usize) -> Vec<Op> {
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..16].copy_from_slice(&index.to_le_bytes());
    bytes[16..24].copy_from_slice(
        &syncproof_engine::sync_run::splitmix64(seed ^ index.rotate_left(17)).to_le_bytes(),
    );
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    );
    match sequence(max_ops).new_tree(&mut runner) {
        Ok(tree) => tree.current(),
        Err(_) => vec![Op::StartSync],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_are_deterministic_and_varied() {
        assert_eq!(case(7, 3, 40), case(7, 3, 40));
        assert_ne!(case(7, 3, 40), case(7, 4, 40));
        assert_ne!(case(7, 3, 40), case(8, 3, 40));
        for i in 0..50 {
            let c = case(1, i, 30);
            assert!(
                !c.is_empty() && c.len() <= 30,
                "case {i} has {} ops",
                c.len()
            );
        }
    }
}
