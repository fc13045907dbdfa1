//! `pyimage layer`: collect entries from trees and manifests, then write one layer blob
//! and its descriptor.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::atomic::AtomicFile;
use crate::compress::{Compression, LayerStream, StreamSummary};
use crate::descriptor::{sha256_string, Descriptor, Package, SCHEMA};
use crate::error::{Error, IoContext, Result};
use crate::manifest::{parse_manifest, LineKind, ManifestLine};
use crate::paths::{check_name, join, normalize_dest, parent, relative, resolve_relative};
use crate::tarfmt::{encode_header, padding, EntryType, HeaderSpec};

/// Default mtime of every entry: 2000-01-01T00:00:00Z (see `docs/determinism.md`).
pub const DEFAULT_MTIME: u64 = 946_684_800;

/// What to do with a symlink inside a tree whose target lies outside the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExternalSymlinks {
    /// Replace the link by what it points to (file content or directory tree).
    Materialize,
    /// Keep the link with its literal target.
    Keep,
    /// Fail, naming the link (the default).
    Reject,
}

/// Everything `layer` needs.
#[derive(Debug, Clone)]
pub struct LayerOptions {
    /// Output blob.
    pub output: PathBuf,
    /// Output descriptor.
    pub descriptor: PathBuf,
    /// `(SRC, DEST)` trees.
    pub trees: Vec<(PathBuf, String)>,
    /// Manifest files.
    pub manifests: Vec<PathBuf>,
    /// `(name, version)` the layer is attributed to.
    pub package: Option<(String, String)>,
    /// Include globs (tree-relative); empty means everything.
    pub include: Vec<String>,
    /// Exclude globs (tree-relative).
    pub exclude: Vec<String>,
    /// Keep `__pycache__/` and `*.pyc`.
    pub keep_pyc: bool,
    /// Compression.
    pub compression: Compression,
    /// Level (`None`: default of the compression).
    pub level: Option<i32>,
    /// Worker threads (>= 1); never changes the bytes.
    pub threads: usize,
    /// Owner of every entry.
    pub uid: u64,
    /// Group of every entry.
    pub gid: u64,
    /// mtime of every entry.
    pub mtime: u64,
    /// Policy for tree symlinks that point outside their tree.
    pub external_symlinks: ExternalSymlinks,
    /// Allow relative symlinks that climb above the image root.
    pub allow_escaping_symlinks: bool,
    /// Prefix for relative manifest destinations.
    pub prefix: Option<String>,
    /// Drop entries whose `/DEST` starts with one of these strings.
    pub skip_prefix: Vec<String>,
}

impl LayerOptions {
    /// Options with the documented defaults and no inputs.
    pub fn new(output: impl Into<PathBuf>, descriptor: impl Into<PathBuf>) -> Self {
        LayerOptions {
            output: output.into(),
            descriptor: descriptor.into(),
            trees: Vec::new(),
            manifests: Vec::new(),
            package: None,
            include: Vec::new(),
            exclude: Vec::new(),
            keep_pyc: false,
            compression: Compression::Gzip,
            level: None,
            threads: default_threads(),
            uid: 0,
            gid: 0,
            mtime: DEFAULT_MTIME,
            external_symlinks: ExternalSymlinks::Reject,
            allow_escaping_symlinks: false,
            prefix: None,
            skip_prefix: Vec::new(),
        }
    }
}

/// `std::thread::available_parallelism`, or 1.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Dir,
    File {
        src: Option<PathBuf>,
        size: u64,
        mode: FileMode,
    },
    Symlink {
        target: String,
        from_manifest: bool,
    },
}

#[derive(Debug, Clone)]
struct Planned {
    kind: Kind,
    origin: String,
}

struct TreeCtx {
    origin: String,
    abs: PathBuf,
    canon: Option<PathBuf>,
}

struct Collector<'a> {
    opts: &'a LayerOptions,
    map: BTreeMap<String, Planned>,
    skipped: u64,
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
    /// Directories (device, inode) walked in the current tree, with the image path of the
    /// first walk: `materialize` copies a directory once, so one reached again through
    /// another link is refused instead of multiplying the layer.
    reached: HashMap<(u64, u64), String>,
}

fn globset(patterns: &[String], what: &str) -> Result<Option<GlobSet>> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let g = GlobBuilder::new(p)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|e| Error::Invalid(format!("--{what} {p:?}: {e}")))?;
        b.add(g);
    }
    Ok(Some(
        b.build()
            .map_err(|e| Error::Invalid(format!("--{what}: {e}")))?,
    ))
}

