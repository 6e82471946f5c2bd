//! Criterion groups, the engine as the parameter:
//! - `ingest`: one full sync of N grants (with their resources and entitlements), flushed;
//!   for the key-value engines `ingest_raw_floor` writes the same number of keys and values
//!   straight into the backend, the floor that shows the layer's own overhead.
//! - `point_get`: 1,000 grant gets by id in an N-grant sync.
//! - `page_all_grants`: paging through all N grants, 1,000 per page.
//! - `list_by_principal`: the grants of 100 principals through the index.
//!
//! Run: `cargo bench -p syncproof-benches` (`SYNCPROOF_BENCH_LARGE=1` for 100k and 1M).

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use syncproof_benches::{empty, shape, sizes, with_sync};
use syncproof_engine::kv::WriteBatch;
use syncproof_engine::*;
use syncproof_harness::engines;
use syncproof_harness::workload::{batches, grant, write_sync};

fn ingest(c: &mut Criterion) {
    let mut g = c.benchmark_group("ingest");
    g.sample_size(10);
    for n in sizes() {
        g.throughput(Throughput::Elements(n as u64));
        for info in engines::all() {
            let opener = (info.opener)();
            g.bench_with_input(BenchmarkId::new(info.name, n), &n, |b, &n| {
                b.iter_batched(
                    || empty(opener.as_ref()),
                    |s| {
                        write_sync(s.engine.as_ref(), shape(n), 0, &mut |_| {}).unwrap();
                        s.engine.flush().unwrap();
                        s
                    },
                    BatchSize::PerIteration,
                )
            });
        }
    }
    g.finish();

    // The floor: the same records' keys and envelopes written raw, one batch per 1,000.
    let mut g = c.benchmark_group("ingest_raw_floor");
    g.sample_size(10);
    for n in sizes() {
        g.throughput(Throughput::Elements(n as u64));
        let raw: Vec<WriteBatch> = batches(shape(n), 0)
            .map(|b| {
                let mut w = WriteBatch::new();
                for (i, r) in b.to_records().iter().enumerate() {
                    let key = format!("{:?}{i}", r.key()).into_bytes();
                    w.put(key, codec::envelope::encode_record(r).unwrap());
                }
                w
            })
            .collect();
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

fn reads(c: &mut Criterion) {
    for n in sizes() {
        let stores: Vec<_> = engines::all()
            .into_iter()
            .map(|info| (info.name, with_sync((info.opener)().as_ref(), n)))
            .collect();
        let sh = shape(n);
        let mut g = c.benchmark_group("point_get");
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
        let mut g = c.benchmark_group("page_all_grants");
        g.throughput(Throughput::Elements(n as u64));
        for (name, (s, id)) in &stores {
            g.bench_with_input(BenchmarkId::new(*name, n), &n, |b, &n| {
                b.iter(|| {
                    let mut req = PageRequest::first(1_000);
                    let mut seen = 0;
                    loop {
                        let p = s
                            .engine
                            .list(Some(id), &ListQuery::Grants(GrantFilter::All), &req)
                            .unwrap();
                        seen += p.items.len();
                        match p.next_token {
                            Some(t) => req = PageRequest::after(1_000, t),
                            None => break,
                        }
                    }
                    assert_eq!(seen, n);
                })
            });
        }
        g.finish();
        let mut g = c.benchmark_group("list_by_principal");
        g.throughput(Throughput::Elements(100));
        for (name, (s, id)) in &stores {
            g.bench_with_input(BenchmarkId::new(*name, n), &n, |b, _| {
                b.iter(|| {
                    for u in 0..100 {
                        let p = ResourceId::new("user", format!("{:07}", u * 7 % sh.users));
                        s.engine
                            .list(
                                Some(id),
                                &ListQuery::Grants(GrantFilter::Principal(p)),
                                &PageRequest::first(0),
                            )
                            .unwrap();
                    }
                })
            });
        }
        g.finish();
    }
}

criterion_group!(benches, ingest, reads);
criterion_main!(benches);
