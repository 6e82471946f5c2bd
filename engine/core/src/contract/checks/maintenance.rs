//! SPEC §5: cleanup, diff and clone.

use crate::contract::*;
use crate::*;
use crate::{ensure, ensure_eq};

fn runs(cx: &Cx) -> Result<Vec<SyncId>, Failure> {
    Ok(crate::engine::all_sync_runs(cx.e())?
        .into_iter()
        .map(|r| r.id)
        .collect())
}

pub fn cleanup_rules(cx: &mut Cx) -> CheckResult {
    let data = [RecordBatch::Grants(vec![g("g")])];
    let f1 = cx.full_sync(&data)?;
    let p1 = cx.finished_sync(SyncType::Partial, &data)?;
    let f2 = cx.full_sync(&data)?;
    let f3 = cx.full_sync(&data)?;
    let p2 = cx.finished_sync(SyncType::Partial, &data)?;
    let f4 = cx.full_sync(&data)?;
    ensure_eq!(
        cx.e().cleanup(2)?,
        vec![f1.clone(), p1.clone(), f2.clone()],
        "deleted: older fulls and the partial that ended before the oldest kept full started"
    );
    ensure_eq!(
        runs(cx)?,
        vec![f3.clone(), p2.clone(), f4.clone()],
        "remaining sync runs"
    );
    for gone in [&f1, &p1, &f2] {
        ensure_eq!(
            cx.e().get_sync_run(gone)?,
            None,
            "run of deleted sync {gone}"
        );
        expect_err(
            cx.e().get(Some(gone), &RecordKey::Grant("g".into())),
            ErrorKind::NotFound,
            "read of a deleted sync",
        )?;
        expect_err(
            cx.e().stats(Some(gone)),
            ErrorKind::NotFound,
            "stats of a deleted sync",
        )?;
    }
    ensure!(
        cx.e()
            .get(Some(&f3), &RecordKey::Grant("g".into()))?
            .is_some(),
        "kept sync lost its data"
    );
    ensure_eq!(
        cx.e().cleanup(DEFAULT_KEEP_SYNCS)?,
        Vec::<SyncId>::new(),
        "a second cleanup deletes nothing"
    );
    // Fewer full syncs than `keep`: no full is deleted; partials are measured against the oldest.
    cx.reopen_fresh_with(cx.config())?;
    let q0 = cx.finished_sync(SyncType::ResourcesOnly, &[])?;
    let only = cx.full_sync(&[])?;
    let q1 = cx.finished_sync(SyncType::PartialDeletions, &[])?;
    ensure_eq!(
        cx.e().cleanup(5)?,
        vec![q0],
        "partial ended before the only full sync started"
    );
    ensure_eq!(runs(cx)?, vec![only, q1], "remaining");
    // No full sync at all: nothing to measure against, nothing deleted.
    cx.reopen_fresh_with(cx.config())?;
    cx.finished_sync(SyncType::Partial, &[])?;
    ensure_eq!(
        cx.e().cleanup(1)?,
        Vec::<SyncId>::new(),
        "no full sync: keep everything"
    );
    Ok(())
}

pub fn cleanup_spares_unfinished_and_viewed(cx: &mut Cx) -> CheckResult {
    expect_err(cx.e().cleanup(0), ErrorKind::InvalidArgument, "keep 0")?;
    let u = cx.e().start_new_sync(SyncType::Partial, None)?;
    cx.e().flush()?;
    cx.reopen()?; // leaves u unfinished and not current
    let f1 = cx.full_sync(&[])?;
    let f2 = cx.full_sync(&[])?;
    let f3 = cx.full_sync(&[])?;
    cx.e().view_sync(Some(&f1))?;
    let c = cx.e().start_new_sync(SyncType::Full, None)?;
    ensure_eq!(
        cx.e().cleanup(1)?,
        vec![f2.clone()],
        "only the unviewed old full sync goes"
    );
    ensure_eq!(
        runs(cx)?,
        vec![u, f1, f3, c.clone()],
        "unfinished, viewed, kept and current remain"
    );
    ensure_eq!(
        cx.e().start_sync()?,
        (c, false),
        "current sync still current"
    );
    Ok(())
}

