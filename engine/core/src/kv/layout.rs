//! Where each record and index entry lives in the key space of a [`super::KvStore`].
//!
//! Primary keys are `KeyKind::<record> [sync, key parts]`; index keys end with the primary key
//! parts so an index scan comes out in primary-key order. Index values are empty.

use crate::codec::key::{KeyBuilder, KeyKind};
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
        RecordKey::ResourceType(id) => KeyBuilder::new(KeyKind::ResourceType)
            .str(sync)
            .str(id)
            .finish(),
        RecordKey::Resource(r) => KeyBuilder::new(KeyKind::Resource)
            .str(sync)
            .str(&r.resource_type)
            .str(&r.resource)
            .finish(),
        RecordKey::Entitlement(id) => KeyBuilder::new(KeyKind::Entitlement)
            .str(sync)
            .str(id)
            .finish(),
        RecordKey::Grant(id) => KeyBuilder::new(KeyKind::Grant).str(sync).str(id).finish(),
        RecordKey::Asset(id) => KeyBuilder::new(KeyKind::Asset).str(sync).str(id).finish(),
    }
}

impl KvRecord for ResourceType {
    const PRIMARY: KeyKind = KeyKind::ResourceType;
    const INDEXED: bool = false;
    fn primary_key(&self, sync: &str) -> Vec<u8> {
        KeyBuilder::new(Self::PRIMARY)
            .str(sync)
            .str(&self.id)
            .finish()
    }
    fn index_keys(&self, _: &str, _: &mut Vec<Vec<u8>>) {}
}

impl KvRecord for Resource {
    const PRIMARY: KeyKind = KeyKind::Resource;
    const INDEXED: bool = true;
    fn primary_key(&self, sync: &str) -> Vec<u8> {
        KeyBuilder::new(Self::PRIMARY)
            .str(sync)
            .str(&self.id.resource_type)
            .str(&self.id.resource)
            .finish()
    }
    fn index_keys(&self, sync: &str, out: &mut Vec<Vec<u8>>) {
        if let Some(p) = &self.parent {
            out.push(
                KeyBuilder::new(KeyKind::ResourceByParent)
                    .str(sync)
                    .str(&p.resource_type)
                    .str(&p.resource)
                    .str(&self.id.resource_type)
                    .str(&self.id.resource)
                    .finish(),
            );
        }
    }
}

impl KvRecord for Entitlement {
    const PRIMARY: KeyKind = KeyKind::Entitlement;
    const INDEXED: bool = true;
    fn primary_key(&self, sync: &str) -> Vec<u8> {
        KeyBuilder::new(Self::PRIMARY)
            .str(sync)
            .str(&self.id)
            .finish()
    }
    fn index_keys(&self, sync: &str, out: &mut Vec<Vec<u8>>) {
        out.push(
            KeyBuilder::new(KeyKind::EntitlementByResource)
                .str(sync)
                .str(&self.resource.resource_type)
                .str(&self.resource.resource)
                .str(&self.id)
                .finish(),
        );
    }
}

impl KvRecord for Grant {
    const PRIMARY: KeyKind = KeyKind::Grant;
    const INDEXED: bool = true;
    fn primary_key(&self, sync: &str) -> Vec<u8> {
        KeyBuilder::new(Self::PRIMARY)
            .str(sync)
            .str(&self.id)
            .finish()
    }
    fn index_keys(&self, sync: &str, out: &mut Vec<Vec<u8>>) {
        let (e, er, p) = (
            &self.entitlement.id,
            &self.entitlement.resource,
            &self.principal,
        );
        out.push(
            KeyBuilder::new(KeyKind::GrantByResource)
                .str(sync)
                .str(&er.resource_type)
                .str(&er.resource)
                .str(&self.id)
                .finish(),
        );
        out.push(
            KeyBuilder::new(KeyKind::GrantByEntitlement)
                .str(sync)
                .str(e)
                .str(&self.id)
                .finish(),
        );
        out.push(
            KeyBuilder::new(KeyKind::GrantByEntitlementPrincipal)
                .str(sync)
                .str(e)
                .str(&p.resource_type)
                .str(&p.resource)
                .str(&self.id)
                .finish(),
        );
        out.push(
            KeyBuilder::new(KeyKind::GrantByPrincipal)
                .str(sync)
                .str(&p.resource_type)
                .str(&p.resource)
                .str(&self.id)
                .finish(),
        );
        out.push(
            KeyBuilder::new(KeyKind::GrantByResourceType)
                .str(sync)
                .str(&er.resource_type)
                .str(&self.id)
                .finish(),
        );
    }
}

impl KvRecord for Asset {
    const PRIMARY: KeyKind = KeyKind::Asset;
    const INDEXED: bool = false;
    fn primary_key(&self, sync: &str) -> Vec<u8> {
        KeyBuilder::new(Self::PRIMARY)
            .str(sync)
            .str(&self.id)
            .finish()
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
