//! SPEC §4: point gets, list order, exact filters, paging and tokens, stats.

use crate::contract::*;
use crate::*;
use crate::{ensure, ensure_eq};

fn rid(t: &str, r: &str) -> ResourceId {
    ResourceId::new(t, r)
}

fn all_grants() -> ListQuery {
    ListQuery::Grants(GrantFilter::All)
}

pub fn point_get_absent_is_none(cx: &mut Cx) -> CheckResult {
    cx.e().start_sync()?;
    cx.put_all(&[
        RecordBatch::Grants(vec![g("g")]),
        RecordBatch::Resources(vec![res("user", "u")]),
    ])?;
    for key in [
        RecordKey::ResourceType("user".into()),
        RecordKey::Resource(rid("user", "u\0")),
        RecordKey::Resource(rid("user\0", "u")),
        RecordKey::Entitlement("member".into()),
        RecordKey::Grant("g\0".into()),
        RecordKey::Grant("G".into()),
        RecordKey::Asset("g".into()),
    ] {
        ensure_eq!(cx.e().get(None, &key)?, None, "get {key:?}");
    }
    Ok(())
}

/// Point gets find the records of a sync large enough that an engine's write buffer (an
/// LSM's memtable, a cache of dirty pages) has been flushed since the first of them was
/// written: every 97th of 2,000 grants put in batches of 100, and the last.
pub fn point_get_finds_flushed_records(cx: &mut Cx) -> CheckResult {
    const N: usize = 2_000;
    let name = |i: usize| format!("g{i:04}");
    let batches: Vec<RecordBatch> = (0..N)
        .step_by(100)
        .map(|from| RecordBatch::Grants((from..from + 100).map(|i| g(&name(i))).collect()))
        .collect();
    let id = cx.finished_sync(SyncType::Full, &batches)?;
    for i in (0..N).step_by(97).chain([N - 1]) {
        let key = RecordKey::Grant(name(i));
        let got = cx.e().get(Some(&id), &key)?.map(|r| r.key());
        ensure_eq!(got, Some(key.clone()), "get {key:?} of {N} grants");
    }
    Ok(())
}

pub fn lists_in_byte_order(cx: &mut Cx) -> CheckResult {
    let ids = [
        "user_group",
        "user\0",
        "user",
        "user\0x",
        "a",
        "é",
        "Z",
        "\u{1}",
        "user\u{7f}",
        "\u{ff}",
        "😀",
        "ab",
    ];
    let mut sorted = ids.to_vec();
    sorted.sort(); // str's Ord is byte order
    let rids = [
        rid("user", "z"),
        rid("user\0", "a"),
        rid("user_group", "a"),
        rid("user", "\0"),
        rid("use", "rz"),
        rid("user", "z\0"),
    ];
    let mut sorted_rids = rids.to_vec();
    sorted_rids.sort(); // component by component
    let s = cx.full_sync(&[
        RecordBatch::Grants(ids.iter().map(|i| g(i)).collect()),
        RecordBatch::ResourceTypes(ids.iter().map(|i| rt(i)).collect()),
        RecordBatch::Entitlements(ids.iter().map(|i| ent(i, "t", "r")).collect()),
        RecordBatch::Resources(
            rids.iter()
                .map(|r| res(&r.resource_type, &r.resource))
                .collect(),
        ),
    ])?;
    for size in [1, 3, 0] {
        let got = keys(&list_all(cx.e(), Some(&s), &all_grants(), size)?);
        ensure_eq!(got, grant_keys(&sorted), "grants, page size {size}");
        let got = keys(&list_all(
            cx.e(),
            Some(&s),
            &ListQuery::ResourceTypes,
            size,
        )?);
        ensure_eq!(
            got,
            sorted
                .iter()
                .map(|i| RecordKey::ResourceType(i.to_string()))
                .collect::<Vec<_>>(),
            "resource types, page size {size}"
        );
        let got = keys(&list_all(
            cx.e(),
            Some(&s),
            &ListQuery::Entitlements(Default::default()),
            size,
        )?);
        ensure_eq!(
            got,
            sorted
                .iter()
                .map(|i| RecordKey::Entitlement(i.to_string()))
                .collect::<Vec<_>>(),
            "entitlements, page size {size}"
        );
        let got = keys(&list_all(
            cx.e(),
            Some(&s),
            &ListQuery::Resources(Default::default()),
            size,
        )?);
        ensure_eq!(
            got,
            sorted_rids
                .iter()
                .cloned()
                .map(RecordKey::Resource)
                .collect::<Vec<_>>(),
            "resources, page size {size}"
        );
    }
    Ok(())
}

