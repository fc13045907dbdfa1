//! clap arguments and entry points for `validate`, `report` and `autogroup`.
//! `main.rs` wires these into the top-level command; keep the signatures stable.

use std::process::ExitCode;

/// Arguments of `pyimage validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {}

/// Arguments of `pyimage report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {}

/// Arguments of `pyimage autogroup`.
#[derive(Debug, clap::Args)]
pub struct AutogroupArgs {}

/// Runs `pyimage validate`.
pub fn run_validate(_args: &ValidateArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("validate: not implemented yet")
}

/// Runs `pyimage report`.
pub fn run_report(_args: &ReportArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("report: not implemented yet")
}

/// Runs `pyimage autogroup`.
pub fn run_autogroup(_args: &AutogroupArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("autogroup: not implemented yet")
}
