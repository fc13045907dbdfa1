//! CLI tests of `pyimage validate`, `report` and `autogroup` with golden outputs.
//!
//! Fixtures are generated into a temporary directory by the helpers below; expected outputs
//! live in `tests/plan_golden/`. Regenerate them with `UPDATE_GOLDEN=1 cargo test --test plan_cli`
//! and review the diff.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{json, Value};

const MIB: u64 = 1024 * 1024;

fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/plan_golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
    assert_eq!(
        expected, actual,
        "golden {name} differs (UPDATE_GOLDEN=1 regenerates)"
    );
}

fn pyimage() -> Command {
    Command::cargo_bin("pyimage").unwrap()
}

struct Fixture {
    dir: tempfile::TempDir,
    descriptors: Vec<PathBuf>,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
            descriptors: Vec::new(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Adds a descriptor for a layer holding `packages` (name, bytes, files).
    fn layer(&mut self, name: &str, packages: &[(&str, u64, u64)], extra_bytes: u64) -> usize {
        let bytes: u64 = packages.iter().map(|p| p.1).sum::<u64>() + extra_bytes;
        let files: u64 = packages.iter().map(|p| p.2).sum::<u64>() + u64::from(extra_bytes > 0);
        let seed = self.descriptors.len();
        let hex = |salt: &str| {
            use sha2::Digest as _;
            hex::encode(sha2::Sha256::digest(format!("{name}/{seed}/{salt}")))
        };
        let d = json!({
            "schema": 1,
            "media_type": "application/vnd.oci.image.layer.v1.tar+gzip",
            "compression": "gzip",
            "digest": format!("sha256:{}", hex("blob")),
            "size": bytes / 3 + 1024,
            "diff_id": format!("sha256:{}", hex("tar")),
            "eoa_offset": bytes / 3 + 1000,
            "entries": files + 3,
            "files": files,
            "uncompressed_size": bytes + 10240,
            "packages": packages.iter().map(|(n, b, f)| json!({"name": n, "version": "1.0", "files": f, "bytes": b})).collect::<Vec<_>>(),
        });
        let path = self.path(&format!("{name}.json"));
        std::fs::write(&path, serde_json::to_string_pretty(&d).unwrap()).unwrap();
        self.descriptors.push(path);
        self.descriptors.len() - 1
    }

    fn write(&self, name: &str, v: &Value) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
        p
    }
}

/// The smoke app: interpreter, one pip group, squashed rest, a first-party group, the app.
fn smoke() -> (Fixture, PathBuf) {
    let mut f = Fixture::new();
    let py = f.layer("python", &[], 40 * MIB);
    let web = f.layer(
        "web",
        &[
            ("requests", 400_000, 40),
            ("urllib3", 800_000, 60),
            ("idna", 300_000, 12),
            ("certifi", 200_000, 5),
            ("charset-normalizer", 500_000, 30),
        ],
        0,
    );
    let sq = f.layer(
        "squashed",
        &[("six", 40_000, 2), ("colorama", 60_000, 9)],
        0,
    );
    let libs = f.layer("mylibs", &[], 20_000);
    let app = f.layer("app", &[], 5_000);
    let plan = json!({
        "schema": 1,
        "target": "//app:layers",
        "tier": {"name": "default", "label": "//py:default_tier"},
        "base_layers": 1,
        "groups": {"web": ["requests", "urllib3", "idna", "certifi", "charset-normalizer"], "mylibs": ["//libs/..."]},
        "layers": [
            {"group": "python", "kind": "interpreter", "descriptor": py},
            {"group": "web", "kind": "pip_group", "descriptor": web, "packages": ["requests", "urllib3", "idna", "certifi", "charset_normalizer"]},
            {"group": "pip", "kind": "pip_squashed", "descriptor": sq, "packages": ["six", "colorama"]},
            {"group": "mylibs", "kind": "first_party", "descriptor": libs, "packages": ["//libs/a:a"]},
            {"group": "app", "kind": "app", "descriptor": app},
        ],
        "deps": {"requests": ["urllib3", "idna", "certifi", "charset-normalizer"]},
    });
    let p = f.write("plan.json", &plan);
    (f, p)
}

