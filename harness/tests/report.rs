//! `syncproof report` end to end: the report's numbers from criterion-shaped results, and the
//! A/B gate's exit codes on a regressed, an unchanged and a missing baseline.

use std::path::Path;

use syncproof_harness::report::criterion::{load, Estimate, Interval, Measurement};

mod common;
use common::syncproof;

/// A measurement of `ms` milliseconds, with a ±1% interval.
fn m(group: &str, engine: &str, size: u64, ms: f64, elements: u64) -> Measurement {
    let ns = ms * 1e6;
    Measurement {
        group: group.into(),
        engine: engine.into(),
        size,
        median: Estimate {
            point: ns,
            confidence_interval: Interval {
                lower_bound: ns * 0.99,
                upper_bound: ns * 1.01,
            },
        },
        elements: Some(elements),
    }
}

/// Writes criterion-shaped result files for one measurement (criterion itself writes more
/// fields, which `load` ignores; `real_criterion_files_parse` reads a real pair).
fn write_fake(dir: &Path, which: &str, m: &Measurement) -> std::io::Result<()> {
    let d = dir
        .join(&m.group)
        .join(&m.engine)
        .join(m.size.to_string())
        .join(which);
    std::fs::create_dir_all(&d)?;
    let throughput = match m.elements {
        Some(e) => serde_json::json!({ "Elements": e }),
        None => serde_json::Value::Null,
    };
    let bench = serde_json::json!({
        "group_id": m.group, "function_id": m.engine, "value_str": m.size.to_string(),
        "throughput": throughput,
    });
    let est = |e: &Estimate| {
        serde_json::json!({
            "point_estimate": e.point,
            "confidence_interval": {
                "confidence_level": 0.95,
                "lower_bound": e.lower(),
                "upper_bound": e.upper()
            },
            "standard_error": 0.0
        })
    };
    let estimates = serde_json::json!({ "median": est(&m.median), "mean": est(&m.median) });
    std::fs::write(d.join("benchmark.json"), bench.to_string())?;
    std::fs::write(d.join("estimates.json"), estimates.to_string())
}

fn fake(dir: &Path, which: &str, ms: &[Measurement]) {
    for x in ms {
        write_fake(dir, which, x).unwrap();
    }
}

#[test]
fn real_criterion_files_parse() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/criterion");
    let ms = load(&dir, "new").unwrap();
    assert_eq!(ms.len(), 1);
    let x = &ms[0];
    assert_eq!(
        (x.group.as_str(), x.engine.as_str(), x.size),
        ("ingest", "redb", 1000)
    );
    assert!(x.median.lower() <= x.median.point && x.median.point <= x.median.upper());
    assert!(x.elements.is_some_and(|e| e > 1000));
    assert!(x.per_second().is_some_and(|r| r > 0.0));
}

