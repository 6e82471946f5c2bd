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
//! - `point_get`: 1,000 grant gets by id; `point_get_lent`: the same through `visit_get`.
//! - `page_all_grants`: every grant, 1,000 per page, resuming with page tokens;
//!   `page_all_grants_lent`: the same through `visit_list` (records lent, not decoded).
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
use syncproof_harness::report::workloads::*;
use syncproof_harness::workload::{batches, grant, records_per_sync, write_sync_of};
use syncproof_harness::{engines, report};

/// The criterion group of a workload, sampled as the workload says.
fn group<'c>(c: &'c mut Criterion, w: &Workload) -> BenchmarkGroup<'c, WallTime> {
    let mut g = c.benchmark_group(w.group);
    let s = w.sampling;
    g.sample_size(s.samples)
        .warm_up_time(Duration::from_secs(s.warm_up_secs))
        .measurement_time(Duration::from_secs(s.measurement_secs))
        .sampling_mode(if s.flat {
            SamplingMode::Flat
        } else {
            SamplingMode::Auto
        });
    g
}

/// A whole-store write workload on every engine. Per N, `input` is built once and shared by
/// the engines; per engine the store `fill` names is built once ([`Template`]) and each
/// iteration starts from a copy of it (not timed); `work` is timed, followed by the store's
/// `flush()`, and the store is dropped outside the timing.
fn store_writes<I>(
    c: &mut Criterion,
    w: &Workload,
    input: impl Fn(usize) -> I,
    fill: Fill,
    work: impl Fn(&I, &Store, &[SyncId]),
) {
    let mut g = group(c, w);
    for n in sizes() {
        g.throughput(Throughput::Elements(records_per_sync(&shape(n))));
        let input = input(n);
        for info in engines::all() {
            g.bench_with_input(BenchmarkId::new(info.name, n), &n, |b, &n| {
                // Built here, so that a filtered run builds only the stores it measures.
                let template = Template::new(&info, n, fill);
                b.iter_batched(
                    || template.instance(),
                    |(s, ids)| {
                        work(&input, &s, &ids);
                        s.engine.flush().unwrap();
                        (s, ids)
                    },
                    BatchSize::PerIteration,
                )
            });
        }
    }
    g.finish();
}

fn ingest(c: &mut Criterion) {
    store_writes(
        c,
        &INGEST,
        |n| batches(shape(n), 0).collect::<Vec<_>>(),
        Fill::Empty,
        |sync, s, _| {
            write_sync_of(s.engine.as_ref(), sync, &mut |_| {}).unwrap();
        },
    );

    let mut g = group(c, &INGEST_RAW_FLOOR);
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
    store_writes(
        c,
        &RESYNC_IF_NEWER,
        half_newer,
        Fill::OpenSync,
        |again, s, _| {
            for batch in again {
                s.engine.put(batch, PutMode::IfNewer).unwrap();
            }
        },
    );
}

fn maintenance(c: &mut Criterion) {
    store_writes(
        c,
        &DIFF_10PCT,
        |_| (),
        Fill::Syncs(2),
        |_, s, ids| {
            s.engine.generate_sync_diff(&ids[0], &ids[1]).unwrap();
        },
    );
    store_writes(
        c,
        &CLEANUP,
        |_| (),
        Fill::Syncs(2),
        |_, s, _| assert_eq!(s.engine.cleanup(1).unwrap().len(), 1),
    );

    let mut g = group(c, &CLONE);
    for n in sizes() {
        g.throughput(Throughput::Elements(records_per_sync(&shape(n))));
        for info in engines::all() {
            let source = LazySync::new((info.opener)(), n);
            let opener = (info.opener)();
            g.bench_with_input(BenchmarkId::new(info.name, n), &n, |b, _| {
                let (src, id) = source.get();
                b.iter_batched(
                    || empty(opener.as_ref()),
                    |target| {
                        src.clone_sync(id, target.engine.as_ref()).unwrap();
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

/// One read workload's group: `read` (which asserts what it read) on every engine's store of
/// one finished sync of N grants; `elements` is what one iteration reads.
fn read_group(
    c: &mut Criterion,
    w: &Workload,
    stores: &[(&str, LazySync)],
    n: usize,
    elements: u64,
    read: impl Fn(&dyn StorageEngine, &SyncId),
) {
    let mut g = group(c, w);
    g.throughput(Throughput::Elements(elements));
    for (name, store) in stores {
        g.bench_with_input(BenchmarkId::new(*name, n), &n, |b, _| {
            let (e, id) = store.get();
            b.iter(|| read(e, id))
        });
    }
    g.finish();
}

fn reads(c: &mut Criterion) {
    for n in sizes() {
        let sh = shape(n);
        // Built on first use, so that a filtered run builds only the stores it reads.
        let stores: Vec<(&str, LazySync)> = engines::all()
            .into_iter()
            .map(|info| (info.name, LazySync::new((info.opener)(), n)))
            .collect();

        // The keys are built before timing.
        let keys: Vec<RecordKey> = (0..1_000)
            .map(|i| RecordKey::Grant(grant(&sh, (i * 7919) % n, 0).id))
            .collect();
        read_group(c, &POINT_GET, &stores, n, 1_000, |e, id| {
            for key in &keys {
                assert!(e.get(Some(id), key).unwrap().is_some());
            }
        });
        read_group(c, &POINT_GET_LENT, &stores, n, 1_000, |e, id| {
            for key in &keys {
                let mut principal = 0;
                let found = e
                    .visit_get(Some(id), key, &mut |v| {
                        if let RecordView::Grant(g) = v {
                            principal = g.principal.resource.len();
                        }
                        Ok(())
                    })
                    .unwrap();
                assert!(found && principal > 0);
            }
        });

        let all = ListQuery::Grants(GrantFilter::All);
        read_group(c, &PAGE_ALL_GRANTS, &stores, n, n as u64, |e, id| {
            assert_eq!(list_all(e, id, &all), n)
        });
        read_group(c, &PAGE_ALL_GRANTS_LENT, &stores, n, n as u64, |e, id| {
            assert_eq!(lend_all(e, id, &all).unwrap().0, n)
        });

        // How many grants the index lists find is counted from the generator, not from an
        // engine.
        let grants: Vec<Grant> = (0..n).map(|i| grant(&sh, i, 0)).collect();
        let users = index_principals(&sh);
        let ents = index_entitlements(&sh);
        let by_principal = (
            users.iter().map(principal_query).collect::<Vec<_>>(),
            users
                .iter()
                .map(|p| grants.iter().filter(|g| &g.principal == p).count())
                .sum::<usize>(),
        );
        let by_entitlement = (
            ents.iter()
                .map(|e| entitlement_query(e))
                .collect::<Vec<_>>(),
            ents.iter()
                .map(|e| grants.iter().filter(|g| &g.entitlement.id == e).count())
                .sum::<usize>(),
        );
        for (w, (queries, want)) in [
            (&LIST_BY_PRINCIPAL, by_principal),
            (&LIST_BY_ENTITLEMENT, by_entitlement),
        ] {
            read_group(c, w, &stores, n, want as u64, |e, id| {
                let got: usize = queries.iter().map(|q| list_all(e, id, q)).sum();
                assert_eq!(got, want);
            });
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
    if !testing {
        let dir = report::criterion_dir();
        let info = report::RunInfo::of_this_run(ENGINES_BENCH, sizes(), &args, &env);
        if let Err(e) = info.write(&dir) {
            eprintln!("warning: cannot record the run in {}: {e}", dir.display());
        }
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
