//! Criterion benches of the plan commands' hot paths: autogroup on a 1,000-package graph and
//! validate of a 140-layer plan (the e2e/limits shape). `cargo bench --bench plan`.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use pyimage::plan::autogroup::{autogroup, Package};
use pyimage::plan::model::Plan;
use pyimage::plan::resolve::{resolve, PackageSizes};
use pyimage::plan::validate::{validate, ValidateOptions};

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

fn many_groups_plan(n: usize) -> Plan {
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
    Plan::parse(&v.to_string(), Path::new("plan.json")).unwrap()
}

fn benches(c: &mut Criterion) {
    let g = graph(1000);
    c.bench_function("autogroup 1000 packages budget 100", |b| {
        b.iter(|| autogroup(black_box(&g), 100))
    });
    let g300 = graph(300);
    c.bench_function("autogroup 300 packages budget 30", |b| {
        b.iter(|| autogroup(black_box(&g300), 30))
    });
    let plan = many_groups_plan(140);
    let layers = resolve(Some(&plan), Path::new("plan.json"), &[]).unwrap();
    let sizes = PackageSizes::collect(Some(&plan), &[]);
    c.bench_function("validate 140 layers (error + fix)", |b| {
        b.iter(|| {
            validate(
                black_box(&plan),
                &layers,
                &sizes,
                &ValidateOptions::default(),
            )
            .render()
        })
    });
}

criterion_group! {
    name = plan;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(plan);
