//! Lent records: what the lending reads ([`crate::StorageEngine::visit_get`],
//! [`crate::StorageEngine::visit_list`]) hand their visitor. A [`RecordView`] borrows a
//! record's rkyv archive for the duration of one visitor call, after bytecheck validated it
//! (never unchecked access), so a reader that looks at a few fields of each record pays for
//! neither allocation nor decoding of the rest.
//!
//! Where an engine holds its records as archives (the key-value engines: the envelope's
//! payload), the view points straight into the backend's buffer. Where it holds owned records
//! (SQLite rows, the in-memory oracle, a third-party engine that does not override the
//! lending calls), [`lend`] archives each record into a scratch buffer and validates that:
//! the same contract, at the owned path's cost plus one archive.

use crate::engine::StorageEngine;
use crate::error::{Error, Result};
use crate::page::{Page, PageRequest};
use crate::query::ListQuery;
use crate::record::{
    Asset, Entitlement, Grant, Record, RecordKey, RecordKind, RecordRef, Resource, ResourceType,
};
use crate::sync_run::SyncId;
use crate::time::Timestamp;

/// The archived form of a record type (the type rkyv derives for it).
pub type Archived<T> = rkyv::Archived<T>;

/// A borrowed, validated archive of one record of any kind.
#[derive(Clone, Copy)]
pub enum RecordView<'a> {
    /// A resource type.
    ResourceType(&'a Archived<ResourceType>),
    /// A resource.
    Resource(&'a Archived<Resource>),
    /// An entitlement.
    Entitlement(&'a Archived<Entitlement>),
    /// A grant.
    Grant(&'a Archived<Grant>),
    /// An asset.
    Asset(&'a Archived<Asset>),
}

impl std::fmt::Debug for RecordView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RecordView({:?})", self.key())
    }
}

impl RecordView<'_> {
    /// Its kind.
    pub fn kind(&self) -> RecordKind {
        match self {
            RecordView::ResourceType(_) => RecordKind::ResourceType,
            RecordView::Resource(_) => RecordKind::Resource,
            RecordView::Entitlement(_) => RecordKind::Entitlement,
            RecordView::Grant(_) => RecordKind::Grant,
            RecordView::Asset(_) => RecordKind::Asset,
        }
    }

    /// Its id within its kind: the resource's own id for a resource (its type is
    /// [`RecordView::resource_type`]).
    pub fn id(&self) -> &str {
        match self {
            RecordView::ResourceType(r) => r.id.as_str(),
            RecordView::Resource(r) => r.id.resource.as_str(),
            RecordView::Entitlement(r) => r.id.as_str(),
            RecordView::Grant(r) => r.id.as_str(),
            RecordView::Asset(r) => r.id.as_str(),
        }
    }

    /// The resource type of a resource's key (`None` for the other kinds).
    pub fn resource_type(&self) -> Option<&str> {
        match self {
            RecordView::Resource(r) => Some(r.id.resource_type.as_str()),
            _ => None,
        }
    }

    /// Its key within a sync (allocates: the key is owned).
    pub fn key(&self) -> RecordKey {
        match self {
            RecordView::Resource(r) => RecordKey::Resource(crate::ResourceId::new(
                r.id.resource_type.as_str(),
                r.id.resource.as_str(),
            )),
            RecordView::ResourceType(r) => RecordKey::ResourceType(r.id.as_str().into()),
            RecordView::Entitlement(r) => RecordKey::Entitlement(r.id.as_str().into()),
            RecordView::Grant(r) => RecordKey::Grant(r.id.as_str().into()),
            RecordView::Asset(r) => RecordKey::Asset(r.id.as_str().into()),
        }
    }

    /// When the connector saw it.
    pub fn discovered_at(&self) -> Timestamp {
        let t = match self {
            RecordView::ResourceType(r) => &r.discovered_at,
            RecordView::Resource(r) => &r.discovered_at,
            RecordView::Entitlement(r) => &r.discovered_at,
            RecordView::Grant(r) => &r.discovered_at,
            RecordView::Asset(r) => &r.discovered_at,
        };
        Timestamp(t.0.to_native())
    }

    /// The owned record (decodes every field).
    pub fn to_record(&self) -> Result<Record> {
        macro_rules! de {
            ($t:ty, $a:expr) => {
                rkyv::deserialize::<$t, rkyv::rancor::Error>($a)
                    .map_err(|e| Error::corruption(format!("lent record does not decode: {e}")))?
            };
        }
        Ok(match *self {
            RecordView::ResourceType(r) => Record::ResourceType(de!(ResourceType, r)),
            RecordView::Resource(r) => Record::Resource(de!(Resource, r)),
            RecordView::Entitlement(r) => Record::Entitlement(de!(Entitlement, r)),
            RecordView::Grant(r) => Record::Grant(de!(Grant, r)),
            RecordView::Asset(r) => Record::Asset(de!(Asset, r)),
        })
    }
}

/// Validates `bytes` as the archive of a record of `kind` (bytecheck: bounds, UTF-8, enum
/// tags, every pointer inside the buffer) and views it. `Err` is the validator's message.
pub fn access(kind: RecordKind, bytes: &[u8]) -> std::result::Result<RecordView<'_>, String> {
    macro_rules! check {
        ($t:ty) => {
            rkyv::access::<Archived<$t>, rkyv::rancor::Error>(bytes).map_err(|e| e.to_string())?
        };
    }
    Ok(match kind {
        RecordKind::ResourceType => RecordView::ResourceType(check!(ResourceType)),
        RecordKind::Resource => RecordView::Resource(check!(Resource)),
        RecordKind::Entitlement => RecordView::Entitlement(check!(Entitlement)),
        RecordKind::Grant => RecordView::Grant(check!(Grant)),
        RecordKind::Asset => RecordView::Asset(check!(Asset)),
    })
}

