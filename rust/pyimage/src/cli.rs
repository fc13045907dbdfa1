//! The command line: clap definitions of every subcommand and their translation into the
//! library's options. Every flag is documented in `docs/tool.md` (its flag reference is
//! generated from these definitions by `pyimage help-markdown`).

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::{Args, Parser, Subcommand, ValueEnum};
use pyimage::{
    default_threads, emit, list_layers, merge_layers, run_autogroup, run_diff, run_report,
    run_validate, write_auto_layers, write_layer, AutogroupRequest, AutolayerInput,
    AutolayerOptions, Compression, DiffRequest, ExternalSymlinks, LayerOptions, MergeOptions,
    ReportRequest, ValidateRequest, DEFAULT_MTIME,
};

/// Deterministic OCI layers for Python binaries (the tool behind rules_pyimage).
///
/// Arguments may be read from files: `@FILE` is replaced by FILE's lines, one argument each.
#[derive(Debug, Parser)]
#[command(name = "pyimage", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Write one layer blob and its descriptor from trees and manifests.
    Layer(LayerArgs),
    /// Join per-package layers into one layer without recompressing.
    Merge(MergeArgs),
    /// Spread packages over a fixed number of layers by name (stable across builds) and merge each.
    Autolayer(AutolayerArgs),
    /// Print a stable `ls -l`-style listing of layers.
    List(ListArgs),
    /// Check a layer plan against the layer limit and the tier's thresholds.
    Validate(ValidateArgs),
    /// Print a human-readable report of a set of layers.
    Report(ReportArgs),
    /// Propose `layer_tier` groups for a layer budget.
    Autogroup(AutogroupArgs),
    /// Compare two builds' `report --json` outputs: changed layers, packages, bytes to push.
    Diff(DiffArgs),
    /// Print the flag reference of docs/tool.md (generated from these definitions).
    #[command(hide = true)]
    HelpMarkdown,
}

