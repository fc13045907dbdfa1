//! libFuzzer target `tar`: seeds in `fuzz/corpus/tar/` (see `src/fuzz.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pyimage::fuzz_target("tar", data));
