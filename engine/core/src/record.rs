//! The five record kinds of SPEC §1, their keys, validation, and batches of them.

use crate::error::{Error, Result};
use crate::id::{validate_id, ResourceId};
use crate::metadata::Metadata;
use crate::time::Timestamp;

/// Default largest asset payload (SPEC §3: 64 MiB, configurable per store).
pub const DEFAULT_MAX_ASSET_BYTES: usize = 64 << 20;

/// A kind of resource (`user`, `group`, …).
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct ResourceType {
    /// Its id (`user`, `group`, …), unique among resource types in a sync.
    pub id: String,
    /// Name for people; stored as given.
    pub display_name: String,
    /// Free text; stored as given.
    pub description: String,
    /// Trait names (`TRAIT_USER`, …); stored as given.
    pub traits: Vec<String>,
    /// Opaque structured data, stored bit for bit.
    pub annotations: Metadata,
    /// When the connector saw it: what if-newer upserts compare.
    pub discovered_at: Timestamp,
}

/// A resource, keyed by `(resource_type, resource)`, optionally under a parent resource.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Resource {
    /// Its key: resource type and resource id.
    pub id: ResourceId,
    /// The resource it sits under, if any (no referential integrity: need not be stored).
    pub parent: Option<ResourceId>,
    /// Name for people; stored as given.
    pub display_name: String,
    /// Free text; stored as given.
    pub description: String,
    /// Opaque structured data, stored bit for bit.
    pub annotations: Metadata,
    /// When the connector saw it: what if-newer upserts compare.
    pub discovered_at: Timestamp,
}

/// Something that can be granted on a resource.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Entitlement {
    /// Its id, unique among entitlements in a sync.
    pub id: String,
    /// The resource it is on.
    pub resource: ResourceId,
    /// Name for people; stored as given.
    pub display_name: String,
    /// Free text; stored as given.
    pub description: String,
    /// `assignment`, `permission`, … stored as given.
    pub purpose: String,
    /// Short stable name; stored as given.
    pub slug: String,
    /// Resource type ids the entitlement may be granted to.
    pub grantable_to: Vec<String>,
    /// Opaque structured data, stored bit for bit.
    pub annotations: Metadata,
    /// When the connector saw it: what if-newer upserts compare.
    pub discovered_at: Timestamp,
}

/// The entitlement a grant refers to: its id and the resource it is on.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct EntitlementRef {
    /// The entitlement's id.
    pub id: String,
    /// The resource the entitlement is on.
    pub resource: ResourceId,
}

/// A principal holding an entitlement.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Grant {
    /// Its id, unique among grants in a sync.
    pub id: String,
    /// The entitlement granted.
    pub entitlement: EntitlementRef,
    /// Who holds it.
    pub principal: ResourceId,
    /// Ids of the grants or groups this grant came through, stored as given.
    pub sources: Vec<String>,
    /// Opaque structured data, stored bit for bit.
    pub annotations: Metadata,
    /// When the connector saw it: what if-newer upserts compare.
    pub discovered_at: Timestamp,
}

/// An opaque blob (icons, exports) with a content type.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Asset {
    /// Its id, unique among assets in a sync.
    pub id: String,
    /// MIME type; required (SPEC §3).
    pub content_type: String,
    /// The bytes, at most the store's `max_asset_bytes`.
    pub data: Vec<u8>,
    /// Opaque structured data, stored bit for bit.
    pub annotations: Metadata,
    /// When the connector saw it: what if-newer upserts compare.
    pub discovered_at: Timestamp,
}

/// The record kinds, in the order stats and reports list them.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum RecordKind {
    /// A [`ResourceType`].
    ResourceType,
    /// A [`Resource`].
    Resource,
    /// An [`Entitlement`].
    Entitlement,
    /// A [`Grant`].
    Grant,
    /// An [`Asset`].
    Asset,
}

