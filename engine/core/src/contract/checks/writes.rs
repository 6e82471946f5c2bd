//! SPEC §3: replace and if-newer writes, batch atomicity, deletes, assets.

use crate::contract::*;
use crate::*;
use crate::{ensure, ensure_eq};

fn grants_where(cx: &Cx, f: GrantFilter) -> Result<Vec<RecordKey>, Failure> {
    Ok(keys(&list_all(cx.e(), None, &ListQuery::Grants(f), 0)?))
}

fn rid(t: &str, r: &str) -> ResourceId {
    ResourceId::new(t, r)
}

pub fn put_replaces_everything(cx: &mut Cx) -> CheckResult {
    cx.e().start_sync()?;
    let first = Grant {
        annotations: Metadata::I64(1),
        sources: vec!["s".into()],
        ..grant("g", "e1", "group", "a", "user", "u1")
    }
    .discovered(at(10));
    let second = grant("g", "e2", "team", "b", "user", "u2").discovered(at(5));
    cx.e()
        .put(&RecordBatch::Grants(vec![first]), PutMode::Replace)?;
    cx.e()
        .put(&RecordBatch::Grants(vec![second.clone()]), PutMode::Replace)?;
    ensure_eq!(
        cx.e().get(None, &RecordKey::Grant("g".into()))?,
        Some(Record::Grant(second)),
        "replace keeps nothing of the old record, discovered_at included"
    );
    let none: Vec<RecordKey> = vec![];
    let just_g = grant_keys(&["g"]);
    ensure_eq!(
        grants_where(cx, GrantFilter::Principal(rid("user", "u1")))?,
        none,
        "old principal index entry"
    );
    ensure_eq!(
        grants_where(cx, GrantFilter::Principal(rid("user", "u2")))?,
        just_g,
        "new principal index entry"
    );
    ensure_eq!(
        grants_where(
            cx,
            GrantFilter::Entitlement {
                id: "e1".into(),
                principal: None
            }
        )?,
        none,
        "old entitlement index entry"
    );
    ensure_eq!(
        grants_where(
            cx,
            GrantFilter::Entitlement {
                id: "e1".into(),
                principal: Some(rid("user", "u1"))
            }
        )?,
        none,
        "old entitlement+principal index entry"
    );
    ensure_eq!(
        grants_where(
            cx,
            GrantFilter::Entitlement {
                id: "e2".into(),
                principal: Some(rid("user", "u2"))
            }
        )?,
        just_g,
        "new entitlement+principal index entry"
    );
    ensure_eq!(
        grants_where(cx, GrantFilter::Resource(rid("group", "a")))?,
        none,
        "old resource index entry"
    );
    ensure_eq!(
        grants_where(cx, GrantFilter::Resource(rid("team", "b")))?,
        just_g,
        "new resource index entry"
    );
    ensure_eq!(
        grants_where(cx, GrantFilter::ResourceType("group".into()))?,
        none,
        "old resource type index entry"
    );
    ensure_eq!(
        grants_where(cx, GrantFilter::ResourceType("team".into()))?,
        just_g,
        "new resource type index entry"
    );
    // Resources: parent index; entitlements: resource index.
    cx.e().put(
        &RecordBatch::Resources(vec![child("user", "x", "org", "p1")]),
        PutMode::Replace,
    )?;
    cx.e().put(
        &RecordBatch::Resources(vec![child("user", "x", "org", "p2")]),
        PutMode::Replace,
    )?;
    let by_parent = |p: &str| -> Result<usize, Failure> {
        Ok(list_all(
            cx.e(),
            None,
            &ListQuery::Resources(ResourceFilter {
                resource_type: None,
                parent: Some(rid("org", p)),
            }),
            0,
        )?
        .len())
    };
    ensure_eq!(
        (by_parent("p1")?, by_parent("p2")?),
        (0, 1),
        "resource parent index after replace"
    );
    cx.e().put(
        &RecordBatch::Resources(vec![res("user", "x")]),
        PutMode::Replace,
    )?;
    ensure_eq!(
        by_parent("p2")?,
        0,
        "parent index after replacing with no parent"
    );
    cx.e().put(
        &RecordBatch::Entitlements(vec![ent("e", "group", "a")]),
        PutMode::Replace,
    )?;
    cx.e().put(
        &RecordBatch::Entitlements(vec![ent("e", "group", "b")]),
        PutMode::Replace,
    )?;
    let by_res = |r: &str| -> Result<usize, Failure> {
        Ok(list_all(
            cx.e(),
            None,
            &ListQuery::Entitlements(EntitlementFilter {
                resource: Some(rid("group", r)),
            }),
            0,
        )?
        .len())
    };
    ensure_eq!(
        (by_res("a")?, by_res("b")?),
        (0, 1),
        "entitlement resource index after replace"
    );
    Ok(())
}

