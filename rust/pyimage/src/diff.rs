//! `pyimage diff OLD NEW`: what changed between two builds' `report --json` outputs.
//!
//! Layers are matched by group name (the plan's group, or the descriptor file's name when
//! the report was made without a plan). A layer changed when its blob digest differs; the
//! bytes to push are the compressed sizes of NEW's blobs whose digest OLD does not have
//! (a registry already holds those). Packages are compared per layer by name, version and
//! content bytes from the descriptors' attribution. Reports carry file counts, not file
//! listings, so file-level changes appear as count and byte deltas only.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::descriptor::add_checked;
use crate::error::{read_text, Error, Result};
use crate::plan::report::{PackageRow, Report, Row};
use crate::plan::resolve::human_bytes;

/// Format version of the `--json` output.
const SCHEMA: u32 = 1;

/// How a layer of NEW relates to OLD.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum LayerStatus {
    /// Same digest.
    Unchanged,
    /// Same group, other digest.
    Changed,
    /// Group only in NEW.
    Added,
    /// Group only in OLD.
    Removed,
}

impl LayerStatus {
    /// The word used in the text form and in CSS classes of the HTML report.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            LayerStatus::Unchanged => "unchanged",
            LayerStatus::Changed => "changed",
            LayerStatus::Added => "added",
            LayerStatus::Removed => "removed",
        }
    }
}

/// A package whose version or content size differs between OLD and NEW.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct PackageChange {
    /// Normalised name.
    pub name: String,
    /// Version in OLD.
    pub old_version: String,
    /// Version in NEW.
    pub new_version: String,
    /// Content bytes in OLD.
    pub old_bytes: u64,
    /// Content bytes in NEW.
    pub new_bytes: u64,
}

/// One layer of the diff: NEW's layers in order, then OLD's removed layers.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct LayerDiff {
    /// Group name.
    pub group: String,
    /// Status.
    pub status: LayerStatus,
    /// Index in OLD, when the group is there.
    pub old_index: Option<usize>,
    /// Index in NEW, when the group is there.
    pub new_index: Option<usize>,
    /// Blob digest in OLD (`""` when absent).
    pub old_digest: String,
    /// Blob digest in NEW (`""` when absent).
    pub new_digest: String,
    /// Compressed bytes in OLD.
    pub old_compressed_bytes: u64,
    /// Compressed bytes in NEW.
    pub new_compressed_bytes: u64,
    /// Regular files in OLD.
    pub old_files: u64,
    /// Regular files in NEW.
    pub new_files: u64,
    /// Compressed bytes a push uploads for this layer (0 when the registry has the blob).
    pub push_bytes: u64,
    /// Packages only in NEW's layer.
    pub added_packages: Vec<String>,
    /// Packages only in OLD's layer.
    pub removed_packages: Vec<String>,
    /// Packages in both whose version or content bytes differ.
    pub changed_packages: Vec<PackageChange>,
}

/// The whole diff (the `--json` form).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct ImageDiff {
    /// Format version.
    pub schema: u32,
    /// Target of OLD's report.
    pub old_target: String,
    /// Target of NEW's report.
    pub new_target: String,
    /// Layers of NEW.
    pub layers_total: usize,
    /// Layers of NEW that are changed or added.
    pub layers_changed: usize,
    /// Layers of OLD whose group NEW no longer has.
    pub layers_removed: usize,
    /// Compressed bytes of NEW's blobs that OLD does not have.
    pub push_bytes: u64,
    /// One line: `1 of 6 layers changed, 15.5 KiB to push`.
    pub verdict: String,
    /// Per layer.
    pub layers: Vec<LayerDiff>,
}

impl ImageDiff {
    /// Status of NEW's layer `index`, for the HTML report.
    pub(crate) fn status_of_new(&self, index: usize) -> Option<&LayerDiff> {
        self.layers.iter().find(|l| l.new_index == Some(index))
    }
}

/// Reads a `report --json` file.
pub(crate) fn load_report(path: &Path) -> Result<Report> {
    let text = read_text(path)?;
    let report: Report = serde_json::from_str(&text).map_err(|cause| Error::Json {
        path: path.to_path_buf(),
        cause,
    })?;
    // the diff sums sizes over the report's layers and packages: they must add up
    let (mut compressed, mut uncompressed, mut packages) = (0u64, 0u64, 0u64);
    for row in &report.layers {
        let at =
            |field: &str, v: u64| format!("{}: layer {}: {field} {v}", path.display(), row.group);
        add_checked(&mut compressed, row.compressed_bytes, || {
            at("compressed_bytes", row.compressed_bytes)
        })?;
        add_checked(&mut uncompressed, row.uncompressed_bytes, || {
            at("uncompressed_bytes", row.uncompressed_bytes)
        })?;
        for p in &row.package_details {
            add_checked(&mut packages, p.bytes, || {
                at("package_details[].bytes", p.bytes)
            })?;
        }
    }
    Ok(report)
}

