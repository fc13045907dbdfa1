//! Thin command-line front end; the work lives in the `pyimage` library.
//!
//! Exit codes: `0` success, `1` invalid input or failed validation (the message on stderr
//! names the file and the fix), `2` usage error (reported by clap).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pyimage::cli;
use pyimage::plan::cli as plan_cli;

/// Deterministic OCI layers for Python binaries (the tool behind rules_pyimage).
///
/// Arguments may be read from files: `@FILE` is replaced by FILE's lines, one argument each.
#[derive(Debug, Parser)]
#[command(name = "pyimage", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write one layer blob and its descriptor from trees and manifests.
    Layer(cli::LayerArgs),
    /// Join per-package layers into one layer without recompressing.
    Merge(cli::MergeArgs),
    /// Print a stable `ls -l`-style listing of layers.
    List(cli::ListArgs),
    /// Check a layer plan against the layer limit and the tier's thresholds.
    Validate(plan_cli::ValidateArgs),
    /// Print a human-readable report of a set of layers.
    Report(plan_cli::ReportArgs),
    /// Propose `layer_tier` groups for a layer budget.
    Autogroup(plan_cli::AutogroupArgs),
}

fn main() -> ExitCode {
    let args = match cli::expand_argfiles(std::env::args_os()) {
        Ok(a) => a,
        Err(err) => {
            eprintln!("pyimage: error: {err}");
            return ExitCode::from(2);
        }
    };
    let cli = Cli::parse_from(args);
    let result = match &cli.command {
        Command::Layer(args) => cli::run_layer(args),
        Command::Merge(args) => cli::run_merge(args),
        Command::List(args) => cli::run_list(args),
        Command::Validate(args) => plan_cli::run_validate(args).map_err(Into::into),
        Command::Report(args) => plan_cli::run_report(args).map_err(Into::into),
        Command::Autogroup(args) => plan_cli::run_autogroup(args).map_err(Into::into),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("pyimage: error: {err:#}");
            ExitCode::from(1)
        }
    }
}