pub fn resource_filters_exact(cx: &mut Cx) -> CheckResult {
    let s = cx.full_sync(&[RecordBatch::Resources(vec![
        child("user", "1", "org", "a"),
        child("user\0", "1", "org", "a\0"),
        child("user_group", "1", "org\0", "a"),
        child("user\0x", "1", "org", "ab"),
        res("user", "2"),
        child("user", "3", "org", "a"),
        child("use", "1", "org", "a"),
        child("user", "4", "or", "ga"),
    ])])?;
    let cases: Vec<(Option<&str>, Option<ResourceId>, Vec<ResourceId>)> = vec![
        (
            Some("user"),
            None,
            vec![
                rid("user", "1"),
                rid("user", "2"),
                rid("user", "3"),
                rid("user", "4"),
            ],
        ),
        (Some("user\0"), None, vec![rid("user\0", "1")]),
        (Some("use"), None, vec![rid("use", "1")]),
        (
            None,
            Some(rid("org", "a")),
            vec![rid("use", "1"), rid("user", "1"), rid("user", "3")],
        ),
        (None, Some(rid("org", "a\0")), vec![rid("user\0", "1")]),
        (
            Some("user"),
            Some(rid("org", "a")),
            vec![rid("user", "1"), rid("user", "3")],
        ),
        (Some("user_group"), Some(rid("org", "a")), vec![]),
        (None, Some(rid("nothing", "here")), vec![]),
    ];
    for (t, p, want) in cases {
        let q = ListQuery::Resources(ResourceFilter {
            resource_type: t.map(String::from),
            parent: p,
        });
        for size in [1, 0] {
            let got = keys(&list_all(cx.e(), Some(&s), &q, size)?);
            ensure_eq!(
                got,
                want.iter()
                    .cloned()
                    .map(RecordKey::Resource)
                    .collect::<Vec<_>>(),
                "{q:?}, page size {size}"
            );
        }
    }
    Ok(())
}

pub fn entitlement_filter_exact(cx: &mut Cx) -> CheckResult {
    let s = cx.full_sync(&[RecordBatch::Entitlements(vec![
        ent("e1", "group", "a"),
        ent("e2", "group", "a\0"),
        ent("e3", "group\0", "a"),
        ent("e4", "group", "ab"),
        ent("e5", "grou", "pa"),
        ent("e6", "group", "a"),
    ])])?;
    for (r, want) in [
        (rid("group", "a"), vec!["e1", "e6"]),
        (rid("group", "a\0"), vec!["e2"]),
        (rid("grou", "p"), vec![]),
    ] {
        let q = ListQuery::Entitlements(EntitlementFilter { resource: Some(r) });
        for size in [1, 0] {
            let got = keys(&list_all(cx.e(), Some(&s), &q, size)?);
            ensure_eq!(
                got,
                want.iter()
                    .map(|i| RecordKey::Entitlement(i.to_string()))
                    .collect::<Vec<_>>(),
                "{q:?}, page size {size}"
            );
        }
    }
    Ok(())
}

