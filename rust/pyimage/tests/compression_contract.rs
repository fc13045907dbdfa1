//! Contract between the rules and the tool on compression levels: `py/private/compression.bzl`
//! is the one table of methods and level ranges. The tool's table must equal it, and the real
//! `pyimage layer` must accept every bound the table allows and reject the levels just outside.

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use common::*;
use pyimage::Compression;

/// `name -> (min, max, default)` as written in `py/private/compression.bzl`.
fn starlark_table() -> BTreeMap<String, (i32, i32, i32)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../py/private/compression.bzl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let row = regex::Regex::new(
        r#""(\w+)":\s*struct\(\s*min\s*=\s*(-?\d+),\s*max\s*=\s*(-?\d+),\s*default\s*=\s*(-?\d+),"#,
    )
    .unwrap();
    let table: BTreeMap<String, (i32, i32, i32)> = row
        .captures_iter(&text)
        .map(|c| {
            let n = |i: usize| c[i].parse::<i32>().unwrap();
            (c[1].to_string(), (n(2), n(3), n(4)))
        })
        .collect();
    assert!(
        !table.is_empty(),
        "{}: no `\"name\": struct(min = .., max = .., default = .., ...)` rows found",
        path.display()
    );
    table
}

fn rust_table() -> BTreeMap<String, (i32, i32, i32)> {
    Compression::ALL
        .iter()
        .map(|c| {
            let r = c.levels();
            (c.name().to_string(), (r.min, r.max, r.default))
        })
        .collect()
}

#[test]
fn rust_table_equals_the_starlark_table() {
    assert_eq!(
        rust_table(),
        starlark_table(),
        "the level table of the tool (compress.rs) and py/private/compression.bzl differ"
    );
}

fn layer_at_level(dir: &Path, compression: &str, level: i32) -> std::process::Output {
    let out = dir.join(format!("{compression}{level}.blob"));
    pyimage()
        .current_dir(dir)
        .args([
            "layer",
            "--tree",
            "src=/app/src",
            "--compression",
            compression,
        ])
        .arg(format!("--level={level}"))
        .arg("--output")
        .arg(&out)
        .arg("--descriptor")
        .arg(dir.join(format!("{compression}{level}.json")))
        .output()
        .unwrap()
}

fn decompressed(path: &Path, compression: &str) -> Vec<u8> {
    let f = std::fs::File::open(path).unwrap();
    let mut out = Vec::new();
    match compression {
        "gzip" => {
            flate2::read::MultiGzDecoder::new(f)
                .read_to_end(&mut out)
                .unwrap();
        }
        "zstd" => out = zstd::stream::decode_all(f).unwrap(),
        "none" => out = std::fs::read(path).unwrap(),
        other => panic!("unknown compression {other}"),
    }
    out
}

#[test]
fn tool_accepts_every_bound_of_the_table_and_rejects_the_levels_outside() {
    let d = tmp();
    let p = d.path();
    write(&p.join("src/a.py"), &b"print('a')\n".repeat(2000), 0o644);
    write(&p.join("src/b/c.txt"), b"c", 0o644);
    for (name, (min, max, _)) in starlark_table() {
        for level in [min, max] {
            let out = layer_at_level(p, &name, level);
            assert!(
                out.status.success(),
                "{name} level {level}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let tar = decompressed(&p.join(format!("{name}{level}.blob")), &name);
            let mut archive = tar::Archive::new(&tar[..]);
            let paths: Vec<String> = archive
                .entries()
                .unwrap()
                .map(|e| e.unwrap().path().unwrap().display().to_string())
                .collect();
            assert!(paths.contains(&"app/src/a.py".to_string()), "{paths:?}");
        }
        for level in [min - 1, max + 1] {
            let out = layer_at_level(p, &name, level);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{name} level {level}: {err}");
            let range = format!("{min}-{max}");
            assert!(
                err.contains(&format!("--level {level}"))
                    && err.contains(&name)
                    && err.contains(&range),
                "{name} level {level}: message must name --level, {name} and {range}: {err}"
            );
        }
    }
}
