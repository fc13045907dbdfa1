//! The base image below our layers: how many layers it has, read from the image itself.
//!
//! Accepted forms (see `docs/oci.md`): an OCI image layout directory (`index.json`,
//! `oci-layout`, `blobs/<alg>/<hex>`; what an `oci_image` target outputs), the same layout
//! as a tar (an OCI archive), a `docker save` tarball (`manifest.json`), or a directory
//! holding an extracted `docker save`. Tars may be gzip- or zstd-compressed. Only JSON
//! documents are read (manifests, indexes, configs); layer blobs are never decompressed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};
use crate::list::sniff_compression;
use crate::merge::open_decompressed;
use crate::tarfmt::TarReader;

/// Largest JSON document read from a base image (registries refuse manifests above 4 MiB).
const MAX_JSON_BYTES: u64 = 4 << 20;
/// Largest total of JSON documents kept from one archive.
const MAX_KEPT_BYTES: u64 = 64 << 20;
/// Nested image indexes followed at most.
const MAX_INDEX_DEPTH: usize = 4;

/// What the base image may be, said in every error about its form.
const ACCEPTED: &str = "give an OCI image layout (a directory with index.json, oci-layout and \
blobs/, e.g. an oci_image target's output), an OCI archive (that layout as a tar) or a \
`docker save` tarball (manifest.json)";

/// A platform as OCI indexes name it: `os/architecture[/variant]`, normalised (`x86_64` is
/// `amd64`, `aarch64` is `arm64`, arm64's default variant `v8` and arm's `v7` are implied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Platform {
    os: String,
    architecture: String,
    variant: String,
}

impl Platform {
    fn new(os: &str, architecture: &str, variant: &str) -> Self {
        let architecture = match architecture.to_ascii_lowercase().as_str() {
            "x86_64" | "x86-64" => "amd64".to_string(),
            "aarch64" => "arm64".to_string(),
            "i386" | "i686" | "x86" => "386".to_string(),
            other => other.to_string(),
        };
        let variant = match (architecture.as_str(), variant.to_ascii_lowercase().as_str()) {
            ("arm64", "v8") | ("arm", "v7") => String::new(),
            (_, v) => v.to_string(),
        };
        Platform {
            os: os.to_ascii_lowercase(),
            architecture,
            variant,
        }
    }

    /// A platform field of an index or config; `None` when it names no os or architecture
    /// (`unknown/unknown` marks attestation manifests).
    fn from_json(p: &PlatformJson) -> Option<Self> {
        let unknown = |s: &str| s.is_empty() || s == "unknown";
        if unknown(&p.os) || unknown(&p.architecture) {
            return None;
        }
        Some(Platform::new(&p.os, &p.architecture, &p.variant))
    }
}

impl FromStr for Platform {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let parts: Vec<&str> = s.split('/').collect();
        if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.is_empty()) {
            return Err(Error::Invalid(format!(
                "--platform {s:?}: expected OS/ARCH or OS/ARCH/VARIANT, e.g. linux/amd64 or linux/arm/v7"
            )));
        }
        Ok(Platform::new(
            parts[0],
            parts[1],
            parts.get(2).copied().unwrap_or(""),
        ))
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if !self.variant.is_empty() {
            write!(f, "/{}", self.variant)?;
        }
        Ok(())
    }
}

/// How many layers the base image has and where that number comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BaseCount {
    /// Layers of the base image.
    pub layers: u64,
    /// `oci-layout`, `oci-archive` or `docker-archive` (read from the image at `path`);
    /// `base_layers` (the plan's number, the rule's attribute); `--base-layers`.
    pub source: String,
    /// The base image as given (read from an image only).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// Digest of the image manifest counted (OCI forms only).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub manifest: String,
    /// Platform of the image counted, when the index or its config names one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub platform: String,
}

impl BaseCount {
    /// A count given as a number (`source`: `base_layers` or `--base-layers`).
    pub(crate) fn given(layers: u64, source: &str) -> Self {
        BaseCount {
            layers,
            source: source.to_string(),
            path: String::new(),
            manifest: String::new(),
            platform: String::new(),
        }
    }

    /// Whether the count was read from an image.
    pub(crate) fn is_from_image(&self) -> bool {
        !self.path.is_empty()
    }