/// How a regular file's mode is chosen. Never from the source's mode on disk: Bazel stages
/// inputs 0644 locally and 0755 under remote execution (bazelbuild/bazel#12818), so a mode
/// read with stat() would make a layer's bytes depend on where the action ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileMode {
    /// Declared executable (manifest `exec`): 0755.
    Exec,
    /// Declared data (manifest `data`, `empty`): 0644.
    Data,
    /// From the content (manifest `file`, tree files): see [`content_mode`].
    FromContent,
}

/// 0755 for content a kernel can execute (a `#!` script or an ELF object: wheel scripts,
/// extension modules, interpreters), 0644 for everything else.
pub(crate) fn content_mode(head: &[u8]) -> u32 {
    if head.starts_with(b"#!") || head.starts_with(b"\x7fELF") {
        0o755
    } else {
        0o644
    }
}

impl FileMode {
    fn resolve(self, head: &[u8]) -> u32 {
        match self {
            FileMode::Exec => 0o755,
            FileMode::Data => 0o644,
            FileMode::FromContent => content_mode(head),
        }
    }
}

fn to_utf8(p: PathBuf) -> Result<String> {
    p.into_os_string()
        .into_string()
        .map_err(|s| Error::NonUtf8 { path: s.into() })
}

impl<'a> Collector<'a> {
    fn new(opts: &'a LayerOptions) -> Result<Self> {
        Ok(Collector {
            opts,
            map: BTreeMap::new(),
            skipped: 0,
            include: globset(&opts.include, "include")?,
            exclude: globset(&opts.exclude, "exclude")?,
            reached: HashMap::new(),
        })
    }

