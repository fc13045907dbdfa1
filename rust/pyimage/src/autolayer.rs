//! `pyimage autolayer`: the pip packages no tier group names, spread over a fixed number of
//! layers (`layer_tier(budget = ...)`), each layer merged from the packages' fragments
//! without recompressing (as `merge`), plus an assignment JSON naming every layer's members.
//!
//! The assignment is a pure function of the set of distribution names and the layer count
//! K (sizes, versions and the dependency graph play no part, see `docs/design.md`):
//!
//! - **n ≤ K** (the packages fit): each package gets its own layer, in name order; layers
//!   past the n-th stay empty.
//! - **n > K**: rendezvous (highest-random-weight) hashing. Package `p` goes to the layer
//!   `i` with the largest weight `w(p, i)` = the first 8 bytes of SHA-256(`p` NUL `i`)
//!   (ties: the lower `i`). A package's layer therefore depends only on its name and K:
//!   a version bump changes its layer's bytes and no other layer; adding or removing a
//!   package changes only the layer it joins or leaves; changing K moves only the
//!   packages whose best layer appears or disappears.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::atomic::{check_distinct_outputs, write_file, AtomicFile};
use crate::compress::Compression;
use crate::descriptor::{sha256_string, Descriptor, SCHEMA};
use crate::error::{Error, IoContext, Result};
use crate::merge::{merge_layers, MergeOptions};
use crate::plan::model::normalize_name;
use crate::tarfmt::EOA_LEN;

/// One fragment of a package: the distribution's name, its layer and descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutolayerInput {
    /// Distribution name (PEP 503-normalised here).
    pub name: String,
    /// The fragment's layer blob.
    pub layer: PathBuf,
    /// Its descriptor.
    pub descriptor: PathBuf,
}

/// Everything `autolayer` needs.
#[derive(Debug, Clone)]
pub struct AutolayerOptions {
    /// `(layer, descriptor)` outputs, one per auto layer, in image order; their number is K.
    pub outputs: Vec<(PathBuf, PathBuf)>,
    /// The assignment JSON to write.
    pub assignment: PathBuf,
    /// Layer `i` (1-based) is named `<name_prefix><i>` in its descriptor and the assignment.
    pub name_prefix: String,
    /// The fragments of the packages to place.
    pub inputs: Vec<AutolayerInput>,
    /// Decompression workers of each merge (>= 1); never changes the bytes.
    pub threads: usize,
}

/// How the packages were placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Mode {
    /// Every package in its own layer (n ≤ K).
    OwnLayer,
    /// Rendezvous hashing over K layers (n > K).
    Hashed,
}

/// The weight of package `name` for layer `slot`: 8 bytes of SHA-256(name NUL slot).
fn weight(name: &str, slot: usize) -> u64 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([0u8]);
    h.update((slot as u64).to_le_bytes());
    let d = h.finalize();
    u64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
}

/// The layer of one package among `slots` (> 0) layers by rendezvous hashing.
pub(crate) fn hashed_slot(name: &str, slots: usize) -> usize {
    (0..slots)
        .max_by_key(|&i| (weight(name, i), std::cmp::Reverse(i)))
        .expect("at least one slot")
}

/// Places every name into one of `slots` (> 0) layers; see the module documentation.
pub(crate) fn assign(names: &BTreeSet<String>, slots: usize) -> (Mode, BTreeMap<String, usize>) {
    assert!(slots > 0, "autolayer needs at least one layer");
    if names.len() <= slots {
        let own = names.iter().enumerate().map(|(i, n)| (n.clone(), i));
        return (Mode::OwnLayer, own.collect());
    }
    let hashed = names.iter().map(|n| (n.clone(), hashed_slot(n, slots)));
    (Mode::Hashed, hashed.collect())
}

/// One package in the assignment JSON.
#[derive(Debug, Clone, Serialize)]
struct Member {
    name: String,
    version: String,
    /// Uncompressed tar bytes of its fragments.
    bytes: u64,
}

/// One auto layer in the assignment JSON.
#[derive(Debug, Clone, Serialize)]
struct AutoLayer {
    name: String,
    digest: String,
    /// Uncompressed tar bytes of the layer.
    bytes: u64,
    packages: Vec<Member>,
}

/// The assignment JSON (format in docs/tool.md).
#[derive(Debug, Clone, Serialize)]
struct Assignment {
    schema: u32,
    mode: Mode,
    layers: Vec<AutoLayer>,
}

fn check_options(opts: &AutolayerOptions) -> Result<()> {
    if opts.outputs.is_empty() {
        return Err(Error::Invalid(
            "autolayer needs at least one --output LAYER=DESCRIPTOR".into(),
        ));
    }
    if opts.inputs.is_empty() {
        return Err(Error::Invalid(
            "autolayer needs at least one NAME=LAYER=DESCRIPTOR input".into(),
        ));
    }
    if let Some(bad) = opts
        .inputs
        .iter()
        .find(|i| normalize_name(&i.name).is_empty())
    {
        return Err(Error::Invalid(format!(
            "autolayer: input {} has an empty distribution name; give NAME=LAYER=DESCRIPTOR",
            bad.layer.display()
        )));
    }
    let mut outs: Vec<(&str, &Path)> = vec![("--assignment", opts.assignment.as_path())];
    for (l, d) in &opts.outputs {
        outs.push(("--output", l.as_path()));
        outs.push(("--output", d.as_path()));
    }
    check_distinct_outputs(&outs)
}

