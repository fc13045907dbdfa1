//! Input formats of the plan commands: `PLAN.json` (written by the Starlark rules) and the
//! simple package list accepted by `autogroup` (descriptors are read by
//! [`crate::descriptor::Descriptor::read`]). All formats are documented in `docs/tool.md`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{read_text, Error, Result};

/// Default of [`Thresholds::warn_layers`].
pub(super) const DEFAULT_WARN_LAYERS: u64 = 100;
/// Default of [`Thresholds::max_layers`]: Docker's layer store refuses to register a layer
/// whose parent chain is already 125 deep (moby `layer/layer_store.go`, `maxLayerDepth`),
/// so an image of more than 125 layers does not load (docs/design.md, "Layer limit").
pub(super) const DEFAULT_MAX_LAYERS: u64 = 125;
/// Default of [`Thresholds::max_squashed_bytes`]: 512 MiB.
pub(super) const DEFAULT_MAX_SQUASHED_BYTES: u64 = 512 * 1024 * 1024;
/// Default of [`Thresholds::max_package_bytes`]: 256 MiB.
pub(super) const DEFAULT_MAX_PACKAGE_BYTES: u64 = 256 * 1024 * 1024;

/// Normalises a distribution name as PEP 503 does: lower case, runs of `-`, `_`, `.` become `-`.
pub(crate) fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if c == '-' || c == '_' || c == '.' {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// The tier a plan was made with.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default)]
pub(super) struct Tier {
    /// The tier's target name (`name` attribute of `layer_tier`), used in snippets.
    pub name: String,
    /// The tier's label, used in messages.
    pub label: String,
}

/// Thresholds of a tier. Byte thresholds count uncompressed tar bytes; `0` disables a check.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default)]
pub(super) struct Thresholds {
    /// Warn when the image has more layers than this (base layers included).
    pub warn_layers: u64,
    /// Fail when the image has more layers than this (base layers included).
    pub max_layers: u64,
    /// Warn when the squashed layer of ungrouped pip packages is larger than this.
    pub max_squashed_bytes: u64,
    /// Warn when one pip package is larger than this and shares its layer with others.
    pub max_package_bytes: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            warn_layers: DEFAULT_WARN_LAYERS,
            max_layers: DEFAULT_MAX_LAYERS,
            max_squashed_bytes: DEFAULT_MAX_SQUASHED_BYTES,
            max_package_bytes: DEFAULT_MAX_PACKAGE_BYTES,
        }
    }
}

/// What a layer holds.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub(super) enum LayerKind {
    /// The interpreter (`interpreter_group`).
    Interpreter,
    /// One tier group of pip packages.
    PipGroup,
    /// The squashed layer of pip packages no group matched.
    PipSquashed,
    /// One of the layers a tier's `budget` spreads the ungrouped pip packages over
    /// (`pyimage autolayer`); its packages come from its descriptor.
    PipAuto,
    /// One tier group of first-party targets.
    FirstParty,
    /// The default layer: launcher, runfiles, `_repo_mapping`.
    App,
}

impl LayerKind {
    /// The name used in JSON and reports.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            LayerKind::Interpreter => "interpreter",
            LayerKind::PipGroup => "pip_group",
            LayerKind::PipSquashed => "pip_squashed",
            LayerKind::PipAuto => "pip_auto",
            LayerKind::FirstParty => "first_party",
            LayerKind::App => "app",
        }
    }
}

impl fmt::Display for LayerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which descriptor belongs to a planned layer: an index into the `DESCRIPTOR...`
/// arguments or a path equal to one of them.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(untagged)]
pub(super) enum DescriptorRef {
    /// 0-based index into the descriptor arguments.
    Index(usize),
    /// Path as given on the command line.
    Path(String),
}

/// One planned layer, in image order.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub(super) struct PlannedLayer {
    /// Group name (tier group, interpreter group, or a fixed name such as `pip` or `app`).
    #[serde(default)]
    pub group: String,
    /// What the layer holds.
    pub kind: LayerKind,
    /// The layer's descriptor; when absent, layer `i` uses descriptor argument `i`.
    #[serde(default)]
    pub descriptor: Option<DescriptorRef>,
    /// pip distributions (or first-party labels) in the layer.
    #[serde(default)]
    pub packages: Vec<String>,
}

