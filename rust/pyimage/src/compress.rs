//! The output pipeline: the tar stream is cut into chunks that are hashed (diff_id) and
//! compressed on other threads, so reading sources, hashing and compressing overlap.
//!
//! Output bytes never depend on the number of threads:
//! * gzip: the stream is cut into fixed 2 MiB blocks ([`GZIP_BLOCK`]; the last one shorter).
//!   Each block becomes its own gzip member: header (no flags, mtime 0, XFL 0, OS 255), the
//!   block deflated by libdeflate with no preset dictionary, CRC-32, length. `--level N` is
//!   libdeflate's level N (0 stores; 9 is the slowest and smallest); at levels 1-8 a block that
//!   deflates to less than 1/8 of its size ([`GZIP_REDO_RATIO`]) is deflated again at level
//!   N + 1 and the smaller output is kept. The choice depends only on the block's bytes, so the
//!   output is still independent of the thread count; it closes libdeflate's gap to `gzip -6`
//!   on very repetitive input (many tiny source files) at almost no cost on real packages.
//!   A gzip file may hold several members (RFC 1952 2.2); GNU gzip, Python's gzip and Go's
//!   compress/gzip read them as one stream.
//! * zstd: libzstd's multi-threaded mode with at least one worker (its output does not depend
//!   on the worker count), a pinned job size of 8 MiB, content checksum on.
//! * the end-of-archive blocks go into their own gzip member / zstd frame (constant bytes).

use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use flate2::{Compress, Crc, FlushCompress, Status};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::tarfmt::EOA_LEN;

/// Size of one independently compressed gzip block, one gzip member each (part of the byte
/// format).
pub(crate) const GZIP_BLOCK: usize = 2 * 1024 * 1024;
/// A block deflated to less than 1/`GZIP_REDO_RATIO` of its size is deflated again one level
/// higher (part of the byte format).
pub(crate) const GZIP_REDO_RATIO: usize = 8;
/// zstd job size when compressing with worker threads (part of the byte format).
pub(crate) const ZSTD_JOB_SIZE: u32 = 8 * 1024 * 1024;
/// At most this many deflate workers.
const MAX_GZIP_WORKERS: usize = 64;
/// At most this many libzstd workers (each buffers about two jobs).
const MAX_ZSTD_WORKERS: usize = 16;
/// zstd levels from here on (libzstd's "ultra" levels) need about 750 MiB per worker.
const ZSTD_ULTRA_LEVEL: i32 = 20;
/// At most this many libzstd workers at the ultra levels, to bound memory.
const MAX_ZSTD_ULTRA_WORKERS: usize = 2;
/// Chunk size of the pipeline for `none` and `zstd` (does not affect the bytes).
/// Small enough to stay in cache between the producing and the consuming thread.
const CHUNK: usize = 256 * 1024;
/// The gzip member header we write: no flags, mtime 0, XFL 0, OS 255 (unknown).
pub(crate) const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
/// zstd level used for the constant end-of-archive frame.
const ZSTD_EOA_LEVEL: i32 = 3;
/// deflate level used for the constant end-of-archive member.
const GZIP_EOA_LEVEL: u32 = 9;

/// Compression of a layer blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Plain tar.
    None,
    /// gzip (deflate), parallel: one gzip member per fixed 2 MiB block.
    Gzip,
    /// Zstandard.
    Zstd,
}

impl Compression {
    /// The OCI media type of a layer with this compression.
    pub fn media_type(self) -> &'static str {
        match self {
            Compression::None => "application/vnd.oci.image.layer.v1.tar",
            Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }

    /// The name used on the command line and in descriptors.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// Every compression, in the order of the table in `py/private/compression.bzl`.
    pub const ALL: [Compression; 3] = [Compression::Gzip, Compression::None, Compression::Zstd];

    /// The accepted levels and the default level.
    pub fn levels(self) -> LevelRange {
        match self {
            Compression::None => LevelRange {
                min: 0,
                max: 0,
                default: 0,
            },
            Compression::Gzip => LevelRange {
                min: 0,
                max: 9,
                default: 6,
            },
            Compression::Zstd => LevelRange {
                min: 1,
                max: 22,
                default: 3,
            },
        }
    }

