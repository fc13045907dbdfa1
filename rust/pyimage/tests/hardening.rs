//! Hostile inputs and outputs: what `pyimage` refuses, through the command line. Each test
//! names the claim of docs/security.md it backs.

mod common;

use std::fs;
use std::io::Write;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

const LAYER: [&str; 5] = ["layer", "--output", "l.tgz", "--descriptor", "l.json"];

fn src_tree(p: &Path) {
    write(&p.join("src/a.py"), b"a = 1\n", 0o644);
}

fn layer_args<'a>(out: &'a str, desc: &'a str) -> Vec<&'a str> {
    vec![
        "layer",
        "--output",
        out,
        "--descriptor",
        desc,
        "--tree",
        "src=/app",
    ]
}

#[test]
fn outputs_that_are_not_regular_files_are_refused_and_kept() {
    let d = tmp();
    let p = d.path();
    src_tree(p);
    assert!(Command::new("mkfifo")
        .arg(p.join("fifo"))
        .status()
        .unwrap()
        .success());
    fs::write(p.join("target"), b"keep me").unwrap();
    symlink("target", p.join("link")).unwrap();
    fs::create_dir(p.join("dir")).unwrap();
    for (name, kind) in [("fifo", "FIFO"), ("link", "symlink"), ("dir", "directory")] {
        // as --output and as --descriptor of `layer`
        let err = fails(&layer_args(name, "l.json"), p);
        assert!(err.contains(name) && err.contains(kind), "{err}");
        let err = fails(&layer_args("l.tgz", name), p);
        assert!(err.contains(name) && err.contains(kind), "{err}");
    }
    ok(&layer_args("l.tgz", "l.json"), p);
    // merge, validate and report outputs
    let err = fails(
        &[
            "merge",
            "--output",
            "link",
            "--descriptor",
            "m.json",
            "l.tgz=l.json",
        ],
        p,
    );
    assert!(err.contains("link") && err.contains("symlink"), "{err}");
    fs::write(p.join("plan.json"), b"{}").unwrap();
    let err = fails(
        &[
            "validate",
            "--plan",
            "plan.json",
            "--output",
            "fifo",
            "l.json",
        ],
        p,
    );
    assert!(err.contains("fifo") && err.contains("FIFO"), "{err}");
    let err = fails(&["report", "--output", "link", "l.json"], p);
    assert!(err.contains("link") && err.contains("symlink"), "{err}");
    // nothing was replaced
    let ft = fs::symlink_metadata(p.join("fifo")).unwrap().file_type();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&ft));
    assert!(fs::symlink_metadata(p.join("link"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::read(p.join("target")).unwrap(), b"keep me");
    assert!(p.join("dir").is_dir());
    // a regular file is replaced
    fs::write(p.join("old.tgz"), b"old").unwrap();
    ok(&layer_args("old.tgz", "old.json"), p);
}

#[test]
fn output_and_descriptor_must_differ_in_any_spelling() {
    let d = tmp();
    let p = d.path();
    src_tree(p);
    fs::create_dir(p.join("sub")).unwrap();
    let err = fails(&layer_args("x", "x"), p);
    assert!(err.contains("same file"), "{err}");
    let err = fails(&layer_args("sub/x", "./sub/../sub/x"), p);
    assert!(err.contains("same file"), "{err}");
    let abs = p.join("sub/x");
    let err = fails(&layer_args("sub/x", s(&abs)), p);
    assert!(err.contains("same file"), "{err}");
    ok(&layer_args("l.tgz", "l.json"), p);
    let err = fails(
        &[
            "merge",
            "--output",
            "m",
            "--descriptor",
            "./m",
            "l.tgz=l.json",
        ],
        p,
    );
    assert!(err.contains("same file"), "{err}");
}

/// A plain tar (no compression) from raw ustar members `(name, typeflag, link, data)`.
fn raw_tar(members: &[(&str, u8, &str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, typeflag, link, data) in members {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..108].copy_from_slice(b"0000644\0");
        h[108..116].copy_from_slice(b"0000000\0");
        h[116..124].copy_from_slice(b"0000000\0");
        h[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
        h[136..148].copy_from_slice(b"00000000000\0");
        h[156] = *typeflag;
        h[157..157 + link.len()].copy_from_slice(link.as_bytes());
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        out.extend_from_slice(&h);
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

/// Writes an uncompressed layer `name.tar` and a matching descriptor `name.json`; returns
/// the `LAYER=DESCRIPTOR` argument.
fn raw_layer(dir: &Path, name: &str, tar: &[u8]) -> String {
    let layer = dir.join(format!("{name}.tar"));
    fs::write(&layer, tar).unwrap();
    let digest = sha256_file(&layer);
    let desc = serde_json::json!({
        "schema": 1,
        "media_type": "application/vnd.oci.image.layer.v1.tar",
        "compression": "none",
        "digest": digest,
        "size": tar.len(),
        "diff_id": digest,
        "eoa_offset": tar.len() - 1024,
        "entries": 1,
        "files": 1,
        "uncompressed_size": tar.len(),
    });
    fs::write(dir.join(format!("{name}.json")), desc.to_string()).unwrap();
    format!("{name}.tar={name}.json")
}

fn merge_fails(p: &Path, inputs: &[&str]) -> String {
    let mut args = vec!["merge", "--output", "m.tar", "--descriptor", "m.json"];
    args.extend_from_slice(inputs);
    let err = fails(&args, p);
    assert!(!p.join("m.tar").exists() && !p.join("m.json").exists());
    err
}

#[test]
fn merge_refuses_paths_below_a_symlink_or_file_of_another_input() {
    let d = tmp();
    let p = d.path();
    let link = raw_layer(p, "link", &raw_tar(&[("app/lib", b'2', "/tmp", b"")]));
    let evil = raw_layer(p, "evil", &raw_tar(&[("app/lib/evil", b'0', "", b"x")]));
    let file = raw_layer(p, "file", &raw_tar(&[("app/x", b'0', "", b"x")]));
    let below = raw_layer(p, "below", &raw_tar(&[("app/x/z", b'0', "", b"z")]));
    for (a, b) in [
        (&link, &evil),
        (&evil, &link),
        (&file, &below),
        (&below, &file),
    ] {
        let err = merge_fails(p, &[a, b]);
        let (la, lb) = (a.split('=').next().unwrap(), b.split('=').next().unwrap());
        assert!(
            err.contains(la) && err.contains(lb) && err.contains("lies below"),
            "{err}"
        );
    }
    // directories shared by inputs stay fine
    let d1 = raw_layer(
        p,
        "d1",
        &raw_tar(&[("app/", b'5', "", b""), ("app/a", b'0', "", b"a")]),
    );
    let d2 = raw_layer(
        p,
        "d2",
        &raw_tar(&[("app/", b'5', "", b""), ("app/b", b'0', "", b"b")]),
    );
    ok(
        &[
            "merge",
            "--output",
            "ok.tar",
            "--descriptor",
            "ok.json",
            &d1,
            &d2,
        ],
        p,
    );
}

#[test]
fn merge_refuses_foreign_members() {
    let d = tmp();
    let p = d.path();
    let good = raw_layer(p, "good", &raw_tar(&[("app/a", b'0', "", b"a")]));
    for (i, (name, typeflag, what)) in [
        ("../evil", b'0', "'..'"),
        ("app/../../evil", b'0', "'..'"),
        ("/etc/evil", b'0', "absolute"),
        ("app/.wh.a", b'0', ".wh."),
        ("app/hard", b'1', "type"),
        ("app/dev", b'3', "type"),
    ]
    .into_iter()
    .enumerate()
    {
        let bad = raw_layer(
            p,
            &format!("bad{i}"),
            &raw_tar(&[(name, typeflag, "app/a", b"")]),
        );
        let err = merge_fails(p, &[&good, &bad]);
        assert!(
            err.contains(&format!("bad{i}.tar")) && err.contains(what),
            "{name}: {err}"
        );
    }
}

#[test]
fn merge_verifies_each_input_digest() {
    let d = tmp();
    let p = d.path();
    let a = raw_layer(p, "a", &raw_tar(&[("app/a", b'0', "", b"a")]));
    let b = raw_layer(p, "b", &raw_tar(&[("app/b", b'0', "", b"b")]));
    // same size, other bytes
    fs::write(p.join("b.tar"), raw_tar(&[("app/c", b'0', "", b"c")])).unwrap();
    let err = merge_fails(p, &[&a, &b]);
    assert!(err.contains("b.json") && err.contains("digest"), "{err}");
}

/// One gzip member of `data`.
fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn huge_extended_header_fails_fast_in_little_memory() {
    let d = tmp();
    let p = d.path();
    // a PAX header claiming 1 GiB, followed by 1 GiB of zeros as 1024 gzip members (~1 MB)
    let gib: u64 = 1 << 30;
    let mut h = raw_tar(&[("././@PaxHeader", b'x', "", b"")]);
    h.truncate(512);
    h[124..136].copy_from_slice(format!("{gib:011o}\0").as_bytes());
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    let mut blob = gzip(&h);
    let zeros = gzip(&vec![0u8; 1 << 20]);
    for _ in 0..1024 {
        blob.extend_from_slice(&zeros);
    }
    fs::write(p.join("bomb.tgz"), &blob).unwrap();
    let pyimage = assert_cmd::cargo::cargo_bin("pyimage");
    let start = Instant::now();
    // 200 MiB of address space: reading the header into memory would abort
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v 204800; exec '{}' list bomb.tgz",
            pyimage.display()
        ))
        .current_dir(p)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("bomb.tgz") && err.contains("extended header") && err.contains("1048576"),
        "{err}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn manifest_symlink_targets_with_nul_or_longer_than_path_max_are_refused() {
    let d = tmp();
    let p = d.path();
    fs::write(p.join("nul.txt"), "dir\t/app\nsymlink\t/app/l\tab\0cd\n").unwrap();
    let err = fails(&[&LAYER[..], &["--manifest", "nul.txt"]].concat(), p);
    assert!(err.contains("nul.txt:2") && err.contains("NUL"), "{err}");
    let long = "a/".repeat(2048);
    fs::write(p.join("long.txt"), format!("symlink\t/app/l\t{long}\n")).unwrap();
    let err = fails(&[&LAYER[..], &["--manifest", "long.txt"]].concat(), p);
    assert!(
        err.contains("long.txt:1") && err.contains("PATH_MAX"),
        "{err}"
    );
    // 4095 bytes is the longest accepted
    fs::write(
        p.join("max.txt"),
        format!("symlink\t/app/l\t{}\n", "b".repeat(4095)),
    )
    .unwrap();
    ok(&[&LAYER[..], &["--manifest", "max.txt"]].concat(), p);
}

#[test]
fn manifest_errors_name_manifest_and_line() {
    let d = tmp();
    let p = d.path();
    write(&p.join("plain"), b"x", 0o644);
    fs::write(p.join("crlf.txt"), "dir\t/app\r\n").unwrap();
    let err = fails(&[&LAYER[..], &["--manifest", "crlf.txt"]].concat(), p);
    assert!(err.contains("crlf.txt:1") && err.contains("CRLF"), "{err}");
    fs::write(p.join("missing.txt"), "dir\t/app\nfile\t/app/a\tnope.py\n").unwrap();
    let err = fails(&[&LAYER[..], &["--manifest", "missing.txt"]].concat(), p);
    assert!(
        err.contains("missing.txt:2") && err.contains("nope.py"),
        "{err}"
    );
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    fs::write(p.join("linkof.txt"), "linkof\t/app/l\tplain\n").unwrap();
    let err = fails(&[&LAYER[..], &["--manifest", "linkof.txt"]].concat(), p);
    assert!(
        err.contains("linkof.txt:1") && err.contains("not one"),
        "{err}"
    );
}

#[test]
fn out_of_range_numbers_are_refused_naming_flag_and_range() {
    let d = tmp();
    let p = d.path();
    src_tree(p);
    let layer = layer_args("l.tgz", "l.json");
    let err = fails(&[&layer[..], &["--mtime", "8589934592"]].concat(), p);
    assert!(
        err.contains("--mtime") && err.contains("0..=8589934591"),
        "{err}"
    );
    ok(&[&layer[..], &["--mtime", "8589934591"]].concat(), p);
    let err = fails(&[&layer[..], &["--owner", "4294967296:0"]].concat(), p);
    assert!(
        err.contains("--owner") && err.contains("0..=4294967295"),
        "{err}"
    );
    let err = fails(&[&layer[..], &["--owner", "0:4294967296"]].concat(), p);
    assert!(err.contains("--owner"), "{err}");
    ok(
        &[&layer[..], &["--owner", "4294967295:4294967295"]].concat(),
        p,
    );

    fs::write(p.join("plan.json"), b"{}").unwrap();
    for cmd in ["validate", "report"] {
        let mut args = vec![cmd, "--base-layers", "18446744073709551615"];
        if cmd == "validate" {
            args.extend(["--plan", "plan.json"]);
        }
        let err = fails(&args, p);
        assert!(
            err.contains("--base-layers") && err.contains("0..=4294967295"),
            "{cmd}: {err}"
        );
    }
    fs::write(
        p.join("big.json"),
        br#"{"base_layers": 18446744073709551615}"#,
    )
    .unwrap();
    let err = fails(&["validate", "--plan", "big.json"], p);
    assert!(
        err.contains("big.json") && err.contains("base_layers"),
        "{err}"
    );

    // descriptor sizes that would wrap the totals
    let mut desc = descriptor(&p.join("l.json"));
    desc["uncompressed_size"] = serde_json::json!(u64::MAX);
    fs::write(p.join("huge.json"), desc.to_string()).unwrap();
    let err = fails(&["report", "huge.json", "huge.json"], p);
    assert!(
        err.contains("huge.json") && err.contains("uncompressed_size") && err.contains("0..="),
        "{err}"
    );
}

#[test]
fn report_and_validate_load_plans_and_descriptors_strictly() {
    let d = tmp();
    let p = d.path();
    src_tree(p);
    ok(&layer_args("l.tgz", "l.json"), p);
    fs::write(p.join("array.json"), b"[]").unwrap();
    for cmd in ["validate", "report"] {
        let err = fails(&[cmd, "--plan", "array.json", "l.json"], p);
        assert!(
            err.contains("array.json") && err.contains("JSON object"),
            "{cmd}: {err}"
        );
    }
    let mut desc = descriptor(&p.join("l.json"));
    desc["schema"] = serde_json::json!(2);
    fs::write(p.join("s2.json"), desc.to_string()).unwrap();
    fs::write(p.join("plan.json"), b"{}").unwrap();
    let err = fails(&["report", "s2.json"], p);
    assert!(err.contains("s2.json") && err.contains("schema"), "{err}");
    let err = fails(&["validate", "--plan", "plan.json", "s2.json"], p);
    assert!(err.contains("s2.json") && err.contains("schema"), "{err}");
    let err = fails(&["report", "array.json"], p);
    assert!(
        err.contains("array.json") && err.contains("JSON object"),
        "{err}"
    );
}

#[test]
fn list_escapes_control_characters_in_names() {
    let d = tmp();
    let p = d.path();
    fs::write(
        p.join("ctl.tar"),
        raw_tar(&[
            ("app/a\nb", b'0', "", b""),
            ("app/l", b'2', "x\x1b[2J", b""),
        ]),
    )
    .unwrap();
    let out = ok(&["list", "ctl.tar"], p);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].ends_with(r" app/a\nb"), "{out}");
    assert!(lines[1].ends_with(r"app/l -> x\u{1b}[2J"), "{out}");
}

