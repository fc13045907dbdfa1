//! docs/tool.md's flag reference is the output of `pyimage help-markdown` (rendered from the
//! clap definitions). Regenerate it with
//! `UPDATE_DOCS=1 cargo test -p pyimage --test cli_reference`.

use std::path::Path;

use assert_cmd::Command;

const BEGIN: &str = "<!-- BEGIN GENERATED: pyimage help-markdown -->\n";
const END: &str = "<!-- END GENERATED -->\n";

#[test]
fn tool_md_flag_reference_matches_the_cli() {
    let out = Command::cargo_bin("pyimage")
        .unwrap()
        .arg("help-markdown")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let generated = String::from_utf8(out.stdout).unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/tool.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let start = doc.find(BEGIN).map(|i| i + BEGIN.len());
    let end = doc.find(END);
    let (Some(start), Some(end)) = (start, end) else {
        panic!(
            "{}: markers {BEGIN:?} and {END:?} not found",
            path.display()
        );
    };
    if std::env::var_os("UPDATE_DOCS").is_some() {
        let updated = format!("{}{generated}{}", &doc[..start], &doc[end..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    assert!(
        doc[start..end] == generated,
        "{} is stale: its flag reference differs from `pyimage help-markdown`. Regenerate with \
         UPDATE_DOCS=1 cargo test -p pyimage --test cli_reference",
        path.display()
    );
}
