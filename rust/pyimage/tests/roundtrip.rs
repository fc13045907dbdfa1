//! Round trips through GNU tar, bsdtar and Python's tarfile: every reader must see the same
//! entries (names, types, modes, sizes, contents, link targets), for written and merged layers.
//! The tools are required: a missing tool fails the test with an install hint.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use common::*;

/// path -> (kind, mode, size, content sha / link target)
fn snapshot(root: &Path) -> BTreeMap<String, (char, u32, u64, String)> {
    use sha2::{Digest, Sha256};
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_str().unwrap().to_string();
            let md = fs::symlink_metadata(&p).unwrap();
            let mode = md.permissions().mode() & 0o7777;
            if md.file_type().is_symlink() {
                let t = fs::read_link(&p).unwrap().to_str().unwrap().to_string();
                out.insert(rel, ('l', 0, 0, t));
            } else if md.is_dir() {
                out.insert(rel, ('d', mode, 0, String::new()));
                stack.push(p);
            } else {
                let h = hex::encode(Sha256::digest(fs::read(&p).unwrap()));
                out.insert(rel, ('-', mode, md.len(), h));
            }
        }
    }
    out
}

fn build(p: &Path, c: &str) -> String {
    make_tree(&p.join("t"), 0o644, 0o755);
    write(&p.join("main.py"), b"print(1)\n", 0o644);
    let long_target = format!("/app/{}", "z".repeat(300));
    let long_dest = format!("/app/{}/{}", "q".repeat(130), "r".repeat(140));
    fs::write(
        p.join("m.txt"),
        format!(
            "file\t/app/main.py\tmain.py\nsymlink\t/app/long_link\t{long_target}\n\
             file\t{long_dest}\tmain.py\nsymlink\t/app/bin/py\t/app/main.py\nempty\t/app/bin/e\n"
        ),
    )
    .unwrap();
    let blob = format!("l.{c}");
    ok(
        &[
            "layer",
            "--output",
            &blob,
            "--descriptor",
            "l.json",
            "--tree",
            "t=/app/site",
            "--manifest",
            "m.txt",
            "--compression",
            c,
        ],
        p,
    );
    blob
}

fn our_names(p: &Path, blob: &str) -> Vec<String> {
    // list prints `<mode> <uid/gid> <size> <path>[ -> target]`; no spaces in these test paths
    ok(&["list", blob], p)
        .lines()
        .map(|l| l.split_whitespace().nth(3).unwrap().to_string())
        .collect()
}

fn check_readers(p: &Path, blob: &str, python: bool) {
    require("tar");
    require("bsdtar");
    require("python3");
    let ours = our_names(p, blob);
    let gnu: Vec<String> = sh(&format!("tar -tf {blob}"), p)
        .lines()
        .map(str::to_string)
        .collect();
    let bsd: Vec<String> = sh(&format!("bsdtar -tf {blob}"), p)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(gnu, ours, "GNU tar names");
    assert_eq!(bsd, ours, "bsdtar names");
    for d in ["x_gnu", "x_bsd", "x_py"] {
        let _ = fs::remove_dir_all(p.join(d));
        fs::create_dir_all(p.join(d)).unwrap();
    }
    sh(&format!("tar -xf {blob} -C x_gnu"), p);
    sh(&format!("bsdtar -xpf {blob} -C x_bsd"), p);
    let a = snapshot(&p.join("x_gnu"));
    let b = snapshot(&p.join("x_bsd"));
    assert_eq!(a, b, "GNU tar and bsdtar extract differently");
    // every entry is there; the rest are parents the extractors created
    for n in &ours {
        assert!(a.contains_key(n.trim_end_matches('/')), "{n} not extracted");
    }
    for (k, v) in &a {
        assert!(
            ours.iter().any(|n| n.trim_end_matches('/') == k) || v.0 == 'd',
            "{k}"
        );
    }
    if python {
        let py = sh(
            &format!(
                "python3 -c \"import tarfile,sys\n\
                 t=tarfile.open('{blob}')\n\
                 print('\\n'.join(m.name+('/' if m.isdir() else '') for m in t.getmembers()))\n\
                 kw={{'filter':'fully_trusted'}} if hasattr(tarfile,'fully_trusted_filter') else {{}}\n\
                 t.extractall('x_py', **kw)\""
            ),
            p,
        );
        let py: Vec<String> = py.lines().map(str::to_string).collect();
        assert_eq!(py, ours, "Python tarfile names");
        assert_eq!(
            snapshot(&p.join("x_py")),
            a,
            "Python tarfile extracts differently"
        );
    }
    // the pinned mtime survives extraction
    let md = fs::symlink_metadata(p.join("x_gnu/app/main.py")).unwrap();
    assert_eq!(md.mtime(), 946_684_800);
}

#[test]
fn gzip_layer_reads_identically_everywhere() {
    let d = tmp();
    let blob = build(d.path(), "gzip");
    check_readers(d.path(), &blob, true);
    // long names really are there
    let names = our_names(d.path(), &blob);
    assert!(names.iter().any(|n| n.len() > 255));
    let listing = ok(&["list", &blob], d.path());
    assert!(listing.contains(&format!("app/long_link -> /app/{}", "z".repeat(300))));
}