    fn add(&mut self, path: String, kind: Kind, origin: String) -> Result<()> {
        if path.is_empty() {
            // the image root itself is never an entry
            return Ok(());
        }
        // manifest entries obey the same default as trees: bytecode is machine- and
        // order-dependent (cpython#129724), so it is never shipped unless asked for
        if !self.opts.keep_pyc && is_bytecode_path(&path) {
            self.skipped += 1;
            return Ok(());
        }
        if !self.opts.skip_prefix.is_empty() {
            let abs = format!("/{path}");
            if self
                .opts
                .skip_prefix
                .iter()
                .any(|p| abs.starts_with(p.as_str()))
            {
                self.skipped += 1;
                return Ok(());
            }
        }
        match self.map.entry(path) {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(Planned { kind, origin });
            }
            std::collections::btree_map::Entry::Occupied(o) => {
                // two directory entries, or the very same entry twice (same source file, same
                // link target: Bazel runfiles can list one file twice), are merged
                if o.get().kind != kind {
                    return Err(Error::Duplicate {
                        dest: o.key().clone(),
                        first: o.get().origin.clone(),
                        second: origin,
                    });
                }
            }
        }
        Ok(())
    }

    fn selected(&self, rel: &str) -> bool {
        if let Some(ex) = &self.exclude {
            if ex.is_match(rel) {
                return false;
            }
        }
        match &self.include {
            Some(inc) => inc.is_match(rel),
            None => true,
        }
    }

    fn add_tree(
        &mut self,
        src: &Path,
        dest_raw: &str,
        origin: String,
        prefix: Option<&str>,
    ) -> Result<()> {
        let dest = normalize_dest(dest_raw, prefix, &origin)?;
        let md = fs::metadata(src).at(src)?;
        if md.is_file() {
            if dest.is_empty() {
                return Err(Error::BadDest {
                    dest: dest_raw.to_string(),
                    origin,
                    reason: "a single file cannot be placed at the image root".into(),
                });
            }
            return self.add(
                dest,
                Kind::File {
                    src: Some(src.to_path_buf()),
                    size: md.len(),
                    mode: FileMode::FromContent,
                },
                origin,
            );
        }
        if !md.is_dir() {
            return Err(Error::SpecialFile {
                path: src.to_path_buf(),
                kind: "not a file or directory",
            });
        }
        let ctx = TreeCtx {
            origin,
            abs: std::path::absolute(src).at(src)?,
            canon: fs::canonicalize(src).ok(),
        };
        let mut stack = Vec::new();
        self.reached.clear();
        self.walk_dir(&ctx, src, "", &dest, &mut stack)?;
        Ok(())
    }

    /// Walks one directory; returns whether the directory itself was emitted.
    fn walk_dir(
        &mut self,
        ctx: &TreeCtx,
        fs_dir: &Path,
        rel: &str,
        dest: &str,
        stack: &mut Vec<(u64, u64)>,
    ) -> Result<bool> {
        let dmd = fs::metadata(fs_dir).at(fs_dir)?;
        let id = (dmd.dev(), dmd.ino());
        if let Some(first) = self.reached.get(&id) {
            // a materialized link above leads back here (a cycle) or to a directory that
            // contains one copied already; links to such directories are named where they
            // are followed (`check_first_visit`)
            let how = if stack.contains(&id) {
                "a symlink cycle"
            } else {
                "two symlinks"
            };
            return Err(Error::Symlink {
                link: fs_dir.display().to_string(),
                target: String::new(),
                reason: format!(
                    "{how} while materializing: this directory is already copied at /{first}. \
                     Keep the link above it (--external-symlinks keep) or exclude it (--exclude)"
                ),
            });
        }
        stack.push(id);
        self.reached.insert(id, dest.to_string());
        let mut names = Vec::new();
        for e in fs::read_dir(fs_dir).at(fs_dir)? {
            let e = e.at(fs_dir)?;
            let name = e.file_name().into_string().map_err(|n| Error::NonUtf8 {
                path: fs_dir.join(n),
            })?;
            // fstatat relative to the open directory (no full path walk); never follows links
            let md = e.metadata().at(fs_dir.join(&name))?;
            names.push((name, md));
        }
        names.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let had_children = !names.is_empty();
        let mut emitted_child = false;
        for (name, md) in names {
            let child_fs = fs_dir.join(&name);
            let child_rel = join(rel, &name);
            let child_dest = join(dest, &name);
            check_name(&name, &child_dest, &ctx.origin)?;
            emitted_child |=
                self.walk_entry(ctx, &child_fs, &child_rel, &child_dest, &name, &md, stack)?;
        }
        stack.pop();
        let emit = emitted_child
            || (!had_children
                && match &self.include {
                    None => true,
                    Some(inc) => !rel.is_empty() && inc.is_match(rel),
                });
        if emit {
            self.add(dest.to_string(), Kind::Dir, ctx.origin.clone())?;
        }
        Ok(emit)
    }

    #[allow(clippy::too_many_arguments)]
    fn walk_entry(
        &mut self,
        ctx: &TreeCtx,
        child_fs: &Path,
        rel: &str,
        dest: &str,
        name: &str,
        md: &fs::Metadata,
        stack: &mut Vec<(u64, u64)>,
    ) -> Result<bool> {
        let ft = md.file_type();
        let pyc = !self.opts.keep_pyc && name.ends_with(".pyc");
        if ft.is_dir() {
            if !self.walks_dir(name, rel) {
                return Ok(false);
            }
            return self.walk_dir(ctx, child_fs, rel, dest, stack);
        }
        // a link leaving the tree under `materialize` stands for what it points to: decide
        // (and filter) as that file or directory
        let link = if ft.is_symlink() {
            let target = to_utf8(fs::read_link(child_fs).at(child_fs)?)?;
            let internal = internal_target(ctx, rel, &target);
            if internal.is_none() && self.opts.external_symlinks == ExternalSymlinks::Materialize {
                let tmd = match fs::metadata(child_fs) {
                    Ok(m) => m,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        return Err(Error::Symlink {
                            link: child_fs.display().to_string(),
                            target,
                            reason: "dangling: cannot materialize a missing target \
                                     (use --external-symlinks keep to keep it as a link)"
                                .into(),
                        })
                    }
                    Err(e) => return Err(Error::io(child_fs, e)),
                };
                if tmd.is_dir() && self.walks_dir(name, rel) {
                    self.check_first_visit(child_fs, &target, rel, &tmd, stack)?;
                }
                return self.walk_entry(ctx, child_fs, rel, dest, name, &tmd, stack);
            }
            Some((target, internal))
        } else {
            None
        };
        if pyc || !self.selected(rel) {
            return Ok(false);
        }
        if ft.is_file() {
            self.add(
                dest.to_string(),
                Kind::File {
                    src: Some(child_fs.to_path_buf()),
                    size: md.len(),
                    mode: FileMode::FromContent,
                },
                ctx.origin.clone(),
            )?;
            return Ok(true);
        }
        if let Some((target, internal)) = link {
            let target = match (internal, self.opts.external_symlinks) {
                (Some((stored, resolved)), _) => {
                    self.check_resolves(ctx, child_fs, &target, rel, &resolved)?;
                    stored
                }
                (None, ExternalSymlinks::Keep) => target,
                (None, _) => {
                    return Err(Error::Symlink {
                        link: child_fs.display().to_string(),
                        target,
                        reason: format!(
                            "points outside the tree of {}; pass --external-symlinks materialize \
                             (copy what it points to) or keep (keep the link as is)",
                            ctx.origin
                        ),
                    })
                }
            };
            self.add(
                dest.to_string(),
                Kind::Symlink {
                    target,
                    from_manifest: false,
                },
                ctx.origin.clone(),
            )?;
            return Ok(true);
        }
        let kind = if ft.is_fifo_like() {
            "fifo"
        } else {
            "socket or device"
        };
        Err(Error::SpecialFile {
            path: child_fs.to_path_buf(),
            kind,
        })
    }

    /// Whether a directory `name` at tree path `rel` is walked (not bytecode, not excluded).
    fn walks_dir(&self, name: &str, rel: &str) -> bool {
        let pycache = !self.opts.keep_pyc && name == "__pycache__";
        !pycache && !self.exclude.as_ref().is_some_and(|ex| ex.is_match(rel))
    }

    /// Refuses to materialize a directory a second time: a link back into a directory being
    /// copied is a cycle, and two links to one directory (nested, they multiply: 34 links
    /// can make 80 KiB of sources into 10 GiB) copy it once per path.
    fn check_first_visit(
        &self,
        link: &Path,
        target: &str,
        rel: &str,
        tmd: &fs::Metadata,
        stack: &[(u64, u64)],
    ) -> Result<()> {
        let id = (tmd.dev(), tmd.ino());
        let dir = fs::canonicalize(link).unwrap_or_else(|_| link.to_path_buf());
        let holder = link.parent().and_then(|p| fs::canonicalize(p).ok());
        let how = match self.reached.get(&id) {
            Some(first) if stack.contains(&id) => format!(
                "a cycle: it leads back to {} (copied at /{first}), which holds the link",
                dir.display()
            ),
            Some(first) => format!(
                "reaches {}, already copied at /{first}; materializing would copy it once \
                 per path to it",
                dir.display()
            ),
            None if holder.is_some_and(|h| h.starts_with(&dir)) => format!(
                "a cycle: it leads to {}, which holds the link",
                dir.display()
            ),
            None => return Ok(()),
        };
        Err(Error::Symlink {
            link: link.display().to_string(),
            target: target.to_string(),
            reason: format!(
                "{how}. Keep the link (--external-symlinks keep, or a `symlink` manifest line) \
                 or leave it out (--exclude {rel})"
            ),
        })
    }

    /// Refuses a link whose target lies in the tree (`resolved`, tree-relative) but does not
    /// exist there: the layer would hold a dangling link. Under `keep`, a target reached
    /// through another link is not judged (that link may point outside the build machine's
    /// view of the image).
    fn check_resolves(
        &self,
        ctx: &TreeCtx,
        link: &Path,
        target: &str,
        rel: &str,
        resolved: &str,
    ) -> Result<()> {
        let path = ctx.abs.join(resolved);
        match fs::symlink_metadata(&path) {
            Ok(_) => Ok(()),
            Err(e)
                if !matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                Err(Error::io(&path, e))
            }
            Err(_)
                if self.opts.external_symlinks == ExternalSymlinks::Keep
                    && through_link(&ctx.abs, resolved) =>
            {
                Ok(())
            }
            Err(_) => Err(Error::Symlink {
                link: link.display().to_string(),
                target: target.to_string(),
                reason: format!(
                    "dangling: its target {} does not exist in the tree of {}. Add the target \
                     to the tree, remove the link, or leave it out (--exclude {rel})",
                    path.display(),
                    ctx.origin,
                ),
            }),
        }
    }

    fn add_manifest(&mut self, file: &Path) -> Result<()> {
        let text = fs::read(file).at(file)?;
        let text = String::from_utf8(text).map_err(|e| Error::Manifest {
            file: file.to_path_buf(),
            line: 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count(),
            msg: "not valid UTF-8".into(),
        })?;
        let lines = parse_manifest(&text).map_err(|(line, msg)| Error::Manifest {
            file: file.to_path_buf(),
            line,
            msg,
        })?;
        let prefix = self.opts.prefix.clone();
        let prefix = prefix.as_deref();
        for l in lines {
            let origin = match &l.arg {
                Some(a) if l.kind != LineKind::Symlink => {
                    format!("{}:{} ({a})", file.display(), l.line)
                }
                _ => format!("{}:{}", file.display(), l.line),
            };
            if l.kind == LineKind::Tree {
                let src = l.arg.clone().unwrap_or_default();
                self.add_tree(Path::new(&src), &l.dest, origin, prefix)?;
                continue;
            }
            let dest = normalize_dest(&l.dest, prefix, &origin)?;
            if dest.is_empty() {
                return Err(Error::BadDest {
                    dest: l.dest.clone(),
                    origin,
                    reason: "only a tree may be placed at the image root".into(),
                });
            }
            let kind = manifest_kind(file, &l)?;
            self.add(dest, kind, origin)?;
        }
        Ok(())
    }

    /// Checks structure and finalises symlink targets.
    fn finish(&mut self) -> Result<()> {
        // a non-directory can't have entries below it
        for (path, p) in &self.map {
            if matches!(p.kind, Kind::Dir) {
                continue;
            }
            let below = format!("{path}/");
            if let Some((child, cp)) = self.map.range(below.clone()..).next() {
                if child.starts_with(&below) {
                    return Err(Error::Duplicate {
                        dest: path.clone(),
                        first: format!("{} (not a directory)", p.origin),
                        second: format!("{} (which puts /{child} inside it)", cp.origin),
                    });
                }
            }
        }
        let mut rewrites = Vec::new();
        for (path, p) in &self.map {
            if let Kind::Symlink {
                target,
                from_manifest,
            } = &p.kind
            {
                if *from_manifest && target.starts_with('/') {
                    // image-absolute target inside this layer: rewrite relative
                    if let Some(t) = resolve_relative("", target) {
                        let below = format!("{t}/");
                        let has_below = self
                            .map
                            .range(below.clone()..)
                            .next()
                            .is_some_and(|(k, _)| k.starts_with(&below));
                        let inside = !t.is_empty() && has_below
                            || !t.is_empty() && {
                                let mut q = t.as_str();
                                loop {
                                    if self.map.contains_key(q) {
                                        break true;
                                    }
                                    if q.is_empty() || !q.contains('/') {
                                        break false;
                                    }
                                    q = parent(q);
                                }
                            };
                        if inside {
                            rewrites.push((path.clone(), relative(parent(path), &t)));
                        }
                    }
                } else if !target.starts_with('/')
                    && !self.opts.allow_escaping_symlinks
                    && resolve_relative(parent(path), target).is_none()
                {
                    return Err(Error::Symlink {
                        link: format!("/{path} (from {})", p.origin),
                        target: target.clone(),
                        reason: "climbs above the image root; pass --allow-escaping-symlinks \
                                 to accept it"
                            .into(),
                    });
                }
            }
        }
        for (path, t) in rewrites {
            if let Some(p) = self.map.get_mut(&path) {
                p.kind = Kind::Symlink {
                    target: t,
                    from_manifest: true,
                };
            }
        }
        Ok(())
    }
}