/// An ordered list of tier groups: `{"name": ["pattern", ...], ...}` in JSON (object key
/// order is kept) or `[["name", ["pattern", ...]], ...]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(super) struct Groups(pub Vec<(String, Vec<String>)>);

impl<'de> Deserialize<'de> for Groups {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct GroupsVisitor;
        impl<'de> Visitor<'de> for GroupsVisitor {
            type Value = Groups;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of group name -> list of patterns, or a list of [name, patterns] pairs")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Groups, A::Error> {
                let mut out: Vec<(String, Vec<String>)> = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Vec<String>>()? {
                    if out.iter().any(|(n, _)| *n == k) {
                        return Err(de::Error::custom(format!("group {k:?} appears twice")));
                    }
                    out.push((k, v));
                }
                Ok(Groups(out))
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Groups, A::Error> {
                let mut out: Vec<(String, Vec<String>)> = Vec::new();
                while let Some((k, v)) = seq.next_element::<(String, Vec<String>)>()? {
                    if out.iter().any(|(n, _)| *n == k) {
                        return Err(de::Error::custom(format!("group {k:?} appears twice")));
                    }
                    out.push((k, v));
                }
                Ok(Groups(out))
            }
        }
        deserializer.deserialize_any(GroupsVisitor)
    }
}

/// Largest base-image layer count accepted (plan `base_layers`, `--base-layers`): far above
/// any real image, and small enough that adding our layers cannot wrap.
pub(crate) const MAX_BASE_LAYERS: u64 = u32::MAX as u64;

/// `PLAN.json`: what the rules planned for one `py_image_layer` target.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default)]
pub(super) struct Plan {
    /// Format version, currently 1.
    pub schema: u32,
    /// The `py_image_layer` target (for messages).
    pub target: String,
    /// The tier.
    pub tier: Tier,
    /// Thresholds (defaults apply to missing fields).
    pub thresholds: Thresholds,
    /// Layers of the base image below ours (overridden by `--base-layers`).
    pub base_layers: u64,
    /// The tier's `groups` attribute in order (used to print snippets); derived from
    /// `layers` when absent.
    pub groups: Option<Groups>,
    /// Our layers in image order.
    pub layers: Vec<PlannedLayer>,
    /// pip dependency graph: package -> packages it requires (names are PEP 503-normalised on read).
    pub deps: BTreeMap<String, Vec<String>>,
    /// Optional sizes of pip packages in uncompressed bytes, used when no descriptor names them.
    pub package_bytes: BTreeMap<String, u64>,
    /// Tier patterns that matched no pip package of this binary (written by the rules when
    /// the tier says `unmatched = "warn"`); each becomes a warning.
    pub unmatched: Vec<UnmatchedPattern>,
}

/// A tier pattern that matched nothing.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default)]
pub(crate) struct UnmatchedPattern {
    /// The group it belongs to.
    pub group: String,
    /// The pattern.
    pub pattern: String,
}

impl Plan {
    /// Parses a plan from JSON text; `path` is used in messages only.
    pub(super) fn parse(text: &str, path: &Path) -> Result<Self> {
        let mut plan: Plan = crate::descriptor::strict_json(text, path, "layer plan")?;
        plan.normalize();
        plan.check(path)?;
        Ok(plan)
    }

    /// Reads a plan file.
    pub(super) fn load(path: &Path) -> Result<Self> {
        Self::parse(&read_text(path)?, path)
    }

    fn normalize(&mut self) {
        let deps = std::mem::take(&mut self.deps);
        for (k, v) in deps {
            let entry = self.deps.entry(normalize_name(&k)).or_default();
            entry.extend(v.iter().map(|d| normalize_name(d)));
            entry.sort();
            entry.dedup();
        }
        let sizes = std::mem::take(&mut self.package_bytes);
        for (k, v) in sizes {
            self.package_bytes.insert(normalize_name(&k), v);
        }
        for layer in &mut self.layers {
            if matches!(
                layer.kind,
                LayerKind::PipGroup | LayerKind::PipSquashed | LayerKind::PipAuto
            ) {
                for p in &mut layer.packages {
                    *p = normalize_name(p);
                }
            }
        }
    }

