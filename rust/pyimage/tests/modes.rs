//! A layer's bytes never depend on the mode its inputs have on disk: Bazel stages inputs
//! 0644 locally and 0755 under remote execution, for the same action. Modes come from the
//! manifest kind and from the content (see docs/determinism.md, "File modes").

mod common;

use std::fs;
use std::path::Path;

use common::*;

/// Sources covering each mode rule; large ones take the streamed (not read-ahead) path.
fn sources() -> Vec<(&'static str, Vec<u8>)> {
    let mut elf_big = b"\x7fELF\x02\x01\x01".to_vec();
    elf_big.resize(300 * 1024, 3);
    let mut plain_big = vec![b'#'; 300 * 1024];
    plain_big[1] = b' ';
    vec![
        ("mod.py", b"print('hello')\n".to_vec()),
        ("script", b"#!/usr/bin/env python3\nprint(1)\n".to_vec()),
        ("_native.so", b"\x7fELF\x02\x01\x01\x00rest".to_vec()),
        ("big_native.so", elf_big),
        ("big.txt", plain_big),
        ("empty.txt", Vec::new()),
    ]
}

/// Writes the sources with `mode` under `dir/src` and builds one layer from a tree and a
/// manifest of every file-like kind; returns the uncompressed tar bytes.
fn layer_with_modes(dir: &Path, mode: u32) -> Vec<u8> {
    let mut manifest = String::new();
    for (name, content) in sources() {
        write(&dir.join("src").join(name), &content, mode);
        manifest += &format!("file\t/app/file/{name}\tsrc/{name}\n");
        manifest += &format!("data\t/app/data/{name}\tsrc/{name}\n");
        manifest += &format!("exec\t/app/exec/{name}\tsrc/{name}\n");
    }
    fs::write(dir.join("m.txt"), manifest).unwrap();
    ok(
        &[
            "layer",
            "--output",
            "l.tar",
            "--descriptor",
            "l.json",
            "--compression",
            "none",
            "--tree",
            "src=/app/tree",
            "--manifest",
            "m.txt",
        ],
        dir,
    );
    fs::read(dir.join("l.tar")).unwrap()
}

#[test]
fn same_bytes_whatever_the_staged_mode() {
    let (a, b, c) = (tmp(), tmp(), tmp());
    let local = layer_with_modes(a.path(), 0o644);
    let remote = layer_with_modes(b.path(), 0o755);
    let odd = layer_with_modes(c.path(), 0o500);
    assert!(
        local == remote,
        "a source staged 0755 changed the layer bytes"
    );
    assert!(local == odd, "a source staged 0500 changed the layer bytes");
}

#[test]
fn modes_come_from_kind_and_content() {
    let d = tmp();
    layer_with_modes(d.path(), 0o755);
    let listing = ok(&["list", "l.tar"], d.path());
    let mode_of = |path: &str| -> String {
        let line = listing
            .lines()
            .find(|l| l.ends_with(&format!(" {path}")))
            .unwrap_or_else(|| panic!("{path} missing in\n{listing}"));
        line[..10].to_string()
    };
    for dir in ["app/file", "app/tree"] {
        assert_eq!(mode_of(&format!("{dir}/mod.py")), "-rw-r--r--");
        assert_eq!(mode_of(&format!("{dir}/script")), "-rwxr-xr-x");
        assert_eq!(mode_of(&format!("{dir}/_native.so")), "-rwxr-xr-x");
        assert_eq!(mode_of(&format!("{dir}/big_native.so")), "-rwxr-xr-x");
        assert_eq!(mode_of(&format!("{dir}/big.txt")), "-rw-r--r--");
        assert_eq!(mode_of(&format!("{dir}/empty.txt")), "-rw-r--r--");
    }
    for (name, _) in sources() {
        assert_eq!(mode_of(&format!("app/data/{name}")), "-rw-r--r--");
        assert_eq!(mode_of(&format!("app/exec/{name}")), "-rwxr-xr-x");
    }
    assert_eq!(mode_of("app/tree/"), "drwxr-xr-x");
}