/// The entry of one manifest line (every kind but `tree`).
fn manifest_kind(file: &Path, l: &ManifestLine) -> Result<Kind> {
    let arg = l.arg.clone().unwrap_or_default();
    Ok(match l.kind {
        LineKind::File | LineKind::Exec | LineKind::Data => {
            regular_file(file, l, PathBuf::from(arg))?
        }
        LineKind::Generated => {
            let src = PathBuf::from(arg);
            match fs::symlink_metadata(&src) {
                // a symlink artifact: Bazel stages it with its own relative target (a
                // generated file is staged as an absolute link to the execroot, or is no link)
                Ok(md) if md.file_type().is_symlink() => {
                    let target = to_utf8(fs::read_link(&src).at(&src)?)?;
                    if target.starts_with('/') {
                        regular_file(file, l, src)?
                    } else {
                        Kind::Symlink {
                            target: nonempty_target(&src, target)?,
                            from_manifest: true,
                        }
                    }
                }
                _ => regular_file(file, l, src)?,
            }
        }
        LineKind::Symlink => Kind::Symlink {
            target: arg,
            from_manifest: true,
        },
        LineKind::Linkof => {
            let src = PathBuf::from(arg);
            let target = to_utf8(read_manifest_link(file, l.line, &src)?)?;
            Kind::Symlink {
                target: nonempty_target(&src, target)?,
                from_manifest: true,
            }
        }
        LineKind::Dir => Kind::Dir,
        LineKind::Empty => Kind::File {
            src: None,
            size: 0,
            mode: FileMode::Data,
        },
        LineKind::Tree => unreachable!("handled by add_manifest"),
    })
}

