//! Reads: point gets, keyset-paged lists in SPEC §4 order over the index each filter names,
//! sync-run lists and stats.

use rusqlite::types::ToSql;
use rusqlite::Connection;
use syncproof_engine::codec::token::{decode_token, encode_token};
use syncproof_engine::*;

use crate::runs::{run_from_row, run_row, RunRow};
use crate::tables::{from_row, SqlRecord};
use crate::{err, text, SqliteEngine};

/// The filter of a list as `(column, value)` equalities.
pub(crate) fn rid_cols<'a>(
    t: &'static str,
    r: &'static str,
    id: &'a ResourceId,
) -> Vec<(&'static str, &'a [u8])> {
    vec![
        (t, id.resource_type.as_bytes()),
        (r, id.resource.as_bytes()),
    ]
}

pub(crate) fn filter_cols(query: &ListQuery) -> Vec<(&'static str, &[u8])> {
    let rid = rid_cols;
    match query {
        ListQuery::ResourceTypes => vec![],
        ListQuery::Resources(f) => {
            let mut v = Vec::new();
            if let Some(t) = &f.resource_type {
                v.push(("resource_type", t.as_bytes()));
            }
            if let Some(p) = &f.parent {
                v.extend(rid("parent_type", "parent_id", p));
            }
            v
        }
        ListQuery::Entitlements(f) => f
            .resource
            .as_ref()
            .map(|r| rid("resource_type", "resource", r))
            .unwrap_or_default(),
        ListQuery::Grants(f) => match f {
            GrantFilter::All => vec![],
            GrantFilter::Resource(r) => rid("ent_resource_type", "ent_resource", r),
            GrantFilter::Entitlement { id, principal } => {
                let mut v = vec![("entitlement_id", id.as_bytes())];
                if let Some(p) = principal {
                    v.extend(rid("principal_type", "principal_id", p));
                }
                v
            }
            GrantFilter::Principal(p) => rid("principal_type", "principal_id", p),
            GrantFilter::ResourceType(t) => vec![("ent_resource_type", t.as_bytes())],
        },
    }
}

/// The index (from `schema::SCHEMA`) that serves a filtered list, named in the query with
/// `INDEXED BY`. Without statistics SQLite's planner prefers the primary key for
/// `ORDER BY id LIMIT n`, which scans the whole sync for a first page (found by the
/// `list_by_principal` benchmark: 14 ms per principal at 100k grants). `None`: the primary
/// key serves the list.
pub(crate) fn filter_index(query: &ListQuery) -> Option<&'static str> {
    match query {
        ListQuery::ResourceTypes => None,
        ListQuery::Resources(f) => f.parent.as_ref().map(|_| "resources_by_parent"),
        ListQuery::Entitlements(f) => f.resource.as_ref().map(|_| "entitlements_by_resource"),
        ListQuery::Grants(f) => match f {
            GrantFilter::All => None,
            GrantFilter::Resource(_) => Some("grants_by_resource"),
            GrantFilter::Entitlement {
                principal: None, ..
            } => Some("grants_by_entitlement"),
            GrantFilter::Entitlement {
                principal: Some(_), ..
            } => Some("grants_by_entitlement_principal"),
            GrantFilter::Principal(_) => Some("grants_by_principal"),
            GrantFilter::ResourceType(_) => Some("grants_by_resource_type"),
        },
    }
}

/// Length-prefixed key parts, the `last_key` of this engine's tokens.
pub(crate) fn pack(parts: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(&(p.len() as u32).to_be_bytes());
        out.extend_from_slice(p);
    }
    out
}

pub(crate) fn unpack(mut bytes: &[u8], n: usize) -> Result<Vec<Vec<u8>>> {
    let bad = || Error::invalid_page_token("page token: key does not fit this list");
    let mut out = Vec::with_capacity(n);
    while !bytes.is_empty() {
        let (len, rest) = bytes.split_first_chunk::<4>().ok_or_else(bad)?;
        let len = u32::from_be_bytes(*len) as usize;
        let part = rest.get(..len).ok_or_else(bad)?;
        out.push(part.to_vec());
        bytes = rest.get(len..).unwrap_or_default();
    }
    if out.len() != n {
        return Err(bad());
    }
    Ok(out)
}