/// `n` tiny local packages, each in its own group (the e2e/limits case).
fn many_groups(n: usize) -> (Fixture, PathBuf) {
    let mut f = Fixture::new();
    let mut layers = Vec::new();
    let mut groups = serde_json::Map::new();
    for i in 0..n {
        let name = format!("pkg{i:03}");
        let bytes = 1000 + (i as u64 * 37) % 500;
        let idx = f.layer(&name, &[(&name, bytes, 2)], 0);
        layers.push(
            json!({"group": name, "kind": "pip_group", "descriptor": idx, "packages": [name]}),
        );
        groups.insert(name.clone(), json!([name]));
    }
    let app = f.layer("app", &[], 5_000);
    layers.push(json!({"group": "app", "kind": "app", "descriptor": app}));
    let plan = json!({
        "schema": 1,
        "target": "//limits:layers",
        "tier": {"name": "per_package", "label": "//limits:per_package"},
        "groups": groups,
        "layers": layers,
    });
    let p = f.write("plan.json", &plan);
    (f, p)
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn validate_ok_smoke() {
    let (f, plan) = smoke();
    let out = f.path("validate.txt");
    let (code, stdout, stderr) = run(pyimage()
        .arg("validate")
        .arg("--plan")
        .arg(&plan)
        .arg("--output")
        .arg(&out)
        .args(&f.descriptors));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "");
    golden("validate_ok.txt", &stderr);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), stderr);
    // --quiet: nothing on stderr when all is fine, the file still written.
    let (code, _, stderr) = run(pyimage()
        .arg("validate")
        .arg("--quiet")
        .arg("--plan")
        .arg(&plan)
        .args(&f.descriptors));
    assert_eq!((code, stderr.as_str()), (0, ""));
}

#[test]
fn validate_past_the_limit_fails_with_a_fix() {
    let (f, plan) = many_groups(130);
    let out = f.path("validate.txt");
    let (code, _, stderr) = run(pyimage()
        .arg("validate")
        .arg("--plan")
        .arg(&plan)
        .arg("--base-layers")
        .arg("2")
        .arg("--output")
        .arg(&out)
        .args(&f.descriptors));
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with(
            "ERROR: //limits:layers: 133 layers (2 base + 131 own) exceed max_layers = 125"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("layer_tier(\n    name = \"per_package\",\n    groups = {\n"));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        stderr,
        "--output holds the same text"
    );
    golden("validate_limit_error.txt", &stderr);

    let (code, _, stderr) = run(pyimage()
        .arg("validate")
        .arg("--plan")
        .arg(&plan)
        .arg("--base-layers=2")
        .arg("--limit-as-warning")
        .args(&f.descriptors));
    assert_eq!(code, 0);
    assert!(
        stderr.starts_with("WARNING: //limits:layers: 133 layers"),
        "{stderr}"
    );
    assert!(stderr.contains("(reported as a warning: --limit-as-warning)"));
    assert!(!stderr.contains("ERROR"));
}

#[test]
fn validate_near_the_limit_warns() {
    let (f, plan) = many_groups(103);
    let (code, _, stderr) = run(pyimage()
        .arg("validate")
        .arg("--plan")
        .arg(&plan)
        .args(&f.descriptors));
    assert_eq!(code, 0);
    golden("validate_near_limit.txt", &stderr);
    assert!(stderr.contains("Merge the 5 smallest pip groups into one group \"merged\""));
    assert!(stderr.contains("This brings the image to 100 layers"));
}

