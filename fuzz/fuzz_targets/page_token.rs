#![no_main]
//! Fuzz target `page_token`: see `syncproof_harness::fuzz_targets::page_token`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| syncproof_harness::fuzz_targets::page_token(data));
