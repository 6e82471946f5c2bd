//! SPEC §1: records, ids and annotations.

use crate::contract::*;
use crate::*;
use crate::{ensure, ensure_eq};

pub fn ids_length_limits(cx: &mut Cx) -> CheckResult {
    let e = cx.e();
    e.start_sync()?;
    let long = "x".repeat(MAX_ID_LEN + 1);
    let wide = "€".repeat(342); // 1026 bytes in 342 chars
    let max = "x".repeat(MAX_ID_LEN);
    for bad in ["", long.as_str(), wide.as_str()] {
        let what = format!("id of {} bytes", bad.len());
        expect_err(
            e.put(&RecordBatch::ResourceTypes(vec![rt(bad)]), PutMode::Replace),
            ErrorKind::InvalidArgument,
            &what,
        )?;
        expect_err(
            e.put(
                &RecordBatch::Resources(vec![res("user", bad)]),
                PutMode::Replace,
            ),
            ErrorKind::InvalidArgument,
            &what,
        )?;
        expect_err(
            e.put(
                &RecordBatch::Resources(vec![child("user", "u", bad, "p")]),
                PutMode::Replace,
            ),
            ErrorKind::InvalidArgument,
            &what,
        )?;
        expect_err(
            e.put(
                &RecordBatch::Entitlements(vec![ent("e", bad, "r")]),
                PutMode::IfNewer,
            ),
            ErrorKind::InvalidArgument,
            &what,
        )?;
        expect_err(
            e.put(
                &RecordBatch::Grants(vec![grant("g", "e", "t", "r", "user", bad)]),
                PutMode::Replace,
            ),
            ErrorKind::InvalidArgument,
            &what,
        )?;
        expect_err(
            e.put(
                &RecordBatch::Grants(vec![grant("g", bad, "t", "r", "user", "u")]),
                PutMode::Replace,
            ),
            ErrorKind::InvalidArgument,
            &what,
        )?;
        expect_err(
            e.put_asset(&asset(bad, b"x")),
            ErrorKind::InvalidArgument,
            &what,
        )?;
        expect_err(
            e.get(None, &RecordKey::Grant(bad.into())),
            ErrorKind::InvalidArgument,
            &what,
        )?;
        expect_err(e.delete_grant(bad), ErrorKind::InvalidArgument, &what)?;
        expect_err(
            e.list(
                None,
                &ListQuery::Grants(GrantFilter::Principal(ResourceId::new(bad, "u"))),
                &PageRequest::default(),
            ),
            ErrorKind::InvalidArgument,
            &what,
        )?;
        expect_err(
            e.list(
                None,
                &ListQuery::Resources(ResourceFilter {
                    resource_type: Some(bad.into()),
                    parent: None,
                }),
                &PageRequest::default(),
            ),
            ErrorKind::InvalidArgument,
            &what,
        )?;
        expect_err(
            e.get(Some(&SyncId::new(bad)), &RecordKey::Grant("g".into())),
            ErrorKind::InvalidArgument,
            &what,
        )?;
    }
    e.put(
        &RecordBatch::ResourceTypes(vec![rt(&max)]),
        PutMode::Replace,
    )?;
    e.put(
        &RecordBatch::Resources(vec![res(&max, &max)]),
        PutMode::Replace,
    )?;
    // The longest keys there are: 1024-byte ids of `\0` (escaped to two bytes each) in every
    // part of the widest index keys.
    let nul = "\0".repeat(MAX_ID_LEN);
    let worst = grant(&nul, &nul, &nul, &nul, &nul, &nul);
    e.put(&RecordBatch::Grants(vec![worst]), PutMode::Replace)?;
    e.put(
        &RecordBatch::Resources(vec![child(&nul, &nul, &nul, &nul)]),
        PutMode::Replace,
    )?;
    e.put(
        &RecordBatch::Entitlements(vec![ent(&nul, &nul, &nul)]),
        PutMode::Replace,
    )?;
    let rid = ResourceId::new(&nul, &nul);
    let by_ent = ListQuery::Grants(GrantFilter::Entitlement {
        id: nul.clone(),
        principal: Some(rid.clone()),
    });
    ensure_eq!(
        keys(&list_all(e, None, &by_ent, 1)?),
        vec![RecordKey::Grant(nul.clone())],
        "grant with the longest index keys"
    );
    let by_parent = ListQuery::Resources(ResourceFilter {
        resource_type: Some(nul.clone()),
        parent: Some(rid.clone()),
    });
    ensure_eq!(
        keys(&list_all(e, None, &by_parent, 1)?),
        vec![RecordKey::Resource(rid)],
        "resource with the longest index key"
    );
    ensure!(
        e.delete_grant(&nul)?,
        "delete of the grant with the longest keys"
    );
    ensure!(
        e.get(None, &RecordKey::ResourceType(max.clone()))?
            .is_some(),
        "a 1024-byte id was not stored"
    );
    ensure!(
        e.get(None, &RecordKey::Resource(ResourceId::new(&max, &max)))?
            .is_some(),
        "a 1024-byte resource id was not stored"
    );
    Ok(())
}

