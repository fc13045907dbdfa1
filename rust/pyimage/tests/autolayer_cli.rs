//! CLI tests of `pyimage autolayer`: every package in exactly one of K layers, the layers
//! are `merge`s of their members, a version bump changes one layer, and bad input is refused.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::*;

/// Writes the fragment of package `name` (version `version`, `size` filler bytes) with
/// `pyimage layer`; returns its `NAME=LAYER=DESCRIPTOR` input.
fn fragment(dir: &Path, name: &str, version: &str, size: usize, compression: &str) -> String {
    let module = name.replace('-', "_");
    let src = format!("src-{name}-{version}");
    write(
        &dir.join(format!("{src}/{module}/__init__.py")),
        "x".repeat(size).as_bytes(),
        0o644,
    );
    write(
        &dir.join(format!("{src}/{module}-{version}.dist-info/METADATA")),
        format!("Name: {name}\nVersion: {version}\n").as_bytes(),
        0o644,
    );
    let out = format!("{name}-{version}.{compression}.tar");
    ok(
        &[
            "layer",
            "--output",
            &out,
            "--descriptor",
            &format!("{out}.json"),
            "--tree",
            &format!("{src}=/app/.runfiles/pypi_{module}/site-packages"),
            "--compression",
            compression,
            "--package",
            &format!("{name}=={version}"),
        ],
        dir,
    );
    format!("{name}={out}={out}.json")
}

/// Runs autolayer over `inputs` into `k` layers named `<tag>-<i>.tar`; returns the
/// assignment JSON.
fn autolayer(dir: &Path, tag: &str, k: usize, inputs: &[String]) -> serde_json::Value {
    let outputs: Vec<String> = (1..=k)
        .map(|i| format!("{tag}-{i}.tar={tag}-{i}.json"))
        .collect();
    let mut args = vec!["autolayer", "--assignment"];
    let assignment = format!("{tag}.assignment.json");
    args.push(&assignment);
    for o in &outputs {
        args.extend(["--output", o.as_str()]);
    }
    args.extend(inputs.iter().map(String::as_str));
    ok(&args, dir);
    descriptor(&dir.join(&assignment))
}

/// Package name -> the layer (1-based) whose listing holds its files.
fn listed(dir: &Path, tag: &str, k: usize) -> BTreeMap<String, BTreeSet<usize>> {
    let mut out: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    for i in 1..=k {
        for line in ok(&["list", &format!("{tag}-{i}.tar")], dir).lines() {
            if let Some(rest) = line.split("/.runfiles/pypi_").nth(1) {
                let module = rest.split('/').next().unwrap();
                out.entry(module.replace('_', "-")).or_default().insert(i);
            }
        }
    }
    out
}

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("pkg-{i:03}")).collect()
}

#[test]
fn forty_packages_in_seven_layers_each_exactly_once() {
    let d = tmp();
    let p = d.path();
    let inputs: Vec<String> = names(40)
        .iter()
        .map(|n| fragment(p, n, "1.0", 100, "gzip"))
        .collect();
    let a = autolayer(p, "a", 7, &inputs);
    assert_eq!(a["mode"], "hashed");
    let layers = a["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 7);
    let seen = listed(p, "a", 7);
    assert_eq!(seen.len(), 40, "{seen:?}");
    for (i, layer) in layers.iter().enumerate() {
        assert_eq!(layer["name"], format!("auto-{}", i + 1));
        let desc = descriptor(&p.join(format!("a-{}.json", i + 1)));
        assert_eq!(layer["digest"], desc["digest"]);
        assert_eq!(
            desc["digest"],
            sha256_file(&p.join(format!("a-{}.tar", i + 1)))
        );
        for m in layer["packages"].as_array().unwrap() {
            let name = m["name"].as_str().unwrap();
            assert_eq!(seen[name], BTreeSet::from([i + 1]), "{name}");
            assert_eq!(m["version"], "1.0");
        }
    }
    // the command line's order does not matter
    let mut reversed = inputs.clone();
    reversed.reverse();
    let b = autolayer(p, "b", 7, &reversed);
    for i in 1..=7 {
        assert_eq!(
            sha256_file(&p.join(format!("a-{i}.tar"))),
            sha256_file(&p.join(format!("b-{i}.tar")))
        );
    }
    assert_eq!(a["layers"], b["layers"]);
}

#[test]
fn a_layer_is_the_merge_of_its_members() {
    let d = tmp();
    let p = d.path();
    for c in ["gzip", "zstd", "none"] {
        let inputs: Vec<String> = names(9)
            .iter()
            .map(|n| fragment(p, n, "1.0", 50, c))
            .collect();
        let tag = format!("m{c}");
        let a = autolayer(p, &tag, 2, &inputs);
        for (i, layer) in a["layers"].as_array().unwrap().iter().enumerate() {
            let members: Vec<String> = layer["packages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    let n = m["name"].as_str().unwrap();
                    format!("{n}-1.0.{c}.tar={n}-1.0.{c}.tar.json")
                })
                .collect();
            let mut args = vec![
                "merge",
                "--output",
                "x.tar",
                "--descriptor",
                "x.json",
                "--name",
            ];
            let name = format!("auto-{}", i + 1);
            args.push(&name);
            args.extend(members.iter().map(String::as_str));
            ok(&args, p);
            assert_eq!(
                sha256_file(&p.join("x.tar")),
                sha256_file(&p.join(format!("{tag}-{}.tar", i + 1))),
                "{c} layer {}",
                i + 1
            );
            assert_eq!(
                std::fs::read(p.join("x.json")).unwrap(),
                std::fs::read(p.join(format!("{tag}-{}.json", i + 1))).unwrap()
            );
        }
    }
}

