//! Where each record and index entry lives in the key space of a [`super::KvStore`].
//!
//! Primary keys are `KeyKind::<record> [sync, key parts]`; index keys end with the primary key
//! parts so an index scan comes out in primary-key order. Index values are empty.

use crate::codec::key::{str_key, KeyBuilder, KeyKind};
use crate::query::{EntitlementFilter, GrantFilter, ListQuery, ResourceFilter};
use crate::record::*;

/// The key-space facts of one record type.
pub(crate) trait KvRecord: RecordType {
    /// Kind of the primary key.
    const PRIMARY: KeyKind;
    /// Whether any index entries exist for this type (only then must a replace read the old
    /// record to remove stale entries).
    const INDEXED: bool;
    /// The primary key in `sync`.
    fn primary_key(&self, sync: &str) -> Vec<u8>;
    /// Every index key of this record in `sync`.
    fn index_keys(&self, sync: &str, out: &mut Vec<Vec<u8>>);
}

/// The primary key of `key` in `sync`.
pub(crate) fn primary_key_of(sync: &str, key: &RecordKey) -> Vec<u8> {
    match key {
        RecordKey::ResourceType(id) => str_key(KeyKind::ResourceType, &[sync, id]),
        RecordKey::Resource(r) => {
            str_key(KeyKind::Resource, &[sync, &r.resource_type, &r.resource])
        }
        RecordKey::Entitlement(id) => str_key(KeyKind::Entitlement, &[sync, id]),
        RecordKey::Grant(id) => str_key(KeyKind::Grant, &[sync, id]),
        RecordKey::Asset(id) => str_key(KeyKind::Asset, &[sync, id]),
    }
}

impl KvRecord for ResourceType {
    const PRIMARY: KeyKind = KeyKind::ResourceType;
    const INDEXED: bool = false;
    fn primary_key(&self, sync: &str) -> Vec<u8> {
        str_key(Self::PRIMARY, &[sync, &self.id])
    }
    fn index_keys(&self, _: &str, _: &mut Vec<Vec<u8>>) {}
}

impl KvRecord for Resource {
    const PRIMARY: KeyKind = KeyKind::Resource;
    const INDEXED: bool = true;
    fn primary_key(&self, sync: &str) -> Vec<u8> {
        str_key(
            Self::PRIMARY,
            &[sync, &self.id.resource_type, &self.id.resource],
        )
    }
    fn index_keys(&self, sync: &str, out: &mut Vec<Vec<u8>>) {
        if let Some(p) = &self.parent {
            out.push(str_key(
                KeyKind::ResourceByParent,
                &[
                    sync,
                    &p.resource_type,
                    &p.resource,
                    &self.id.resource_type,
                    &self.id.resource,
                ],
            ));
        }
    }
}

impl KvRecord for Entitlement {
    const PRIMARY: KeyKind = KeyKind::Entitlement;
    const INDEXED: bool = true;
    fn primary_key(&self, sync: &str) -> Vec<u8> {
        str_key(Self::PRIMARY, &[sync, &self.id])
    }
    fn index_keys(&self, sync: &str, out: &mut Vec<Vec<u8>>) {
        let r = &self.resource;
        out.push(str_key(
            KeyKind::EntitlementByResource,
            &[sync, &r.resource_type, &r.resource, &self.id],
        ));
    }
}

impl KvRecord for Grant {
    const PRIMARY: KeyKind = KeyKind::Grant;
    const INDEXED: bool = true;
    fn primary_key(&self, sync: &str) -> Vec<u8> {
        str_key(Self::PRIMARY, &[sync, &self.id])
    }
    fn index_keys(&self, sync: &str, out: &mut Vec<Vec<u8>>) {
        let (e, er, p, id) = (
            self.entitlement.id.as_str(),
            &self.entitlement.resource,
            &self.principal,
            self.id.as_str(),
        );
        out.push(str_key(
            KeyKind::GrantByResource,
            &[sync, &er.resource_type, &er.resource, id],
        ));
        out.push(str_key(KeyKind::GrantByEntitlement, &[sync, e, id]));
        out.push(str_key(
            KeyKind::GrantByEntitlementPrincipal,
            &[sync, e, &p.resource_type, &p.resource, id],
        ));
        out.push(str_key(
            KeyKind::GrantByPrincipal,
            &[sync, &p.resource_type, &p.resource, id],
        ));
        out.push(str_key(
            KeyKind::GrantByResourceType,
            &[sync, &er.resource_type, id],
        ));
    }
}