/// Name -> (version, bytes) of a layer's packages: the descriptor attribution when the
/// report has it, else the bare names of `packages`.
fn package_map(row: &Row) -> BTreeMap<String, (String, u64)> {
    if row.package_details.is_empty() {
        return row
            .packages
            .iter()
            .map(|p| (p.clone(), (String::new(), 0)))
            .collect();
    }
    row.package_details
        .iter()
        .map(
            |PackageRow {
                 name,
                 version,
                 bytes,
                 ..
             }| (name.clone(), (version.clone(), *bytes)),
        )
        .collect()
}

fn compare_packages(old: Option<&Row>, new: Option<&Row>, out: &mut LayerDiff) {
    let empty = BTreeMap::new();
    let o = old.map_or_else(|| empty.clone(), package_map);
    let n = new.map_or_else(|| empty.clone(), package_map);
    for (name, (version, bytes)) in &n {
        match o.get(name) {
            None => out.added_packages.push(name.clone()),
            Some((ov, ob)) if ov != version || ob != bytes => {
                out.changed_packages.push(PackageChange {
                    name: name.clone(),
                    old_version: ov.clone(),
                    new_version: version.clone(),
                    old_bytes: *ob,
                    new_bytes: *bytes,
                });
            }
            Some(_) => {}
        }
    }
    out.removed_packages = o.keys().filter(|k| !n.contains_key(*k)).cloned().collect();
}

fn layer_diff(old: Option<&Row>, new: Option<&Row>, old_blobs: &BTreeSet<&str>) -> LayerDiff {
    let status = match (old, new) {
        (Some(o), Some(n)) if o.digest == n.digest => LayerStatus::Unchanged,
        (Some(_), Some(_)) => LayerStatus::Changed,
        (None, _) => LayerStatus::Added,
        (Some(_), None) => LayerStatus::Removed,
    };
    let push_bytes = new
        .filter(|n| !old_blobs.contains(n.digest.as_str()))
        .map_or(0, |n| n.compressed_bytes);
    let mut d = LayerDiff {
        group: new.or(old).map(|r| r.group.clone()).unwrap_or_default(),
        status,
        old_index: old.map(|r| r.index),
        new_index: new.map(|r| r.index),
        old_digest: old.map(|r| r.digest.clone()).unwrap_or_default(),
        new_digest: new.map(|r| r.digest.clone()).unwrap_or_default(),
        old_compressed_bytes: old.map_or(0, |r| r.compressed_bytes),
        new_compressed_bytes: new.map_or(0, |r| r.compressed_bytes),
        old_files: old.map_or(0, |r| r.files),
        new_files: new.map_or(0, |r| r.files),
        push_bytes,
        added_packages: Vec::new(),
        removed_packages: Vec::new(),
        changed_packages: Vec::new(),
    };
    compare_packages(old, new, &mut d);
    d
}

/// Matching keys of a report's layers: the group and its occurrence among equal names
/// (groups are unique in a plan; descriptor file names without one need not be).
fn keys(r: &Report) -> Vec<(&str, usize)> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    r.layers
        .iter()
        .map(|l| {
            let n = seen.entry(l.group.as_str()).or_insert(0);
            *n += 1;
            (l.group.as_str(), *n - 1)
        })
        .collect()
}