#[test]
fn a_version_bump_changes_one_layer_and_adding_a_package_moves_no_other() {
    let d = tmp();
    let p = d.path();
    let all = names(30);
    let mut inputs: Vec<String> = all
        .iter()
        .map(|n| fragment(p, n, "1.0", 80, "gzip"))
        .collect();
    autolayer(p, "before", 6, &inputs);
    let digests = |tag: &str| -> Vec<String> {
        (1..=6)
            .map(|i| sha256_file(&p.join(format!("{tag}-{i}.tar"))))
            .collect()
    };
    let before = digests("before");
    // pkg-007 2.0: new version, more bytes
    inputs[7] = fragment(p, &all[7], "2.0", 5000, "gzip");
    let bumped = autolayer(p, "bumped", 6, &inputs);
    let after = digests("bumped");
    let changed: Vec<usize> = (0..6).filter(|&i| before[i] != after[i]).collect();
    assert_eq!(changed.len(), 1, "{before:?} vs {after:?}");
    let holder = &bumped["layers"][changed[0]]["packages"];
    assert!(
        holder
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == "pkg-007" && m["version"] == "2.0"),
        "{holder}"
    );
    // one package more: only the layer it joins changes
    inputs.push(fragment(p, "zz-new", "1.0", 10, "gzip"));
    autolayer(p, "added", 6, &inputs);
    let added = digests("added");
    assert_eq!((0..6).filter(|&i| after[i] != added[i]).count(), 1);
}

#[test]
fn packages_that_fit_get_a_layer_each() {
    let d = tmp();
    let p = d.path();
    let inputs: Vec<String> = ["c", "a", "b"]
        .iter()
        .map(|n| fragment(p, n, "1.0", 10, "gzip"))
        .collect();
    let a = autolayer(p, "own", 3, &inputs);
    assert_eq!(a["mode"], "own_layer");
    let seen = listed(p, "own", 3);
    assert_eq!(seen["a"], BTreeSet::from([1]));
    assert_eq!(seen["b"], BTreeSet::from([2]));
    assert_eq!(seen["c"], BTreeSet::from([3]));
    // a fourth layer than packages stays empty: the end-of-archive blocks alone
    let e = autolayer(p, "extra", 4, &inputs);
    assert_eq!(e["layers"][3]["packages"], serde_json::json!([]));
    let desc = descriptor(&p.join("extra-4.json"));
    assert_eq!(desc["entries"], 0);
    assert_eq!(desc["uncompressed_size"], 1024);
    assert_eq!(decompress(&p.join("extra-4.tar"), "gzip"), vec![0u8; 1024]);
    assert_eq!(desc["digest"], sha256_file(&p.join("extra-4.tar")));
}

#[test]
fn bad_input_is_refused_with_the_fix() {
    let d = tmp();
    let p = d.path();
    let g = fragment(p, "alpha", "1.0", 10, "gzip");
    let z = fragment(p, "beta", "1.0", 10, "zstd");
    let err = fails(
        &[
            "autolayer",
            "--assignment",
            "a.json",
            "--output",
            "o.tar=o.json",
            &g,
            &z,
        ],
        p,
    );
    assert!(
        err.contains("share one compression") && err.contains("beta"),
        "{err}"
    );
    let err = fails(
        &[
            "autolayer",
            "--assignment",
            "a.json",
            "--output",
            "o.tar=o.json",
            "alpha.tar",
        ],
        p,
    );
    assert!(
        err.contains("NAME=LAYER=DESCRIPTOR") || err.contains("expected A=B"),
        "{err}"
    );
    let err = fails(
        &[
            "autolayer",
            "--assignment",
            "o.json",
            "--output",
            "o.tar=o.json",
            &g,
        ],
        p,
    );
    assert!(err.contains("o.json"), "{err}");
    let nameless = g.replacen("alpha=", "__=", 1);
    let err = fails(
        &[
            "autolayer",
            "--assignment",
            "a.json",
            "--output",
            "o.tar=o.json",
            &nameless,
        ],
        p,
    );
    assert!(err.contains("empty distribution name"), "{err}");
}
