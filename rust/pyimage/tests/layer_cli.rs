//! CLI tests of `pyimage layer`, `merge` and `list`: descriptors, filters, manifests,
//! listing snapshots and every safety rule.

mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use common::*;

fn layer(dir: &Path, name: &str, extra: &[&str]) -> serde_json::Value {
    let out = format!("{name}.blob");
    let desc = format!("{name}.json");
    let mut args = vec!["layer", "--output", &out, "--descriptor", &desc];
    args.extend_from_slice(extra);
    ok(&args, dir);
    descriptor(&dir.join(&desc))
}

fn list(dir: &Path, blob: &str) -> String {
    ok(&["list", blob], dir)
}

fn names(listing: &str) -> Vec<String> {
    listing
        .lines()
        .map(|l| {
            let rest: Vec<&str> = l.split_whitespace().collect();
            rest[3].to_string()
        })
        .collect()
}

#[test]
fn descriptor_matches_blob_for_every_compression() {
    let d = tmp();
    make_tree(&d.path().join("t"), 0o644, 0o755);
    for c in ["gzip", "zstd", "none"] {
        let desc = layer(
            d.path(),
            c,
            &[
                "--tree",
                "t=/app/site",
                "--compression",
                c,
                "--package",
                "demo==1.2",
            ],
        );
        let blob = d.path().join(format!("{c}.blob"));
        let bytes = fs::read(&blob).unwrap();
        assert_eq!(desc["digest"], sha256_file(&blob));
        assert_eq!(desc["size"], bytes.len() as u64);
        assert_eq!(desc["compression"], c);
        let media = match c {
            "gzip" => "application/vnd.oci.image.layer.v1.tar+gzip",
            "zstd" => "application/vnd.oci.image.layer.v1.tar+zstd",
            _ => "application/vnd.oci.image.layer.v1.tar",
        };
        assert_eq!(desc["media_type"], media);
        let tar = decompress(&blob, c);
        use sha2::{Digest, Sha256};
        assert_eq!(
            desc["diff_id"],
            format!("sha256:{}", hex::encode(Sha256::digest(&tar)))
        );
        assert_eq!(desc["uncompressed_size"], tar.len() as u64);
        assert!(tar.ends_with(&[0u8; 1024]));
        assert_eq!(tar.len() % 512, 0);
        // the end-of-archive sits alone after eoa_offset
        let eoa = desc["eoa_offset"].as_u64().unwrap() as usize;
        let tail = d.path().join(format!("{c}.tail"));
        fs::write(&tail, &bytes[eoa..]).unwrap();
        assert_eq!(decompress(&tail, c), vec![0u8; 1024]);
        let head = d.path().join(format!("{c}.head"));
        fs::write(&head, &bytes[..eoa]).unwrap();
        assert_eq!(decompress(&head, c), tar[..tar.len() - 1024].to_vec());
        // counts
        let listing = list(d.path(), &format!("{c}.blob"));
        assert_eq!(desc["entries"], listing.lines().count() as u64);
        let files = listing.lines().filter(|l| l.starts_with('-')).count() as u64;
        assert_eq!(desc["files"], files);
        assert_eq!(desc["packages"][0]["name"], "demo");
        assert_eq!(desc["packages"][0]["version"], "1.2");
        assert_eq!(desc["packages"][0]["files"], files);
        assert_eq!(desc["skipped"], 0);
    }
}

#[test]
fn listing_snapshot() {
    let d = tmp();
    make_tree(&d.path().join("t"), 0o644, 0o755);
    write(&d.path().join("main.py"), b"import pkg\n", 0o644);
    fs::write(
        d.path().join("m.txt"),
        "file\t/app/main.py\tmain.py\nexec\t/app/bin/run\tmain.py\nsymlink\t/app/bin/py\t/app/main.py\n\
         symlink\t/app/bin/python3\t/usr/bin/python3\ndir\t/app/bin\nempty\t/app/__init__.py\n",
    )
    .unwrap();
    layer(
        d.path(),
        "snap",
        &["--tree", "t=/app/site", "--manifest", "m.txt"],
    );
    let got = ok(&["list", "--redact", r"\.bin$", "snap.blob"], d.path());
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/list_basic.txt");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        fs::write(&golden, &got).unwrap();
    }
    let want = fs::read_to_string(&golden).expect("golden file (UPDATE_GOLDEN=1 writes it)");
    assert_eq!(got, want);
    // several layers get headers
    let two = ok(&["list", "snap.blob", "snap.blob"], d.path());
    assert!(two.starts_with("# snap.blob\n"));
    assert_eq!(two.lines().count(), 2 * (got.lines().count() + 1));
}