impl Command {
    pub(crate) fn run(&self) -> anyhow::Result<ExitCode> {
        match self {
            Command::Layer(a) => a.run(),
            Command::Merge(a) => a.run(),
            Command::Autolayer(a) => a.run(),
            Command::List(a) => a.run(),
            Command::Validate(a) => a.run(),
            Command::Report(a) => a.run(),
            Command::Autogroup(a) => a.run(),
            Command::Diff(a) => a.run(),
            Command::HelpMarkdown => {
                emit(None, &crate::reference::markdown())?;
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}

/// Compression names on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CompressionArg {
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

/// Symlinks inside a tree whose target lies outside that tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExternalSymlinksArg {
    /// Replace the link by what it points to (file content or directory tree).
    Materialize,
    /// Keep the link with its literal target.
    Keep,
    /// Fail, naming the link.
    Reject,
}

impl From<ExternalSymlinksArg> for ExternalSymlinks {
    fn from(e: ExternalSymlinksArg) -> Self {
        match e {
            ExternalSymlinksArg::Materialize => ExternalSymlinks::Materialize,
            ExternalSymlinksArg::Keep => ExternalSymlinks::Keep,
            ExternalSymlinksArg::Reject => ExternalSymlinks::Reject,
        }
    }
}

/// Arguments of `pyimage layer`.
#[derive(Debug, Args)]
pub(crate) struct LayerArgs {
    /// Layer blob to write (atomically: temp file in the same directory, then rename).
    #[arg(long, value_name = "OUT")]
    output: PathBuf,
    /// Descriptor JSON to write next to the layer.
    #[arg(long, value_name = "OUT.json")]
    descriptor: PathBuf,
    /// Directory tree (or single file) SRC placed at image path DEST; repeatable.
    /// Split at the first `=`.
    #[arg(long = "tree", value_name = "SRC=DEST")]
    trees: Vec<String>,
    /// Manifest of explicit entries (TAB-separated lines, see docs/tool.md); repeatable.
    #[arg(long = "manifest", value_name = "FILE")]
    manifests: Vec<PathBuf>,
    /// Attribute every file of this layer to a pip distribution (descriptor `packages`).
    #[arg(long, value_name = "NAME[==VERSION]")]
    package: Option<String>,
    /// Keep only tree entries whose tree-relative path matches one of these globs
    /// (`*` stays within a path component, `**` crosses them); repeatable.
    #[arg(long, value_name = "GLOB")]
    include: Vec<String>,
    /// Drop tree entries whose tree-relative path matches one of these globs (a matching
    /// directory drops its whole subtree); repeatable.
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Keep `__pycache__/` directories and `*.pyc` files in trees (dropped by default).
    #[arg(long)]
    keep_pyc: bool,
    /// Blob compression.
    #[arg(long, value_enum, default_value_t = CompressionArg::Gzip)]
    compression: CompressionArg,
    /// Compression level (gzip 0-9 as libdeflate's, default 6; zstd 1-22, default 3; none 0).
    #[arg(long, value_name = "N")]
    level: Option<i32>,
    /// Worker threads; 0 or absent means all available cores. Never changes the output bytes.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Owner of every entry.
    #[arg(long, value_name = "UID:GID", default_value = "0:0")]
    owner: String,
    /// Modification time of every entry, in seconds since the epoch.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_MTIME)]
    mtime: u64,
    /// Symlinks inside a tree whose target lies outside that tree: `materialize` (store what
    /// they point to), `keep` (store the link as is) or `reject` (fail; the default).
    #[arg(long, value_enum, default_value_t = ExternalSymlinksArg::Reject)]
    external_symlinks: ExternalSymlinksArg,
    /// Accept relative symlinks that climb above the image root (rejected by default).
    #[arg(long)]
    allow_escaping_symlinks: bool,
    /// Manifest DESTs that do not start with `/` are placed under this image path.
    #[arg(long, value_name = "PREFIX")]
    prefix: Option<String>,
    /// Drop entries whose image path (`/DEST`) starts with this string (counted in the
    /// descriptor's `skipped`); repeatable.
    #[arg(long, value_name = "PREFIX")]
    skip_prefix: Vec<String>,
}

/// Arguments of `pyimage merge`.
#[derive(Debug, Args)]
pub(crate) struct MergeArgs {
    /// Merged layer blob to write.
    #[arg(long, value_name = "OUT")]
    output: PathBuf,
    /// Descriptor JSON of the merged layer.
    #[arg(long, value_name = "OUT.json")]
    descriptor: PathBuf,
    /// Name of the group being merged (used in messages).
    #[arg(long, value_name = "GROUP")]
    name: Option<String>,
    /// Decompression workers; 0 or absent means all available cores. Never changes the bytes.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Input layers with their descriptors, in layer order.
    #[arg(value_name = "LAYER=DESCRIPTOR", required = true)]
    inputs: Vec<String>,
}

/// Arguments of `pyimage autolayer`.
#[derive(Debug, Args)]
pub(crate) struct AutolayerArgs {
    /// One auto layer's blob and descriptor to write; repeat once per layer, in image order
    /// (their number is the layer count K).
    #[arg(long = "output", value_name = "LAYER=DESCRIPTOR", required = true)]
    outputs: Vec<String>,
    /// JSON naming every layer's packages (format: docs/tool.md).
    #[arg(long, value_name = "OUT.json")]
    assignment: PathBuf,
    /// Layer `i` (1-based) is named `<PREFIX><i>` in its descriptor and the assignment.
    #[arg(long, value_name = "PREFIX", default_value = "auto-")]
    name_prefix: String,
    /// Decompression workers of each merge; 0 or absent means all available cores. Never
    /// changes the bytes.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// The packages' fragments: distribution name, layer blob and descriptor (a package
    /// split into several fragments is given once per fragment).
    #[arg(value_name = "NAME=LAYER=DESCRIPTOR", required = true)]
    inputs: Vec<String>,
}

/// Arguments of `pyimage list`.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Print `*` instead of the size of entries whose path matches this regex; repeatable.
    #[arg(long, value_name = "REGEX")]
    redact: Vec<String>,
    /// Layer blobs (gzip, zstd or plain tar, detected from their first bytes).
    #[arg(value_name = "LAYER", required = true)]
    layers: Vec<PathBuf>,
}

/// Arguments of `pyimage validate`.
#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// The layer plan written by the rules (format: docs/tool.md).
    #[arg(long, value_name = "PLAN.json")]
    plan: PathBuf,
    /// Layers of the base image; overrides the plan's `base_layers`.
    #[arg(long, value_name = "N")]
    base_layers: Option<u64>,
    /// The base image whose layers count towards the limit: an OCI image layout directory
    /// (or its index.json), an OCI archive or a `docker save` tarball (plain, gzip or zstd).
    /// Overrides the plan's `base_layers`.
    #[arg(long, value_name = "PATH", conflicts_with = "base_layers")]
    base: Option<PathBuf>,
    /// The image's platform, OS/ARCH[/VARIANT] (e.g. linux/arm64): picks the base's image
    /// from a multi-platform index and must match a single-platform base.
    #[arg(long, value_name = "OS/ARCH", requires = "base")]
    platform: Option<String>,
    /// Report a layer count past `max_layers` as a WARNING and exit 0.
    #[arg(long)]
    limit_as_warning: bool,
    /// Also write the report text to this file (written even when validation fails).
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Print nothing on stderr when there is no warning and no error.
    #[arg(long)]
    quiet: bool,
    /// Layer descriptors, referenced by index or path from the plan's `layers`.
    #[arg(value_name = "DESCRIPTOR")]
    descriptors: Vec<PathBuf>,
}