fn nonempty_target(src: &Path, target: String) -> Result<String> {
    if target.is_empty() {
        return Err(Error::Symlink {
            link: src.display().to_string(),
            target,
            reason: "empty link target".into(),
        });
    }
    Ok(target)
}

/// A regular file entry with SRC's content (SRC followed if it is a symlink).
fn regular_file(file: &Path, l: &ManifestLine, src: PathBuf) -> Result<Kind> {
    let md = fs::metadata(&src)
        .map_err(|e| manifest_err(file, l.line, format!("{}: {e}", src.display())))?;
    if !md.is_file() {
        return Err(Error::Manifest {
            file: file.to_path_buf(),
            line: l.line,
            msg: format!(
                "{} is not a regular file (use `tree` for directories)",
                src.display()
            ),
        });
    }
    // unreadable inputs fail when read, naming the file (the temp output is removed)
    Ok(Kind::File {
        mode: match l.kind {
            LineKind::Exec => FileMode::Exec,
            LineKind::Data => FileMode::Data,
            _ => FileMode::FromContent,
        },
        size: md.len(),
        src: Some(src),
    })
}

/// For a tree symlink whose target stays inside the tree: the target to store (relative, as
/// given, or an absolute path under the tree rewritten relative) and the tree-relative path
/// it resolves to; `None` if it leaves the tree (or points at itself).
fn internal_target(ctx: &TreeCtx, rel: &str, target: &str) -> Option<(String, String)> {
    let link_dir = parent(rel);
    if target.starts_with('/') {
        let t = Path::new(target);
        let r = t
            .strip_prefix(&ctx.abs)
            .ok()
            .or_else(|| ctx.canon.as_ref().and_then(|c| t.strip_prefix(c).ok()));
        r.and_then(|r| r.to_str().map(str::to_string))
            .and_then(|r| resolve_relative("", &r))
            .filter(|r| r != rel)
            .map(|r| (relative(link_dir, &r), r))
    } else {
        resolve_relative(link_dir, target)
            .filter(|r| r != rel)
            .map(|r| (target.to_string(), r))
    }
}