fn diff_fixtures() -> ([RecordBatch; 5], [RecordBatch; 5]) {
    let mut moved_before = child("u", "moved", "org", "p1");
    moved_before.discovered_at = at(1);
    let base = [
        RecordBatch::ResourceTypes(vec![
            rt("same"),
            ResourceType {
                display_name: "1".into(),
                ..rt("changed")
            },
            rt("gone"),
        ]),
        RecordBatch::Resources(vec![res("u", "same"), moved_before, res("u", "gone")]),
        RecordBatch::Entitlements(vec![ent("same", "t", "r"), ent("gone", "t", "r")]),
        RecordBatch::Grants(vec![g("same").discovered(at(1)), g("changed"), g("gone")]),
        RecordBatch::Assets(vec![
            asset("same", b"1"),
            asset("changed", b"1"),
            asset("gone", b""),
        ]),
    ];
    let applied = [
        RecordBatch::ResourceTypes(vec![
            rt("same").discovered(at(50)),
            ResourceType {
                display_name: "2".into(),
                ..rt("changed")
            },
            rt("new"),
        ]),
        RecordBatch::Resources(vec![
            res("u", "same").discovered(at(50)),
            child("u", "moved", "org", "p2"),
            res("u", "new"),
        ]),
        RecordBatch::Entitlements(vec![ent("same", "t", "r"), ent("new", "t", "r")]),
        RecordBatch::Grants(vec![
            g("same").discovered(at(99)),
            grant("changed", "member", "group", "eng", "user", "bob"),
            g("new"),
        ]),
        RecordBatch::Assets(vec![
            asset("same", b"1").discovered(at(7)),
            asset("changed", b"2"),
            asset("new", b"n"),
        ]),
    ];
    (base, applied)
}

/// Every record of a sync, kind by kind (assets through export, which is the only way to list them).
fn contents(cx: &Cx, id: &SyncId) -> Result<Vec<Record>, Failure> {
    let mut out = Vec::new();
    cx.e().export_sync(id, &mut |b| {
        out.extend(b.to_records());
        Ok(())
    })?;
    Ok(out)
}

pub fn diff_contents(cx: &mut Cx) -> CheckResult {
    let (base, applied) = diff_fixtures();
    let b = cx.full_sync(&base)?;
    let a = cx.full_sync(&applied)?;
    let (up, del) = cx.e().generate_sync_diff(&b, &a)?;
    let pick = |batches: &[RecordBatch], ids: &[(&str, &str)]| -> Vec<Record> {
        let mut out = Vec::new();
        for batch in batches {
            for r in batch.to_records() {
                let id = match r.key() {
                    RecordKey::Resource(rid) => rid.resource,
                    RecordKey::ResourceType(i)
                    | RecordKey::Entitlement(i)
                    | RecordKey::Grant(i)
                    | RecordKey::Asset(i) => i,
                };
                if ids.contains(&(r.kind().name(), id.as_str())) {
                    out.push(r);
                }
            }
        }
        out
    };
    let mut want_up = pick(
        &applied,
        &[
            ("resource_type", "changed"),
            ("resource_type", "new"),
            ("resource", "moved"),
            ("resource", "new"),
            ("entitlement", "new"),
            ("grant", "changed"),
            ("grant", "new"),
            ("asset", "changed"),
            ("asset", "new"),
        ],
    );
    let mut want_del = pick(
        &base,
        &[
            ("resource_type", "gone"),
            ("resource", "gone"),
            ("entitlement", "gone"),
            ("grant", "gone"),
            ("asset", "gone"),
        ],
    );
    let sort = |v: &mut Vec<Record>| v.sort_by_key(|r| (r.kind(), r.key()));
    sort(&mut want_up);
    sort(&mut want_del);
    let (mut got_up, mut got_del) = (contents(cx, &up)?, contents(cx, &del)?);
    sort(&mut got_up);
    sort(&mut got_del);
    ensure_eq!(
        got_up,
        want_up,
        "upserts: absent from base or changed in anything but discovered_at"
    );
    ensure_eq!(got_del, want_del, "deletions: in base, absent from applied");
    let (same_up, same_del) = cx.e().generate_sync_diff(&a, &a)?;
    ensure_eq!(
        (contents(cx, &same_up)?, contents(cx, &same_del)?),
        (vec![], vec![]),
        "diff of a sync with itself is empty"
    );
    diff_past_chunks(cx)
}

