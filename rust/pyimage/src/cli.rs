//! clap arguments and entry points of `layer`, `merge` and `list`, plus `@argfile` expansion.
//! Every flag is documented in `docs/tool.md`.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::compress::Compression;
use crate::error::{Error, Result};
use crate::layer::{default_threads, write_layer, ExternalSymlinks, LayerOptions, DEFAULT_MTIME};
use crate::list::list_layers;
use crate::merge::{merge_layers, MergeOptions};

/// Compression names on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompressionArg {
    /// `application/vnd.oci.image.layer.v1.tar+gzip` (default level 6).
    Gzip,
    /// `application/vnd.oci.image.layer.v1.tar+zstd` (default level 3).
    Zstd,
    /// `application/vnd.oci.image.layer.v1.tar`.
    None,
}

impl From<CompressionArg> for Compression {
    fn from(c: CompressionArg) -> Self {
        match c {
            CompressionArg::Gzip => Compression::Gzip,
            CompressionArg::Zstd => Compression::Zstd,
            CompressionArg::None => Compression::None,
        }
    }
}

/// Arguments of `pyimage layer`.
#[derive(Debug, clap::Args)]
pub struct LayerArgs {
    /// Layer blob to write (atomically: temp file in the same directory, then rename).
    #[arg(long, value_name = "OUT")]
    pub output: PathBuf,
    /// Descriptor JSON to write next to the layer.
    #[arg(long, value_name = "OUT.json")]
    pub descriptor: PathBuf,
    /// Directory tree (or single file) SRC placed at image path DEST; repeatable.
    /// Split at the first `=`.
    #[arg(long = "tree", value_name = "SRC=DEST")]
    pub trees: Vec<String>,
    /// Manifest of explicit entries (TAB-separated lines, see docs/tool.md); repeatable.
    #[arg(long = "manifest", value_name = "FILE")]
    pub manifests: Vec<PathBuf>,
    /// Attribute every file of this layer to a pip distribution (descriptor `packages`).
    #[arg(long, value_name = "NAME[==VERSION]")]
    pub package: Option<String>,
    /// Keep only tree entries whose tree-relative path matches one of these globs
    /// (`*` stays within a path component, `**` crosses them); repeatable.
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Drop tree entries whose tree-relative path matches one of these globs (a matching
    /// directory drops its whole subtree); repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Keep `__pycache__/` directories and `*.pyc` files in trees (dropped by default).
    #[arg(long)]
    pub keep_pyc: bool,
    /// Blob compression.
    #[arg(long, value_enum, default_value_t = CompressionArg::Gzip)]
    pub compression: CompressionArg,
    /// Compression level (gzip 0-9, default 6; zstd 1-19, default 3).
    #[arg(long, value_name = "N")]
    pub level: Option<i32>,
    /// Worker threads; 0 or absent means all available cores. Never changes the output bytes.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Owner of every entry.
    #[arg(long, value_name = "UID:GID", default_value = "0:0")]
    pub owner: String,
    /// Modification time of every entry, in seconds since the epoch.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_MTIME)]
    pub mtime: u64,
    /// Symlinks inside a tree whose target lies outside that tree: `materialize` (store what
    /// they point to), `keep` (store the link as is) or `reject` (fail; the default).
    #[arg(long, value_enum, default_value_t = ExternalSymlinks::Reject)]
    pub external_symlinks: ExternalSymlinks,
    /// Accept relative symlinks that climb above the image root (rejected by default).
    #[arg(long)]
    pub allow_escaping_symlinks: bool,
    /// Manifest DESTs that do not start with `/` are placed under this image path.
    #[arg(long, value_name = "PREFIX")]
    pub prefix: Option<String>,
    /// Drop entries whose image path (`/DEST`) starts with this string (counted in the
    /// descriptor's `skipped`); repeatable.
    #[arg(long, value_name = "PREFIX")]
    pub skip_prefix: Vec<String>,
}

/// Arguments of `pyimage merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Merged layer blob to write.
    #[arg(long, value_name = "OUT")]
    pub output: PathBuf,
    /// Descriptor JSON of the merged layer.
    #[arg(long, value_name = "OUT.json")]
    pub descriptor: PathBuf,
    /// Name of the group being merged (used in messages).
    #[arg(long, value_name = "GROUP")]
    pub name: Option<String>,
    /// Decompression workers; 0 or absent means all available cores. Never changes the bytes.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Input layers with their descriptors, in layer order.
    #[arg(value_name = "LAYER=DESCRIPTOR", required = true)]
    pub inputs: Vec<String>,
}

