//! Crash survival: a child process writes syncs and logs every call acknowledged after a
//! `flush()`; the parent kills it (SIGKILL) at a random instant, reopens the store and checks
//! that every acknowledged batch is there, that no batch is half visible, and that `verify`
//! passes.

use std::io::Write;
use std::path::Path;

use syncproof_engine::contract::grant;
use syncproof_engine::page::read_all;
use syncproof_engine::*;

/// Grants per batch; a batch is visible wholly (this many) or not at all.
pub const BATCH: usize = 20;
/// Batches per sync before the writer ends it and starts the next.
pub const BATCHES_PER_SYNC: u64 = 8;

fn batch_grants(sync_no: u64, batch: u64) -> Vec<Grant> {
    (0..BATCH)
        .map(|j| {
            grant(
                &format!("s{sync_no:04}-b{batch:06}-{j:02}"),
                "member",
                "group",
                "eng",
                "user",
                &format!("u{batch}"),
            )
        })
        .collect()
}

/// The child: writes until killed, appending `sync <n> <id>`, `put <n> <batch>` and
/// `end <n>` to `log` after each flushed call (the log is fsynced too).
pub fn writer(e: &dyn StorageEngine, log: &Path) -> Result<()> {
    // A previous writer's kill may have cut its last line: drop it, and number on from there.
    let previous = std::fs::read_to_string(log).unwrap_or_default();
    let whole = previous.rfind('\n').map_or(0, |i| i + 1);
    let first_sync = previous[..whole]
        .lines()
        .filter(|l| l.starts_with("sync "))
        .count() as u64;
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(log)?;
    log.set_len(whole as u64)?;
    std::io::Seek::seek(&mut log, std::io::SeekFrom::End(0))?;
    let mut ack = |line: String| -> Result<()> {
        log.write_all(line.as_bytes())?;
        log.sync_data()?;
        Ok(())
    };
    let mut batch = 0u64;
    for sync_no in first_sync.. {
        let id = e.start_new_sync(SyncType::Full, None)?;
        e.flush()?;
        ack(format!("sync {sync_no} {id}\n"))?;
        for _ in 0..BATCHES_PER_SYNC {
            e.put(
                &RecordBatch::Grants(batch_grants(sync_no, batch)),
                PutMode::Replace,
            )?;
            e.flush()?;
            ack(format!("put {sync_no} {batch}\n"))?;
            batch += 1;
        }
        e.end_sync()?;
        e.flush()?;
        ack(format!("end {sync_no}\n"))?;
    }
    Ok(())
}

/// What one reopen after a kill found.
#[derive(Debug, Default)]
pub struct Survival {
    /// Syncs the log names.
    pub syncs: usize,
    pub acked_batches: u64,
    pub visible_batches: u64,
    pub problems: Vec<String>,
}

/// The parent's check after a kill: `e` is the reopened store, `log` the child's acks. Syncs
/// before the `skip`-th are not re-read (an earlier check covered them); `verify` runs the
/// whole-store integrity check too.
pub fn check(e: &dyn StorageEngine, log: &str) -> Result<Survival> {
    check_from(e, log, 0, true)
}

