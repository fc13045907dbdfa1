//! Layer-plan validation, reports and automatic grouping.
//!
//! - [`commands`]: the entry points, one per subcommand.
//! - [`model`]: `PLAN.json`, descriptor and package-list formats.
//! - [`resolve`]: joins plan layers with descriptors.
//! - [`validate`]: layer limit and size thresholds, with paste-ready fixes.
//! - [`report`]: the layer table.
//! - [`autogroup`]: Nix-style grouping for a layer budget.
//! - [`snippet`]: `layer_tier(groups = {...})` rendering.

mod autogroup;
mod commands;
mod model;
#[cfg(test)]
mod props;
mod report;
mod resolve;
mod snippet;
mod validate;

pub use commands::{
    run_autogroup, run_report, run_validate, AutogroupRequest, ReportRequest, ValidateRequest,
};