pub fn if_newer_rules(cx: &mut Cx) -> CheckResult {
    cx.e().start_sync()?;
    let v = |src: &str, t: i64| {
        Grant {
            sources: vec![src.into()],
            ..g("g")
        }
        .discovered(at(t))
    };
    let read = |cx: &Cx| -> Result<Option<Grant>, Failure> {
        Ok(match cx.e().get(None, &RecordKey::Grant("g".into()))? {
            Some(Record::Grant(g)) => Some(g),
            _ => None,
        })
    };
    let put = |cx: &Cx, g: Grant| cx.e().put(&RecordBatch::Grants(vec![g]), PutMode::IfNewer);
    put(cx, v("first", 10))?;
    ensure_eq!(read(cx)?, Some(v("first", 10)), "absent: written");
    put(cx, v("equal", 10))?;
    ensure_eq!(
        read(cx)?,
        Some(v("first", 10)),
        "equal discovered_at: not written"
    );
    put(cx, v("older", 9))?;
    ensure_eq!(read(cx)?, Some(v("first", 10)), "older: not written");
    put(cx, v("newer", 11))?;
    ensure_eq!(read(cx)?, Some(v("newer", 11)), "strictly newer: written");
    // Index entries follow the if-newer decision.
    put(
        cx,
        Grant {
            principal: ResourceId::new("user", "bob"),
            ..v("equal-bob", 11)
        },
    )?;
    ensure_eq!(
        grants_where(cx, GrantFilter::Principal(ResourceId::new("user", "bob")))?,
        Vec::<RecordKey>::new(),
        "a refused if-newer write must not touch indexes"
    );
    // Other kinds, including negative times.
    cx.e().put(
        &RecordBatch::Resources(vec![res("t", "r").discovered(Timestamp(-5))]),
        PutMode::IfNewer,
    )?;
    let mut same_time = res("t", "r").discovered(Timestamp(-5));
    same_time.display_name = "changed".into();
    cx.e()
        .put(&RecordBatch::Resources(vec![same_time]), PutMode::IfNewer)?;
    ensure_eq!(
        cx.e()
            .get(None, &RecordKey::Resource(ResourceId::new("t", "r")))?,
        Some(Record::Resource(res("t", "r").discovered(Timestamp(-5)))),
        "resource if-newer tie"
    );
    cx.e().put(
        &RecordBatch::Assets(vec![asset("a", b"1").discovered(at(1))]),
        PutMode::IfNewer,
    )?;
    cx.e().put(
        &RecordBatch::Assets(vec![asset("a", b"2").discovered(at(2))]),
        PutMode::IfNewer,
    )?;
    cx.e().put(
        &RecordBatch::Assets(vec![asset("a", b"3").discovered(at(2))]),
        PutMode::IfNewer,
    )?;
    ensure_eq!(
        cx.e().get(None, &RecordKey::Asset("a".into()))?,
        Some(Record::Asset(asset("a", b"2").discovered(at(2)))),
        "asset if-newer"
    );
    Ok(())
}

pub fn batch_is_atomic(cx: &mut Cx) -> CheckResult {
    cx.e().start_sync()?;
    for mode in [PutMode::Replace, PutMode::IfNewer] {
        expect_err(
            cx.e()
                .put(&RecordBatch::Grants(vec![g("g1"), g(""), g("g2")]), mode),
            ErrorKind::InvalidArgument,
            "batch with an empty id",
        )?;
        let bad_asset = Asset {
            content_type: String::new(),
            ..asset("a2", b"")
        };
        expect_err(
            cx.e().put(
                &RecordBatch::Assets(vec![asset("a1", b"x"), bad_asset]),
                mode,
            ),
            ErrorKind::InvalidArgument,
            "batch with a bad asset",
        )?;
        expect_err(
            cx.e().put(
                &RecordBatch::Resources(vec![res("t", "r1"), child("t", "r2", "t", "")]),
                mode,
            ),
            ErrorKind::InvalidArgument,
            "batch with a bad parent",
        )?;
    }
    ensure_eq!(
        cx.e().stats(None)?,
        Stats::default(),
        "a failed batch wrote something"
    );
    Ok(())
}

pub fn batch_later_record_wins(cx: &mut Cx) -> CheckResult {
    cx.e().start_sync()?;
    let v = |id: &str, src: &str, t: i64| {
        Grant {
            sources: vec![src.into()],
            ..g(id)
        }
        .discovered(at(t))
    };
    cx.e().put(
        &RecordBatch::Grants(vec![v("r", "first", 5), v("r", "second", 1)]),
        PutMode::Replace,
    )?;
    cx.e().put(
        &RecordBatch::Grants(vec![v("tie", "first", 5), v("tie", "second", 5)]),
        PutMode::IfNewer,
    )?;
    cx.e().put(
        &RecordBatch::Grants(vec![
            v("up", "first", 5),
            v("up", "second", 6),
            v("up", "third", 6),
        ]),
        PutMode::IfNewer,
    )?;
    let get = |id: &str| cx.e().get(None, &RecordKey::Grant(id.into()));
    ensure_eq!(
        get("r")?,
        Some(Record::Grant(v("r", "second", 1))),
        "replace: the later record wins"
    );
    ensure_eq!(
        get("tie")?,
        Some(Record::Grant(v("tie", "first", 5))),
        "if-newer: a later equal record loses to the earlier one"
    );
    ensure_eq!(
        get("up")?,
        Some(Record::Grant(v("up", "second", 6))),
        "if-newer: compares against the state the earlier records left"
    );
    Ok(())
}