#[test]
fn the_report_states_medians_throughput_and_ratios() {
    let dir = tempfile::tempdir().unwrap();
    let (crit, out) = (dir.path().join("criterion"), dir.path().join("reports"));
    fake(
        &crit,
        "new",
        &[
            m("ingest", "sqlite", 100_000, 10_000.0, 110_000),
            m("ingest", "redb", 100_000, 1_200.0, 110_000),
            m("ingest", "fjall", 100_000, 2_000.0, 110_000),
            m("ingest_raw_floor", "redb", 100_000, 1_000.0, 110_000),
            m("ingest_raw_floor", "fjall", 100_000, 1_000.0, 110_000),
            m("page_all_grants", "sqlite", 100_000, 300.0, 100_000),
            m("page_all_grants", "redb", 100_000, 150.0, 100_000),
            m("page_all_grants_lent", "redb", 100_000, 50.0, 100_000),
            m("diff_10pct", "sqlite", 100_000, 100.0, 100_000),
            m("diff_10pct", "redb", 100_000, 80.0, 100_000),
            m("diff_10pct", "fjall", 100_000, 200.0, 100_000),
        ],
    );
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("notes.md"), "Hand-written analysis.").unwrap();
    let (code, stdout, err) = syncproof(&[
        "report",
        "--criterion-dir",
        crit.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}{err}");
    let md = std::fs::read_to_string(out.join("README.md")).unwrap();
    // redb: 8.33× SQLite, 1.20× its floor; fjall 2× its floor.
    assert!(
        md.contains("| 100,000 | redb | 1.200 s | 1.188 s – 1.212 s | 91.7 k/s | 8.33× | 1.20× |"),
        "{md}"
    );
    assert!(
        md.contains("| 100,000 | redb (raw floor) | 1.000 s"),
        "{md}"
    );
    assert!(md.contains("fjall 2.00× **missed**"), "{md}");
    assert!(md.contains("redb 1.20× met"), "{md}");
    // Issue 16's targets: 10× on ingest; 3× on lent paging against SQLite's owned paging,
    // with the owned path's best beside it; every KV engine on par on diff.
    assert!(
        md.contains("≥ 10× SQLite on `ingest` at N = 100,000: redb 8.33× **missed**"),
        "{md}"
    );
    assert!(
        md.contains(
            "≥ 3× SQLite on `page_all_grants_lent` (against SQLite's `page_all_grants`) at \
             N = 100,000: redb 6.00× met; `page_all_grants`: redb 2.00×"
        ),
        "{md}"
    );
    assert!(
        md.contains(
            "every KV engine ≥ 1.0× SQLite on `diff_10pct` at N = 100,000: redb 1.25× met; \
             fjall 0.50× **missed**"
        ),
        "{md}"
    );
    assert!(
        md.contains(
            "every KV engine but sled ≥ 1.0× SQLite on `cleanup` at N = 100,000: not measured"
        ),
        "{md}"
    );
    assert!(
        md.contains("within 1.3× of the raw floor, N = 10,000: not measured"),
        "{md}"
    );
    assert!(md.contains("Hand-written analysis."));
    assert!(md.contains("## Machine") && md.contains("| mdbx |"));
    let svg = std::fs::read_to_string(out.join("ingest.svg")).unwrap();
    assert!(svg.contains("redb (raw floor)") && svg.contains("</svg>"));
    assert!(out.join("page_all_grants.svg").is_file());
    assert!(
        !out.join("ingest_raw_floor.svg").exists(),
        "floors are drawn with their workload"
    );
}

#[test]
fn the_ab_gate_fails_a_regression_and_passes_noise() {
    let dir = tempfile::tempdir().unwrap();
    let crit = dir.path().join("criterion");
    fake(
        &crit,
        "main",
        &[
            m("ingest", "redb", 1_000, 10.0, 1_100),
            m("point_get", "redb", 1_000, 1.0, 1_000),
        ],
    );
    // redb ingest 30% slower with tight intervals; point_get 5% slower (under the threshold).
    fake(
        &crit,
        "pr",
        &[
            m("ingest", "redb", 1_000, 13.0, 1_100),
            m("point_get", "redb", 1_000, 1.05, 1_000),
        ],
    );
    let c = crit.to_str().unwrap();
    let ab = |a: &str, b: &str| {
        syncproof(&[
            "report",
            "--criterion-dir",
            c,
            "--baseline",
            a,
            "--candidate",
            b,
        ])
    };
    let (code, out, _) = ab("main", "pr");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("ingest/redb/1000") && out.contains("REGRESSED") && out.contains("+30.0%")
    );
    assert!(!out.contains("point_get/redb/1000"), "{out}");
    // The other way round it is an improvement, which passes.
    let (code, out, _) = ab("pr", "main");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("improved"));
    // A stricter threshold still ignores the 5% move only while it is under it.
    let (code, out, _) = syncproof(&[
        "report",
        "--criterion-dir",
        c,
        "--baseline",
        "main",
        "--candidate",
        "pr",
        "--threshold",
        "2",
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("point_get/redb/1000"), "{out}");
    // A baseline that was never saved is a usage error, not a pass.
    let (code, _, err) = ab("main", "nope");
    assert_eq!(code, 2);
    assert!(err.contains("--save-baseline nope"), "{err}");
    assert_eq!(syncproof(&["report", "--baseline", "main"]).0, 2);
}