    /// Default level: gzip 6, zstd 3.
    pub fn default_level(self) -> i32 {
        self.levels().default
    }

    /// Checks a level for this compression.
    pub fn check_level(self, level: i32) -> Result<()> {
        let r = self.levels();
        if (r.min..=r.max).contains(&level) {
            return Ok(());
        }
        Err(Error::Invalid(format!(
            "--level {level} is out of range for {}: use {}-{} (default {})",
            self.name(),
            r.min,
            r.max,
            r.default
        )))
    }

    /// The bytes that end a blob of this compression: the end-of-archive blocks in their own
    /// member/frame. Constant for a given compression (independent of the level).
    pub fn eoa_bytes(self) -> Vec<u8> {
        let zeros = [0u8; EOA_LEN];
        match self {
            Compression::None => zeros.to_vec(),
            Compression::Gzip => {
                let mut c = Compress::new(flate2::Compression::new(GZIP_EOA_LEVEL), false);
                let mut out = Vec::with_capacity(64);
                out.extend_from_slice(&GZIP_HEADER);
                let mut body = Vec::with_capacity(256);
                loop {
                    let consumed = c.total_in() as usize;
                    let st = c
                        .compress_vec(&zeros[consumed..], &mut body, FlushCompress::Finish)
                        .expect("deflate of constant data");
                    if st == Status::StreamEnd {
                        break;
                    }
                    body.reserve(256);
                }
                out.extend_from_slice(&body);
                let mut crc = Crc::new();
                crc.update(&zeros);
                out.extend_from_slice(&crc.sum().to_le_bytes());
                out.extend_from_slice(&(EOA_LEN as u32).to_le_bytes());
                out
            }
            Compression::Zstd => {
                zstd::bulk::compress(&zeros, ZSTD_EOA_LEVEL).expect("zstd of constant data")
            }
        }
    }
}

/// The inclusive range of levels of one compression, and its default level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelRange {
    /// Lowest accepted level.
    pub min: i32,
    /// Highest accepted level.
    pub max: i32,
    /// Level used when none is given.
    pub default: i32,
}

/// What the pipeline produced.
#[derive(Debug, Clone)]
pub(crate) struct StreamSummary {
    /// sha256 of the blob.
    pub digest: [u8; 32],
    /// Blob size.
    pub size: u64,
    /// sha256 of the uncompressed tar (end-of-archive included).
    pub diff_id: [u8; 32],
    /// Uncompressed tar size (end-of-archive included).
    pub uncompressed_size: u64,
    /// Offset of the end-of-archive member in the blob.
    pub eoa_offset: u64,
}

/// A writer that hashes and counts what passes through.
#[derive(Debug)]
pub(crate) struct HashWriter<W> {
    inner: W,
    hasher: Sha256,
    count: u64,
    path: PathBuf,
}

impl<W: Write> HashWriter<W> {
    /// Wraps `inner`; `path` is used in error messages.
    pub(crate) fn new(inner: W, path: PathBuf) -> Self {
        HashWriter {
            inner,
            hasher: Sha256::new(),
            count: 0,
            path,
        }
    }

    /// Bytes written so far.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// Writes everything, with the path in the error.
    pub(crate) fn put(&mut self, buf: &[u8]) -> Result<()> {
        self.write_all(buf).map_err(|e| Error::io(&self.path, e))
    }

    /// Flushes and returns (inner, digest, count).
    pub(crate) fn finish(mut self) -> Result<(W, [u8; 32], u64)> {
        self.inner.flush().map_err(|e| Error::io(&self.path, e))?;
        Ok((self.inner, self.hasher.finalize().into(), self.count))
    }
}

/// Largest single `write(2)`: on the Linux 6.x kernels we measured, writes of 256 KiB or more
/// into the page cache cost up to 8x the system time of 64 KiB writes (large-folio path).
const WRITE_MAX: usize = 64 * 1024;

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(&buf[..buf.len().min(WRITE_MAX)])?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A chunk of the tar stream; its buffer returns to the pool when the last reference drops,
/// so the pipeline reuses a few warm buffers instead of allocating and copying.
struct PooledBuf {
    data: Vec<u8>,
    len: usize,
    pool: Sender<Vec<u8>>,
}

