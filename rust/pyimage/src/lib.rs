//! `pyimage`: the Rust half of rules_pyimage.
//!
//! Writes byte-deterministic OCI layer tars, merges per-package layers without
//! re-reading sources, lists layers for snapshot tests, and validates layer plans.
//! See `docs/tool.md` for the command-line contract the Starlark rules rely on and
//! `docs/determinism.md` for every pinned byte. The public surface is what the binary
//! (`src/main.rs`, `src/cli.rs`) calls; everything else is private to the crate.

#![warn(unreachable_pub)]
#![warn(clippy::too_many_lines)]

mod atomic;
mod autolayer;
mod compress;
mod descriptor;
mod diff;
mod error;
#[cfg(any(test, feature = "fuzzing"))]
mod fuzz;
mod layer;
mod list;
mod manifest;
mod merge;
mod paths;
mod plan;
#[cfg(test)]
mod props;
mod tarfmt;

pub use atomic::emit;
pub use autolayer::{write_auto_layers, AutolayerInput, AutolayerOptions};
pub use compress::{Compression, LevelRange};
pub use diff::{run_diff, DiffRequest};
pub use error::{Error, Result};

/// Runs fuzz target `target` (`tar`, `manifest`, `plan` or `descriptor`) on one input, for
/// the libFuzzer binaries of `fuzz/` (feature `fuzzing`); panics only on a bug.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub fn fuzz_target(target: &str, input: &[u8]) {
    fuzz::run(target, input);
}
pub use layer::{default_threads, write_layer, ExternalSymlinks, LayerOptions, DEFAULT_MTIME};
pub use list::list_layers;
pub use merge::{merge_layers, MergeOptions};
pub use plan::{
    run_autogroup, run_report, run_validate, AutogroupRequest, ReportRequest, ValidateRequest,
};
