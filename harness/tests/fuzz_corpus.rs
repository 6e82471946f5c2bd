//! Replays every committed fuzz input (`fuzz/corpus/<target>/*` and the crash reproducers in
//! `fuzz/regressions/<target>/*`) through its target on stable Rust: a crash found once stays
//! fixed without nightly.

use std::path::Path;

use syncproof_harness::fuzz_targets::TARGETS;

fn inputs(target: &str) -> Vec<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut files = Vec::new();
    for dir in ["corpus", "regressions"] {
        if let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) {
            files.extend(
                entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| p.is_file()),
            );
        }
    }
    files.sort();
    files
}

#[test]
fn every_committed_fuzz_input_passes_its_target() {
    for (name, body) in TARGETS {
        let files = inputs(name);
        assert!(!files.is_empty(), "fuzz/corpus/{name} has no seed inputs");
        for f in &files {
            let data = std::fs::read(f).unwrap();
            if std::panic::catch_unwind(|| body(&data)).is_err() {
                panic!("{name}: {} fails its target", f.display());
            }
        }
        eprintln!("{name}: {} inputs replayed", files.len());
    }
}

#[test]
fn every_target_has_a_cargo_fuzz_entry() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/Cargo.toml"))
            .unwrap();
    for (name, _) in TARGETS {
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml lacks target {name}"
        );
        assert!(Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../fuzz/fuzz_targets/{name}.rs"))
            .exists());
    }
}

/// How many of `inputs` make `target` panic.
fn panics<T>(inputs: &[T], target: &dyn Fn(&T)) -> usize {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let n = inputs
        .iter()
        .filter(|d| std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| target(d))).is_err())
        .count();
    std::panic::set_hook(hook);
    n
}

fn pseudo_random_inputs(n: u64, len: u64) -> Vec<Vec<u8>> {
    (0..n)
        .map(|s| {
            (0..len)
                .map(|i| syncproof_engine::sync_run::splitmix64(s * 7919 + i) as u8)
                .collect()
        })
        .collect()
}

/// A target that cannot fail proves nothing. The four codec targets are shown failing on
/// broken codecs in `fuzz-codecs/tests/targets_fail_on_broken_codecs.rs`; the two engine
/// targets here: each panics on an engine with an injected bug for some inputs, and never on
/// the correct engine for the same inputs.
#[test]
fn the_engine_targets_catch_injected_bugs() {
    use syncproof_gate::faults::kv::KvBug;
    use syncproof_gate::faults::{Bug, FaultyOpener};
    use syncproof_harness::fuzz_targets::{kv_sequence_on, op_sequence_on};

    let bytes = pseudo_random_inputs(300, 600);
    let broken = FaultyOpener::new(
        Box::new(syncproof_memory::MemoryOpener::default()),
        Bug::AbsentGetIsNotFound,
    );
    let clean = FaultyOpener::transparent(Box::new(syncproof_memory::MemoryOpener::default()));
    let caught = panics(&bytes, &|d| op_sequence_on(d, &broken));
    assert!(
        caught > 0,
        "op_sequence never caught AbsentGetIsNotFound in 300 inputs"
    );
    assert_eq!(panics(&bytes, &|d| op_sequence_on(d, &clean)), 0);

    let redb: Vec<_> = syncproof_harness::engines::select(Some("redb")).unwrap();
    // Op lists from the KV level's generator: bytes at random rarely scan over a key they
    // wrote, and the property under test is the target's comparison, not the byte parsing.
    let kv_cases: Vec<_> = (0..40)
        .map(|i| syncproof_gate::model::kv::case(3, i, 40))
        .collect();
    let with_bug =
        syncproof_harness::engines::kv_targets(&redb, Some(KvBug::ReverseScanSkipsFirst));
    let without = syncproof_harness::engines::kv_targets(&redb, None);
    let caught = panics(&kv_cases, &|ops| kv_sequence_on(ops, &with_bug));
    assert!(
        caught > 0,
        "kv_sequence never caught ReverseScanSkipsFirst in {} cases",
        kv_cases.len()
    );
    let false_alarms = panics(&kv_cases, &|ops| kv_sequence_on(ops, &without));
    assert_eq!(false_alarms, 0);
    eprintln!(
        "kv_sequence caught ReverseScanSkipsFirst in {caught} of {} cases",
        kv_cases.len()
    );
}
