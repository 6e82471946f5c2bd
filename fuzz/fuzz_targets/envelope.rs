#![no_main]
//! Fuzz target `envelope`: see `syncproof_harness::fuzz_targets::envelope`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| syncproof_harness::fuzz_targets::envelope(data));