impl RecordKind {
    /// Every kind, in SPEC order (the order of tables, exports and stats).
    pub const ALL: [RecordKind; 5] = [
        RecordKind::ResourceType,
        RecordKind::Resource,
        RecordKind::Entitlement,
        RecordKind::Grant,
        RecordKind::Asset,
    ];
    /// Stable name, as printed in reports.
    pub fn name(self) -> &'static str {
        match self {
            RecordKind::ResourceType => "resource_type",
            RecordKind::Resource => "resource",
            RecordKind::Entitlement => "entitlement",
            RecordKind::Grant => "grant",
            RecordKind::Asset => "asset",
        }
    }
}

/// What every record type offers the engines; implemented once here for all of them.
pub trait RecordType: Clone + PartialEq + std::fmt::Debug + Send + Sync + 'static {
    /// The primary key within a sync; `Ord` is the SPEC §4 list order.
    type Key: Ord + Clone + std::fmt::Debug;
    /// Which kind this type is.
    const KIND: RecordKind;
    /// Its key within a sync.
    fn key(&self) -> Self::Key;
    /// When the connector saw it.
    fn discovered_at(&self) -> Timestamp;
    /// Checks every id component (and, for assets, content type and size).
    fn validate(&self, max_asset_bytes: usize) -> Result<()>;
    /// Equal in every field but `discovered_at` (the diff rule of SPEC §5).
    fn same_content(&self, other: &Self) -> bool;
    /// As the kind-tagged [`Record`].
    fn into_record(self) -> Record;
    /// Back from a [`Record`] of this kind (`None` for another kind).
    fn from_record(record: Record) -> Option<Self>;
    /// A borrowed kind-tagged view.
    fn as_record_ref(&self) -> RecordRef<'_>;
}

macro_rules! same_content_via_clone {
    () => {
        fn same_content(&self, other: &Self) -> bool {
            let mut a = self.clone();
            a.discovered_at = other.discovered_at;
            &a == other
        }
    };
}

macro_rules! record_conversions {
    ($variant:ident) => {
        fn into_record(self) -> Record {
            Record::$variant(self)
        }
        fn from_record(record: Record) -> Option<Self> {
            match record {
                Record::$variant(r) => Some(r),
                _ => None,
            }
        }
        fn as_record_ref(&self) -> RecordRef<'_> {
            RecordRef::$variant(self)
        }
    };
}

impl RecordType for ResourceType {
    type Key = String;
    const KIND: RecordKind = RecordKind::ResourceType;
    fn key(&self) -> String {
        self.id.clone()
    }
    fn discovered_at(&self) -> Timestamp {
        self.discovered_at
    }
    fn validate(&self, _: usize) -> Result<()> {
        validate_id("resource_type.id", &self.id)
    }
    same_content_via_clone!();
    record_conversions!(ResourceType);
}

impl RecordType for Resource {
    type Key = ResourceId;
    const KIND: RecordKind = RecordKind::Resource;
    fn key(&self) -> ResourceId {
        self.id.clone()
    }
    fn discovered_at(&self) -> Timestamp {
        self.discovered_at
    }
    fn validate(&self, _: usize) -> Result<()> {
        self.id.validate("resource.id")?;
        match &self.parent {
            Some(p) => p.validate("resource.parent"),
            None => Ok(()),
        }
    }
    same_content_via_clone!();
    record_conversions!(Resource);
}

impl RecordType for Entitlement {
    type Key = String;
    const KIND: RecordKind = RecordKind::Entitlement;
    fn key(&self) -> String {
        self.id.clone()
    }
    fn discovered_at(&self) -> Timestamp {
        self.discovered_at
    }
    fn validate(&self, _: usize) -> Result<()> {
        validate_id("entitlement.id", &self.id)?;
        self.resource.validate("entitlement.resource")
    }
    same_content_via_clone!();
    record_conversions!(Entitlement);
}