#[test]
fn sorted_by_path_bytes_with_fixed_metadata() {
    let d = tmp();
    let t = d.path().join("t");
    for n in ["b", "a.b", "a/c", "a-b", "A", "a_b", "é"] {
        write(&t.join(n), b"x", 0o600);
    }
    layer(
        d.path(),
        "s",
        &["--tree", "t=/r", "--owner", "1000:2000", "--mtime", "1"],
    );
    let listing = list(d.path(), "s.blob");
    let ns = names(&listing);
    let mut sorted = ns
        .iter()
        .map(|n| n.trim_end_matches('/').to_string())
        .collect::<Vec<_>>();
    sorted.sort();
    assert_eq!(
        ns.iter()
            .map(|n| n.trim_end_matches('/').to_string())
            .collect::<Vec<_>>(),
        sorted
    );
    assert!(listing.lines().all(|l| l.contains(" 1000/2000 ")));
    // GNU tar shows the pinned mtime and empty user names as numbers
    require("tar");
    let v = sh("tar --numeric-owner --full-time -tvf s.blob", d.path());
    assert!(v.lines().all(|l| l.contains("1970-01-01 00:00:01")), "{v}");
    let v = sh("tar -tvf s.blob", d.path());
    assert!(v.lines().all(|l| l.contains("1000/2000")), "{v}");
}

#[test]
fn pyc_filtered_by_default_and_kept_on_request() {
    let d = tmp();
    make_tree(&d.path().join("t"), 0o644, 0o755);
    layer(d.path(), "a", &["--tree", "t=/s"]);
    let l = list(d.path(), "a.blob");
    assert!(!l.contains("__pycache__") && !l.contains(".pyc"), "{l}");
    layer(d.path(), "b", &["--tree", "t=/s", "--keep-pyc"]);
    let l = list(d.path(), "b.blob");
    assert!(l.contains("s/pkg/__pycache__/\n"));
    assert!(l.contains("s/pkg/__pycache__/mod.cpython-311.pyc"));
    assert!(l.contains("s/pkg/stale.pyc"));
}

#[test]
fn include_and_exclude_filters() {
    let d = tmp();
    make_tree(&d.path().join("t"), 0o644, 0o755);
    layer(
        d.path(),
        "inc",
        &["--tree", "t=/s", "--include", "pkg/lib/**"],
    );
    assert_eq!(
        names(&list(d.path(), "inc.blob")),
        vec!["s/", "s/pkg/", "s/pkg/lib/", "s/pkg/lib/_native.so"]
    );
    layer(
        d.path(),
        "so",
        &[
            "--tree",
            "t=/s",
            "--include",
            "**/*.so",
            "--include",
            "**/*.sh",
        ],
    );
    assert_eq!(
        names(&list(d.path(), "so.blob")),
        vec![
            "s/",
            "s/pkg/",
            "s/pkg/lib/",
            "s/pkg/lib/_native.so",
            "s/pkg/tool.sh"
        ]
    );
    layer(
        d.path(),
        "ex",
        &[
            "--tree",
            "t=/s",
            "--exclude",
            "**/*.so",
            "--exclude",
            "pkg/data/**",
        ],
    );
    let n = names(&list(d.path(), "ex.blob"));
    assert!(
        !n.iter().any(|p| p.contains("data") || p.ends_with(".so")),
        "{n:?}"
    );
    assert!(
        !n.contains(&"s/pkg/lib/".to_string()),
        "emptied dir dropped: {n:?}"
    );
    assert!(
        n.contains(&"s/pkg/empty/".to_string()),
        "empty source dir kept: {n:?}"
    );
    // exclusion wins; complementary filters partition the files
    let all = names(&list(d.path(), &{
        layer(d.path(), "all", &["--tree", "t=/s"]);
        "all.blob".to_string()
    }));
    let mut union: Vec<String> = n
        .iter()
        .chain(
            names(&list(d.path(), &{
                layer(
                    d.path(),
                    "rest",
                    &[
                        "--tree",
                        "t=/s",
                        "--include",
                        "**/*.so",
                        "--include",
                        "pkg/data/**",
                    ],
                );
                "rest.blob".to_string()
            }))
            .iter(),
        )
        .filter(|p| !p.ends_with('/'))
        .cloned()
        .collect();
    union.sort();
    let mut files: Vec<String> = all.into_iter().filter(|p| !p.ends_with('/')).collect();
    files.sort();
    assert_eq!(union, files);
    fails(
        &[
            "layer",
            "--output",
            "x",
            "--descriptor",
            "x.json",
            "--tree",
            "t=/s",
            "--include",
            "a[",
        ],
        d.path(),
    );
}

