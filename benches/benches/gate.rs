//! The gate's own throughput: the differential of `syncproof check` (generated sequences
//! against the oracle; no contract suite) on each in-tree engine and on all of them at once,
//! with the stores in RAM and on disk. Criterion's elements are checked engine-op
//! applications (every op of every case, once per engine under test), the number the check's
//! summary prints per second.
//!
//! `gate/<engines>/<ram|disk>`: `ram` is the scratch default when it is RAM-backed
//! (`syncproof_engine::scratch`), `disk` the system temp dir when it is not; a variant this
//! machine lacks is skipped with a message.
//!
//! Run: `cargo bench -p syncproof-benches --bench gate`.

/// The allocator the `syncproof` binary runs with (and, in `main`, its THP setting), so this
/// measures what `check` does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use syncproof_engine::scratch::{Chosen, Scratch};
use syncproof_gate::{Harness, Options, Progress};
use syncproof_harness::engines;

/// Cases per iteration: enough that set-up is a small share, few enough for disk samples.
const CASES: u64 = 20;
/// The seed every iteration runs: the same cases, so iterations are comparable.
const SEED: u64 = 7;

/// The places stores can go on this machine: `(label, parent dir)`.
fn places() -> Vec<(&'static str, PathBuf)> {
    let mut p = Vec::new();
    let default = Scratch::default_dir();
    if default.in_ram {
        p.push(("ram", default.path.clone()));
    } else {
        eprintln!(
            "gate bench: no RAM-backed temp dir ({}); skipping `ram`",
            default.describe()
        );
    }
    let system = Scratch::of(&std::env::temp_dir(), Chosen::Given);
    if system.in_ram {
        eprintln!(
            "gate bench: the system temp dir is in RAM ({}); skipping `disk`",
            system.describe()
        );
    } else {
        p.push(("disk", system.path));
    }
    p
}

/// One gate run of [`CASES`] cases on `names` with the stores under `tmp`; its checked
/// engine-op applications. Panics if the run did not pass: a bench of a failing gate
/// measures nothing.
fn check(names: &[&'static str], tmp: &std::path::Path, repros: &std::path::Path) -> u64 {
    let mut harness = Harness::new().options(Options {
        cases: CASES,
        seed: SEED,
        contract: false,
        // The differential alone: the concurrent phase is measured by read_while_writing.
        concurrent_cases: 0,
        progress: Progress::None,
        tmp: Some(tmp.to_path_buf()),
        repro_dir: repros.to_path_buf(),
        ..Options::default()
    });
    for info in engines::all()
        .into_iter()
        .filter(|e| names.contains(&e.name))
    {
        harness = harness.engine(info.name, (info.opener)());
    }
    let report = harness.run();
    assert!(report.passed(), "{}", report.summary());
    report.checked_applications
}

fn gate(c: &mut Criterion) {
    let under_test: Vec<&'static str> = engines::all()
        .into_iter()
        .map(|e| e.name)
        .filter(|n| *n != "memory")
        .collect();
    let mut sets: Vec<(String, Vec<&'static str>)> = under_test
        .iter()
        .map(|n| (n.to_string(), vec![*n]))
        .collect();
    sets.push(("all".into(), under_test.clone()));
    let repros = tempfile::tempdir().expect("repro dir");
    let mut g = c.benchmark_group("gate");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .sampling_mode(SamplingMode::Flat);
    for (label, names) in &sets {
        for (place, tmp) in places() {
            let applications = check(names, &tmp, repros.path());
            g.throughput(Throughput::Elements(applications));
            g.bench_function(BenchmarkId::new(label.as_str(), place), |b| {
                b.iter(|| check(names, &tmp, repros.path()))
            });
        }
    }
    g.finish();
}

fn main() {
    syncproof_harness::allocator::without_huge_pages();
    let mut c = Criterion::default().configure_from_args();
    gate(&mut c);
    c.final_summary();
}
