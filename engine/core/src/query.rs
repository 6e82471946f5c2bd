//! List queries and their filters (SPEC §4). Matching semantics live in each engine; this
//! module only says what can be asked and validates the ids in it.

use crate::error::Result;
use crate::id::{validate_id, ResourceId};
use crate::record::RecordKind;

/// Filter of the resource list: by type, by exact parent, or both.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ResourceFilter {
    /// Only resources of this type.
    pub resource_type: Option<String>,
    /// Only resources under this parent.
    pub parent: Option<ResourceId>,
}

/// Filter of the entitlement list: by the resource the entitlement is on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct EntitlementFilter {
    /// Only entitlements on this resource.
    pub resource: Option<ResourceId>,
}

/// Filter of the grant list: at most one criterion (plus principal with entitlement).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum GrantFilter {
    #[default]
    /// Every grant.
    All,
    /// The entitlement's resource.
    Resource(ResourceId),
    /// The entitlement id, optionally narrowed to one principal.
    Entitlement {
        /// The entitlement's id.
        id: String,
        /// Only grants to this principal.
        principal: Option<ResourceId>,
    },
    /// Grants held by this principal.
    Principal(ResourceId),
    /// The entitlement's resource type.
    ResourceType(String),
}

/// One list call's question.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ListQuery {
    /// Every resource type.
    ResourceTypes,
    /// Resources, filtered.
    Resources(ResourceFilter),
    /// Entitlements, filtered.
    Entitlements(EntitlementFilter),
    /// Grants, filtered.
    Grants(GrantFilter),
}

impl ListQuery {
    /// The record kind this list returns.
    pub fn kind(&self) -> RecordKind {
        match self {
            ListQuery::ResourceTypes => RecordKind::ResourceType,
            ListQuery::Resources(_) => RecordKind::Resource,
            ListQuery::Entitlements(_) => RecordKind::Entitlement,
            ListQuery::Grants(_) => RecordKind::Grant,
        }
    }

    /// The same list with its filter removed: every record of the kind.
    pub fn unfiltered(&self) -> ListQuery {
        match self {
            ListQuery::ResourceTypes => ListQuery::ResourceTypes,
            ListQuery::Resources(_) => ListQuery::Resources(ResourceFilter::default()),
            ListQuery::Entitlements(_) => ListQuery::Entitlements(EntitlementFilter::default()),
            ListQuery::Grants(_) => ListQuery::Grants(GrantFilter::All),
        }
    }

    /// Whether the filter narrows the list (it differs from [`ListQuery::unfiltered`]).
    pub fn is_filtered(&self) -> bool {
        *self != self.unfiltered()
    }

    /// Validates every id in the filter (`InvalidArgument`).
    pub fn validate(&self) -> Result<()> {
        match self {
            ListQuery::ResourceTypes => Ok(()),
            ListQuery::Resources(f) => {
                if let Some(t) = &f.resource_type {
                    validate_id("filter.resource_type", t)?;
                }
                if let Some(p) = &f.parent {
                    p.validate("filter.parent")?;
                }
                Ok(())
            }
            ListQuery::Entitlements(f) => match &f.resource {
                Some(r) => r.validate("filter.resource"),
                None => Ok(()),
            },
            ListQuery::Grants(f) => match f {
                GrantFilter::All => Ok(()),
                GrantFilter::Resource(r) => r.validate("filter.resource"),
                GrantFilter::Entitlement { id, principal } => {
                    validate_id("filter.entitlement", id)?;
                    match principal {
                        Some(p) => p.validate("filter.principal"),
                        None => Ok(()),
                    }
                }
                GrantFilter::Principal(p) => p.validate("filter.principal"),
                GrantFilter::ResourceType(t) => validate_id("filter.resource_type", t),
            },
        }
    }
}
