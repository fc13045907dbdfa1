//! Thin command-line front end; the work lives in the `pyimage` library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pyimage::plan::cli as plan_cli;

/// Deterministic OCI layers for Python binaries (the tool behind rules_pyimage).
#[derive(Debug, Parser)]
#[command(name = "pyimage", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a layer plan against the layer limit and the tier's thresholds.
    Validate(plan_cli::ValidateArgs),
    /// Print a human-readable report of a set of layers.
    Report(plan_cli::ReportArgs),
    /// Propose `layer_tier` groups for a layer budget.
    Autogroup(plan_cli::AutogroupArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Validate(args) => plan_cli::run_validate(args),
        Command::Report(args) => plan_cli::run_report(args),
        Command::Autogroup(args) => plan_cli::run_autogroup(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("pyimage: error: {err:#}");
            ExitCode::from(1)
        }
    }
}