impl Drop for PooledBuf {
    fn drop(&mut self) {
        let _ = self.pool.send(std::mem::take(&mut self.data));
    }
}

impl std::ops::Deref for PooledBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.data[..self.len]
    }
}

type Chunk = Arc<PooledBuf>;
type WriterResult = Result<(File, [u8; 32], u64, u64)>; // file, digest, size, eoa_offset

enum Backend {
    None,
    Gzip {
        jobs: Vec<SyncSender<Chunk>>,
        workers: Vec<JoinHandle<()>>,
        index: usize,
    },
    Zstd {
        tx: SyncSender<Chunk>,
    },
}

/// Streams a tar body into a compressed blob on worker threads.
pub(crate) struct LayerStream {
    compression: Compression,
    chunk_size: usize,
    buf: Vec<u8>,
    fill: usize,
    uncompressed: u64,
    backend: Backend,
    diff_tx: Option<SyncSender<Chunk>>,
    diff_h: Option<JoinHandle<Sha256>>,
    writer: Option<JoinHandle<WriterResult>>,
    path: PathBuf,
    pool_tx: Sender<Vec<u8>>,
    pool_rx: Receiver<Vec<u8>>,
}

impl std::fmt::Debug for LayerStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LayerStream")
            .field("compression", &self.compression)
            .field("uncompressed", &self.uncompressed)
            .finish_non_exhaustive()
    }
}

/// The deflate encoders of one gzip worker: libdeflate at the layer's level and, for blocks
/// that shrink more than [`GZIP_REDO_RATIO`]:1, one level higher.
struct BlockDeflater {
    base: libdeflater::Compressor,
    redo: Option<libdeflater::Compressor>,
    scratch: Vec<u8>,
}

impl BlockDeflater {
    /// `level` is checked by [`Compression::check_level`] (0-9).
    fn new(level: i32) -> Self {
        let lvl = |l| libdeflater::CompressionLvl::new(l).expect("gzip level 0-9");
        BlockDeflater {
            base: libdeflater::Compressor::new(lvl(level)),
            redo: (1..=8)
                .contains(&level)
                .then(|| libdeflater::Compressor::new(lvl(level + 1))),
            scratch: Vec::new(),
        }
    }

    /// One gzip member holding `block`: header, deflate stream, CRC-32, length.
    fn member(&mut self, block: &[u8], out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&GZIP_HEADER);
        let start = out.len();
        out.resize(start + self.base.deflate_compress_bound(block.len()), 0);
        let n = self
            .base
            .deflate_compress(block, &mut out[start..])
            .expect("the bound fits the deflate output");
        out.truncate(start + n);
        if let Some(redo) = &mut self.redo {
            if n * GZIP_REDO_RATIO < block.len() {
                self.scratch
                    .resize(redo.deflate_compress_bound(block.len()), 0);
                let m = redo
                    .deflate_compress(block, &mut self.scratch)
                    .expect("the bound fits the deflate output");
                if m < n {
                    out.truncate(start);
                    out.extend_from_slice(&self.scratch[..m]);
                }
            }
        }
        let mut crc = libdeflater::Crc::new();
        crc.update(block);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        // blocks are at most GZIP_BLOCK bytes, so the length fits ISIZE
        out.extend_from_slice(&(block.len() as u32).to_le_bytes());
    }
}

/// `none`: a writer thread that hashes and writes the tar as it comes, then the
/// end-of-archive blocks.
fn start_plain_writer(out: File, path: PathBuf) -> (SyncSender<Chunk>, JoinHandle<WriterResult>) {
    let (tx, rx) = sync_channel::<Chunk>(8);
    let p = path;
    let writer = std::thread::spawn(move || -> WriterResult {
        let mut w = HashWriter::new(out, p);
        for chunk in rx {
            w.put(&chunk)?;
        }
        let eoa = w.count();
        w.put(&Compression::None.eoa_bytes())?;
        let (f, d, n) = w.finish()?;
        Ok((f, d, n, eoa))
    });
    (tx, writer)
}