#[test]
fn manifest_kinds_prefix_and_skip_prefix() {
    let d = tmp();
    let p = d.path();
    write(&p.join("src/a.py"), b"a\n", 0o644);
    write(&p.join("src/x.sh"), b"#!/bin/sh\n", 0o700);
    symlink("../some/where", p.join("src/ulink")).unwrap();
    make_tree(&p.join("t"), 0o644, 0o755);
    fs::write(
        p.join("m.txt"),
        "file\trel/a.py\tsrc/a.py\n\
         file\t/app/x.sh\tsrc/x.sh\n\
         exec\t/app/a_exec\tsrc/a.py\n\
         symlink\t/app/to_a\t/app/rel/a.py\n\
         symlink\t/app/lib/deep/to_dir\t/app/rel\n\
         symlink\t/app/abs\t/usr/lib/libc.so.6\n\
         linkof\t/app/rel/ul\tsrc/ulink\n\
         dir\t/app/lib\n\
         empty\t/app/rel/__init__.py\n\
         \n\
         tree\t/app/site\tt\n",
    )
    .unwrap();
    let desc = layer(
        p,
        "m",
        &[
            "--manifest",
            "m.txt",
            "--prefix",
            "/app",
            "--skip-prefix",
            "/app/site/pkg/data",
        ],
    );
    let l = list(p, "m.blob");
    for want in [
        "-rw-r--r-- 0/0          2 app/rel/a.py",
        "-rwxr-xr-x 0/0         10 app/x.sh",
        "-rwxr-xr-x 0/0          2 app/a_exec",
        "lrwxrwxrwx 0/0          0 app/to_a -> rel/a.py",
        "lrwxrwxrwx 0/0          0 app/lib/deep/to_dir -> ../../rel",
        "lrwxrwxrwx 0/0          0 app/abs -> /usr/lib/libc.so.6",
        "lrwxrwxrwx 0/0          0 app/rel/ul -> ../some/where",
        "drwxr-xr-x 0/0          0 app/lib/",
        "-rw-r--r-- 0/0          0 app/rel/__init__.py",
        "drwxr-xr-x 0/0          0 app/site/",
    ] {
        assert!(l.lines().any(|x| x == want), "missing {want:?} in\n{l}");
    }
    // no invented ancestors
    assert!(
        !l.lines()
            .any(|x| x.ends_with(" app/") || x.ends_with(" app/rel/")),
        "{l}"
    );
    assert!(!l.contains("pkg/data"));
    // data/, blob.bin, longlink
    assert_eq!(desc["skipped"], 3);
}

#[test]
fn tree_at_root_and_single_file_tree() {
    let d = tmp();
    write(&d.path().join("r/etc/os-release"), b"ID=x\n", 0o644);
    write(&d.path().join("one.txt"), b"1", 0o755);
    layer(
        d.path(),
        "r",
        &["--tree", "r=/", "--tree", "one.txt=/opt/one"],
    );
    assert_eq!(
        names(&list(d.path(), "r.blob")),
        vec!["etc/", "etc/os-release", "opt/one"]
    );
    // the mode comes from the content, not from the 0755 on disk
    assert!(list(d.path(), "r.blob").contains("-rw-r--r-- 0/0          1 opt/one"));
}

#[test]
fn argfiles_expand_one_argument_per_line() {
    let d = tmp();
    write(&d.path().join("dir with space/f.py"), b"x", 0o644);
    fs::write(
        d.path().join("args.txt"),
        "layer\n--output\no.tgz\n--descriptor\no.json\n--tree\ndir with space=/app/a b\n",
    )
    .unwrap();
    ok(&["@args.txt"], d.path());
    let l = list(d.path(), "o.tgz");
    assert!(
        l.contains(" app/a b/\n") && l.contains(" app/a b/f.py\n"),
        "{l}"
    );
    let err = pyimage()
        .arg("@missing.txt")
        .current_dir(d.path())
        .output()
        .unwrap();
    assert_eq!(err.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&err.stderr).contains("missing.txt"));
}