    /// One phrase for reports: `counted in the OCI layout PATH (linux/amd64, manifest
    /// sha256:0123456789ab)` or `given as base_layers`.
    pub(crate) fn describe(&self) -> String {
        if !self.is_from_image() {
            return format!("given as {}", self.source);
        }
        let form = match self.source.as_str() {
            "oci-layout" => "the OCI layout",
            "oci-archive" => "the OCI archive",
            _ => "the docker archive",
        };
        let mut details: Vec<String> = Vec::new();
        if !self.platform.is_empty() {
            details.push(self.platform.clone());
        }
        if !self.manifest.is_empty() {
            details.push(format!("manifest {}", short(&self.manifest)));
        }
        let details = if details.is_empty() {
            String::new()
        } else {
            format!(" ({})", details.join(", "))
        };
        format!("counted in {form} {}{details}", self.path)
    }
}

/// `sha256:` and the first 12 hex digits.
fn short(digest: &str) -> String {
    match digest.split_once(':') {
        Some((alg, hex)) => format!("{alg}:{}", &hex[..hex.len().min(12)]),
        None => digest.to_string(),
    }
}

/// Reads the base image at `path` and counts the layers of its image for `platform`
/// (needed only to pick from a multi-platform index).
pub(crate) fn read_base(path: &Path, platform: Option<&Platform>) -> Result<BaseCount> {
    let bad = |message: String| Error::BaseImage {
        path: path.to_path_buf(),
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let (store, archive) = if meta.is_dir() {
        (Store::Dir(path.to_path_buf()), false)
    } else if matches!(
        path.file_name().and_then(|n| n.to_str()),
        Some("index.json" | "manifest.json")
    ) {
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        (Store::Dir(dir), false)
    } else {
        (Store::from_tar(path).map_err(bad)?, true)
    };
    let mut count = if store.has("manifest.json") {
        docker_archive(&store, platform).map_err(bad)?
    } else if store.has("index.json") {
        let mut c = oci_layout(&store, platform).map_err(bad)?;
        if archive {
            c.source = "oci-archive".into();
        }
        c
    } else {
        return Err(bad(format!(
            "has neither index.json (OCI layout) nor manifest.json (docker save); {ACCEPTED}"
        )));
    };
    count.path = path.display().to_string();
    Ok(count)
}

/// The documents of a base image: files of a directory, or the JSON members of a tar.
enum Store {
    Dir(PathBuf),
    Tar {
        /// Members that are JSON documents (first byte `{` or `[`), by normalised name.
        json: BTreeMap<String, Vec<u8>>,
        /// Every regular member's normalised name.
        names: BTreeSet<String>,
    },
}

impl Store {
    /// Reads the JSON members of a tar (plain, gzip or zstd).
    fn from_tar(path: &Path) -> std::result::Result<Store, String> {
        let compression = sniff_compression(path).map_err(|e| e.to_string())?;
        let reader = open_decompressed(path, compression, u64::MAX).map_err(|e| e.to_string())?;
        let not_archive = |e: String| {
            format!("is neither a directory nor a tar archive we can read ({e}); {ACCEPTED}")
        };
        let mut tar = TarReader::new(reader);
        let (mut json, mut names, mut kept) = (BTreeMap::new(), BTreeSet::new(), 0u64);
        while let Some((entry, data)) = tar
            .next_entry_with(|e| e.size <= MAX_JSON_BYTES)
            .map_err(not_archive)?
        {
            let name = entry.path.trim_start_matches("./").to_string();
            let Some(data) = data else { continue };
            names.insert(name.clone());
            let first = data.iter().find(|b| !b.is_ascii_whitespace());
            if matches!(first, Some(b'{' | b'[')) {
                kept += data.len() as u64;
                if kept > MAX_KEPT_BYTES {
                    return Err(format!(
                        "holds more than {} MiB of JSON documents; {ACCEPTED}",
                        MAX_KEPT_BYTES >> 20
                    ));
                }
                json.insert(name, data);
            }
        }
        if names.is_empty() {
            return Err(not_archive("no files in it".into()));
        }
        Ok(Store::Tar { json, names })
    }

    fn has(&self, name: &str) -> bool {
        match self {
            Store::Dir(dir) => dir.join(name).is_file(),
            Store::Tar { names, .. } => names.contains(name),
        }
    }

    /// The bytes of a JSON document (`name` relative to the image's root).
    fn read(&self, name: &str) -> std::result::Result<Vec<u8>, String> {
        match self {
            Store::Dir(dir) => {
                let p = dir.join(name);
                let f = File::open(&p).map_err(|e| format!("cannot read {name}: {e}"))?;
                let mut data = Vec::new();
                f.take(MAX_JSON_BYTES + 1)
                    .read_to_end(&mut data)
                    .map_err(|e| format!("cannot read {name}: {e}"))?;
                if data.len() as u64 > MAX_JSON_BYTES {
                    return Err(format!(
                        "{name} is larger than {} MiB: not a manifest",
                        MAX_JSON_BYTES >> 20
                    ));
                }
                Ok(data)
            }
            Store::Tar { json, names } => match json.get(name) {
                Some(d) => Ok(d.clone()),
                None if names.contains(name) => Err(format!(
                    "{name} is not a JSON document of at most {} MiB",
                    MAX_JSON_BYTES >> 20
                )),
                None => Err(format!("{name} is missing from the archive")),
            },
        }
    }

    fn parse<T: serde::de::DeserializeOwned>(&self, name: &str) -> std::result::Result<T, String> {
        let data = self.read(name)?;
        serde_json::from_slice(&data).map_err(|e| format!("{name}: invalid JSON ({e})"))
    }

    /// The blob of `digest`, checked against it (sha256 and sha512).
    fn blob(&self, digest: &str) -> std::result::Result<(String, Vec<u8>), String> {
        let name = blob_name(digest)?;
        let data = self.read(&name).map_err(|e| {
            format!(
                "{e}; the index names {digest}, so the layout is incomplete: export the base again"
            )
        })?;
        let actual = match digest.split_once(':') {
            Some(("sha256", _)) => format!("sha256:{}", hex::encode(Sha256::digest(&data))),
            Some(("sha512", _)) => {
                format!("sha512:{}", hex::encode(sha2::Sha512::digest(&data)))
            }
            _ => digest.to_string(),
        };
        if actual != digest {
            return Err(format!(
                "{name} does not match its digest (its content hashes to {actual}): the layout is corrupt; export the base again"
            ));
        }
        Ok((name, data))
    }
}

/// `blobs/<alg>/<hex>` of a digest; anything but `sha256:`/`sha512:` with lower-case hex is
/// refused (a digest must not lead out of the layout).
fn blob_name(digest: &str) -> std::result::Result<String, String> {
    let ok = match digest.split_once(':') {
        Some(("sha256", hex)) => hex.len() == 64,
        Some(("sha512", hex)) => hex.len() == 128,
        _ => false,
    };
    let hex = digest.split_once(':').map_or("", |(_, h)| h);
    if !ok
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(format!(
            "invalid digest {digest:?} (expected sha256:<64 hex digits> or sha512:<128>)"
        ));
    }
    Ok(format!("blobs/{}", digest.replacen(':', "/", 1)))
}

