//! `pyimage`: the Rust half of rules_pyimage.
//!
//! Writes byte-deterministic OCI layer tars, merges per-package layers without
//! re-reading sources, lists layers for snapshot tests, and validates layer plans.
//! See `docs/tool.md` for the command-line contract the Starlark rules rely on.

pub mod plan;
