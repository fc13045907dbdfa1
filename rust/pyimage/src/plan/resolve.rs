//! Joins a plan's layers with their descriptors, and shared formatting helpers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::model::{normalize_name, DescriptorRef, LayerKind, Plan};
use crate::descriptor::{add_checked, check_descriptor_totals, Descriptor};
use crate::error::{Error, Result};

/// A descriptor argument with the path it was given as.
#[derive(Debug, Clone)]
pub(super) struct DescriptorArg {
    /// Path as given on the command line.
    pub path: PathBuf,
    /// Its contents.
    pub descriptor: Descriptor,
}

impl DescriptorArg {
    /// Reads all descriptor arguments, in order, checking that their sizes and counts add up
    /// without overflow.
    pub(super) fn load_all(paths: &[PathBuf]) -> Result<Vec<DescriptorArg>> {
        let all = paths
            .iter()
            .map(|p| {
                Ok(DescriptorArg {
                    path: p.clone(),
                    descriptor: Descriptor::read(p)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        check_descriptor_totals(all.iter().map(|d| (d.path.as_path(), &d.descriptor)))?;
        Ok(all)
    }
}

/// One layer of the image with everything known about it.
#[derive(Debug, Clone)]
pub(super) struct ResolvedLayer {
    /// 0-based position among our layers (base layers not counted).
    pub index: usize,
    /// Group name.
    pub group: String,
    /// Kind, when a plan says it.
    pub kind: Option<LayerKind>,
    /// Packages (normalised pip names, or first-party labels).
    pub packages: Vec<String>,
    /// The descriptor, when one belongs to the layer.
    pub descriptor: Option<DescriptorArg>,
}

impl ResolvedLayer {
    /// Uncompressed bytes: the descriptor's tar size, else the sum of known package sizes.
    pub(super) fn bytes(&self, sizes: &PackageSizes) -> u64 {
        match &self.descriptor {
            Some(d) => d.descriptor.uncompressed_size,
            None => self.packages.iter().map(|p| sizes.get(p)).sum(),
        }
    }
}

/// Uncompressed sizes of pip packages, from descriptors and the plan's `package_bytes`.
#[derive(Debug, Clone, Default)]
pub(super) struct PackageSizes(pub BTreeMap<String, u64>);

impl PackageSizes {
    /// Collects sizes: descriptor `packages[].bytes` win over the plan's `package_bytes`.
    pub(super) fn collect(plan: Option<&Plan>, descriptors: &[DescriptorArg]) -> Self {
        let mut map = BTreeMap::new();
        if let Some(plan) = plan {
            for (k, v) in &plan.package_bytes {
                map.insert(k.clone(), *v);
            }
        }
        for d in descriptors {
            for p in &d.descriptor.packages {
                map.insert(normalize_name(&p.name), p.bytes);
            }
        }
        PackageSizes(map)
    }

    /// Checks that every package size, and each layer's share of them, adds up without
    /// overflow, so sums over any packages or layers can be taken unchecked. `plan` names
    /// where the sizes come from.
    pub(super) fn check_totals(&self, layers: &[ResolvedLayer], plan: &Path) -> Result<()> {
        let source = || {
            format!(
                "{} (package_bytes) or the descriptors' packages",
                plan.display()
            )
        };
        let mut all = 0u64;
        for (name, v) in &self.0 {
            add_checked(&mut all, *v, || {
                format!("{}: package {name}: {v} bytes", source())
            })?;
        }
        let mut layer_total = 0u64;
        for l in layers {
            let mut one = 0u64;
            let bytes = match &l.descriptor {
                Some(d) => d.descriptor.uncompressed_size,
                None => {
                    for p in &l.packages {
                        add_checked(&mut one, self.get(p), || {
                            format!("{}: layer {}: package {p}", source(), l.group)
                        })?;
                    }
                    one
                }
            };
            add_checked(&mut layer_total, bytes, || {
                format!("{}: layer {} ({bytes} bytes)", source(), l.group)
            })?;
        }
        Ok(())
    }

    /// Size of a package, 0 when unknown.
    pub(super) fn get(&self, name: &str) -> u64 {
        self.0.get(name).copied().unwrap_or(0)
    }
}

fn default_group_name(arg: &DescriptorArg, index: usize) -> String {
    if let Some(n) = &arg.descriptor.name {
        if !n.is_empty() {
            return n.clone();
        }
    }
    let file = arg
        .path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = file
        .strip_suffix(".json")
        .unwrap_or(&file)
        .trim_end_matches(".descriptor");
    if stem.is_empty() {
        format!("layer{index}")
    } else {
        stem.to_string()
    }
}

/// Lines up the plan's layers with the descriptor arguments (see `docs/tool.md`).
/// Without a plan, every descriptor is one layer named after its `name` or file.
pub(super) fn resolve(
    plan: Option<&Plan>,
    plan_path: &Path,
    descriptors: &[DescriptorArg],
) -> Result<Vec<ResolvedLayer>> {
    let Some(plan) = plan.filter(|p| !p.layers.is_empty()) else {
        return Ok(descriptors
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let mut packages: Vec<String> = d
                    .descriptor
                    .packages
                    .iter()
                    .map(|p| normalize_name(&p.name))
                    .collect();
                packages.sort();
                packages.dedup();
                ResolvedLayer {
                    index: i,
                    group: default_group_name(d, i),
                    kind: None,
                    packages,
                    descriptor: Some(d.clone()),
                }
            })
            .collect());
    };
    let invalid = |message: String| Error::Plan {
        path: plan_path.to_owned(),
        message,
    };
    let positional = plan.layers.len() == descriptors.len();
    let mut used = vec![false; descriptors.len()];
    let mut out = Vec::with_capacity(plan.layers.len());
    for (i, layer) in plan.layers.iter().enumerate() {
        let idx = match &layer.descriptor {
            Some(DescriptorRef::Index(n)) => {
                if *n >= descriptors.len() {
                    return Err(invalid(format!(
                        "layers[{i}] (group {:?}) refers to descriptor {n}, but only {} descriptors were given",
                        layer.group,
                        descriptors.len()
                    )));
                }
                Some(*n)
            }
            Some(DescriptorRef::Path(p)) => {
                let want = Path::new(p);
                match descriptors.iter().position(|d| d.path == want) {
                    Some(n) => Some(n),
                    None => {
                        return Err(invalid(format!(
                            "layers[{i}] (group {:?}) refers to descriptor {p:?}, which is not among the DESCRIPTOR arguments",
                            layer.group
                        )))
                    }
                }
            }
            None if positional => Some(i),
            None if descriptors.is_empty() => None,
            None => {
                return Err(invalid(format!(
                    "layers[{i}] (group {:?}) has no \"descriptor\" and the plan has {} layers but {} descriptors were given; \
                     set \"descriptor\" to an index or path",
                    layer.group,
                    plan.layers.len(),
                    descriptors.len()
                )))
            }
        };
        if let Some(n) = idx {
            if used[n] {
                return Err(invalid(format!(
                    "descriptor {} is used by two layers (second: layers[{i}], group {:?})",
                    descriptors[n].path.display(),
                    layer.group
                )));
            }
            used[n] = true;
        }
        let descriptor = idx.map(|n| descriptors[n].clone());
        let mut packages = layer.packages.clone();
        if packages.is_empty() {
            if let Some(d) = &descriptor {
                packages = d
                    .descriptor
                    .packages
                    .iter()
                    .map(|p| normalize_name(&p.name))
                    .collect();
            }
        }
        packages.sort();
        packages.dedup();
        out.push(ResolvedLayer {
            index: i,
            group: layer.group.clone(),
            kind: Some(layer.kind),
            packages,
            descriptor,
        });
    }
    Ok(out)
}

/// Shows a Bazel label as users write it: `@@//pkg:t` (main repository, canonical form) and
/// `@//pkg:t` become `//pkg:t`; other labels are kept.
pub(super) fn display_label(label: &str) -> String {
    label
        .strip_prefix("@@//")
        .or_else(|| label.strip_prefix("@//"))
        .map_or_else(|| label.to_string(), |rest| format!("//{rest}"))
}

/// Formats a byte count with binary units and one decimal (`0 B`, `812 B`, `1.5 KiB`, `250.3 MiB`).
pub(crate) fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(display_label("@@//app:layers"), "//app:layers");
        assert_eq!(display_label("@//app:layers"), "//app:layers");
        assert_eq!(display_label("@@rules_x+//a:b"), "@@rules_x+//a:b");
        assert_eq!(display_label("//a:b"), "//a:b");
    }

    #[test]
    fn human() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(250 * 1024 * 1024), "250.0 MiB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }
}
