//! A realistic, deterministic sync workload: users and groups under an organisation, a
//! `member` entitlement per group, grants of memberships, a few assets. Each variant of a sync
//! moves a tenth of the grants to other users, so consecutive syncs differ like real ones.
//! Used by `syncproof generate` (and meant for the benchmarks).

use syncproof_engine::sync_run::splitmix64;
use syncproof_engine::*;

/// How big a sync is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub users: usize,
    pub groups: usize,
    pub grants: usize,
    pub assets: usize,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            users: 1_000,
            groups: 100,
            grants: 10_000,
            assets: 10,
        }
    }
}

/// Records per write batch.
pub const BATCH: usize = 1_000;

fn at(variant: u64) -> Timestamp {
    Timestamp(syncproof_gate::model::universe::T0.0 + variant as i64 * 1_000_000_000)
}

fn resource(t: &str, id: String, parent: Option<ResourceId>, variant: u64) -> Resource {
    Resource {
        id: ResourceId::new(t, id),
        parent,
        display_name: String::new(),
        description: String::new(),
        annotations: Metadata::Null,
        discovered_at: at(variant),
    }
}

/// The grant at `i` in sync `variant`: a tenth of them move to another user per variant.
pub fn grant(shape: &Shape, i: usize, variant: u64) -> Grant {
    let g = i % shape.groups.max(1);
    let moved = splitmix64(i as u64 ^ 0xA5A5) % 10 < variant.min(10);
    let user = if moved {
        splitmix64(i as u64 + variant) as usize
    } else {
        i
    } % shape.users.max(1);
    Grant {
        id: format!("group:{g:05}:member:user:{i:08}"),
        entitlement: EntitlementRef {
            id: format!("group:{g:05}:member"),
            resource: ResourceId::new("group", format!("{g:05}")),
        },
        principal: ResourceId::new("user", format!("{user:07}")),
        sources: Vec::new(),
        annotations: Metadata::map([("source", Metadata::String("directory".into()))]),
        discovered_at: at(variant),
    }
}

/// Every batch of one sync, in write order.
pub fn batches(shape: Shape, variant: u64) -> impl Iterator<Item = RecordBatch> {
    let org = ResourceId::new("org", "acme");
    let types = std::iter::once(RecordBatch::ResourceTypes(
        ["org", "user", "group"]
            .iter()
            .map(|t| ResourceType {
                id: t.to_string(),
                display_name: t.to_string(),
                description: String::new(),
                traits: vec![],
                annotations: Metadata::Null,
                discovered_at: at(variant),
            })
            .collect(),
    ));
    let org_batch = std::iter::once(RecordBatch::Resources(vec![resource(
        "org",
        "acme".into(),
        None,
        variant,
    )]));
    let users = (0..shape.users).collect::<Vec<_>>();
    let user_batches = users
        .chunks(BATCH)
        .map(move |c| {
            RecordBatch::Resources(
                c.iter()
                    .map(|u| {
                        resource(
                            "user",
                            format!("{u:07}"),
                            Some(ResourceId::new("org", "acme")),
                            variant,
                        )
                    })
                    .collect(),
            )
        })
        .collect::<Vec<_>>();
    let groups = (0..shape.groups).collect::<Vec<_>>();
    let group_batches = groups
        .chunks(BATCH)
        .map(move |c| {
            RecordBatch::Resources(
                c.iter()
                    .map(|g| resource("group", format!("{g:05}"), Some(org.clone()), variant))
                    .collect(),
            )
        })
        .collect::<Vec<_>>();
    let ent_batches = groups
        .chunks(BATCH)
        .map(move |c| {
            RecordBatch::Entitlements(
                c.iter()
                    .map(|g| Entitlement {
                        id: format!("group:{g:05}:member"),
                        resource: ResourceId::new("group", format!("{g:05}")),
                        display_name: "Member".into(),
                        description: String::new(),
                        purpose: "assignment".into(),
                        slug: "member".into(),
                        grantable_to: vec!["user".into()],
                        annotations: Metadata::Null,
                        discovered_at: at(variant),
                    })
                    .collect(),
            )
        })
        .collect::<Vec<_>>();
    let grant_batches = (0..shape.grants).step_by(BATCH).map(move |start| {
        RecordBatch::Grants(
            (start..(start + BATCH).min(shape.grants))
                .map(|i| grant(&shape, i, variant))
                .collect(),
        )
    });
    let assets = std::iter::once(RecordBatch::Assets(
        (0..shape.assets)
            .map(|i| Asset {
                id: format!("icon-{i}"),
                content_type: "image/png".into(),
                data: vec![(i % 256) as u8; 1024],
                annotations: Metadata::Null,
                discovered_at: at(variant),
            })
            .collect(),
    ))
    .filter(|b| !b.is_empty());
    types
        .chain(org_batch)
        .chain(user_batches)
        .chain(group_batches)
        .chain(ent_batches)
        .chain(grant_batches)
        .chain(assets)
}

/// Writes one full sync of `shape`, calling `progress(records written)` after each batch.
pub fn write_sync(
    e: &dyn StorageEngine,
    shape: Shape,
    variant: u64,
    progress: &mut dyn FnMut(u64),
) -> Result<SyncId> {
    write_sync_of(e, batches(shape, variant), progress)
}

/// Writes `batches` as one full sync (replace mode), calling `progress(records written)`
/// after each batch; the benchmarks pass batches built beforehand, so that building records
/// is not part of what they time.
pub fn write_sync_of<B: std::borrow::Borrow<RecordBatch>>(
    e: &dyn StorageEngine,
    batches: impl IntoIterator<Item = B>,
    progress: &mut dyn FnMut(u64),
) -> Result<SyncId> {
    let id = e.start_new_sync(SyncType::Full, None)?;
    let mut written = 0;
    for b in batches {
        let b = b.borrow();
        written += b.len() as u64;
        e.put(b, PutMode::Replace)?;
        progress(written);
    }
    e.end_sync()?;
    Ok(id)
}

/// Records in one sync of `shape`.
pub fn records_per_sync(shape: &Shape) -> u64 {
    (3 + 1 + shape.users + 2 * shape.groups + shape.grants + shape.assets) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_variants_differ_by_a_tenth_per_step() {
        let shape = Shape {
            users: 50,
            groups: 5,
            grants: 1_000,
            assets: 2,
        };
        let a: Vec<_> = batches(shape, 1).collect();
        assert_eq!(a, batches(shape, 1).collect::<Vec<_>>());
        let total: usize = a.iter().map(RecordBatch::len).sum();
        assert_eq!(total as u64, records_per_sync(&shape));
        let moved = (0..1_000)
            .filter(|&i| grant(&shape, i, 1).principal != grant(&shape, i, 0).principal)
            .count();
        assert!((50..=150).contains(&moved), "{moved} grants moved");
    }
}
