//! `Arbitrary` for the op model, over the same hostile universe as the proptest generator, so
//! a coverage-guided fuzzer explores the same space of sequences (`fuzz/` uses it).

use arbitrary::{Arbitrary, Result, Unstructured};
use syncproof_engine::*;

use crate::model::ops::{Op, SyncRef, TokenRef};
use crate::model::universe;

fn id(u: &mut Unstructured<'_>) -> Result<String> {
    if u.ratio(1, 24)? {
        return Ok(u.choose(&universe::invalid_ids())?.clone());
    }
    Ok(u.choose(universe::IDS)?.to_string())
}

fn rid(u: &mut Unstructured<'_>) -> Result<ResourceId> {
    Ok(ResourceId::new(
        *u.choose(universe::REF_TYPES)?,
        *u.choose(universe::REF_IDS)?,
    ))
}

fn rtype(u: &mut Unstructured<'_>) -> Result<String> {
    Ok(u.choose(universe::TYPES)?.to_string())
}

fn meta(u: &mut Unstructured<'_>) -> Result<(Metadata, Timestamp)> {
    Ok((
        universe::annotations(u.arbitrary()?),
        universe::discovered(u.arbitrary()?),
    ))
}

fn strs(u: &mut Unstructured<'_>) -> Result<Vec<String>> {
    let n = u.int_in_range(0..=2)?;
    (0..n)
        .map(|_| Ok(u.choose(&["", "x", "y\0"])?.to_string()))
        .collect()
}

/// A descriptive text (display name, description, slug).
fn text(u: &mut Unstructured<'_>) -> Result<String> {
    Ok(u.choose(universe::TEXTS)?.to_string())
}

/// An asset of up to 8 bytes.
fn asset(u: &mut Unstructured<'_>) -> Result<Asset> {
    let (annotations, discovered_at) = meta(u)?;
    let len = u.int_in_range(0..=8)?;
    Ok(Asset {
        id: id(u)?,
        content_type: u.choose(&["image/png", ""])?.to_string(),
        data: u.bytes(len)?.to_vec(),
        annotations,
        discovered_at,
    })
}

fn batch(u: &mut Unstructured<'_>) -> Result<RecordBatch> {
    let n = u.int_in_range(1..=4)?;
    Ok(match u.int_in_range(0..=4)? {
        0 => RecordBatch::Grants(
            (0..n)
                .map(|_| {
                    let (annotations, discovered_at) = meta(u)?;
                    Ok(Grant {
                        id: id(u)?,
                        entitlement: EntitlementRef {
                            id: u.choose(universe::IDS)?.to_string(),
                            resource: rid(u)?,
                        },
                        principal: rid(u)?,
                        sources: strs(u)?,
                        annotations,
                        discovered_at,
                    })
                })
                .collect::<Result<_>>()?,
        ),
        1 => RecordBatch::Resources(
            (0..n)
                .map(|_| {
                    let (annotations, discovered_at) = meta(u)?;
                    Ok(Resource {
                        id: ResourceId::new(rtype(u)?, id(u)?),
                        parent: if u.arbitrary()? { Some(rid(u)?) } else { None },
                        display_name: text(u)?,
                        description: text(u)?,
                        annotations,
                        discovered_at,
                    })
                })
                .collect::<Result<_>>()?,
        ),
        2 => RecordBatch::Entitlements(
            (0..n)
                .map(|_| {
                    let (annotations, discovered_at) = meta(u)?;
                    Ok(Entitlement {
                        id: id(u)?,
                        resource: rid(u)?,
                        display_name: text(u)?,
                        description: text(u)?,
                        purpose: u.choose(universe::PURPOSES)?.to_string(),
                        slug: text(u)?,
                        grantable_to: strs(u)?,
                        annotations,
                        discovered_at,
                    })
                })
                .collect::<Result<_>>()?,
        ),
        3 => RecordBatch::ResourceTypes(
            (0..n)
                .map(|_| {
                    let (annotations, discovered_at) = meta(u)?;
                    Ok(ResourceType {
                        id: rtype(u)?,
                        display_name: text(u)?,
                        description: text(u)?,
                        traits: strs(u)?,
                        annotations,
                        discovered_at,
                    })
                })
                .collect::<Result<_>>()?,
        ),
        _ => RecordBatch::Assets((0..n).map(|_| asset(u)).collect::<Result<_>>()?),
    })
}

impl<'a> Arbitrary<'a> for SyncRef {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(match u.int_in_range(0..=13)? {
            0 => SyncRef::Missing,
            1 => SyncRef::Invalid,
            _ => SyncRef::Nth(u.arbitrary()?),
        })
    }
}

fn opt_sync(u: &mut Unstructured<'_>) -> Result<Option<SyncRef>> {
    Ok(if u.ratio(1, 3)? {
        Some(u.arbitrary()?)
    } else {
        None
    })
}