/// A diff of two syncs of 2,500 grants, so that an engine reading them in chunks (1,000 for
/// the KV layer) meets its chunk boundaries: the applied sync drops the base's first five,
/// adds five at the end, rediscovers the rest and changes every 250th from the sixth on, so
/// records the diff must copy, and ones it must not, start chunks on both sides.
fn diff_past_chunks(cx: &mut Cx) -> CheckResult {
    let name = |i: usize| format!("big{i:05}");
    let changed = |i: usize| i % 250 == 5;
    let base: Vec<Grant> = (0..2_500).map(|i| g(&name(i))).collect();
    let applied: Vec<Grant> = (5..2_505)
        .map(|i| {
            let mut grant = g(&name(i));
            grant.discovered_at = Timestamp(T0.0 + 1);
            if changed(i) {
                grant.principal = ResourceId::new("user", "bob");
            }
            grant
        })
        .collect();
    let want_up: Vec<Record> = applied
        .iter()
        .zip(5..)
        .filter(|(_, i)| changed(*i) || *i >= 2_500)
        .map(|(grant, _)| Record::Grant(grant.clone()))
        .collect();
    let want_del: Vec<Record> = base.iter().take(5).cloned().map(Record::Grant).collect();
    let b = cx.full_sync(&[RecordBatch::Grants(base)])?;
    let a = cx.full_sync(&[RecordBatch::Grants(applied)])?;
    let (up, del) = cx.e().generate_sync_diff(&b, &a)?;
    ensure_eq!(
        contents(cx, &up)?,
        want_up,
        "upserts of a diff of 2,500 grants"
    );
    ensure_eq!(
        contents(cx, &del)?,
        want_del,
        "deletions of a diff of 2,500 grants"
    );
    Ok(())
}

pub fn diff_runs_and_handle(cx: &mut Cx) -> CheckResult {
    let (base, applied) = diff_fixtures();
    let b = cx.full_sync(&base)?;
    let a = cx.full_sync(&applied)?;
    let ids = SeededIds::new(1);
    let _ = (ids.next_id(T0), ids.next_id(T0));
    cx.e().view_sync(Some(&b))?;
    cx.tick(123);
    let now = cx.clock.now();
    let (up, del) = cx.e().generate_sync_diff(&b, &a)?;
    ensure_eq!(
        (up.clone(), del.clone()),
        (ids.next_id(T0), ids.next_id(T0)),
        "upserts id drawn first, then deletions"
    );
    for (id, t) in [
        (&up, SyncType::PartialUpserts),
        (&del, SyncType::PartialDeletions),
    ] {
        let r = cx
            .e()
            .get_sync_run(id)?
            .ok_or_else(|| Failure(format!("diff run {id} missing")))?;
        ensure_eq!(
            (r.sync_type, r.parent, r.started_at, r.ended_at),
            (t, Some(b.clone()), now, Some(now)),
            "diff run {id}"
        );
    }
    ensure_eq!(
        cx.e()
            .get(None, &RecordKey::Grant("gone".into()))?
            .is_some(),
        true,
        "the view is unchanged by diff"
    );
    cx.e().view_sync(None)?;
    let (cur, _) = cx.e().start_sync()?;
    cx.e().generate_sync_diff(&b, &a)?;
    ensure_eq!(
        cx.e().start_sync()?,
        (cur, false),
        "the current sync is unchanged by diff"
    );
    cx.e().end_sync()?;
    let _ = cx.e().start_sync()?;
    Ok(())
}

