//! `pyimage help-markdown`: the flag reference of docs/tool.md, rendered from the clap
//! definitions so the document cannot drift from the binary (tests/cli_reference.rs diffs it).

use std::fmt::Write as _;

use clap::{Arg, CommandFactory};

use crate::cli::Cli;

/// The reference: one table per visible subcommand, in declaration order.
pub(crate) fn markdown() -> String {
    let cli = Cli::command();
    let mut out = String::new();
    for sub in cli.get_subcommands().filter(|s| !s.is_hide_set()) {
        let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
        let _ = writeln!(out, "### `pyimage {}`\n\n{about}.\n", sub.get_name());
        out.push_str("| argument | default | meaning |\n| --- | --- | --- |\n");
        for arg in sub.get_arguments().filter(|a| !is_builtin(a)) {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                syntax(arg),
                default(arg),
                meaning(arg)
            );
        }
        out.push('\n');
    }
    out
}

fn is_builtin(arg: &Arg) -> bool {
    matches!(arg.get_id().as_str(), "help" | "version")
}

/// `--flag VALUE`, `--flag` for switches, `VALUE...` for positionals; repeatable ones end in `...`.
fn syntax(arg: &Arg) -> String {
    let choices: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_string())
        .collect();
    let value = if choices.is_empty() {
        arg.get_value_names()
            .and_then(|v| v.first().map(|n| n.to_string()))
            .unwrap_or_else(|| arg.get_id().as_str().to_uppercase())
    } else {
        choices.join("|")
    };
    let takes_value = arg.get_action().takes_values();
    let repeats = matches!(arg.get_action(), clap::ArgAction::Append)
        || (arg.is_positional() && arg.get_num_args().is_some_and(|n| n.max_values() > 1));
    let mut s = match arg.get_long() {
        Some(long) if takes_value => format!("`--{long} {value}`"),
        Some(long) => format!("`--{long}`"),
        None => format!("`{value}`"),
    };
    let notes: Vec<&str> = [(repeats, "repeatable"), (arg.is_required_set(), "required")]
        .iter()
        .filter_map(|(on, note)| on.then_some(*note))
        .collect();
    if !notes.is_empty() {
        let _ = write!(s, " ({})", notes.join(", "));
    }
    // a table cell: `|` between choices must not end the cell
    s.replace('|', "\\|")
}

fn default(arg: &Arg) -> String {
    let defaults: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|v| v.to_string_lossy().into_owned())
        .collect();
    if defaults.is_empty() || !arg.get_action().takes_values() {
        "".into()
    } else {
        format!("`{}`", defaults.join(" "))
    }
}

fn meaning(arg: &Arg) -> String {
    let help = arg
        .get_long_help()
        .or_else(|| arg.get_help())
        .map(|h| h.to_string())
        .unwrap_or_default();
    let mut text = help.split_whitespace().collect::<Vec<_>>().join(" ");
    if !text.is_empty() && !text.ends_with('.') {
        text.push('.');
    }
    text.replace('|', "\\|")
}