    fn check(&self, path: &Path) -> Result<()> {
        let invalid = |message: String| Error::Plan {
            path: path.to_owned(),
            message,
        };
        if self.schema > 1 {
            return Err(invalid(format!(
                "plan schema {} is newer than this tool understands (1); update pyimage",
                self.schema
            )));
        }
        let max = crate::descriptor::MAX_JSON_NUMBER;
        if self.base_layers > MAX_BASE_LAYERS {
            return Err(invalid(format!(
                "base_layers {} is out of range (valid: 0..={MAX_BASE_LAYERS})",
                self.base_layers
            )));
        }
        if let Some((name, v)) = self.package_bytes.iter().find(|(_, v)| **v > max) {
            return Err(invalid(format!(
                "package_bytes of {name}: {v} is out of range (valid: 0..={max})"
            )));
        }
        let t = &self.thresholds;
        if t.max_layers == 0 {
            return Err(invalid("thresholds.max_layers must be at least 1".into()));
        }
        if t.warn_layers > t.max_layers {
            return Err(invalid(format!(
                "thresholds.warn_layers ({}) is larger than thresholds.max_layers ({}); lower warn_layers",
                t.warn_layers, t.max_layers
            )));
        }
        let squashed = self
            .layers
            .iter()
            .filter(|l| l.kind == LayerKind::PipSquashed)
            .count();
        if squashed > 1 {
            return Err(invalid(format!(
                "{squashed} layers of kind pip_squashed; a plan has at most one"
            )));
        }
        Ok(())
    }

    /// The tier groups to start snippets from: `groups` if the plan has it, else the
    /// pip and first-party groups of `layers` with their packages as patterns.
    pub(super) fn tier_groups(&self) -> Groups {
        if let Some(g) = &self.groups {
            return g.clone();
        }
        Groups(
            self.layers
                .iter()
                .filter(|l| matches!(l.kind, LayerKind::PipGroup | LayerKind::FirstParty))
                .map(|l| (l.group.clone(), l.packages.clone()))
                .collect(),
        )
    }
}

/// The simple input of `autogroup --packages`: `{"packages": [{"name", "bytes", "deps"}]}`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub(super) struct PackageList {
    /// The packages.
    pub packages: Vec<PackageInfo>,
}

/// One package of a [`PackageList`].
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub(super) struct PackageInfo {
    /// Distribution name (normalised on read).
    pub name: String,
    /// Uncompressed bytes.
    #[serde(default)]
    pub bytes: u64,
    /// Packages it requires.
    #[serde(default)]
    pub deps: Vec<String>,
}

impl PackageList {
    /// Reads a package list file.
    pub(super) fn load(path: &Path) -> Result<Self> {
        let text = read_text(path)?;
        let mut list: PackageList = serde_json::from_str(&text).map_err(|cause| Error::Json {
            path: path.to_owned(),
            cause,
        })?;
        for p in &mut list.packages {
            p.name = normalize_name(&p.name);
            for d in &mut p.deps {
                *d = normalize_name(d);
            }
        }
        Ok(list)
    }
}