/// `platform` of a descriptor, `os`/`architecture`/`variant` of a config.
#[derive(Debug, Default, Deserialize)]
struct PlatformJson {
    #[serde(default)]
    os: String,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    variant: String,
}

/// A descriptor in an index.
#[derive(Debug, Deserialize)]
struct Descriptor {
    digest: String,
    #[serde(default)]
    platform: Option<PlatformJson>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

/// An image index or an image manifest (which one: `manifests` or `layers` present).
#[derive(Debug, Deserialize)]
struct Document {
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    layers: Option<Vec<serde_json::Value>>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default, rename = "fsLayers")]
    fs_layers: Option<serde_json::Value>,
}

/// An image manifest found through the index.
struct Candidate {
    digest: String,
    platform: Option<Platform>,
    tag: String,
    manifest: Document,
}

impl Candidate {
    fn describe(&self) -> String {
        let platform = self
            .platform
            .as_ref()
            .map_or("(no platform)".to_string(), Platform::to_string);
        let tag = if self.tag.is_empty() {
            String::new()
        } else {
            format!(", tag {:?}", self.tag)
        };
        format!("{platform} ({}{tag})", short(&self.digest))
    }
}

fn oci_layout(
    store: &Store,
    platform: Option<&Platform>,
) -> std::result::Result<BaseCount, String> {
    let index: Document = store.parse("index.json")?;
    if index.manifests.is_none() {
        return Err(format!(
            "index.json has no \"manifests\": not an OCI image layout; {ACCEPTED}"
        ));
    }
    let mut candidates = Vec::new();
    collect(store, &index, "index.json", 0, &mut candidates)?;
    let chosen = choose(candidates, platform)?;
    let config_platform = chosen
        .manifest
        .config
        .as_ref()
        .and_then(|c| store.blob(&c.digest).ok())
        .and_then(|(_, data)| serde_json::from_slice::<PlatformJson>(&data).ok())
        .and_then(|p| Platform::from_json(&p));
    let image_platform = chosen.platform.clone().or(config_platform);
    check_platform(image_platform.as_ref(), platform)?;
    Ok(BaseCount {
        layers: chosen.manifest.layers.as_ref().map_or(0, Vec::len) as u64,
        source: "oci-layout".into(),
        path: String::new(),
        manifest: chosen.digest,
        platform: image_platform.map_or(String::new(), |p| p.to_string()),
    })
}

