#![no_main]
//! Fuzz target `op_sequence`: see `syncproof_harness::fuzz_targets::op_sequence`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| syncproof_harness::fuzz_targets::op_sequence(data));
