//! Criterion groups, the engine as the function and the grant count N as the parameter
//! (`<group>/<engine>/<N>`); `syncproof report` turns their results into `reports/README.md`.
//!
//! Writes (each ends with `flush()`, so every engine pays for durability the same way):
//! - `ingest`: one full sync of N grants with their users, groups and entitlements.
//! - `ingest_raw_floor`: the exact keys and values the key-value layer writes for that sync
//!   (`kv::fresh_writes`), written straight into each backend: the layer's floor.
//! - `resync_if_newer`: the same records again, if-newer, into the open sync; half are newer.
//! - `diff_10pct`: `generate_sync_diff` of two syncs that differ in a tenth of the grants.
//! - `cleanup`: `cleanup(1)` with two full syncs, deleting the older one.
//! - `clone`: `clone_sync` of one sync into an empty store.
//!
//! Reads, in one finished sync of N grants:
//! - `point_get`: 1,000 grant gets by id.
//! - `page_all_grants`: every grant, 1,000 per page, resuming with page tokens.
//! - `list_by_principal`, `list_by_entitlement`: index lists, every page.
//!
//! Run: `cargo bench -p syncproof-benches` (sizes: see `syncproof_benches::sizes`).

use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, BatchSize, BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use syncproof_benches::*;
use syncproof_engine::*;
use syncproof_harness::workload::{batches, grant, records_per_sync, write_sync_of};
use syncproof_harness::{engines, report};

/// A group for whole-store writes: few, long samples, each on fresh set-up.
fn write_group<'c>(c: &'c mut Criterion, name: &str) -> BenchmarkGroup<'c, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .sampling_mode(SamplingMode::Flat);
    g
}

/// A group for reads: more samples on one prepared store.
fn read_group<'c>(c: &'c mut Criterion, name: &str) -> BenchmarkGroup<'c, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g
}

fn ingest(c: &mut Criterion) {
    let mut g = write_group(c, "ingest");
    for n in sizes() {
        g.throughput(Throughput::Elements(records_per_sync(&shape(n))));
        let sync: Vec<RecordBatch> = batches(shape(n), 0).collect();
        for info in engines::all() {
            let opener = (info.opener)();
            g.bench_with_input(BenchmarkId::new(info.name, n), &n, |b, _| {
                b.iter_batched(
                    || empty(opener.as_ref()),
                    |s| {
                        write_sync_of(s.engine.as_ref(), &sync, &mut |_| {}).unwrap();
                        s.engine.flush().unwrap();
                        s
                    },
                    BatchSize::PerIteration,
                )
            });
        }
    }
    g.finish();

    let mut g = write_group(c, "ingest_raw_floor");
    for n in sizes() {
        g.throughput(Throughput::Elements(records_per_sync(&shape(n))));
        let raw = raw_floor(n);
        for info in engines::all() {
            let Some(open) = info.kv else { continue };
            g.bench_with_input(BenchmarkId::new(info.name, n), &n, |b, _| {
                b.iter_batched(
                    || {
                        let dir = tempfile::tempdir().unwrap();
                        let backend = open(dir.path()).unwrap();
                        (dir, backend)
                    },
                    |(dir, backend)| {
                        for w in &raw {
                            backend.write(w).unwrap();
                        }
                        backend.flush().unwrap();
                        (dir, backend)
                    },
                    BatchSize::PerIteration,
                )
            });
        }
    }
    g.finish();
}

fn resync(c: &mut Criterion) {
    let mut g = write_group(c, "resync_if_newer");
    for n in sizes() {
        g.throughput(Throughput::Elements(records_per_sync(&shape(n))));
        let again = half_newer(n);
        for info in engines::all() {
            let opener = (info.opener)();
            g.bench_with_input(BenchmarkId::new(info.name, n), &n, |b, &n| {
                b.iter_batched(
                    || with_open_sync(opener.as_ref(), n),
                    |s| {
                        for batch in &again {
                            s.engine.put(batch, PutMode::IfNewer).unwrap();
                        }
                        s.engine.flush().unwrap();
                        s
                    },
                    BatchSize::PerIteration,
                )
            });
        }
    }
    g.finish();
}