/// gzip: `threads` deflate workers (block `i` goes to worker `i % threads`) and a writer
/// thread that writes their members in block order.
fn start_gzip(
    out: File,
    path: PathBuf,
    level: i32,
    threads: usize,
) -> (Backend, JoinHandle<WriterResult>) {
    let mut jobs = Vec::new();
    let mut results: Vec<Receiver<Vec<u8>>> = Vec::new();
    let mut workers = Vec::new();
    for _ in 0..threads {
        let (jtx, jrx) = sync_channel::<Chunk>(2);
        let (rtx, rrx) = sync_channel::<Vec<u8>>(2);
        jobs.push(jtx);
        results.push(rrx);
        workers.push(std::thread::spawn(move || {
            let mut deflater = BlockDeflater::new(level);
            for block in jrx {
                let mut member = Vec::new();
                deflater.member(&block, &mut member);
                if rtx.send(member).is_err() {
                    return;
                }
            }
        }));
    }
    let p = path;
    let writer = std::thread::spawn(move || -> WriterResult {
        let mut w = HashWriter::new(out, p);
        let mut i = 0usize;
        while let Ok(member) = results[i % results.len()].recv() {
            w.put(&member)?;
            i += 1;
        }
        let eoa = w.count();
        w.put(&Compression::Gzip.eoa_bytes())?;
        let (f, d, n) = w.finish()?;
        Ok((f, d, n, eoa))
    });
    let backend = Backend::Gzip {
        jobs,
        workers,
        index: 0,
    };
    (backend, writer)
}

/// zstd: libzstd's multi-threaded encoder (pinned job size, content checksum) on a writer
/// thread.
fn start_zstd(
    out: File,
    path: PathBuf,
    level: i32,
    threads: usize,
) -> (Backend, JoinHandle<WriterResult>) {
    let (tx, rx) = sync_channel::<Chunk>(4);
    let p = path;
    let cap = if level >= ZSTD_ULTRA_LEVEL {
        MAX_ZSTD_ULTRA_WORKERS
    } else {
        MAX_ZSTD_WORKERS
    };
    let workers = threads.min(cap) as u32;
    let writer = std::thread::spawn(move || -> WriterResult {
        let hw = HashWriter::new(io::BufWriter::with_capacity(WRITE_MAX, out), p.clone());
        let mut enc = zstd::stream::write::Encoder::new(hw, level).map_err(|e| Error::io(&p, e))?;
        enc.multithread(workers).map_err(|e| Error::io(&p, e))?;
        enc.set_parameter(zstd::stream::raw::CParameter::JobSize(ZSTD_JOB_SIZE))
            .map_err(|e| Error::io(&p, e))?;
        enc.include_checksum(true).map_err(|e| Error::io(&p, e))?;
        for chunk in rx {
            enc.write_all(&chunk).map_err(|e| Error::io(&p, e))?;
        }
        let mut hw = enc.finish().map_err(|e| Error::io(&p, e))?;
        let eoa = hw.count();
        hw.put(&Compression::Zstd.eoa_bytes())?;
        let (bw, d, n) = hw.finish()?;
        let f = bw.into_inner().map_err(|e| Error::io(&p, e.into_error()))?;
        Ok((f, d, n, eoa))
    });
    (Backend::Zstd { tx }, writer)
}

/// The thread hashing the uncompressed tar (the diff_id) of compressed layers.
fn start_diff_hasher() -> (SyncSender<Chunk>, JoinHandle<Sha256>) {
    let (tx, rx) = sync_channel::<Chunk>(8);
    let h = std::thread::spawn(move || {
        let mut h = Sha256::new();
        for chunk in rx {
            h.update(&chunk[..]);
        }
        h
    });
    (tx, h)
}