/// Whether a proper prefix of the tree-relative `path` is a symlink under `root`.
fn through_link(root: &Path, path: &str) -> bool {
    let mut prefix = root.to_path_buf();
    let mut parts = path.split('/').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            break;
        }
        prefix.push(part);
        if fs::symlink_metadata(&prefix).is_ok_and(|m| m.file_type().is_symlink()) {
            return true;
        }
    }
    false
}

trait FifoLike {
    fn is_fifo_like(&self) -> bool;
}
impl FifoLike for fs::FileType {
    fn is_fifo_like(&self) -> bool {
        use std::os::unix::fs::FileTypeExt;
        self.is_fifo()
    }
}

/// Files up to this size are read ahead by the prefetch threads; larger ones are streamed.
const PREFETCH_MAX: u64 = 256 * 1024;
/// At most this many files per read-ahead batch.
const BATCH_FILES: usize = 64;
/// A read-ahead batch closes once its files reach this many bytes.
const BATCH_BYTES: u64 = 1024 * 1024;
/// Batches a read-ahead thread may hold ready before it waits for the writer.
const BATCHES_AHEAD: usize = 4;

/// Reads small files ahead on a few threads (the cost of many small files is in open/read
/// syscalls), handing their contents back in entry order. The files are cut into batches of
/// consecutive files (one channel message per batch, not per file: a hand-off per file cost
/// two futex wake-ups per file on trees of tiny files); batch `i` goes to worker `i % n` and
/// batches are taken round-robin, so order never depends on timing.
struct Prefetch {
    rxs: Vec<Receiver<Vec<Result<Vec<u8>>>>>,
    next: usize,
    batch: std::vec::IntoIter<Result<Vec<u8>>>,
}

/// Consecutive small files cut into batches of at most [`BATCH_FILES`] files, closed early
/// once they hold [`BATCH_BYTES`].
fn prefetch_batches(map: &BTreeMap<String, Planned>) -> Vec<Vec<PathBuf>> {
    let mut batches = Vec::new();
    let mut batch = Vec::new();
    let mut bytes = 0u64;
    for p in map.values() {
        if let Kind::File {
            src: Some(src),
            size,
            ..
        } = &p.kind
        {
            if *size <= PREFETCH_MAX {
                batch.push(src.clone());
                bytes += size;
                if batch.len() == BATCH_FILES || bytes >= BATCH_BYTES {
                    batches.push(std::mem::take(&mut batch));
                    bytes = 0;
                }
            }
        }
    }
    if !batch.is_empty() {
        batches.push(batch);
    }
    batches
}

