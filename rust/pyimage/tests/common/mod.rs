//! Shared helpers of the layer/merge/list integration tests.
#![allow(dead_code)]

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

/// The `pyimage` binary under test.
pub fn pyimage() -> Command {
    Command::cargo_bin("pyimage").expect("pyimage binary")
}

/// Runs pyimage and asserts success; returns stdout.
pub fn ok(args: &[&str], cwd: &Path) -> String {
    let out = pyimage().args(args).current_dir(cwd).output().unwrap();
    assert!(
        out.status.success(),
        "pyimage {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs pyimage, asserts exit code 1, returns stderr.
pub fn fails(args: &[&str], cwd: &Path) -> String {
    let out = pyimage().args(args).current_dir(cwd).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(
        out.status.code(),
        Some(1),
        "pyimage {args:?}: expected exit 1, stderr: {err}"
    );
    err
}

/// Requires an external tool; fails (never skips) when it is missing.
pub fn require(tool: &str) {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "required tool `{tool}` is not installed (apt-get install tar libarchive-tools python3 zstd gzip)"
    );
}

/// Runs a shell command, asserting success; returns stdout.
pub fn sh(cmd: &str, cwd: &Path) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .current_dir(cwd)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "`{cmd}` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// Writes a file, creating parents, with the given mode.
pub fn write(path: &Path, content: &[u8], mode: u32) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// A 101+ and a 256+ byte name component chain.
pub fn long_dir() -> String {
    format!("{}/{}", "d".repeat(120), "e".repeat(140))
}

/// Builds the standard test tree under `root` (modes from `file_mode`/`exec_mode`).
pub fn make_tree(root: &Path, file_mode: u32, exec_mode: u32) {
    write(&root.join("pkg/__init__.py"), b"", file_mode);
    write(&root.join("pkg/mod.py"), b"print('hello')\n", file_mode);
    write(
        &root.join("pkg/tool.sh"),
        b"#!/bin/sh\necho hi\n",
        exec_mode,
    );
    write(&root.join("pkg/data/blob.bin"), &[7u8; 3000], file_mode);
    // an extension module: ELF content is what makes it 0755 in a layer
    let mut native = b"\x7fELF".to_vec();
    native.resize(700, 1);
    write(&root.join("pkg/lib/_native.so"), &native, exec_mode);
    write(
        &root.join("pkg/__pycache__/mod.cpython-311.pyc"),
        b"pyc",
        file_mode,
    );
    write(&root.join("pkg/stale.pyc"), b"pyc", file_mode);
    let long = long_dir();
    write(
        &root.join(format!("pkg/{long}/{}.py", "f".repeat(200))),
        b"x = 1\n",
        file_mode,
    );
    fs::create_dir_all(root.join("pkg/empty")).unwrap();
    symlink("mod.py", root.join("pkg/alias.py")).unwrap();
    // a link target too long for the ustar header (a PAX `linkpath`), to an existing entry
    symlink(format!("../{long}"), root.join("pkg/data/longlink")).unwrap();
    for d in ["pkg", "pkg/data", "pkg/lib", "pkg/empty", "pkg/__pycache__"] {
        fs::set_permissions(root.join(d), fs::Permissions::from_mode(exec_mode)).unwrap();
    }
}

/// Reads a descriptor.
pub fn descriptor(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

/// sha256 of a file as `sha256:<hex>`.
pub fn sha256_file(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    format!(
        "sha256:{}",
        hex::encode(Sha256::digest(fs::read(path).unwrap()))
    )
}

/// Decompresses a blob with the system tools.
pub fn decompress(path: &Path, compression: &str) -> Vec<u8> {
    let cmd = match compression {
        "gzip" => "gzip -dc",
        "zstd" => "zstd -qdc",
        _ => "cat",
    };
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("{cmd} '{}'", path.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{cmd} failed on {}", path.display());
    out.stdout
}

/// A fresh temp dir.
pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Path as &str.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `dir/name` as a PathBuf.
pub fn at(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}
