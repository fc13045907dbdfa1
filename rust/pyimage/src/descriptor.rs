//! The descriptor JSON written next to every layer (see `docs/tool.md`), and atomic output.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};

/// Current descriptor schema version.
pub const SCHEMA: u32 = 1;

/// One pip distribution's share of a layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// Distribution name as given to `--package`.
    pub name: String,
    /// Version as given to `--package NAME==VERSION`; `""` when unknown.
    #[serde(default)]
    pub version: String,
    /// Regular files attributed to the package.
    pub files: u64,
    /// Content bytes of those files.
    pub bytes: u64,
}

/// The descriptor of one layer blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Descriptor {
    /// Schema version (1).
    pub schema: u32,
    /// Group name (`merge --name`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// OCI media type of the blob.
    pub media_type: String,
    /// `none`, `gzip` or `zstd`.
    pub compression: String,
    /// `sha256:<hex>` of the blob.
    pub digest: String,
    /// Blob size in bytes.
    pub size: u64,
    /// `sha256:<hex>` of the uncompressed tar.
    pub diff_id: String,
    /// Offset in the blob of the member/frame (or, uncompressed, the blocks) holding the
    /// end-of-archive marker.
    pub eoa_offset: u64,
    /// Tar entries (PAX extended headers not counted).
    pub entries: u64,
    /// Regular files among the entries.
    pub files: u64,
    /// Uncompressed tar size (end-of-archive included).
    pub uncompressed_size: u64,
    /// Entries dropped by `--skip-prefix`.
    #[serde(default)]
    pub skipped: u64,
    /// Per-package attribution.
    #[serde(default)]
    pub packages: Vec<Package>,
}

impl Descriptor {
    /// Reads and checks a descriptor file.
    pub fn read(path: &Path) -> Result<Self> {
        let text = fs::read_to_string(path).at(path)?;
        let d: Descriptor = serde_json::from_str(&text).map_err(|e| Error::BadDescriptor {
            path: path.to_path_buf(),
            msg: e.to_string(),
        })?;
        if d.schema != SCHEMA {
            return Err(Error::BadDescriptor {
                path: path.to_path_buf(),
                msg: format!("unsupported schema {} (expected {SCHEMA})", d.schema),
            });
        }
        if d.eoa_offset > d.size {
            return Err(Error::BadDescriptor {
                path: path.to_path_buf(),
                msg: format!(
                    "eoa_offset {} is past the blob size {}",
                    d.eoa_offset, d.size
                ),
            });
        }
        Ok(d)
    }

    /// Serialises with a trailing newline (field order fixed by the struct).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("descriptor serialises");
        s.push('\n');
        s
    }

    /// Writes the descriptor atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut out = AtomicFile::create(path)?;
        out.file().write_all(self.to_json().as_bytes()).at(path)?;
        out.commit()
    }
}

/// Formats a digest as `sha256:<hex>`.
pub fn sha256_string(d: &[u8; 32]) -> String {
    format!("sha256:{}", hex::encode(d))
}

/// Sorts packages by (name, version) and adds up duplicates.
pub fn aggregate_packages(pkgs: impl IntoIterator<Item = Package>) -> Vec<Package> {
    let mut map: std::collections::BTreeMap<(String, String), (u64, u64)> = Default::default();
    for p in pkgs {
        let e = map.entry((p.name, p.version)).or_default();
        e.0 += p.files;
        e.1 += p.bytes;
    }
    map.into_iter()
        .map(|((name, version), (files, bytes))| Package {
            name,
            version,
            files,
            bytes,
        })
        .collect()
}

/// A file written under a temporary name in the destination's directory and renamed into
/// place by [`AtomicFile::commit`]; removed if dropped before that.
#[derive(Debug)]
pub struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    file: Option<File>,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl AtomicFile {
    /// Creates the temporary file next to `dest`.
    pub fn create(dest: &Path) -> Result<Self> {
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = dest
            .file_name()
            .ok_or_else(|| Error::Invalid(format!("{}: not a file path", dest.display())))?;
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let mut tmp_name = std::ffi::OsString::from(".");
            tmp_name.push(name);
            tmp_name.push(format!(".tmp{}.{n}", std::process::id()));
            let tmp = dir.join(tmp_name);
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)
            {
                Ok(file) => {
                    return Ok(AtomicFile {
                        tmp,
                        dest: dest.to_path_buf(),
                        file: Some(file),
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io(dest, e)),
            }
        }
    }

    /// The open temporary file.
    pub fn file(&mut self) -> &mut File {
        self.file.as_mut().expect("file open")
    }

    /// Takes the file out (to hand to writer threads); give it back with [`Self::put_back`].
    pub fn take(&mut self) -> File {
        self.file.take().expect("file open")
    }

    /// Returns a file taken with [`Self::take`].
    pub fn put_back(&mut self, f: File) {
        self.file = Some(f);
    }

    /// The final path.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Closes and renames the file into place.
    pub fn commit(mut self) -> Result<()> {
        // no fsync: the rename is atomic for readers; durability across a power loss is
        // Bazel's concern (it re-runs actions whose outputs are missing or damaged)
        drop(self.file.take());
        // Remove an old output first: ext4 (auto_da_alloc) flushes a file renamed over an
        // existing one to disk synchronously, which made overwriting runs slower than fresh
        // ones. Readers still see the old file, no file, or the complete new one.
        match fs::remove_file(&self.dest) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&self.dest, e)),
        }
        fs::rename(&self.tmp, &self.dest).at(&self.dest)?;
        self.tmp = PathBuf::new();
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}
