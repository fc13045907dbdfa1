//! The descriptor JSON written next to every layer (see `docs/tool.md`): the one type that
//! `layer` and `merge` write and every command reads.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::atomic::write_file;
use crate::compress::Compression;
use crate::error::{read_text, Error, Result};

/// Current descriptor schema version.
pub(crate) const SCHEMA: u32 = 1;

/// One pip distribution's share of a layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Package {
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
pub(crate) struct Descriptor {
    /// Schema version (1).
    pub schema: u32,
    /// Group name (`merge --name`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// OCI media type of the blob.
    pub media_type: String,
    /// `none`, `gzip` or `zstd`.
    pub compression: Compression,
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
    pub(crate) fn read(path: &Path) -> Result<Self> {
        let text = read_text(path)?;
        let d: Descriptor = serde_json::from_str(&text).map_err(|cause| Error::Json {
            path: path.to_path_buf(),
            cause,
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
    pub(crate) fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("descriptor serialises");
        s.push('\n');
        s
    }

    /// Writes the descriptor atomically.
    pub(crate) fn write(&self, path: &Path) -> Result<()> {
        write_file(path, self.to_json().as_bytes())
    }
}

/// Formats a digest as `sha256:<hex>`.
pub(crate) fn sha256_string(d: &[u8; 32]) -> String {
    format!("sha256:{}", hex::encode(d))
}

/// Sorts packages by (name, version) and adds up duplicates.
pub(crate) fn aggregate_packages(pkgs: impl IntoIterator<Item = Package>) -> Vec<Package> {
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