impl LayerStream {
    /// Starts the pipeline writing into `out` (already created; `path` is for messages).
    pub(crate) fn new(
        out: File,
        path: PathBuf,
        compression: Compression,
        level: i32,
        threads: usize,
    ) -> Result<Self> {
        compression.check_level(level)?;
        // bytes never depend on the worker count; the caps only bound memory and threads
        let threads = threads.clamp(1, MAX_GZIP_WORKERS);
        let chunk_size = if compression == Compression::Gzip {
            GZIP_BLOCK
        } else {
            CHUNK
        };
        let (backend, writer, diff_tx, diff_h) = match compression {
            Compression::None => {
                // for `none` the blob is the tar: the writer's hash is the diff_id
                let (tx, writer) = start_plain_writer(out, path.clone());
                (Backend::None, writer, tx, None)
            }
            Compression::Gzip => {
                let (backend, writer) = start_gzip(out, path.clone(), level, threads);
                let (tx, h) = start_diff_hasher();
                (backend, writer, tx, Some(h))
            }
            Compression::Zstd => {
                let (backend, writer) = start_zstd(out, path.clone(), level, threads);
                let (tx, h) = start_diff_hasher();
                (backend, writer, tx, Some(h))
            }
        };
        let (pool_tx, pool_rx) = channel();
        Ok(LayerStream {
            compression,
            chunk_size,
            buf: vec![0; chunk_size],
            fill: 0,
            uncompressed: 0,
            backend,
            diff_tx: Some(diff_tx),
            diff_h,
            writer: Some(writer),
            path,
            pool_tx,
            pool_rx,
        })
    }

    fn broken(&mut self) -> Error {
        // a consumer thread stopped: its error is the real one
        self.shutdown();
        match self.writer.take().map(|w| w.join()) {
            Some(Ok(Err(e))) => e,
            _ => Error::Invalid(format!(
                "{}: output pipeline stopped unexpectedly",
                self.path.display()
            )),
        }
    }

    fn shutdown(&mut self) {
        self.backend = Backend::None;
        self.diff_tx = None;
        if let Some(h) = self.diff_h.take() {
            let _ = h.join();
        }
    }

    fn dispatch(&mut self) -> Result<()> {
        if self.fill == 0 {
            return Ok(());
        }
        let fresh = self
            .pool_rx
            .try_recv()
            .unwrap_or_else(|_| vec![0u8; self.chunk_size]);
        let data = std::mem::replace(&mut self.buf, fresh);
        let chunk: Chunk = Arc::new(PooledBuf {
            data,
            len: self.fill,
            pool: self.pool_tx.clone(),
        });
        self.fill = 0;
        // for `none` the diff channel is the writer
        let ok = match &self.diff_tx {
            Some(tx) => tx.send(chunk.clone()).is_ok(),
            None => false,
        };
        if !ok {
            return Err(self.broken());
        }
        let ok = match &mut self.backend {
            Backend::None => true,
            Backend::Gzip { jobs, index, .. } => {
                let n = jobs.len();
                let r = jobs[*index % n].send(chunk).is_ok();
                *index += 1;
                r
            }
            Backend::Zstd { tx } => tx.send(chunk).is_ok(),
        };
        if !ok {
            return Err(self.broken());
        }
        Ok(())
    }

    /// Appends bytes to the tar stream.
    pub(crate) fn write_all(&mut self, mut data: &[u8]) -> Result<()> {
        self.uncompressed += data.len() as u64;
        while !data.is_empty() {
            let n = data.len().min(self.chunk_size - self.fill);
            self.buf[self.fill..self.fill + n].copy_from_slice(&data[..n]);
            self.fill += n;
            data = &data[n..];
            if self.fill == self.chunk_size {
                self.dispatch()?;
            }
        }
        Ok(())
    }

    /// Appends `len` zero bytes.
    pub(crate) fn write_zeros(&mut self, len: usize) -> Result<()> {
        const Z: [u8; 512] = [0; 512];
        let mut left = len;
        while left > 0 {
            let n = left.min(Z.len());
            self.write_all(&Z[..n])?;
            left -= n;
        }
        Ok(())
    }

