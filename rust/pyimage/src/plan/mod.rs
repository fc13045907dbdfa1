//! Layer-plan validation, reports and automatic grouping (owned by the plan work stream).
//!
//! - [`model`]: `PLAN.json`, descriptor and package-list formats.
//! - [`resolve`]: joins plan layers with descriptors.
//! - [`validate`]: layer limit and size thresholds, with paste-ready fixes.
//! - [`report`]: the layer table.
//! - [`autogroup`]: Nix-style grouping for a layer budget.
//! - [`snippet`]: `layer_tier(groups = {...})` rendering.

pub mod autogroup;
pub mod cli;
pub mod model;
pub mod report;
pub mod resolve;
pub mod snippet;
pub mod validate;