/// The image manifests reachable from `index` (nested indexes followed), attestation
/// manifests left out.
fn collect(
    store: &Store,
    index: &Document,
    name: &str,
    depth: usize,
    out: &mut Vec<Candidate>,
) -> std::result::Result<(), String> {
    for d in index.manifests.iter().flatten() {
        let attestation = d
            .annotations
            .get("vnd.docker.reference.type")
            .is_some_and(|t| t == "attestation-manifest");
        if attestation {
            continue;
        }
        let (blob, data) = store.blob(&d.digest)?;
        let doc: Document = serde_json::from_slice(&data)
            .map_err(|e| format!("{blob} (named by {name}): invalid JSON ({e})"))?;
        if doc.fs_layers.is_some() {
            return Err(format!(
                "{blob} is a Docker schema 1 manifest, which this tool does not read: convert the base (e.g. `skopeo copy --format oci`)"
            ));
        }
        if doc.manifests.is_some() {
            if depth >= MAX_INDEX_DEPTH {
                return Err(format!(
                    "{blob}: image indexes nested deeper than {MAX_INDEX_DEPTH}"
                ));
            }
            collect(store, &doc, &blob, depth + 1, out)?;
        } else if doc.layers.is_some() {
            let platform = d.platform.as_ref().and_then(Platform::from_json);
            if platform.is_none() && d.platform.is_some() {
                continue; // `unknown/unknown`: attestations of other tools
            }
            out.push(Candidate {
                digest: d.digest.clone(),
                platform,
                tag: d
                    .annotations
                    .get("org.opencontainers.image.ref.name")
                    .cloned()
                    .unwrap_or_default(),
                manifest: doc,
            });
        } else {
            return Err(format!(
                "{blob} (named by {name}) is neither an image manifest (\"layers\") nor an image index (\"manifests\")"
            ));
        }
    }
    Ok(())
}

/// The one image to count: the only one, or the one for `platform`.
fn choose(
    mut candidates: Vec<Candidate>,
    platform: Option<&Platform>,
) -> std::result::Result<Candidate, String> {
    if candidates.len() <= 1 {
        return candidates
            .pop()
            .ok_or_else(|| format!("index.json names no image manifest; {ACCEPTED}"));
    }
    let list = candidates
        .iter()
        .map(Candidate::describe)
        .collect::<Vec<_>>()
        .join(", ");
    let Some(want) = platform else {
        return Err(format!(
            "holds {} images: {list}; the target platform is unknown, so none can be picked. \
Set py_image_layer's `platform` to a platform with @platforms//os and @platforms//cpu \
constraints (or pass --platform OS/ARCH), or give a single-platform base",
            candidates.len()
        ));
    };
    let matching: Vec<usize> = (0..candidates.len())
        .filter(|&i| candidates[i].platform.as_ref() == Some(want))
        .collect();
    let distinct: BTreeSet<&str> = matching
        .iter()
        .map(|&i| candidates[i].digest.as_str())
        .collect();
    match distinct.len() {
        1 => Ok(candidates.swap_remove(matching[0])),
        0 => Err(format!(
            "has no image for {want}; it holds {list}. Give a base built for {want}, or build \
the image for one of these platforms (py_image_layer's `platform`)"
        )),
        _ => Err(format!(
            "holds several different images for {want}: {list}; give a layout with one image per platform"
        )),
    }
}

