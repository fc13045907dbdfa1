//! The descriptor JSON written next to every layer (see `docs/tool.md`): the one type that
//! `layer` and `merge` write and every command reads.

use std::path::Path;

use serde::{Deserialize, Serialize};

use std::io::Write;

use crate::atomic::{commit_described, AtomicFile};
use crate::compress::Compression;
use crate::error::{read_text, Error, IoContext, Result};

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
        let d: Descriptor = strict_json(&text, path, "descriptor")?;
        if d.schema != SCHEMA {
            return Err(Error::BadDescriptor {
                path: path.to_path_buf(),
                msg: format!("unsupported schema {} (expected {SCHEMA})", d.schema),
            });
        }
        d.check_ranges(path)?;
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

    /// Refuses sizes and counts above [`MAX_JSON_NUMBER`], so that totals over many
    /// descriptors cannot wrap around.
    fn check_ranges(&self, path: &Path) -> Result<()> {
        let mut fields = vec![
            ("size", self.size),
            ("eoa_offset", self.eoa_offset),
            ("entries", self.entries),
            ("files", self.files),
            ("uncompressed_size", self.uncompressed_size),
            ("skipped", self.skipped),
        ];
        for p in &self.packages {
            fields.push(("packages[].files", p.files));
            fields.push(("packages[].bytes", p.bytes));
        }
        match fields.into_iter().find(|(_, v)| *v > MAX_JSON_NUMBER) {
            Some((field, v)) => Err(Error::BadDescriptor {
                path: path.to_path_buf(),
                msg: format!("{field} {v} is out of range (valid: 0..={MAX_JSON_NUMBER})"),
            }),
            None => Ok(()),
        }
    }

    /// Serialises with a trailing newline (field order fixed by the struct).
    pub(crate) fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("descriptor serialises");
        s.push('\n');
        s
    }

    /// Puts `blob` and this descriptor (at `path`) in place together: the descriptor is
    /// written completely under a temporary name first, then committed with
    /// [`commit_described`], so no descriptor is ever in place beside a blob it does not
    /// describe (also when a rename fails or the run is terminated).
    pub(crate) fn commit_with(&self, path: &Path, blob: AtomicFile) -> Result<()> {
        let mut desc = AtomicFile::create(path)?;
        desc.file().write_all(self.to_json().as_bytes()).at(path)?;
        commit_described(blob, desc)
    }
}

/// Largest size or count accepted in a descriptor or plan: 2^53, the largest integer every
/// JSON reader holds exactly, and small enough that sums over a million layers cannot wrap.
pub(crate) const MAX_JSON_NUMBER: u64 = 1 << 53;

/// Parses `text` as one JSON object of type `T`; anything else (an array, a number, ...) is
/// refused naming `path` and `what` (serde would read a struct from an array). Parsed
/// straight from the text, so visitors that keep object order or catch repeated keys work.
pub(crate) fn strict_json<T: serde::de::DeserializeOwned>(
    text: &str,
    path: &Path,
    what: &str,
) -> Result<T> {
    let first = text.trim_start().chars().next();
    if first.is_some_and(|c| c != '{') {
        let found = match first {
            Some('[') => "an array",
            Some('"') => "a string",
            Some('t' | 'f') => "a boolean",
            Some('n') => "null",
            _ => "a number",
        };
        return Err(Error::Invalid(format!(
            "{}: a {what} must be a JSON object, found {found}",
            path.display()
        )));
    }
    serde_json::from_str(text).map_err(|cause| Error::Json {
        path: path.to_path_buf(),
        cause,
    })
}

/// Adds `value` to `total`, or fails naming what would overflow it (`what`): totals over
/// inputs are checked, never wrapped (release builds wrap silently) nor clamped.
pub(crate) fn add_checked(
    total: &mut u64,
    value: u64,
    what: impl FnOnce() -> String,
) -> Result<()> {
    *total = total.checked_add(value).ok_or_else(|| {
        Error::Invalid(format!(
            "{}: adding it makes a total larger than {} (2^64 - 1); check the input, or give fewer inputs to one run",
            what(),
            u64::MAX
        ))
    })?;
    Ok(())
}

/// Checks that the sizes and counts of `descriptors` (with the paths they were read from)
/// add up without overflow, so every total over any of them can be summed unchecked.
pub(crate) fn check_descriptor_totals<'a>(
    descriptors: impl IntoIterator<Item = (&'a Path, &'a Descriptor)>,
) -> Result<()> {
    let mut totals = [0u64; 7];
    for (path, d) in descriptors {
        let package_files = d.packages.iter().map(|p| p.files);
        let package_bytes = d.packages.iter().map(|p| p.bytes);
        let fields = [
            ("size", d.size),
            ("entries", d.entries),
            ("files", d.files),
            ("uncompressed_size", d.uncompressed_size),
            ("skipped", d.skipped),
        ];
        for (i, (field, v)) in fields.into_iter().enumerate() {
            add_checked(&mut totals[i], v, || {
                format!("{}: {field} {v}", path.display())
            })?;
        }
        for (i, values) in [
            (5, package_files.collect::<Vec<_>>()),
            (6, package_bytes.collect()),
        ] {
            for v in values {
                add_checked(&mut totals[i], v, || {
                    format!(
                        "{}: packages[].{} {v}",
                        path.display(),
                        if i == 5 { "files" } else { "bytes" }
                    )
                })?;
            }
        }
    }
    Ok(())
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