impl KvRecord for Asset {
    const PRIMARY: KeyKind = KeyKind::Asset;
    const INDEXED: bool = false;
    fn primary_key(&self, sync: &str) -> Vec<u8> {
        str_key(Self::PRIMARY, &[sync, &self.id])
    }
    fn index_keys(&self, _: &str, _: &mut Vec<Vec<u8>>) {}
}

/// How a list is served: a prefix to scan, and whether its keys are index entries whose last
/// `pk_parts` parts name the primary key.
pub(crate) struct Plan {
    /// Every matching key starts with this; it doubles as the page-token scope.
    pub prefix: Vec<u8>,
    /// `None`: the scan yields primary records. `Some(n)`: index keys ending in `n` key parts.
    pub index_pk_parts: Option<usize>,
}

/// The scan that answers `query` in `sync`.
pub(crate) fn plan(sync: &str, query: &ListQuery) -> Plan {
    let primary = |kind| Plan {
        prefix: KeyBuilder::new(kind).str(sync).finish(),
        index_pk_parts: None,
    };
    let rid2 = |kind, r: &crate::id::ResourceId| {
        KeyBuilder::new(kind)
            .str(sync)
            .str(&r.resource_type)
            .str(&r.resource)
    };
    match query {
        ListQuery::ResourceTypes => primary(KeyKind::ResourceType),
        ListQuery::Resources(ResourceFilter {
            resource_type,
            parent,
        }) => match (resource_type, parent) {
            (None, None) => primary(KeyKind::Resource),
            (Some(t), None) => Plan {
                prefix: KeyBuilder::new(KeyKind::Resource).str(sync).str(t).finish(),
                index_pk_parts: None,
            },
            (t, Some(p)) => {
                let b = rid2(KeyKind::ResourceByParent, p);
                let b = match t {
                    Some(t) => b.str(t),
                    None => b,
                };
                Plan {
                    prefix: b.finish(),
                    index_pk_parts: Some(2),
                }
            }
        },
        ListQuery::Entitlements(EntitlementFilter { resource }) => match resource {
            None => primary(KeyKind::Entitlement),
            Some(r) => Plan {
                prefix: rid2(KeyKind::EntitlementByResource, r).finish(),
                index_pk_parts: Some(1),
            },
        },
        ListQuery::Grants(f) => {
            let prefix = match f {
                GrantFilter::All => return primary(KeyKind::Grant),
                GrantFilter::Resource(r) => rid2(KeyKind::GrantByResource, r).finish(),
                GrantFilter::Entitlement {
                    id,
                    principal: None,
                } => KeyBuilder::new(KeyKind::GrantByEntitlement)
                    .str(sync)
                    .str(id)
                    .finish(),
                GrantFilter::Entitlement {
                    id,
                    principal: Some(p),
                } => KeyBuilder::new(KeyKind::GrantByEntitlementPrincipal)
                    .str(sync)
                    .str(id)
                    .str(&p.resource_type)
                    .str(&p.resource)
                    .finish(),
                GrantFilter::Principal(p) => rid2(KeyKind::GrantByPrincipal, p).finish(),
                GrantFilter::ResourceType(t) => KeyBuilder::new(KeyKind::GrantByResourceType)
                    .str(sync)
                    .str(t)
                    .finish(),
            };
            Plan {
                prefix,
                index_pk_parts: Some(1),
            }
        }
    }
}

/// Every sync-scoped key kind (what deleting a sync must clear).
pub(crate) fn sync_scoped_kinds() -> impl Iterator<Item = KeyKind> {
    KeyKind::ALL.iter().copied().filter(|k| k.is_sync_scoped())
}

/// The key kind of each record kind's primary key.
pub(crate) fn primary_kind(kind: RecordKind) -> KeyKind {
    match kind {
        RecordKind::ResourceType => KeyKind::ResourceType,
        RecordKind::Resource => KeyKind::Resource,
        RecordKind::Entitlement => KeyKind::Entitlement,
        RecordKind::Grant => KeyKind::Grant,
        RecordKind::Asset => KeyKind::Asset,
    }
}
