//! SPEC §2: sync runs, the current and viewed sync, and which sync a read sees.

use crate::contract::*;
use crate::*;
use crate::{ensure, ensure_eq};

const SEC: i64 = Timestamp::NANOS_PER_SEC;

fn run(cx: &Cx, id: &SyncId) -> Result<SyncRun, Failure> {
    cx.e()
        .get_sync_run(id)?
        .ok_or_else(|| Failure(format!("sync run {id} is missing")))
}

/// Leaves the current sync unfinished and clears it, the only way SPEC offers (reopen).
fn abandon_current(cx: &mut Cx) -> CheckResult {
    cx.e().flush()?;
    cx.reopen()
}

pub fn ids_and_times_come_from_the_sources(cx: &mut Cx) -> CheckResult {
    let expected = SeededIds::new(1);
    let (id, new) = cx.e().start_sync()?;
    ensure!(new, "first start_sync on an empty store must be new");
    ensure_eq!(id, expected.next_id(T0), "first sync id");
    let r = run(cx, &id)?;
    ensure_eq!(
        (
            r.sync_type,
            r.parent.clone(),
            r.started_at,
            r.ended_at,
            r.token.as_str()
        ),
        (SyncType::Full, None, T0, None, ""),
        "new sync run"
    );
    cx.tick(5 * SEC);
    cx.e().end_sync()?;
    ensure_eq!(
        run(cx, &id)?.ended_at,
        Some(at(5 * SEC)),
        "ended_at comes from the clock"
    );
    let id2 = cx.e().start_new_sync(SyncType::Partial, None)?;
    ensure_eq!(
        id2,
        expected.next_id(T0),
        "second sync id is the source's second"
    );
    ensure_eq!(
        run(cx, &id2)?.started_at,
        at(5 * SEC),
        "equal timestamps are fine: the clock did not move"
    );
    Ok(())
}

pub fn start_sync_returns_current(cx: &mut Cx) -> CheckResult {
    let (id, _) = cx.e().start_sync()?;
    // However often it is asked: a sync stays current until it is ended.
    for _ in 0..4 {
        cx.tick(SEC);
        ensure_eq!(
            cx.e().start_sync()?,
            (id.clone(), false),
            "start_sync with a current sync"
        );
    }
    let p = {
        cx.e().end_sync()?;
        cx.e().start_new_sync(SyncType::Partial, None)?
    };
    ensure_eq!(
        cx.e().start_sync()?,
        (p, false),
        "start_sync returns a current partial sync too"
    );
    Ok(())
}

pub fn start_sync_resumes_within_window(cx: &mut Cx) -> CheckResult {
    let a = cx.e().start_new_sync(SyncType::Partial, None)?;
    abandon_current(cx)?;
    // A second unfinished sync at the same instant: the newer is the greater id.
    let b = cx.e().start_new_sync(SyncType::ResourcesOnly, None)?;
    abandon_current(cx)?;
    let newest = a.clone().max(b.clone());
    cx.tick(RESUME_WINDOW_NANOS);
    ensure_eq!(
        cx.e().start_sync()?,
        (newest.clone(), false),
        "resume at exactly 7 days, ties by id"
    );
    abandon_current(cx)?;
    // A later unfinished sync is newer than both.
    cx.tick(1);
    let c = cx.e().start_new_sync(SyncType::Partial, None)?;
    abandon_current(cx)?;
    ensure_eq!(
        cx.e().start_sync()?,
        (c.clone(), false),
        "newest unfinished by started_at"
    );
    abandon_current(cx)?;
    cx.tick(RESUME_WINDOW_NANOS + 1);
    let (d, new) = cx.e().start_sync()?;
    ensure!(
        new && ![&a, &b, &c].contains(&&d),
        "nothing is resumable after 7 days + 1ns, got {d} (new: {new})"
    );
    ensure_eq!(
        run(cx, &d)?.sync_type,
        SyncType::Full,
        "the new sync is full"
    );
    Ok(())
}

pub fn start_sync_starts_full(cx: &mut Cx) -> CheckResult {
    let f = cx.full_sync(&[])?;
    let (id, new) = cx.e().start_sync()?;
    ensure!(new && id != f, "a finished sync must not be resumed");
    ensure_eq!(
        run(cx, &id)?.sync_type,
        SyncType::Full,
        "start_sync creates a full sync"
    );
    Ok(())
}