/// Compares two reports.
pub(crate) fn diff_reports(old: &Report, new: &Report) -> ImageDiff {
    let old_keys = keys(old);
    let new_keys = keys(new);
    let old_by_key: BTreeMap<(&str, usize), &Row> =
        old_keys.iter().copied().zip(old.layers.iter()).collect();
    let new_set: BTreeSet<(&str, usize)> = new_keys.iter().copied().collect();
    let mut old_blobs: BTreeSet<&str> = old.layers.iter().map(|r| r.digest.as_str()).collect();
    old_blobs.remove("");
    let mut layers: Vec<LayerDiff> = Vec::new();
    let mut pushed: BTreeSet<&str> = BTreeSet::new();
    for (key, n) in new_keys.iter().zip(&new.layers) {
        let mut d = layer_diff(old_by_key.get(key).copied(), Some(n), &old_blobs);
        // Two layers with the same blob are uploaded once.
        if !pushed.insert(n.digest.as_str()) {
            d.push_bytes = 0;
        }
        layers.push(d);
    }
    for (key, o) in old_keys.iter().zip(&old.layers) {
        if !new_set.contains(key) {
            layers.push(layer_diff(Some(o), None, &old_blobs));
        }
    }
    let layers_changed = layers
        .iter()
        .filter(|l| matches!(l.status, LayerStatus::Changed | LayerStatus::Added))
        .count();
    let layers_removed = layers
        .iter()
        .filter(|l| l.status == LayerStatus::Removed)
        .count();
    // fits: `load_report` checked the new report's compressed total
    let push_bytes = layers.iter().map(|l| l.push_bytes).sum();
    let mut verdict = format!(
        "{layers_changed} of {} layers changed, {} to push",
        new.layers.len(),
        human_bytes(push_bytes)
    );
    if layers_removed > 0 {
        let _ = write!(
            verdict,
            ", {layers_removed} layer{} removed",
            if layers_removed == 1 { "" } else { "s" }
        );
    }
    ImageDiff {
        schema: SCHEMA,
        old_target: old.target.clone(),
        new_target: new.target.clone(),
        layers_total: new.layers.len(),
        layers_changed,
        layers_removed,
        push_bytes,
        verdict,
        layers,
    }
}

fn short(digest: &str) -> &str {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    if hex.is_empty() {
        "-"
    } else {
        &hex[..hex.len().min(12)]
    }
}

fn version_or_dash(v: &str) -> &str {
    if v.is_empty() {
        "?"
    } else {
        v
    }
}

/// The text form: the verdict, then one block per layer that is not unchanged.
pub(crate) fn render_text(d: &ImageDiff) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", d.verdict);
    if d.old_target != d.new_target {
        let _ = writeln!(
            out,
            "note: OLD is a report of {:?}, NEW of {:?}",
            d.old_target, d.new_target
        );
    }
    for l in d
        .layers
        .iter()
        .filter(|l| l.status != LayerStatus::Unchanged)
    {
        let _ = writeln!(
            out,
            "\n{} {:?}: {} -> {} ({} -> {} compressed, {} -> {} files), {} to push",
            l.status.as_str(),
            l.group,
            short(&l.old_digest),
            short(&l.new_digest),
            human_bytes(l.old_compressed_bytes),
            human_bytes(l.new_compressed_bytes),
            l.old_files,
            l.new_files,
            human_bytes(l.push_bytes),
        );
        for p in &l.added_packages {
            let _ = writeln!(out, "  + {p}");
        }
        for p in &l.removed_packages {
            let _ = writeln!(out, "  - {p}");
        }
        for c in &l.changed_packages {
            let _ = writeln!(
                out,
                "  ~ {} {} -> {} ({} -> {})",
                c.name,
                version_or_dash(&c.old_version),
                version_or_dash(&c.new_version),
                human_bytes(c.old_bytes),
                human_bytes(c.new_bytes),
            );
        }
    }
    out
}

/// What `pyimage diff` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct DiffRequest {
    /// The earlier build's `report --json`.
    pub old: std::path::PathBuf,
    /// The later build's `report --json`.
    pub new: std::path::PathBuf,
    /// Print JSON instead of text.
    pub json: bool,
    /// Write to this file instead of stdout.
    pub output: Option<std::path::PathBuf>,
}