/// A run terminated by SIGTERM (how Bazel cancels an action) removes its temporary files
/// and dies of the signal: no output, no descriptor, no hidden file stays behind.
#[test]
fn sigterm_mid_run_leaves_no_output_and_no_temporary_file() {
    let d = tmp();
    let p = d.path();
    // 4 GiB of holes: long enough to be killed while writing
    let big = fs::File::create(p.join("big.bin")).unwrap();
    big.set_len(4 << 30).unwrap();
    drop(big);
    let mut child = pyimage()
        .args(["layer", "--output", "l.tgz", "--descriptor", "l.json"])
        .args(["--tree", "big.bin=/big.bin", "--threads", "1"])
        .current_dir(p)
        .spawn()
        .unwrap();
    let started = Instant::now();
    let temp_seen = || {
        fs::read_dir(p).unwrap().any(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".l.tgz.tmp")
        })
    };
    while !temp_seen() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before it was killed"
        );
        assert!(started.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(5));
    }
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(15), "{status:?}");
    let left: Vec<String> = fs::read_dir(p)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "big.bin")
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// `layer --external-symlinks materialize` over `t=/app`, run with a time bound: returns
/// stderr of the failed run (a run still copying after `bound` fails the test).
fn materialize_fails_within(p: &Path, bound: Duration) -> String {
    let mut child = pyimage()
        .args([
            "layer",
            "--output",
            "l.tgz",
            "--descriptor",
            "l.json",
            "--tree",
            "t=/app",
            "--external-symlinks",
            "materialize",
        ])
        .current_dir(p)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > bound {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("still materializing after {bound:?}: the fan-out was not detected");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!p.join("l.tgz").exists() && !p.join("l.json").exists());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// 80 KiB of sources behind 34 directory links (17 levels of two links to the level below)
/// would become 393,216 entries and 10 GiB of content: a directory reached a second time
/// is refused, naming the link, the directory and the fix.
#[test]
fn materialize_refuses_a_directory_reached_twice() {
    let d = tmp();
    let p = d.path();
    let ext = fs::canonicalize(p).unwrap().join("ext");
    write(&ext.join("l0/data.bin"), &[7u8; 80 << 10], 0o644);
    for k in 1..=17 {
        fs::create_dir(ext.join(format!("l{k}"))).unwrap();
        for name in ["a", "b"] {
            symlink(
                ext.join(format!("l{}", k - 1)),
                ext.join(format!("l{k}/{name}")),
            )
            .unwrap();
        }
    }
    fs::create_dir(p.join("t")).unwrap();
    symlink(ext.join("l17"), p.join("t/top")).unwrap();
    let err = materialize_fails_within(p, Duration::from_secs(30));
    let link = format!("t/top/{}b", "a/".repeat(16));
    assert!(
        err.contains(&link)
            && err.contains(&format!("{}", ext.join("l0").display()))
            && err.contains(&format!("/app/top/{}a", "a/".repeat(16)))
            && err.contains("--external-symlinks keep")
            && err.contains(&format!("--exclude top/{}b", "a/".repeat(16))),
        "{err}"
    );
    // two links to one directory in one tree, side by side
    fs::remove_file(p.join("t/top")).unwrap();
    symlink(ext.join("l0"), p.join("t/one")).unwrap();
    symlink(ext.join("l0"), p.join("t/two")).unwrap();
    let err = materialize_fails_within(p, Duration::from_secs(30));
    assert!(
        err.contains("t/two") && err.contains("/app/one") && err.contains("--exclude two"),
        "{err}"
    );
    // a link back to a directory being copied is a cycle, named as such
    fs::remove_file(p.join("t/two")).unwrap();
    symlink(&ext, ext.join("l0/up")).unwrap();
    let err = materialize_fails_within(p, Duration::from_secs(30));
    assert!(
        err.contains("t/one/up") && err.contains("cycle") && err.contains("--exclude one/up"),
        "{err}"
    );
    // one link to each directory is fine
    fs::remove_file(ext.join("l0/up")).unwrap();
    ok(
        &[
            "layer",
            "--output",
            "l.tgz",
            "--descriptor",
            "l.json",
            "--tree",
            "t=/app",
            "--external-symlinks",
            "materialize",
        ],
        p,
    );
}

/// A symlink of a tree whose target lies inside the tree must resolve there; one that does
/// not is refused under every policy, naming the link, its target and the fix. Links
/// between existing entries (an interpreter's `python3 -> python3.11`) are kept.
#[test]
fn dangling_in_tree_symlinks_are_refused() {
    let d = tmp();
    let p = d.path();
    write(&p.join("t/bin/python3.11"), b"\x7fELF", 0o755);
    symlink("python3.11", p.join("t/bin/python3")).unwrap();
    write(&p.join("t/lib/real.py"), b"x = 1\n", 0o644);
    symlink("lib", p.join("t/lib64")).unwrap();
    symlink("../lib64/real.py", p.join("t/bin/via_dir_link.py")).unwrap();
    let tabs = fs::canonicalize(p.join("t")).unwrap();
    symlink(tabs.join("lib/real.py"), p.join("t/bin/abs.py")).unwrap();
    let policies = ["reject", "keep", "materialize"];
    let run = |policy: &str| {
        let mut args = layer_args("l.tgz", "l.json");
        args[6] = "t=/app";
        args.extend(["--external-symlinks", policy]);
        args.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    for policy in policies {
        let args = run(policy);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ok(&args, p);
        let l = ok(&["list", "l.tgz"], p);
        for want in [
            "app/bin/python3 -> python3.11",
            "app/lib64 -> lib",
            "app/bin/via_dir_link.py -> ../lib64/real.py",
            "app/bin/abs.py -> ../lib/real.py",
        ] {
            assert!(l.contains(want), "{policy}: missing {want:?} in\n{l}");
        }
    }
    fs::remove_file(p.join("l.tgz")).unwrap();
    for (link, target) in [
        ("t/lib/gone.py", "missing.py"),
        ("t/lib/below_file.py", "real.py/x"),
        (
            "t/bin/abs_gone.py",
            &format!("{}", tabs.join("lib/nothing").display()),
        ),
    ] {
        symlink(target, p.join(link)).unwrap();
        for policy in policies {
            let args = run(policy);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let err = fails(&args, p);
            assert!(
                err.contains(link)
                    && err.contains(target)
                    && err.contains("does not exist")
                    && err.contains("--exclude"),
                "{policy}: {err}"
            );
            assert!(!p.join("l.tgz").exists(), "{policy}");
        }
        fs::remove_file(p.join(link)).unwrap();
    }
    // kept links that climb above the image root are refused, as manifest links are
    fs::create_dir_all(p.join("outside")).unwrap();
    symlink("../../../outside", p.join("t/lib/up")).unwrap();
    let args = run("keep");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let err = fails(&args, p);
    assert!(
        err.contains("/app/lib/up") && err.contains("climbs above the image root"),
        "{err}"
    );
}

/// Totals over many inputs are checked: each field is capped at 2^53, so 2049 inputs at the
/// cap pass 2^64 - 1. The overflow is refused naming the input, never wrapped or clamped.
#[test]
fn totals_that_would_overflow_are_refused_naming_the_input() {
    const CAP: u64 = 1 << 53;
    let d = tmp();
    let p = d.path();
    src_tree(p);
    ok(&layer_args("l.tgz", "l.json"), p);
    let mut desc = descriptor(&p.join("l.json"));
    for field in ["size", "uncompressed_size", "entries", "files"] {
        desc[field] = serde_json::json!(CAP);
    }
    fs::write(p.join("big.json"), desc.to_string()).unwrap();
    let many = vec!["big.json"; 2049];
    let overflow = |err: &str, names: &str| {
        assert!(
            err.contains(names) && err.contains("2^64 - 1"),
            "{names}: {err}"
        );
    };
    // report and validate: descriptor totals
    let err = fails(&[&["report"][..], &many].concat(), p);
    overflow(&err, "big.json: size 9007199254740992");
    fs::write(p.join("plan.json"), b"{}").unwrap();
    let err = fails(
        &[&["validate", "--plan", "plan.json"][..], &many].concat(),
        p,
    );
    overflow(&err, "big.json");
    // validate, report --html and autogroup: the plan's package sizes
    let sizes: serde_json::Map<String, serde_json::Value> = (0..2049)
        .map(|i| (format!("p{i}"), serde_json::json!(CAP)))
        .collect();
    let plan = serde_json::json!({"package_bytes": sizes});
    fs::write(p.join("sizes.json"), plan.to_string()).unwrap();
    for args in [
        &["validate", "--plan", "sizes.json"][..],
        &["report", "--html", "--plan", "sizes.json"],
        &["autogroup", "--plan", "sizes.json", "--budget", "3"],
    ] {
        overflow(&fails(args, p), "sizes.json (package_bytes)");
    }
    // autogroup --packages: sizes there have no cap of their own
    let list = serde_json::json!({"packages": [
        {"name": "a", "bytes": u64::MAX}, {"name": "b", "bytes": 1}]});
    fs::write(p.join("list.json"), list.to_string()).unwrap();
    let err = fails(
        &["autogroup", "--packages", "list.json", "--budget", "3"],
        p,
    );
    overflow(&err, "list.json: package b");
    // merge: the merged descriptor's `skipped` and package totals
    let input = raw_layer(p, "dir", &raw_tar(&[("app/", b'5', "", b"")]));
    let mut dd = descriptor(&p.join("dir.json"));
    dd["skipped"] = serde_json::json!(CAP);
    fs::write(p.join("dir.json"), dd.to_string()).unwrap();
    let inputs = vec![input.as_str(); 2049];
    let err = merge_fails(p, &inputs);
    overflow(&err, "dir.json: skipped");
    // diff: a report whose layer sizes do not add up
    let report = ok(&["report", "--json", "l.json", "l.json"], p);
    let mut r: serde_json::Value = serde_json::from_str(&report).unwrap();
    for row in r["layers"].as_array_mut().unwrap() {
        row["compressed_bytes"] = serde_json::json!(u64::MAX);
    }
    fs::write(p.join("r.json"), r.to_string()).unwrap();
    let err = fails(&["diff", "r.json", "r.json"], p);
    overflow(&err, "r.json: layer");
}