impl RecordType for Grant {
    type Key = String;
    const KIND: RecordKind = RecordKind::Grant;
    fn key(&self) -> String {
        self.id.clone()
    }
    fn discovered_at(&self) -> Timestamp {
        self.discovered_at
    }
    fn validate(&self, _: usize) -> Result<()> {
        validate_id("grant.id", &self.id)?;
        validate_id("grant.entitlement.id", &self.entitlement.id)?;
        self.entitlement
            .resource
            .validate("grant.entitlement.resource")?;
        self.principal.validate("grant.principal")
    }
    same_content_via_clone!();
    record_conversions!(Grant);
}

impl RecordType for Asset {
    type Key = String;
    const KIND: RecordKind = RecordKind::Asset;
    fn key(&self) -> String {
        self.id.clone()
    }
    fn discovered_at(&self) -> Timestamp {
        self.discovered_at
    }
    fn validate(&self, max_asset_bytes: usize) -> Result<()> {
        validate_id("asset.id", &self.id)?;
        if self.content_type.is_empty() {
            return Err(Error::invalid_argument(format!(
                "asset {:?} has an empty content_type",
                self.id
            )));
        }
        if self.data.len() > max_asset_bytes {
            return Err(Error::invalid_argument(format!(
                "asset {:?} is {} bytes, more than the limit of {max_asset_bytes}",
                self.id,
                self.data.len()
            )));
        }
        Ok(())
    }
    same_content_via_clone!();
    record_conversions!(Asset);
}

/// Any one record.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Record {
    /// A resource type.
    ResourceType(ResourceType),
    /// A resource.
    Resource(Resource),
    /// An entitlement.
    Entitlement(Entitlement),
    /// A grant.
    Grant(Grant),
    /// An asset.
    Asset(Asset),
}

impl Record {
    /// Its kind.
    pub fn kind(&self) -> RecordKind {
        match self {
            Record::ResourceType(_) => RecordKind::ResourceType,
            Record::Resource(_) => RecordKind::Resource,
            Record::Entitlement(_) => RecordKind::Entitlement,
            Record::Grant(_) => RecordKind::Grant,
            Record::Asset(_) => RecordKind::Asset,
        }
    }
    /// Its key within a sync.
    pub fn key(&self) -> RecordKey {
        match self {
            Record::ResourceType(r) => RecordKey::ResourceType(r.key()),
            Record::Resource(r) => RecordKey::Resource(r.key()),
            Record::Entitlement(r) => RecordKey::Entitlement(r.key()),
            Record::Grant(r) => RecordKey::Grant(r.key()),
            Record::Asset(r) => RecordKey::Asset(r.key()),
        }
    }
    /// When the connector saw it.
    pub fn discovered_at(&self) -> Timestamp {
        match self {
            Record::ResourceType(r) => r.discovered_at,
            Record::Resource(r) => r.discovered_at,
            Record::Entitlement(r) => r.discovered_at,
            Record::Grant(r) => r.discovered_at,
            Record::Asset(r) => r.discovered_at,
        }
    }
}

