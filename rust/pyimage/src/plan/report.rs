//! `pyimage report`: a table (or JSON) of layers from their descriptors.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::base::BaseCount;
use super::model::{normalize_name, Plan, UnmatchedPattern};
use super::resolve::{display_label, human_bytes, ResolvedLayer};

/// One pip distribution of a layer, from the layer's descriptor.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct PackageRow {
    /// Normalised distribution name.
    pub name: String,
    /// Version, `""` when unknown.
    #[serde(default)]
    pub version: String,
    /// Regular files attributed to the package.
    #[serde(default)]
    pub files: u64,
    /// Content bytes of those files.
    #[serde(default)]
    pub bytes: u64,
}

/// One row of the report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Row {
    /// 0-based layer index among our layers.
    pub index: usize,
    /// Group name.
    pub group: String,
    /// Layer kind from the plan, or `null`.
    pub kind: Option<String>,
    /// Packages (pip names or labels).
    pub packages: Vec<String>,
    /// Regular files.
    pub files: u64,
    /// Tar entries.
    pub entries: u64,
    /// Uncompressed tar bytes.
    pub uncompressed_bytes: u64,
    /// Blob bytes.
    pub compressed_bytes: u64,
    /// Blob digest.
    pub digest: String,
    /// Uncompressed digest.
    pub diff_id: String,
    /// Media type.
    pub media_type: String,
    /// The descriptor's per-package attribution (versions and sizes), sorted by name.
    #[serde(default)]
    pub package_details: Vec<PackageRow>,
}

/// Column totals.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Totals {
    /// Our layers.
    pub layers: usize,
    /// Base-image layers (from the plan or `--base-layers`).
    pub base_layers: u64,
    /// Regular files.
    pub files: u64,
    /// Tar entries.
    pub entries: u64,
    /// Uncompressed bytes.
    pub uncompressed_bytes: u64,
    /// Blob bytes.
    pub compressed_bytes: u64,
}

/// The whole report (the `--json` form, also the input of `pyimage diff`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Report {
    /// Format version.
    pub schema: u32,
    /// Target from the plan, or empty.
    pub target: String,
    /// Tier label (or name) from the plan, or empty.
    pub tier: String,
    /// Layers in image order.
    pub layers: Vec<Row>,
    /// Totals.
    pub totals: Totals,
    /// Tier patterns that matched nothing in this binary (the plan's `unmatched`), tier order.
    #[serde(default)]
    pub unmatched: Vec<UnmatchedPattern>,
    /// Where `totals.base_layers` comes from; absent when there is no base layer to explain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<BaseCount>,
}

/// Builds the report.
pub(super) fn build(plan: Option<&Plan>, layers: &[ResolvedLayer], base: &BaseCount) -> Report {
    let base_layers = base.layers;
    let rows: Vec<Row> = layers
        .iter()
        .map(|l| {
            let d = l.descriptor.as_ref().map(|d| &d.descriptor);
            Row {
                index: l.index,
                group: l.group.clone(),
                kind: l.kind.map(|k| k.as_str().to_string()),
                packages: l.packages.clone(),
                files: d.map_or(0, |d| d.files),
                entries: d.map_or(0, |d| d.entries),
                uncompressed_bytes: d.map_or(0, |d| d.uncompressed_size),
                compressed_bytes: d.map_or(0, |d| d.size),
                digest: d.map_or(String::new(), |d| d.digest.clone()),
                diff_id: d.map_or(String::new(), |d| d.diff_id.clone()),
                media_type: d.map_or(String::new(), |d| d.media_type.clone()),
                package_details: package_details(d.map_or(&[], |d| &d.packages)),
            }
        })
        .collect();
    let totals = Totals {
        layers: rows.len(),
        base_layers,
        files: rows.iter().map(|r| r.files).sum(),
        entries: rows.iter().map(|r| r.entries).sum(),
        uncompressed_bytes: rows.iter().map(|r| r.uncompressed_bytes).sum(),
        compressed_bytes: rows.iter().map(|r| r.compressed_bytes).sum(),
    };
    let (target, tier) = match plan {
        Some(p) => (
            display_label(&p.target),
            if p.tier.label.is_empty() {
                p.tier.name.clone()
            } else {
                display_label(&p.tier.label)
            },
        ),
        None => (String::new(), String::new()),
    };
    Report {
        schema: 1,
        target,
        tier,
        layers: rows,
        totals,
        unmatched: plan.map_or_else(Vec::new, |p| p.unmatched.clone()),
        base: Some(base.clone()).filter(|b| b.layers > 0 || b.is_from_image()),
    }
}

fn package_details(packages: &[crate::descriptor::Package]) -> Vec<PackageRow> {
    let mut rows: Vec<PackageRow> = packages
        .iter()
        .map(|p| PackageRow {
            name: normalize_name(&p.name),
            version: p.version.clone(),
            files: p.files,
            bytes: p.bytes,
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.version.cmp(&b.version)));
    rows
}