#[test]
fn no_results_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = syncproof(&[
        "report",
        "--criterion-dir",
        dir.path().join("missing").to_str().unwrap(),
        "--out",
        dir.path().join("out").to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("cargo bench"), "{err}");
}

/// The report without its `- Report:` line (the command that wrote it).
fn without_report_line(md: &str) -> String {
    md.lines()
        .filter(|l| !l.starts_with("- Report:"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_report_states_the_bench_time_machine_and_regenerates_from_its_results() {
    use syncproof_harness::report::machine::Machine;
    use syncproof_harness::report::markdown::EngineRow;
    use syncproof_harness::report::RunInfo;

    let dir = tempfile::tempdir().unwrap();
    let crit = dir.path().join("criterion");
    let ms = [
        m("ingest", "sqlite", 1_000, 10.0, 1_100),
        m("ingest", "redb", 1_000, 2.0, 1_100),
        m("page_all_grants", "redb", 1_000, 1.0, 1_000),
    ];
    fake(&crit, "new", &ms);
    let bench_machine = Machine {
        cpu: "Bench-time CPU 9000".into(),
        cores: "64 logical".into(),
        memory: "512.0 GiB".into(),
        os: "BenchOS".into(),
        kernel: "9.9".into(),
        temp_fs: "/tmp: tmpfs".into(),
        rustc: "rustc 9.99.0".into(),
    };
    let run = RunInfo {
        bench: "engines".into(),
        groups: vec!["ingest".into(), "page_all_grants".into()],
        command: "cargo bench -p syncproof-benches".into(),
        sizes: vec![1_000],
        commit: "abc1234".into(),
        started_unix: 1,
        machine: Some(bench_machine),
        engines: vec![EngineRow {
            name: "redb".into(),
            backend: "redb 0.0 as benchmarked".into(),
            durability: "as benchmarked".into(),
            settings: "bench-time settings".into(),
            kv: true,
        }],
    };
    run.write(&crit).unwrap();
    let out1 = dir.path().join("one");
    let (code, stdout, err) = syncproof(&[
        "report",
        "--criterion-dir",
        crit.to_str().unwrap(),
        "--out",
        out1.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}{err}");
    let md1 = std::fs::read_to_string(out1.join("README.md")).unwrap();
    assert!(
        md1.contains("| CPU | Bench-time CPU 9000 |")
            && md1.contains("| compiler | rustc 9.99.0 |"),
        "the machine must be the bench run's:\n{md1}"
    );
    assert!(
        md1.contains("| redb | redb 0.0 as benchmarked | as benchmarked | bench-time settings |"),
        "{md1}"
    );
    assert!(!md1.contains("Not recorded at bench time"), "{md1}");

    // The committed results regenerate the same report, without criterion's directory.
    let results = out1.join("results.json");
    assert!(results.is_file());
    std::fs::remove_dir_all(&crit).unwrap();
    let out2 = dir.path().join("two");
    let (code, stdout, err) = syncproof(&[
        "report",
        "--results",
        results.to_str().unwrap(),
        "--out",
        out2.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}{err}");
    let md2 = std::fs::read_to_string(out2.join("README.md")).unwrap();
    assert_eq!(without_report_line(&md1), without_report_line(&md2));
    for chart in ["ingest.svg", "page_all_grants.svg"] {
        assert_eq!(
            std::fs::read(out1.join(chart)).unwrap(),
            std::fs::read(out2.join(chart)).unwrap(),
            "{chart}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(&results).unwrap(),
        std::fs::read_to_string(out2.join("results.json")).unwrap()
    );

    // A run that recorded no machine (nor its bench or groups) says so instead of
    // describing today's machine.
    let old = dir.path().join("old-criterion");
    fake(&old, "new", &ms);
    RunInfo {
        bench: String::new(),
        groups: Vec::new(),
        machine: None,
        engines: Vec::new(),
        ..run
    }
    .write(&old)
    .unwrap();
    let out3 = dir.path().join("three");
    let (code, _, err) = syncproof(&[
        "report",
        "--criterion-dir",
        old.to_str().unwrap(),
        "--out",
        out3.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let md3 = std::fs::read_to_string(out3.join("README.md")).unwrap();
    assert!(
        md3.contains("## Machine\n\nNot recorded at bench time")
            && md3.contains("## Engines\n\nNot recorded at bench time"),
        "{md3}"
    );
    // A results file that is not one is refused.
    std::fs::write(dir.path().join("bad.json"), "{}").unwrap();
    let (code, _, err) = syncproof(&[
        "report",
        "--results",
        dir.path().join("bad.json").to_str().unwrap(),
        "--out",
        dir.path().join("four").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
}

/// A run of `bench` over `groups` that started at `started_unix`.
fn run_of(
    bench: &str,
    groups: &[&str],
    commit: &str,
    started_unix: u64,
) -> syncproof_harness::report::RunInfo {
    syncproof_harness::report::RunInfo {
        bench: bench.into(),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        command: format!("cargo bench -p syncproof-benches --bench {bench}"),
        sizes: vec![1_000],
        commit: commit.into(),
        started_unix,
        machine: None,
        engines: Vec::new(),
    }
}

#[test]
fn a_rerun_of_one_bench_replaces_its_groups_and_keeps_the_others() {
    use syncproof_harness::report::results::Results;

    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    fake(
        &first,
        "new",
        &[
            m("ingest", "sqlite", 1_000, 10.0, 1_100),
            m("ingest", "redb", 1_000, 2.0, 1_100),
            m("readers_alone", "redb", 2_000, 1.0, 2),
        ],
    );
    run_of("engines", &["ingest"], "aaa1111", 1)
        .write(&first)
        .unwrap();
    run_of("read_while_writing", &["readers_alone"], "aaa1111", 1)
        .write(&first)
        .unwrap();
    let out1 = dir.path().join("one");
    let (code, stdout, err) = syncproof(&[
        "report",
        "--criterion-dir",
        first.to_str().unwrap(),
        "--out",
        out1.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}{err}");
    let results = out1.join("results.json");

    // A later run of read_while_writing only; an mdbx result older than the run's start is
    // another run's leftover, and an ingest result is not this bench's.
    let second = dir.path().join("second");
    let later = [
        m("readers_alone", "sqlite", 2_000, 2.0, 2),
        m("readers_alone", "redb", 2_000, 1.0, 2),
        m("readers_with_writer", "sqlite", 2_000, 4.0, 2),
        m("readers_with_writer", "redb", 2_000, 1.25, 2),
        m("writer_alone", "redb", 2_000, 1.0, 50),
        m("writer_with_readers", "redb", 2_000, 2.0, 50),
        m("ingest", "redb", 1_000, 99.0, 1_100),
    ];
    fake(&second, "new", &later);
    let stale = m("readers_alone", "mdbx", 2_000, 1.0, 2);
    fake(&second, "new", std::slice::from_ref(&stale));
    let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000);
    std::fs::File::options()
        .write(true)
        .open(second.join("readers_alone/mdbx/2000/new/estimates.json"))
        .unwrap()
        .set_modified(old)
        .unwrap();
    run_of(
        "read_while_writing",
        &[
            "readers_alone",
            "readers_with_writer",
            "writer_alone",
            "writer_with_readers",
        ],
        "bbb2222",
        2_000,
    )
    .write(&second)
    .unwrap();

    // --results with --criterion-dir but without --update is refused: which wins is unsaid.
    let out2 = dir.path().join("two");
    let (code, _, err) = syncproof(&[
        "report",
        "--results",
        results.to_str().unwrap(),
        "--criterion-dir",
        second.to_str().unwrap(),
        "--out",
        out2.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--update"), "{err}");

    let (code, stdout, err) = syncproof(&[
        "report",
        "--results",
        results.to_str().unwrap(),
        "--update",
        "--criterion-dir",
        second.to_str().unwrap(),
        "--out",
        out2.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}{err}");
    let merged = Results::read(&out2.join("results.json")).unwrap();
    let ids: Vec<String> = merged.measurements.iter().map(|m| m.id()).collect();
    assert_eq!(
        ids,
        [
            "ingest/redb/1000",
            "ingest/sqlite/1000",
            "readers_alone/redb/2000",
            "readers_alone/sqlite/2000",
            "readers_with_writer/redb/2000",
            "readers_with_writer/sqlite/2000",
            "writer_alone/redb/2000",
            "writer_with_readers/redb/2000",
        ],
        "ingest from the first run, the four groups from the second, no stale mdbx"
    );
    let ingest = merged
        .measurements
        .iter()
        .find(|m| m.id() == "ingest/redb/1000")
        .unwrap();
    assert_eq!(
        ingest.median.point, 2e6,
        "the first run's ingest, not the second's"
    );
    let commits: Vec<(&str, &str)> = merged
        .runs
        .iter()
        .map(|r| (r.bench.as_str(), r.commit.as_str()))
        .collect();
    assert_eq!(
        commits,
        [("engines", "aaa1111"), ("read_while_writing", "bbb2222")]
    );
    assert_eq!(
        merged.run_of("ingest").map(|r| r.commit.as_str()),
        Some("aaa1111")
    );
    assert_eq!(
        merged.run_of("writer_alone").map(|r| r.commit.as_str()),
        Some("bbb2222")
    );

    let md = std::fs::read_to_string(out2.join("README.md")).unwrap();
    assert!(
        md.contains("- Benchmarks of ingest: `cargo bench -p syncproof-benches --bench engines`"),
        "{md}"
    );
    assert!(md.contains("## Reads while one thread writes"), "{md}");
    // redb: reads 2 per 1 ms alone, 2 per 1.25 ms with a writer (0.80×); writes 50 per 1 ms
    // alone, 50 per 2 ms with readers (0.50×). sqlite has no writer rows.
    assert!(
        md.contains("| 2,000 | redb | 2.0 k/s | 1.6 k/s | 0.80× | 50.0 k/s | 25.0 k/s | 0.50× |"),
        "{md}"
    );
    assert!(
        md.contains("| 2,000 | sqlite | 1.0 k/s | 500 /s | 0.50× | – | – | – |"),
        "{md}"
    );
    assert!(
        !md.contains("| 2,000 | mdbx |"),
        "the stale result is not reported:\n{md}"
    );
    assert!(
        md.contains("## Summary: × SQLite at N = 1,000\n"),
        "the summary is of the sync workloads, not of the read-while-writing store:\n{md}"
    );
}

#[test]
fn a_version_1_results_file_is_read_with_its_run_covering_every_group() {
    use syncproof_harness::report::results::Results;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.json");
    let run = serde_json::json!({
        "command": "cargo bench -p syncproof-benches", "sizes": [1000], "commit": "old",
        "started_unix": 1
    });
    let ms = [
        m("ingest", "redb", 1_000, 2.0, 1_100),
        m("point_get", "redb", 1_000, 1.0, 1_000),
    ];
    let v1 = serde_json::json!({ "version": 1, "run": run, "measurements": ms });
    std::fs::write(&path, v1.to_string()).unwrap();
    let r = Results::read(&path).unwrap();
    assert_eq!(r.measurements, ms);
    assert_eq!(r.runs.len(), 1);
    assert_eq!(r.runs[0].groups, ["ingest", "point_get"]);
    assert_eq!(r.runs[0].commit, "old");
    let v3 = serde_json::json!({ "version": 3, "runs": [], "measurements": ms });
    std::fs::write(&path, v3.to_string()).unwrap();
    let err = Results::read(&path).unwrap_err();
    assert!(err.contains("version 3"), "{err}");
}