/// Reads the inputs' descriptors; all must share one compression.
fn read_inputs(opts: &AutolayerOptions) -> Result<(Vec<Descriptor>, Compression)> {
    let descs = opts
        .inputs
        .iter()
        .map(|i| Descriptor::read(&i.descriptor))
        .collect::<Result<Vec<_>>>()?;
    let compression = descs[0].compression;
    if let Some(k) = descs.iter().position(|d| d.compression != compression) {
        return Err(Error::Invalid(format!(
            "autolayer: all inputs must share one compression: {} is {} but {} is {}; \
             build every ungrouped package with the `pip` layer's settings",
            opts.inputs[0].layer.display(),
            compression.name(),
            opts.inputs[k].layer.display(),
            descs[k].compression.name()
        )));
    }
    Ok((descs, compression))
}

/// Writes an empty layer (the end-of-archive blocks alone) and its descriptor.
fn write_empty_layer(
    layer: &Path,
    descriptor: &Path,
    name: &str,
    compression: Compression,
) -> Result<()> {
    let bytes = compression.eoa_bytes();
    let mut out = AtomicFile::create(layer)?;
    out.file().write_all(&bytes).at(layer)?;
    let desc = Descriptor {
        schema: SCHEMA,
        name: Some(name.to_string()),
        media_type: compression.media_type().into(),
        compression,
        digest: sha256_string(&Sha256::digest(&bytes).into()),
        size: bytes.len() as u64,
        diff_id: sha256_string(&Sha256::digest([0u8; EOA_LEN]).into()),
        eoa_offset: 0,
        entries: 0,
        files: 0,
        uncompressed_size: EOA_LEN as u64,
        skipped: 0,
        packages: Vec::new(),
    };
    desc.commit_with(descriptor, out)
}

/// Places the packages, writes the K layers and the assignment JSON.
pub fn write_auto_layers(opts: &AutolayerOptions) -> Result<()> {
    check_options(opts)?;
    let (descs, compression) = read_inputs(opts)?;
    let names: BTreeSet<String> = opts
        .inputs
        .iter()
        .map(|i| normalize_name(&i.name))
        .collect();
    let (mode, slots) = assign(&names, opts.outputs.len());
    // members of each layer: (name, layer path) order, so the bytes never depend on the
    // order of the command line
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); opts.outputs.len()];
    for (k, input) in opts.inputs.iter().enumerate() {
        members[slots[&normalize_name(&input.name)]].push(k);
    }
    let mut layers = Vec::with_capacity(opts.outputs.len());
    for (slot, ((layer, descriptor), mine)) in opts.outputs.iter().zip(&mut members).enumerate() {
        let name = format!("{}{}", opts.name_prefix, slot + 1);
        mine.sort_by(|&a, &b| {
            let key = |k: usize| (normalize_name(&opts.inputs[k].name), &opts.inputs[k].layer);
            key(a).cmp(&key(b))
        });
        mine.dedup_by(|a, b| opts.inputs[*a].layer == opts.inputs[*b].layer);
        if mine.is_empty() {
            write_empty_layer(layer, descriptor, &name, compression)?;
        } else {
            merge_layers(&MergeOptions {
                output: layer.clone(),
                descriptor: descriptor.clone(),
                name: Some(name.clone()),
                inputs: mine
                    .iter()
                    .map(|&k| {
                        (
                            opts.inputs[k].layer.clone(),
                            opts.inputs[k].descriptor.clone(),
                        )
                    })
                    .collect(),
                threads: opts.threads,
            })?;
        }
        let written = Descriptor::read(descriptor)?;
        layers.push(AutoLayer {
            name,
            digest: written.digest,
            bytes: written.uncompressed_size,
            packages: members_of(opts, &descs, mine),
        });
    }
    let doc = Assignment {
        schema: 1,
        mode,
        layers,
    };
    let mut text = serde_json::to_string_pretty(&doc).expect("assignment serialises");
    text.push('\n');
    write_file(&opts.assignment, text.as_bytes())
}

