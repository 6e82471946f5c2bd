//! Per-sync record counts (SPEC §4 `stats`).

use std::collections::BTreeMap;

use crate::record::Record;

/// Counts of each record kind in one sync, resources also per resource type.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    /// Resource types.
    pub resource_types: u64,
    /// Resources.
    pub resources: u64,
    /// Resources per resource type.
    pub resources_by_type: BTreeMap<String, u64>,
    /// Entitlements.
    pub entitlements: u64,
    /// Grants.
    pub grants: u64,
    /// Assets.
    pub assets: u64,
}

impl Stats {
    /// Counts one more record (for engines and tools that count record by record).
    pub fn count(&mut self, record: &Record) {
        match record {
            Record::ResourceType(_) => self.resource_types += 1,
            Record::Resource(r) => {
                self.resources += 1;
                *self
                    .resources_by_type
                    .entry(r.id.resource_type.clone())
                    .or_insert(0) += 1;
            }
            Record::Entitlement(_) => self.entitlements += 1,
            Record::Grant(_) => self.grants += 1,
            Record::Asset(_) => self.assets += 1,
        }
    }
}
