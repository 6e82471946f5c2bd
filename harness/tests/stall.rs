//! An engine that hangs or runs away gets a verdict (issue 12 item 17): the op budget and the
//! memory ceiling turn it into a finding that names the engine, the case and the op, writes a
//! repro, shrinks it with every try in a child process, and exits 1 — where before the gate
//! ran until it was killed from outside, with nothing to show.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `syncproof ARGS`, killing it after `limit` (a gate that hangs fails the test instead
/// of hanging it); its exit code and stdout.
fn syncproof_within(limit: Duration, args: &[&str]) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_syncproof"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("syncproof {args:?} was still running after {limit:?}: no verdict");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    (child.wait().unwrap().code().unwrap_or(-1), out)
}

fn shm() -> tempfile::TempDir {
    tempfile::tempdir_in("/dev/shm").unwrap_or_else(|_| tempfile::tempdir().unwrap())
}

const LIMIT: Duration = Duration::from_secs(180);

#[test]
fn a_hang_is_a_finding_with_a_shrunk_repro() {
    let dir = shm();
    let repros = dir.path().join("repros");
    let repros_arg = repros.display().to_string();
    let tmp = dir.path().display().to_string();
    let junit = dir.path().join("out.xml");
    let json = dir.path().join("out.json");
    let (junit_arg, json_arg) = (junit.display().to_string(), json.display().to_string());
    let (code, out) = syncproof_within(
        LIMIT,
        &[
            "check",
            "--engines",
            "redb",
            "--inject",
            "HangOnNulInId",
            "--no-contract",
            "--op-budget",
            "300ms",
            "--quiet",
            "--seed",
            "1",
            "--repro-dir",
            &repros_arg,
            "--tmp",
            &tmp,
            "--junit",
            &junit_arg,
            "--json",
            &json_arg,
        ],
    );
    assert_eq!(code, 1, "{out}");
    // The reports asked for are written although the run ended before its report was built.
    let xml = std::fs::read_to_string(&junit).expect("JUnit written on a stall");
    assert!(
        xml.contains("<failure message=\"STALL: did not finish within the op budget")
            && (xml.contains("name=\"redb case ") || xml.contains("name=\"redb+")),
        "{xml}"
    );
    let parsed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("JSON written on a stall"))
            .unwrap();
    // The engine is named by the configuration the case drew (`redb`, `redb+tiny-cache`, …).
    assert!(
        parsed["engine"]
            .as_str()
            .is_some_and(|e| e.split('+').next() == Some("redb")),
        "{parsed}"
    );
    assert!(
        out.contains("FAILED: STALL")
            && out.contains("engine redb")
            && out.contains("op budget of 300 ms (a hang)"),
        "{out}"
    );
    let repro = std::fs::read_dir(&repros)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let text = std::fs::read_to_string(&repro).unwrap();
    let parsed = syncproof_gate::Repro::from_ron(&text).unwrap();
    let stall = parsed.stall.as_ref().expect("the repro records the stall");
    assert_eq!(
        stall.engine.split('+').next(),
        Some("redb"),
        "{}",
        stall.engine
    );
    assert!(out.contains("syncproof shrink: shrunk"), "{out}");
    assert!(
        parsed.ops.len() <= 2,
        "shrunk to {} ops:\n{text}",
        parsed.ops.len()
    );
    // The shrunk repro replays to the same stall, in a process of its own.
    let repro_arg = repro.display().to_string();
    let (code, out) = syncproof_within(LIMIT, &["replay", &repro_arg, "--op-budget", "300ms"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("STALL at op {} on redb", stall.op_index)),
        "{out}"
    );
}

#[test]
fn a_runaway_is_stopped_at_the_memory_ceiling() {
    let dir = shm();
    let repros = dir.path().join("repros");
    let repros_arg = repros.display().to_string();
    let tmp = dir.path().display().to_string();
    let (code, out) = syncproof_within(
        LIMIT,
        &[
            "check",
            "--engines",
            "sqlite",
            "--inject",
            "RunawayOnNulInId",
            "--no-contract",
            "--memory-limit",
            "512MiB",
            "--quiet",
            "--seed",
            "1",
            "--repro-dir",
            &repros_arg,
            "--tmp",
            &tmp,
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        (out.contains("engine sqlite, case ") || out.contains("engine sqlite+"))
            && out.contains("memory ceiling of 512 MiB"),
        "{out}"
    );
    assert!(std::fs::read_dir(&repros).unwrap().count() == 1, "{out}");
}

#[test]
fn a_hanging_contract_check_is_named() {
    let dir = shm();
    let tmp = dir.path().display().to_string();
    let junit = dir.path().join("out.xml");
    let junit_arg = junit.display().to_string();
    let repros = dir.path().join("repros").display().to_string();
    let (code, out) = syncproof_within(
        LIMIT,
        &[
            "check",
            "--engines",
            "redb",
            "--inject",
            "HangOnNulInId",
            "--op-budget",
            "300ms",
            "--quiet",
            "--repro-dir",
            &repros,
            "--tmp",
            &tmp,
            "--junit",
            &junit_arg,
        ],
    );
    assert_eq!(code, 1, "{out}");
    // The check named is one the class claims in its table row.
    let named = out
        .split("contract check ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_default();
    assert!(
        syncproof_gate::faults::Bug::HangOnNulInId
            .caught_by()
            .contains(&named),
        "{named:?} is not in the class's caught_by: {out}"
    );
    let xml = std::fs::read_to_string(&junit).expect("JUnit written on a contract stall");
    assert!(xml.contains("name=\"contract check ids_"), "{xml}");
    assert!(
        out.contains("syncproof check (contract): FAILED: STALL")
            && out.contains("contract check ids_")
            && out.contains(" on redb"),
        "{out}"
    );
}

#[test]
fn a_healthy_run_is_not_a_stall() {
    let dir = shm();
    let tmp = dir.path().display().to_string();
    let (code, out) = syncproof_within(
        LIMIT,
        &[
            "check",
            "--engines",
            "redb",
            "--cases",
            "30",
            "--no-contract",
            "--op-budget",
            "20s",
            "--memory-limit",
            "2GiB",
            "--quiet",
            "--seed",
            "1",
            "--tmp",
            &tmp,
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("PASSED") && !out.contains("STALL"), "{out}");
}
