//! `pyimage merge`: joins per-package layers into one layer without recompressing.
//!
//! The blob is the inputs' bytes up to their `eoa_offset`, concatenated, followed by one
//! end-of-archive member. The inputs are decompressed (in parallel, one stream per worker)
//! only to compute the diff_id, count entries and detect duplicate paths.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use sha2::{Digest, Sha256};

use crate::atomic::AtomicFile;
use crate::compress::{Compression, HashWriter};
use crate::descriptor::{aggregate_packages, sha256_string, Descriptor, SCHEMA};
use crate::error::{Error, IoContext, Result};
use crate::paths::normalize_dest;
use crate::tarfmt::{ReadEntry, TarReader, EOA_LEN};

/// Everything `merge` needs.
#[derive(Debug, Clone)]
pub struct MergeOptions {
    /// Output blob.
    pub output: PathBuf,
    /// Output descriptor.
    pub descriptor: PathBuf,
    /// Group name, used in messages.
    pub name: Option<String>,
    /// `(layer, descriptor)` inputs, in order.
    pub inputs: Vec<(PathBuf, PathBuf)>,
    /// Decompression workers (>= 1); never changes the bytes.
    pub threads: usize,
}

/// Opens a decompressing reader over the first `limit` bytes of `path`.
pub(crate) fn open_decompressed(
    path: &Path,
    compression: Compression,
    limit: u64,
) -> Result<Box<dyn Read + Send>> {
    let f = File::open(path).at(path)?;
    let r = BufReader::with_capacity(256 * 1024, f.take(limit));
    Ok(match compression {
        Compression::None => Box::new(r),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(r)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(r).at(path)?),
    })
}

type Msg = std::result::Result<Option<Vec<u8>>, String>;

struct ChanReader<'a> {
    rx: &'a Receiver<Msg>,
    cur: Vec<u8>,
    pos: usize,
    done: bool,
}

impl Read for ChanReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.cur.len() {
            if self.done {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Ok(Some(v))) => {
                    self.cur = v;
                    self.pos = 0;
                }
                Ok(Ok(None)) => {
                    self.done = true;
                    return Ok(0);
                }
                Ok(Err(e)) => return Err(io::Error::other(e)),
                Err(_) => return Err(io::Error::other("decompression worker stopped")),
            }
        }
        let n = buf.len().min(self.cur.len() - self.pos);
        buf[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

struct HashReader<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
}

impl<R: Read> Read for HashReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// Merges layers and writes the merged layer's descriptor.
pub fn merge_layers(opts: &MergeOptions) -> Result<()> {
    crate::atomic::check_distinct_outputs(&[
        ("--output", &opts.output),
        ("--descriptor", &opts.descriptor),
    ])?;
    let (descs, compression) = read_input_descriptors(opts)?;
    let mut out = AtomicFile::create(&opts.output)?;
    let jobs: Vec<(PathBuf, u64)> = opts
        .inputs
        .iter()
        .zip(&descs)
        .map(|((l, _), d)| (l.clone(), d.eoa_offset))
        .collect();
    let expected: Vec<(PathBuf, String)> = opts
        .inputs
        .iter()
        .zip(&descs)
        .map(|((_, dpath), d)| (dpath.clone(), d.digest.clone()))
        .collect();
    let copier = spawn_copier(
        out.take(),
        opts.output.clone(),
        jobs.clone(),
        expected,
        compression,
    );
    let n = opts.threads.clamp(1, jobs.len()).min(64);
    let (rxs, workers) = spawn_decompressors(&jobs, compression, n);
    let scanned = scan_inputs(&jobs, &rxs);
    drop(rxs);
    for w in workers {
        let _ = w.join();
    }
    let copied = copier
        .join()
        .map_err(|_| Error::Invalid("merge: copy thread panicked".into()))?;
    let mut scan = scanned?;
    let (file, digest, size, eoa_offset) = copied?;
    out.put_back(file);
    scan.hasher.update([0u8; EOA_LEN]);
    let diff_id: [u8; 32] = scan.hasher.finalize().into();
    let descriptor = Descriptor {
        schema: SCHEMA,
        name: opts.name.clone(),
        media_type: compression.media_type().into(),
        compression,
        digest: sha256_string(&digest),
        size,
        diff_id: sha256_string(&diff_id),
        eoa_offset,
        entries: scan.entries,
        files: scan.files,
        uncompressed_size: scan.total + EOA_LEN as u64,
        skipped: descs.iter().map(|d| d.skipped).sum(),
        packages: aggregate_packages(descs.into_iter().flat_map(|d| d.packages)),
    };
    descriptor.commit_with(&opts.descriptor, out)
}