pub fn grant_filters_exact(cx: &mut Cx) -> CheckResult {
    let s = cx.full_sync(&[RecordBatch::Grants(vec![
        grant("g1", "e", "group", "a", "user", "u"),
        grant("g2", "e\0", "group", "a\0", "user", "u\0"),
        grant("g3", "e_x", "group_x", "a", "user_x", "u"),
        grant("g4", "e", "group", "a", "user", "u2"),
        grant("g5", "ex", "group", "ab", "user\0", "u"),
        grant("g6", "e", "group", "a", "user", "u"),
        grant("g7", "f", "grou", "pa", "use", "ru"),
    ])])?;
    let ent = |id: &str, p: Option<ResourceId>| GrantFilter::Entitlement {
        id: id.into(),
        principal: p,
    };
    let cases: Vec<(GrantFilter, Vec<&str>)> = vec![
        (
            GrantFilter::Resource(rid("group", "a")),
            vec!["g1", "g4", "g6"],
        ),
        (GrantFilter::Resource(rid("group", "a\0")), vec!["g2"]),
        (GrantFilter::Resource(rid("grou", "pa")), vec!["g7"]),
        (ent("e", None), vec!["g1", "g4", "g6"]),
        (ent("e", Some(rid("user", "u"))), vec!["g1", "g6"]),
        (ent("e", Some(rid("user", "u\0"))), vec![]),
        (ent("e\0", None), vec!["g2"]),
        (GrantFilter::Principal(rid("user", "u")), vec!["g1", "g6"]),
        (GrantFilter::Principal(rid("user\0", "u")), vec!["g5"]),
        (GrantFilter::Principal(rid("use", "ru")), vec!["g7"]),
        (
            GrantFilter::ResourceType("group".into()),
            vec!["g1", "g2", "g4", "g5", "g6"],
        ),
        (GrantFilter::ResourceType("group_x".into()), vec!["g3"]),
        (GrantFilter::ResourceType("grou".into()), vec!["g7"]),
        (GrantFilter::ResourceType("gro".into()), vec![]),
    ];
    for (f, want) in cases {
        let q = ListQuery::Grants(f);
        for size in [1, 2, 0] {
            ensure_eq!(
                keys(&list_all(cx.e(), Some(&s), &q, size)?),
                grant_keys(&want),
                "{q:?}, page size {size}"
            );
        }
    }
    Ok(())
}

pub fn page_size_default_and_clamp(cx: &mut Cx) -> CheckResult {
    let n = MAX_PAGE_SIZE + 50;
    let ids: Vec<String> = (0..n).map(|i| format!("g{i:06}")).collect();
    cx.e().start_sync()?;
    for chunk in ids.chunks(2_000) {
        cx.e().put(
            &RecordBatch::Grants(chunk.iter().map(|i| g(i)).collect()),
            PutMode::Replace,
        )?;
    }
    let p = cx.e().list(None, &all_grants(), &PageRequest::first(0))?;
    ensure_eq!(p.items.len(), DEFAULT_PAGE_SIZE, "page size 0");
    let token = p
        .next_token
        .ok_or_else(|| Failure("page size 0 has more, but no next token".into()))?;
    // The next default-size page starts at record 101, not after it.
    let next = cx
        .e()
        .list(None, &all_grants(), &PageRequest::after(0, token))?;
    let first = next.items.first().map(|r| r.key());
    let expected = ids
        .get(DEFAULT_PAGE_SIZE)
        .map(|i| RecordKey::Grant(i.clone()));
    ensure_eq!(
        first,
        expected,
        "the second page of size 0 starts at record 101"
    );
    for size in [MAX_PAGE_SIZE + 1, usize::MAX] {
        let p = cx
            .e()
            .list(None, &all_grants(), &PageRequest::first(size))?;
        ensure_eq!(p.items.len(), MAX_PAGE_SIZE, "page size {size} is clamped");
        let token = p
            .next_token
            .ok_or_else(|| Failure("clamped page has no next token".into()))?;
        let rest = cx
            .e()
            .list(None, &all_grants(), &PageRequest::after(size, token))?;
        ensure_eq!(rest.items.len(), 50, "the rest after a clamped page");
        ensure_eq!(rest.next_token, None, "last page");
    }
    Ok(())
}

