//! SPEC §6: bad input, durability across reopen, concurrency.

use crate::contract::*;
use crate::ensure_eq;
use crate::*;

pub fn bad_input_never_panics(cx: &mut Cx) -> CheckResult {
    let huge = "x".repeat(1 << 20);
    let e = cx.e();
    expect_err(
        e.set_current_sync(&SyncId::new("")),
        ErrorKind::InvalidArgument,
        "empty sync id",
    )?;
    expect_err(
        e.view_sync(Some(&SyncId::new(huge.clone()))),
        ErrorKind::InvalidArgument,
        "huge sync id",
    )?;
    expect_err(
        e.get_sync_run(&SyncId::new("")),
        ErrorKind::InvalidArgument,
        "empty sync id run",
    )?;
    expect_err(
        e.start_new_sync(SyncType::Partial, Some(&SyncId::new("\0"))),
        ErrorKind::NotFound,
        "odd parent",
    )?;
    let f = cx.full_sync(&[RecordBatch::Grants(vec![g("g")])])?;
    let e = cx.e();
    e.start_sync()?;
    e.checkpoint_sync(&huge)?;
    ensure_eq!(
        e.current_sync_token()?.len(),
        huge.len(),
        "a 1 MiB checkpoint token"
    );
    expect_err(
        e.put(&RecordBatch::Grants(vec![g(&huge)]), PutMode::Replace),
        ErrorKind::InvalidArgument,
        "1 MiB id",
    )?;
    expect_err(
        e.delete_grant(&huge),
        ErrorKind::InvalidArgument,
        "1 MiB delete",
    )?;
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut junk: Vec<String> = vec![
        "\0\u{ffff}".into(),
        "A".repeat(100_000),
        huge.clone(),
        "=".into(),
        " ".into(),
    ];
    for seed in 0..64u64 {
        let bytes: Vec<u8> = (0..(seed % 40))
            .map(|i| crate::sync_run::splitmix64(seed * 131 + i) as u8)
            .collect();
        junk.push(b64.encode(&bytes));
        junk.push(bytes.iter().map(|b| format!("{b:02x}")).collect());
    }
    for j in junk {
        let req = PageRequest::after(usize::MAX, PageToken(j.clone()));
        let what = format!("junk token of {} bytes", j.len());
        expect_err(
            e.list(Some(&f), &ListQuery::Grants(GrantFilter::All), &req),
            ErrorKind::InvalidPageToken,
            &what,
        )?;
        expect_err(
            e.list(None, &ListQuery::Resources(Default::default()), &req),
            ErrorKind::InvalidPageToken,
            &what,
        )?;
        expect_err(e.list_sync_runs(&req), ErrorKind::InvalidPageToken, &what)?;
    }
    Ok(())
}

pub fn flush_then_reopen_is_durable(cx: &mut Cx) -> CheckResult {
    let f = cx.full_sync(&[
        RecordBatch::Grants(vec![g("f")]),
        RecordBatch::Assets(vec![asset("a", b"abc")]),
    ])?;
    let (u, _) = cx.e().start_sync()?;
    cx.e().put(
        &RecordBatch::Grants(vec![g("u1"), g("u2")]),
        PutMode::Replace,
    )?;
    cx.e().delete_grant("u1")?;
    cx.e().checkpoint_sync("cp")?;
    cx.e().flush()?;
    let before: Vec<Option<SyncRun>> = [&f, &u]
        .iter()
        .map(|id| cx.e().get_sync_run(id))
        .collect::<Result<_>>()?;
    cx.reopen()?;
    let after: Vec<Option<SyncRun>> = [&f, &u]
        .iter()
        .map(|id| cx.e().get_sync_run(id))
        .collect::<Result<_>>()?;
    ensure_eq!(after, before, "sync runs after reopen");
    ensure_eq!(
        keys(&list_all(
            cx.e(),
            Some(&u),
            &ListQuery::Grants(GrantFilter::All),
            0
        )?),
        grant_keys(&["u2"]),
        "current sync's writes after reopen"
    );
    ensure_eq!(
        cx.e().get(Some(&f), &RecordKey::Asset("a".into()))?,
        Some(Record::Asset(asset("a", b"abc"))),
        "asset after reopen"
    );
    ensure_eq!(
        keys(&list_all(
            cx.e(),
            None,
            &ListQuery::Grants(GrantFilter::Principal(ResourceId::new("user", "alice"))),
            0
        )?),
        grant_keys(&["f"]),
        "indexes after reopen"
    );
    Ok(())
}

pub fn concurrent_reads_see_whole_batches(cx: &mut Cx) -> CheckResult {
    const BATCH: usize = 10;
    let (id, _) = cx.e().start_sync()?;
    let e = cx.e();
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| -> CheckResult {
        let reader = s.spawn(|| -> CheckResult {
            let mut seen_partial = 0u64;
            // Read for as long as the writer writes, so a torn batch cannot slip between reads.
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                let n = e.stats(Some(&id))?.grants;
                let listed = e
                    .list(
                        Some(&id),
                        &ListQuery::Grants(GrantFilter::All),
                        &PageRequest::first(MAX_PAGE_SIZE),
                    )?
                    .items
                    .len();
                if n as usize % BATCH != 0 || listed % BATCH != 0 {
                    seen_partial += 1;
                }
            }
            ensure_eq!(seen_partial, 0, "reads that saw part of a batch");
            Ok(())
        });
        let written = (0..60).try_for_each(|b| {
            let batch: Vec<Grant> = (0..BATCH).map(|i| g(&format!("b{b:03}-{i}"))).collect();
            e.put(&RecordBatch::Grants(batch), PutMode::Replace)
        });
        // Stop the reader on every path, or a failed write would leave it spinning.
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        let read = reader
            .join()
            .map_err(|_| Failure("reader thread panicked".into()))?;
        written?;
        read
    })?;
    ensure_eq!(cx.e().stats(Some(&id))?.grants, 600, "all batches written");
    Ok(())
}
