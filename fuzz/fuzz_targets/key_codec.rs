#![no_main]
//! Fuzz target `key_codec`: see `syncproof_fuzz_codecs::key_codec`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| syncproof_fuzz_codecs::key_codec(data));