pub fn next_token_iff_more(cx: &mut Cx) -> CheckResult {
    let mut grants: Vec<Grant> = (1..=6)
        .map(|i| grant(&format!("a{i}"), "e", "t", "r", "user", "A"))
        .collect();
    grants.extend((1..=3).map(|i| grant(&format!("b{i}"), "e", "t", "r", "user", "B")));
    let s = cx.full_sync(&[RecordBatch::Grants(grants)])?;
    let q = ListQuery::Grants(GrantFilter::Principal(rid("user", "A")));
    let p1 = cx.e().list(Some(&s), &q, &PageRequest::first(3))?;
    ensure!(
        p1.items.len() == 3 && p1.next_token.is_some(),
        "first of two full pages"
    );
    let token = p1.next_token.ok_or_else(|| Failure("no token".into()))?;
    let p2 = cx.e().list(Some(&s), &q, &PageRequest::after(3, token))?;
    ensure_eq!(p2.items.len(), 3, "second page");
    ensure_eq!(
        p2.next_token,
        None,
        "no token when only non-matching records follow"
    );
    let all6 = cx
        .e()
        .list(Some(&s), &all_grants(), &PageRequest::first(6))?;
    ensure!(
        all6.next_token.is_some(),
        "token when matching records follow"
    );
    let all9 = cx
        .e()
        .list(Some(&s), &all_grants(), &PageRequest::first(9))?;
    ensure_eq!(
        (all9.items.len(), all9.next_token),
        (9, None),
        "exact fit has no token"
    );
    let none = cx
        .e()
        .list(Some(&s), &ListQuery::ResourceTypes, &PageRequest::first(1))?;
    ensure_eq!(none, Page::empty(), "empty list");
    Ok(())
}

pub fn tokens_resume_strictly_after(cx: &mut Cx) -> CheckResult {
    cx.e().start_sync()?;
    cx.e().put(
        &RecordBatch::Grants(["a", "b", "c", "d", "e"].iter().map(|i| g(i)).collect()),
        PutMode::Replace,
    )?;
    let p = cx.e().list(None, &all_grants(), &PageRequest::first(2))?;
    ensure_eq!(keys(&p.items), grant_keys(&["a", "b"]), "first page");
    let token = p.next_token.ok_or_else(|| Failure("no token".into()))?;
    cx.e().delete_grant("b")?;
    cx.e().delete_grant("c")?;
    cx.e().put(
        &RecordBatch::Grants(vec![g("bb"), g("a0"), g("b\0")]),
        PutMode::Replace,
    )?;
    let p = cx
        .e()
        .list(None, &all_grants(), &PageRequest::after(2, token.clone()))?;
    ensure_eq!(
        keys(&p.items),
        grant_keys(&["b\0", "bb"]),
        "resumed strictly after the deleted last key"
    );
    let t2 = p
        .next_token
        .ok_or_else(|| Failure("no second token".into()))?;
    let p = cx
        .e()
        .list(None, &all_grants(), &PageRequest::after(5, t2))?;
    ensure_eq!(
        (keys(&p.items), p.next_token),
        (grant_keys(&["d", "e"]), None),
        "last page"
    );
    // The same token can be used again, with another page size.
    let p = cx
        .e()
        .list(None, &all_grants(), &PageRequest::after(1, token))?;
    ensure_eq!(keys(&p.items), grant_keys(&["b\0"]), "token reuse");
    Ok(())
}

