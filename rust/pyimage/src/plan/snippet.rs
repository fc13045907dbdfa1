//! Paste-ready `layer_tier(groups = {...})` Starlark snippets.

use super::model::Groups;

/// Lists no longer than this (rendered on one line) stay on one line.
const ONE_LINE_WIDTH: usize = 88;

/// Quotes a Starlark string literal.
pub(super) fn starlark_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Renders the `groups = {...}` dict body lines, indented by `indent` spaces.
fn render_groups(groups: &Groups, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    let pad2 = " ".repeat(indent + 4);
    if groups.0.is_empty() {
        out.push_str("groups = {},\n");
        return;
    }
    out.push_str("groups = {\n");
    for (name, patterns) in &groups.0 {
        let items: Vec<String> = patterns.iter().map(|p| starlark_string(p)).collect();
        let one_line = format!("{}: [{}],", starlark_string(name), items.join(", "));
        if pad2.len() + one_line.len() <= ONE_LINE_WIDTH || items.len() <= 1 {
            out.push_str(&pad2);
            out.push_str(&one_line);
            out.push('\n');
        } else {
            out.push_str(&pad2);
            out.push_str(&starlark_string(name));
            out.push_str(": [\n");
            for item in &items {
                out.push_str(&pad2);
                out.push_str("    ");
                out.push_str(item);
                out.push_str(",\n");
            }
            out.push_str(&pad2);
            out.push_str("],\n");
        }
    }
    out.push_str(&pad);
    out.push_str("},\n");
}

/// Renders `layer_tier(name = ..., groups = {...})`, each line ending in `\n`.
/// The other attributes of the tier are left out: the comment says to keep them.
pub(super) fn layer_tier_snippet(tier_name: &str, groups: &Groups) -> String {
    let mut out = String::from("layer_tier(\n");
    if !tier_name.is_empty() {
        out.push_str("    name = ");
        out.push_str(&starlark_string(tier_name));
        out.push_str(",\n");
    }
    out.push_str("    ");
    render_groups(groups, 4, &mut out);
    out.push_str(
        "    # ... keep the tier's other attributes (interpreter_group, compression, thresholds)\n",
    );
    out.push_str(")\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_short_and_long_lists() {
        let g = Groups(vec![
            ("web".into(), vec!["requests".into(), "urllib3".into()]),
            (
                "many".into(),
                (0..12).map(|i| format!("package-number-{i}")).collect(),
            ),
            ("empty".into(), vec![]),
        ]);
        let s = layer_tier_snippet("ml", &g);
        assert!(s.starts_with("layer_tier(\n    name = \"ml\",\n    groups = {\n"));
        assert!(s.contains("        \"web\": [\"requests\", \"urllib3\"],\n"));
        assert!(s.contains("        \"many\": [\n            \"package-number-0\",\n"));
        assert!(s.contains("        \"empty\": [],\n"));
        assert!(s.ends_with(")\n"));
    }

    #[test]
    fn quotes() {
        assert_eq!(starlark_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }
}
