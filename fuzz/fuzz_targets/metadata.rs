#![no_main]
//! Fuzz target `metadata`: see `syncproof_harness::fuzz_targets::metadata`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| syncproof_harness::fuzz_targets::metadata(data));