#[test]
fn validate_big_squashed_layer_and_big_package() {
    let mut f = Fixture::new();
    let web = f.layer(
        "web",
        &[
            ("requests", 400_000, 40),
            ("urllib3", 800_000, 60),
            ("nvidia-cublas", 300 * MIB, 30),
            ("nvidia-cudnn", 10 * MIB, 3),
        ],
        0,
    );
    let sq = f.layer(
        "squashed",
        &[
            ("numpy", 40 * MIB, 900),
            ("scipy", 110 * MIB, 1500),
            ("pandas", 60 * MIB, 1200),
            ("python-dateutil", MIB, 30),
            ("pytz", 3 * MIB, 600),
            ("six", 40_000, 2),
            ("colorama", 60_000, 9),
        ],
        0,
    );
    let app = f.layer("app", &[], 5_000);
    let plan = json!({
        "target": "//ml:layers",
        "tier": {"name": "ml", "label": "//tiers:ml"},
        "thresholds": {"max_squashed_bytes": 100 * MIB, "max_package_bytes": 256 * MIB},
        "groups": {"web": ["requests", "urllib3", "nvidia-*"]},
        "layers": [
            {"group": "web", "kind": "pip_group", "descriptor": web},
            {"group": "pip", "kind": "pip_squashed", "descriptor": sq},
            {"group": "app", "kind": "app", "descriptor": app},
        ],
        "deps": {
            "scipy": ["numpy"],
            "pandas": ["numpy", "python-dateutil", "pytz"],
            "python-dateutil": ["six"],
        },
    });
    let plan = f.write("plan.json", &plan);
    let (code, _, stderr) = run(pyimage()
        .arg("validate")
        .arg("--plan")
        .arg(&plan)
        .args(&f.descriptors));
    assert_eq!(code, 0, "{stderr}");
    golden("validate_thresholds.txt", &stderr);
    assert!(stderr.contains("\"scipy\": scipy (110.0 MiB)"));
    assert!(stderr.contains("pip package nvidia-cublas is 300.0 MiB"));
    // The glob that matched the big package is replaced by the other packages it matched.
    assert!(stderr.contains("\"web\": [\"requests\", \"urllib3\", \"nvidia-cudnn\"],"));
    assert!(stderr.contains("\"nvidia_cublas\": [\"nvidia-cublas\"],"));
}

#[test]
fn validate_output_is_deterministic() {
    let (f, plan) = many_groups(140);
    let a = run(pyimage()
        .arg("validate")
        .arg("--plan")
        .arg(&plan)
        .args(&f.descriptors));
    let b = run(pyimage()
        .arg("validate")
        .arg("--plan")
        .arg(&plan)
        .args(&f.descriptors));
    assert_eq!(a, b);
}

#[test]
fn validate_bad_inputs() {
    let (f, plan) = smoke();
    // Fewer descriptors than the plan references.
    let (code, _, stderr) = run(pyimage()
        .arg("validate")
        .arg("--plan")
        .arg(&plan)
        .args(&f.descriptors[..2]));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("refers to descriptor 2, but only 2 descriptors were given"),
        "{stderr}"
    );
    // Missing plan file.
    let (code, _, stderr) = run(pyimage()
        .arg("validate")
        .arg("--plan")
        .arg(f.path("nope.json")));
    assert_eq!(code, 1);
    assert!(stderr.contains("cannot read"), "{stderr}");
    assert_eq!(stderr.matches("No such file").count(), 1, "{stderr}");
    // Bad thresholds.
    let bad = f.write(
        "bad.json",
        &json!({"thresholds": {"warn_layers": 10, "max_layers": 5}}),
    );
    let (code, _, stderr) = run(pyimage().arg("validate").arg("--plan").arg(&bad));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("warn_layers (10) is larger than thresholds.max_layers (5)"),
        "{stderr}"
    );
    // Usage error: exit 2.
    let (code, _, _) = run(pyimage().arg("validate"));
    assert_eq!(code, 2);
}

