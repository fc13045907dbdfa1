//! Candidate gzip encoders for layers whose bytes must not depend on the thread count: the
//! tar is cut into fixed blocks and every block is compressed on its own (or primed with the
//! previous block's last 32 KiB), so any number of workers gives the same bytes.
//!
//! For each candidate (library × block size × level) it prints the size against `gzip -6 -n`
//! of the same tar, the CPU time of compressing every block on one thread (the thread's own
//! run time, so load from other processes barely moves it) and that CPU time against the CPU
//! time of `gzip -6`. Every output is inflated again and compared with the input.
//!
//! `cargo bench --bench gzip_candidates -- TAR...`; the tars measured in docs/performance.md
//! are the tool's own (`pyimage layer --compression none`) of both benchmark trees.
//! `GZIP_CANDIDATES=adaptive` keeps only the candidates whose name contains that text.

use std::io::Read;
use std::process::{Command, Stdio};

const KIB: usize = 1024;
const DICT: usize = 32 * KIB;

/// CPU time of the calling thread (Linux `schedstat`: nanoseconds on a CPU).
fn thread_cpu() -> f64 {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns: f64 = s
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    ns / 1e9
}

#[derive(Clone, Copy)]
enum Lib {
    /// zlib-rs through flate2, each block primed with the previous block's last 32 KiB and
    /// ended with a sync flush: one gzip member in all.
    ZlibRsPrimed,
    /// libdeflate, each block an independent gzip member.
    Libdeflate,
    /// libdeflate at the candidate's level; a block that shrinks more than `ratio`:1 is
    /// compressed again at `high` (the choice depends only on the block's bytes).
    Adaptive { high: i32, ratio: usize },
}

fn name(lib: Lib) -> String {
    match lib {
        Lib::ZlibRsPrimed => "zlib-rs, primed 32 KiB".into(),
        Lib::Libdeflate => "libdeflate, independent".into(),
        Lib::Adaptive { high, ratio } => {
            format!("libdeflate adaptive, redo at {high} if > {ratio}:1")
        }
    }
}

fn zlib_rs_primed(data: &[u8], block: usize, level: u32) -> Vec<u8> {
    use flate2::{Compress, Compression, Crc, FlushCompress};
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut crc = Crc::new();
    let mut prev: &[u8] = &[];
    for b in data.chunks(block) {
        let mut c = Compress::new(Compression::new(level), false);
        if !prev.is_empty() {
            c.set_dictionary(&prev[prev.len().saturating_sub(DICT)..])
                .unwrap();
        }
        let mut o = Vec::with_capacity(b.len() + b.len() / 8 + 64);
        loop {
            let n = c.total_in() as usize;
            c.compress_vec(&b[n..], &mut o, FlushCompress::Sync)
                .unwrap();
            if c.total_in() as usize == b.len() && o.len() < o.capacity() {
                break;
            }
            o.reserve(64 * KIB);
        }
        out.extend_from_slice(&o);
        crc.update(b);
        prev = b;
    }
    out.extend_from_slice(&[3, 0]);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&crc.amount().to_le_bytes());
    out
}

fn libdeflate_members(
    data: &[u8],
    block: usize,
    level: i32,
    redo: Option<(i32, usize)>,
) -> Vec<u8> {
    let lvl = |l| libdeflater::CompressionLvl::new(l).unwrap();
    let mut c = libdeflater::Compressor::new(lvl(level));
    let mut hc = redo.map(|(high, _)| libdeflater::Compressor::new(lvl(high)));
    let mut out = Vec::new();
    let mut o = vec![0u8; c.deflate_compress_bound(block)];
    for b in data.chunks(block) {
        out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
        let mut n = c.deflate_compress(b, &mut o).unwrap();
        if let (Some(h), Some((_, ratio))) = (hc.as_mut(), redo) {
            if n * ratio < b.len() {
                // keep the smaller of the two, as the tool does
                let mut o2 = vec![0u8; h.deflate_compress_bound(b.len())];
                let m = h.deflate_compress(b, &mut o2).unwrap();
                if m < n {
                    o[..m].copy_from_slice(&o2[..m]);
                    n = m;
                }
            }
        }
        out.extend_from_slice(&o[..n]);
        let mut crc = libdeflater::Crc::new();
        crc.update(b);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    }
    out
}

fn inflate_all(gz: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    flate2::read::MultiGzDecoder::new(gz)
        .read_to_end(&mut v)
        .unwrap();
    v
}

/// Size and CPU seconds (user + system, from the shell's `times`) of `gzip -6 -n` on `path`.
fn gzip6(path: &str) -> (usize, f64) {
    let out = Command::new("bash")
        .args(["-c", "gzip -6 -n -c \"$1\" | wc -c; times", "bash", path])
        .stderr(Stdio::inherit())
        .output()
        .expect("bash and gzip on PATH");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let size = lines.next().unwrap().trim().parse().unwrap();
    // second `times` line: children's user and system time, e.g. "0m8.123s 0m0.100s"
    let cpu = lines
        .nth(1)
        .unwrap()
        .split_whitespace()
        .map(|t| {
            let (m, s) = t.trim_end_matches('s').split_once('m').unwrap();
            m.parse::<f64>().unwrap() * 60.0 + s.parse::<f64>().unwrap()
        })
        .sum();
    (size, cpu)
}

fn main() {
    let tars: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if tars.is_empty() {
        eprintln!("usage: cargo bench --bench gzip_candidates -- TAR...");
        return;
    }
    let mut candidates = vec![
        (Lib::ZlibRsPrimed, 128 * KIB, 6),
        (Lib::ZlibRsPrimed, 1024 * KIB, 6),
    ];
    for block in [1024 * KIB, 2048 * KIB, 4096 * KIB] {
        for level in [6, 7, 8] {
            candidates.push((Lib::Libdeflate, block, level));
        }
    }
    for block in [1024 * KIB, 2048 * KIB] {
        for high in [7, 8] {
            for ratio in [4, 6, 8, 12] {
                candidates.push((Lib::Adaptive { high, ratio }, block, 6));
            }
        }
    }
    if let Ok(only) = std::env::var("GZIP_CANDIDATES") {
        // e.g. GZIP_CANDIDATES=libdeflate: only the candidates whose name contains it
        candidates.retain(|&(lib, _, _)| name(lib).contains(only.as_str()));
    }
    for tar in &tars {
        let data = std::fs::read(tar).expect("read tar");
        let (gz_size, gz_cpu) = gzip6(tar);
        println!(
            "\n{tar}: {} bytes; gzip -6 -n: {gz_size} bytes, {gz_cpu:.3} s CPU",
            data.len()
        );
        println!(
            "| library | block | level | size / gzip -6 | CPU s (1 thread) | CPU / gzip -6 CPU |"
        );
        println!("| --- | ---: | ---: | ---: | ---: | ---: |");
        for &(lib, block, level) in &candidates {
            let c0 = thread_cpu();
            let gz = match lib {
                Lib::ZlibRsPrimed => zlib_rs_primed(&data, block, level as u32),
                Lib::Libdeflate => libdeflate_members(&data, block, level, None),
                Lib::Adaptive { high, ratio } => {
                    libdeflate_members(&data, block, level, Some((high, ratio)))
                }
            };
            let cpu = thread_cpu() - c0;
            assert!(inflate_all(&gz) == data, "round trip");
            let name = name(lib);
            println!(
                "| {name} | {} KiB | {level} | {:.4} | {cpu:.3} | {:.3} |",
                block / KIB,
                gz.len() as f64 / gz_size as f64,
                cpu / gz_cpu
            );
        }
    }
}
