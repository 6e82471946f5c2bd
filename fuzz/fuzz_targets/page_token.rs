#![no_main]
//! Fuzz target `page_token`: see `syncproof_fuzz_codecs::page_token`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| syncproof_fuzz_codecs::page_token(data));