#[test]
fn report_table_and_json() {
    let (f, plan) = smoke();
    let (code, stdout, stderr) = run(pyimage()
        .arg("report")
        .arg("--plan")
        .arg(&plan)
        .args(&f.descriptors));
    assert_eq!(code, 0, "{stderr}");
    golden("report.txt", &stdout);
    let (code, stdout, _) = run(pyimage()
        .arg("report")
        .arg("--json")
        .arg("--plan")
        .arg(&plan)
        .args(&f.descriptors));
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["layers"].as_array().unwrap().len(), 5);
    assert_eq!(v["layers"][1]["group"], "web");
    assert_eq!(v["layers"][1]["kind"], "pip_group");
    assert_eq!(v["totals"]["base_layers"], 1);
    golden("report.json", &stdout);
    // Without a plan: groups are named after the descriptor files.
    let (code, stdout, _) = run(pyimage().arg("report").args(&f.descriptors));
    assert_eq!(code, 0);
    assert!(
        stdout.lines().nth(2).unwrap().starts_with("1      web "),
        "{stdout}"
    );
}

fn package_list(f: &Fixture) -> PathBuf {
    f.write(
        "packages.json",
        &json!({"packages": [
            {"name": "scipy", "bytes": 110 * MIB, "deps": ["numpy"]},
            {"name": "pandas", "bytes": 60 * MIB, "deps": ["numpy", "python-dateutil", "pytz", "tzdata"]},
            {"name": "numpy", "bytes": 40 * MIB},
            {"name": "python_dateutil", "bytes": MIB, "deps": ["six"]},
            {"name": "pytz", "bytes": 3 * MIB},
            {"name": "tzdata", "bytes": 2 * MIB},
            {"name": "six", "bytes": 40_000},
            {"name": "fastapi", "bytes": 2 * MIB, "deps": ["pydantic", "starlette"]},
            {"name": "starlette", "bytes": MIB, "deps": ["anyio"]},
            {"name": "pydantic", "bytes": 2 * MIB, "deps": ["pydantic-core", "typing-extensions", "annotated-types"]},
            {"name": "pydantic-core", "bytes": 5 * MIB, "deps": ["typing-extensions"]},
            {"name": "typing-extensions", "bytes": 100_000},
            {"name": "annotated-types", "bytes": 50_000},
            {"name": "anyio", "bytes": 500_000, "deps": ["idna", "sniffio"]},
            {"name": "sniffio", "bytes": 20_000},
            {"name": "requests", "bytes": 400_000, "deps": ["urllib3", "idna", "certifi", "charset-normalizer"]},
            {"name": "urllib3", "bytes": 800_000},
            {"name": "idna", "bytes": 300_000},
            {"name": "certifi", "bytes": 200_000},
            {"name": "charset-normalizer", "bytes": 500_000},
            {"name": "sqlalchemy", "bytes": 15 * MIB, "deps": ["greenlet", "typing-extensions"]},
            {"name": "greenlet", "bytes": MIB},
        ]}),
    )
}

#[test]
fn autogroup_snippet_and_json() {
    let f = Fixture::new();
    let list = package_list(&f);
    for budget in [1, 4, 8, 30] {
        let (code, stdout, stderr) = run(pyimage()
            .arg("autogroup")
            .arg("--packages")
            .arg(&list)
            .arg("--budget")
            .arg(budget.to_string()));
        assert_eq!(code, 0, "{stderr}");
        golden(&format!("autogroup_budget{budget}.txt"), &stdout);
    }
    let (code, stdout, _) = run(pyimage()
        .arg("autogroup")
        .arg("--json")
        .arg("--packages")
        .arg(&list)
        .arg("--budget=8"));
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert!(v["layers"].as_u64().unwrap() <= 8);
    golden("autogroup_budget8.json", &stdout);
}

