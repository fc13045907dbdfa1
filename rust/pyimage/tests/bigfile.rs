//! A file of 8 GiB + 100 bytes (sparse on disk) must be written with a PAX `size` record and
//! read back with the right size by GNU tar and by `pyimage list`.
//!
//! It streams 8 GiB of zeros three times (write, `pyimage list`, GNU tar), which takes tens of
//! seconds; it runs in every `cargo test` all the same, because a size field that only the
//! unit tests in `src/tarfmt.rs` (`huge_size_uses_pax_size_record`) cover is not proof that
//! the streaming paths, the hashing and the readers agree past 8 GiB.

mod common;

use std::fs;

use common::*;

#[test]
fn file_over_8_gib_gets_a_pax_size_record() {
    let d = tmp();
    let p = d.path();
    fs::create_dir_all(p.join("t")).unwrap();
    let size: u64 = 8 * 1024 * 1024 * 1024 + 100;
    let f = fs::File::create(p.join("t/huge.bin")).unwrap();
    f.set_len(size)
        .expect("the temp file system must hold a sparse 8 GiB file (set TMPDIR elsewhere)");
    drop(f);
    ok(
        &[
            "layer",
            "--output",
            "h.zst",
            "--descriptor",
            "h.json",
            "--tree",
            "t=/big",
            "--compression",
            "zstd",
            "--level",
            "1",
        ],
        p,
    );
    let desc = descriptor(&p.join("h.json"));
    assert_eq!(
        desc["uncompressed_size"],
        size + 512 * 3 + 512 + 512 * 2 + 412
    );
    let listing = ok(&["list", "h.zst"], p);
    assert!(
        listing.contains(&format!("{size} big/huge.bin")),
        "{listing}"
    );
    require("tar");
    require("zstd");
    let v = sh("zstd -qdc h.zst | tar -tvf -", p);
    assert!(v.contains(&format!("{size}")), "{v}");
}
