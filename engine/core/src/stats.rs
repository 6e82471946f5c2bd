//! Per-sync record counts (SPEC §4 `stats`).

use std::collections::BTreeMap;

/// Counts of each record kind in one sync, resources also per resource type.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    pub resource_types: u64,
    pub resources: u64,
    pub resources_by_type: BTreeMap<String, u64>,
    pub entitlements: u64,
    pub grants: u64,
    pub assets: u64,
}