pub fn no_referential_integrity(cx: &mut Cx) -> CheckResult {
    cx.e().start_sync()?;
    cx.e().put(
        &RecordBatch::Grants(vec![grant("g", "no-such-ent", "ghost", "r", "ghost", "p")]),
        PutMode::Replace,
    )?;
    cx.e().put(
        &RecordBatch::Resources(vec![child("user", "orphan", "org", "gone")]),
        PutMode::Replace,
    )?;
    cx.e().put(
        &RecordBatch::Entitlements(vec![ent("e", "nothing", "here")]),
        PutMode::Replace,
    )?;
    ensure_eq!(
        grants_where(cx, GrantFilter::Principal(ResourceId::new("ghost", "p")))?,
        grant_keys(&["g"]),
        "dangling grant is indexed"
    );
    let kids = list_all(
        cx.e(),
        None,
        &ListQuery::Resources(ResourceFilter {
            resource_type: None,
            parent: Some(ResourceId::new("org", "gone")),
        }),
        0,
    )?;
    ensure_eq!(kids.len(), 1, "resource with a missing parent is indexed");
    ensure_eq!(
        cx.e().stats(None)?.entitlements,
        1,
        "entitlement on a missing resource is stored"
    );
    Ok(())
}

pub fn delete_grant_rules(cx: &mut Cx) -> CheckResult {
    let f = cx.full_sync(&[RecordBatch::Grants(vec![g("g"), g("h")])])?;
    cx.e().start_sync()?;
    cx.e()
        .put(&RecordBatch::Grants(vec![g("g"), g("h")]), PutMode::Replace)?;
    ensure!(
        cx.e().delete_grant("g")?,
        "deleting an existing grant returns true"
    );
    ensure!(
        !cx.e().delete_grant("g")?,
        "deleting it again returns false"
    );
    ensure!(
        !cx.e().delete_grant("never")?,
        "deleting a missing grant returns false"
    );
    ensure!(
        cx.e().get(None, &RecordKey::Grant("g".into()))?.is_none(),
        "deleted grant is gone"
    );
    let h = grant_keys(&["h"]);
    ensure_eq!(
        grants_where(cx, GrantFilter::Principal(ResourceId::new("user", "alice")))?,
        h,
        "principal index after delete"
    );
    ensure_eq!(
        grants_where(
            cx,
            GrantFilter::Entitlement {
                id: "member".into(),
                principal: None
            }
        )?,
        h,
        "entitlement index after delete"
    );
    ensure_eq!(
        grants_where(
            cx,
            GrantFilter::Entitlement {
                id: "member".into(),
                principal: Some(ResourceId::new("user", "alice"))
            }
        )?,
        h,
        "entitlement+principal index after delete"
    );
    ensure_eq!(
        grants_where(cx, GrantFilter::Resource(ResourceId::new("group", "eng")))?,
        h,
        "resource index after delete"
    );
    ensure_eq!(
        grants_where(cx, GrantFilter::ResourceType("group".into()))?,
        h,
        "resource type index after delete"
    );
    ensure!(
        cx.e()
            .get(Some(&f), &RecordKey::Grant("g".into()))?
            .is_some(),
        "delete touched another sync"
    );
    // Nothing of the deleted grant is left at rest (an engine without an integrity check
    // refuses `verify` with FailedPrecondition, and is not held to this).
    match cx.e().verify() {
        Ok(r) => ensure!(
            r.problems.is_empty(),
            "verify after delete: {}",
            r.problems.join("; ")
        ),
        Err(e) if e.kind == ErrorKind::FailedPrecondition => {}
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

pub fn put_asset_rules(cx: &mut Cx) -> CheckResult {
    let config = EngineConfig {
        max_asset_bytes: 16,
        ..cx.config()
    };
    cx.reopen_fresh_with(config)?;
    cx.e().start_sync()?;
    expect_err(
        cx.e().put_asset(&Asset {
            content_type: String::new(),
            ..asset("a", b"x")
        }),
        ErrorKind::InvalidArgument,
        "empty content type",
    )?;
    expect_err(
        cx.e().put_asset(&asset("a", &[7; 17])),
        ErrorKind::InvalidArgument,
        "one byte over the limit",
    )?;
    cx.e().put_asset(&asset("full", &[7; 16]))?;
    cx.e().put_asset(&asset("empty", b""))?;
    ensure_eq!(
        cx.e().get(None, &RecordKey::Asset("full".into()))?,
        Some(Record::Asset(asset("full", &[7; 16]))),
        "asset at the limit"
    );
    ensure_eq!(
        cx.e().get(None, &RecordKey::Asset("empty".into()))?,
        Some(Record::Asset(asset("empty", b""))),
        "empty asset is stored empty"
    );
    ensure_eq!(cx.e().stats(None)?.assets, 2, "asset count");
    Ok(())
}