/// Reads every input's descriptor, checks it against its layer file and checks that all
/// inputs share one compression.
fn read_input_descriptors(opts: &MergeOptions) -> Result<(Vec<Descriptor>, Compression)> {
    if opts.inputs.is_empty() {
        return Err(Error::Invalid(
            "merge needs at least one LAYER=DESCRIPTOR".into(),
        ));
    }
    let mut descs = Vec::new();
    for (layer, dpath) in &opts.inputs {
        let d = Descriptor::read(dpath)?;
        let actual = std::fs::metadata(layer).at(layer)?.len();
        if actual != d.size {
            return Err(Error::BadDescriptor {
                path: dpath.clone(),
                msg: format!(
                    "says size {} but {} has {actual} bytes (stale descriptor?)",
                    d.size,
                    layer.display()
                ),
            });
        }
        descs.push(d);
    }
    // the merged descriptor's `skipped` and package totals are sums over the inputs
    crate::descriptor::check_descriptor_totals(
        opts.inputs.iter().map(|(_, p)| p.as_path()).zip(&descs),
    )?;
    let compression = descs[0].compression;
    for (i, d) in descs.iter().enumerate() {
        if d.compression != compression {
            return Err(Error::Invalid(format!(
                "merge{}: all inputs must share one compression: {} is {} but {} is {}",
                opts.name
                    .as_deref()
                    .map(|n| format!(" {n}"))
                    .unwrap_or_default(),
                opts.inputs[0].0.display(),
                compression.name(),
                opts.inputs[i].0.display(),
                d.compression.name()
            )));
        }
    }
    Ok((descs, compression))
}

type CopyResult = Result<(File, [u8; 32], u64, u64)>; // file, digest, size, eoa_offset

/// Copies each input's raw bytes up to its `eoa_offset` into `out`, then one end-of-archive
/// member, hashing the blob on the way. Each input is hashed whole and checked against the
/// digest of its descriptor (`expected`: descriptor path, digest), so a different blob of
/// the same size is refused rather than merged with another blob's package list.
fn spawn_copier(
    out: File,
    out_path: PathBuf,
    jobs: Vec<(PathBuf, u64)>,
    expected: Vec<(PathBuf, String)>,
    compression: Compression,
) -> std::thread::JoinHandle<CopyResult> {
    std::thread::spawn(move || -> CopyResult {
        let mut w = HashWriter::new(out, out_path);
        let mut buf = vec![0u8; 1 << 20];
        for ((path, limit), (dpath, digest)) in jobs.iter().zip(&expected) {
            let mut f = File::open(path).at(path)?;
            let mut input = Sha256::new();
            let mut left = *limit;
            loop {
                let n = f.read(&mut buf).at(path)?;
                if n == 0 {
                    break;
                }
                input.update(&buf[..n]);
                let keep = n.min(usize::try_from(left).unwrap_or(usize::MAX));
                w.put(&buf[..keep])?;
                left -= keep as u64;
            }
            let actual = sha256_string(&input.finalize().into());
            if &actual != digest {
                return Err(Error::BadDescriptor {
                    path: dpath.clone(),
                    msg: format!(
                        "says digest {digest} but {} has {actual} (stale or mismatched descriptor?)",
                        path.display()
                    ),
                });
            }
        }
        let eoa = w.count();
        w.put(&compression.eoa_bytes())?;
        let (f, d, n) = w.finish()?;
        Ok((f, d, n, eoa))
    })
}

/// Starts `n` decompression workers: input `i` is handled by worker `i % n`, in order, and
/// its decompressed bytes arrive on receiver `i % n` followed by `Ok(None)`.
fn spawn_decompressors(
    jobs: &[(PathBuf, u64)],
    compression: Compression,
    n: usize,
) -> (Vec<Receiver<Msg>>, Vec<std::thread::JoinHandle<()>>) {
    let mut rxs = Vec::new();
    let mut workers = Vec::new();
    for w in 0..n {
        let (tx, rx) = sync_channel::<Msg>(8);
        rxs.push(rx);
        let mine: Vec<(PathBuf, u64)> = jobs.iter().skip(w).step_by(n).cloned().collect();
        workers.push(std::thread::spawn(move || {
            for (path, limit) in mine {
                if decompress_into(&tx, &path, compression, limit).is_err() {
                    return;
                }
            }
        }));
    }
    (rxs, workers)
}

/// Sends one input's decompressed bytes in 512 KiB pieces, then `Ok(None)`. `Err(())` when
/// the input failed (the error was sent) or the receiver is gone.
fn decompress_into(
    tx: &SyncSender<Msg>,
    path: &Path,
    compression: Compression,
    limit: u64,
) -> std::result::Result<(), ()> {
    let mut r = match open_decompressed(path, compression, limit) {
        Ok(r) => r,
        Err(e) => {
            let _ = tx.send(Err(e.to_string()));
            return Err(());
        }
    };
    loop {
        let mut buf = vec![0u8; 512 * 1024];
        let mut fill = 0;
        let mut eof = false;
        while fill < buf.len() {
            match r.read(&mut buf[fill..]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(k) => fill += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = tx.send(Err(format!("{}: {e}", path.display())));
                    return Err(());
                }
            }
        }
        buf.truncate(fill);
        if fill > 0 && tx.send(Ok(Some(buf))).is_err() {
            return Err(());
        }
        if eof {
            break;
        }
    }
    tx.send(Ok(None)).map_err(|_| ())
}

