//! Reads while one thread writes (SPEC §6), per engine: readers' throughput with and without a
//! writer, and the writer's with and without readers, in one process side by side.
//!
//! Each engine's store holds a finished full sync of [`PRELOAD`] grants over three principals
//! and a current sync the writer re-puts a batch of [`BATCH`] grants into per element. A
//! reader's element is one read of the finished sync, in turn: a page of the default size of
//! all grants, the same of one principal's index list, and a point get.
//!
//! The four criterion groups, `<group>/<engine>/<PRELOAD>`, are the workloads of
//! `syncproof_harness::report::workloads` whose bench is this one:
//! - `readers_alone`: [`READERS`] readers, no writer;
//! - `readers_with_writer`: the same while a writer puts batches without pause;
//! - `writer_alone`: the writer, no readers;
//! - `writer_with_readers`: the same while the readers read without pause.
//!
//! The ratios to quote (the report's "Reads while one thread writes"): readers-with-writer /
//! readers-alone (how much a writer slows reads) and writer-with-readers / writer-alone (how
//! much readers slow the writer). Stores are in the RAM-backed scratch dir (durability is not
//! what this measures).
//!
//! Run: `cargo bench -p syncproof-benches --bench read_while_writing`; the run is recorded in
//! criterion's directory for `syncproof report --results reports/results.json --update
//! --criterion-dir target/criterion`.

/// The allocator the `syncproof` binary runs with (and, in `main`, its THP setting).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use syncproof_engine::contract::grant;
use syncproof_engine::*;
use syncproof_harness::report::workloads::*;
use syncproof_harness::{engines, report};

/// Grants of the finished sync the readers read.
const PRELOAD: usize = 2_000;
/// Grants per writer batch.
const BATCH: usize = 50;
/// Reader threads.
const READERS: usize = 2;

fn grants(prefix: &str, n: usize) -> Vec<Grant> {
    let principals = ["alice", "bob", "carol"];
    (0..n)
        .map(|i| {
            grant(
                &format!("{prefix}{i:06}"),
                "member",
                "group",
                "eng",
                "user",
                principals
                    .get(i % principals.len())
                    .copied()
                    .unwrap_or("alice"),
            )
        })
        .collect()
}

/// A store with a finished sync of [`PRELOAD`] grants (returned) and a current sync.
fn store(info: &engines::EngineInfo, dir: &std::path::Path) -> (Box<dyn StorageEngine>, SyncId) {
    let e = (info.opener)()
        .open(dir, EngineConfig::default())
        .expect("open");
    let (read, _) = e.start_sync().expect("start");
    for chunk in grants("r", PRELOAD).chunks(500) {
        e.put(&RecordBatch::Grants(chunk.to_vec()), PutMode::Replace)
            .expect("preload");
    }
    e.end_sync().expect("end");
    e.start_sync().expect("start the writer's sync");
    (e, read)
}

/// Read `i` of a reader: a page of all grants, a principal's page, or a get.
fn read(e: &dyn StorageEngine, sync: &SyncId, i: u64) {
    let page = PageRequest::first(0);
    let r = match i % 3 {
        0 => e
            .list(Some(sync), &ListQuery::Grants(GrantFilter::All), &page)
            .map(|p| p.items.len()),
        1 => e
            .list(
                Some(sync),
                &ListQuery::Grants(GrantFilter::Principal(ResourceId::new("user", "bob"))),
                &page,
            )
            .map(|p| p.items.len()),
        _ => e
            .get(
                Some(sync),
                &RecordKey::Grant(format!("r{:06}", i % PRELOAD as u64)),
            )
            .map(|g| usize::from(g.is_some())),
    };
    assert!(r.expect("read") > 0, "the read found the preloaded grants");
}

/// One writer element: a batch re-put into the current sync.
fn write(e: &dyn StorageEngine, batch: &RecordBatch) {
    e.put(batch, PutMode::Replace).expect("write");
}

/// Work on some threads: `(threads, element)`, where `element(thread, i)` does element `i`.
type Side<'a> = (usize, &'a (dyn Fn(usize, u64) + Sync));

/// The time `iters` elements of `foreground` take on each of its threads while `background`
/// (if any) runs elements without pause on its own threads, stopped once the foreground ends.
fn side_by_side(iters: u64, foreground: Side<'_>, background: Option<Side<'_>>) -> Duration {
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        if let Some((threads, element)) = background {
            for t in 0..threads {
                let stop = &stop;
                s.spawn(move || {
                    let mut i = t as u64;
                    while !stop.load(Ordering::Relaxed) {
                        element(t, i);
                        i += 1;
                    }
                });
            }
        }
        let (threads, element) = foreground;
        let start = Instant::now();
        let handles: Vec<_> = (0..threads)
            .map(|t| s.spawn(move || (0..iters).for_each(|i| element(t, i + t as u64))))
            .collect();
        for h in handles {
            h.join().expect("foreground thread");
        }
        let took = start.elapsed();
        stop.store(true, Ordering::Relaxed);
        took
    })
}

/// The criterion group of a workload, sampled as the workload says.
fn group<'c>(c: &'c mut Criterion, w: &Workload) -> BenchmarkGroup<'c, WallTime> {
    let mut g = c.benchmark_group(w.group);
    let s = w.sampling;
    g.sample_size(s.samples)
        .warm_up_time(Duration::from_secs(s.warm_up_secs))
        .measurement_time(Duration::from_secs(s.measurement_secs));
    g
}

fn bench(c: &mut Criterion) {
    let scratch = syncproof_engine::scratch::Scratch::default_dir();
    let batch = RecordBatch::Grants(grants("w", BATCH));
    let engines = engines::all();
    // Every engine's store first, so that each group runs its engines side by side.
    let stores: Vec<_> = engines
        .iter()
        .map(|info| {
            let dir = syncproof_engine::scratch::tempdir(Some(&scratch.path)).expect("temp dir");
            let (e, sync) = store(info, dir.path());
            (info.name, e, sync, dir)
        })
        .collect();
    for (w, elements, readers_foreground, other_side) in [
        (READERS_ALONE, READERS, true, false),
        (READERS_WITH_WRITER, READERS, true, true),
        (WRITER_ALONE, BATCH, false, false),
        (WRITER_WITH_READERS, BATCH, false, true),
    ] {
        debug_assert_eq!(w.bench, READ_WHILE_WRITING);
        let mut g = group(c, &w);
        g.throughput(Throughput::Elements(elements as u64));
        for (name, e, sync, _dir) in &stores {
            let e = e.as_ref();
            let read_one = |_: usize, i: u64| read(e, sync, i);
            let write_one = |_: usize, _: u64| write(e, &batch);
            let reads: Side<'_> = (READERS, &read_one);
            let writes: Side<'_> = (1, &write_one);
            let (foreground, background) = if readers_foreground {
                (reads, writes)
            } else {
                (writes, reads)
            };
            let background = other_side.then_some(background);
            g.bench_function(BenchmarkId::new(*name, PRELOAD), |b| {
                b.iter_custom(|iters| side_by_side(iters, foreground, background))
            });
        }
        g.finish();
    }
}

/// criterion's main, after recording the run's command and commit for the report.
fn main() {
    syncproof_harness::allocator::without_huge_pages();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--test" || a == "--list") {
        let dir = report::criterion_dir();
        let info = report::RunInfo::of_this_run(READ_WHILE_WRITING, vec![PRELOAD], &args, &[]);
        if let Err(e) = info.write(&dir) {
            eprintln!("warning: cannot record the run in {}: {e}", dir.display());
        }
    }
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
