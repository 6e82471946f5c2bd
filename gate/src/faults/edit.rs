//! Rewriting batches, keys, queries and results: the small edits bug classes are made of.

use syncproof_engine::*;

/// Rewrites every id string of a batch.
pub(super) fn map_ids(batch: &RecordBatch, f: &dyn Fn(&str) -> String) -> RecordBatch {
    let rid = |r: &ResourceId| ResourceId::new(f(&r.resource_type), f(&r.resource));
    match batch {
        RecordBatch::ResourceTypes(v) => RecordBatch::ResourceTypes(
            v.iter()
                .map(|r| ResourceType {
                    id: f(&r.id),
                    ..r.clone()
                })
                .collect(),
        ),
        RecordBatch::Resources(v) => RecordBatch::Resources(
            v.iter()
                .map(|r| Resource {
                    id: rid(&r.id),
                    parent: r.parent.as_ref().map(rid),
                    ..r.clone()
                })
                .collect(),
        ),
        RecordBatch::Entitlements(v) => RecordBatch::Entitlements(
            v.iter()
                .map(|r| Entitlement {
                    id: f(&r.id),
                    resource: rid(&r.resource),
                    ..r.clone()
                })
                .collect(),
        ),
        RecordBatch::Grants(v) => RecordBatch::Grants(
            v.iter()
                .map(|r| Grant {
                    id: f(&r.id),
                    entitlement: EntitlementRef {
                        id: f(&r.entitlement.id),
                        resource: rid(&r.entitlement.resource),
                    },
                    principal: rid(&r.principal),
                    ..r.clone()
                })
                .collect(),
        ),
        RecordBatch::Assets(v) => RecordBatch::Assets(
            v.iter()
                .map(|r| Asset {
                    id: f(&r.id),
                    ..r.clone()
                })
                .collect(),
        ),
    }
}

pub(super) fn map_key(key: &RecordKey, f: &dyn Fn(&str) -> String) -> RecordKey {
    match key {
        RecordKey::ResourceType(i) => RecordKey::ResourceType(f(i)),
        RecordKey::Resource(r) => {
            RecordKey::Resource(ResourceId::new(f(&r.resource_type), f(&r.resource)))
        }
        RecordKey::Entitlement(i) => RecordKey::Entitlement(f(i)),
        RecordKey::Grant(i) => RecordKey::Grant(f(i)),
        RecordKey::Asset(i) => RecordKey::Asset(f(i)),
    }
}

pub(super) fn truncate_id(s: &str) -> String {
    truncate_to(s, MAX_ID_LEN)
}