pub fn ids_any_characters(cx: &mut Cx) -> CheckResult {
    let e = cx.e();
    e.start_sync()?;
    let ids = [
        "\0", ":", "|", "é", "a\0b", "a", "a\0", "😀", "\u{1}", "a|b", "a:b",
    ];
    e.put(
        &RecordBatch::Grants(ids.iter().map(|i| g(i)).collect()),
        PutMode::Replace,
    )?;
    for id in ids {
        ensure_eq!(
            e.get(None, &RecordKey::Grant(id.into()))?,
            Some(Record::Grant(g(id))),
            "get grant {id:?}"
        );
    }
    let mut sorted: Vec<&str> = ids.to_vec();
    sorted.sort();
    ensure_eq!(
        keys(&list_all(e, None, &ListQuery::Grants(GrantFilter::All), 4)?),
        grant_keys(&sorted),
        "all ids, in byte order"
    );
    Ok(())
}

pub fn resource_key_is_a_tuple(cx: &mut Cx) -> CheckResult {
    let e = cx.e();
    e.start_sync()?;
    let mut a = res("a:b", "c");
    a.display_name = "first".into();
    let mut b = res("a", "b:c");
    b.display_name = "second".into();
    let mut c = res("a:b:c", "");
    c.id.resource = "x".into();
    e.put(
        &RecordBatch::Resources(vec![a.clone(), b.clone(), c.clone()]),
        PutMode::Replace,
    )?;
    ensure_eq!(
        e.get(None, &RecordKey::Resource(a.id.clone()))?,
        Some(Record::Resource(a)),
        "resource (a:b, c)"
    );
    ensure_eq!(
        e.get(None, &RecordKey::Resource(b.id.clone()))?,
        Some(Record::Resource(b)),
        "resource (a, b:c)"
    );
    ensure_eq!(e.stats(None)?.resources, 3, "three distinct resources");
    Ok(())
}

/// A tree with every node kind and the float values that lose bits when mishandled.
pub fn nasty_annotations() -> Metadata {
    Metadata::map([
        ("nan", Metadata::F64(f64::NAN)),
        ("neg_zero", Metadata::F64(-0.0)),
        ("subnormal", Metadata::F64(f64::from_bits(1))),
        ("inf", Metadata::F64(f64::NEG_INFINITY)),
        ("min", Metadata::I64(i64::MIN)),
        ("bytes", Metadata::Bytes(vec![0, 0xff, 0, 1])),
        ("empty_bytes", Metadata::Bytes(vec![])),
        ("str", Metadata::String("a\0é😀".into())),
        ("", Metadata::Null),
        (
            "nested",
            Metadata::List(vec![
                Metadata::List(vec![]),
                Metadata::Map(Default::default()),
                Metadata::Bool(false),
            ]),
        ),
    ])
}

fn bit_exact(a: &Metadata, b: &Metadata) -> bool {
    match (a, b) {
        (Metadata::F64(x), Metadata::F64(y)) => {
            (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits()
        }
        (Metadata::List(x), Metadata::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| bit_exact(a, b))
        }
        (Metadata::Map(x), Metadata::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, a), (kb, b))| ka == kb && bit_exact(a, b))
        }
        _ => a == b,
    }
}