/// The query of [`select_rows`]; its parameters are the sync, the filter values, the `after`
/// key parts (if `after`), and the limit.
pub(crate) fn select_sql<T: SqlRecord>(
    index: Option<&str>,
    filter: &[(&str, &[u8])],
    after: bool,
) -> String {
    let keys = T::KEY_COLS;
    let mut sql = format!(
        "SELECT {}, discovered_at, data FROM {}{} WHERE sync_id = ?",
        keys.join(", "),
        T::TABLE,
        index.map_or(String::new(), |i| format!(" INDEXED BY {i}"))
    );
    for (c, _) in filter {
        sql.push_str(&format!(" AND {c} = ?"));
    }
    if after {
        let marks = vec!["?"; keys.len()].join(", ");
        sql.push_str(&format!(" AND ({}) > ({marks})", keys.join(", ")));
    }
    sql.push_str(&format!(" ORDER BY {} LIMIT ?", keys.join(", ")));
    sql
}

/// Rows of `T` in `sync` matching `filter` (through `index`, if named), after key `after`, in
/// key order, at most `limit`.
pub(crate) fn select_rows<T: SqlRecord>(
    conn: &Connection,
    sync: &str,
    index: Option<&str>,
    filter: &[(&str, &[u8])],
    after: Option<&[Vec<u8>]>,
    limit: usize,
) -> Result<Vec<(Vec<Vec<u8>>, T)>> {
    let keys = T::KEY_COLS;
    let sql = select_sql::<T>(index, filter, after.is_some());
    let mut stmt = conn.prepare_cached(&sql).map_err(err)?;
    let sync = sync.as_bytes();
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut p: Vec<&dyn ToSql> = vec![&sync];
    for (_, v) in filter {
        p.push(v);
    }
    if let Some(a) = after {
        for v in a {
            p.push(v);
        }
    }
    p.push(&limit);
    let mut rows = stmt.query(p.as_slice()).map_err(err)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(err)? {
        let key: Vec<Vec<u8>> = (0..keys.len())
            .map(|i| row.get::<_, Vec<u8>>(i))
            .collect::<rusqlite::Result<_>>()
            .map_err(err)?;
        let t: i64 = row.get(keys.len()).map_err(err)?;
        let data = row
            .get_ref(keys.len() + 1)
            .map_err(err)?
            .as_blob()
            .map_err(|e| Error::corruption(format!("sqlite: data column: {e}")))?;
        out.push((key, from_row::<T>(t, data)?));
    }
    Ok(out)
}

pub(crate) fn list_typed<T: SqlRecord>(
    conn: &Connection,
    sync: &SyncId,
    query: &ListQuery,
    page: &PageRequest,
) -> Result<Page<Record>> {
    let scope = format!("sqlite1|{sync:?}|{query:?}").into_bytes();
    let after = match &page.token {
        None => None,
        Some(t) => {
            let body = decode_token(t.as_str()).map_err(|e| e.page_token())?;
            if body.scope != scope {
                return Err(Error::invalid_page_token(
                    "page token was issued for another list, filter or sync",
                ));
            }
            Some(unpack(&body.last_key, T::KEY_COLS.len())?)
        }
    };
    let size = page.effective_size();
    let mut rows = select_rows::<T>(
        conn,
        sync.as_str(),
        filter_index(query),
        &filter_cols(query),
        after.as_deref(),
        size + 1,
    )?;
    let next_token = if rows.len() > size {
        rows.truncate(size);
        rows.last().map(|(k, _)| encode_token(&scope, &pack(k)))
    } else {
        None
    };
    Ok(Page {
        items: rows.into_iter().map(|(_, r)| r.into_record()).collect(),
        next_token,
    })
}