/// Arguments of `pyimage list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Print `*` instead of the size of entries whose path matches this regex; repeatable.
    #[arg(long, value_name = "REGEX")]
    pub redact: Vec<String>,
    /// Layer blobs (gzip, zstd or plain tar, detected from their first bytes).
    #[arg(value_name = "LAYER", required = true)]
    pub layers: Vec<PathBuf>,
}

fn split_pair(s: &str, what: &str) -> Result<(String, String)> {
    match s.split_once('=') {
        Some((a, b)) if !a.is_empty() && !b.is_empty() => Ok((a.to_string(), b.to_string())),
        _ => Err(Error::Invalid(format!("{what} {s:?}: expected A=B"))),
    }
}

fn threads(t: Option<usize>) -> usize {
    match t {
        None | Some(0) => default_threads(),
        Some(n) => n,
    }
}

/// Builds [`LayerOptions`] from the command line.
pub fn layer_options(a: &LayerArgs) -> Result<LayerOptions> {
    let mut o = LayerOptions::new(&a.output, &a.descriptor);
    for t in &a.trees {
        let (src, dest) = split_pair(t, "--tree")?;
        o.trees.push((PathBuf::from(src), dest));
    }
    o.manifests = a.manifests.clone();
    o.package = match &a.package {
        None => None,
        Some(p) => {
            let (name, version) = match p.split_once("==") {
                Some((n, v)) => (n.to_string(), v.to_string()),
                None => (p.clone(), String::new()),
            };
            if name.is_empty() {
                return Err(Error::Invalid(format!(
                    "--package {p:?}: expected NAME or NAME==VERSION"
                )));
            }
            Some((name, version))
        }
    };
    o.include = a.include.clone();
    o.exclude = a.exclude.clone();
    o.keep_pyc = a.keep_pyc;
    o.compression = a.compression.into();
    o.level = a.level;
    o.threads = threads(a.threads);
    let (uid, gid) = a
        .owner
        .split_once(':')
        .and_then(|(u, g)| Some((u.parse().ok()?, g.parse().ok()?)))
        .ok_or_else(|| {
            Error::Invalid(format!(
                "--owner {:?}: expected numeric UID:GID such as 0:0 or 1000:1000",
                a.owner
            ))
        })?;
    o.uid = uid;
    o.gid = gid;
    o.mtime = a.mtime;
    o.external_symlinks = a.external_symlinks;
    o.allow_escaping_symlinks = a.allow_escaping_symlinks;
    o.prefix = a.prefix.clone();
    o.skip_prefix = a.skip_prefix.clone();
    Ok(o)
}

/// Runs `pyimage layer`.
pub fn run_layer(a: &LayerArgs) -> anyhow::Result<ExitCode> {
    let o = layer_options(a)?;
    write_layer(&o)?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `pyimage merge`.
pub fn run_merge(a: &MergeArgs) -> anyhow::Result<ExitCode> {
    let mut inputs = Vec::new();
    for i in &a.inputs {
        let (l, d) = split_pair(i, "merge input")?;
        inputs.push((PathBuf::from(l), PathBuf::from(d)));
    }
    merge_layers(&MergeOptions {
        output: a.output.clone(),
        descriptor: a.descriptor.clone(),
        name: a.name.clone(),
        inputs,
        threads: threads(a.threads),
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `pyimage list`.
pub fn run_list(a: &ListArgs) -> anyhow::Result<ExitCode> {
    let mut re = Vec::new();
    for r in &a.redact {
        re.push(regex::Regex::new(r).map_err(|e| Error::Invalid(format!("--redact {r:?}: {e}")))?);
    }
    let stdout = std::io::stdout();
    let mut lock = std::io::BufWriter::new(stdout.lock());
    list_layers(&a.layers, &re, &mut lock)?;
    match lock.flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            return Err(Error::io("<stdout>", e).into())
        }
        _ => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// Expands `@FILE` arguments (after the program name): each line of FILE is one argument
/// (Bazel's multiline param-file format; a final newline does not add an empty argument).
/// Expansion is not recursive. An argument `@` alone is kept as is.
pub fn expand_argfiles(args: impl IntoIterator<Item = OsString>) -> Result<Vec<OsString>> {
    let mut out = Vec::new();
    for (i, a) in args.into_iter().enumerate() {
        let file = a
            .to_str()
            .filter(|s| i > 0 && s.len() > 1 && s.starts_with('@'))
            .map(|s| PathBuf::from(&s[1..]));
        match file {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
                let body = text.strip_suffix('\n').unwrap_or(&text);
                if !text.is_empty() {
                    out.extend(body.split('\n').map(OsString::from));
                }
            }
            None => out.push(a),
        }
    }
    Ok(out)
}
