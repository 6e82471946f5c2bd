//! One sync's data as typed `BTreeMap`s, and the per-type glue to reach each map.

use std::collections::BTreeMap;
use syncproof_engine::{
    Asset, Entitlement, EntitlementFilter, Grant, GrantFilter, ListQuery, RecordBatch, RecordType,
    Resource, ResourceFilter, ResourceId, ResourceType, SyncRun,
};

/// The records of one sync, each kind keyed by its primary key.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tables {
    pub resource_types: BTreeMap<String, ResourceType>,
    pub resources: BTreeMap<ResourceId, Resource>,
    pub entitlements: BTreeMap<String, Entitlement>,
    pub grants: BTreeMap<String, Grant>,
    pub assets: BTreeMap<String, Asset>,
}

/// A sync run and its records.
#[derive(Clone, Debug)]
pub(crate) struct SyncData {
    pub run: SyncRun,
    pub tables: Tables,
}

/// Reaches the map of one record type, and turns its key into token parts and back.
pub(crate) trait MemTable: RecordType {
    fn table(t: &Tables) -> &BTreeMap<Self::Key, Self>;
    fn table_mut(t: &mut Tables) -> &mut BTreeMap<Self::Key, Self>;
    fn key_parts(k: &Self::Key) -> Vec<String>;
    fn key_from_parts(parts: &[String]) -> Option<Self::Key>;
    /// Whether a list of `query` holds this record (a query of another kind holds none).
    fn matches(&self, query: &ListQuery) -> bool;
}

macro_rules! string_keyed {
    ($t:ty, $field:ident, |$r:ident, $q:ident| $matches:expr) => {
        impl MemTable for $t {
            fn table(t: &Tables) -> &BTreeMap<String, Self> {
                &t.$field
            }
            fn table_mut(t: &mut Tables) -> &mut BTreeMap<String, Self> {
                &mut t.$field
            }
            fn key_parts(k: &String) -> Vec<String> {
                vec![k.clone()]
            }
            fn key_from_parts(parts: &[String]) -> Option<String> {
                match parts {
                    [id] => Some(id.clone()),
                    _ => None,
                }
            }
            fn matches(&self, query: &ListQuery) -> bool {
                let ($r, $q) = (self, query);
                $matches
            }
        }
    };
}

string_keyed!(ResourceType, resource_types, |_r, q| matches!(
    q,
    ListQuery::ResourceTypes
));
string_keyed!(Entitlement, entitlements, |e, q| match q {
    ListQuery::Entitlements(EntitlementFilter { resource }) => {
        resource.as_ref().is_none_or(|r| &e.resource == r)
    }
    _ => false,
});
string_keyed!(Grant, grants, |g, q| match q {
    ListQuery::Grants(f) => match f {
        GrantFilter::All => true,
        GrantFilter::Resource(r) => &g.entitlement.resource == r,
        GrantFilter::Entitlement { id, principal } => {
            &g.entitlement.id == id && principal.as_ref().is_none_or(|p| &g.principal == p)
        }
        GrantFilter::Principal(p) => &g.principal == p,
        GrantFilter::ResourceType(t) => &g.entitlement.resource.resource_type == t,
    },
    _ => false,
});
// Assets are read by key only: no list holds them.
string_keyed!(Asset, assets, |_r, _q| false);

impl MemTable for Resource {
    fn table(t: &Tables) -> &BTreeMap<ResourceId, Self> {
        &t.resources
    }
    fn table_mut(t: &mut Tables) -> &mut BTreeMap<ResourceId, Self> {
        &mut t.resources
    }
    fn key_parts(k: &ResourceId) -> Vec<String> {
        vec![k.resource_type.clone(), k.resource.clone()]
    }
    fn key_from_parts(parts: &[String]) -> Option<ResourceId> {
        match parts {
            [t, r] => Some(ResourceId::new(t.clone(), r.clone())),
            _ => None,
        }
    }
    fn matches(&self, query: &ListQuery) -> bool {
        match query {
            ListQuery::Resources(ResourceFilter {
                resource_type,
                parent,
            }) => {
                resource_type
                    .as_ref()
                    .is_none_or(|t| &self.id.resource_type == t)
                    && parent
                        .as_ref()
                        .is_none_or(|p| self.parent.as_ref() == Some(p))
            }
            _ => false,
        }
    }
}

/// Calls `$f::<T>(vec)` with the typed vector inside a [`RecordBatch`].
macro_rules! with_batch {
    ($batch:expr, |$v:ident| $body:expr) => {
        match $batch {
            RecordBatch::ResourceTypes($v) => $body,
            RecordBatch::Resources($v) => $body,
            RecordBatch::Entitlements($v) => $body,
            RecordBatch::Grants($v) => $body,
            RecordBatch::Assets($v) => $body,
        }
    };
}
pub(crate) use with_batch;

/// Copies every record of `tables` into `into` (used by import).
pub(crate) fn insert_batch(into: &mut Tables, batch: RecordBatch) {
    fn ins<T: MemTable>(into: &mut Tables, v: Vec<T>) {
        let t = T::table_mut(into);
        for r in v {
            t.insert(r.key(), r);
        }
    }
    with_batch!(batch, |v| ins(into, v))
}
