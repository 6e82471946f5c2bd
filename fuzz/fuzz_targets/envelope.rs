#![no_main]
//! Fuzz target `envelope`: see `syncproof_fuzz_codecs::envelope`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| syncproof_fuzz_codecs::envelope(data));