pub(crate) fn get_typed<T: SqlRecord>(
    conn: &Connection,
    sync: &SyncId,
    key: &[&[u8]],
) -> Result<Option<Record>> {
    let cond: Vec<String> = T::KEY_COLS.iter().map(|c| format!("{c} = ?")).collect();
    let sql = format!(
        "SELECT discovered_at, data FROM {} WHERE sync_id = ? AND {}",
        T::TABLE,
        cond.join(" AND ")
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(err)?;
    let sync = sync.as_str().as_bytes();
    let mut p: Vec<&dyn ToSql> = vec![&sync];
    for k in key {
        p.push(k);
    }
    let mut rows = stmt.query(p.as_slice()).map_err(err)?;
    match rows.next().map_err(err)? {
        None => Ok(None),
        Some(row) => {
            let t: i64 = row.get(0).map_err(err)?;
            let data = row
                .get_ref(1)
                .map_err(err)?
                .as_blob()
                .map_err(|e| Error::corruption(format!("sqlite: data column: {e}")))?;
            Ok(Some(from_row::<T>(t, data)?.into_record()))
        }
    }
}

impl SqliteEngine {
    pub(crate) fn get_record(
        &self,
        sync: Option<&SyncId>,
        key: &RecordKey,
    ) -> Result<Option<Record>> {
        key.validate()?;
        let inner = self.lock();
        let Some(sync) = Self::resolve(&inner, sync)? else {
            return Ok(None);
        };
        let c = &inner.conn;
        match key {
            RecordKey::ResourceType(id) => get_typed::<ResourceType>(c, &sync, &[id.as_bytes()]),
            RecordKey::Resource(r) => get_typed::<Resource>(
                c,
                &sync,
                &[r.resource_type.as_bytes(), r.resource.as_bytes()],
            ),
            RecordKey::Entitlement(id) => get_typed::<Entitlement>(c, &sync, &[id.as_bytes()]),
            RecordKey::Grant(id) => get_typed::<Grant>(c, &sync, &[id.as_bytes()]),
            RecordKey::Asset(id) => get_typed::<Asset>(c, &sync, &[id.as_bytes()]),
        }
    }

    pub(crate) fn list_records(
        &self,
        sync: Option<&SyncId>,
        query: &ListQuery,
        page: &PageRequest,
    ) -> Result<Page<Record>> {
        query.validate()?;
        let mut inner = self.lock();
        let Some(sync) = Self::resolve(&inner, sync)? else {
            return match page.token {
                None => Ok(Page::empty()),
                Some(_) => Err(Error::invalid_page_token(
                    "page token: no sync to read resolves now",
                )),
            };
        };
        let tx = inner.conn.transaction().map_err(err)?;
        let page = match query {
            ListQuery::ResourceTypes => list_typed::<ResourceType>(&tx, &sync, query, page),
            ListQuery::Resources(_) => list_typed::<Resource>(&tx, &sync, query, page),
            ListQuery::Entitlements(_) => list_typed::<Entitlement>(&tx, &sync, query, page),
            ListQuery::Grants(_) => list_typed::<Grant>(&tx, &sync, query, page),
        }?;
        tx.commit().map_err(err)?;
        Ok(page)
    }

    pub(crate) fn count_records(&self, sync: Option<&SyncId>) -> Result<Stats> {
        let inner = self.lock();
        let Some(sync) = Self::resolve(&inner, sync)? else {
            return Ok(Stats::default());
        };
        let s = sync.as_str().as_bytes();
        let count = |t: &str| -> Result<u64> {
            inner
                .conn
                .prepare_cached(&format!("SELECT COUNT(*) FROM {t} WHERE sync_id = ?1"))
                .map_err(err)?
                .query_row([s], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
                .map_err(err)
        };
        let mut by_type = std::collections::BTreeMap::new();
        {
            let mut stmt = inner
                .conn
                .prepare_cached("SELECT resource_type, COUNT(*) FROM resources WHERE sync_id = ?1 GROUP BY resource_type")
                .map_err(err)?;
            let mut rows = stmt.query([s]).map_err(err)?;
            while let Some(row) = rows.next().map_err(err)? {
                by_type.insert(
                    text(row.get(0).map_err(err)?, "resource type")?,
                    row.get::<_, i64>(1).map_err(err)? as u64,
                );
            }
        }
        Ok(Stats {
            resource_types: count("resource_types")?,
            resources: count("resources")?,
            resources_by_type: by_type,
            entitlements: count("entitlements")?,
            grants: count("grants")?,
            assets: count("assets")?,
        })
    }

    pub(crate) fn list_runs(&self, page: &PageRequest) -> Result<Page<SyncRun>> {
        const SCOPE: &[u8] = b"sqlite1|sync_runs";
        let after = match &page.token {
            None => None,
            Some(t) => {
                let body = decode_token(t.as_str()).map_err(|e| e.page_token())?;
                if body.scope != SCOPE {
                    return Err(Error::invalid_page_token(
                        "page token was issued for another list",
                    ));
                }
                let bad_time = || Error::invalid_page_token("page token: bad time");
                let [started, id]: [Vec<u8>; 2] = unpack(&body.last_key, 2)?
                    .try_into()
                    .map_err(|_| bad_time())?;
                let started = <[u8; 8]>::try_from(started.as_slice()).map_err(|_| bad_time())?;
                Some((i64::from_be_bytes(started), id))
            }
        };
        let size = page.effective_size();
        let limit = i64::try_from(size + 1).unwrap_or(i64::MAX);
        let inner = self.lock();
        let rows: Vec<RunRow> = {
            let (sql, p): (&str, Vec<&dyn ToSql>) = match &after {
                None => ("SELECT id, sync_type, parent, started_at, ended_at, token FROM sync_runs ORDER BY started_at, id LIMIT ?1", vec![&limit]),
                Some((t, id)) => (
                    "SELECT id, sync_type, parent, started_at, ended_at, token FROM sync_runs WHERE (started_at, id) > (?1, ?2) ORDER BY started_at, id LIMIT ?3",
                    vec![t, id, &limit],
                ),
            };
            let mut stmt = inner.conn.prepare_cached(sql).map_err(err)?;
            let rows = stmt.query_map(p.as_slice(), run_row).map_err(err)?;
            rows.collect::<rusqlite::Result<_>>().map_err(err)?
        };
        let mut items = rows
            .into_iter()
            .map(run_from_row)
            .collect::<Result<Vec<_>>>()?;
        let next_token = if items.len() > size {
            items.truncate(size);
            items.last().map(|r| {
                encode_token(
                    SCOPE,
                    &pack(&[
                        r.started_at.0.to_be_bytes().to_vec(),
                        r.id.as_str().as_bytes().to_vec(),
                    ]),
                )
            })
        } else {
            None
        };
        Ok(Page { items, next_token })
    }
}

#[cfg(test)]
mod plan_tests {
    use super::*;

    /// SQLite's plan for `T`'s list query: `expected` must serve it (`None`: the primary
    /// key), on a first page and on a resumed one, without a sort.
    fn assert_plan<T: SqlRecord>(conn: &Connection, query: &ListQuery, expected: Option<&str>) {
        let index = filter_index(query);
        let filter = filter_cols(query);
        for after in [false, true] {
            let sql = select_sql::<T>(index, &filter, after);
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let n = stmt.parameter_count();
            let params: Vec<Vec<u8>> = vec![b"x".to_vec(); n];
            let plan: Vec<String> = stmt
                .query_map(rusqlite::params_from_iter(params.iter()), |r| r.get(3))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            let plan = plan.join("; ");
            let want = match expected {
                Some(i) => format!("INDEX {i} (sync_id=?"),
                None => "PRIMARY KEY (sync_id=?".to_string(),
            };
            assert!(
                plan.contains(&want) && !plan.contains("TEMP B-TREE"),
                "{query:?} (after: {after}): {plan}"
            );
            if expected.is_some() {
                let cols = filter.len();
                assert!(
                    plan.matches(" AND ").count() >= cols,
                    "{query:?}: the index must take every filter column: {plan}"
                );
            }
        }
    }

    #[test]
    fn every_list_is_served_by_its_index_without_a_sort() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(crate::schema::SCHEMA).unwrap();
        let rid = || ResourceId::new("group", "eng");
        assert_plan::<ResourceType>(&conn, &ListQuery::ResourceTypes, None);
        let by_parent = "resources_by_parent";
        for (f, index) in [
            (ResourceFilter::default(), None),
            (
                ResourceFilter {
                    resource_type: Some("user".into()),
                    parent: None,
                },
                None,
            ),
            (
                ResourceFilter {
                    resource_type: None,
                    parent: Some(rid()),
                },
                Some(by_parent),
            ),
            (
                ResourceFilter {
                    resource_type: Some("user".into()),
                    parent: Some(rid()),
                },
                Some(by_parent),
            ),
        ] {
            assert_plan::<Resource>(&conn, &ListQuery::Resources(f), index);
        }
        for (f, index) in [
            (EntitlementFilter::default(), None),
            (
                EntitlementFilter {
                    resource: Some(rid()),
                },
                Some("entitlements_by_resource"),
            ),
        ] {
            assert_plan::<Entitlement>(&conn, &ListQuery::Entitlements(f), index);
        }
        for (f, index) in [
            (GrantFilter::All, None),
            (GrantFilter::Resource(rid()), Some("grants_by_resource")),
            (
                GrantFilter::Entitlement {
                    id: "e".into(),
                    principal: None,
                },
                Some("grants_by_entitlement"),
            ),
            (
                GrantFilter::Entitlement {
                    id: "e".into(),
                    principal: Some(rid()),
                },
                Some("grants_by_entitlement_principal"),
            ),
            (GrantFilter::Principal(rid()), Some("grants_by_principal")),
            (
                GrantFilter::ResourceType("group".into()),
                Some("grants_by_resource_type"),
            ),
        ] {
            assert_plan::<Grant>(&conn, &ListQuery::Grants(f), index);
        }
    }
}