pub fn annotations_bit_exact(cx: &mut Cx) -> CheckResult {
    let ann = nasty_annotations();
    let mut gr = g("g");
    gr.annotations = ann.clone();
    let mut a = asset("a", b"data");
    a.annotations = ann.clone();
    let mut t = rt("t");
    t.annotations = ann.clone();
    let id = cx.full_sync(&[
        RecordBatch::Grants(vec![gr]),
        RecordBatch::Assets(vec![a]),
        RecordBatch::ResourceTypes(vec![t]),
    ])?;
    for round in ["before reopen", "after reopen"] {
        let e = cx.e();
        for key in [
            RecordKey::Grant("g".into()),
            RecordKey::Asset("a".into()),
            RecordKey::ResourceType("t".into()),
        ] {
            let got = match e.get(Some(&id), &key)? {
                Some(Record::Grant(r)) => r.annotations,
                Some(Record::Asset(r)) => r.annotations,
                Some(Record::ResourceType(r)) => r.annotations,
                other => return Err(Failure(format!("{round}: {key:?} read back as {other:?}"))),
            };
            ensure!(
                bit_exact(&got, &ann),
                "{round}: annotations of {key:?} changed:\n  got {got:?}\n  put {ann:?}"
            );
        }
        cx.reopen()?;
    }
    Ok(())
}

pub fn descriptive_fields_round_trip(cx: &mut Cx) -> CheckResult {
    let t = ResourceType {
        id: "user".into(),
        display_name: "User ✓".into(),
        description: "people\nwith lines".into(),
        traits: vec!["TRAIT_USER".into(), String::new()],
        annotations: Metadata::I64(1),
        discovered_at: at(-5),
    };
    let r = Resource {
        id: ResourceId::new("user", "alice"),
        parent: Some(ResourceId::new("org", "acme")),
        display_name: "Alice".into(),
        description: "d".into(),
        annotations: Metadata::String("x".into()),
        discovered_at: at(7),
    };
    let en = Entitlement {
        id: "member".into(),
        resource: ResourceId::new("group", "eng"),
        display_name: "Member".into(),
        description: "desc".into(),
        purpose: "assignment".into(),
        slug: "member".into(),
        grantable_to: vec!["user".into(), "group".into()],
        annotations: Metadata::Bool(true),
        discovered_at: Timestamp(i64::MIN),
    };
    let gr = Grant {
        sources: vec!["group:eng".into(), "x".into()],
        discovered_at: Timestamp(i64::MAX),
        ..g("g1")
    };
    let a = Asset {
        id: "icon".into(),
        content_type: "image/png; q=1".into(),
        data: (0..=255).collect(),
        annotations: Metadata::Null,
        discovered_at: at(3),
    };
    let records = vec![
        Record::ResourceType(t.clone()),
        Record::Resource(r.clone()),
        Record::Entitlement(en.clone()),
        Record::Grant(gr.clone()),
        Record::Asset(a.clone()),
    ];
    let id = cx.full_sync(&[
        RecordBatch::ResourceTypes(vec![t]),
        RecordBatch::Resources(vec![r]),
        RecordBatch::Entitlements(vec![en]),
        RecordBatch::Grants(vec![gr]),
        RecordBatch::Assets(vec![a]),
    ])?;
    for rec in &records {
        let got = cx.e().get(Some(&id), &rec.key())?;
        ensure_eq!(got.as_ref(), Some(rec), "get {:?}", rec.key());
    }
    for (q, want) in [
        (ListQuery::ResourceTypes, &records[0]),
        (ListQuery::Resources(Default::default()), &records[1]),
        (ListQuery::Entitlements(Default::default()), &records[2]),
        (ListQuery::Grants(GrantFilter::All), &records[3]),
    ] {
        ensure_eq!(
            list_all(cx.e(), Some(&id), &q, 0)?,
            vec![want.clone()],
            "list {q:?}"
        );
    }
    Ok(())
}