#[test]
fn external_symlink_policies() {
    let d = tmp();
    let p = d.path();
    write(&p.join("outside/real.py"), b"real\n", 0o755);
    write(&p.join("outside/dir/inner.py"), b"inner\n", 0o644);
    fs::create_dir_all(p.join("t/pkg")).unwrap();
    let abs = fs::canonicalize(p.join("outside")).unwrap();
    symlink(abs.join("real.py"), p.join("t/pkg/file.py")).unwrap();
    symlink(abs.join("dir"), p.join("t/pkg/dir")).unwrap();
    symlink("../../outside/real.py", p.join("t/pkg/rel.py")).unwrap();
    // absolute link into the tree itself is rewritten relative
    let tabs = fs::canonicalize(p.join("t")).unwrap();
    write(&p.join("t/pkg/target.py"), b"t\n", 0o644);
    symlink(tabs.join("pkg/target.py"), p.join("t/pkg/sub_abs")).unwrap();

    // default: reject, naming the link
    let err = fails(
        &[
            "layer",
            "--output",
            "o",
            "--descriptor",
            "o.json",
            "--tree",
            "t=/a",
        ],
        p,
    );
    assert!(
        err.contains("points outside the tree") && err.contains("--external-symlinks"),
        "{err}"
    );
    assert!(!p.join("o").exists() && !p.join("o.json").exists());

    ok(
        &[
            "layer",
            "--output",
            "m",
            "--descriptor",
            "m.json",
            "--tree",
            "t=/a",
            "--external-symlinks",
            "materialize",
        ],
        p,
    );
    let l = list(p, "m");
    for want in [
        "-rw-r--r-- 0/0          5 a/pkg/file.py",
        "-rw-r--r-- 0/0          5 a/pkg/rel.py",
        "drwxr-xr-x 0/0          0 a/pkg/dir/",
        "-rw-r--r-- 0/0          6 a/pkg/dir/inner.py",
        "lrwxrwxrwx 0/0          0 a/pkg/sub_abs -> target.py",
    ] {
        assert!(l.lines().any(|x| x == want), "missing {want:?} in\n{l}");
    }
    ok(
        &[
            "layer",
            "--output",
            "k",
            "--descriptor",
            "k.json",
            "--tree",
            "t=/a",
            "--external-symlinks",
            "keep",
        ],
        p,
    );
    let l = list(p, "k");
    assert!(
        l.contains(&format!(
            "a/pkg/file.py -> {}",
            abs.join("real.py").display()
        )),
        "{l}"
    );
    assert!(l.contains("a/pkg/rel.py -> ../../outside/real.py"));
    // dangling under materialize
    symlink("/nonexistent/zzz", p.join("t/pkg/dangling")).unwrap();
    let err = fails(
        &[
            "layer",
            "--output",
            "o",
            "--descriptor",
            "o.json",
            "--tree",
            "t=/a",
            "--external-symlinks",
            "materialize",
        ],
        p,
    );
    assert!(
        err.contains("dangling") && err.contains("t/pkg/dangling"),
        "{err}"
    );
}

#[test]
fn materialize_detects_cycles() {
    let d = tmp();
    write(&d.path().join("t/a/f.py"), b"", 0o644);
    symlink("..", d.path().join("t/a/up")).unwrap();
    let err = fails(
        &[
            "layer",
            "--output",
            "o",
            "--descriptor",
            "o.json",
            "--tree",
            "t/a=/a",
            "--external-symlinks",
            "materialize",
        ],
        d.path(),
    );
    assert!(err.contains("cycle"), "{err}");
}

#[test]
fn rejects_bad_destinations() {
    let d = tmp();
    let p = d.path();
    write(&p.join("f.py"), b"x", 0o644);
    for (m, needle) in [
        ("file\tapp/f.py\tf.py\n", "must be absolute"),
        ("file\t/app/../../f.py\tf.py\n", "'..' components"),
        ("file\t/app/../f.py\tf.py\n", "'..' components"),
        ("file\t/app//f.py\tf.py\n", "empty path component"),
        ("file\t/app/.wh.f.py\tf.py\n", ".wh."),
        ("dir\t/app/.wh..wh..opq\n", ".wh."),
        ("file\t/\tf.py\n", "image root"),
        ("bogus\t/x\n", "m.txt:1: unknown entry kind"),
        ("file\t/x\n", "m.txt:1: `file` takes 3"),
        ("file\t/x\tmissing.py\n", "missing.py"),
        ("file\t/x\t.\n", "not a regular file"),
        ("linkof\t/x\tf.py\n", "f.py"),
        (
            "symlink\t/app/x\t../../../etc/passwd\n",
            "climbs above the image root",
        ),
    ] {
        fs::write(p.join("m.txt"), m).unwrap();
        let err = fails(
            &[
                "layer",
                "--output",
                "o",
                "--descriptor",
                "o.json",
                "--manifest",
                "m.txt",
            ],
            p,
        );
        assert!(err.contains(needle), "manifest {m:?}: {err}");
        assert!(!p.join("o").exists());
    }
    let err = fails(
        &[
            "layer",
            "--output",
            "o",
            "--descriptor",
            "o.json",
            "--tree",
            "f.py=rel",
        ],
        p,
    );
    assert!(err.contains("absolute"), "{err}");
    let err = fails(
        &[
            "layer",
            "--output",
            "o",
            "--descriptor",
            "o.json",
            "--tree",
            "missing=/x",
        ],
        p,
    );
    assert!(err.contains("missing"), "{err}");
    let err = fails(
        &[
            "layer",
            "--output",
            "o",
            "--descriptor",
            "o.json",
            "--tree",
            "f.py=/",
        ],
        p,
    );
    assert!(err.contains("image root"), "{err}");
    // escaping symlinks allowed on request
    fs::write(p.join("m.txt"), "symlink\t/app/x\t../../../etc/passwd\n").unwrap();
    ok(
        &[
            "layer",
            "--output",
            "o",
            "--descriptor",
            "o.json",
            "--manifest",
            "m.txt",
            "--allow-escaping-symlinks",
        ],
        p,
    );
}