#[test]
fn autogroup_from_plan_keeps_first_party_groups() {
    let (f, plan) = smoke();
    let (code, stdout, stderr) = run(pyimage()
        .arg("autogroup")
        .arg("--plan")
        .arg(&plan)
        .arg("--budget=3")
        .args(&f.descriptors));
    assert_eq!(code, 0, "{stderr}");
    golden("autogroup_plan.txt", &stdout);
    assert!(stdout.contains("\"mylibs\": [\"//libs/...\"],"));
    // Default budget: warn_layers - base - non-pip layers = 100 - 1 - 3.
    let (code, stdout, _) = run(pyimage()
        .arg("autogroup")
        .arg("--plan")
        .arg(&plan)
        .args(&f.descriptors));
    assert_eq!(code, 0);
    assert!(stdout.contains("budget 96 layers"), "{stdout}");
}

#[test]
fn autogroup_is_deterministic_and_order_independent() {
    let f = Fixture::new();
    let list = package_list(&f);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&list).unwrap()).unwrap();
    let mut reversed = v.clone();
    reversed["packages"].as_array_mut().unwrap().reverse();
    let rev = f.write("reversed.json", &reversed);
    let a = run(pyimage()
        .arg("autogroup")
        .arg("--packages")
        .arg(&list)
        .arg("--budget=6"));
    let b = run(pyimage()
        .arg("autogroup")
        .arg("--packages")
        .arg(&rev)
        .arg("--budget=6"));
    assert_eq!(a.0, 0);
    assert_eq!(a, b);
}

#[test]
fn autogroup_usage_errors() {
    let f = Fixture::new();
    let list = package_list(&f);
    let (code, _, stderr) = run(pyimage().arg("autogroup").arg("--packages").arg(&list));
    assert_eq!(code, 1);
    assert!(stderr.contains("--budget N is required"), "{stderr}");
    let (code, _, _) = run(pyimage().arg("autogroup"));
    assert_eq!(code, 1);
    let (code, _, _) = run(pyimage()
        .arg("autogroup")
        .arg("--packages")
        .arg(&list)
        .arg("--budget=0"));
    assert_eq!(code, 1);
}

/// The smoke app with a tier of `unmatched = "warn"` whose patterns "reqests" and "torch"
/// match nothing.
fn smoke_unmatched() -> (Fixture, PathBuf) {
    let (f, plan) = smoke();
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    v["groups"] = json!([
        [
            "web",
            [
                "requests",
                "urllib3",
                "idna",
                "certifi",
                "charset-normalizer",
                "reqests"
            ]
        ],
        ["torch", ["torch"]],
        ["mylibs", ["//libs/..."]]
    ]);
    v["unmatched"] = json!([
        {"group": "web", "pattern": "reqests"},
        {"group": "torch", "pattern": "torch"}
    ]);
    let plan = f.write("plan_unmatched.json", &v);
    (f, plan)
}

#[test]
fn validate_unmatched_patterns_warn() {
    let (f, plan) = smoke_unmatched();
    let (code, _, stderr) = run(pyimage()
        .arg("validate")
        .arg("--plan")
        .arg(&plan)
        .args(&f.descriptors));
    assert_eq!(code, 0, "{stderr}");
    golden("validate_unmatched.txt", &stderr);
    assert!(stderr.contains("pattern \"reqests\" of group \"web\""));
    assert!(stderr.contains("remove the pattern and its now empty group"));
}

#[test]
fn validate_base_image_alone_over_the_limit() {
    let (f, plan) = smoke();
    let (code, _, stderr) = run(pyimage()
        .arg("validate")
        .arg("--plan")
        .arg(&plan)
        .arg("--base-layers=125")
        .args(&f.descriptors));
    assert_eq!(code, 1);
    golden("validate_base_too_deep.txt", &stderr);
    assert!(stderr.starts_with("ERROR: //app:layers: 130 layers (125 base + 5 own)"));
    assert!(stderr.contains("Remove 1 group(s); their targets join the app layer"));
}

