//! libFuzzer target `plan`: seeds in `fuzz/corpus/plan/` (see `src/fuzz.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pyimage::fuzz_target("plan", data));