#[test]
fn rejects_duplicates_naming_both_sources() {
    let d = tmp();
    let p = d.path();
    write(&p.join("a.py"), b"a", 0o644);
    write(&p.join("b.py"), b"b", 0o644);
    write(&p.join("t/x.py"), b"t", 0o644);
    fs::write(
        p.join("m.txt"),
        "file\t/app/x.py\ta.py\nfile\t/app/x.py\tb.py\n",
    )
    .unwrap();
    let err = fails(
        &[
            "layer",
            "--output",
            "o",
            "--descriptor",
            "o.json",
            "--manifest",
            "m.txt",
        ],
        p,
    );
    assert!(
        err.contains("duplicate destination /app/x.py")
            && err.contains("a.py")
            && err.contains("b.py"),
        "{err}"
    );
    fs::write(p.join("m.txt"), "file\t/app/x.py\ta.py\n").unwrap();
    let err = fails(
        &[
            "layer",
            "--output",
            "o",
            "--descriptor",
            "o.json",
            "--manifest",
            "m.txt",
            "--tree",
            "t=/app",
        ],
        p,
    );
    assert!(err.contains("--tree t") && err.contains("m.txt:1"), "{err}");
    // a file with entries below it
    fs::write(
        p.join("m.txt"),
        "file\t/app/x\ta.py\nfile\t/app/x/y\tb.py\n",
    )
    .unwrap();
    let err = fails(
        &[
            "layer",
            "--output",
            "o",
            "--descriptor",
            "o.json",
            "--manifest",
            "m.txt",
        ],
        p,
    );
    assert!(err.contains("/app/x") && err.contains("inside it"), "{err}");
    // the very same entry twice is fine (runfiles may list a file twice)
    fs::write(
        p.join("m.txt"),
        "file\t/app/x.py\ta.py\nfile\t/app/x.py\ta.py\nsymlink\t/l\tx\nsymlink\t/l\tx\n",
    )
    .unwrap();
    ok(
        &[
            "layer",
            "--output",
            "o",
            "--descriptor",
            "o.json",
            "--manifest",
            "m.txt",
        ],
        p,
    );
    assert_eq!(descriptor(&p.join("o.json"))["entries"], 2);
    fs::write(p.join("m.txt"), "symlink\t/l\tx\nsymlink\t/l\ty\n").unwrap();
    fails(
        &[
            "layer",
            "--output",
            "o",
            "--descriptor",
            "o.json",
            "--manifest",
            "m.txt",
        ],
        p,
    );
    fs::write(
        p.join("m.txt"),
        "file\t/app/x.py\ta.py\nexec\t/app/x.py\ta.py\n",
    )
    .unwrap();
    fails(
        &[
            "layer",
            "--output",
            "o",
            "--descriptor",
            "o.json",
            "--manifest",
            "m.txt",
        ],
        p,
    );
    // directories may repeat
    fs::write(p.join("m.txt"), "dir\t/app\ndir\t/app\n").unwrap();
    ok(
        &[
            "layer",
            "--output",
            "o",
            "--descriptor",
            "o.json",
            "--manifest",
            "m.txt",
            "--tree",
            "t=/app",
        ],
        p,
    );
}

#[test]
fn rejects_whiteouts_non_utf8_and_special_files_in_trees() {
    use std::os::unix::ffi::OsStrExt;
    let d = tmp();
    let p = d.path();
    write(&p.join("w/.wh.gone"), b"", 0o644);
    let err = fails(
        &[
            "layer",
            "--output",
            "o",
            "--descriptor",
            "o.json",
            "--tree",
            "w=/a",
        ],
        p,
    );
    assert!(err.contains(".wh.") && err.contains("/a/.wh.gone"), "{err}");
    fs::create_dir_all(p.join("n")).unwrap();
    fs::write(
        p.join("n")
            .join(std::ffi::OsStr::from_bytes(b"bad\xffname.py")),
        b"",
    )
    .unwrap();
    let err = fails(
        &[
            "layer",
            "--output",
            "o",
            "--descriptor",
            "o.json",
            "--tree",
            "n=/a",
        ],
        p,
    );
    assert!(
        err.contains("not valid UTF-8") && err.contains("bad"),
        "{err}"
    );
    fs::create_dir_all(p.join("f")).unwrap();
    sh("mkfifo f/pipe", p);
    let err = fails(
        &[
            "layer",
            "--output",
            "o",
            "--descriptor",
            "o.json",
            "--tree",
            "f=/a",
        ],
        p,
    );
    assert!(err.contains("f/pipe") && err.contains("fifo"), "{err}");
    assert!(fs::read_dir(p).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with(".o")));
}

