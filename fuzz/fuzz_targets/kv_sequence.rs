#![no_main]
//! Fuzz target `kv_sequence`: see `syncproof_harness::fuzz_targets::kv_sequence`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| syncproof_harness::fuzz_targets::kv_sequence(data));