#[test]
fn report_shows_unmatched_patterns() {
    let (f, plan) = smoke_unmatched();
    let (code, stdout, stderr) = run(pyimage()
        .arg("report")
        .arg("--plan")
        .arg(&plan)
        .args(&f.descriptors));
    assert_eq!(code, 0, "{stderr}");
    golden("report_unmatched.txt", &stdout);
    assert!(stdout.contains("\"reqests\" (group \"web\")"), "{stdout}");
    assert!(stdout.contains("\"torch\" (group \"torch\")"), "{stdout}");
    let (code, stdout, _) = run(pyimage()
        .arg("report")
        .arg("--json")
        .arg("--plan")
        .arg(&plan)
        .args(&f.descriptors));
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        v["unmatched"],
        json!([
            {"group": "web", "pattern": "reqests"},
            {"group": "torch", "pattern": "torch"}
        ])
    );
}

/// `report --json` of the fixture's current descriptors, written to `name`.
fn json_report(f: &Fixture, plan: &Path, name: &str) -> PathBuf {
    let out = f.path(name);
    let (code, _, stderr) = run(pyimage()
        .arg("report")
        .arg("--json")
        .arg("--plan")
        .arg(plan)
        .arg("--output")
        .arg(&out)
        .args(&f.descriptors));
    assert_eq!(code, 0, "{stderr}");
    out
}

/// Rewrites descriptor `index`: a new blob digest and size, one package's version.
fn rebuild(f: &Fixture, index: usize, size: u64, bump: Option<(&str, &str)>) {
    let path = &f.descriptors[index];
    let mut d: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    d["digest"] = json!(format!("sha256:{index:x}{}", "e".repeat(63)));
    d["size"] = json!(size);
    d["eoa_offset"] = json!(size - 10);
    if let Some((name, version)) = bump {
        for p in d["packages"].as_array_mut().unwrap() {
            if p["name"] == name {
                p["version"] = json!(version);
                p["bytes"] = json!(p["bytes"].as_u64().unwrap() + 100);
            }
        }
    }
    std::fs::write(path, serde_json::to_string_pretty(&d).unwrap()).unwrap();
}

#[test]
fn diff_of_an_app_edit_and_a_package_bump() {
    let (f, plan) = smoke();
    let old = json_report(&f, &plan, "report_old.json");
    let (code, stdout, _) = run(pyimage().arg("diff").arg(&old).arg(&old));
    assert_eq!(code, 0);
    assert_eq!(stdout, "0 of 5 layers changed, 0 B to push\n");
    // An app edit: one layer.
    rebuild(&f, 4, 15_872, None);
    let app = json_report(&f, &plan, "report_app.json");
    let (code, stdout, _) = run(pyimage().arg("diff").arg(&old).arg(&app));
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("1 of 5 layers changed, 15.5 KiB to push\n"),
        "{stdout}"
    );
    // Plus a package bump in the pip group.
    rebuild(&f, 1, 700_000, Some(("requests", "2.1")));
    let new = json_report(&f, &plan, "report_new.json");
    let (code, stdout, _) = run(pyimage().arg("diff").arg(&old).arg(&new));
    assert_eq!(code, 0);
    golden("diff.txt", &stdout);
    let (code, stdout, _) = run(pyimage().arg("diff").arg("--json").arg(&old).arg(&new));
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["layers_changed"], 2);
    assert_eq!(v["layers"][1]["changed_packages"][0]["new_version"], "2.1");
    golden("diff.json", &stdout);
}

#[test]
fn diff_bad_inputs_name_the_file() {
    let (f, _plan) = smoke();
    let missing = f.path("nope.json");
    let (code, _, stderr) = run(pyimage().arg("diff").arg(&missing).arg(&missing));
    assert_eq!(code, 1);
    assert!(stderr.contains("nope.json"), "{stderr}");
    let (code, _, stderr) = run(pyimage()
        .arg("diff")
        .arg(&f.descriptors[0])
        .arg(&f.descriptors[0]));
    assert_eq!(code, 1);
    assert!(stderr.contains("python.json"), "{stderr}");
    let (code, _, _) = run(pyimage().arg("report").arg("--previous").arg(&missing));
    assert_eq!(code, 2, "--previous needs --html");
}