/// Runs `pyimage diff`.
pub fn run_diff(args: &DiffRequest) -> Result<()> {
    let old = load_report(&args.old)?;
    let new = load_report(&args.new)?;
    let d = diff_reports(&old, &new);
    let text = if args.json {
        let mut s = serde_json::to_string_pretty(&d).expect("diff serialises");
        s.push('\n');
        s
    } else {
        render_text(&d)
    };
    crate::atomic::emit(args.output.as_deref(), &text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::report::Totals;

    fn row(index: usize, group: &str, digest: &str, packages: &[(&str, &str, u64)]) -> Row {
        Row {
            index,
            group: group.into(),
            kind: None,
            packages: packages.iter().map(|p| p.0.to_string()).collect(),
            files: packages.len() as u64,
            entries: 0,
            uncompressed_bytes: 3000,
            compressed_bytes: 1000 + index as u64,
            digest: format!("sha256:{digest}"),
            diff_id: String::new(),
            media_type: String::new(),
            package_details: packages
                .iter()
                .map(|(n, v, b)| PackageRow {
                    name: (*n).into(),
                    version: (*v).into(),
                    files: 1,
                    bytes: *b,
                })
                .collect(),
        }
    }

    fn report(layers: Vec<Row>) -> Report {
        Report {
            schema: 1,
            target: "//t".into(),
            tier: String::new(),
            totals: Totals {
                layers: layers.len(),
                base_layers: 0,
                files: 0,
                entries: 0,
                uncompressed_bytes: 0,
                compressed_bytes: 0,
            },
            layers,
            unmatched: Vec::new(),
            base: None,
        }
    }

    fn sample() -> Report {
        report(vec![
            row(0, "python", "aa", &[]),
            row(
                1,
                "web",
                "bb",
                &[("requests", "2.0", 10), ("idna", "3.0", 5)],
            ),
            row(2, "app", "cc", &[]),
        ])
    }

    #[test]
    fn identical_reports_change_nothing() {
        let d = diff_reports(&sample(), &sample());
        assert_eq!(d.layers_changed, 0);
        assert_eq!(d.push_bytes, 0);
        assert_eq!(d.verdict, "0 of 3 layers changed, 0 B to push");
        assert_eq!(render_text(&d), "0 of 3 layers changed, 0 B to push\n");
    }

    #[test]
    fn bump_add_remove_and_move() {
        let new = report(vec![
            row(0, "python", "aa", &[]),
            row(
                1,
                "web",
                "dd",
                &[("requests", "2.1", 12), ("certifi", "1", 3)],
            ),
            row(2, "extra", "ee", &[("idna", "3.0", 5)]),
            row(3, "app", "cc", &[]),
        ]);
        let d = diff_reports(&sample(), &new);
        assert_eq!(d.layers_changed, 2);
        assert_eq!(d.push_bytes, 1001 + 1002);
        let web = &d.layers[1];
        assert_eq!(web.status, LayerStatus::Changed);
        assert_eq!(web.added_packages, ["certifi"]);
        assert_eq!(web.removed_packages, ["idna"]);
        assert_eq!(web.changed_packages[0].new_version, "2.1");
        assert_eq!(d.layers[2].status, LayerStatus::Added);
        assert_eq!(d.layers[3].status, LayerStatus::Unchanged);
    }

    #[test]
    fn removed_layers_and_shared_blobs() {
        let new = report(vec![row(0, "python", "aa", &[]), row(1, "app2", "cc", &[])]);
        let d = diff_reports(&sample(), &new);
        // "app2" holds OLD's app blob: added by name, nothing to push.
        assert_eq!(d.push_bytes, 0);
        assert_eq!(d.layers_removed, 2);
        assert_eq!(
            d.verdict,
            "1 of 2 layers changed, 0 B to push, 2 layers removed"
        );
    }

    fn arb_report() -> impl proptest::strategy::Strategy<Value = Report> {
        use proptest::prelude::*;
        proptest::collection::vec(
            (
                0u8..6,
                "[a-f]{2}",
                proptest::collection::vec(("[a-c]", "[0-2]", 0u64..50), 0..4),
            ),
            0..8,
        )
        .prop_map(|layers| {
            report(
                layers
                    .iter()
                    .enumerate()
                    .map(|(i, (g, digest, pk))| {
                        let pk: Vec<(&str, &str, u64)> = pk
                            .iter()
                            .map(|(n, v, b)| (n.as_str(), v.as_str(), *b))
                            .collect();
                        row(i, &format!("g{g}"), digest, &pk)
                    })
                    .collect(),
            )
        })
    }

    proptest::proptest! {
        #[test]
        fn a_report_against_itself_changes_nothing(r in arb_report()) {
            let d = diff_reports(&r, &r);
            proptest::prop_assert_eq!(d.layers_changed, 0);
            proptest::prop_assert_eq!(d.layers_removed, 0);
            proptest::prop_assert_eq!(d.push_bytes, 0);
            for l in &d.layers {
                proptest::prop_assert!(l.added_packages.is_empty() && l.removed_packages.is_empty());
                proptest::prop_assert!(l.changed_packages.is_empty());
            }
        }

        #[test]
        fn push_bytes_never_exceed_the_new_image(a in arb_report(), b in arb_report()) {
            let d = diff_reports(&a, &b);
            let total: u64 = b.layers.iter().map(|l| l.compressed_bytes).sum();
            proptest::prop_assert!(d.push_bytes <= total);
            proptest::prop_assert!(d.layers_changed <= b.layers.len());
        }
    }
}