    /// Copies exactly `len` bytes of `src` into the stream, reading straight into the chunk
    /// buffer. Errors if the file is shorter than `len` (changed while reading).
    pub(crate) fn copy_file(
        &mut self,
        src: &mut File,
        len: u64,
        src_path: &std::path::Path,
    ) -> Result<()> {
        use std::io::Read;
        let mut left = len;
        while left > 0 {
            let room = (self.chunk_size - self.fill) as u64;
            let want = left.min(room) as usize;
            let n = loop {
                match src.read(&mut self.buf[self.fill..self.fill + want]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(Error::io(src_path, e)),
                }
            };
            if n == 0 {
                return Err(Error::Changed {
                    path: src_path.to_path_buf(),
                    expected: len,
                });
            }
            self.fill += n;
            self.uncompressed += n as u64;
            left -= n as u64;
            if self.fill == self.chunk_size {
                self.dispatch()?;
            }
        }
        // growth after listing is not detected (it would cost one more read per file); the
        // recorded size is what gets written
        Ok(())
    }

    /// Ends the tar body, appends the end-of-archive member, and waits for all threads.
    pub(crate) fn finish(mut self) -> Result<(File, StreamSummary)> {
        self.dispatch()?;
        let body = self.uncompressed;
        self.diff_tx = None;
        let diff_hasher = match self.diff_h.take() {
            Some(h) => Some(h.join().map_err(|_| self.panic())?),
            None => None,
        };
        if let Backend::Gzip { jobs, workers, .. } =
            std::mem::replace(&mut self.backend, Backend::None)
        {
            drop(jobs);
            for w in workers {
                w.join().map_err(|_| self.panic())?;
            }
        }
        let writer = self.writer.take().expect("pipeline running");
        let (file, digest, size, eoa_offset) = writer.join().map_err(|_| self.panic())??;
        let diff_id = match diff_hasher {
            Some(mut h) => {
                h.update([0u8; EOA_LEN]);
                h.finalize().into()
            }
            None => digest,
        };
        Ok((
            file,
            StreamSummary {
                digest,
                size,
                diff_id,
                uncompressed_size: body + EOA_LEN as u64,
                eoa_offset,
            },
        ))
    }

    fn panic(&self) -> Error {
        Error::Invalid(format!(
            "{}: a compression thread panicked",
            self.path.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deflate_at(level: i32, block: &[u8]) -> Vec<u8> {
        let mut c = libdeflater::Compressor::new(libdeflater::CompressionLvl::new(level).unwrap());
        let mut out = vec![0; c.deflate_compress_bound(block.len())];
        let n = c.deflate_compress(block, &mut out).unwrap();
        out.truncate(n);
        out
    }

    fn member_body(level: i32, block: &[u8]) -> Vec<u8> {
        let mut m = Vec::new();
        BlockDeflater::new(level).member(block, &mut m);
        assert_eq!(m[..10], GZIP_HEADER);
        let trailer = m.split_off(m.len() - 8);
        assert_eq!(trailer[4..], (block.len() as u32).to_le_bytes());
        m.split_off(10)
    }

    #[test]
    fn only_blocks_shrinking_more_than_the_ratio_are_redone_one_level_higher() {
        // a repeated line: far more than 8:1 at level 6
        let repetitive = b"value = compute(x)  # again\n".repeat(40_000);
        let six = deflate_at(6, &repetitive);
        assert!(six.len() * GZIP_REDO_RATIO < repetitive.len());
        let seven = deflate_at(7, &repetitive);
        let smaller = if seven.len() < six.len() { seven } else { six };
        assert_eq!(member_body(6, &repetitive), smaller);
        // pseudo-random letters: about 1.6:1, kept at level 6
        let mut x = 1u32;
        let varied: Vec<u8> = (0..1 << 20)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                b'a' + (x >> 16) as u8 % 26
            })
            .collect();
        assert_eq!(member_body(6, &varied), deflate_at(6, &varied));
        // level 9 has no higher level; level 0 stores
        assert_eq!(member_body(9, &repetitive), deflate_at(9, &repetitive));
        assert_eq!(member_body(0, &repetitive), deflate_at(0, &repetitive));
    }
}