/// Every path seen so far in the merge inputs: which input it came from and whether it is a
/// directory.
#[derive(Default)]
struct Tree {
    seen: BTreeMap<String, (usize, u8)>,
}

impl Tree {
    /// Adds an entry of input `i`, refusing what `layer` refuses within one layer: a member
    /// that is not a file, directory or symlink, a path that is absolute or holds `..`,
    /// `//` or a `.wh.` name, a path already present (unless both are directories), and a
    /// path below a non-directory (a file, or a symlink an extractor would write through).
    fn add(&mut self, e: &ReadEntry, i: usize, jobs: &[(PathBuf, u64)]) -> Result<()> {
        let input = |k: usize| jobs[k].0.display().to_string();
        let foreign = |reason: String| Error::BadTar {
            path: jobs[i].0.clone(),
            msg: format!(
                "member {:?}: {reason} (not written by pyimage layer)",
                e.path
            ),
        };
        if !matches!(e.typeflag, b'0' | b'5' | b'2') {
            return Err(foreign(format!(
                "type {:?} is not a file, directory or symlink",
                char::from(e.typeflag)
            )));
        }
        if e.path.starts_with('/') {
            return Err(foreign("absolute path".into()));
        }
        let p = normalize_dest(&format!("/{}", e.path), None, "merge input")
            .map_err(|err| foreign(err.to_string()))?;
        let is_dir = e.is_dir();
        if let Some(&(first, kind)) = self.seen.get(&p) {
            if is_dir && kind == b'5' {
                return Ok(());
            }
            return Err(Error::MergeDuplicate {
                path: p,
                first: input(first),
                second: input(i),
            });
        }
        let what = |k: u8| if k == b'2' { "symlink" } else { "file" };
        for (cut, _) in p.match_indices('/') {
            if let Some(&(first, kind)) = self.seen.get(&p[..cut]) {
                if kind != b'5' {
                    return Err(Error::Invalid(format!(
                        "merge: /{p} in {} lies below the {} /{} in {}: extractors refuse it or write through the link",
                        input(i), what(kind), &p[..cut], input(first)
                    )));
                }
            }
        }
        if !is_dir {
            let below = format!("{p}/");
            if let Some((child, &(first, _))) = self.seen.range(below.clone()..).next() {
                if child.starts_with(&below) {
                    return Err(Error::Invalid(format!(
                        "merge: /{child} in {} lies below the {} /{p} in {}: extractors refuse it or write through the link",
                        input(first), what(e.typeflag), input(i)
                    )));
                }
            }
        }
        self.seen.insert(p, (i, e.typeflag));
        Ok(())
    }
}

/// What reading the inputs' tar streams found.
struct Scan {
    hasher: Sha256,
    total: u64,
    entries: u64,
    files: u64,
}

/// Reads every input's tar stream in order: hashes it (the merged diff_id), counts entries
/// and files, and applies `layer`'s rules across inputs (see [`Tree::add`]).
fn scan_inputs(jobs: &[(PathBuf, u64)], rxs: &[Receiver<Msg>]) -> Result<Scan> {
    let mut tree = Tree::default();
    let mut scan = Scan {
        hasher: Sha256::new(),
        total: 0,
        entries: 0,
        files: 0,
    };
    for (i, (layer, _)) in jobs.iter().enumerate() {
        let chan = ChanReader {
            rx: &rxs[i % rxs.len()],
            cur: Vec::new(),
            pos: 0,
            done: false,
        };
        let hr = HashReader {
            inner: chan,
            hasher: std::mem::take(&mut scan.hasher),
            count: 0,
        };
        let mut tr = TarReader::new(hr);
        while let Some(e) = tr.next_entry().map_err(|msg| Error::BadTar {
            path: layer.clone(),
            msg,
        })? {
            scan.entries += 1;
            scan.files += u64::from(e.is_file());
            tree.add(&e, i, jobs)?;
        }
        let mut hr = tr.into_inner();
        // anything after an early end-of-archive block is an error
        let mut probe = [0u8; 1];
        match hr.read(&mut probe) {
            Ok(0) => {}
            Ok(_) => {
                return Err(Error::BadTar {
                    path: layer.clone(),
                    msg: "end-of-archive before eoa_offset (not a pyimage layer?)".into(),
                })
            }
            Err(e) => {
                return Err(Error::BadTar {
                    path: layer.clone(),
                    msg: e.to_string(),
                })
            }
        }
        scan.total += hr.count;
        scan.hasher = hr.hasher;
    }
    Ok(scan)
}
