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

/// One state the writer of [`concurrent_reads_see_one_state`] passes through: each grant's
/// principal, and how many resources there are.
#[derive(Clone, Default, PartialEq)]
struct Written {
    grants: std::collections::BTreeMap<String, String>,
    resources: u64,
}

/// The principal whose index list the reader of [`concurrent_reads_see_one_state`] reads.
const WATCHED: &str = "alice";
/// The grant it gets (moved to another principal in round 6).
const PROBE: &str = "r05-0";

impl Written {
    /// What read `read` (0 stats, 1 all grants, 2 the watched principal's grants, 3 a get of
    /// the probe) answers in this state, as the reader renders what it saw.
    fn answer(&self, read: usize) -> String {
        let keys = |f: &dyn Fn(&str) -> bool| {
            let v: Vec<RecordKey> = self
                .grants
                .iter()
                .filter(|(_, p)| f(p))
                .map(|(k, _)| RecordKey::Grant(k.clone()))
                .collect();
            format!("{v:?}")
        };
        match read {
            0 => format!("{} grants, {} resources", self.grants.len(), self.resources),
            1 => keys(&|_| true),
            2 => keys(&|p| p == WATCHED),
            _ => format!("{:?}", self.grants.get(PROBE).cloned()),
        }
    }
}

/// One write of that writer.
enum Write {
    Grants(Vec<Grant>),
    Resource(Resource),
    Delete(String),
}

/// SPEC §6 with a single writer, checked exactly: the writer's states form a total order
/// S0..Sn, and a read that began after `lo` writes had returned and ended before write
/// `hi + 1` began must equal its answer in some Si with `lo <= i <= hi`. The writer puts
/// batches of grants spread over three principals, moves a grant of the batch before to
/// another principal, deletes one, and adds a resource, so a torn batch, an index read
/// across two snapshots, and counts taken from two states each answer what no state holds.
/// Readers check stats (grants and resources together), the unfiltered grant list, a
/// principal's index list and a point get.
pub fn concurrent_reads_see_one_state(cx: &mut Cx) -> CheckResult {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
    const ROUNDS: usize = 30;
    const BATCH: usize = 8;
    const PRINCIPALS: [&str; 3] = ["alice", "bob", "carol"];
    let grant = |id: &str, p: &str| crate::contract::grant(id, "member", "group", "g", "user", p);
    let principal = |k: usize| {
        PRINCIPALS
            .get(k % PRINCIPALS.len())
            .copied()
            .unwrap_or("alice")
    };
    let mut writes = Vec::new();
    for r in 0..ROUNDS {
        writes.push(Write::Grants(
            (0..BATCH)
                .map(|i| grant(&format!("r{r:02}-{i}"), principal(r + i)))
                .collect(),
        ));
        if r > 0 {
            writes.push(Write::Grants(vec![grant(
                &format!("r{:02}-0", r - 1),
                principal(r + 1),
            )]));
            writes.push(Write::Delete(format!("r{:02}-1", r - 1)));
        }
        writes.push(Write::Resource(res("user", &format!("u{r:02}"))));
    }
    let mut states = vec![Written::default()];
    for w in &writes {
        let mut s = states.last().cloned().unwrap_or_default();
        match w {
            Write::Grants(v) => {
                for g in v {
                    s.grants.insert(g.id.clone(), g.principal.resource.clone());
                }
            }
            Write::Resource(_) => s.resources += 1,
            Write::Delete(id) => {
                s.grants.remove(id);
            }
        }
        states.push(s);
    }
    let (id, _) = cx.e().start_sync()?;
    let e = cx.e();
    let (started, done, finished) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicBool::new(false),
    );
    // Reads the reader has finished, and whether it has stopped (so the writer never waits for
    // a reader that returned).
    let (reads_done, reader_gone) = (AtomicUsize::new(0), AtomicBool::new(false));
    let watched = ListQuery::Grants(GrantFilter::Principal(ResourceId::new("user", WATCHED)));
    let all = ListQuery::Grants(GrantFilter::All);
    let page = PageRequest::first(MAX_PAGE_SIZE);
    std::thread::scope(|s| -> CheckResult {
        let reader = s.spawn(|| -> CheckResult {
            let mut checked = 0u64;
            let out = (|| loop {
                let last = finished.load(SeqCst);
                for read in 0..4 {
                    let lo = done.load(SeqCst);
                    // What the read saw, as comparable text ([`Written::answer`]).
                    let seen = match read {
                        0 => {
                            let st = e.stats(Some(&id))?;
                            format!("{} grants, {} resources", st.grants, st.resources)
                        }
                        1 | 2 => {
                            let q = if read == 1 { &all } else { &watched };
                            let p = e.list(Some(&id), q, &page)?;
                            format!("{:?}", p.items.iter().map(|r| r.key()).collect::<Vec<_>>())
                        }
                        _ => {
                            let got = e.get(Some(&id), &RecordKey::Grant(PROBE.into()))?;
                            format!(
                                "{:?}",
                                got.map(|r| match r {
                                    Record::Grant(g) => g.principal.resource,
                                    other => format!("{other:?}"),
                                })
                            )
                        }
                    };
                    let hi = started.load(SeqCst).min(writes.len());
                    checked += 1;
                    reads_done.fetch_add(1, SeqCst);
                    let window = states.get(lo.min(hi)..=hi).unwrap_or_default();
                    if !window.iter().any(|w| w.answer(read) == seen) {
                        return Err(Failure(format!(
                            "a read saw {seen}, which no state between write {lo} and write {hi} holds (read {checked}; the writer's states there: {})",
                            window.iter().map(|w| w.answer(read)).collect::<Vec<_>>().join(" | ")
                        )));
                    }
                }
                if last {
                    return Ok(());
                }
            })();
            reader_gone.store(true, SeqCst);
            out
        });
        // The writer starts once the reader has read once, so the reads overlap the writes
        // however fast the engine writes (on a fast one the reader used to start after the
        // writer had finished).
        while reads_done.load(SeqCst) == 0 && !reader_gone.load(SeqCst) {
            std::thread::yield_now();
        }
        let written = writes.iter().enumerate().try_for_each(|(i, w)| {
            started.store(i + 1, SeqCst);
            let r = match w {
                Write::Grants(v) => e.put(&RecordBatch::Grants(v.clone()), PutMode::Replace),
                Write::Resource(r) => {
                    e.put(&RecordBatch::Resources(vec![r.clone()]), PutMode::Replace)
                }
                Write::Delete(id) => e.delete_grant(id).map(|_| ()),
            };
            done.store(i + 1, SeqCst);
            // Let the reader in between writes, so reads meet many states.
            std::thread::yield_now();
            r
        });
        // Stop the reader on every path, or a failed write would leave it spinning.
        finished.store(true, SeqCst);
        let read = reader
            .join()
            .map_err(|_| Failure("reader thread panicked".into()))?;
        written?;
        read
    })?;
    let last = states.last().cloned().unwrap_or_default();
    ensure_eq!(
        cx.e().stats(Some(&id))?.grants,
        last.grants.len() as u64,
        "every write landed"
    );
    Ok(())
}