impl Prefetch {
    fn start(map: &BTreeMap<String, Planned>, threads: usize) -> Self {
        let batches = prefetch_batches(map);
        let n = threads.clamp(2, 4).min(batches.len().max(1));
        let mut mine: Vec<Vec<Vec<PathBuf>>> = vec![Vec::new(); n];
        for (i, b) in batches.into_iter().enumerate() {
            mine[i % n].push(b);
        }
        let mut rxs = Vec::new();
        for batches in mine {
            let (tx, rx) = sync_channel::<Vec<Result<Vec<u8>>>>(BATCHES_AHEAD);
            rxs.push(rx);
            std::thread::spawn(move || {
                for batch in batches {
                    let read = batch.iter().map(|p| fs::read(p).at(p)).collect();
                    if tx.send(read).is_err() {
                        return;
                    }
                }
            });
        }
        Prefetch {
            rxs,
            next: 0,
            batch: Vec::new().into_iter(),
        }
    }

    fn next(&mut self, path: &Path) -> Result<Vec<u8>> {
        if let Some(r) = self.batch.next() {
            return r;
        }
        let n = self.rxs.len();
        let batch = self.rxs[self.next % n].recv().map_err(|_| {
            Error::Invalid(format!("{}: read-ahead thread stopped", path.display()))
        })?;
        self.next += 1;
        self.batch = batch.into_iter();
        self.batch.next().unwrap_or_else(|| {
            Err(Error::Invalid(format!(
                "{}: read-ahead batch empty",
                path.display()
            )))
        })
    }
}

/// A file's content, ready to be written after its header.
enum Content {
    None,
    /// Read ahead (files up to [`PREFETCH_MAX`]).
    Small(Vec<u8>),
    /// Streamed from the open file; `head` holds its first bytes.
    Large {
        file: File,
        head: [u8; 4],
        len: usize,
    },
}

impl Content {
    fn open(src: Option<&Path>, size: u64, prefetch: &mut Prefetch) -> Result<Self> {
        let Some(src) = src else {
            return Ok(Content::None);
        };
        if size <= PREFETCH_MAX {
            let data = prefetch.next(src)?;
            if data.len() as u64 != size {
                return Err(Error::Changed {
                    path: src.to_path_buf(),
                    expected: size,
                });
            }
            return Ok(Content::Small(data));
        }
        let file = File::open(src).at(src)?;
        let mut head = [0u8; 4];
        // positional read: the stream copy below still starts at offset 0
        let len = file.read_at(&mut head, 0).at(src)?;
        Ok(Content::Large { file, head, len })
    }

    fn head(&self) -> &[u8] {
        match self {
            Content::None => &[],
            Content::Small(d) => d,
            Content::Large { head, len, .. } => &head[..*len],
        }
    }
}

/// Reads the link SRC of a `linkof` line, naming the manifest and line on failure.
fn read_manifest_link(file: &Path, line: usize, src: &Path) -> Result<PathBuf> {
    fs::read_link(src).map_err(|e| {
        let msg = if e.kind() == std::io::ErrorKind::InvalidInput {
            format!("`linkof` needs a symlink, but {} is not one", src.display())
        } else {
            format!("{}: {e}", src.display())
        };
        manifest_err(file, line, msg)
    })
}

/// An error at `file:line` of a manifest.
fn manifest_err(file: &Path, line: usize, msg: String) -> Error {
    Error::Manifest {
        file: file.to_path_buf(),
        line,
        msg,
    }
}

/// Writes one layer and its descriptor.
pub fn write_layer(opts: &LayerOptions) -> Result<()> {
    let level = opts
        .level
        .unwrap_or_else(|| opts.compression.default_level());
    opts.compression.check_level(level)?;
    if let Some(p) = &opts.prefix {
        if !p.starts_with('/') {
            return Err(Error::Invalid(format!(
                "--prefix {p:?} must be an absolute image path"
            )));
        }
    }
    crate::atomic::check_distinct_outputs(&[
        ("--output", &opts.output),
        ("--descriptor", &opts.descriptor),
    ])?;
    let c = collect_entries(opts)?;

    let mut out = AtomicFile::create(&opts.output)?;
    let file = out.take();
    let mut stream = LayerStream::new(
        file,
        opts.output.clone(),
        opts.compression,
        level,
        opts.threads,
    )?;
    let counts = write_entries(&c.map, opts, &mut stream)?;
    let (file, sum) = stream.finish()?;
    out.put_back(file);
    let descriptor = layer_descriptor(opts, &sum, &counts, c.skipped);
    descriptor.commit_with(&opts.descriptor, out)
}

