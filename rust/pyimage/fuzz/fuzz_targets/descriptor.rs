//! libFuzzer target `descriptor`: seeds in `fuzz/corpus/descriptor/` (see `src/fuzz.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pyimage::fuzz_target("descriptor", data));