/// A borrowed record of any kind (encoding without cloning).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordRef<'a> {
    /// A resource type.
    ResourceType(&'a ResourceType),
    /// A resource.
    Resource(&'a Resource),
    /// An entitlement.
    Entitlement(&'a Entitlement),
    /// A grant.
    Grant(&'a Grant),
    /// An asset.
    Asset(&'a Asset),
}

impl Record {
    /// Borrows the record.
    pub fn as_ref(&self) -> RecordRef<'_> {
        match self {
            Record::ResourceType(r) => RecordRef::ResourceType(r),
            Record::Resource(r) => RecordRef::Resource(r),
            Record::Entitlement(r) => RecordRef::Entitlement(r),
            Record::Grant(r) => RecordRef::Grant(r),
            Record::Asset(r) => RecordRef::Asset(r),
        }
    }
}

impl RecordRef<'_> {
    /// Its kind.
    pub fn kind(self) -> RecordKind {
        match self {
            RecordRef::ResourceType(_) => RecordKind::ResourceType,
            RecordRef::Resource(_) => RecordKind::Resource,
            RecordRef::Entitlement(_) => RecordKind::Entitlement,
            RecordRef::Grant(_) => RecordKind::Grant,
            RecordRef::Asset(_) => RecordKind::Asset,
        }
    }
    /// When the connector saw it.
    pub fn discovered_at(self) -> Timestamp {
        match self {
            RecordRef::ResourceType(r) => r.discovered_at,
            RecordRef::Resource(r) => r.discovered_at,
            RecordRef::Entitlement(r) => r.discovered_at,
            RecordRef::Grant(r) => r.discovered_at,
            RecordRef::Asset(r) => r.discovered_at,
        }
    }
}

/// The primary key of any one record, as used by point gets.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum RecordKey {
    /// A resource type by id.
    ResourceType(String),
    /// A resource by (type, id).
    Resource(ResourceId),
    /// An entitlement by id.
    Entitlement(String),
    /// A grant by id.
    Grant(String),
    /// An asset by id.
    Asset(String),
}

impl RecordKey {
    /// The kind of record it names.
    pub fn kind(&self) -> RecordKind {
        match self {
            RecordKey::ResourceType(_) => RecordKind::ResourceType,
            RecordKey::Resource(_) => RecordKind::Resource,
            RecordKey::Entitlement(_) => RecordKind::Entitlement,
            RecordKey::Grant(_) => RecordKind::Grant,
            RecordKey::Asset(_) => RecordKind::Asset,
        }
    }
    /// Validates the id components of the key.
    pub fn validate(&self) -> Result<()> {
        match self {
            RecordKey::Resource(id) => id.validate("resource.id"),
            RecordKey::ResourceType(id)
            | RecordKey::Entitlement(id)
            | RecordKey::Grant(id)
            | RecordKey::Asset(id) => validate_id(format_args!("{}.id", self.kind().name()), id),
        }
    }
}

/// A batch of records of one kind: the unit of one atomic `put` call.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RecordBatch {
    /// Resource types.
    ResourceTypes(Vec<ResourceType>),
    /// Resources.
    Resources(Vec<Resource>),
    /// Entitlements.
    Entitlements(Vec<Entitlement>),
    /// Grants.
    Grants(Vec<Grant>),
    /// Assets.
    Assets(Vec<Asset>),
}

impl RecordBatch {
    /// The kind of its records.
    pub fn kind(&self) -> RecordKind {
        match self {
            RecordBatch::ResourceTypes(_) => RecordKind::ResourceType,
            RecordBatch::Resources(_) => RecordKind::Resource,
            RecordBatch::Entitlements(_) => RecordKind::Entitlement,
            RecordBatch::Grants(_) => RecordKind::Grant,
            RecordBatch::Assets(_) => RecordKind::Asset,
        }
    }
    /// Number of records.
    pub fn len(&self) -> usize {
        match self {
            RecordBatch::ResourceTypes(v) => v.len(),
            RecordBatch::Resources(v) => v.len(),
            RecordBatch::Entitlements(v) => v.len(),
            RecordBatch::Grants(v) => v.len(),
            RecordBatch::Assets(v) => v.len(),
        }
    }
    /// Whether it holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// An empty batch of the given kind.
    pub fn empty(kind: RecordKind) -> Self {
        match kind {
            RecordKind::ResourceType => RecordBatch::ResourceTypes(Vec::new()),
            RecordKind::Resource => RecordBatch::Resources(Vec::new()),
            RecordKind::Entitlement => RecordBatch::Entitlements(Vec::new()),
            RecordKind::Grant => RecordBatch::Grants(Vec::new()),
            RecordKind::Asset => RecordBatch::Assets(Vec::new()),
        }
    }
    /// Appends a record; `InvalidArgument` if its kind differs from the batch's.
    pub fn push(&mut self, record: Record) -> Result<()> {
        match (self, record) {
            (RecordBatch::ResourceTypes(v), Record::ResourceType(r)) => v.push(r),
            (RecordBatch::Resources(v), Record::Resource(r)) => v.push(r),
            (RecordBatch::Entitlements(v), Record::Entitlement(r)) => v.push(r),
            (RecordBatch::Grants(v), Record::Grant(r)) => v.push(r),
            (RecordBatch::Assets(v), Record::Asset(r)) => v.push(r),
            (batch, r) => {
                return Err(Error::invalid_argument(format!(
                    "a {} record cannot join a batch of {}",
                    r.kind().name(),
                    batch.kind().name()
                )))
            }
        }
        Ok(())
    }
    /// Validates every record; the first failure names its position in the batch.
    pub fn validate(&self, max_asset_bytes: usize) -> Result<()> {
        fn all<T: RecordType>(v: &[T], max: usize) -> Result<()> {
            v.iter().enumerate().try_for_each(|(i, r)| {
                r.validate(max)
                    .map_err(|e| e.context(format!("record {i} of the batch")))
            })
        }
        match self {
            RecordBatch::ResourceTypes(v) => all(v, max_asset_bytes),
            RecordBatch::Resources(v) => all(v, max_asset_bytes),
            RecordBatch::Entitlements(v) => all(v, max_asset_bytes),
            RecordBatch::Grants(v) => all(v, max_asset_bytes),
            RecordBatch::Assets(v) => all(v, max_asset_bytes),
        }
    }
    /// The records, cloned into the [`Record`] enum.
    pub fn to_records(&self) -> Vec<Record> {
        fn conv<T: RecordType>(v: &[T]) -> Vec<Record> {
            v.iter().cloned().map(T::into_record).collect()
        }
        match self {
            RecordBatch::ResourceTypes(v) => conv(v),
            RecordBatch::Resources(v) => conv(v),
            RecordBatch::Entitlements(v) => conv(v),
            RecordBatch::Grants(v) => conv(v),
            RecordBatch::Assets(v) => conv(v),
        }
    }
}