/// Every entry of the layer from the trees and manifests, checked and with final symlink
/// targets.
fn collect_entries(opts: &LayerOptions) -> Result<Collector<'_>> {
    let mut c = Collector::new(opts)?;
    for (src, dest) in &opts.trees {
        c.add_tree(src, dest, format!("--tree {}", src.display()), None)?;
    }
    for m in &opts.manifests {
        c.add_manifest(m)?;
    }
    c.finish()?;
    Ok(c)
}

/// Entries, regular files and content bytes written.
#[derive(Clone, Copy)]
struct EntryCounts {
    entries: u64,
    files: u64,
    bytes: u64,
}

/// Writes every entry (header, content, padding) in path order.
fn write_entries(
    map: &BTreeMap<String, Planned>,
    opts: &LayerOptions,
    stream: &mut LayerStream,
) -> Result<EntryCounts> {
    let mut prefetch = Prefetch::start(map, opts.threads);
    let mut header = Vec::with_capacity(2048);
    let mut entries = 0u64;
    let mut files = 0u64;
    let mut bytes = 0u64;
    for (path, p) in map {
        header.clear();
        // the content is read before the header: a file's mode may depend on its first bytes
        let mut content = Content::None;
        let (kind, mode, size, link) = match &p.kind {
            Kind::Dir => (EntryType::Dir, 0o755, 0, ""),
            Kind::File { src, size, mode } => {
                content = Content::open(src.as_deref(), *size, &mut prefetch)?;
                (EntryType::File, mode.resolve(content.head()), *size, "")
            }
            Kind::Symlink { target, .. } => (EntryType::Symlink, 0o777, 0, target.as_str()),
        };
        encode_header(
            &HeaderSpec {
                path,
                kind,
                mode,
                uid: opts.uid,
                gid: opts.gid,
                size,
                mtime: opts.mtime,
                link,
            },
            &mut header,
        );
        stream.write_all(&header)?;
        entries += 1;
        if let Kind::File { src, size, .. } = &p.kind {
            files += 1;
            bytes += size;
            match content {
                Content::Small(data) => stream.write_all(&data)?,
                Content::Large { mut file, .. } => {
                    let src = src.as_deref().unwrap_or(Path::new(""));
                    stream.copy_file(&mut file, *size, src)?
                }
                Content::None => {}
            }
            if src.is_some() {
                stream.write_zeros(padding(*size))?;
            }
        }
    }
    Ok(EntryCounts {
        entries,
        files,
        bytes,
    })
}

/// The descriptor of the written layer.
fn layer_descriptor(
    opts: &LayerOptions,
    sum: &StreamSummary,
    counts: &EntryCounts,
    skipped: u64,
) -> Descriptor {
    let EntryCounts {
        entries,
        files,
        bytes,
    } = *counts;
    Descriptor {
        schema: SCHEMA,
        name: None,
        media_type: opts.compression.media_type().into(),
        compression: opts.compression,
        digest: sha256_string(&sum.digest),
        size: sum.size,
        diff_id: sha256_string(&sum.diff_id),
        eoa_offset: sum.eoa_offset,
        entries,
        files,
        uncompressed_size: sum.uncompressed_size,
        skipped,
        packages: opts
            .package
            .iter()
            .map(|(name, version)| Package {
                name: name.clone(),
                version: version.clone(),
                files,
                bytes,
            })
            .collect(),
    }
}

/// True for `*.pyc` files and anything inside a `__pycache__` directory (or the directory).
fn is_bytecode_path(path: &str) -> bool {
    let trimmed = path.trim_end_matches('/');
    trimmed.ends_with(".pyc") || trimmed.split('/').any(|c| c == "__pycache__")
}

#[cfg(test)]
mod bytecode_tests {
    use super::is_bytecode_path;

    #[test]
    fn recognises_bytecode_paths() {
        assert!(is_bytecode_path(
            "app/.runfiles/x/__pycache__/a.cpython-311.pyc"
        ));
        assert!(is_bytecode_path("app/x/__pycache__/"));
        assert!(is_bytecode_path("app/x/mod.pyc"));
        assert!(!is_bytecode_path("app/x/mod.py"));
        assert!(!is_bytecode_path("app/x/pycache/mod.py"));
        assert!(!is_bytecode_path("app/x/a.pyc.txt"));
    }
}
