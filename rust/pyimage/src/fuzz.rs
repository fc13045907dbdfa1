//! Fuzz targets over the committed corpus in `fuzz/corpus/<target>/`: every file is replayed
//! on each `cargo test` (an input that once crashed the tool or was refused by a hardening
//! test stays a regression test), and each is a seed that `corpus_mutations_never_panic`
//! mutates (`tools/fuzz.sh` runs it with a large case count). A target only has to end,
//! with a result or an error, without panicking or looping; it may refuse anything.
//!
//! The same targets are libFuzzer targets (`fuzz/fuzz_targets/`, the `fuzzing` feature
//! exports [`run`] as `pyimage::fuzz_target`) for `cargo +nightly fuzz run <target>`: see `tools/fuzz.sh --libfuzzer`.
//!
//! To add a case: save the input as a file in `fuzz/corpus/<target>/` under a name that
//! says what it is (see `docs/security.md`).

use std::path::Path;

use crate::descriptor::{strict_json, Descriptor};
use crate::manifest::parse_manifest;
use crate::tarfmt::TarReader;

/// Runs fuzz target `target` on one input; panics only on a bug. The targets: `tar` (the
/// tar reader `list` and `merge` use), `manifest` (the manifest parser), `plan` and
/// `descriptor` (the JSON loaders).
pub(crate) fn run(target: &str, input: &[u8]) {
    match target {
        "tar" => read_all(input),
        "manifest" => {
            if let Ok(text) = std::str::from_utf8(input) {
                if let Err((line, msg)) = parse_manifest(text) {
                    assert!(line >= 1 && !msg.is_empty(), "error without line or text");
                }
            }
        }
        "plan" => crate::plan::model::fuzz_plan(&String::from_utf8_lossy(input)),
        "descriptor" => {
            let text = String::from_utf8_lossy(input);
            if let Ok(d) = strict_json::<Descriptor>(&text, Path::new("fuzz.json"), "descriptor") {
                let _ = d.to_json();
            }
        }
        other => panic!("unknown fuzz target {other}"),
    }
}

/// Reads every entry of a tar stream; the reader must end (entry or error).
fn read_all(bytes: &[u8]) {
    let mut r = TarReader::new(std::io::Cursor::new(bytes));
    for _ in 0..10_000 {
        match r.next_entry() {
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return,
        }
    }
    panic!("reader did not terminate");
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};
    use std::sync::OnceLock;

    use proptest::prelude::*;

    use super::run;

    const TARGETS: [&str; 4] = ["tar", "manifest", "plan", "descriptor"];

    /// The seeds of one target: `(path, content)` sorted by path.
    type Seeds = Vec<(PathBuf, Vec<u8>)>;

    /// The corpus of `target`, read once per test run.
    fn corpus(target: &str) -> &'static [(PathBuf, Vec<u8>)] {
        static ALL: OnceLock<BTreeMap<&'static str, Seeds>> = OnceLock::new();
        let all = ALL.get_or_init(|| TARGETS.iter().map(|t| (*t, read_corpus(t))).collect());
        &all[target]
    }

    fn read_corpus(target: &str) -> Seeds {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus")
            .join(target);
        let mut files: Seeds = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| {
                let path = e.unwrap().path();
                let bytes = std::fs::read(&path).unwrap();
                (path, bytes)
            })
            .collect();
        files.sort();
        files
    }

    /// Recomputes the checksum of every non-zero 512-byte block that looks like a ustar header,
    /// so mutations of a tar reach the parsing behind the checksum test.
    fn fix_checksums(t: &mut [u8]) {
        for block in t.chunks_exact_mut(512) {
            if &block[257..262] == b"ustar" {
                block[148..156].copy_from_slice(b"        ");
                let sum: u32 = block.iter().map(|&b| u32::from(b)).sum();
                block[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
            }
        }
    }

    /// Fuzz cases: `PYIMAGE_FUZZ_CASES` (`tools/fuzz.sh` and CI run a larger count), else 256.
    fn cases() -> u32 {
        std::env::var("PYIMAGE_FUZZ_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(256)
    }

    #[test]
    fn corpus_replays_without_panic() {
        for target in TARGETS {
            let files = corpus(target);
            assert!(
                files.len() >= 3,
                "fuzz/corpus/{target}/ holds too few seeds"
            );
            for (path, bytes) in files {
                let outcome = std::panic::catch_unwind(|| run(target, bytes));
                assert!(outcome.is_ok(), "{target} panicked on {}", path.display());
            }
        }
    }

    /// One edit of a seed: overwrite, insert or delete bytes at a position.
    #[derive(Debug, Clone)]
    enum Edit {
        Set(usize, u8),
        Insert(usize, Vec<u8>),
        Delete(usize, usize),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        // bytes that matter to the formats: digits (octal sizes, JSON numbers), tar/JSON syntax,
        // TAB and newline (manifest fields and lines), NUL, and anything else
        let byte = prop_oneof![
            b'0'..=b'9',
            prop::sample::select(b"\t\n\r\0 ={}[]\",:/.-\\".to_vec()),
            any::<u8>(),
        ];
        prop_oneof![
            (any::<usize>(), byte.clone()).prop_map(|(at, b)| Edit::Set(at, b)),
            (any::<usize>(), prop::collection::vec(byte, 1..12))
                .prop_map(|(at, b)| Edit::Insert(at, b)),
            (any::<usize>(), 1usize..64).prop_map(|(at, n)| Edit::Delete(at, n)),
        ]
    }

    fn apply(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
        let mut t = seed.to_vec();
        for e in edits {
            let at = |i: usize| i % (t.len() + 1);
            match e {
                Edit::Set(i, b) if !t.is_empty() => {
                    let i = i % t.len();
                    t[i] = *b;
                }
                Edit::Set(..) => {}
                Edit::Insert(i, bytes) => {
                    let i = at(*i);
                    t.splice(i..i, bytes.iter().copied());
                }
                Edit::Delete(i, n) => {
                    let i = at(*i);
                    let end = (i + n).min(t.len());
                    t.drain(i..end);
                }
            }
        }
        t
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(cases()))]

        #[test]
        fn corpus_mutations_never_panic(
            target in prop::sample::select(TARGETS.to_vec()),
            pick in any::<prop::sample::Index>(),
            edits in prop::collection::vec(edit(), 1..16),
            fix in any::<bool>(),
        ) {
            let files = corpus(target);
            let (_, seed) = &files[pick.index(files.len())];
            let mut input = apply(seed, &edits);
            if target == "tar" && fix {
                fix_checksums(&mut input);
            }
            run(target, &input);
        }
    }
}