/// `s` cut to at most `max` bytes, at a character boundary.
pub(super) fn truncate_to(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

pub(super) fn joined(r: &ResourceId) -> ResourceId {
    ResourceId::new(format!("{}:{}", r.resource_type, r.resource), "_")
}

pub(super) fn split(r: &ResourceId) -> ResourceId {
    match r.resource_type.split_once(':') {
        Some((t, rest)) => ResourceId::new(t, rest),
        None => r.clone(),
    }
}

pub(super) fn positive_zero(m: &Metadata) -> Metadata {
    match m {
        Metadata::F64(f) if *f == 0.0 => Metadata::F64(0.0),
        Metadata::List(v) => Metadata::List(v.iter().map(positive_zero).collect()),
        Metadata::Map(v) => Metadata::Map(
            v.iter()
                .map(|(k, v)| (k.clone(), positive_zero(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

pub(super) fn with_annotations(
    batch: &RecordBatch,
    f: &dyn Fn(&Metadata) -> Metadata,
) -> RecordBatch {
    macro_rules! each {
        ($v:expr, $variant:ident) => {
            RecordBatch::$variant(
                $v.iter()
                    .map(|r| {
                        let mut r = r.clone();
                        r.annotations = f(&r.annotations);
                        r
                    })
                    .collect(),
            )
        };
    }
    match batch {
        RecordBatch::ResourceTypes(v) => each!(v, ResourceTypes),
        RecordBatch::Resources(v) => each!(v, Resources),
        RecordBatch::Entitlements(v) => each!(v, Entitlements),
        RecordBatch::Grants(v) => each!(v, Grants),
        RecordBatch::Assets(v) => each!(v, Assets),
    }
}

pub(super) fn rid_prefix(filter: &ResourceId, value: &ResourceId) -> bool {
    value.resource_type == filter.resource_type
        && value.resource.starts_with(filter.resource.as_str())
}

/// The filters of SPEC §4, matching prefixes instead of exact values.
pub(super) fn prefix_match(query: &ListQuery, r: &Record) -> bool {
    match (query, r) {
        (ListQuery::Resources(f), Record::Resource(x)) => {
            f.resource_type
                .as_ref()
                .is_none_or(|t| x.id.resource_type.starts_with(t.as_str()))
                && f.parent
                    .as_ref()
                    .is_none_or(|p| x.parent.as_ref().is_some_and(|xp| rid_prefix(p, xp)))
        }
        (ListQuery::Entitlements(f), Record::Entitlement(x)) => f
            .resource
            .as_ref()
            .is_none_or(|p| rid_prefix(p, &x.resource)),
        (ListQuery::Grants(f), Record::Grant(x)) => match f {
            GrantFilter::All => true,
            GrantFilter::Resource(p) => rid_prefix(p, &x.entitlement.resource),
            GrantFilter::Entitlement { id, principal } => {
                x.entitlement.id.starts_with(id.as_str())
                    && principal
                        .as_ref()
                        .is_none_or(|p| rid_prefix(p, &x.principal))
            }
            GrantFilter::Principal(p) => rid_prefix(p, &x.principal),
            GrantFilter::ResourceType(t) => {
                x.entitlement.resource.resource_type.starts_with(t.as_str())
            }
        },
        _ => true,
    }
}

pub(super) fn swallow<T>(
    r: Result<T>,
    kinds: &[ErrorKind],
    default: impl FnOnce() -> T,
) -> Result<T> {
    match r {
        Err(e) if kinds.contains(&e.kind) => Ok(default()),
        other => other,
    }
}

/// A record's id as one lowercase string (for `CaseInsensitiveOrder`).
pub(super) fn folded_key(r: &Record) -> String {
    format!("{:?}", r.key()).to_lowercase()
}

/// Whether some id in `batch` has `\0` after its first byte (the stall bugs' trigger).
pub(super) fn has_late_nul(batch: &RecordBatch) -> bool {
    let found = std::cell::Cell::new(false);
    map_ids(batch, &|s| {
        if s.bytes().skip(1).any(|b| b == 0) {
            found.set(true);
        }
        s.to_string()
    });
    found.get()
}

/// Never returns: sleeps forever (`HangOnNulInId`).
pub(super) fn hang() -> ! {
    loop {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Never returns: keeps 16 MiB more resident every 10 ms (`RunawayOnNulInId`).
pub(super) fn run_away() -> ! {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        hoard.push(vec![1u8; 16 << 20]);
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// A batch of `kind` holding `records` (records of another kind are dropped).
pub(super) fn batch_of(kind: RecordKind, records: impl IntoIterator<Item = Record>) -> RecordBatch {
    let mut batch = RecordBatch::empty(kind);
    for r in records {
        let _ = batch.push(r);
    }
    batch
}

/// The page `page` asks for of `all`, paged here with offset tokens (`faulty:N`): how the
/// classes that reorder or refilter a whole list serve it.
pub(super) fn page_by_offset<T: Clone>(all: &[T], page: &PageRequest) -> Result<Page<T>> {
    let offset = match &page.token {
        None => 0,
        Some(t) => t
            .as_str()
            .strip_prefix("faulty:")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| Error::invalid_page_token("faulty: not an offset token"))?,
    };
    let items: Vec<T> = all
        .iter()
        .skip(offset)
        .take(page.effective_size())
        .cloned()
        .collect();
    let end = offset + items.len();
    let next_token = (end < all.len()).then(|| PageToken(format!("faulty:{end}")));
    Ok(Page { items, next_token })
}
