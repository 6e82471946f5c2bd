//! The one-shot run's memory limit (`benches/examples/oneshot.rs --max-rss-gib`): an engine
//! whose process grows past it is stopped and recorded with the step it was in, and the run
//! goes on and writes its result; under the default limit the same run finishes.
//!
//! `cargo test` builds the examples beside the test binaries (`target/<profile>/examples`).
//! The children's stores go in a RAM-backed temp dir (`TMPDIR`): nothing here tests
//! durability.

use std::path::{Path, PathBuf};
use std::process::Command;

use syncproof_engine::scratch;
use syncproof_harness::report::oneshot::STEPS;

fn oneshot() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/<test> -> target/<profile>/examples/oneshot
    let profile = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary sits in target/<profile>/deps");
    profile.join("examples").join("oneshot")
}

/// One run on SQLite over 2,000 grants, with its stores and result in `dir`.
fn run(limit: Option<&str>, dir: &Path, name: &str) -> serde_json::Value {
    let out = dir.join(name);
    let mut cmd = Command::new(oneshot());
    cmd.env("TMPDIR", dir)
        .args(["--grants", "2000", "--engines", "sqlite", "--out"])
        .arg(&out);
    if let Some(l) = limit {
        cmd.args(["--max-rss-gib", l]);
    }
    let status = cmd.status().expect("run the oneshot example");
    assert!(status.success(), "oneshot exited with {status}");
    let text = std::fs::read_to_string(&out).expect("the one-shot result");
    serde_json::from_str(&text).expect("the one-shot result is JSON")
}

#[test]
fn an_engine_past_the_memory_limit_is_stopped_and_reported_where_it_was() {
    let dir = scratch::tempdir(None).unwrap();
    // 1 MiB: every process is past it by the first check.
    let stopped = run(Some("0.001"), dir.path(), "stopped.json");
    let shot = &stopped["engines"][0];
    let failed = shot["failed"]
        .as_str()
        .expect("the engine is reported as stopped");
    assert!(
        failed.starts_with("stopped ") && failed.contains("past the limit of 0.00 GiB"),
        "{failed}"
    );
    assert!(
        shot["seconds"]
            .as_array()
            .is_some_and(|s| s.len() < STEPS.len()),
        "a stopped engine cannot have finished every step: {shot}"
    );

    let finished = run(None, dir.path(), "finished.json");
    let shot = &finished["engines"][0];
    assert!(shot["failed"].is_null(), "{shot}");
    assert_eq!(
        shot["seconds"].as_array().map(Vec::len),
        Some(STEPS.len()),
        "{shot}"
    );
}

#[test]
fn a_limit_that_is_not_a_positive_number_is_a_usage_error() {
    for bad in ["0", "-1", "lots", "NaN"] {
        let out = Command::new(oneshot())
            .args(["--grants", "10", "--max-rss-gib", bad])
            .output()
            .expect("run the oneshot example");
        assert_eq!(out.status.code(), Some(2), "--max-rss-gib {bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--max-rss-gib"), "{err}");
    }
}
