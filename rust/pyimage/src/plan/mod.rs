//! Layer-plan validation, reports and automatic grouping.
//!
//! - [`commands`]: the entry points, one per subcommand.
//! - [`model`]: `PLAN.json`, descriptor and package-list formats.
//! - [`base`]: the base image's layer count, read from an OCI layout or a docker archive.
//! - [`resolve`]: joins plan layers with descriptors.
//! - [`validate`]: layer limit and size thresholds, with paste-ready fixes.
//! - [`report`]: the layer table.
//! - [`html`]: the report as a self-contained HTML page.
//! - [`autogroup`]: Nix-style grouping for a layer budget.
//! - [`snippet`]: `layer_tier(groups = {...})` rendering.

mod autogroup;
pub(crate) mod base;
mod commands;
mod html;
pub(crate) mod model;
#[cfg(test)]
mod props;
pub(crate) mod report;
pub(crate) mod resolve;
mod snippet;
mod validate;

pub use commands::{
    run_autogroup, run_report, run_validate, AutogroupRequest, ReportRequest, ValidateRequest,
};
