//! `pyimage`: the Rust half of rules_pyimage.
//!
//! Writes byte-deterministic OCI layer tars, merges per-package layers without
//! re-reading sources, lists layers for snapshot tests, and validates layer plans.
//! See `docs/tool.md` for the command-line contract the Starlark rules rely on and
//! `docs/determinism.md` for every pinned byte.

pub mod atomic;
pub mod cli;
pub mod compress;
pub mod descriptor;
pub mod error;
pub mod layer;
pub mod list;
pub mod manifest;
pub mod merge;
pub mod paths;
pub mod plan;
pub mod tarfmt;

pub use compress::Compression;
pub use error::{Error, Result};