pub fn bad_tokens_rejected(cx: &mut Cx) -> CheckResult {
    let grants = vec![
        grant("g1", "e", "t", "r", "user", "A"),
        grant("g2", "e", "t", "r", "user", "A"),
        grant("g3", "e", "t", "r", "user", "B"),
        grant("g4", "e", "t", "r", "user", "B"),
    ];
    let batches = [
        RecordBatch::Grants(grants),
        RecordBatch::ResourceTypes(vec![rt("x"), rt("y")]),
        RecordBatch::Resources(vec![res("x", "1"), res("x", "2")]),
    ];
    let s1 = cx.full_sync(&batches)?;
    let s2 = cx.full_sync(&batches)?;
    let need = |p: Page<Record>| {
        p.next_token
            .ok_or_else(|| Failure("expected a token".into()))
    };
    let by_a = ListQuery::Grants(GrantFilter::Principal(rid("user", "A")));
    let by_b = ListQuery::Grants(GrantFilter::Principal(rid("user", "B")));
    let t_all = need(
        cx.e()
            .list(Some(&s1), &all_grants(), &PageRequest::first(1))?,
    )?;
    let t_a = need(cx.e().list(Some(&s1), &by_a, &PageRequest::first(1))?)?;
    let t_runs = cx
        .e()
        .list_sync_runs(&PageRequest::first(1))?
        .next_token
        .ok_or_else(|| Failure("expected a sync-run token".into()))?;
    let reject = |sync: Option<&SyncId>, q: &ListQuery, t: &PageToken, what: &str| {
        expect_err(
            cx.e().list(sync, q, &PageRequest::after(1, t.clone())),
            ErrorKind::InvalidPageToken,
            what,
        )
    };
    // Malformed.
    let mut malformed: Vec<String> = vec![
        "".into(),
        "garbage".into(),
        "AAAA".into(),
        "!!".into(),
        "\0".into(),
        "é".into(),
    ];
    let raw = t_all.as_str();
    malformed.push(format!("{raw}x"));
    malformed.push(raw[..raw.len() - 1].to_string());
    for i in 0..raw.len() {
        let mut chars: Vec<char> = raw.chars().collect();
        chars[i] = if chars[i] == '0' { '1' } else { '0' };
        malformed.push(chars.into_iter().collect());
    }
    for m in &malformed {
        reject(
            Some(&s1),
            &all_grants(),
            &PageToken(m.clone()),
            &format!("malformed token {m:?}"),
        )?;
    }
    expect_err(
        cx.e()
            .list_sync_runs(&PageRequest::after(1, PageToken("garbage".into()))),
        ErrorKind::InvalidPageToken,
        "malformed sync-run token",
    )?;
    // Foreign.
    reject(
        Some(&s1),
        &ListQuery::ResourceTypes,
        &t_all,
        "grant token on resource types",
    )?;
    reject(
        Some(&s1),
        &ListQuery::Resources(Default::default()),
        &t_all,
        "grant token on resources",
    )?;
    reject(
        Some(&s1),
        &by_a,
        &t_all,
        "unfiltered token on a filtered list",
    )?;
    reject(
        Some(&s1),
        &all_grants(),
        &t_a,
        "filtered token on the unfiltered list",
    )?;
    reject(
        Some(&s1),
        &by_b,
        &t_a,
        "token of principal A on principal B",
    )?;
    reject(
        Some(&s2),
        &all_grants(),
        &t_all,
        "token of sync 1 on sync 2",
    )?;
    reject(
        Some(&s1),
        &all_grants(),
        &t_runs,
        "sync-run token on grants",
    )?;
    expect_err(
        cx.e().list_sync_runs(&PageRequest::after(1, t_all.clone())),
        ErrorKind::InvalidPageToken,
        "grant token on sync runs",
    )?;
    // The genuine article still works.
    let p = cx
        .e()
        .list(Some(&s1), &all_grants(), &PageRequest::after(1, t_all))?;
    ensure_eq!(
        keys(&p.items),
        grant_keys(&["g2"]),
        "the untouched token resumes"
    );
    Ok(())
}

