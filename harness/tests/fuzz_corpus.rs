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

#[test]
fn targets_catch_what_they_claim() {
    // A target that cannot fail proves nothing: feed each one an input that breaks its
    // property through a deliberately wrong path and expect the panic.
    use syncproof_engine::codec::key::{encode_key, KeyKind, Part};
    // Key codec: a hand-made non-canonical key (an escape pair that is not `00 FF`/`00 01`)
    // must be refused by the decoder, so the target's canonical-form assertion holds.
    let mut k = encode_key(KeyKind::Grant, &[Part::Str("s"), Part::Str("g")]).unwrap();
    let n = k.len();
    k[n - 1] = 0x02;
    assert!(syncproof_engine::codec::key::decode_key(&k).is_err());
    // Op sequences: the target panics on an engine with an injected bug for some inputs, and
    // never on the correct wrapper for the same inputs.
    use syncproof_gate::faults::{Bug, FaultyOpener};
    use syncproof_harness::fuzz_targets::op_sequence_on;
    let inputs: Vec<Vec<u8>> = (0..300u64)
        .map(|s| {
            (0..600)
                .map(|i| syncproof_engine::sync_run::splitmix64(s * 7919 + i) as u8)
                .collect()
        })
        .collect();
    let broken = FaultyOpener::new(
        Box::new(syncproof_memory::MemoryOpener::default()),
        Bug::AbsentGetIsNotFound,
    );
    let clean = FaultyOpener::transparent(Box::new(syncproof_memory::MemoryOpener::default()));
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let caught = inputs
        .iter()
        .filter(|d| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| op_sequence_on(d, &broken)))
                .is_err()
        })
        .count();
    let false_alarms = inputs
        .iter()
        .filter(|d| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| op_sequence_on(d, &clean)))
                .is_err()
        })
        .count();
    std::panic::set_hook(hook);
    assert!(
        caught > 0,
        "op_sequence never caught AbsentGetIsNotFound in 300 inputs"
    );
    assert_eq!(false_alarms, 0);
}
