//! `pyimage merge`: joins per-package layers into one layer without recompressing.
//!
//! The blob is the inputs' bytes up to their `eoa_offset`, concatenated, followed by one
//! end-of-archive member. The inputs are decompressed (in parallel, one stream per worker)
//! only to compute the diff_id, count entries and detect duplicate paths.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};

use sha2::{Digest, Sha256};

use crate::atomic::AtomicFile;
use crate::compress::{Compression, HashWriter};
use crate::descriptor::{aggregate_packages, sha256_string, Descriptor, SCHEMA};
use crate::error::{Error, IoContext, Result};
use crate::tarfmt::{TarReader, EOA_LEN};

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
#[allow(clippy::too_many_lines)] // split into named steps next
pub fn merge_layers(opts: &MergeOptions) -> Result<()> {
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
    let compression = descs[0].compression;
    for (i, d) in descs.iter().enumerate() {
        if d.compression != descs[0].compression {
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

    let mut out = AtomicFile::create(&opts.output)?;
    let out_file = out.take();
    let jobs: Vec<(PathBuf, u64)> = opts
        .inputs
        .iter()
        .zip(&descs)
        .map(|((l, _), d)| (l.clone(), d.eoa_offset))
        .collect();

    // copier: raw bytes up to each eoa_offset, then one end-of-archive member
    let copy_jobs = jobs.clone();
    let out_path = opts.output.clone();
    let copier = std::thread::spawn(move || -> Result<(File, [u8; 32], u64, u64)> {
        let mut w = HashWriter::new(out_file, out_path.clone());
        let mut buf = vec![0u8; 1 << 20];
        for (path, limit) in &copy_jobs {
            let mut f = File::open(path).at(path)?.take(*limit);
            loop {
                let n = f.read(&mut buf).at(path)?;
                if n == 0 {
                    break;
                }
                w.put(&buf[..n])?;
            }
        }
        let eoa = w.count();
        w.put(&compression.eoa_bytes())?;
        let (f, d, n) = w.finish()?;
        Ok((f, d, n, eoa))
    });

    // decompressors: input i is handled by worker i % n, in order
    let n = opts.threads.clamp(1, jobs.len()).min(64);
    let mut rxs = Vec::new();
    let mut workers = Vec::new();
    for w in 0..n {
        let (tx, rx) = sync_channel::<Msg>(8);
        rxs.push(rx);
        let mine: Vec<(PathBuf, u64)> = jobs.iter().skip(w).step_by(n).cloned().collect();
        workers.push(std::thread::spawn(move || {
            for (path, limit) in mine {
                let mut r = match open_decompressed(&path, compression, limit) {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = tx.send(Err(e.to_string()));
                        return;
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
                                return;
                            }
                        }
                    }
                    buf.truncate(fill);
                    if fill > 0 && tx.send(Ok(Some(buf))).is_err() {
                        return;
                    }
                    if eof {
                        break;
                    }
                }
                if tx.send(Ok(None)).is_err() {
                    return;
                }
            }
        }));
    }

    let mut seen: HashMap<String, (usize, bool)> = HashMap::new();
    let mut hasher = Sha256::new();
    let mut total = 0u64;
    let mut entries = 0u64;
    let mut files = 0u64;
    let mut failure: Option<Error> = None;
    'inputs: for (i, (layer, _)) in jobs.iter().enumerate() {
        let chan = ChanReader {
            rx: &rxs[i % n],
            cur: Vec::new(),
            pos: 0,
            done: false,
        };
        let hr = HashReader {
            inner: chan,
            hasher,
            count: 0,
        };
        let mut tr = TarReader::new(hr);
        loop {
            match tr.next_entry() {
                Ok(Some(e)) => {
                    entries += 1;
                    if e.is_file() {
                        files += 1;
                    }
                    let is_dir = e.is_dir();
                    let p = e.normalized_path().to_string();
                    if let Some((first, first_dir)) = seen.get(&p) {
                        if !(is_dir && *first_dir) {
                            failure = Some(Error::MergeDuplicate {
                                path: p,
                                first: jobs[*first].0.display().to_string(),
                                second: layer.display().to_string(),
                            });
                            hasher = Sha256::new();
                            break 'inputs;
                        }
                    } else {
                        seen.insert(p, (i, is_dir));
                    }
                }
                Ok(None) => break,
                Err(msg) => {
                    failure = Some(Error::BadTar {
                        path: layer.clone(),
                        msg,
                    });
                    hasher = Sha256::new();
                    break 'inputs;
                }
            }
        }
        let mut hr = tr.into_inner();
        // anything after an early end-of-archive block is an error
        let mut probe = [0u8; 1];
        match hr.read(&mut probe) {
            Ok(0) => {}
            Ok(_) => {
                failure = Some(Error::BadTar {
                    path: layer.clone(),
                    msg: "end-of-archive before eoa_offset (not a pyimage layer?)".into(),
                });
                hasher = Sha256::new();
                break 'inputs;
            }
            Err(e) => {
                failure = Some(Error::BadTar {
                    path: layer.clone(),
                    msg: e.to_string(),
                });
                hasher = Sha256::new();
                break 'inputs;
            }
        }
        total += hr.count;
        hasher = hr.hasher;
    }
    drop(rxs);
    for w in workers {
        let _ = w.join();
    }
    let copied = copier
        .join()
        .map_err(|_| Error::Invalid("merge: copy thread panicked".into()))?;
    if let Some(e) = failure {
        return Err(e);
    }
    let (file, digest, size, eoa_offset) = copied?;
    out.put_back(file);
    hasher.update([0u8; EOA_LEN]);
    let diff_id: [u8; 32] = hasher.finalize().into();
    let descriptor = Descriptor {
        schema: SCHEMA,
        name: opts.name.clone(),
        media_type: compression.media_type().into(),
        compression,
        digest: sha256_string(&digest),
        size,
        diff_id: sha256_string(&diff_id),
        eoa_offset,
        entries,
        files,
        uncompressed_size: total + EOA_LEN as u64,
        skipped: descs.iter().map(|d| d.skipped).sum(),
        packages: aggregate_packages(descs.into_iter().flat_map(|d| d.packages)),
    };
    descriptor.write(&opts.descriptor)?;
    out.commit()?;
    Ok(())
}