pub fn sync_runs_list_order(cx: &mut Cx) -> CheckResult {
    let mut ids = Vec::new();
    for tick in [0, 0, 5, 0, 0] {
        cx.tick(tick);
        let id = cx.e().start_new_sync(SyncType::Full, None)?;
        cx.e().end_sync()?;
        ids.push(id);
    }
    let base = ids[0].clone();
    let (u, d) = cx.e().generate_sync_diff(&base, &ids[4])?;
    ids.extend([u, d]);
    let mut expected: Vec<SyncRun> = ids
        .iter()
        .map(|id| {
            cx.e()
                .get_sync_run(id)?
                .ok_or_else(|| Failure(format!("missing run {id}")))
        })
        .collect::<Result<_, _>>()?;
    expected.sort_by(|a, b| (a.started_at, &a.id).cmp(&(b.started_at, &b.id)));
    for size in [1, 2, 0] {
        let mut got = Vec::new();
        let mut req = PageRequest::first(size);
        loop {
            let p = cx.e().list_sync_runs(&req)?;
            got.extend(p.items);
            match p.next_token {
                Some(t) => req = PageRequest::after(size, t),
                None => break,
            }
            ensure!(got.len() <= expected.len(), "sync-run list does not end");
        }
        ensure_eq!(got, expected, "sync runs, page size {size}");
    }
    Ok(())
}

pub fn stats_counts(cx: &mut Cx) -> CheckResult {
    let f = cx.full_sync(&[
        RecordBatch::ResourceTypes(vec![rt("user"), rt("group")]),
        RecordBatch::Resources(vec![
            res("user", "a"),
            res("user", "b"),
            res("group", "g"),
            res("user\0", "a"),
        ]),
        RecordBatch::Entitlements(vec![ent("e", "group", "g")]),
        RecordBatch::Grants(vec![g("1"), g("2"), g("3")]),
        RecordBatch::Assets(vec![asset("a", b"1"), asset("b", b"")]),
    ])?;
    let want = Stats {
        resource_types: 2,
        resources: 4,
        resources_by_type: [
            ("group".to_string(), 1),
            ("user".to_string(), 2),
            ("user\0".to_string(), 1),
        ]
        .into_iter()
        .collect(),
        entitlements: 1,
        grants: 3,
        assets: 2,
    };
    ensure_eq!(cx.e().stats(None)?, want, "stats of the latest full sync");
    ensure_eq!(cx.e().stats(Some(&f))?, want, "stats of the named sync");
    let (cur, _) = cx.e().start_sync()?;
    ensure_eq!(
        cx.e().stats(None)?,
        Stats::default(),
        "stats of the empty current sync"
    );
    cx.e().delete_grant("1")?;
    ensure_eq!(cx.e().stats(Some(&f))?.grants, 3, "other syncs unaffected");
    let _ = cur;
    Ok(())
}

/// Outcomes of both forms agree: equal values, or errors of the same kind.
fn same<T: PartialEq + std::fmt::Debug>(
    owned: Result<T>,
    lent: Result<T>,
    what: &str,
) -> CheckResult {
    ensure!(
        crate::view::agree(&owned, &lent),
        "{what}: the lending form against the owned form\n  owned:   {owned:?}\n  lending: {lent:?}"
    );
    Ok(())
}

