//! Reads while one thread writes (SPEC §6), per engine: readers' throughput with and without a
//! writer, and the writer's with and without readers, in one process side by side.
//!
//! Each engine's store holds a finished full sync of [`PRELOAD`] grants over three principals
//! and a current sync the writer re-puts a batch of [`BATCH`] grants into per element. A
//! reader's element is one read of the finished sync, in turn: a page of the default size of
//! all grants, the same of one principal's index list, and a point get.
//!
//! - `read_while_writing/<engine>/readers-alone`: [`READERS`] readers, no writer;
//! - `…/readers-with-writer`: the same while a writer puts batches without pause;
//! - `…/writer-alone`: the writer, no readers;
//! - `…/writer-with-readers`: the same while the readers read without pause.
//!
//! The ratios to quote: readers-with-writer / readers-alone (how much a writer slows reads)
//! and writer-with-readers / writer-alone (how much readers slow the writer). Stores are in
//! the RAM-backed scratch dir (durability is not what this measures).
//!
//! Run: `cargo bench -p syncproof-benches --bench read_while_writing`.

/// The allocator the `syncproof` binary runs with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use syncproof_engine::contract::grant;
use syncproof_engine::*;
use syncproof_harness::engines;

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

fn bench(c: &mut Criterion) {
    let scratch = syncproof_engine::scratch::Scratch::default_dir();
    let batch = RecordBatch::Grants(grants("w", BATCH));
    let mut group = c.benchmark_group("read_while_writing");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for info in engines::all() {
        let dir = syncproof_engine::scratch::tempdir(Some(&scratch.path)).expect("temp dir");
        let (e, sync) = store(&info, dir.path());
        let e = e.as_ref();
        let read_one = |_: usize, i: u64| read(e, &sync, i);
        let write_one = |_: usize, _: u64| write(e, &batch);
        let reads: Side<'_> = (READERS, &read_one);
        let writes: Side<'_> = (1, &write_one);
        for (id, elements, foreground, background) in [
            ("readers-alone", READERS, reads, None),
            ("readers-with-writer", READERS, reads, Some(writes)),
            ("writer-alone", BATCH, writes, None),
            ("writer-with-readers", BATCH, writes, Some(reads)),
        ] {
            group.throughput(Throughput::Elements(elements as u64));
            group.bench_function(BenchmarkId::new(info.name, id), |b| {
                b.iter_custom(|iters| side_by_side(iters, foreground, background))
            });
        }
    }
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