pub fn start_new_sync_with_current(cx: &mut Cx) -> CheckResult {
    let id = cx.e().start_new_sync(SyncType::Full, None)?;
    ensure_eq!(
        cx.e().start_new_sync(SyncType::Full, None)?,
        id,
        "same type returns the current sync"
    );
    expect_err(
        cx.e().start_new_sync(SyncType::Partial, None),
        ErrorKind::FailedPrecondition,
        "other type while current",
    )?;
    cx.e().end_sync()?;
    let p = cx.e().start_new_sync(SyncType::Partial, Some(&id))?;
    ensure_eq!(
        cx.e().start_new_sync(SyncType::Partial, None)?,
        p,
        "same type (partial) returns the current sync"
    );
    Ok(())
}

pub fn start_new_sync_parent_rules(cx: &mut Cx) -> CheckResult {
    let f = cx.full_sync(&[])?;
    for t in [SyncType::Full, SyncType::ResourcesOnly] {
        expect_err(
            cx.e().start_new_sync(t, Some(&f)),
            ErrorKind::InvalidArgument,
            &format!("{} with a parent", t.name()),
        )?;
    }
    expect_err(
        cx.e()
            .start_new_sync(SyncType::Partial, Some(&SyncId::new("nope"))),
        ErrorKind::NotFound,
        "missing parent",
    )?;
    let p = cx.e().start_new_sync(SyncType::Partial, Some(&f))?;
    ensure_eq!(run(cx, &p)?.parent, Some(f.clone()), "parent is recorded");
    cx.e().end_sync()?;
    let u = cx.e().start_new_sync(SyncType::PartialUpserts, None)?;
    ensure_eq!(
        run(cx, &u)?.parent,
        None,
        "partial types may omit the parent"
    );
    Ok(())
}

pub fn set_current_sync_rules(cx: &mut Cx) -> CheckResult {
    expect_err(
        cx.e().set_current_sync(&SyncId::new("nope")),
        ErrorKind::NotFound,
        "missing sync",
    )?;
    let f = cx.full_sync(&[])?;
    expect_err(
        cx.e().set_current_sync(&f),
        ErrorKind::FailedPrecondition,
        "finished sync",
    )?;
    let u = cx.e().start_new_sync(SyncType::Partial, None)?;
    abandon_current(cx)?;
    cx.e().set_current_sync(&u)?;
    cx.e()
        .put(&RecordBatch::Grants(vec![g("g")]), PutMode::Replace)?;
    ensure!(
        cx.e()
            .get(Some(&u), &RecordKey::Grant("g".into()))?
            .is_some(),
        "write after set_current_sync lands in it"
    );
    Ok(())
}

pub fn current_sync_calls_need_current(cx: &mut Cx) -> CheckResult {
    expect_err(
        cx.e().current_sync_token(),
        ErrorKind::FailedPrecondition,
        "current_sync_token",
    )?;
    expect_err(
        cx.e().checkpoint_sync("t"),
        ErrorKind::FailedPrecondition,
        "checkpoint_sync",
    )?;
    expect_err(cx.e().end_sync(), ErrorKind::FailedPrecondition, "end_sync")?;
    let (id, _) = cx.e().start_sync()?;
    ensure_eq!(
        cx.e().current_sync_token()?,
        "",
        "token before any checkpoint"
    );
    cx.e().checkpoint_sync("page=2|cursor\0")?;
    ensure_eq!(
        cx.e().current_sync_token()?,
        "page=2|cursor\0",
        "token after checkpoint"
    );
    ensure_eq!(run(cx, &id)?.token, "page=2|cursor\0", "token on the run");
    cx.tick(3);
    cx.e().end_sync()?;
    ensure_eq!(run(cx, &id)?.ended_at, Some(at(3)), "ended_at");
    expect_err(
        cx.e().current_sync_token(),
        ErrorKind::FailedPrecondition,
        "token after end",
    )?;
    expect_err(
        cx.e().end_sync(),
        ErrorKind::FailedPrecondition,
        "second end_sync",
    )?;
    Ok(())
}