/// How a `put` treats an existing record under the same key (SPEC §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum PutMode {
    /// Insert or replace.
    Replace,
    /// Write only if absent or the new `discovered_at` is strictly greater.
    IfNewer,
}

impl PutMode {
    /// Whether `new` should overwrite `existing` under this mode.
    pub fn should_write(self, existing: Option<Timestamp>, new: Timestamp) -> bool {
        match (self, existing) {
            (PutMode::Replace, _) | (PutMode::IfNewer, None) => true,
            (PutMode::IfNewer, Some(old)) => new > old,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(id: &str, t: i64) -> Grant {
        Grant {
            id: id.into(),
            entitlement: EntitlementRef {
                id: "e".into(),
                resource: ResourceId::new("group", "g"),
            },
            principal: ResourceId::new("user", "u"),
            sources: vec![],
            annotations: Metadata::Null,
            discovered_at: Timestamp(t),
        }
    }

    #[test]
    fn if_newer_needs_strictly_greater() {
        assert!(PutMode::IfNewer.should_write(None, Timestamp(0)));
        assert!(!PutMode::IfNewer.should_write(Some(Timestamp(5)), Timestamp(5)));
        assert!(PutMode::IfNewer.should_write(Some(Timestamp(5)), Timestamp(6)));
        assert!(PutMode::Replace.should_write(Some(Timestamp(5)), Timestamp(1)));
    }

    #[test]
    fn same_content_ignores_only_discovered_at() {
        let a = grant("g", 1);
        assert!(a.same_content(&grant("g", 9)));
        let mut b = grant("g", 1);
        b.sources.push("x".into());
        assert!(!a.same_content(&b));
    }

    #[test]
    fn batch_validation_names_the_record() {
        let batch = RecordBatch::Grants(vec![grant("ok", 0), grant("", 0)]);
        let err = batch.validate(DEFAULT_MAX_ASSET_BYTES).unwrap_err();
        assert!(err.message.contains("record 1"), "{err}");
    }

    #[test]
    fn asset_rules() {
        let mut a = Asset {
            id: "a".into(),
            content_type: "image/png".into(),
            data: vec![0; 10],
            annotations: Metadata::Null,
            discovered_at: Timestamp(0),
        };
        assert!(a.validate(10).is_ok());
        assert!(a.validate(9).is_err());
        a.content_type.clear();
        assert!(a.validate(10).is_err());
    }
}