/// A gzip layer of several 2 MiB members, one of them redone one level higher (a block that
/// shrinks more than 8:1), inflates with GNU gzip and Python's gzip module to exactly the tar
/// `--compression none` writes for the same input.
#[test]
fn multi_member_gzip_inflates_with_gzip_and_python() {
    require("gzip");
    require("python3");
    let d = tmp();
    let p = d.path();
    // ~5 MiB of varied bytes (little redundancy) then ~3 MiB of one repeated line
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let varied: Vec<u8> = (0..5 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b"abcdefghijklmnopqrstuvwxyz0123456789_()\n"[(x % 40) as usize]
        })
        .collect();
    write(&p.join("t/a/varied.txt"), &varied, 0o644);
    write(
        &p.join("t/b/repeat.py"),
        &b"value = compute(x)\n".repeat(150_000),
        0o644,
    );
    for c in ["gzip", "none"] {
        let args = ["layer", "--tree", "t=/app", "--compression", c, "--output"];
        let mut args = args.to_vec();
        args.extend([
            c,
            "--descriptor",
            if c == "gzip" { "g.json" } else { "n.json" },
        ]);
        ok(&args, p);
    }
    let tar = fs::read(p.join("none")).unwrap();
    let gz = fs::read(p.join("gzip")).unwrap();
    let members = gz
        .windows(10)
        .filter(|w| w == &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    assert!(members.count() >= 5, "expected one member per 2 MiB block");
    sh("gzip -dc gzip > by_gzip", p);
    assert!(fs::read(p.join("by_gzip")).unwrap() == tar, "gzip -dc");
    sh(
        "python3 -c \"import gzip,sys\nsys.stdout.buffer.write(gzip.open('gzip').read())\" > by_py",
        p,
    );
    assert!(fs::read(p.join("by_py")).unwrap() == tar, "Python's gzip");
    let desc = descriptor(&p.join("g.json"));
    assert_eq!(desc["diff_id"], descriptor(&p.join("n.json"))["digest"]);
}

#[test]
fn zstd_layer_reads_identically_everywhere() {
    let d = tmp();
    let blob = build(d.path(), "zstd");
    // Python 3.11's tarfile has no zstd
    check_readers(d.path(), &blob, false);
}

#[test]
fn plain_layer_reads_identically_everywhere() {
    let d = tmp();
    let blob = build(d.path(), "none");
    check_readers(d.path(), &blob, true);
}

#[test]
fn merged_layers_read_identically_everywhere() {
    for c in ["gzip", "zstd", "none"] {
        let d = tmp();
        let p = d.path();
        let mut args: Vec<String> = ["merge", "--output", "m.blob", "--descriptor", "m.json"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for i in 0..5 {
            write(
                &p.join(format!("p{i}/pkg{i}/{}.py", "n".repeat(90 + i * 30))),
                &vec![b'a' + i as u8; 200_000 + i * 1000],
                0o644,
            );
            ok(
                &[
                    "layer",
                    "--output",
                    &format!("p{i}.blob"),
                    "--descriptor",
                    &format!("p{i}.json"),
                    "--tree",
                    &format!("p{i}=/app/site"),
                    "--compression",
                    c,
                ],
                p,
            );
            args.push(format!("p{i}.blob=p{i}.json"));
        }
        ok(&args.iter().map(String::as_str).collect::<Vec<_>>(), p);
        check_merged(p, c);
    }
}

fn check_merged(p: &Path, c: &str) {
    require("tar");
    require("bsdtar");
    let ours = our_names(p, "m.blob");
    assert_eq!(ours.len(), 15);
    let gnu: Vec<String> = sh("tar -tf m.blob", p)
        .lines()
        .map(str::to_string)
        .collect();
    let bsd: Vec<String> = sh("bsdtar -tf m.blob", p)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(gnu, ours, "{c}");
    assert_eq!(bsd, ours, "{c}");
    if c != "zstd" {
        let py = sh(
            "python3 -c \"import tarfile\nprint('\\n'.join(m.name+('/' if m.isdir() else '') for m in tarfile.open('m.blob').getmembers()))\"",
            p,
        );
        assert_eq!(py.lines().collect::<Vec<_>>(), ours, "{c}");
    }
    // GNU tar reads to the end without complaint (no "A lone zero block" etc.)
    let out = std::process::Command::new("tar")
        .args(["-tvf", "m.blob"])
        .current_dir(p)
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `pyimage list` reads layers written by other tools (GNU long names, GNU tar's PAX, bsdtar).
#[test]
fn list_reads_foreign_layers() {
    require("tar");
    require("bsdtar");
    let d = tmp();
    let p = d.path();
    make_tree(&p.join("t"), 0o644, 0o755);
    for (cmd, blob) in [
        ("tar --sort=name --format=gnu -cf gnu.tar -C t .", "gnu.tar"),
        (
            "tar --sort=name --format=pax -czf pax.tgz -C t .",
            "pax.tgz",
        ),
        (
            "tar --sort=name --format=ustar -cf ustar.tar -C t pkg/mod.py pkg/data/blob.bin",
            "ustar.tar",
        ),
        ("bsdtar -cf bsd.tar -C t .", "bsd.tar"),
    ] {
        sh(cmd, p);
        let ours: Vec<String> = ok(&["list", blob], p)
            .lines()
            .map(|l| l.split_whitespace().nth(3).unwrap().to_string())
            .collect();
        let theirs: Vec<String> = sh(&format!("tar -tf {blob}"), p)
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(ours, theirs, "{cmd}");
    }
}
