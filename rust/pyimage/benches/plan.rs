//! Criterion benches of the plan commands through their entry points (input files read and
//! parsed, output written to a file): autogroup on a 1,000-package graph and on 300 packages,
//! validate and report of a 140-layer plan (the e2e/limits shape: an error with its fix).
//! `cargo bench --bench plan`.

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion};
use pyimage::{
    run_autogroup, run_report, run_validate, AutogroupRequest, ReportRequest, ValidateRequest,
};

/// One package of the `--packages` input.
struct Package {
    name: String,
    bytes: u64,
    deps: Vec<String>,
}

/// A deterministic layered dependency graph: package i depends on up to 4 packages with
/// larger indices (so it is a DAG like real pip graphs), sizes spread over 4 orders of magnitude.
fn graph(n: usize) -> Vec<Package> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n)
        .map(|i| {
            let deps = (0..(next() % 5))
                .filter_map(|_| {
                    let span = (n - i - 1) as u64;
                    (span > 0).then(|| format!("p{:04}", i + 1 + (next() % span) as usize))
                })
                .collect();
            Package {
                name: format!("p{i:04}"),
                bytes: 1_000 * 10u64.pow((next() % 4) as u32) + next() % 1000,
                deps,
            }
        })
        .collect()
}

fn write_packages(dir: &Path, name: &str, packages: &[Package]) -> PathBuf {
    let list: Vec<serde_json::Value> = packages
        .iter()
        .map(|p| serde_json::json!({"name": p.name, "bytes": p.bytes, "deps": p.deps}))
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, serde_json::json!({ "packages": list }).to_string()).unwrap();
    path
}

fn many_groups_plan(dir: &Path, n: usize) -> PathBuf {
    let mut groups = serde_json::Map::new();
    let mut layers = Vec::new();
    let mut sizes = serde_json::Map::new();
    for i in 0..n {
        let name = format!("pkg{i:03}");
        groups.insert(name.clone(), serde_json::json!([name]));
        layers.push(serde_json::json!({"group": name, "kind": "pip_group", "packages": [name]}));
        sizes.insert(name, serde_json::json!(1000 + (i * 37) % 500));
    }
    layers.push(serde_json::json!({"group": "app", "kind": "app"}));
    let v = serde_json::json!({"tier": {"name": "t"}, "groups": groups, "layers": layers, "package_bytes": sizes});
    let path = dir.join("plan.json");
    std::fs::write(&path, v.to_string()).unwrap();
    path
}

fn autogroup_request(packages: PathBuf, budget: u64, output: PathBuf) -> AutogroupRequest {
    AutogroupRequest {
        packages: Some(packages),
        budget: Some(budget),
        output: Some(output),
        ..AutogroupRequest::default()
    }
}

fn benches(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let out = dir.join("out.txt");
    let g1000 = write_packages(dir, "g1000.json", &graph(1000));
    let r = autogroup_request(g1000, 100, out.clone());
    c.bench_function("autogroup 1000 packages budget 100", |b| {
        b.iter(|| run_autogroup(&r).unwrap())
    });
    let g300 = write_packages(dir, "g300.json", &graph(300));
    let r = autogroup_request(g300, 30, out.clone());
    c.bench_function("autogroup 300 packages budget 30", |b| {
        b.iter(|| run_autogroup(&r).unwrap())
    });
    let plan = many_groups_plan(dir, 140);
    // the failing validation prints its findings on stderr on every iteration: that output is
    // part of what the action does, so it stays in the measurement
    let v = ValidateRequest {
        plan: plan.clone(),
        output: Some(out.clone()),
        ..ValidateRequest::default()
    };
    c.bench_function("validate 140 layers (error + fix)", |b| {
        b.iter(|| run_validate(&v).unwrap())
    });
    let r = ReportRequest {
        plan: Some(plan),
        output: Some(out),
        ..ReportRequest::default()
    };
    c.bench_function("report 140 layers", |b| b.iter(|| run_report(&r).unwrap()));
}
criterion_group! {
    name = plan;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(plan);