/// [`check`] of the syncs from the `skip`-th on, with or without `verify`.
pub fn check_from(e: &dyn StorageEngine, log: &str, skip: usize, verify: bool) -> Result<Survival> {
    let mut s = Survival::default();
    let mut syncs: Vec<(u64, SyncId)> = Vec::new();
    let mut acked: Vec<(u64, u64)> = Vec::new();
    let mut ended: Vec<u64> = Vec::new();
    // Only whole lines count: the kill may cut the last one.
    for line in log.lines().take(log.matches('\n').count()) {
        let parts: Vec<&str> = line.split(' ').collect();
        match parts.as_slice() {
            ["sync", n, id] => syncs.push((n.parse().unwrap_or(u64::MAX), SyncId::new(*id))),
            ["put", n, b] => {
                acked.push((n.parse().unwrap_or(u64::MAX), b.parse().unwrap_or(u64::MAX)))
            }
            ["end", n] => ended.push(n.parse().unwrap_or(u64::MAX)),
            _ => s.problems.push(format!("unreadable ack line {line:?}")),
        }
    }
    s.acked_batches = acked.len() as u64;
    for (n, id) in syncs.iter().skip(skip) {
        let run = e.get_sync_run(id)?;
        let Some(run) = run else {
            s.problems
                .push(format!("acknowledged sync {n} ({id}) is gone"));
            continue;
        };
        if ended.contains(n) && run.ended_at.is_none() {
            s.problems.push(format!(
                "sync {n} was acknowledged as ended but is unfinished"
            ));
        }
        // Count each batch's grants: 0 or BATCH, never in between.
        let mut per_batch: std::collections::BTreeMap<String, usize> = Default::default();
        let grants = read_all(MAX_PAGE_SIZE, |req| {
            e.list(Some(id), &ListQuery::Grants(GrantFilter::All), req)
        })?;
        for r in &grants {
            if let Record::Grant(g) = r {
                let batch =
                    g.id.rsplit_once('-')
                        .map_or(g.id.clone(), |(b, _)| b.to_string());
                *per_batch.entry(batch).or_default() += 1;
            }
        }
        for (b, count) in &per_batch {
            s.visible_batches += 1;
            if *count != BATCH {
                s.problems.push(format!(
                    "batch {b} is half visible: {count} of {BATCH} grants"
                ));
            }
        }
        for (sn, b) in acked.iter().filter(|(sn, _)| sn == n) {
            let name = format!("s{sn:04}-b{b:06}");
            if per_batch.get(&name).copied() != Some(BATCH) {
                s.problems
                    .push(format!("acknowledged batch {name} is missing"));
            }
        }
    }
    if verify {
        let report = e.verify()?;
        s.problems
            .extend(report.problems.into_iter().map(|p| format!("verify: {p}")));
    }
    s.syncs = syncs.len();
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use syncproof_memory::MemoryEngine;

    fn store_with(batches: &[(u64, usize)]) -> (MemoryEngine, SyncId) {
        let e = MemoryEngine::new(EngineConfig::default());
        let id = e.start_new_sync(SyncType::Full, None).unwrap();
        for (b, n) in batches {
            let mut g = batch_grants(0, *b);
            g.truncate(*n);
            e.put(&RecordBatch::Grants(g), PutMode::Replace).unwrap();
        }
        (e, id)
    }

    #[test]
    fn whole_acknowledged_batches_pass() {
        let (e, id) = store_with(&[(0, BATCH), (1, BATCH)]);
        let s = check(&e, &format!("sync 0 {id}\nput 0 0\nput 0 1\n")).unwrap();
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert_eq!((s.acked_batches, s.visible_batches), (2, 2));
    }

    #[test]
    fn a_lost_acknowledged_batch_is_reported() {
        let (e, id) = store_with(&[(0, BATCH)]);
        let s = check(&e, &format!("sync 0 {id}\nput 0 0\nput 0 1\n")).unwrap();
        assert!(
            s.problems
                .iter()
                .any(|p| p.contains("s0000-b000001 is missing")),
            "{:?}",
            s.problems
        );
    }

    #[test]
    fn a_half_visible_batch_is_reported() {
        let (e, id) = store_with(&[(0, BATCH), (1, 7)]);
        let s = check(&e, &format!("sync 0 {id}\nput 0 0\n")).unwrap_or_default();
        assert!(
            s.problems.iter().any(|p| p.contains("half visible")),
            "{:?}",
            s.problems
        );
    }

    #[test]
    fn a_lost_sync_and_a_cut_log_line() {
        let (e, _) = store_with(&[]);
        let s = check(&e, "sync 0 nosuchsync\nput 0 0\nput 0 1").unwrap();
        assert!(
            s.problems.iter().any(|p| p.contains("is gone")),
            "{:?}",
            s.problems
        );
        assert_eq!(s.acked_batches, 1, "the cut last line must not count");
    }
}
