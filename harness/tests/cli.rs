//! The `syncproof` binary end to end: exit codes, reports, repro files and replay.

mod common;
use common::{syncproof, syncproof_with};

#[test]
fn usage_errors_exit_2() {
    assert_eq!(syncproof(&["check", "--engines", "nope"]).0, 2);
    assert_eq!(syncproof(&["check", "--shard", "5/4"]).0, 2);
    assert_eq!(syncproof(&["check", "--time", "3 parsecs"]).0, 2);
    assert_eq!(syncproof(&["check", "--inject", "NoSuchBug"]).0, 2);
    assert_eq!(syncproof(&["replay", "/nonexistent.ron"]).0, 2);
    assert_eq!(syncproof(&["frobnicate"]).0, 2);
    // Overflowing durations and nothing-to-check runs are usage errors, not panics.
    let (code, _, err) = syncproof(&["check", "--time", "99999999999999999999999h"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("duration"), "{err}");
    assert_eq!(syncproof(&["check", "--cases", "0"]).0, 2);
    let (code, _, err) = syncproof(&["check", "--engines", "memory"]);
    assert_eq!(code, 2, "the oracle alone checks nothing: {err}");
    assert!(err.contains("oracle with itself"), "{err}");
    assert_eq!(
        syncproof(&["check", "--level", "kv", "--inject", "PrefixFilters"]).0,
        2
    );
    assert_eq!(
        syncproof(&["check", "--level", "kv", "--engines", "sqlite"]).0,
        2
    );
}

#[test]
fn a_run_that_checked_too_little_fails() {
    let (code, out, _) = syncproof(&[
        "check",
        "--engines",
        "redb",
        "--cases",
        "1000",
        "--time",
        "1ms",
        "--no-contract",
        "--quiet",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("of 1000 cases") && out.contains("TOO FEW CASES"),
        "{out}"
    );
    // A soak: unbounded cases with a time budget, and no allocation of case indices.
    let (code, out, _) = syncproof(&[
        "check",
        "--engines",
        "redb",
        "--cases",
        "18446744073709551615",
        "--time",
        "1s",
        "--no-contract",
        "--quiet",
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = syncproof(&[
        "check",
        "--engines",
        "redb",
        "--time",
        "1s",
        "--no-contract",
        "--quiet",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("(unbounded)"), "{out}");
}

#[test]
fn reports_that_cannot_be_written_fail_loudly() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("no-such-dir").join("out.xml");
    let (code, _, err) = syncproof(&[
        "check",
        "--engines",
        "redb",
        "--cases",
        "3",
        "--no-contract",
        "--quiet",
        "--junit",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot write the JUnit report"), "{err}");
}

#[test]
fn kv_level_honours_engines_inject_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("kv.xml");
    let json = dir.path().join("kv.json");
    let repros = dir.path().join("repros");
    let (code, out, err) = syncproof(&[
        "check",
        "--level",
        "kv",
        "--engines",
        "redb",
        "--inject",
        "IgnoresRangeDeletes",
        "--cases",
        "300",
        "--seed",
        "4",
        "--quiet",
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--repro-dir",
        repros.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        out.contains("DISAGREEMENT") && !out.contains("mdbx"),
        "{out}"
    );
    assert!(std::fs::read_to_string(&junit)
        .unwrap()
        .contains("<failure"));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["level"], "kv");
    // redb and its three configurations (tiny-cache, checked-open, per-commit).
    assert_eq!(report["engines"].as_array().map(Vec::len), Some(4));
    let file = std::fs::read_dir(&repros)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let (code, out, _) = syncproof(&["replay", file.to_str().unwrap()]);
    assert_eq!(code, 1, "the KV repro replays to the disagreement: {out}");
    assert!(out.contains("DISAGREEMENT at step"), "{out}");
}

#[test]
fn a_clean_run_exits_0_with_reports() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("j.xml");
    let json = dir.path().join("r.json");
    let (code, out, err) = syncproof(&[
        "check",
        "--engines",
        "memory,sqlite,redb",
        "--cases",
        "40",
        "--seed",
        "3",
        "--quiet",
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("PASSED") && out.contains("ops/s") && out.contains("coverage"),
        "{out}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["cases_run"], 40);
    assert!(report["failure"].is_null());
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<testsuite") && !xml.contains("<failure"),
        "{xml}"
    );
}

#[test]
fn a_disagreement_exits_1_and_replays() {
    let dir = tempfile::tempdir().unwrap();
    let repros = dir.path().join("repros");
    let junit = dir.path().join("j.xml");
    let (code, out, _) = syncproof(&[
        "check",
        "--engines",
        "memory",
        "--inject",
        "PrefixFilters",
        "--no-contract",
        "--quiet",
        "--seed",
        "1",
        "--repro-dir",
        repros.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("DISAGREEMENT") && out.contains("#[test]"),
        "{out}"
    );
    assert!(std::fs::read_to_string(&junit)
        .unwrap()
        .contains("<failure"));
    let file = std::fs::read_dir(&repros)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let (code, out, _) = syncproof(&["replay", file.to_str().unwrap(), "--print-test"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains('✗')
            && out.contains("DISAGREEMENT at op")
            && out.contains("fn syncproof_regression"),
        "{out}"
    );
}

#[test]
fn shards_split_the_cases() {
    let runs: Vec<u64> = ["1/3", "2/3", "3/3"]
        .iter()
        .map(|s| {
            let dir = tempfile::tempdir().unwrap();
            let json = dir.path().join("r.json");
            let (code, _, _) = syncproof(&[
                "check",
                "--engines",
                "redb",
                "--cases",
                "20",
                "--no-contract",
                "--quiet",
                "--shard",
                s,
                "--json",
                json.to_str().unwrap(),
            ]);
            assert_eq!(code, 0);
            let report: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
            report["cases_run"].as_u64().unwrap()
        })
        .collect();
    assert_eq!(runs, vec![7, 7, 6]);
}

#[test]
fn kv_level_passes_on_every_backend() {
    let (code, out, err) = syncproof(&[
        "check", "--level", "kv", "--cases", "40", "--seed", "2", "--quiet",
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("PASSED") && out.contains("40 of 40 cases"),
        "{out}"
    );
}

#[test]
fn generate_then_verify_on_persistent_engines() {
    for engine in ["sqlite", "redb", "mdbx"] {
        let dir = tempfile::tempdir().unwrap();
        let store = format!("{engine}:{}", dir.path().join("store").display());
        let (code, out, err) = syncproof(&[
            "generate", &store, "--syncs", "2", "--users", "50", "--groups", "5", "--grants",
            "1200", "--assets", "2",
        ]);
        assert_eq!(code, 0, "{out}\n{err}");
        assert!(out.contains("2 syncs"), "{out}");
        let (code, out, _) = syncproof(&["verify", &store]);
        assert_eq!(code, 0, "{out}");
        assert!(
            out.contains("consistent") && out.contains("2 sync runs"),
            "{out}"
        );
    }
    assert_eq!(syncproof(&["verify", "memory:/tmp/x"]).0, 2);
    assert_eq!(syncproof(&["verify", "sqlite"]).0, 2);
    assert_eq!(syncproof(&["verify", "sqlite:/nonexistent/dir"]).0, 2);
}

#[test]
fn migrate_copies_proves_and_refuses_an_existing_target() {
    let dir = tempfile::tempdir().unwrap();
    let src = format!("sled:{}", dir.path().join("src").display());
    let dst = format!("mdbx:{}", dir.path().join("dst").display());
    assert_eq!(
        syncproof(&[
            "generate", &src, "--syncs", "2", "--users", "20", "--groups", "3", "--grants", "500"
        ])
        .0,
        0
    );
    let (code, out, err) = syncproof(&["migrate", "--from", &src, "--to", &dst]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("2 syncs") && out.contains("proven equal"),
        "{out}"
    );
    let (code, out, _) = syncproof(&["verify", &dst]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        syncproof(&["migrate", "--from", &src, "--to", &dst]).0,
        1,
        "an existing target must be refused"
    );
}

#[test]
fn metrics_and_slow_operation_logging() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite:{}", dir.path().join("s").display());
    let (code, out, err) = syncproof(&[
        "generate",
        &store,
        "--syncs",
        "1",
        "--users",
        "10",
        "--groups",
        "2",
        "--grants",
        "300",
        "--slow-ms",
        "0",
        "--metrics",
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("call") && out.contains("p99") && out.contains("put"),
        "{out}"
    );
    assert!(
        err.contains("syncproof::slow") && err.contains("slow operation"),
        "{err}"
    );
}

/// Every file under `dir` with a hash of its bytes, except lock and shared-memory files and
/// empty SQLite journals (which a read-only reader may create or touch: SQLite opens a WAL
/// database read-only by creating an empty `-wal` and a `-shm` index beside it): what a
/// read-only open must leave as it was.
fn snapshot_of(dir: &std::path::Path) -> Vec<(std::path::PathBuf, u64)> {
    use std::hash::{Hash, Hasher};
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                stack.push(p);
            } else {
                let empty_journal =
                    name.ends_with("-wal") && std::fs::metadata(&p).unwrap().len() == 0;
                if name.ends_with(".lck") || name.ends_with("-shm") || empty_journal {
                    continue;
                }
                let mut h = std::collections::hash_map::DefaultHasher::new();
                std::fs::read(&p).unwrap().hash(&mut h);
                out.push((p.clone(), h.finish()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn verify_and_migrate_open_existing_stores_read_only_and_refuse_others() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite_dir = dir.path().join("sqlite-store");
    let sqlite = format!("sqlite:{}", sqlite_dir.display());
    let (code, out, err) = syncproof(&[
        "generate", &sqlite, "--syncs", "1", "--users", "10", "--groups", "2", "--grants", "100",
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    let before = snapshot_of(&sqlite_dir);
    // Naming the wrong engine: refused, saying what is there, and nothing is created.
    for engine in ["redb", "mdbx", "sled", "fjall"] {
        let store = format!("{engine}:{}", sqlite_dir.display());
        let (code, out, err) = syncproof(&["verify", &store]);
        assert_eq!(code, 2, "verify {store}: {out}\n{err}");
        assert!(
            err.contains(&format!("no {engine} store")) && err.contains("a sqlite store"),
            "{err}"
        );
        let to = format!("redb:{}", dir.path().join(format!("to-{engine}")).display());
        let (code, _, err) = syncproof(&["migrate", "--from", &store, "--to", &to]);
        assert_eq!(code, 2, "migrate --from {store}: {err}");
        assert!(!dir.path().join(format!("to-{engine}")).exists());
        assert_eq!(
            snapshot_of(&sqlite_dir),
            before,
            "{engine} wrote into the sqlite store"
        );
    }
    // An empty directory is no store of any engine.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (code, _, err) = syncproof(&["verify", &format!("redb:{}", empty.display())]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("it is empty"), "{err}");
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);
    // The right engine: verified without a byte of the store changing, on every engine.
    for engine in ["sqlite", "redb", "mdbx", "sled", "fjall"] {
        let store_dir = dir.path().join(format!("{engine}-own"));
        let store = format!("{engine}:{}", store_dir.display());
        let (code, out, err) = syncproof(&[
            "generate", &store, "--syncs", "1", "--users", "10", "--groups", "2", "--grants", "100",
        ]);
        assert_eq!(code, 0, "{out}\n{err}");
        let before = snapshot_of(&store_dir);
        let (code, out, err) = syncproof(&["verify", &store]);
        assert_eq!(code, 0, "verify {store}: {out}\n{err}");
        assert!(out.contains("consistent"), "{out}");
        assert_eq!(
            snapshot_of(&store_dir),
            before,
            "verify {store} wrote to it"
        );
        // Writes through a read-only open are refused.
        let info = syncproof_harness::engines::select(Some(engine))
            .unwrap()
            .pop()
            .unwrap();
        let opened = syncproof_harness::existing::open(&info, &store_dir).unwrap();
        if opened.how == syncproof_harness::existing::How::ReadOnly {
            let e = opened.engine.start_sync().unwrap_err();
            assert_eq!(
                e.kind,
                syncproof_engine::ErrorKind::FailedPrecondition,
                "{e}"
            );
        }
        drop(opened);
        assert_eq!(
            snapshot_of(&store_dir),
            before,
            "a refused write changed {store}"
        );
    }
}

#[test]
fn a_closed_pipe_ends_quietly() {
    // `syncproof bugs | head -0`: the reader is gone before the first line is written.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_syncproof"))
        .arg("bugs")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
}

/// The stores' place is chosen as documented: `--tmp` first, then `SYNCPROOF_TMP`, then the
/// scratch default (in RAM when the system can); the start line and the summary both name it.
#[test]
fn the_check_says_where_its_stores_are() {
    use syncproof_engine::scratch::{Scratch, ENV_VAR};
    let given = tempfile::tempdir().unwrap();
    let from_env = tempfile::tempdir().unwrap();
    let run = |tmp: Option<&std::path::Path>, env: Option<&std::path::Path>| {
        let args = [
            "check",
            "--engines",
            "redb",
            "--cases",
            "3",
            "--no-contract",
            "--quiet",
        ];
        let (code, out, err) = syncproof_with(&args, |cmd| {
            if let Some(t) = tmp {
                cmd.arg("--tmp").arg(t);
            }
            match env {
                Some(e) => cmd.env(ENV_VAR, e),
                None => cmd.env_remove(ENV_VAR),
            };
        });
        assert_eq!(code, 0, "{out}{err}");
        out + &err
    };
    let out = run(None, Some(from_env.path()));
    let line = format!("stores: {} (", from_env.path().display());
    assert_eq!(
        out.matches(&line).count(),
        2,
        "start line and summary: {out}"
    );
    assert!(out.contains(&format!("as {ENV_VAR} asked")), "{out}");
    let out = run(Some(given.path()), Some(from_env.path()));
    let line = format!("stores: {} (", given.path().display());
    assert_eq!(out.matches(&line).count(), 2, "--tmp wins: {out}");
    assert!(out.contains("as --tmp asked"), "{out}");
    if std::env::var_os(ENV_VAR).is_none() {
        let out = run(None, None);
        let line = format!("stores: {}", Scratch::default_dir().describe());
        assert_eq!(out.matches(&line).count(), 2, "{out}");
    }
}
