//! CLI tests of `validate --base` and `report --base`: the base image's layers counted
//! from an OCI layout, an OCI archive or a `docker save` tarball built here.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{json, Value};
use sha2::Digest as _;

fn pyimage() -> Command {
    Command::cargo_bin("pyimage").unwrap()
}

/// Exit code, stdout, stderr.
fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn digest(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(data)))
}

/// Writes `data` as a blob of the layout at `dir`; its digest.
fn blob(dir: &Path, data: &[u8]) -> String {
    let d = digest(data);
    let p = dir.join("blobs/sha256");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(p.join(d.trim_start_matches("sha256:")), data).unwrap();
    d
}

/// An image manifest of `layers` layers for linux/`arch` in the layout at `dir`.
fn image(dir: &Path, layers: usize, arch: &str) -> String {
    let config = blob(
        dir,
        json!({"os": "linux", "architecture": arch})
            .to_string()
            .as_bytes(),
    );
    let layers: Vec<Value> = (0..layers)
        .map(|i| {
            let data = format!("layer {i} of {arch}");
            json!({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": blob(dir, data.as_bytes()), "size": data.len()})
        })
        .collect();
    let manifest = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 1},
        "layers": layers});
    blob(dir, manifest.to_string().as_bytes())
}

/// An OCI layout at `dir` whose index.json names one image per (arch, layers); with more
/// than one, each descriptor carries its platform.
fn layout(dir: &Path, images: &[(&str, usize)]) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let manifests: Vec<Value> = images
        .iter()
        .map(|(arch, n)| {
            let mut d = json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": image(dir, *n, arch), "size": 1});
            if images.len() > 1 {
                d["platform"] = json!({"os": "linux", "architecture": arch});
            }
            d
        })
        .collect();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    std::fs::write(
        dir.join("index.json"),
        json!({"schemaVersion": 2, "manifests": manifests}).to_string(),
    )
    .unwrap();
    dir.to_path_buf()
}

/// A `docker save` tarball of one amd64 image with `layers` layers.
fn docker_save(path: &Path, layers: usize) -> PathBuf {
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, data).unwrap();
    };
    let config = br#"{"os":"linux","architecture":"amd64"}"#;
    let config_name = format!("{}.json", &digest(config)[7..]);
    add(&config_name, config);
    let names: Vec<String> = (0..layers).map(|i| format!("{i:064x}/layer.tar")).collect();
    for n in &names {
        add(n, &[0u8; 1024]);
    }
    let manifest = json!([{"Config": config_name, "RepoTags": ["base:30"], "Layers": names}]);
    add("manifest.json", manifest.to_string().as_bytes());
    std::fs::write(path, b.into_inner().unwrap()).unwrap();
    path.to_path_buf()
}

/// A plan of `own` one-package layers (warn above 5 layers, fail above 10) and their
/// descriptors, in `dir`.
fn plan(dir: &Path, own: usize) -> (PathBuf, Vec<PathBuf>) {
    let mut layers = Vec::new();
    let mut descriptors = Vec::new();
    for i in 0..own {
        let d = json!({"schema": 1, "media_type": "application/vnd.oci.image.layer.v1.tar+gzip",
            "compression": "gzip", "digest": digest(format!("blob{i}").as_bytes()), "size": 100,
            "diff_id": digest(format!("tar{i}").as_bytes()), "eoa_offset": 90, "entries": 2,
            "files": 1, "uncompressed_size": 2048,
            "packages": [{"name": format!("pkg{i}"), "version": "1.0", "files": 1, "bytes": 1000}]});
        let p = dir.join(format!("d{i}.json"));
        std::fs::write(&p, d.to_string()).unwrap();
        descriptors.push(p);
        layers.push(json!({"group": format!("g{i}"), "kind": "pip_group", "descriptor": i, "packages": [format!("pkg{i}")]}));
    }
    let groups: Vec<Value> = (0..own)
        .map(|i| json!([format!("g{i}"), [format!("pkg{i}")]]))
        .collect();
    let plan = json!({"schema": 1, "target": "//app:layers", "tier": {"name": "tier", "label": "//app:tier"},
        "thresholds": {"warn_layers": 5, "max_layers": 10}, "groups": groups, "layers": layers});
    let p = dir.join("plan.json");
    std::fs::write(&p, plan.to_string()).unwrap();
    (p, descriptors)
}

fn validate(plan: &Path, descriptors: &[PathBuf], flags: &[&str]) -> (i32, String) {
    let (code, _, stderr) = run(pyimage()
        .arg("validate")
        .arg("--plan")
        .arg(plan)
        .args(flags)
        .args(descriptors));
    (code, stderr)
}