fn maintenance(c: &mut Criterion) {
    let mut g = write_group(c, "diff_10pct");
    for n in sizes() {
        g.throughput(Throughput::Elements(records_per_sync(&shape(n))));
        for info in engines::all() {
            let opener = (info.opener)();
            g.bench_with_input(BenchmarkId::new(info.name, n), &n, |b, &n| {
                b.iter_batched(
                    || with_syncs(opener.as_ref(), n, 2),
                    |(s, ids)| {
                        s.engine.generate_sync_diff(&ids[0], &ids[1]).unwrap();
                        s.engine.flush().unwrap();
                        s
                    },
                    BatchSize::PerIteration,
                )
            });
        }
    }
    g.finish();

    let mut g = write_group(c, "cleanup");
    for n in sizes() {
        g.throughput(Throughput::Elements(records_per_sync(&shape(n))));
        for info in engines::all() {
            let opener = (info.opener)();
            g.bench_with_input(BenchmarkId::new(info.name, n), &n, |b, &n| {
                b.iter_batched(
                    || with_syncs(opener.as_ref(), n, 2).0,
                    |s| {
                        assert_eq!(s.engine.cleanup(1).unwrap().len(), 1);
                        s.engine.flush().unwrap();
                        s
                    },
                    BatchSize::PerIteration,
                )
            });
        }
    }
    g.finish();

    let mut g = write_group(c, "clone");
    for n in sizes() {
        g.throughput(Throughput::Elements(records_per_sync(&shape(n))));
        for info in engines::all() {
            let opener = (info.opener)();
            let (src, id) = with_sync(opener.as_ref(), n);
            g.bench_with_input(BenchmarkId::new(info.name, n), &n, |b, _| {
                b.iter_batched(
                    || empty(opener.as_ref()),
                    |target| {
                        src.engine.clone_sync(&id, target.engine.as_ref()).unwrap();
                        target.engine.flush().unwrap();
                        target
                    },
                    BatchSize::PerIteration,
                )
            });
        }
    }
    g.finish();
}

/// Lists every page of `query` in `sync`; the number of records.
fn list_all(e: &dyn StorageEngine, sync: &SyncId, query: &ListQuery) -> usize {
    page::read_all(1_000, |req| e.list(Some(sync), query, req))
        .unwrap()
        .len()
}

fn reads(c: &mut Criterion) {
    for n in sizes() {
        let sh = shape(n);
        let stores: Vec<_> = engines::all()
            .into_iter()
            .map(|info| (info.name, with_sync((info.opener)().as_ref(), n)))
            .collect();

        let mut g = read_group(c, "point_get");
        g.throughput(Throughput::Elements(1_000));
        for (name, (s, id)) in &stores {
            g.bench_with_input(BenchmarkId::new(*name, n), &n, |b, _| {
                b.iter(|| {
                    for i in 0..1_000 {
                        let key = RecordKey::Grant(grant(&sh, (i * 7919) % n, 0).id);
                        assert!(s.engine.get(Some(id), &key).unwrap().is_some());
                    }
                })
            });
        }
        g.finish();

        let mut g = read_group(c, "page_all_grants");
        g.throughput(Throughput::Elements(n as u64));
        let all = ListQuery::Grants(GrantFilter::All);
        for (name, (s, id)) in &stores {
            g.bench_with_input(BenchmarkId::new(*name, n), &n, |b, &n| {
                b.iter(|| assert_eq!(list_all(s.engine.as_ref(), id, &all), n))
            });
        }
        g.finish();

        // 100 principals (about 10 grants each) and up to 100 entitlements (about 100 each).
        let principals: Vec<_> = (0..100)
            .map(|u| {
                ListQuery::Grants(GrantFilter::Principal(ResourceId::new(
                    "user",
                    format!("{:07}", u * 7 % sh.users),
                )))
            })
            .collect();
        let entitlements: Vec<_> = (0..sh.groups.min(100))
            .map(|i| {
                let e = grant(&sh, i * 13 % sh.groups, 0).entitlement.id;
                ListQuery::Grants(GrantFilter::Entitlement {
                    id: e,
                    principal: None,
                })
            })
            .collect();
        for (group, queries) in [
            ("list_by_principal", &principals),
            ("list_by_entitlement", &entitlements),
        ] {
            let (s, id) = &stores[0].1;
            let listed: usize = queries
                .iter()
                .map(|q| list_all(s.engine.as_ref(), id, q))
                .sum();
            let mut g = read_group(c, group);
            g.throughput(Throughput::Elements(listed as u64));
            for (name, (s, id)) in &stores {
                g.bench_with_input(BenchmarkId::new(*name, n), &n, |b, _| {
                    b.iter(|| {
                        let got: usize = queries
                            .iter()
                            .map(|q| list_all(s.engine.as_ref(), id, q))
                            .sum();
                        assert_eq!(got, listed);
                    })
                });
            }
            g.finish();
        }
    }
}

criterion_group!(benches, ingest, resync, maintenance, reads);

/// criterion's main, after recording the run's command, sizes and commit for the report.
fn main() {
    let env: Vec<(&str, String)> = [SIZES_VAR, LARGE_VAR]
        .into_iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| (k, v)))
        .collect();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let testing = args.iter().any(|a| a == "--test" || a == "--list");
    if let (false, Some(dir)) = (testing, report::criterion_dir()) {
        let info = report::RunInfo::of_this_run(sizes(), &args, &env);
        if let Err(e) = info.write(&dir) {
            eprintln!("warning: cannot record the run in {}: {e}", dir.display());
        }
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