pub fn diff_preconditions(cx: &mut Cx) -> CheckResult {
    let f = cx.full_sync(&[])?;
    let missing = SyncId::new("missing");
    expect_err(
        cx.e().generate_sync_diff(&missing, &f),
        ErrorKind::NotFound,
        "missing base",
    )?;
    expect_err(
        cx.e().generate_sync_diff(&f, &missing),
        ErrorKind::NotFound,
        "missing applied",
    )?;
    expect_err(
        cx.e().generate_sync_diff(&SyncId::new(""), &f),
        ErrorKind::InvalidArgument,
        "invalid base id",
    )?;
    let (u, _) = cx.e().start_sync()?;
    expect_err(
        cx.e().generate_sync_diff(&f, &u),
        ErrorKind::FailedPrecondition,
        "unfinished applied",
    )?;
    expect_err(
        cx.e().generate_sync_diff(&u, &f),
        ErrorKind::FailedPrecondition,
        "unfinished base",
    )?;
    Ok(())
}

pub fn clone_copies_sync(cx: &mut Cx) -> CheckResult {
    let many: Vec<Grant> = (0..EXPORT_CHUNK + 500)
        .map(|i| g(&format!("g{i:05}")))
        .collect();
    let mut big = asset("big", &[3; 4096]);
    big.annotations = Metadata::map([("k", Metadata::Bytes(vec![0; 3]))]);
    cx.e().start_new_sync(SyncType::Full, None)?;
    cx.put_all(&[
        RecordBatch::ResourceTypes(vec![rt("user")]),
        RecordBatch::Resources(vec![child("user", "u", "org", "o")]),
        RecordBatch::Entitlements(vec![ent("e", "group", "g")]),
        RecordBatch::Grants(many),
        RecordBatch::Assets(vec![big, asset("empty", b"")]),
    ])?;
    cx.e().checkpoint_sync("resume-here")?;
    cx.tick(10);
    cx.e().end_sync()?;
    let f = cx.e().list_sync_runs(&PageRequest::default())?.items[0]
        .id
        .clone();
    let p = cx.finished_sync(SyncType::Partial, &[RecordBatch::Grants(vec![g("p")])])?;
    let target = cx.another()?;
    cx.e().clone_sync(&f, target.as_ref())?;
    cx.e().clone_sync(&p, target.as_ref())?;
    for id in [&f, &p] {
        ensure_eq!(
            target.get_sync_run(id)?,
            cx.e().get_sync_run(id)?,
            "cloned run {id}"
        );
        let mut src = Vec::new();
        cx.e().export_sync(id, &mut |b| {
            src.extend(b.to_records());
            Ok(())
        })?;
        let mut dst = Vec::new();
        target.export_sync(id, &mut |b| {
            dst.extend(b.to_records());
            Ok(())
        })?;
        ensure_eq!(dst.len(), src.len(), "record count of cloned sync {id}");
        ensure!(dst == src, "records of cloned sync {id} differ");
        ensure_eq!(
            target.stats(Some(id))?,
            cx.e().stats(Some(id))?,
            "stats of cloned sync {id}"
        );
        let grants = list_all(
            target.as_ref(),
            Some(id),
            &ListQuery::Grants(GrantFilter::Principal(ResourceId::new("user", "alice"))),
            0,
        )?;
        ensure_eq!(
            grants.len(),
            cx.e().stats(Some(id))?.grants as usize,
            "indexes of the cloned sync {id}"
        );
    }
    ensure!(
        target.get(None, &RecordKey::Asset("big".into()))?.is_some(),
        "target reads resolve to the cloned full sync"
    );
    expect_err(
        cx.e().clone_sync(&f, target.as_ref()),
        ErrorKind::AlreadyExists,
        "clone twice",
    )?;
    expect_err(
        cx.e().clone_sync(&SyncId::new("missing"), target.as_ref()),
        ErrorKind::NotFound,
        "clone a missing sync",
    )?;
    let (u, _) = cx.e().start_sync()?;
    expect_err(
        cx.e().clone_sync(&u, target.as_ref()),
        ErrorKind::FailedPrecondition,
        "clone an unfinished sync",
    )?;
    expect_err(
        cx.e().clone_sync(&f, cx.e()),
        ErrorKind::AlreadyExists,
        "clone into its own store",
    )?;
    Ok(())
}