/// Width of the packages column before it is cut with `+N more`.
const PACKAGES_WIDTH: usize = 60;

fn short_digest(d: &str) -> String {
    let hex = d.strip_prefix("sha256:").unwrap_or(d);
    if hex.is_empty() {
        "-".into()
    } else {
        hex.chars().take(12).collect()
    }
}

fn packages_cell(packages: &[String]) -> String {
    if packages.is_empty() {
        return "-".into();
    }
    let mut out = String::new();
    for (i, p) in packages.iter().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        let rest = packages.len() - i;
        let suffix = format!(", +{} more", rest);
        if out.len() + sep.len() + p.len() > PACKAGES_WIDTH && i > 0 {
            out.push_str(&suffix);
            return out;
        }
        out.push_str(sep);
        out.push_str(p);
    }
    out
}

/// Renders the human-readable table.
pub(super) fn render_text(r: &Report) -> String {
    let header = [
        "layer",
        "group",
        "kind",
        "files",
        "bytes",
        "compressed",
        "digest",
        "packages",
    ];
    let mut cells: Vec<[String; 8]> = r
        .layers
        .iter()
        .map(|row| {
            [
                row.index.to_string(),
                row.group.clone(),
                row.kind.clone().unwrap_or_else(|| "-".into()),
                row.files.to_string(),
                human_bytes(row.uncompressed_bytes),
                human_bytes(row.compressed_bytes),
                short_digest(&row.digest),
                packages_cell(&row.packages),
            ]
        })
        .collect();
    let t = &r.totals;
    cells.push([
        "total".into(),
        format!("{} layers", t.layers),
        if t.base_layers > 0 {
            format!("+{} base", t.base_layers)
        } else {
            String::new()
        },
        t.files.to_string(),
        human_bytes(t.uncompressed_bytes),
        human_bytes(t.compressed_bytes),
        String::new(),
        String::new(),
    ]);
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(c.len());
        }
    }
    // Numeric columns (files, bytes, compressed) are right-aligned.
    let right = [false, false, false, true, true, true, false, false];
    let line = |row: &[String]| {
        let mut s = String::new();
        for (i, c) in row.iter().enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            if i == row.len() - 1 {
                s.push_str(c);
            } else if right[i] {
                let _ = write!(s, "{c:>w$}", w = widths[i]);
            } else {
                let _ = write!(s, "{c:<w$}", w = widths[i]);
            }
        }
        s.trim_end().to_string()
    };
    let mut out = String::new();
    if !r.target.is_empty() || !r.tier.is_empty() {
        let _ = writeln!(
            out,
            "{}{}",
            if r.target.is_empty() {
                "layers".to_string()
            } else {
                r.target.clone()
            },
            if r.tier.is_empty() {
                String::new()
            } else {
                format!(" (tier {})", r.tier)
            }
        );
    }
    let head: Vec<String> = header.iter().map(|s| s.to_string()).collect();
    out.push_str(&line(&head));
    out.push('\n');
    let n = cells.len();
    for (i, row) in cells.iter().enumerate() {
        if i == n - 1 {
            let total_width: usize = widths.iter().take(7).sum::<usize>() + 2 * 6;
            out.push_str(&"-".repeat(total_width));
            out.push('\n');
        }
        out.push_str(&line(row));
        out.push('\n');
    }
    render_base(r.base.as_ref(), &mut out);
    render_unmatched(&r.unmatched, &r.tier, &mut out);
    out
}

/// Where the base layer count comes from, after the table.
fn render_base(base: Option<&BaseCount>, out: &mut String) {
    if let Some(b) = base {
        let _ = writeln!(
            out,
            "base image: {} layer{}, {}",
            b.layers,
            if b.layers == 1 { "" } else { "s" },
            b.describe()
        );
    }
}

/// The tier patterns that matched nothing, after the table.
fn render_unmatched(unmatched: &[UnmatchedPattern], tier: &str, out: &mut String) {
    if unmatched.is_empty() {
        return;
    }
    let tier = if tier.is_empty() { "the tier" } else { tier };
    let _ = writeln!(
        out,
        "\nPatterns of {tier} that match nothing in this binary (unmatched = \"warn\"):"
    );
    for u in unmatched {
        let _ = writeln!(out, "  {:?} (group {:?})", u.pattern, u.group);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_long_package_lists() {
        let pk: Vec<String> = (0..30).map(|i| format!("package{i:02}")).collect();
        let c = packages_cell(&pk);
        assert!(c.starts_with("package00, package01"));
        assert!(c.ends_with("more"), "{c}");
        assert!(c.len() < PACKAGES_WIDTH + 20);
        assert_eq!(packages_cell(&[]), "-");
    }

    #[test]
    fn short_digests() {
        assert_eq!(short_digest("sha256:0123456789abcdef"), "0123456789ab");
        assert_eq!(short_digest(""), "-");
    }
}
