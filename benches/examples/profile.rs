//! One workload once, on one engine, for a profiler (`perf record`, `valgrind --tool=callgrind`):
//! the set-up is the benchmarks' own, so a profile explains a benchmark.
//!
//! `cargo run --release -p syncproof-benches --example profile -- WORKLOAD ENGINE N [REPEAT]`
//! with WORKLOAD one of `ingest`, `floor` (the raw floor of ingest), `page` (every grant,
//! 1,000 per page), `diff` (of two syncs, 10% changed), `cleanup` (the older of two syncs) or
//! `clone` (one sync into an empty store). The stores a workload starts from are built first,
//! in the same process: read a diff's, cleanup's or clone's share of a call-graph profile
//! under `generate_sync_diff`, `cleanup` or `clone_sync` (`perf report --children`).

use syncproof_benches::{empty, raw_floor, shape, with_sync, with_syncs};
use syncproof_engine::page::read_all;
use syncproof_engine::*;
use syncproof_harness::engines;
use syncproof_harness::workload::{batches, write_sync_of};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(workload), Some(engine), Some(n)) = (args.first(), args.get(1), args.get(2)) else {
        eprintln!("usage: profile ingest|floor|page|diff|cleanup|clone ENGINE N [REPEAT]");
        return std::process::ExitCode::from(2);
    };
    let parsed = (
        n.parse::<usize>(),
        args.get(3).map_or(Ok(1), |r| r.parse::<usize>()),
    );
    let (Ok(n), Ok(repeat)) = parsed else {
        eprintln!("N and REPEAT are counts");
        return std::process::ExitCode::from(2);
    };
    let info = match engines::select(Some(engine)) {
        Ok(mut v) if v.len() == 1 => v.remove(0),
        Ok(_) => {
            eprintln!("name one engine");
            return std::process::ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let opener = (info.opener)();
    match workload.as_str() {
        "ingest" => {
            let sync: Vec<RecordBatch> = batches(shape(n), 0).collect();
            for _ in 0..repeat {
                let s = empty(opener.as_ref());
                write_sync_of(s.engine.as_ref(), &sync, &mut |_| {}).unwrap();
                s.engine.flush().unwrap();
            }
        }
        "floor" => {
            let Some(open) = info.kv else {
                eprintln!("{engine} has no raw backend");
                return std::process::ExitCode::from(2);
            };
            let raw = raw_floor(n);
            for _ in 0..repeat {
                let dir = tempfile::tempdir().unwrap();
                let backend = open(dir.path()).unwrap();
                for w in &raw {
                    backend.write(w).unwrap();
                }
                backend.flush().unwrap();
            }
        }
        "page" => {
            let (s, id) = with_sync(opener.as_ref(), n);
            let all = ListQuery::Grants(GrantFilter::All);
            for _ in 0..repeat {
                let got = read_all(1_000, |req| s.engine.list(Some(&id), &all, req)).unwrap();
                assert_eq!(got.len(), n);
            }
        }
        "diff" => {
            let (s, ids) = with_syncs(opener.as_ref(), n, 2);
            for _ in 0..repeat {
                s.engine.generate_sync_diff(&ids[0], &ids[1]).unwrap();
                s.engine.flush().unwrap();
            }
        }
        "cleanup" => {
            for _ in 0..repeat {
                let s = with_syncs(opener.as_ref(), n, 2).0;
                assert_eq!(s.engine.cleanup(1).unwrap().len(), 1);
                s.engine.flush().unwrap();
            }
        }
        "clone" => {
            let (s, id) = with_sync(opener.as_ref(), n);
            for _ in 0..repeat {
                let target = empty(opener.as_ref());
                s.engine.clone_sync(&id, target.engine.as_ref()).unwrap();
                target.engine.flush().unwrap();
            }
        }
        other => {
            eprintln!("unknown workload {other:?}");
            return std::process::ExitCode::from(2);
        }
    }
    std::process::ExitCode::SUCCESS
}