pub fn view_sync_rules(cx: &mut Cx) -> CheckResult {
    let f = cx.full_sync(&[RecordBatch::Grants(vec![g("in_f")])])?;
    let _latest = cx.full_sync(&[])?;
    let (cur, _) = cx.e().start_sync()?;
    expect_err(
        cx.e().view_sync(Some(&f)),
        ErrorKind::FailedPrecondition,
        "view while a sync is current",
    )?;
    abandon_current(cx)?;
    expect_err(
        cx.e().view_sync(Some(&SyncId::new("nope"))),
        ErrorKind::NotFound,
        "view a missing sync",
    )?;
    expect_err(
        cx.e().view_sync(Some(&cur)),
        ErrorKind::FailedPrecondition,
        "view an unfinished sync",
    )?;
    cx.e().view_sync(Some(&f))?;
    ensure!(
        cx.e()
            .get(None, &RecordKey::Grant("in_f".into()))?
            .is_some(),
        "reads see the viewed sync"
    );
    cx.e().view_sync(None)?;
    ensure!(
        cx.e()
            .get(None, &RecordKey::Grant("in_f".into()))?
            .is_none(),
        "after unpinning, reads see the latest full sync"
    );
    Ok(())
}

pub fn writes_need_current(cx: &mut Cx) -> CheckResult {
    let f = cx.full_sync(&[])?;
    cx.e().view_sync(Some(&f))?;
    for mode in [PutMode::Replace, PutMode::IfNewer] {
        for batch in [
            RecordBatch::ResourceTypes(vec![rt("t")]),
            RecordBatch::Resources(vec![res("t", "r")]),
            RecordBatch::Entitlements(vec![ent("e", "t", "r")]),
            RecordBatch::Grants(vec![g("g")]),
            RecordBatch::Assets(vec![asset("a", b"")]),
        ] {
            expect_err(
                cx.e().put(&batch, mode),
                ErrorKind::FailedPrecondition,
                &format!("{mode:?} put of {:?}", batch.kind()),
            )?;
        }
    }
    expect_err(
        cx.e().put_asset(&asset("a", b"x")),
        ErrorKind::FailedPrecondition,
        "put_asset",
    )?;
    expect_err(
        cx.e().delete_grant("g"),
        ErrorKind::FailedPrecondition,
        "delete_grant",
    )?;
    expect_err(
        cx.e().checkpoint_sync("t"),
        ErrorKind::FailedPrecondition,
        "checkpoint_sync",
    )?;
    ensure_eq!(
        cx.e().stats(Some(&f))?,
        Stats::default(),
        "nothing was written to the viewed sync"
    );
    Ok(())
}

pub fn writes_land_in_current(cx: &mut Cx) -> CheckResult {
    let a = cx.e().start_new_sync(SyncType::Full, None)?;
    abandon_current(cx)?;
    let b = cx.e().start_new_sync(SyncType::Full, None)?;
    cx.e()
        .put(&RecordBatch::Grants(vec![g("to_b")]), PutMode::Replace)?;
    cx.e().set_current_sync(&a)?;
    cx.e()
        .put(&RecordBatch::Grants(vec![g("to_a")]), PutMode::Replace)?;
    cx.e().put_asset(&asset("asset_a", b"1"))?;
    let ids = |s: &SyncId| -> Result<Vec<RecordKey>, Failure> {
        Ok(keys(&list_all(
            cx.e(),
            Some(s),
            &ListQuery::Grants(GrantFilter::All),
            0,
        )?))
    };
    ensure_eq!(ids(&a)?, grant_keys(&["to_a"]), "sync a");
    ensure_eq!(ids(&b)?, grant_keys(&["to_b"]), "sync b");
    ensure!(
        cx.e()
            .get(Some(&b), &RecordKey::Asset("asset_a".into()))?
            .is_none(),
        "asset landed in the wrong sync"
    );
    Ok(())
}