#[test]
fn report_html_page_with_a_diff() {
    let (f, plan) = smoke();
    let old = json_report(&f, &plan, "report_old.json");
    rebuild(&f, 1, 700_000, Some(("requests", "2.1")));
    let (code, stdout, stderr) = run(pyimage()
        .arg("report")
        .arg("--html")
        .arg("--previous")
        .arg(&old)
        .arg("--plan")
        .arg(&plan)
        .args(&f.descriptors));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("data-layer-count=\"5\""));
    assert!(stdout.contains("data-group=\"web\" data-status=\"changed\""));
    assert!(stdout.contains("<li class=\"package changed\" data-name=\"requests\">"));
    assert!(stdout.contains("1 of 5 layers changed"));
    assert!(
        !stdout.contains("<script") && !stdout.contains("http"),
        "self-contained"
    );
    golden("report.html", &stdout);
}

#[test]
fn auto_layers_show_their_members_from_the_descriptors() {
    // A tier with `budget`: the plan does not know the auto layers' members (the
    // autolayer action decides them); report and validate read them from the descriptors.
    let mut f = Fixture::new();
    let a1 = f.layer("auto-1", &[("six", 40_000, 2), ("idna", 300 * MIB, 12)], 0);
    let a2 = f.layer("auto-2", &[("colorama", 60_000, 9)], 0);
    let app = f.layer("app", &[], 5_000);
    let plan = f.write(
        "plan.json",
        &json!({
            "schema": 1,
            "target": "//app:layers",
            "tier": {"name": "budgeted", "label": "//tiers:budgeted"},
            "groups": {},
            "layers": [
                {"group": "auto-1", "kind": "pip_auto", "descriptor": a1, "packages": []},
                {"group": "auto-2", "kind": "pip_auto", "descriptor": a2, "packages": []},
                {"group": "app", "kind": "app", "descriptor": app},
            ],
        }),
    );
    let (code, stdout, stderr) = run(pyimage()
        .args(["report", "--json", "--plan"])
        .arg(&plan)
        .args(&f.descriptors));
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["layers"][0]["kind"], "pip_auto");
    assert_eq!(v["layers"][0]["packages"], json!(["idna", "six"]));
    assert_eq!(v["layers"][1]["packages"], json!(["colorama"]));
    // a package past max_package_bytes sharing an auto layer: a group of its own is the fix
    let (code, _, stderr) = run(pyimage()
        .args(["validate", "--plan"])
        .arg(&plan)
        .args(&f.descriptors));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("pip package idna is 300.0 MiB")
            && stderr.contains("layer 0 (group \"auto-1\")")
            && stderr.contains("\"idna\": [\"idna\"]"),
        "{stderr}"
    );
}

#[test]
fn too_many_layers_with_auto_layers_proposes_a_lower_budget() {
    let mut f = Fixture::new();
    let mut layers = Vec::new();
    for i in 0..20 {
        let name = format!("auto-{}", i + 1);
        let idx = f.layer(&name, &[(&format!("p{i}"), 1000, 1)], 0);
        layers.push(json!({"group": name, "kind": "pip_auto", "descriptor": idx}));
    }
    let app = f.layer("app", &[], 100);
    layers.push(json!({"group": "app", "kind": "app", "descriptor": app}));
    let plan = f.write(
        "plan.json",
        &json!({"tier": {"name": "b", "label": "//t:b"}, "base_layers": 90, "groups": {},
                "thresholds": {"warn_layers": 100, "max_layers": 127}, "layers": layers}),
    );
    let (code, _, stderr) = run(pyimage()
        .args(["validate", "--plan"])
        .arg(&plan)
        .args(&f.descriptors));
    assert_eq!(code, 0, "{stderr}");
    // 111 layers, 11 over warn_layers: 21 own - 11 = budget 10, 9 auto layers
    assert!(
        stderr.contains(
            "Lower the budget of tier //t:b to 10 (budget = 10): its auto layers go from 20 to 9."
        ) && !stderr.contains("no group whose merging"),
        "{stderr}"
    );
}
