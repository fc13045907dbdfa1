//! Output bytes must not depend on thread count, run, input path, source modes/umask,
//! argument order, locale, time zone or environment.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::*;

/// Deterministic pseudo-random text-like data (compressible, but not trivially).
fn data(seed: u64, len: usize) -> Vec<u8> {
    let words: [&[u8]; 8] = [
        b"import numpy as np\n",
        b"def f(x):\n",
        b"    return x + 1\n",
        b"class Model:\n",
        b"    pass\n",
        b"# comment\n",
        b"\x00\x01\x02\x7f\xff",
        b"value = 0x1234\n",
    ];
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut out = Vec::with_capacity(len + 32);
    while out.len() < len {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let w = words[(x >> 60) as usize & 7];
        out.extend_from_slice(w);
        if (x >> 50) & 3 == 0 {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    out.truncate(len);
    out
}

/// ~14 MiB: 600 small files, 3 big ones and a very repetitive one (two 8 MiB zstd jobs, seven
/// gzip blocks, some of which shrink more than 8:1 and are deflated again one level higher).
fn make_big_tree(root: &Path, file_mode: u32, exec_mode: u32) {
    write(
        &root.join("big/repeat.py"),
        &b"value = compute(x)  # the same line again\n".repeat(80_000),
        file_mode,
    );
    for i in 0..600u64 {
        write(
            &root.join(format!("pkg{}/sub{}/m{i}.py", i % 7, i % 13)),
            &data(i, 100 + (i as usize * 37) % 5000),
            if i % 5 == 0 { exec_mode } else { file_mode },
        );
    }
    for i in 0..3u64 {
        write(
            &root.join(format!("big/blob{i}.so")),
            &data(1000 + i, 3 << 20),
            exec_mode,
        );
    }
}

fn run_layer(cwd: &Path, tree: &str, c: &str, threads: &str, out: &str) -> (Vec<u8>, String) {
    ok(
        &[
            "layer",
            "--output",
            out,
            "--descriptor",
            &format!("{out}.json"),
            "--tree",
            &format!("{tree}=/app/site"),
            "--compression",
            c,
            "--threads",
            threads,
        ],
        cwd,
    );
    (
        fs::read(cwd.join(out)).unwrap(),
        fs::read_to_string(cwd.join(format!("{out}.json"))).unwrap(),
    )
}

#[test]
fn identical_across_threads_runs_paths_and_modes() {
    let d = tmp();
    let p = d.path();
    make_big_tree(&p.join("a"), 0o644, 0o755);
    // the same content elsewhere, deeper, created with a 077 umask's modes
    make_big_tree(&p.join("other/place/b"), 0o600, 0o700);
    for c in ["gzip", "zstd", "none"] {
        let (reference, rdesc) = run_layer(p, "a", c, "1", &format!("{c}.t1"));
        for t in ["2", "3", "8", "64"] {
            let (b, desc) = run_layer(p, "a", c, t, &format!("{c}.t{t}"));
            assert!(
                b == reference,
                "{c}: bytes differ between 1 and {t} threads"
            );
            assert_eq!(desc, rdesc);
        }
        let (b, desc) = run_layer(p, "a", c, "2", &format!("{c}.again"));
        assert!(b == reference, "{c}: second run differs");
        assert_eq!(desc, rdesc);
        let (b, desc) = run_layer(p, "other/place/b", c, "2", &format!("{c}.moved"));
        assert!(
            b == reference,
            "{c}: input path or source modes change the bytes"
        );
        assert_eq!(desc, rdesc);
        // an absolute input path
        let abs = p.join("a");
        let (b, _) = run_layer(p, abs.to_str().unwrap(), c, "2", &format!("{c}.abs"));
        assert!(b == reference, "{c}: absolute input path changes the bytes");
    }
}

/// The highest zstd level the tiers accept: libzstd's multi-threaded mode must still give the
/// same bytes for any worker count (two 8 MiB jobs, so the job boundary is crossed).
#[test]
fn zstd_level_22_identical_across_threads() {
    let d = tmp();
    let p = d.path();
    let mut text = Vec::new();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    while text.len() < 9 * 1024 * 1024 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        text.extend_from_slice(
            format!("def f{}(x):\n    return x * {}\n", x % 997, x % 1_000_003).as_bytes(),
        );
    }
    write(&p.join("t/mod.py"), &text, 0o644);
    let run = |threads: &str| {
        let out = format!("z22.t{threads}");
        ok(
            &[
                "layer",
                "--output",
                &out,
                "--descriptor",
                &format!("{out}.json"),
                "--tree",
                "t=/app",
                "--compression",
                "zstd",
                "--level",
                "22",
                "--threads",
                threads,
            ],
            p,
        );
        fs::read(p.join(&out)).unwrap()
    };
    let reference = run("1");
    assert!(
        run("3") == reference,
        "zstd level 22: bytes differ between 1 and 3 threads"
    );
    assert_eq!(decompress(&p.join("z22.t1"), "zstd").len() as u64 % 512, 0);
}

#[test]
fn identical_across_umask_locale_timezone_and_environment() {
    let d = tmp();
    let p = d.path();
    make_big_tree(&p.join("a"), 0o644, 0o755);
    fs::write(
        p.join("m.txt"),
        "dir\t/app\nsymlink\t/app/x\t/app/site/big/blob0.so\n",
    )
    .unwrap();
    let bin = assert_cmd::cargo::cargo_bin("pyimage");
    let mut outs = Vec::new();
    for (i, (umask, env)) in [
        ("022", vec![("LC_ALL", "C"), ("TZ", "UTC")]),
        (
            "077",
            vec![
                ("LC_ALL", "C.UTF-8"),
                ("TZ", "Asia/Tokyo"),
                ("SOURCE_DATE_EPOCH", "1234"),
                ("GZIP", "-9"),
                ("ZSTD_CLEVEL", "19"),
                ("ZSTD_NBTHREADS", "7"),
                ("TMPDIR", "/nonexistent"),
            ],
        ),
        (
            "000",
            vec![
                ("LANG", "de_DE.UTF-8"),
                ("TZ", "America/St_Johns"),
                ("HOME", "/"),
            ],
        ),
    ]
    .into_iter()
    .enumerate()
    {
        for c in ["gzip", "zstd"] {
            let out = format!("e{i}.{c}");
            let cmd = format!(
                "umask {umask}; exec '{}' layer --output {out} --descriptor {out}.json --tree a=/app/site --manifest m.txt --compression {c}",
                bin.display()
            );
            let mut command = Command::new("sh");
            command
                .arg("-c")
                .arg(&cmd)
                .current_dir(p)
                .env_clear()
                .env("PATH", "/usr/bin:/bin");
            for (k, v) in &env {
                command.env(k, v);
            }
            let o = command.output().unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            outs.push((
                c,
                fs::read(p.join(&out)).unwrap(),
                fs::read(p.join(format!("{out}.json"))).unwrap(),
            ));
        }
    }
    for (c, b, j) in &outs[2..] {
        let (_, rb, rj) = outs.iter().find(|(rc, _, _)| rc == c).unwrap();
        assert!(b == rb, "{c}: environment changes the bytes");
        assert_eq!(j, rj);
    }
}

#[test]
fn argument_order_does_not_matter_and_merge_is_thread_independent() {
    let d = tmp();
    let p = d.path();
    make_big_tree(&p.join("a"), 0o644, 0o755);
    write(&p.join("b/x/y.py"), &data(7, 1000), 0o644);
    for c in ["gzip", "zstd"] {
        ok(
            &[
                "layer",
                "--output",
                "o1",
                "--descriptor",
                "o1.json",
                "--tree",
                "a=/app/a",
                "--tree",
                "b=/app/b",
                "--compression",
                c,
            ],
            p,
        );
        ok(
            &[
                "layer",
                "--output",
                "o2",
                "--descriptor",
                "o2.json",
                "--tree",
                "b=/app/b",
                "--tree",
                "a=/app/a",
                "--compression",
                c,
            ],
            p,
        );
        assert!(fs::read(p.join("o1")).unwrap() == fs::read(p.join("o2")).unwrap());
        ok(
            &[
                "layer",
                "--output",
                "la",
                "--descriptor",
                "la.json",
                "--tree",
                "a=/app/a",
                "--compression",
                c,
            ],
            p,
        );
        ok(
            &[
                "layer",
                "--output",
                "lb",
                "--descriptor",
                "lb.json",
                "--tree",
                "b=/app/b",
                "--compression",
                c,
            ],
            p,
        );
        let mut reference: Option<(Vec<u8>, Vec<u8>)> = None;
        for t in ["1", "2", "5"] {
            ok(
                &[
                    "merge",
                    "--output",
                    "m",
                    "--descriptor",
                    "m.json",
                    "--threads",
                    t,
                    "la=la.json",
                    "lb=lb.json",
                ],
                p,
            );
            let got = (
                fs::read(p.join("m")).unwrap(),
                fs::read(p.join("m.json")).unwrap(),
            );
            match &reference {
                None => reference = Some(got),
                Some(r) => assert!(*r == got, "{c}: merge differs at {t} threads"),
            }
        }
        // merging gives the same diff_id as writing both trees in one layer would give for the
        // same entry order; here the orders coincide (a < b)
        let m = descriptor(&p.join("m.json"));
        let o = descriptor(&p.join("o1.json"));
        assert_eq!(m["diff_id"], o["diff_id"], "{c}");
        assert_eq!(m["entries"], o["entries"]);
    }
}

/// Fixed input, fixed bytes: catches any change of the format or of the compressors' output
/// (a crate upgrade, a different CPU, a different machine). If this fails after an intended
/// change, update the digests and say so in docs/determinism.md.
#[test]
fn golden_digests() {
    let d = tmp();
    let p = d.path();
    for i in 0..40u64 {
        write(
            &p.join(format!("t/pkg/m{i:02}.py")),
            &data(i, 500 + 300 * i as usize),
            if i % 4 == 0 { 0o755 } else { 0o644 },
        );
    }
    write(&p.join("t/pkg/big.bin"), &data(99, 700_000), 0o644);
    fs::write(
        p.join("m.txt"),
        "dir\t/app\nsymlink\t/app/run\t/app/site/pkg/m00.py\n",
    )
    .unwrap();
    let mut got = Vec::new();
    for c in ["gzip", "zstd", "none"] {
        ok(
            &[
                "layer",
                "--output",
                c,
                "--descriptor",
                &format!("{c}.json"),
                "--tree",
                "t=/app/site",
                "--manifest",
                "m.txt",
                "--compression",
                c,
            ],
            p,
        );
        let j = descriptor(&p.join(format!("{c}.json")));
        got.push(format!(
            "{c} {} {}",
            j["digest"].as_str().unwrap(),
            j["diff_id"].as_str().unwrap()
        ));
    }
    let want = GOLDEN.trim().lines().map(str::trim).collect::<Vec<_>>();
    assert_eq!(got, want, "layer bytes changed (see docs/determinism.md)");
}

const GOLDEN: &str = "
gzip sha256:b7969cebc2a12534cd8eb956fdaed3130c7433fb38ed8fa40d846a73b934a209 sha256:9693d021b9a738aaadce118b8d42a96125fbf1bfe01723ffdb3fc0aa69c56c42
zstd sha256:5f662dac98280cc4c4083dd17e016a451f262f174d6822e04b2354457ac9d70f sha256:9693d021b9a738aaadce118b8d42a96125fbf1bfe01723ffdb3fc0aa69c56c42
none sha256:9693d021b9a738aaadce118b8d42a96125fbf1bfe01723ffdb3fc0aa69c56c42 sha256:9693d021b9a738aaadce118b8d42a96125fbf1bfe01723ffdb3fc0aa69c56c42
";

/// Under Bazel's sandbox every input file is a symlink to an absolute execroot path: with
/// `--external-symlinks materialize` the layer must equal the one written from the real files.
#[test]
fn sandbox_symlink_forest_gives_the_real_trees_bytes() {
    let d = tmp();
    let p = d.path();
    make_big_tree(&p.join("execroot/site"), 0o644, 0o755);
    // the sandbox: real directories, every file an absolute symlink into the execroot
    let real = fs::canonicalize(p.join("execroot/site")).unwrap();
    let mut stack = vec![real.clone()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let rel = e.path().strip_prefix(&real).unwrap().to_path_buf();
            let target = p.join("sandbox/site").join(&rel);
            if e.file_type().unwrap().is_dir() {
                fs::create_dir_all(&target).unwrap();
                stack.push(e.path());
            } else {
                fs::create_dir_all(target.parent().unwrap()).unwrap();
                std::os::unix::fs::symlink(e.path(), &target).unwrap();
            }
        }
    }
    for c in ["gzip", "zstd"] {
        ok(
            &[
                "layer",
                "--output",
                "real",
                "--descriptor",
                "real.json",
                "--tree",
                "execroot/site=/app/site",
                "--compression",
                c,
            ],
            p,
        );
        ok(
            &[
                "layer",
                "--output",
                "sb",
                "--descriptor",
                "sb.json",
                "--tree",
                "sandbox/site=/app/site",
                "--compression",
                c,
                "--external-symlinks",
                "materialize",
            ],
            p,
        );
        assert!(
            fs::read(p.join("real")).unwrap() == fs::read(p.join("sb")).unwrap(),
            "{c}"
        );
        assert_eq!(
            fs::read(p.join("real.json")).unwrap(),
            fs::read(p.join("sb.json")).unwrap()
        );
    }
}