pub fn read_resolution_order(cx: &mut Cx) -> CheckResult {
    let key = RecordKey::Grant("g".into());
    let version = |cx: &Cx, sync: Option<&SyncId>| -> Result<Option<Vec<String>>, Failure> {
        Ok(match cx.e().get(sync, &key)? {
            Some(Record::Grant(g)) => Some(g.sources),
            _ => None,
        })
    };
    let with = |v: &str| {
        RecordBatch::Grants(vec![Grant {
            sources: vec![v.into()],
            ..g("g")
        }])
    };
    // Nothing at all: empty answers, not errors.
    ensure_eq!(version(cx, None)?, None, "empty store get");
    ensure_eq!(
        cx.e().list(
            None,
            &ListQuery::Grants(GrantFilter::All),
            &PageRequest::default()
        )?,
        Page::empty(),
        "empty store list"
    );
    ensure_eq!(cx.e().stats(None)?, Stats::default(), "empty store stats");
    let f1 = cx.full_sync(&[with("f1")])?;
    let f2 = cx.full_sync(&[with("f2")])?;
    let p = cx.finished_sync(SyncType::Partial, &[with("p")])?;
    ensure_eq!(
        version(cx, None)?,
        Some(vec!["f2".into()]),
        "latest finished full sync (not the later partial)"
    );
    ensure_eq!(version(cx, Some(&p))?, Some(vec!["p".into()]), "named sync");
    cx.e().view_sync(Some(&f1))?;
    ensure_eq!(version(cx, None)?, Some(vec!["f1".into()]), "viewed sync");
    let u = cx.e().start_new_sync(SyncType::Full, None)?;
    ensure_eq!(
        version(cx, None)?,
        None,
        "current (empty) sync beats viewed"
    );
    cx.e().put(&with("u"), PutMode::Replace)?;
    ensure_eq!(version(cx, None)?, Some(vec!["u".into()]), "current sync");
    ensure_eq!(
        version(cx, Some(&f2))?,
        Some(vec!["f2".into()]),
        "named beats current"
    );
    expect_err(
        cx.e().get(Some(&SyncId::new("missing")), &key),
        ErrorKind::NotFound,
        "named missing sync (get)",
    )?;
    expect_err(
        cx.e().list(
            Some(&SyncId::new("missing")),
            &ListQuery::ResourceTypes,
            &PageRequest::default(),
        ),
        ErrorKind::NotFound,
        "named missing sync (list)",
    )?;
    expect_err(
        cx.e().stats(Some(&SyncId::new("missing"))),
        ErrorKind::NotFound,
        "named missing sync (stats)",
    )?;
    let _ = u;
    Ok(())
}

pub fn latest_finished_ties_by_id(cx: &mut Cx) -> CheckResult {
    let mark = |v: &str| {
        RecordBatch::Grants(vec![Grant {
            sources: vec![v.into()],
            ..g("g")
        }])
    };
    // Two full syncs ending at the same instant: the clock does not move between them.
    let a = cx.e().start_new_sync(SyncType::Full, None)?;
    cx.put_all(&[mark("a")])?;
    cx.e().end_sync()?;
    let b = cx.e().start_new_sync(SyncType::Full, None)?;
    cx.put_all(&[mark("b")])?;
    cx.e().end_sync()?;
    let winner = if a > b { "a" } else { "b" };
    match cx.e().get(None, &RecordKey::Grant("g".into()))? {
        Some(Record::Grant(g)) => ensure_eq!(
            g.sources,
            vec![winner.to_string()],
            "tie on ended_at goes to the greater id ({a} vs {b})"
        ),
        other => return Err(Failure(format!("expected a grant, got {other:?}"))),
    }
    Ok(())
}

pub fn reopen_keeps_data_clears_handle(cx: &mut Cx) -> CheckResult {
    let f = cx.full_sync(&[RecordBatch::Grants(vec![g("old")])])?;
    let latest = cx.full_sync(&[RecordBatch::Grants(vec![g("latest")])])?;
    cx.e().view_sync(Some(&f))?;
    let (cur, _) = cx.e().start_sync()?;
    cx.e()
        .put(&RecordBatch::Grants(vec![g("cur")]), PutMode::Replace)?;
    cx.e().checkpoint_sync("tok")?;
    cx.e().flush()?;
    cx.reopen()?;
    expect_err(
        cx.e().current_sync_token(),
        ErrorKind::FailedPrecondition,
        "current is cleared by reopen",
    )?;
    ensure!(
        cx.e()
            .get(None, &RecordKey::Grant("latest".into()))?
            .is_some(),
        "view is cleared by reopen: reads see the latest full sync"
    );
    ensure!(
        cx.e()
            .get(Some(&cur), &RecordKey::Grant("cur".into()))?
            .is_some(),
        "data of the unfinished sync survives"
    );
    ensure!(
        cx.e()
            .get(Some(&f), &RecordKey::Grant("old".into()))?
            .is_some(),
        "data of a finished sync survives"
    );
    ensure_eq!(run(cx, &cur)?.token, "tok", "checkpoint token survives");
    ensure_eq!(
        cx.e().start_sync()?,
        (cur, false),
        "the unfinished sync is resumed after reopen"
    );
    let _ = latest;
    Ok(())
}
