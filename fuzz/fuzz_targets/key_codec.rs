#![no_main]
//! Fuzz target `key_codec`: see `syncproof_harness::fuzz_targets::key_codec`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| syncproof_harness::fuzz_targets::key_codec(data));
