//! The fault models of `syncproof crash` (README, "Fault model") on real engines and on
//! planted durability bugs (`syncproof engines` lists them): each model catches a bug the
//! weaker one misses, with a shrunk repro, and the engines that keep SPEC §6's promise pass.
//! The recorder is built first when it is missing (`cargo test` builds no cdylib). Stores are
//! on disk (the system temp dir): an engine may skip its syncs on a RAM file system.
//! `SYNCPROOF_CRASH_POINTS` sets the crash points per engine (default 6).

use std::path::PathBuf;
use std::process::Command;

use syncproof_harness::faultmodel::drive::{self, EngineRun, Options};
use syncproof_harness::faultmodel::recording::{self, Recording};
use syncproof_harness::faultmodel::{self, image, volatile_files, Model};
use syncproof_harness::faultmodel::{ChildSpec, Children, Role};

/// The `syncproof` binary's crash children.
fn children() -> Children {
    faultmodel::children(PathBuf::from(env!("CARGO_BIN_EXE_syncproof")))
}

fn points() -> usize {
    std::env::var("SYNCPROOF_CRASH_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6)
}

fn options(model: Model, points: usize, repros: &tempfile::TempDir) -> Options {
    Options {
        points,
        repro_dir: repros.path().to_path_buf(),
        ..Options::new(model, faultmodel::ENGINES, children())
    }
}

/// The recorder, built first if it is not (`cargo test` builds no cdylib).
fn recorder() -> PathBuf {
    recording::library_or_build().unwrap_or_else(|e| panic!("{e}"))
}

fn run(model: Model, points: usize, labels: &[&str]) -> Vec<EngineRun> {
    run_in(model, points, labels, &tempfile::tempdir().unwrap())
}

/// [`run`], saving repros in `repros` (which outlives the call, for a replay).
fn run_in(
    model: Model,
    points: usize,
    labels: &[&str],
    repros: &tempfile::TempDir,
) -> Vec<EngineRun> {
    recorder();
    let labels: Vec<String> = labels.iter().map(|s| s.to_string()).collect();
    let runs = drive::run(&options(model, points, repros), &labels);
    eprintln!("{}", drive::summary(model, &runs));
    runs
}

fn assert_passed(runs: &[EngineRun]) {
    for r in runs {
        assert!(
            r.passed() && r.states > 0 && r.consistent == r.states,
            "{}: {} of {} states consistent, refused {:?}, findings {:#?}",
            r.engine,
            r.consistent,
            r.states,
            r.refused,
            r.findings.iter().map(|f| &f.what).collect::<Vec<_>>()
        );
    }
}

/// Power loss on the engines that keep their promise. sled 0.34.7 does not (README, "Fault
/// model": it loses acknowledged syncs and reports corruption after a power loss); it is run
/// by `syncproof crash`, not asserted here.
#[test]
fn engines_that_sync_what_they_acknowledge_survive_power_loss() {
    let runs = run(
        Model::PowerLoss,
        points(),
        &["sqlite", "mdbx", "redb", "fjall"],
    );
    assert_passed(&runs);
    for r in &runs {
        assert!(r.events > 0 && r.states == 4 * points(), "{r:?}");
    }
}

/// I/O errors on the engines that handle them. libmdbx aborts on a failed sync and sled
/// panics (README, "Fault model"); they are run by `syncproof crash`, not asserted here.
#[test]
fn engines_report_injected_io_errors_and_keep_what_they_acknowledged() {
    let runs = run(Model::IoError, points(), &["sqlite", "redb", "fjall"]);
    assert_passed(&runs);
    for r in &runs {
        assert!(r.injected > 0, "{}: no injected error hit a call", r.engine);
    }
}

/// A `flush()` that does not sync: a killed process keeps the page cache, so the kill model
/// passes it; a power loss does not keep it, and the power-loss model catches it.
#[test]
fn power_loss_catches_a_flush_that_does_not_sync_which_kill_misses() {
    let label = "fjall+flush-does-not-sync";
    let kill = run(Model::Kill, points(), &[label]);
    assert_passed(&kill);
    let power = run(Model::PowerLoss, 2 * points(), &[label]);
    let r = &power[0];
    caught_and_shrunk(r);
    assert!(
        r.findings
            .iter()
            .any(|f| f.what.contains("Inconsistent") && f.what.contains("missing")),
        "acknowledged records must be reported missing: {:#?}",
        r.findings
    );
}

/// A batch written as two commits. A kill sees it only when it lands in the microseconds
/// between the two commits (it can: once in 6 kills on a loaded machine), so the kill model
/// catches it by chance, and when it does, it finds this bug and nothing else; the power-loss
/// model makes crash states between a call's writes on purpose and catches it, with a shrunk
/// repro. (fjall buffers its journal, so both halves often go out in one write; the
/// third-party example's `mine-log+split-commits`, one write per commit, is caught at every
/// run.)
#[test]
fn power_loss_catches_a_batch_written_as_two_commits_which_kill_finds_only_by_chance() {
    let label = "fjall+split-commits";
    let kill = run(Model::Kill, points(), &[label]);
    assert_eq!(kill[0].states, points(), "{:?}", kill[0]);
    for f in &kill[0].findings {
        // A half-written batch: an index entry without its run, records without theirs, or
        // (the batch split in key order, records before index entries) a record whose index
        // entry was in the half that never landed, which `verify` reports.
        assert!(
            f.what.contains("points to missing")
                || f.what.contains("Inconsistent")
                || f.what.contains("missing index entry"),
            "{}",
            f.what
        );
    }
    let power = run(Model::PowerLoss, 2 * points(), &[label]);
    caught_and_shrunk(&power[0]);
}

/// A store renamed into place without a sync of its directory: the kill model keeps the
/// rename, a power loss may revert it. The same store with the directory synced passes.
#[test]
fn power_loss_catches_a_rename_without_a_directory_sync_which_kill_misses() {
    assert_passed(&run(Model::PowerLoss, points(), &["renamed-file"]));
    let label = "renamed-file+no-dir-sync";
    assert_passed(&run(Model::Kill, points(), &[label]));
    let power = run(Model::PowerLoss, points(), &[label]);
    caught_and_shrunk(&power[0]);
}

/// Caught, each finding with a saved repro, and shrunk to a smaller workload that still
/// fails.
fn caught_and_shrunk(r: &EngineRun) {
    assert!(
        !r.findings.is_empty() && r.refused.is_none(),
        "{}: must be caught: {r:?}",
        r.engine
    );
    assert!(r.findings.iter().all(|f| f.saved.is_some()), "{r:?}");
    let (calls, f) = r.shrunk.as_ref().expect("a shrunk repro");
    let full = syncproof_harness::faultmodel::probe::ops(&r.findings[0].repro.workload).len();
    assert!(
        *calls < full && f.saved.is_some(),
        "{calls} of {full} calls: {f:?}"
    );
}

/// A `flush()` that reports success after its sync failed ("fsyncgate"): without errors it
/// is correct, so power loss passes it; the I/O-error model catches it.
#[test]
fn io_errors_catch_a_flush_that_ignores_a_failed_sync_which_power_loss_misses() {
    let label = "fjall+flush-ignores-errors";
    let power = run(Model::PowerLoss, points(), &[label]);
    assert_passed(&power);
    let repros = tempfile::tempdir().unwrap();
    let io = run_in(Model::IoError, 2 * points(), &[label], &repros);
    let r = &io[0];
    assert!(
        r.findings.iter().any(|f| f
            .what
            .contains("(flush) returned Ok although its sync failed")),
        "the I/O-error model must catch it: {:#?}",
        r.findings
    );
    // Its repro re-runs the failing call: `syncproof replay` fails again.
    let saved = r
        .findings
        .iter()
        .filter(|f| f.what.contains("returned Ok although"))
        .find_map(|f| f.saved.clone())
        .expect("a finding with a saved repro");
    replays(&saved);
}

/// `syncproof replay` on a saved repro reproduces its finding (exit 1).
fn replays(saved: &std::path::Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_syncproof"))
        .arg("replay")
        .arg(saved)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains("not reproduced"), "{stdout}");
}