/// Refuses an image whose platform is known and differs from the target's.
fn check_platform(
    image: Option<&Platform>,
    target: Option<&Platform>,
) -> std::result::Result<(), String> {
    match (image, target) {
        (Some(image), Some(target)) if image != target => Err(format!(
            "is an image for {image}, but the target platform is {target}: give a base built \
for {target} (or a multi-platform index that has it), or build the image for {image}"
        )),
        _ => Ok(()),
    }
}

/// One entry of a `docker save` manifest.json.
#[derive(Debug, Deserialize)]
struct DockerImage {
    #[serde(rename = "Config", default)]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

fn docker_archive(
    store: &Store,
    platform: Option<&Platform>,
) -> std::result::Result<BaseCount, String> {
    let images: Vec<DockerImage> = store.parse("manifest.json").map_err(|e| {
        format!("{e}; a `docker save` manifest.json is a list of {{\"Config\", \"RepoTags\", \"Layers\"}}")
    })?;
    let image = match images.as_slice() {
        [one] => one,
        [] => return Err(format!("manifest.json lists no image; {ACCEPTED}")),
        many => {
            let tags: Vec<String> = many
                .iter()
                .map(|i| match &i.repo_tags {
                    Some(t) if !t.is_empty() => t.join(" "),
                    _ => i.config.clone(),
                })
                .collect();
            return Err(format!(
                "manifest.json lists {} images ({}); save only the base image (`docker save IMAGE`)",
                many.len(),
                tags.join(", ")
            ));
        }
    };
    let image_platform = Some(&image.config)
        .filter(|c| !c.is_empty() && !c.split('/').any(|part| part == ".."))
        .and_then(|c| store.read(c).ok())
        .and_then(|data| serde_json::from_slice::<PlatformJson>(&data).ok())
        .and_then(|p| Platform::from_json(&p));
    check_platform(image_platform.as_ref(), platform)?;
    Ok(BaseCount {
        layers: image.layers.len() as u64,
        source: "docker-archive".into(),
        path: String::new(),
        manifest: String::new(),
        platform: image_platform.map_or(String::new(), |p| p.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Writes `data` as a blob of the layout at `dir`; its digest.
    fn blob(dir: &Path, data: &[u8]) -> String {
        let hex = hex::encode(Sha256::digest(data));
        let p = dir.join("blobs/sha256");
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(p.join(&hex), data).unwrap();
        format!("sha256:{hex}")
    }

    /// An image manifest of `layers` layers (their blobs are not written: never read) and
    /// its config for `arch`; the manifest's digest.
    fn image(dir: &Path, layers: usize, arch: &str) -> String {
        let config = blob(
            dir,
            json!({"os": "linux", "architecture": arch, "rootfs": {"type": "layers"}})
                .to_string()
                .as_bytes(),
        );
        let layers: Vec<_> = (0..layers)
            .map(|i| {
                json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": format!("sha256:{:064x}", i + 1), "size": 1})
            })
            .collect();
        let manifest = json!({"schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 1},
            "layers": layers});
        blob(dir, manifest.to_string().as_bytes())
    }

    fn index(dir: &Path, manifests: serde_json::Value) {
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests});
        std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    }

    fn desc(digest: &str, platform: Option<(&str, &str)>) -> serde_json::Value {
        let mut d = json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": 1});
        if let Some((os, arch)) = platform {
            d["platform"] = json!({"os": os, "architecture": arch});
        }
        d
    }

    fn single(layers: usize, arch: &str) -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        let m = image(t.path(), layers, arch);
        index(t.path(), json!([desc(&m, None)]));
        t
    }

    /// amd64 with 5 layers and arm64 with 7 under an image index, and an attestation.
    fn multi() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        let amd = image(t.path(), 5, "amd64");
        let arm = image(t.path(), 7, "arm64");
        let att = image(t.path(), 1, "unknown");
        let mut att_desc = desc(&att, Some(("unknown", "unknown")));
        att_desc["annotations"] = json!({"vnd.docker.reference.type": "attestation-manifest"});
        let idx = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [desc(&amd, Some(("linux", "amd64"))), desc(&arm, Some(("linux", "arm64"))), att_desc]});
        let idx = blob(t.path(), idx.to_string().as_bytes());
        index(
            t.path(),
            json!([{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": idx, "size": 1}]),
        );
        t
    }

    fn platform(s: &str) -> Platform {
        s.parse().unwrap()
    }

    fn err(path: &Path, p: Option<&str>) -> String {
        let p = p.map(platform);
        read_base(path, p.as_ref()).unwrap_err().to_string()
    }

    /// A tar of `members` (name, bytes), optionally gzip-compressed.
    fn tar_of(members: &[(String, Vec<u8>)], gzip: bool) -> tempfile::NamedTempFile {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in members {
            let mut h = tar::Header::new_ustar();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, data.as_slice()).unwrap();
        }
        let mut bytes = b.into_inner().unwrap();
        if gzip {
            use std::io::Write as _;
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(&bytes).unwrap();
            bytes = e.finish().unwrap();
        }
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), bytes).unwrap();
        f
    }

    /// A `docker save` tarball of one image per (tag, layers).
    fn docker_save(images: &[(&str, usize)], gzip: bool) -> tempfile::NamedTempFile {
        let mut members = Vec::new();
        let mut entries = Vec::new();
        for (i, (tag, n)) in images.iter().enumerate() {
            let config = format!("{i:064x}.json");
            members.push((
                config.clone(),
                br#"{"os":"linux","architecture":"amd64"}"#.to_vec(),
            ));
            let layers: Vec<String> = (0..*n).map(|l| format!("{i}{l:063x}/layer.tar")).collect();
            for l in &layers {
                members.push((l.clone(), vec![0u8; 1024]));
            }
            entries.push(json!({"Config": config, "RepoTags": [tag], "Layers": layers}));
        }
        members.push((
            "manifest.json".into(),
            json!(entries).to_string().into_bytes(),
        ));
        tar_of(&members, gzip)
    }

    /// The layout at `dir` as a tar (an OCI archive).
    fn archive_of(dir: &Path) -> tempfile::NamedTempFile {
        let mut members = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let name = p.strip_prefix(dir).unwrap().to_str().unwrap().to_string();
                    members.push((format!("./{name}"), std::fs::read(&p).unwrap()));
                }
            }
        }
        tar_of(&members, false)
    }

    #[test]
    fn counts_an_oci_layout_directory_and_its_index_json() {
        let t = single(3, "amd64");
        let c = read_base(t.path(), None).unwrap();
        assert_eq!((c.layers, c.source.as_str()), (3, "oci-layout"));
        assert_eq!(c.platform, "linux/amd64");
        assert!(c.manifest.starts_with("sha256:"), "{c:?}");
        assert!(
            c.describe().starts_with("counted in the OCI layout "),
            "{}",
            c.describe()
        );
        let via_file = read_base(&t.path().join("index.json"), None).unwrap();
        assert_eq!(via_file.layers, 3);
        let zero = single(0, "amd64");
        assert_eq!(read_base(zero.path(), None).unwrap().layers, 0);
    }

    #[test]
    fn picks_the_target_platform_from_a_nested_index() {
        let t = multi();
        let arm = read_base(t.path(), Some(&platform("linux/arm64/v8"))).unwrap();
        assert_eq!((arm.layers, arm.platform.as_str()), (7, "linux/arm64"));
        let amd = read_base(t.path(), Some(&platform("linux/x86_64"))).unwrap();
        assert_eq!(amd.layers, 5);
    }

    #[test]
    fn refuses_a_multi_platform_index_without_a_platform() {
        let t = multi();
        let e = err(t.path(), None);
        for want in [
            "holds 2 images",
            "linux/amd64",
            "linux/arm64",
            "--platform",
            "`platform`",
        ] {
            assert!(e.contains(want), "{want:?} missing from: {e}");
        }
        let e = err(t.path(), Some("linux/s390x"));
        assert!(e.contains("has no image for linux/s390x"), "{e}");
        assert!(
            e.contains("linux/amd64") && e.contains("linux/arm64"),
            "{e}"
        );
    }

    #[test]
    fn picks_from_a_flat_index_and_refuses_a_wrong_single_platform() {
        let t = tempfile::tempdir().unwrap();
        let amd = image(t.path(), 2, "amd64");
        let arm = image(t.path(), 4, "arm64");
        index(
            t.path(),
            json!([
                desc(&amd, Some(("linux", "amd64"))),
                desc(&arm, Some(("linux", "arm64")))
            ]),
        );
        assert_eq!(
            read_base(t.path(), Some(&platform("linux/arm64")))
                .unwrap()
                .layers,
            4
        );
        let t = single(3, "arm64");
        let e = err(t.path(), Some("linux/amd64"));
        assert!(
            e.contains("is an image for linux/arm64, but the target platform is linux/amd64"),
            "{e}"
        );
        assert_eq!(
            read_base(t.path(), Some(&platform("linux/arm64")))
                .unwrap()
                .layers,
            3
        );
    }

    #[test]
    fn counts_docker_archives_plain_and_gzip() {
        for gzip in [false, true] {
            let f = docker_save(&[("base:1", 4)], gzip);
            let c = read_base(f.path(), None).unwrap();
            assert_eq!(
                (c.layers, c.source.as_str()),
                (4, "docker-archive"),
                "gzip {gzip}"
            );
            assert_eq!(c.platform, "linux/amd64");
            let e = err(f.path(), Some("linux/arm64"));
            assert!(e.contains("is an image for linux/amd64"), "{e}");
        }
        let f = docker_save(&[("a:1", 1), ("b:2", 2)], false);
        let e = err(f.path(), None);
        assert!(
            e.contains("lists 2 images (a:1, b:2)") && e.contains("docker save IMAGE"),
            "{e}"
        );
    }

    #[test]
    fn counts_an_oci_archive() {
        let t = multi();
        let f = archive_of(t.path());
        let c = read_base(f.path(), Some(&platform("linux/arm64"))).unwrap();
        assert_eq!((c.layers, c.source.as_str()), (7, "oci-archive"));
    }

    #[test]
    fn bad_inputs_name_the_file_and_the_fix() {
        let t = tempfile::tempdir().unwrap();
        let missing = t.path().join("nope");
        assert!(err(&missing, None).contains("cannot read it"));
        let e = err(t.path(), None);
        assert!(
            e.contains("has neither index.json") && e.contains("oci_image"),
            "{e}"
        );
        assert!(
            e.starts_with(&format!("base image {}", t.path().display())),
            "{e}"
        );

        std::fs::write(t.path().join("index.json"), "{not json").unwrap();
        let e = err(t.path(), None);
        assert!(e.contains("index.json: invalid JSON"), "{e}");

        let text = t.path().join("notes.txt");
        std::fs::write(&text, "x".repeat(2000)).unwrap();
        let e = err(&text, None);
        assert!(
            e.contains("neither a directory nor a tar archive") && e.contains("docker save"),
            "{e}"
        );

        let f = tar_of(
            &[("manifest.json".into(), b"{\"Layers\": 3}".to_vec())],
            false,
        );
        let e = err(f.path(), None);
        assert!(
            e.contains("manifest.json: invalid JSON") && e.contains("RepoTags"),
            "{e}"
        );
    }

    #[test]
    fn incomplete_or_corrupt_layouts_are_refused() {
        let t = tempfile::tempdir().unwrap();
        index(t.path(), json!([desc(&format!("sha256:{:064x}", 7), None)]));
        let e = err(t.path(), None);
        assert!(
            e.contains("cannot read blobs/sha256/") && e.contains("export the base again"),
            "{e}"
        );

        let m = image(t.path(), 2, "amd64");
        let hex = m.trim_start_matches("sha256:");
        std::fs::write(
            t.path().join("blobs/sha256").join(hex),
            br#"{"layers": []}"#,
        )
        .unwrap();
        index(t.path(), json!([desc(&m, None)]));
        assert!(err(t.path(), None).contains("does not match its digest"));

        index(t.path(), json!([desc("sha256:../../etc/passwd", None)]));
        assert!(err(t.path(), None).contains("invalid digest"));

        let v1 = blob(t.path(), br#"{"schemaVersion": 1, "fsLayers": []}"#);
        index(t.path(), json!([desc(&v1, None)]));
        assert!(err(t.path(), None).contains("schema 1"));

        index(t.path(), json!([]));
        assert!(err(t.path(), None).contains("names no image manifest"));
    }

    #[test]
    fn platforms_parse_and_normalise() {
        assert_eq!(platform("linux/x86_64"), platform("linux/amd64"));
        assert_eq!(platform("linux/aarch64"), platform("linux/arm64/v8"));
        assert_eq!(platform("linux/arm/v7").to_string(), "linux/arm");
        assert_eq!(platform("linux/arm/v6").to_string(), "linux/arm/v6");
        for bad in ["linux", "linux/", "a/b/c/d"] {
            assert!(bad.parse::<Platform>().is_err(), "{bad}");
        }
    }
}
