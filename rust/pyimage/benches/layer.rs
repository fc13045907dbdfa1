//! Criterion benches of the layer writer's hot paths on a small synthetic tree (400 files,
//! ~3 MiB): `none`, `gzip` (1 and all threads) and `zstd` layers, and merging 8 per-package
//! layers. Small and fast on purpose; tools/bench/layer_bench.sh measures real trees against
//! GNU tar, gzip, pigz and zstd. `cargo bench --bench layer`.

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pyimage::{
    default_threads, merge_layers, write_layer, Compression, LayerOptions, MergeOptions,
};

const PACKAGES: usize = 8;
const FILES_PER_PACKAGE: usize = 50;

/// Writes `PACKAGES` package directories of Python-like text and some incompressible bytes.
fn make_tree(root: &Path) -> u64 {
    let mut total = 0u64;
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for p in 0..PACKAGES {
        for f in 0..FILES_PER_PACKAGE {
            let dir = root.join(format!("pkg{p}")).join(format!("sub{}", f % 5));
            std::fs::create_dir_all(&dir).unwrap();
            let mut body = Vec::new();
            for l in 0..(40 + (f * 13) % 200) {
                body.extend_from_slice(
                    format!("def f{l}(x):\n    return x * {l} + {p}\n").as_bytes(),
                );
            }
            if f % 7 == 0 {
                for _ in 0..4096 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    body.extend_from_slice(&x.to_le_bytes());
                }
            }
            total += body.len() as u64;
            std::fs::write(dir.join(format!("m{f}.py")), body).unwrap();
        }
    }
    total
}

fn layer_opts(
    out: &Path,
    trees: Vec<(PathBuf, String)>,
    c: Compression,
    threads: usize,
) -> LayerOptions {
    let mut o = LayerOptions::new(out.join("l.tar"), out.join("l.json"));
    o.trees = trees;
    o.compression = c;
    o.threads = threads;
    o
}

fn benches(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let bytes = make_tree(&src);
    let all = vec![(src.clone(), "/app/site-packages".to_string())];

    let mut g = c.benchmark_group("layer");
    g.throughput(Throughput::Bytes(bytes));
    for (name, comp, threads) in [
        ("none", Compression::None, default_threads()),
        ("gzip-6 1 thread", Compression::Gzip, 1),
        ("gzip-6", Compression::Gzip, default_threads()),
        ("zstd-3", Compression::Zstd, default_threads()),
    ] {
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            let o = layer_opts(&out, all.clone(), comp, threads);
            b.iter(|| write_layer(&o).unwrap())
        });
    }
    g.finish();

    // One gzip layer per package, then merge them.
    let mut inputs = Vec::new();
    for p in 0..PACKAGES {
        let d = tmp.path().join(format!("pkg{p}"));
        std::fs::create_dir_all(&d).unwrap();
        let mut o = LayerOptions::new(d.join("l.tar.gz"), d.join("l.json"));
        o.trees = vec![(
            src.join(format!("pkg{p}")),
            format!("/app/site-packages/pkg{p}"),
        )];
        o.package = Some((format!("pkg{p}"), "1.0".into()));
        write_layer(&o).unwrap();
        inputs.push((d.join("l.tar.gz"), d.join("l.json")));
    }
    let mut g = c.benchmark_group("merge");
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("merge 8 gzip layers", |b| {
        let o = MergeOptions {
            output: out.join("m.tar.gz"),
            descriptor: out.join("m.json"),
            name: Some("merged".into()),
            inputs: inputs.clone(),
            threads: default_threads(),
        };
        b.iter(|| merge_layers(&o).unwrap())
    });
    g.bench_function("re-tar 8 packages gzip-6", |b| {
        let trees = (0..PACKAGES)
            .map(|p| {
                (
                    src.join(format!("pkg{p}")),
                    format!("/app/site-packages/pkg{p}"),
                )
            })
            .collect();
        let o = layer_opts(&out, trees, Compression::Gzip, default_threads());
        b.iter(|| write_layer(&o).unwrap())
    });
    g.finish();
}

criterion_group! {
    name = layer;
    config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(layer);
