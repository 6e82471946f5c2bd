#![no_main]
//! Fuzz target `metadata`: see `syncproof_fuzz_codecs::metadata`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| syncproof_fuzz_codecs::metadata(data));
