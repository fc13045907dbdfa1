//! The `pyimage` binary: parses the command line (`cli`) and runs the library.
//!
//! Exit codes: `0` success, `1` invalid input or failed validation (the message on stderr
//! names the file and the fix), `2` usage error (reported by clap).

#![warn(unreachable_pub)]
#![warn(clippy::too_many_lines)]

mod cli;
mod reference;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = match cli::expand_argfiles(std::env::args_os()) {
        Ok(a) => a,
        Err(err) => {
            eprintln!("pyimage: error: {err}");
            return ExitCode::from(2);
        }
    };
    let cli = cli::Cli::parse_from(args);
    match cli.command.run() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("pyimage: error: {err:#}");
            ExitCode::from(1)
        }
    }
}