#[test]
fn usage_errors_exit_2_and_bad_values_exit_1() {
    let d = tmp();
    let out = pyimage().args(["layer", "--bogus"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    write(&d.path().join("f"), b"", 0o644);
    for bad in [
        vec!["--level", "12"],
        vec!["--compression", "zstd", "--level", "0"],
        vec!["--owner", "root:root"],
        vec!["--prefix", "rel"],
        vec!["--package", "==1"],
    ] {
        let mut args = vec![
            "layer",
            "--output",
            "o",
            "--descriptor",
            "o.json",
            "--tree",
            "f=/f",
        ];
        args.extend(bad.iter());
        fails(&args, d.path());
    }
}

#[test]
fn failed_runs_leave_old_outputs_untouched_and_no_temp_files() {
    let d = tmp();
    let p = d.path();
    write(&p.join("t/a.py"), b"a", 0o644);
    ok(
        &[
            "layer",
            "--output",
            "o",
            "--descriptor",
            "o.json",
            "--tree",
            "t=/a",
        ],
        p,
    );
    let before = fs::read(p.join("o")).unwrap();
    symlink("/nowhere", p.join("t/bad")).unwrap();
    fails(
        &[
            "layer",
            "--output",
            "o",
            "--descriptor",
            "o.json",
            "--tree",
            "t=/a",
        ],
        p,
    );
    assert_eq!(fs::read(p.join("o")).unwrap(), before);
    let leftovers: Vec<_> = fs::read_dir(p)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn merge_concatenates_without_recompressing() {
    let d = tmp();
    let p = d.path();
    for c in ["gzip", "zstd", "none"] {
        let mut inputs = Vec::new();
        for (i, pkg) in ["alpha", "beta", "gamma"].iter().enumerate() {
            write(
                &p.join(format!("{pkg}/{pkg}/__init__.py")),
                format!("# {pkg}\n").repeat(i + 1).as_bytes(),
                0o644,
            );
            write(
                &p.join(format!("{pkg}/{pkg}-1.0.dist-info/METADATA")),
                b"Name: x\n",
                0o644,
            );
            let name = format!("{pkg}.{c}");
            layer(
                p,
                &name,
                &[
                    "--tree",
                    &format!("{pkg}=/app/site"),
                    "--compression",
                    c,
                    "--package",
                    &format!("{pkg}==1.{i}"),
                ],
            );
            inputs.push(format!("{name}.blob={name}.json"));
        }
        let mut args = vec![
            "merge",
            "--output",
            "m.blob",
            "--descriptor",
            "m.json",
            "--name",
            "web",
        ];
        args.extend(inputs.iter().map(String::as_str));
        ok(&args, p);
        let desc = descriptor(&p.join("m.json"));
        assert_eq!(desc["name"], "web");
        assert_eq!(desc["digest"], sha256_file(&p.join("m.blob")));
        let tar = decompress(&p.join("m.blob"), c);
        use sha2::{Digest, Sha256};
        assert_eq!(
            desc["diff_id"],
            format!("sha256:{}", hex::encode(Sha256::digest(&tar)))
        );
        assert_eq!(desc["uncompressed_size"], tar.len() as u64);
        // the blob is the inputs' prefixes plus one end-of-archive member
        let mut expect = Vec::new();
        for pkg in ["alpha", "beta", "gamma"] {
            let name = format!("{pkg}.{c}");
            let dd = descriptor(&p.join(format!("{name}.json")));
            assert_eq!(dd["files"], 2);
            let b = fs::read(p.join(format!("{name}.blob"))).unwrap();
            expect.extend_from_slice(&b[..dd["eoa_offset"].as_u64().unwrap() as usize]);
        }
        let eoa_len = {
            let dd = descriptor(&p.join(format!("alpha.{c}.json")));
            dd["size"].as_u64().unwrap() - dd["eoa_offset"].as_u64().unwrap()
        };
        let got = fs::read(p.join("m.blob")).unwrap();
        assert_eq!(&got[..expect.len()], &expect[..]);
        assert_eq!(got.len() as u64, expect.len() as u64 + eoa_len);
        assert_eq!(desc["eoa_offset"], expect.len() as u64);
        assert_eq!(desc["entries"], 15); // app/site/ once per input
        assert_eq!(desc["files"], 6);
        let pk: Vec<String> = desc["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                format!(
                    "{}=={}",
                    p["name"].as_str().unwrap(),
                    p["version"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(pk, vec!["alpha==1.0", "beta==1.1", "gamma==1.2"]);
        // merge of a merge works too
        write(&p.join("delta/delta.py"), b"d", 0o644);
        let dn = format!("delta.{c}");
        layer(p, &dn, &["--tree", "delta=/app/d", "--compression", c]);
        let second = format!("{dn}.blob={dn}.json");
        ok(
            &[
                "merge",
                "--output",
                "mm.blob",
                "--descriptor",
                "mm.json",
                "m.blob=m.json",
                &second,
            ],
            p,
        );
        let mm = descriptor(&p.join("mm.json"));
        assert_eq!(mm["entries"], 17);
        assert!(mm.get("name").is_none());
        let names = sh("tar -tf mm.blob 2>/dev/null || bsdtar -tf mm.blob", p);
        assert_eq!(names.lines().count(), 17, "{names}");
    }
}

#[test]
fn merge_rejects_duplicates_mixed_compression_and_stale_descriptors() {
    let d = tmp();
    let p = d.path();
    write(&p.join("a/x.py"), b"a", 0o644);
    write(&p.join("b/x.py"), b"b", 0o644);
    layer(p, "a", &["--tree", "a=/app"]);
    layer(p, "b", &["--tree", "b=/app"]);
    layer(p, "z", &["--tree", "b=/other", "--compression", "zstd"]);
    let err = fails(
        &[
            "merge",
            "--output",
            "m",
            "--descriptor",
            "m.json",
            "a.blob=a.json",
            "b.blob=b.json",
        ],
        p,
    );
    assert!(
        err.contains("duplicate path /app/x.py")
            && err.contains("a.blob")
            && err.contains("b.blob"),
        "{err}"
    );
    assert!(!p.join("m").exists() && !p.join("m.json").exists());
    let err = fails(
        &[
            "merge",
            "--output",
            "m",
            "--descriptor",
            "m.json",
            "a.blob=a.json",
            "z.blob=z.json",
        ],
        p,
    );
    assert!(err.contains("one compression"), "{err}");
    let err = fails(
        &[
            "merge",
            "--output",
            "m",
            "--descriptor",
            "m.json",
            "a.blob=b.json",
            "z.blob=a.json",
        ],
        p,
    );
    assert!(err.contains("size") || err.contains("compression"), "{err}");
    fs::write(p.join("bad.json"), "{}").unwrap();
    let err = fails(
        &[
            "merge",
            "--output",
            "m",
            "--descriptor",
            "m.json",
            "a.blob=bad.json",
        ],
        p,
    );
    assert!(err.contains("bad.json"), "{err}");
    let out = pyimage()
        .args(["merge", "--output", "m", "--descriptor", "m.json"])
        .current_dir(p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn materialized_directories_follow_directory_filters() {
    let d = tmp();
    let p = d.path();
    write(&p.join("outside/dir/lib.so"), b"so", 0o755);
    write(&p.join("outside/dir/x.py"), b"x", 0o644);
    write(&p.join("outside/cache/m.pyc"), b"c", 0o644);
    write(&p.join("t/pkg/own.so"), b"own", 0o755);
    let abs = fs::canonicalize(p.join("outside")).unwrap();
    symlink(abs.join("dir"), p.join("t/pkg/linked")).unwrap();
    symlink(abs.join("cache"), p.join("t/pkg/__pycache__")).unwrap();
    ok(
        &[
            "layer",
            "--output",
            "o",
            "--descriptor",
            "o.json",
            "--tree",
            "t=/a",
            "--external-symlinks",
            "materialize",
            "--include",
            "**/*.so",
        ],
        p,
    );
    assert_eq!(
        names(&list(p, "o")),
        vec![
            "a/",
            "a/pkg/",
            "a/pkg/linked/",
            "a/pkg/linked/lib.so",
            "a/pkg/own.so"
        ]
    );
    ok(
        &[
            "layer",
            "--output",
            "o",
            "--descriptor",
            "o.json",
            "--tree",
            "t=/a",
            "--external-symlinks",
            "materialize",
            "--exclude",
            "pkg/linked",
        ],
        p,
    );
    assert_eq!(names(&list(p, "o")), vec!["a/", "a/pkg/", "a/pkg/own.so"]);
}

#[test]
fn hardlinks_become_regular_files() {
    let d = tmp();
    let p = d.path();
    write(&p.join("t/a.py"), b"shared\n", 0o644);
    fs::hard_link(p.join("t/a.py"), p.join("t/b.py")).unwrap();
    ok(
        &[
            "layer",
            "--output",
            "o",
            "--descriptor",
            "o.json",
            "--tree",
            "t=/h",
        ],
        p,
    );
    let l = list(p, "o");
    assert!(l.contains("-rw-r--r-- 0/0          7 h/a.py\n"), "{l}");
    assert!(l.contains("-rw-r--r-- 0/0          7 h/b.py\n"), "{l}");
    require("tar");
    sh("mkdir x && tar -xf o -C x && cmp x/h/a.py x/h/b.py", p);
    assert_eq!(
        fs::metadata(p.join("x/h/a.py"))
            .map(|m| std::os::unix::fs::MetadataExt::nlink(&m))
            .unwrap(),
        1
    );
}

#[test]
fn manifest_bytecode_is_dropped_unless_keep_pyc() {
    let d = tmp();
    let p = d.path();
    write(&p.join("m.py"), b"x = 1\n", 0o644);
    write(&p.join("m.pyc"), b"\x00bytecode", 0o644);
    fs::write(
        p.join("manifest"),
        "file\t/app/pkg/m.py\tm.py\n\
         file\t/app/pkg/__pycache__/m.cpython-311.pyc\tm.pyc\n\
         file\t/app/pkg/old.pyc\tm.pyc\n\
         dir\t/app/pkg/__pycache__\n",
    )
    .unwrap();
    let desc = layer(p, "dropped", &["--manifest", "manifest"]);
    assert_eq!(names(&list(p, "dropped.blob")), vec!["app/pkg/m.py"]);
    assert_eq!(desc["skipped"], 3);
    layer(p, "kept", &["--manifest", "manifest", "--keep-pyc"]);
    assert_eq!(
        names(&list(p, "kept.blob")),
        vec![
            "app/pkg/__pycache__/",
            "app/pkg/__pycache__/m.cpython-311.pyc",
            "app/pkg/m.py",
            "app/pkg/old.pyc"
        ]
    );
}

#[test]
fn manifest_data_entries_are_never_executable() {
    let d = tmp();
    let p = d.path();
    write(&p.join("mapping"), b",main,_main\n", 0o755);
    fs::write(
        p.join("manifest"),
        "data\t/app/.runfiles/_repo_mapping\tmapping\nfile\t/app/as_is\tmapping\n",
    )
    .unwrap();
    layer(p, "data", &["--manifest", "manifest"]);
    let listing = list(p, "data.blob");
    let modes: Vec<(&str, &str)> = listing
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[0], f[3])
        })
        .collect();
    assert_eq!(
        modes,
        vec![
            ("-rw-r--r--", "app/.runfiles/_repo_mapping"),
            ("-rw-r--r--", "app/as_is")
        ],
        "{listing}"
    );
}

#[test]
fn generated_entries_keep_symlink_artifacts_and_follow_staged_files() {
    let d = tmp();
    let p = d.path();
    // as Bazel stages an action's inputs in its sandbox: a symlink artifact keeps its own
    // relative target; a generated file is an absolute link to the execroot (or no link)
    write(
        &p.join("execroot/out/gen.py"),
        b"#!/usr/bin/env python3\n",
        0o644,
    );
    write(&p.join("out/plain.txt"), b"plain\n", 0o644);
    symlink(p.join("execroot/out/gen.py"), p.join("out/gen.py")).unwrap();
    symlink("python3.11", p.join("out/python3")).unwrap();
    fs::write(
        p.join("m.txt"),
        "generated\tbin/python3\tout/python3\n\
         generated\tbin/gen.py\tout/gen.py\n\
         generated\tbin/plain.txt\tout/plain.txt\n",
    )
    .unwrap();
    layer(p, "g", &["--manifest", "m.txt", "--prefix", "/app"]);
    let l = list(p, "g.blob");
    for want in [
        "lrwxrwxrwx 0/0          0 app/bin/python3 -> python3.11",
        "-rwxr-xr-x 0/0         23 app/bin/gen.py",
        "-rw-r--r-- 0/0          6 app/bin/plain.txt",
    ] {
        assert!(l.lines().any(|x| x == want), "missing {want:?} in\n{l}");
    }
    // a symlink artifact climbing above the image root is refused, naming it
    symlink("../../../../etc/passwd", p.join("out/escape")).unwrap();
    fs::write(p.join("m2.txt"), "generated\tbin/escape\tout/escape\n").unwrap();
    let err = fails(
        &[
            "layer",
            "--output",
            "o",
            "--descriptor",
            "o.json",
            "--manifest",
            "m2.txt",
            "--prefix",
            "/app",
        ],
        p,
    );
    assert!(
        err.contains("/app/bin/escape") && err.contains("climbs above the image root"),
        "{err}"
    );
}
