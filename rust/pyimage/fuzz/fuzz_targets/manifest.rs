//! libFuzzer target `manifest`: seeds in `fuzz/corpus/manifest/` (see `src/fuzz.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pyimage::fuzz_target("manifest", data));
