//! `pyimage report --html`: one self-contained page (inline CSS, no script, no network)
//! with the layers as stacked bars, their packages, the validation messages with their
//! snippets, the tier's groups, and — given a previous report — the diff highlighted.
//!
//! Stable hooks for tests and tooling: `#layers[data-layer-count]`, one
//! `tr.layer[data-group][data-status]` per layer, `li.package[data-name]` per package.

use std::fmt::Write as _;

use super::report::{Report, Row};
use super::resolve::human_bytes;
use crate::diff::{ImageDiff, LayerDiff, LayerStatus};

/// What the page shows besides the report.
pub(super) struct Extras<'a> {
    /// Validation messages (text with their fixes), in order; empty when there are none.
    pub messages: Vec<String>,
    /// The validation summary line, when a plan was given.
    pub summary: Option<String>,
    /// The tier's current groups as a `layer_tier` snippet, when a plan was given.
    pub tier_snippet: Option<String>,
    /// The diff against a previous report.
    pub diff: Option<&'a ImageDiff>,
}

const STYLE: &str = r#"
:root{--bg:#f7f7f9;--fg:#1d1f24;--muted:#5f6570;--line:#dcdfe5;--card:#fff;
--interpreter:#4e79a7;--pip_group:#59a14f;--pip_squashed:#d4a72c;--pip_auto:#76b7b2;--first_party:#f28e2b;--app:#e15759;--other:#8c7b6b}
*{box-sizing:border-box}
body{margin:0;padding:24px 32px;background:var(--bg);color:var(--fg);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 10px}
.sub{color:var(--muted);margin:0 0 16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px;margin-bottom:14px}
.verdict{font-size:16px;font-weight:600;border-left:4px solid var(--app)}
.verdict.clean{border-left-color:var(--pip_group)}
.barlabel{display:flex;justify-content:space-between;color:var(--muted);font-size:12px;margin:8px 0 3px}
.bar{display:flex;height:30px;border-radius:5px;overflow:hidden;background:#e9ebef}
.seg{display:block;min-width:3px;height:100%;border-right:1px solid #fff;position:relative}
.seg.changed,.seg.added{outline:3px solid #111;outline-offset:-3px}
.seg.unchanged.dim{opacity:.35}
.legend{display:flex;flex-wrap:wrap;gap:14px;margin-top:10px;font-size:12px;color:var(--muted)}
.sw{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:5px;vertical-align:-1px}
table{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line);border-radius:8px;overflow:hidden}
th,td{padding:7px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:#eef0f4;font-weight:600;font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.03em}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.digest{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12px;color:var(--muted)}
tr.changed td,tr.added td{background:#fff4e5}tr.removed td{background:#fdecec;color:var(--muted)}
.kind{display:inline-block;padding:1px 7px;border-radius:10px;color:#fff;font-size:11px;font-weight:600}
.status{font-size:11px;font-weight:700;text-transform:uppercase}
.status.changed,.status.added{color:#b35c00}.status.removed{color:#b3261e}.status.unchanged{color:var(--muted)}
ul.packages{margin:0;padding:0;list-style:none;display:flex;flex-wrap:wrap;gap:4px}
li.package{background:#eef0f4;border-radius:4px;padding:1px 6px;font-size:12px}
li.package .v{color:var(--muted)}
li.package.added{background:#dff3dc}li.package.changed{background:#ffe3b8}
li.package.removed{background:#fbd9d7;text-decoration:line-through}
pre{background:#f1f2f6;border:1px solid var(--line);border-radius:6px;padding:10px 12px;overflow:auto;font-size:12px;margin:6px 0 0}
.msg{border-left:4px solid var(--pip_squashed)}.msg.error{border-left-color:var(--app)}
.ok{color:#2e7d32;font-weight:600}
footer{margin-top:28px;color:var(--muted);font-size:12px}
"#;

/// Escapes text for HTML element content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn kind_var(kind: Option<&str>) -> &str {
    match kind {
        Some(
            k @ ("interpreter" | "pip_group" | "pip_squashed" | "pip_auto" | "first_party" | "app"),
        ) => k,
        _ => "other",
    }
}

fn short_digest(d: &str) -> &str {
    let hex = d.strip_prefix("sha256:").unwrap_or(d);
    &hex[..hex.len().min(12)]
}

/// Width of each segment in per mille of the bar (every layer keeps a sliver).
fn shares(values: &[u64]) -> Vec<f64> {
    let total: u64 = values.iter().fold(0u64, |a, v| a.saturating_add(*v));
    values
        .iter()
        .map(|v| {
            if total == 0 {
                100.0 / values.len().max(1) as f64
            } else {
                *v as f64 * 100.0 / total as f64
            }
        })
        .collect()
}

fn status_of<'a>(extras: &'a Extras<'_>, row: &Row) -> Option<&'a LayerDiff> {
    extras.diff.and_then(|d| d.status_of_new(row.index))
}

fn bar(out: &mut String, report: &Report, extras: &Extras<'_>, compressed: bool) {
    let values: Vec<u64> = report
        .layers
        .iter()
        .map(|r| {
            if compressed {
                r.compressed_bytes
            } else {
                r.uncompressed_bytes
            }
        })
        .collect();
    let total = values.iter().fold(0u64, |a, v| a.saturating_add(*v));
    let what = if compressed {
        "compressed (pushed and pulled)"
    } else {
        "uncompressed (on disk)"
    };
    let _ = write!(
        out,
        "<div class=\"barlabel\"><span>{what}</span><span>{}</span></div><div class=\"bar\" data-bar=\"{}\">",
        human_bytes(total),
        if compressed { "compressed" } else { "uncompressed" }
    );
    for ((row, share), value) in report.layers.iter().zip(shares(&values)).zip(&values) {
        let status = status_of(extras, row).map(|d| d.status);
        let class = match status {
            Some(LayerStatus::Unchanged) => "unchanged dim",
            Some(s) => s.as_str(),
            None => "",
        };
        let _ = write!(
            out,
            "<a class=\"seg {class}\" href=\"#layer-{i}\" style=\"width:{share:.3}%;background:var(--{kind})\" title=\"{i}: {group} ({kind_text}) {size}\"></a>",
            i = row.index,
            kind = kind_var(row.kind.as_deref()),
            group = esc(&row.group),
            kind_text = esc(row.kind.as_deref().unwrap_or("-")),
            size = human_bytes(*value),
        );
    }
    out.push_str("</div>");
}

fn legend(out: &mut String) {
    out.push_str("<div class=\"legend\">");
    for k in [
        "interpreter",
        "pip_group",
        "pip_squashed",
        "first_party",
        "app",
    ] {
        let _ = write!(
            out,
            "<span><span class=\"sw\" style=\"background:var(--{k})\"></span>{k}</span>"
        );
    }
    out.push_str("</div>");
}

fn package_items(out: &mut String, row: &Row, change: Option<&LayerDiff>) {
    out.push_str("<ul class=\"packages\">");
    let versions: Vec<(String, String)> = if row.package_details.is_empty() {
        row.packages
            .iter()
            .map(|p| (p.clone(), String::new()))
            .collect()
    } else {
        row.package_details
            .iter()
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect()
    };
    for (name, version) in &versions {
        let class = match change {
            Some(c) if c.added_packages.contains(name) => " added",
            Some(c) if c.changed_packages.iter().any(|p| &p.name == name) => " changed",
            _ => "",
        };
        let _ = write!(
            out,
            "<li class=\"package{class}\" data-name=\"{n}\">{n}{v}</li>",
            n = esc(name),
            v = if version.is_empty() {
                String::new()
            } else {
                format!(" <span class=\"v\">{}</span>", esc(version))
            }
        );
    }
    if let Some(c) = change {
        for name in &c.removed_packages {
            let _ = write!(
                out,
                "<li class=\"package removed\" data-removed=\"{n}\">{n}</li>",
                n = esc(name)
            );
        }
    }
    out.push_str("</ul>");
}

fn layer_table(out: &mut String, report: &Report, extras: &Extras<'_>) {
    let diff_col = extras.diff.is_some();
    let _ = write!(
        out,
        "<table id=\"layers\" data-layer-count=\"{}\"><thead><tr><th>#</th><th>group</th><th>kind</th>{}<th>files</th><th>uncompressed</th><th>compressed</th><th>digest</th><th>packages</th></tr></thead><tbody>",
        report.layers.len(),
        if diff_col { "<th>change</th>" } else { "" }
    );
    for row in &report.layers {
        let change = status_of(extras, row);
        let status = change.map_or("", |c| c.status.as_str());
        let kind = row.kind.as_deref().unwrap_or("-");
        let _ = write!(
            out,
            "<tr id=\"layer-{i}\" class=\"layer {status}\" data-group=\"{g}\" data-status=\"{status}\"><td class=\"num\">{i}</td><td>{g}</td><td><span class=\"kind\" style=\"background:var(--{kv})\">{k}</span></td>",
            i = row.index,
            g = esc(&row.group),
            kv = kind_var(row.kind.as_deref()),
            k = esc(kind),
        );
        if diff_col {
            let _ = write!(
                out,
                "<td><span class=\"status {status}\">{status}</span></td>"
            );
        }
        let _ = write!(
            out,
            "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"digest\">{}</td><td>",
            row.files,
            human_bytes(row.uncompressed_bytes),
            human_bytes(row.compressed_bytes),
            esc(short_digest(&row.digest)),
        );
        package_items(out, row, change);
        out.push_str("</td></tr>");
    }
    if let Some(d) = extras.diff {
        for l in d.layers.iter().filter(|l| l.status == LayerStatus::Removed) {
            let _ = write!(
                out,
                "<tr class=\"removed-layer removed\" data-group=\"{g}\" data-status=\"removed\"><td class=\"num\">-</td><td>{g}</td><td></td><td><span class=\"status removed\">removed</span></td><td class=\"num\">{f}</td><td></td><td class=\"num\">{c}</td><td class=\"digest\">{dg}</td><td></td></tr>",
                g = esc(&l.group),
                f = l.old_files,
                c = human_bytes(l.old_compressed_bytes),
                dg = esc(short_digest(&l.old_digest)),
            );
        }
    }
    out.push_str("</tbody></table>");
}

fn findings(out: &mut String, extras: &Extras<'_>) {
    if extras.summary.is_none() && extras.messages.is_empty() {
        return;
    }
    out.push_str("<h2>Validation</h2><section id=\"warnings\">");
    if extras.messages.is_empty() {
        out.push_str("<div class=\"card\"><span class=\"ok\">No warnings.</span></div>");
    }
    for m in &extras.messages {
        let (head, rest) = m.split_once('\n').unwrap_or((m.as_str(), ""));
        let class = if head.starts_with("ERROR") {
            "msg error"
        } else {
            "msg"
        };
        let _ = write!(
            out,
            "<div class=\"card {class}\"><strong>{}</strong>{}</div>",
            esc(head),
            if rest.trim().is_empty() {
                String::new()
            } else {
                format!("<pre>{}</pre>", esc(rest.trim_end()))
            }
        );
    }
    if let Some(s) = &extras.summary {
        let _ = write!(out, "<p class=\"sub\">{}</p>", esc(s));
    }
    out.push_str("</section>");
}

/// Renders the page.
pub(super) fn render(report: &Report, extras: &Extras<'_>) -> String {
    let title = if report.target.is_empty() {
        "pyimage layers".to_string()
    } else {
        format!("Layers of {}", report.target)
    };
    let t = &report.totals;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{t_esc}</title><style>{STYLE}</style></head><body>\n<h1>{t_esc}</h1><p class=\"sub\">{tier}{n} layers{base}, {u} uncompressed, {c} compressed, {f} files</p>\n",
        t_esc = esc(&title),
        tier = if report.tier.is_empty() {
            String::new()
        } else {
            format!("tier {} · ", esc(&report.tier))
        },
        n = t.layers,
        base = match &report.base {
            Some(b) => format!(" (+{} base, {})", t.base_layers, esc(&b.describe())),
            None if t.base_layers > 0 => format!(" (+{} base)", t.base_layers),
            None => String::new(),
        },
        u = human_bytes(t.uncompressed_bytes),
        c = human_bytes(t.compressed_bytes),
        f = t.files,
    );
    if let Some(d) = extras.diff {
        let _ = write!(
            out,
            "<div id=\"verdict\" class=\"card verdict{}\">{}</div>",
            if d.layers_changed == 0 && d.layers_removed == 0 {
                " clean"
            } else {
                ""
            },
            esc(&d.verdict)
        );
    }
    out.push_str("<div class=\"card\">");
    bar(&mut out, report, extras, true);
    bar(&mut out, report, extras, false);
    legend(&mut out);
    out.push_str("</div>\n<h2>Layers, bottom to top</h2>");
    layer_table(&mut out, report, extras);
    out.push('\n');
    findings(&mut out, extras);
    if let Some(s) = &extras.tier_snippet {
        let _ = write!(
            out,
            "<h2>Tier groups</h2><section id=\"snippet\"><pre>{}</pre></section>",
            esc(s.trim_end())
        );
    }
    out.push_str("\n<footer>Written by pyimage report --html.</footer></body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn shares_sum_to_the_whole_bar() {
        let s = shares(&[1, 1, 2]);
        assert!((s.iter().sum::<f64>() - 100.0).abs() < 1e-9);
        assert_eq!(shares(&[0, 0]), [50.0, 50.0]);
        assert!(shares(&[]).is_empty());
    }
}