/// The packages of one layer: fragments of one distribution added up.
fn members_of(opts: &AutolayerOptions, descs: &[Descriptor], mine: &[usize]) -> Vec<Member> {
    let mut out: Vec<Member> = Vec::new();
    for &k in mine {
        let name = normalize_name(&opts.inputs[k].name);
        let d = &descs[k];
        let version = d
            .packages
            .first()
            .map(|p| p.version.clone())
            .unwrap_or_default();
        match out.last_mut() {
            Some(m) if m.name == name => m.bytes += d.uncompressed_size,
            _ => out.push(Member {
                name,
                version,
                bytes: d.uncompressed_size,
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn packages_that_fit_get_a_layer_each_in_name_order() {
        let (mode, a) = assign(&set(&["b", "a", "c"]), 3);
        assert_eq!(mode, Mode::OwnLayer);
        assert_eq!((a["a"], a["b"], a["c"]), (0, 1, 2));
        let (_, a) = assign(&set(&["z"]), 4);
        assert_eq!(a["z"], 0);
    }

    #[test]
    fn more_packages_than_layers_are_hashed_by_name() {
        let names: BTreeSet<String> = (0..50).map(|i| format!("pkg-{i:02}")).collect();
        let (mode, a) = assign(&names, 7);
        assert_eq!(mode, Mode::Hashed);
        for (n, slot) in &a {
            assert_eq!(*slot, hashed_slot(n, 7));
            assert!(*slot < 7);
        }
        // pinned values: the function is part of the layers' bytes across releases
        assert_eq!(hashed_slot("numpy", 10), PINNED_NUMPY_10);
        assert_eq!(hashed_slot("requests", 40), PINNED_REQUESTS_40);
    }

    const PINNED_NUMPY_10: usize = 2;
    const PINNED_REQUESTS_40: usize = 7;

    #[test]
    fn one_slot_takes_everything() {
        let (_, a) = assign(&set(&["a", "b", "c"]), 1);
        assert!(a.values().all(|&s| s == 0));
    }

    fn fuzz_cases() -> u32 {
        std::env::var("PYIMAGE_FUZZ_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(256)
    }

    /// A package set with sizes: `name -> bytes`.
    fn packages() -> impl Strategy<Value = BTreeMap<String, u64>> {
        prop::collection::btree_map("[a-z][a-z0-9-]{0,12}", 0u64..1 << 30, 1..60)
    }

    /// Layer contents as the image sees them: per slot, the (name, bytes) of its members.
    fn contents(pkgs: &BTreeMap<String, u64>, slots: usize) -> Vec<Vec<(String, u64)>> {
        let names: BTreeSet<String> = pkgs.keys().cloned().collect();
        let (_, a) = assign(&names, slots);
        let mut out = vec![Vec::new(); slots];
        for (n, b) in pkgs {
            out[a[n]].push((n.clone(), *b));
        }
        out
    }

    fn changed(a: &[Vec<(String, u64)>], b: &[Vec<(String, u64)>]) -> usize {
        a.iter().zip(b).filter(|(x, y)| x != y).count()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(fuzz_cases()))]

        #[test]
        fn a_version_bump_changes_at_most_one_layer(
            pkgs in packages(), pick in any::<prop::sample::Index>(), new_size in 0u64..1 << 30, slots in 1usize..40,
        ) {
            let slots = slots.min(pkgs.len());
            let name = pick.get(&pkgs.keys().cloned().collect::<Vec<_>>()).clone();
            let mut bumped = pkgs.clone();
            bumped.insert(name, new_size);
            prop_assert!(changed(&contents(&pkgs, slots), &contents(&bumped, slots)) <= 1);
        }

        #[test]
        fn adding_or_removing_a_package_moves_no_other_package(
            pkgs in packages(), extra in "[a-z][a-z0-9-]{0,12}", slots in 1usize..40,
        ) {
            // a fixed K with more packages than layers (K = min(available, n) stays the
            // available count)
            let slots = slots.min(pkgs.len().saturating_sub(1)).max(1);
            let before: BTreeSet<String> = pkgs.keys().cloned().collect();
            let mut after = before.clone();
            let added = after.insert(extra.clone());
            prop_assume!(added && before.len() > slots);
            let (_, a) = assign(&before, slots);
            let (_, b) = assign(&after, slots);
            for n in &before {
                prop_assert_eq!(a[n], b[n], "{} moved", n);
            }
            // removing it again restores the assignment
            let (_, c) = assign(&before, slots);
            prop_assert_eq!(a, c);
        }

        #[test]
        fn every_package_is_in_exactly_one_layer_and_input_order_does_not_matter(
            pkgs in packages(), slots in 1usize..40,
        ) {
            let names: Vec<String> = pkgs.keys().cloned().collect();
            let forward: BTreeSet<String> = names.iter().cloned().collect();
            let backward: BTreeSet<String> = names.iter().rev().cloned().collect();
            let (_, a) = assign(&forward, slots);
            prop_assert_eq!(a.len(), names.len());
            prop_assert!(a.values().all(|&s| s < slots));
            prop_assert_eq!(&a, &assign(&backward, slots).1);
        }

        #[test]
        fn growing_k_by_one_moves_only_packages_into_the_new_layer(
            pkgs in packages(), slots in 1usize..40,
        ) {
            let names: BTreeSet<String> = pkgs.keys().cloned().collect();
            prop_assume!(names.len() > 2);
            // more packages than layers before and after (hashing on both sides)
            let slots = slots.min(names.len() - 2);
            let (_, a) = assign(&names, slots);
            let (_, b) = assign(&names, slots + 1);
            for n in &names {
                prop_assert!(a[n] == b[n] || b[n] == slots, "{} moved from {} to {}", n, a[n], b[n]);
            }
        }
    }
}