/// Arguments of `pyimage report`.
#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// The layer plan (adds group names, kinds, target and tier); optional.
    #[arg(long, value_name = "PLAN.json")]
    plan: Option<PathBuf>,
    /// Layers of the base image, shown in the totals; overrides the plan's `base_layers`.
    #[arg(long, value_name = "N")]
    base_layers: Option<u64>,
    /// The base image whose layers count towards the limit: an OCI image layout directory
    /// (or its index.json), an OCI archive or a `docker save` tarball (plain, gzip or zstd).
    /// Overrides the plan's `base_layers`.
    #[arg(long, value_name = "PATH", conflicts_with = "base_layers")]
    base: Option<PathBuf>,
    /// The image's platform, OS/ARCH[/VARIANT] (e.g. linux/arm64): picks the base's image
    /// from a multi-platform index and must match a single-platform base.
    #[arg(long, value_name = "OS/ARCH", requires = "base")]
    platform: Option<String>,
    /// Print JSON instead of the table.
    #[arg(long)]
    json: bool,
    /// Write a self-contained HTML page (inline CSS, no scripts, no network) instead of the
    /// table: stacked size bars, packages per layer, validation messages (with --plan).
    #[arg(long, conflicts_with = "json")]
    html: bool,
    /// A previous build's `report --json`; the HTML page highlights what changed since.
    #[arg(long, value_name = "REPORT.json", requires = "html")]
    previous: Option<PathBuf>,
    /// Write to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Layer descriptors in image order (or as the plan references them).
    #[arg(value_name = "DESCRIPTOR")]
    descriptors: Vec<PathBuf>,
}

/// Arguments of `pyimage autogroup`.
#[derive(Debug, Args)]
pub(crate) struct AutogroupArgs {
    /// Take packages, sizes and dependencies from a layer plan (sizes from the descriptors).
    #[arg(long, value_name = "PLAN.json", conflicts_with = "packages")]
    plan: Option<PathBuf>,
    /// Take packages from a simple list: {"packages": [{"name", "bytes", "deps"}]}.
    #[arg(long, value_name = "FILE")]
    packages: Option<PathBuf>,
    /// Layers for pip packages, the squashed layer of the rest included. With --plan the
    /// default is warn_layers minus base layers minus the plan's other layers.
    #[arg(long, value_name = "N")]
    budget: Option<u64>,
    /// Layers of the base image (with --plan); overrides the plan's `base_layers`.
    #[arg(long, value_name = "N")]
    base_layers: Option<u64>,
    /// The base image whose layers count towards the default budget (with --plan): an OCI
    /// image layout directory, an OCI archive or a `docker save` tarball.
    #[arg(long, value_name = "PATH", conflicts_with = "base_layers")]
    base: Option<PathBuf>,
    /// The image's platform, OS/ARCH[/VARIANT]: picks the base's image from a
    /// multi-platform index.
    #[arg(long, value_name = "OS/ARCH", requires = "base")]
    platform: Option<String>,
    /// Print JSON instead of the Starlark snippet.
    #[arg(long)]
    json: bool,
    /// Write to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Layer descriptors (with --plan), for package sizes.
    #[arg(value_name = "DESCRIPTOR")]
    descriptors: Vec<PathBuf>,
}

/// Arguments of `pyimage diff`.
#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Write to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The earlier build's `pyimage report --json` output.
    #[arg(value_name = "OLD")]
    old: PathBuf,
    /// The later build's `pyimage report --json` output.
    #[arg(value_name = "NEW")]
    new: PathBuf,
}

impl DiffArgs {
    fn run(&self) -> anyhow::Result<ExitCode> {
        run_diff(&DiffRequest {
            old: self.old.clone(),
            new: self.new.clone(),
            json: self.json,
            output: self.output.clone(),
        })?;
        Ok(ExitCode::SUCCESS)
    }
}

impl ValidateArgs {
    fn run(&self) -> anyhow::Result<ExitCode> {
        Ok(run_validate(&ValidateRequest {
            plan: self.plan.clone(),
            base_layers: self.base_layers,
            base: self.base.clone(),
            platform: self.platform.clone(),
            limit_as_warning: self.limit_as_warning,
            output: self.output.clone(),
            quiet: self.quiet,
            descriptors: self.descriptors.clone(),
        })?)
    }
}

impl ReportArgs {
    fn run(&self) -> anyhow::Result<ExitCode> {
        Ok(run_report(&ReportRequest {
            plan: self.plan.clone(),
            base_layers: self.base_layers,
            base: self.base.clone(),
            platform: self.platform.clone(),
            json: self.json,
            html: self.html,
            previous: self.previous.clone(),
            output: self.output.clone(),
            descriptors: self.descriptors.clone(),
        })?)
    }
}