/// Every record of `id` in `e`, kind by kind, through the list calls (not the export, whose
/// form is what a clone check tests).
fn listed(e: &dyn StorageEngine, id: &SyncId) -> Result<Vec<Record>> {
    let mut out = Vec::new();
    for q in [
        ListQuery::ResourceTypes,
        ListQuery::Resources(ResourceFilter::default()),
        ListQuery::Entitlements(EntitlementFilter::default()),
        ListQuery::Grants(GrantFilter::All),
    ] {
        out.extend(crate::page::read_all(MAX_PAGE_SIZE, |req| {
            e.list(Some(id), &q, req)
        })?);
    }
    Ok(out)
}

/// A clone into another engine (the in-memory KV reference, `kv::BTreeOpener`) holds what the
/// source lists, and so does a clone from there back into a fresh store of the engine: an
/// export and an import that agree only with each other are not a copy.
pub fn clone_across_engines(cx: &mut Cx) -> CheckResult {
    let grants = vec![
        g("plain"),
        g("nul\0in"),
        g("\u{e9}\u{1F600}"),
        g(&"x".repeat(MAX_ID_LEN)),
    ];
    let id = cx.finished_sync(
        SyncType::Full,
        &[
            RecordBatch::ResourceTypes(vec![rt("user\0")]),
            RecordBatch::Resources(vec![child("user\0", "u\0", "org", "o\0")]),
            RecordBatch::Entitlements(vec![ent("e\0", "group", "g")]),
            RecordBatch::Grants(grants),
        ],
    )?;
    let source = listed(cx.e(), &id)?;
    let reference = crate::kv::BTreeOpener::default();
    let foreign = cx.foreign(&reference)?;
    cx.e().clone_sync(&id, foreign.as_ref())?;
    ensure_eq!(
        foreign.get_sync_run(&id)?,
        cx.e().get_sync_run(&id)?,
        "run cloned into kv-btree"
    );
    ensure!(
        listed(foreign.as_ref(), &id)? == source,
        "records cloned into kv-btree differ from what the source lists"
    );
    let back = cx.another()?;
    foreign.clone_sync(&id, back.as_ref())?;
    ensure!(
        listed(back.as_ref(), &id)? == source,
        "records cloned from kv-btree back into the engine differ from the source's"
    );
    Ok(())
}

/// An import that writes one record in two batches holds the second one: its fields and only
/// its index entries. A bulk import that skips the read of what it wrote before (its target
/// starts empty, so most keys are known absent) would leave the first one's entries behind.
pub fn import_later_batch_wins(cx: &mut Cx) -> CheckResult {
    let id = cx.finished_sync(SyncType::Full, &[RecordBatch::Grants(vec![g("g")])])?;
    let run = cx
        .e()
        .get_sync_run(&id)?
        .ok_or_else(|| Failure(format!("run {id} missing")))?;
    let target = cx.another()?;
    let mut import = target.begin_import(&run)?;
    for who in ["alice", "bob"] {
        import.write(RecordBatch::Grants(vec![grant(
            "g", "member", "group", "eng", "user", who,
        )]))?;
    }
    import.commit()?;
    for (who, want) in [("alice", 0), ("bob", 1)] {
        let q = ListQuery::Grants(GrantFilter::Principal(ResourceId::new("user", who)));
        ensure_eq!(
            list_all(target.as_ref(), Some(&id), &q, 0)?.len(),
            want,
            "grants of {who} after an import wrote the grant for alice, then for bob"
        );
    }
    Ok(())
}