/// Archives an owned record into a scratch buffer, validates the archive and lends it to
/// `visit`: the lending form of a read that has only owned records.
pub fn lend<R>(
    record: RecordRef<'_>,
    visit: impl FnOnce(RecordView<'_>) -> Result<R>,
) -> Result<R> {
    let bytes = crate::codec::envelope::archive(record)
        .map_err(|e| Error::invalid_argument(format!("record does not archive: {e}")))?;
    let view = access(record.kind(), &bytes)
        .map_err(|e| Error::corruption(format!("a fresh archive does not validate: {e}")))?;
    visit(view)
}

/// Checks a lent view against its decoded record: the key and time the view reports must be
/// the record's own. Returns the record.
fn checked_record(v: RecordView<'_>) -> Result<Record> {
    let r = v.to_record()?;
    if v.key() != r.key() || v.discovered_at() != r.discovered_at() {
        return Err(Error::corruption(format!(
            "a lent view says key {:?} at {:?}, its record is {:?} at {:?}",
            v.key(),
            v.discovered_at(),
            r.key(),
            r.discovered_at()
        )));
    }
    Ok(r)
}

/// Whether the lending form of a read agrees with its owned form: equal values, or errors of
/// the same kind (messages may differ). The rule the contract check and the gate both hold
/// every engine to.
pub fn agree<T: PartialEq>(owned: &Result<T>, lent: &Result<T>) -> bool {
    match (owned, lent) {
        (Ok(a), Ok(b)) => a == b,
        (Err(a), Err(b)) => a.kind == b.kind,
        _ => false,
    }
}

/// The lending list of one page, collected into the page the owned list returns (each
/// record decoded from its view and checked against it), so the two forms compare.
pub fn collect_list(
    e: &dyn StorageEngine,
    sync: Option<&SyncId>,
    query: &ListQuery,
    page: &PageRequest,
) -> Result<Page<Record>> {
    let mut items = Vec::new();
    let next_token = e.visit_list(sync, query, page, &mut |v| {
        items.push(checked_record(v)?);
        Ok(())
    })?;
    Ok(Page { items, next_token })
}

/// The lending get, collected into what the owned get returns. A visitor called more than
/// once, or an answer that does not match the visits, is corruption.
pub fn collect_get(
    e: &dyn StorageEngine,
    sync: Option<&SyncId>,
    key: &RecordKey,
) -> Result<Option<Record>> {
    let mut got = None;
    let mut visits = 0;
    let found = e.visit_get(sync, key, &mut |v| {
        visits += 1;
        got = Some(checked_record(v)?);
        Ok(())
    })?;
    if visits > 1 || found != (visits == 1) {
        return Err(Error::corruption(format!(
            "visit_get of {key:?} answered {found} after {visits} visits"
        )));
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{asset, child, ent, grant, rt};
    use crate::record::RecordType;

    /// Every kind lends a view whose accessors and decoded form are the record's own.
    #[test]
    fn lend_round_trips_every_kind() {
        let records = [
            rt("user").into_record(),
            child("user", "a\0b", "org", "x").into_record(),
            ent("m", "group", "g").into_record(),
            grant("g", "m", "group", "eng", "user", "a").into_record(),
            asset("a", b"\x00\xff").into_record(),
        ];
        for r in records {
            lend(r.as_ref(), |v| {
                assert_eq!(v.kind(), r.kind());
                assert_eq!(v.key(), r.key());
                assert_eq!(v.discovered_at(), r.discovered_at());
                assert_eq!(v.to_record()?, r);
                Ok(())
            })
            .unwrap();
        }
    }

    /// Bytes that are not an archive of the kind are refused, never viewed.
    #[test]
    fn access_refuses_bad_archives() {
        for kind in RecordKind::ALL {
            assert!(access(kind, b"").is_err(), "{kind:?}");
            assert!(access(kind, &[0xff; 64]).is_err(), "{kind:?}");
        }
    }
}
