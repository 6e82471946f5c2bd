//! One sync's data as typed `BTreeMap`s, and the per-type glue to reach each map.

use std::collections::BTreeMap;
use syncproof_engine::{
    Asset, Entitlement, Grant, RecordBatch, RecordType, Resource, ResourceId, ResourceType, SyncRun,
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
}

macro_rules! string_keyed {
    ($t:ty, $field:ident) => {
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
        }
    };
}

string_keyed!(ResourceType, resource_types);
string_keyed!(Entitlement, entitlements);
string_keyed!(Grant, grants);
string_keyed!(Asset, assets);

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