fn query(u: &mut Unstructured<'_>) -> Result<ListQuery> {
    Ok(match u.int_in_range(0..=3)? {
        0 => ListQuery::ResourceTypes,
        1 => ListQuery::Resources(ResourceFilter {
            resource_type: if u.arbitrary()? {
                Some(rtype(u)?)
            } else {
                None
            },
            parent: if u.arbitrary()? { Some(rid(u)?) } else { None },
        }),
        2 => ListQuery::Entitlements(EntitlementFilter {
            resource: if u.arbitrary()? { Some(rid(u)?) } else { None },
        }),
        _ => ListQuery::Grants(match u.int_in_range(0..=4)? {
            0 => GrantFilter::All,
            1 => GrantFilter::Resource(rid(u)?),
            2 => GrantFilter::Entitlement {
                id: id(u)?,
                principal: if u.arbitrary()? { Some(rid(u)?) } else { None },
            },
            3 => GrantFilter::Principal(rid(u)?),
            _ => GrantFilter::ResourceType(rtype(u)?),
        }),
    })
}

fn key(u: &mut Unstructured<'_>) -> Result<RecordKey> {
    Ok(match u.int_in_range(0..=4)? {
        0 => RecordKey::Grant(id(u)?),
        1 => RecordKey::Resource(ResourceId::new(rtype(u)?, id(u)?)),
        2 => RecordKey::Entitlement(id(u)?),
        3 => RecordKey::ResourceType(rtype(u)?),
        _ => RecordKey::Asset(id(u)?),
    })
}

impl<'a> Arbitrary<'a> for Op {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let page_size =
            |u: &mut Unstructured<'_>| -> Result<usize> { Ok(*u.choose(universe::PAGE_SIZES)?) };
        Ok(match u.int_in_range(0..=26)? {
            25 => Op::PutAsset(asset(u)?),
            26 => Op::Verify,
            0..=5 => Op::Put {
                batch: batch(u)?,
                mode: if u.arbitrary()? {
                    PutMode::Replace
                } else {
                    PutMode::IfNewer
                },
            },
            6 => Op::StartSync,
            7 => Op::StartNewSync {
                sync_type: *u.choose(&SyncType::ALL)?,
                parent: if u.ratio(1, 3)? {
                    Some(u.arbitrary()?)
                } else {
                    None
                },
            },
            8 => Op::SetCurrentSync(u.arbitrary()?),
            9 => Op::CurrentSyncToken,
            10 => Op::CheckpointSync(u.choose(&["", "page=2", "\0"])?.to_string()),
            11 | 12 => Op::EndSync,
            13 => Op::ViewSync(if u.ratio(2, 3)? {
                Some(u.arbitrary()?)
            } else {
                None
            }),
            14 => Op::GetSyncRun(u.arbitrary()?),
            15 => Op::ListSyncRuns {
                page_size: page_size(u)?,
            },
            16 => Op::DeleteGrant(id(u)?),
            17 => Op::Get {
                sync: opt_sync(u)?,
                key: key(u)?,
            },
            18 => Op::List {
                sync: opt_sync(u)?,
                query: query(u)?,
                page_size: page_size(u)?,
            },
            19 => Op::ResumeList {
                sync: opt_sync(u)?,
                query: query(u)?,
                page_size: page_size(u)?,
                token: match u.int_in_range(0..=4u8)? {
                    0 | 1 => TokenRef::Issued(u.arbitrary()?),
                    2 | 3 => TokenRef::OfList(u.arbitrary()?),
                    _ => TokenRef::Forged(u.choose(universe::FORGED_TOKENS)?.to_string()),
                },
            },
            20 => Op::Stats { sync: opt_sync(u)? },
            21 => Op::Cleanup {
                keep: u.int_in_range(0..=3)?,
            },
            22 => Op::Diff {
                base: u.arbitrary()?,
                applied: u.arbitrary()?,
            },
            23 => match u.int_in_range(0..=4)? {
                0 => Op::CloneSync(u.arbitrary()?),
                4 => Op::CloneAcross(u.arbitrary()?),
                1 => Op::Flush,
                2 => Op::Reopen,
                _ => Op::AdvanceClock(*u.choose(universe::ADVANCES)?),
            },
            _ => Op::StartSync,
        })
    }
}

/// A sequence of at most `max_ops` ops from raw fuzzer bytes.
pub fn sequence(data: &[u8], max_ops: usize) -> Vec<Op> {
    let mut u = Unstructured::new(data);
    let mut ops = Vec::new();
    while ops.len() < max_ops && !u.is_empty() {
        match Op::arbitrary(&mut u) {
            Ok(op) => ops.push(op),
            Err(_) => break,
        }
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_bytes_make_a_sequence_and_every_kind_appears() {
        let mut kinds = std::collections::BTreeSet::new();
        for seed in 0..400u64 {
            let data: Vec<u8> = (0..400)
                .map(|i| syncproof_engine::sync_run::splitmix64(seed * 1000 + i) as u8)
                .collect();
            for op in sequence(&data, 50) {
                kinds.insert(op.kind());
            }
        }
        let missing: Vec<_> = crate::model::ops::OP_KINDS
            .iter()
            .filter(|k| !kinds.contains(*k))
            .collect();
        assert!(missing.is_empty(), "never generated: {missing:?}");
        assert!(sequence(&[], 10).is_empty());
    }
}
