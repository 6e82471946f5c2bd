//! Per-record-kind SQL: which table, which key and index columns, and how a record becomes a
//! row and back.

use syncproof_engine::codec::envelope;
use syncproof_engine::*;

/// Row columns after `sync_id`: key columns, index columns, `discovered_at`, `data`.
pub(crate) trait SqlRecord: RecordType {
    const TABLE: &'static str;
    const KEY_COLS: &'static [&'static str];
    const INDEX_COLS: &'static [&'static str];
    /// Key then index column values, in column order (`None` is SQL NULL).
    fn column_values(&self) -> Vec<Option<&[u8]>>;
    fn with_discovered_at(self, t: Timestamp) -> Self;
}

/// `key, index…, discovered_at, data` (without `sync_id`).
pub(crate) fn columns<T: SqlRecord>() -> Vec<&'static str> {
    T::KEY_COLS
        .iter()
        .chain(T::INDEX_COLS)
        .copied()
        .chain(["discovered_at", "data"])
        .collect()
}

macro_rules! one_key {
    ($t:ty, $table:literal, [$($idx:literal),*], |$r:ident| [$($val:expr),*]) => {
        impl SqlRecord for $t {
            const TABLE: &'static str = $table;
            const KEY_COLS: &'static [&'static str] = &["id"];
            const INDEX_COLS: &'static [&'static str] = &[$($idx),*];
            fn column_values(&self) -> Vec<Option<&[u8]>> {
                let $r = self;
                vec![Some($r.id.as_bytes()) $(, $val)*]
            }
            fn with_discovered_at(mut self, t: Timestamp) -> Self {
                self.discovered_at = t;
                self
            }
        }
    };
}

one_key!(ResourceType, "resource_types", [], |r| []);
one_key!(Asset, "assets", [], |r| []);
one_key!(
    Entitlement,
    "entitlements",
    ["resource_type", "resource"],
    |r| [
        Some(r.resource.resource_type.as_bytes()),
        Some(r.resource.resource.as_bytes())
    ]
);
one_key!(
    Grant,
    "grants",
    [
        "entitlement_id",
        "ent_resource_type",
        "ent_resource",
        "principal_type",
        "principal_id"
    ],
    |r| [
        Some(r.entitlement.id.as_bytes()),
        Some(r.entitlement.resource.resource_type.as_bytes()),
        Some(r.entitlement.resource.resource.as_bytes()),
        Some(r.principal.resource_type.as_bytes()),
        Some(r.principal.resource.as_bytes())
    ]
);

impl SqlRecord for Resource {
    const TABLE: &'static str = "resources";
    const KEY_COLS: &'static [&'static str] = &["resource_type", "resource"];
    const INDEX_COLS: &'static [&'static str] = &["parent_type", "parent_id"];
    fn column_values(&self) -> Vec<Option<&[u8]>> {
        vec![
            Some(self.id.resource_type.as_bytes()),
            Some(self.id.resource.as_bytes()),
            self.parent.as_ref().map(|p| p.resource_type.as_bytes()),
            self.parent.as_ref().map(|p| p.resource.as_bytes()),
        ]
    }
    fn with_discovered_at(mut self, t: Timestamp) -> Self {
        self.discovered_at = t;
        self
    }
}

fn canonical_nan(m: &mut Metadata) {
    match m {
        Metadata::F64(f) if f.is_nan() => *f = f64::NAN,
        Metadata::List(v) => v.iter_mut().for_each(canonical_nan),
        Metadata::Map(v) => v.values_mut().for_each(canonical_nan),
        _ => {}
    }
}

/// The `data` column: the envelope of the record with `discovered_at` zeroed and NaNs
/// canonical, so equal `data` means equal content (SPEC §5 diff).
pub(crate) fn content_blob<T: SqlRecord>(r: &T) -> Result<Vec<u8>> {
    let mut rec = r.clone().with_discovered_at(Timestamp(0)).into_record();
    match &mut rec {
        Record::ResourceType(x) => canonical_nan(&mut x.annotations),
        Record::Resource(x) => canonical_nan(&mut x.annotations),
        Record::Entitlement(x) => canonical_nan(&mut x.annotations),
        Record::Grant(x) => canonical_nan(&mut x.annotations),
        Record::Asset(x) => canonical_nan(&mut x.annotations),
    }
    envelope::encode_record(&rec)
        .map_err(|e| Error::invalid_argument(format!("record {:?}: {e}", r.key())))
}

/// A record back from its row.
pub(crate) fn from_row<T: SqlRecord>(discovered_at: i64, data: &[u8]) -> Result<T> {
    let rec =
        envelope::decode_record(data).map_err(|e| e.corruption(format!("{} row", T::TABLE)))?;
    let kind = rec.kind();
    T::from_record(rec)
        .map(|r| r.with_discovered_at(Timestamp(discovered_at)))
        .ok_or_else(|| {
            Error::corruption(format!("{} row holds a {} record", T::TABLE, kind.name()))
        })
}
