//! Proptest strategies for the core types, shared by this crate's integration tests.

// A test: a panic is a failure, so the workspace's no-panic lints do not apply.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![allow(dead_code)]

use proptest::prelude::*;
use std::collections::BTreeMap;
use syncproof_engine::*;

/// Strings from a small, nasty alphabet so prefixes, `\0`, separators and non-ASCII collide often.
pub fn nasty_str() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            '\0', '\u{1}', 'a', 'b', ':', '|', '_', 'é', '\u{ff}', '😀',
        ]),
        0..6,
    )
    .prop_map(|v| v.into_iter().collect())
}

pub fn id_str() -> impl Strategy<Value = String> {
    nasty_str().prop_filter("ids are non-empty", |s| !s.is_empty())
}

pub fn resource_id() -> impl Strategy<Value = ResourceId> {
    (id_str(), id_str()).prop_map(|(t, r)| ResourceId::new(t, r))
}

pub fn timestamp() -> impl Strategy<Value = Timestamp> {
    prop_oneof![
        any::<i64>().prop_map(Timestamp),
        (0i64..5).prop_map(Timestamp)
    ]
}

pub fn metadata() -> impl Strategy<Value = Metadata> {
    let leaf = prop_oneof![
        Just(Metadata::Null),
        any::<bool>().prop_map(Metadata::Bool),
        any::<i64>().prop_map(Metadata::I64),
        any::<f64>().prop_map(Metadata::F64),
        nasty_str().prop_map(Metadata::String),
        prop::collection::vec(any::<u8>(), 0..8).prop_map(Metadata::Bytes),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Metadata::List),
            prop::collection::btree_map(nasty_str(), inner, 0..4).prop_map(Metadata::Map),
        ]
    })
}

/// Metadata restricted to what JSON can hold: no bytes, finite floats.
pub fn json_metadata() -> impl Strategy<Value = Metadata> {
    let leaf = prop_oneof![
        Just(Metadata::Null),
        any::<bool>().prop_map(Metadata::Bool),
        any::<i64>().prop_map(Metadata::I64),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Metadata::F64),
        nasty_str().prop_map(Metadata::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Metadata::List),
            prop::collection::btree_map(nasty_str(), inner, 0..4)
                .prop_map(|m: BTreeMap<String, Metadata>| Metadata::Map(m)),
        ]
    })
}

pub fn record() -> impl Strategy<Value = Record> {
    let strs = || prop::collection::vec(nasty_str(), 0..3);
    prop_oneof![
        (
            id_str(),
            nasty_str(),
            nasty_str(),
            strs(),
            metadata(),
            timestamp()
        )
            .prop_map(
                |(id, display_name, description, traits, annotations, discovered_at)| {
                    Record::ResourceType(ResourceType {
                        id,
                        display_name,
                        description,
                        traits,
                        annotations,
                        discovered_at,
                    })
                }
            ),
        (
            resource_id(),
            prop::option::of(resource_id()),
            nasty_str(),
            nasty_str(),
            metadata(),
            timestamp()
        )
            .prop_map(
                |(id, parent, display_name, description, annotations, discovered_at)| {
                    Record::Resource(Resource {
                        id,
                        parent,
                        display_name,
                        description,
                        annotations,
                        discovered_at,
                    })
                }
            ),
        (
            id_str(),
            resource_id(),
            nasty_str(),
            nasty_str(),
            nasty_str(),
            strs(),
            metadata(),
            timestamp()
        )
            .prop_map(
                |(
                    id,
                    resource,
                    display_name,
                    purpose,
                    slug,
                    grantable_to,
                    annotations,
                    discovered_at,
                )| {
                    Record::Entitlement(Entitlement {
                        id,
                        resource,
                        display_name,
                        description: String::new(),
                        purpose,
                        slug,
                        grantable_to,
                        annotations,
                        discovered_at,
                    })
                }
            ),
        (
            id_str(),
            id_str(),
            resource_id(),
            resource_id(),
            strs(),
            metadata(),
            timestamp()
        )
            .prop_map(
                |(id, ent, resource, principal, sources, annotations, discovered_at)| {
                    Record::Grant(Grant {
                        id,
                        entitlement: EntitlementRef { id: ent, resource },
                        principal,
                        sources,
                        annotations,
                        discovered_at,
                    })
                }
            ),
        (
            id_str(),
            id_str(),
            prop::collection::vec(any::<u8>(), 0..64),
            metadata(),
            timestamp()
        )
            .prop_map(|(id, content_type, data, annotations, discovered_at)| {
                Record::Asset(Asset {
                    id,
                    content_type,
                    data,
                    annotations,
                    discovered_at,
                })
            }),
    ]
}

pub fn sync_run() -> impl Strategy<Value = SyncRun> {
    (
        id_str(),
        prop::sample::select(SyncType::ALL.to_vec()),
        prop::option::of(id_str()),
        timestamp(),
        prop::option::of(timestamp()),
        nasty_str(),
    )
        .prop_map(
            |(id, sync_type, parent, started_at, ended_at, token)| SyncRun {
                id: SyncId(id),
                sync_type,
                parent: parent.map(SyncId),
                started_at,
                ended_at,
                token,
            },
        )
}