#[test]
fn validate_counts_the_layers_of_an_oci_layout() {
    let t = tempfile::tempdir().unwrap();
    let (plan, descriptors) = plan(t.path(), 3);
    let small = layout(&t.path().join("small"), &[("amd64", 4)]);
    let (code, out) = validate(&plan, &descriptors, &["--base", small.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("7 layers (4 base + 3 own)"), "{out}");
    assert!(
        out.contains("The base image's 4 layers were counted in the OCI layout"),
        "{out}"
    );
    assert!(
        out.contains("(4 base from the oci-layout + 3 own;"),
        "{out}"
    );

    let deep = layout(&t.path().join("deep"), &[("amd64", 8)]);
    let (code, out) = validate(&plan, &descriptors, &["--base", deep.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("ERROR: //app:layers: 11 layers (8 base + 3 own) exceed max_layers = 10"),
        "{out}"
    );
    assert!(out.contains("Merge the "), "the fix: {out}");
    assert!(out.contains("layer_tier("), "the snippet: {out}");
}

#[test]
fn validate_counts_the_layers_of_a_docker_archive() {
    let t = tempfile::tempdir().unwrap();
    let (plan, descriptors) = plan(t.path(), 3);
    let tar = docker_save(&t.path().join("base.tar"), 8);
    let (code, out) = validate(&plan, &descriptors, &["--base", tar.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("were counted in the docker archive"), "{out}");
    assert!(out.contains("(linux/amd64)"), "{out}");
}

#[test]
fn report_says_where_the_base_count_comes_from() {
    let t = tempfile::tempdir().unwrap();
    let (plan, descriptors) = plan(t.path(), 2);
    let tar = docker_save(&t.path().join("base.tar"), 4);
    let (code, stdout, stderr) = run(pyimage()
        .args(["report", "--json", "--base"])
        .arg(&tar)
        .arg("--plan")
        .arg(&plan)
        .args(&descriptors));
    assert_eq!(code, 0, "{stderr}");
    let r: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(r["totals"]["base_layers"], 4);
    assert_eq!(r["base"]["source"], "docker-archive");
    assert_eq!(r["base"]["path"], tar.to_str().unwrap());
    assert_eq!(r["base"]["platform"], "linux/amd64");

    let (code, stdout, _) = run(pyimage()
        .args(["report", "--base-layers", "3", "--plan"])
        .arg(&plan)
        .args(&descriptors));
    assert_eq!(code, 0);
    assert!(
        stdout.contains("base image: 3 layers, given as --base-layers"),
        "{stdout}"
    );
}

#[test]
fn a_multi_platform_base_needs_the_platform() {
    let t = tempfile::tempdir().unwrap();
    let (plan, descriptors) = plan(t.path(), 1);
    let multi = layout(&t.path().join("multi"), &[("amd64", 2), ("arm64", 3)]);
    let base = multi.to_str().unwrap();
    let (code, out) = validate(&plan, &descriptors, &["--base", base]);
    assert_eq!(code, 1, "{out}");
    for want in [
        "base image ",
        "holds 2 images: linux/amd64",
        "linux/arm64",
        "--platform OS/ARCH",
    ] {
        assert!(out.contains(want), "{want:?} missing: {out}");
    }
    let (code, out) = validate(
        &plan,
        &descriptors,
        &["--base", base, "--platform", "linux/arm64"],
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("4 layers (3 base from the oci-layout + 1 own"),
        "{out}"
    );
}

#[test]
fn bad_base_arguments_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let (plan, descriptors) = plan(t.path(), 1);
    let missing = t.path().join("missing");
    let (code, out) = validate(&plan, &descriptors, &["--base", missing.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("base image {}: cannot read it", missing.display())),
        "{out}"
    );
    let (code, out) = validate(&plan, &descriptors, &["--base", t.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        out.contains("has neither index.json (OCI layout) nor manifest.json"),
        "{out}"
    );
    let (code, out) = validate(&plan, &descriptors, &["--base", "x", "--base-layers", "3"]);
    assert_eq!(code, 2, "clap refuses both: {out}");
    assert!(out.contains("--base-layers"), "{out}");
    let (code, out) = validate(&plan, &descriptors, &["--platform", "linux/amd64"]);
    assert_eq!(code, 2, "--platform needs --base: {out}");
    let l = layout(&t.path().join("l"), &[("amd64", 1)]);
    let (code, out) = validate(
        &plan,
        &descriptors,
        &["--base", l.to_str().unwrap(), "--platform", "linux"],
    );
    assert_eq!(code, 1);
    assert!(out.contains("expected OS/ARCH or OS/ARCH/VARIANT"), "{out}");
}

#[test]
fn autogroup_subtracts_the_base_image_from_the_default_budget() {
    let t = tempfile::tempdir().unwrap();
    let (plan, descriptors) = plan(t.path(), 3);
    let two = layout(&t.path().join("two"), &[("amd64", 2)]);
    let (code, stdout, stderr) = run(pyimage()
        .args(["autogroup", "--plan"])
        .arg(&plan)
        .arg("--base")
        .arg(&two)
        .args(&descriptors));
    assert_eq!(code, 0, "{stderr}");
    // warn_layers 5 - 2 base layers - 0 other layers
    assert!(stdout.contains("budget 3 layers"), "{stdout}");
    let five = layout(&t.path().join("five"), &[("amd64", 5)]);
    let (code, _, stderr) = run(pyimage()
        .args(["autogroup", "--plan"])
        .arg(&plan)
        .arg("--base")
        .arg(&five)
        .args(&descriptors));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("after 5 base and 0 other layers"),
        "{stderr}"
    );
}