pub fn lending_reads_match_owned(cx: &mut Cx) -> CheckResult {
    let grants: Vec<Grant> = (0..7)
        .map(|i| {
            let who = if i % 2 == 0 { "alice" } else { "bob" };
            grant(&format!("g{i}"), "member", "group", "eng", "user", who)
        })
        .collect();
    let s = cx.full_sync(&[
        RecordBatch::ResourceTypes(vec![rt("user"), rt("group")]),
        RecordBatch::Resources(vec![
            res("user", "alice"),
            res("user", "bob"),
            child("user", "carol", "group", "eng"),
        ]),
        RecordBatch::Entitlements(vec![ent("member", "group", "eng")]),
        RecordBatch::Grants(grants),
        RecordBatch::Assets(vec![asset("icon", b"\x00\xff\x7f")]),
    ])?;
    let queries = [
        ListQuery::ResourceTypes,
        ListQuery::Resources(ResourceFilter::default()),
        ListQuery::Resources(ResourceFilter {
            resource_type: Some("user".into()),
            parent: None,
        }),
        ListQuery::Resources(ResourceFilter {
            resource_type: None,
            parent: Some(rid("group", "eng")),
        }),
        ListQuery::Entitlements(EntitlementFilter::default()),
        all_grants(),
        ListQuery::Grants(GrantFilter::Principal(rid("user", "bob"))),
        ListQuery::Grants(GrantFilter::Entitlement {
            id: "member".into(),
            principal: Some(rid("user", "alice")),
        }),
        ListQuery::Grants(GrantFilter::ResourceType("group".into())),
    ];
    let mut lent = 0;
    for sync in [Some(&s), None] {
        for q in &queries {
            for size in [1, 3, 0] {
                // Page through with the owned form's tokens; each page is read both ways.
                let mut req = PageRequest::first(size);
                loop {
                    let owned = cx.e().list(sync, q, &req);
                    let visited = crate::view::collect_list(cx.e(), sync, q, &req);
                    if let Ok(p) = &visited {
                        lent += p.items.len();
                    }
                    let next = owned.as_ref().ok().and_then(|p| p.next_token.clone());
                    same(
                        owned,
                        visited,
                        &format!("{q:?} in {sync:?}, page size {size}, after {:?}", req.token),
                    )?;
                    match next {
                        Some(t) => req = PageRequest::after(size, t),
                        None => break,
                    }
                }
            }
        }
    }
    ensure!(lent > 0, "the lending lists lent nothing");
    for key in [
        RecordKey::Grant("g3".into()),
        RecordKey::Grant("g9".into()),
        RecordKey::Resource(rid("user", "carol")),
        RecordKey::ResourceType("group".into()),
        RecordKey::Entitlement("member".into()),
        RecordKey::Asset("icon".into()),
        RecordKey::Asset("none".into()),
    ] {
        for sync in [Some(&s), None] {
            same(
                cx.e().get(sync, &key),
                crate::view::collect_get(cx.e(), sync, &key),
                &format!("get {key:?} in {sync:?}"),
            )?;
        }
    }
    // Errors: the same kinds as the owned form, for a bad id, a missing sync and a bad token.
    let missing = SyncId::new("no-such-sync");
    let bad = PageRequest::after(2, PageToken("not a token".into()));
    same(
        cx.e()
            .list(Some(&missing), &all_grants(), &PageRequest::first(2))
            .map(|p| p.items),
        crate::view::collect_list(
            cx.e(),
            Some(&missing),
            &all_grants(),
            &PageRequest::first(2),
        )
        .map(|p| p.items),
        "list of a missing sync",
    )?;
    same(
        cx.e().list(Some(&s), &all_grants(), &bad).map(|p| p.items),
        crate::view::collect_list(cx.e(), Some(&s), &all_grants(), &bad).map(|p| p.items),
        "list with a forged token",
    )?;
    same(
        cx.e().get(Some(&s), &RecordKey::Grant(String::new())),
        crate::view::collect_get(cx.e(), Some(&s), &RecordKey::Grant(String::new())),
        "get of an empty id",
    )?;
    // A visitor's error ends the read and is its result.
    let mut seen = 0;
    let stopped = cx
        .e()
        .visit_list(Some(&s), &all_grants(), &PageRequest::first(0), &mut |_| {
            seen += 1;
            Err(Error::failed_precondition("visitor stops"))
        });
    ensure!(
        matches!(&stopped, Err(e) if e.kind == ErrorKind::FailedPrecondition) && seen == 1,
        "a visitor's error must end the list and be its result: {stopped:?} after {seen} visits"
    );
    Ok(())
}