/// A shared writable mapping of a store file would let writes escape the recorder: SQLite
/// maps its `-shm` so, and only its declaration as volatile (rebuilt after a crash) lets the
/// record through.
#[test]
fn a_shared_writable_mapping_is_refused_unless_the_file_is_volatile() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    std::fs::create_dir_all(&store).unwrap();
    let (log, marks) = (dir.path().join("log"), dir.path().join("marks"));
    let library = recorder();
    let mut c = ChildSpec {
        role: Role::Workload,
        engine: "sqlite".into(),
        store: store.clone(),
        workload: faultmodel::workload::Workload {
            seed: 1,
            index: 0,
            max_ops: 5,
        },
        marks: marks.clone(),
        verdict: dir.path().join("verdict"),
    }
    .command(&children());
    Recording {
        library: &library,
        root: &store,
        log: &log,
        marks: &marks,
        fail: None,
    }
    .apply(&mut c);
    let out = c.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let events = recording::read_log(&log).unwrap();
    let why = image::refusal(&events, &[]).expect("the -shm mapping must be refused");
    assert!(
        why.contains("-shm") && why.contains("shared and writable"),
        "{why}"
    );
    assert_eq!(image::refusal(&events, &volatile_files("sqlite")), None);
    // And the record is faithful: every store file holds what the recorded calls wrote.
    assert_eq!(
        image::faithful(&events, &store, &volatile_files("sqlite")),
        None
    );
}

/// A repro of a finding re-makes its crash state: `syncproof replay` on it fails again.
#[test]
fn a_power_loss_repro_replays() {
    recorder();
    let repros = tempfile::tempdir().unwrap();
    let o = options(Model::PowerLoss, 2 * points(), &repros);
    let runs = drive::run(&o, &["fjall+flush-does-not-sync".to_string()]);
    let saved = runs[0]
        .findings
        .iter()
        .find_map(|f| f.saved.clone())
        .expect("a finding with a saved repro");
    replays(&saved);
}