/// The plan loader as a fuzz target: parses `text` (a plan file's content), whatever it is.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn fuzz_plan(text: &str) {
    let _ = Plan::parse(text, Path::new("fuzz.json"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503() {
        assert_eq!(normalize_name("Charset_Normalizer"), "charset-normalizer");
        assert_eq!(normalize_name("zope.interface"), "zope-interface");
        assert_eq!(normalize_name("a--_b"), "a-b");
        assert_eq!(normalize_name("numpy"), "numpy");
    }

    #[test]
    fn groups_keep_object_order() {
        let p = Plan::parse(
            r#"{"groups": {"z": ["zz"], "a": ["aa", "ab"]}}"#,
            Path::new("p.json"),
        )
        .unwrap();
        let g = p.groups.unwrap();
        assert_eq!(g.0[0].0, "z");
        assert_eq!(g.0[1].0, "a");
        let p = Plan::parse(
            r#"{"groups": [["z", ["zz"]], ["a", []]]}"#,
            Path::new("p.json"),
        )
        .unwrap();
        assert_eq!(p.groups.unwrap().0[1].0, "a");
    }

    #[test]
    fn defaults_and_checks() {
        let p = Plan::parse("{}", Path::new("p.json")).unwrap();
        assert_eq!(p.thresholds, Thresholds::default());
        let e = Plan::parse(
            r#"{"thresholds": {"warn_layers": 200}}"#,
            Path::new("p.json"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("warn_layers (200)"), "{e}");
        let e = Plan::parse(r#"{"groups": {"a": [], "a": []}}"#, Path::new("p.json")).unwrap_err();
        assert!(e.to_string().contains("appears twice"), "{e}");
    }

    #[test]
    fn descriptor_refs() {
        let p = Plan::parse(
            r#"{"layers": [{"kind": "app", "descriptor": 3}, {"kind": "pip_group", "group": "g", "descriptor": "x/y.json", "packages": ["Foo_Bar"]}], "deps": {"Foo_Bar": ["Baz"]}}"#,
            Path::new("p.json"),
        )
        .unwrap();
        assert_eq!(p.layers[0].descriptor, Some(DescriptorRef::Index(3)));
        assert_eq!(
            p.layers[1].descriptor,
            Some(DescriptorRef::Path("x/y.json".into()))
        );
        assert_eq!(p.layers[1].packages, vec!["foo-bar"]);
        assert_eq!(p.deps["foo-bar"], vec!["baz"]);
    }

    fn fuzz_cases() -> u32 {
        std::env::var("PYIMAGE_FUZZ_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(256)
    }

    const SEED_PLAN: &str = r#"{"schema": 1, "target": "//app:img", "tier": {"name": "t"},
        "thresholds": {"warn_layers": 10, "max_layers": 20}, "base_layers": 3,
        "groups": {"a": ["numpy"]}, "deps": {"numpy": ["x"]}, "package_bytes": {"x": 5},
        "layers": [{"group": "a", "kind": "pip_group", "packages": ["numpy"], "descriptor": 0}],
        "unmatched": [{"group": "a", "pattern": "z*"}]}"#;

    const SEED_DESCRIPTOR: &str = r#"{"schema": 1, "media_type": "m", "compression": "gzip",
        "digest": "sha256:0", "size": 10, "diff_id": "sha256:1", "eoa_offset": 5,
        "entries": 1, "files": 1, "uncompressed_size": 1536, "skipped": 0,
        "packages": [{"name": "a", "version": "1", "files": 1, "bytes": 3}]}"#;

    /// Replaces byte ranges of `seed` (kept UTF-8) by fuzz text.
    fn mutate(seed: &str, edits: &[(usize, usize, String)]) -> String {
        let mut t = seed.to_string();
        for (at, len, with) in edits {
            let mut a = at % (t.len() + 1);
            while !t.is_char_boundary(a) {
                a -= 1;
            }
            let mut b = (a + len).min(t.len());
            while !t.is_char_boundary(b) {
                b -= 1;
            }
            t.replace_range(a..b, with);
        }
        t
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(fuzz_cases()))]

        #[test]
        fn plan_and_descriptor_loaders_never_panic(
            edits in proptest::collection::vec((0usize..800, 0usize..8, "[\\[\\]{}\",:0-9a-z -]{0,6}|18446744073709551615|-1|1e400"), 0..6),
            which in proptest::prelude::any::<bool>(),
        ) {
            let path = Path::new("fuzz.json");
            if which {
                let _ = Plan::parse(&mutate(SEED_PLAN, &edits), path);
            } else {
                let text = mutate(SEED_DESCRIPTOR, &edits);
                if let Ok(d) = crate::descriptor::strict_json::<crate::descriptor::Descriptor>(&text, path, "descriptor") {
                    let _ = d.to_json();
                }
            }
        }
    }
}