impl AutogroupArgs {
    fn run(&self) -> anyhow::Result<ExitCode> {
        Ok(run_autogroup(&AutogroupRequest {
            plan: self.plan.clone(),
            packages: self.packages.clone(),
            budget: self.budget,
            base_layers: self.base_layers,
            base: self.base.clone(),
            platform: self.platform.clone(),
            json: self.json,
            output: self.output.clone(),
            descriptors: self.descriptors.clone(),
        })?)
    }
}

fn split_pair(s: &str, what: &str) -> anyhow::Result<(String, String)> {
    match s.split_once('=') {
        Some((a, b)) if !a.is_empty() && !b.is_empty() => Ok((a.to_string(), b.to_string())),
        _ => bail!("{what} {s:?}: expected A=B"),
    }
}

fn threads(t: Option<usize>) -> usize {
    match t {
        None | Some(0) => default_threads(),
        Some(n) => n,
    }
}

/// Largest `--mtime`: the tar header's 11 octal digits (2242-03-16).
const MAX_MTIME: u64 = 0o77_777_777_777;

/// Builds [`LayerOptions`] from the command line.
fn layer_options(a: &LayerArgs) -> anyhow::Result<LayerOptions> {
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
                bail!("--package {p:?}: expected NAME or NAME==VERSION");
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
        .and_then(|(u, g)| Some((u.parse::<u64>().ok()?, g.parse::<u64>().ok()?)))
        .with_context(|| {
            format!(
                "--owner {:?}: expected numeric UID:GID such as 0:0 or 1000:1000",
                a.owner
            )
        })?;
    // IDs are 32-bit on Linux: a larger one is written (PAX) but no extractor can apply it
    let max_id = u64::from(u32::MAX);
    if uid > max_id || gid > max_id {
        bail!(
            "--owner {:?}: UID and GID must be in the range 0..={max_id}",
            a.owner
        );
    }
    o.uid = uid;
    o.gid = gid;
    if a.mtime > MAX_MTIME {
        bail!(
            "--mtime {}: out of range (valid: 0..={MAX_MTIME}, the 11 octal digits of a tar header, year 2242)",
            a.mtime
        );
    }
    o.mtime = a.mtime;
    o.external_symlinks = a.external_symlinks.into();
    o.allow_escaping_symlinks = a.allow_escaping_symlinks;
    o.prefix = a.prefix.clone();
    o.skip_prefix = a.skip_prefix.clone();
    Ok(o)
}

impl LayerArgs {
    fn run(&self) -> anyhow::Result<ExitCode> {
        write_layer(&layer_options(self)?)?;
        Ok(ExitCode::SUCCESS)
    }
}

impl MergeArgs {
    fn run(&self) -> anyhow::Result<ExitCode> {
        merge(self)
    }
}

fn merge(a: &MergeArgs) -> anyhow::Result<ExitCode> {
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

impl AutolayerArgs {
    fn run(&self) -> anyhow::Result<ExitCode> {
        let mut outputs = Vec::new();
        for o in &self.outputs {
            let (l, d) = split_pair(o, "--output")?;
            outputs.push((PathBuf::from(l), PathBuf::from(d)));
        }
        let mut inputs = Vec::new();
        for i in &self.inputs {
            let (name, rest) = split_pair(i, "autolayer input")?;
            let (layer, descriptor) = split_pair(&rest, "autolayer input").with_context(|| {
                format!("autolayer input {i:?}: expected NAME=LAYER=DESCRIPTOR")
            })?;
            inputs.push(AutolayerInput {
                name,
                layer: PathBuf::from(layer),
                descriptor: PathBuf::from(descriptor),
            });
        }
        write_auto_layers(&AutolayerOptions {
            outputs,
            assignment: self.assignment.clone(),
            name_prefix: self.name_prefix.clone(),
            inputs,
            threads: threads(self.threads),
        })?;
        Ok(ExitCode::SUCCESS)
    }
}

impl ListArgs {
    fn run(&self) -> anyhow::Result<ExitCode> {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        list_layers(&self.layers, &self.redact, &mut out)?;
        Ok(ExitCode::SUCCESS)
    }
}

/// Expands `@FILE` arguments (after the program name): each line of FILE is one argument
/// (Bazel's multiline param-file format; a final newline does not add an empty argument).
/// Expansion is not recursive. An argument `@` alone is kept as is.
pub(crate) fn expand_argfiles(
    args: impl IntoIterator<Item = OsString>,
) -> anyhow::Result<Vec<OsString>> {
    let mut out = Vec::new();
    for (i, a) in args.into_iter().enumerate() {
        let file = a
            .to_str()
            .filter(|s| i > 0 && s.len() > 1 && s.starts_with('@'))
            .map(|s| PathBuf::from(&s[1..]));
        match file {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
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
