//! The tar format we write (ustar headers + PAX extended headers for what does not fit)
//! and a small streaming reader used by `merge` and `list`.
//!
//! Pinned choices (see `docs/determinism.md`):
//! * ustar headers, magic `ustar\0`, version `00`; uname/gname empty; devmajor/devminor `0000000`.
//! * numeric fields in zero-padded octal terminated by NUL (checksum: 6 digits, NUL, space).
//! * one long-value encoding: a PAX `x` header named `././@PaxHeader` (mode 0644, uid/gid 0,
//!   the entry's mtime) before the entry, holding only the records that do not fit, in the fixed
//!   key order `gid`, `linkpath`, `path`, `size`, `uid`. Never the ustar prefix field, never GNU
//!   `././@LongLink`.
//! * a field that overflows is written as 0 (numbers) or as its first bytes cut at a UTF-8
//!   boundary (names) in the ustar header; the PAX record is authoritative.

use std::io::{self, Read};

/// Tar block size.
pub(crate) const BLOCK: usize = 512;
/// The end-of-archive marker we write: exactly two zero blocks, no padding to a record size.
pub(crate) const EOA_LEN: usize = 2 * BLOCK;

/// Largest PAX (`x`) or GNU long-name (`L`, `K`) extended header the reader accepts: it is
/// held in memory, and pyimage itself never writes one above a few KiB (a path and a link
/// target of at most 4096 bytes each, plus numbers). Global headers (`g`) are skipped
/// unread, whatever their size.
pub(crate) const MAX_EXTENDED_HEADER: u64 = 1 << 20;

/// Kind of a tar entry we write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryType {
    /// Regular file (typeflag `0`).
    File,
    /// Directory (typeflag `5`); the name gets a trailing `/`.
    Dir,
    /// Symbolic link (typeflag `2`).
    Symlink,
}

/// Everything that goes into one entry's header(s).
#[derive(Debug, Clone)]
pub(crate) struct HeaderSpec<'a> {
    /// Path inside the tar, without leading `/` and without trailing `/`.
    pub path: &'a str,
    /// Entry kind.
    pub kind: EntryType,
    /// Permission bits (e.g. 0o644).
    pub mode: u32,
    /// Owner.
    pub uid: u64,
    /// Group.
    pub gid: u64,
    /// Content size (files only).
    pub size: u64,
    /// Modification time, seconds since the epoch.
    pub mtime: u64,
    /// Symlink target (symlinks only).
    pub link: &'a str,
}

const NAME_LEN: usize = 100;
const MAX_OCTAL_8: u64 = 0o7777777; // 7 digits
const MAX_OCTAL_12: u64 = 0o77777777777; // 11 digits: 8 GiB - 1

fn put_octal(field: &mut [u8], value: u64) {
    // field.len()-1 digits, zero padded, then NUL
    let digits = field.len() - 1;
    let s = format!("{value:0digits$o}");
    debug_assert_eq!(s.len(), digits);
    field[..digits].copy_from_slice(s.as_bytes());
    field[digits] = 0;
}

fn put_name(field: &mut [u8], value: &str) {
    let bytes = value.as_bytes();
    if bytes.len() <= field.len() {
        field[..bytes.len()].copy_from_slice(bytes);
    } else {
        let mut cut = field.len();
        while !value.is_char_boundary(cut) {
            cut -= 1;
        }
        field[..cut].copy_from_slice(&bytes[..cut]);
    }
}

/// One PAX record `"<len> <key>=<value>\n"` where `<len>` counts the whole record.
pub(crate) fn pax_record(key: &str, value: &str) -> Vec<u8> {
    let body = key.len() + value.len() + 3; // ' ' '=' '\n'
    let mut len = body + 1;
    loop {
        let total = body + len.to_string().len();
        if total == len {
            break;
        }
        len = total;
    }
    format!("{len} {key}={value}\n").into_bytes()
}

#[allow(clippy::too_many_arguments)]
fn ustar_header(
    name: &str,
    typeflag: u8,
    mode: u32,
    uid: u64,
    gid: u64,
    size: u64,
    mtime: u64,
    link: &str,
) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    put_name(&mut h[0..100], name);
    put_octal(&mut h[100..108], u64::from(mode));
    put_octal(&mut h[108..116], if uid > MAX_OCTAL_8 { 0 } else { uid });
    put_octal(&mut h[116..124], if gid > MAX_OCTAL_8 { 0 } else { gid });
    put_octal(&mut h[124..136], if size > MAX_OCTAL_12 { 0 } else { size });
    put_octal(&mut h[136..148], mtime.min(MAX_OCTAL_12));
    h[156] = typeflag;
    put_name(&mut h[157..257], link);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    // uname, gname (265..297, 297..329) stay empty
    put_octal(&mut h[329..337], 0);
    put_octal(&mut h[337..345], 0);
    // prefix (345..500) stays empty
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    let s = format!("{sum:06o}");
    h[148..154].copy_from_slice(s.as_bytes());
    h[154] = 0;
    h[155] = b' ';
    h
}

/// Appends the header block(s) of one entry to `out` (a PAX header first when needed).
/// Content and padding are written by the caller.
pub(crate) fn encode_header(spec: &HeaderSpec<'_>, out: &mut Vec<u8>) {
    let name_owned;
    let name: &str = if spec.kind == EntryType::Dir {
        name_owned = format!("{}/", spec.path);
        &name_owned
    } else {
        spec.path
    };
    let (typeflag, size) = match spec.kind {
        EntryType::File => (b'0', spec.size),
        EntryType::Dir => (b'5', 0),
        EntryType::Symlink => (b'2', 0),
    };
    let mut pax = Vec::new();
    // fixed key order: gid, linkpath, path, size, uid
    if spec.gid > MAX_OCTAL_8 {
        pax.extend(pax_record("gid", &spec.gid.to_string()));
    }
    if spec.link.len() > NAME_LEN {
        pax.extend(pax_record("linkpath", spec.link));
    }
    if name.len() > NAME_LEN {
        pax.extend(pax_record("path", name));
    }
    if size > MAX_OCTAL_12 {
        pax.extend(pax_record("size", &size.to_string()));
    }
    if spec.uid > MAX_OCTAL_8 {
        pax.extend(pax_record("uid", &spec.uid.to_string()));
    }
    if !pax.is_empty() {
        let h = ustar_header(
            "././@PaxHeader",
            b'x',
            0o644,
            0,
            0,
            pax.len() as u64,
            spec.mtime,
            "",
        );
        out.extend_from_slice(&h);
        let padded = pax.len().div_ceil(BLOCK) * BLOCK;
        pax.resize(padded, 0);
        out.extend_from_slice(&pax);
    }
    let h = ustar_header(
        name, typeflag, spec.mode, spec.uid, spec.gid, size, spec.mtime, spec.link,
    );
    out.extend_from_slice(&h);
}

/// Zero bytes needed after `size` bytes of content to reach a block boundary.
pub(crate) fn padding(size: u64) -> usize {
    ((BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64) as usize
}

/// An entry as read back from a tar stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReadEntry {
    /// Path as stored (PAX `path` applied), trailing `/` kept for directories.
    pub path: String,
    /// The typeflag byte (`0` for files, `5` dirs, `2` symlinks, ...). NUL is reported as `0`.
    pub typeflag: u8,
    /// Permission bits.
    pub mode: u32,
    /// Owner.
    pub uid: u64,
    /// Group.
    pub gid: u64,
    /// Content size.
    pub size: u64,
    /// Modification time.
    pub mtime: u64,
    /// Link target (symlinks and hardlinks).
    pub link: String,
}

impl ReadEntry {
    /// Whether this is a directory entry.
    pub(crate) fn is_dir(&self) -> bool {
        self.typeflag == b'5'
    }

    /// Whether this is a regular file entry.
    pub(crate) fn is_file(&self) -> bool {
        matches!(self.typeflag, b'0' | b'7')
    }
}

fn parse_num(field: &[u8]) -> Result<u64, String> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        // base-256 (GNU): big-endian, first byte's high bit is the marker
        let mut v: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            v = v
                .checked_mul(256)
                .and_then(|v| v.checked_add(u64::from(b)))
                .ok_or("base-256 number too large")?;
        }
        return Ok(v);
    }
    let s: Vec<u8> = field
        .iter()
        .copied()
        .take_while(|&b| b != 0)
        .filter(|&b| b != b' ')
        .collect();
    if s.is_empty() {
        return Ok(0);
    }
    let s = std::str::from_utf8(&s).map_err(|_| "non-ASCII number field".to_string())?;
    u64::from_str_radix(s, 8).map_err(|_| format!("bad octal field {s:?}"))
}

/// A NUL-terminated header string; non-UTF-8 bytes (foreign layers) are shown as U+FFFD.
fn field_str(field: &[u8]) -> Result<String, String> {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    Ok(String::from_utf8_lossy(&field[..end]).into_owned())
}

/// An entry and, when it was asked for, its content.
pub(crate) type EntryWithContent = (ReadEntry, Option<Vec<u8>>);

/// Streaming tar reader. It reads (and so hands to any hashing wrapper) every byte of the
/// stream, content included. It stops at an end-of-archive block or at a clean EOF on a
/// header boundary (the fragment form `merge` reads).
#[derive(Debug)]
pub(crate) struct TarReader<R> {
    inner: R,
    /// Entries read so far (PAX/GNU meta headers excluded).
    pub entries: u64,
    buf: Vec<u8>,
}

impl<R: Read> TarReader<R> {
    /// Wraps a decompressed tar stream.
    pub(crate) fn new(inner: R) -> Self {
        TarReader {
            inner,
            entries: 0,
            buf: vec![0; 256 * 1024],
        }
    }

    /// Gives back the wrapped reader.
    pub(crate) fn into_inner(self) -> R {
        self.inner
    }

    /// Reads a full block; `Ok(false)` on clean EOF before its first byte.
    fn read_block(&mut self, block: &mut [u8; BLOCK]) -> io::Result<bool> {
        let mut got = 0;
        while got < BLOCK {
            match self.inner.read(&mut block[got..]) {
                Ok(0) => {
                    if got == 0 {
                        return Ok(false);
                    }
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "truncated tar header",
                    ));
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    fn read_data(&mut self, size: u64) -> io::Result<Vec<u8>> {
        let mut v = Vec::new();
        (&mut self.inner).take(size).read_to_end(&mut v)?;
        if v.len() as u64 != size {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "truncated tar content",
            ));
        }
        self.skip(padding(size) as u64)?;
        Ok(v)
    }

    fn skip(&mut self, mut n: u64) -> io::Result<()> {
        while n > 0 {
            let want = n.min(self.buf.len() as u64) as usize;
            let got = self.inner.read(&mut self.buf[..want])?;
            if got == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "truncated tar content",
                ));
            }
            n -= got as u64;
        }
        Ok(())
    }

    /// Reads the next entry, skipping over its content. `Ok(None)` at the end.
    pub(crate) fn next_entry(&mut self) -> Result<Option<ReadEntry>, String> {
        Ok(self.next_entry_with(|_| false)?.map(|(entry, _)| entry))
    }

    /// Reads the next entry and, for a regular file that `keep` accepts, its content
    /// (held in memory: `keep` must look at `size`). `Ok(None)` at the end.
    pub(crate) fn next_entry_with(
        &mut self,
        mut keep: impl FnMut(&ReadEntry) -> bool,
    ) -> Result<Option<EntryWithContent>, String> {
        let mut pax_path: Option<String> = None;
        let mut pax_link: Option<String> = None;
        let mut pax_size: Option<u64> = None;
        let mut pax_uid: Option<u64> = None;
        let mut pax_gid: Option<u64> = None;
        let mut block = [0u8; BLOCK];
        loop {
            if !self.read_block(&mut block).map_err(|e| e.to_string())? {
                return Ok(None);
            }
            if block.iter().all(|&b| b == 0) {
                // end-of-archive: consume the second zero block when present
                let mut second = [0u8; BLOCK];
                let _ = self.read_block(&mut second);
                return Ok(None);
            }
            let stored: u32 = parse_num(&block[148..156])? as u32;
            let mut sum: u32 = 0;
            for (i, &b) in block.iter().enumerate() {
                sum += if (148..156).contains(&i) {
                    u32::from(b' ')
                } else {
                    u32::from(b)
                };
            }
            if sum != stored {
                return Err("header checksum mismatch".into());
            }
            let typeflag = if block[156] == 0 { b'0' } else { block[156] };
            let size = parse_num(&block[124..136])?;
            if matches!(typeflag, b'x' | b'L' | b'K') && size > MAX_EXTENDED_HEADER {
                return Err(format!(
                    "extended header (type {}) of {size} bytes is larger than the {MAX_EXTENDED_HEADER}-byte cap",
                    char::from(typeflag)
                ));
            }
            match typeflag {
                b'x' => {
                    let data = self.read_data(size).map_err(|e| e.to_string())?;
                    for (k, v) in parse_pax(&data)? {
                        match k.as_str() {
                            "path" => pax_path = Some(v),
                            "linkpath" => pax_link = Some(v),
                            "size" => pax_size = Some(v.parse().map_err(|_| "bad PAX size")?),
                            "uid" => pax_uid = Some(v.parse().map_err(|_| "bad PAX uid")?),
                            "gid" => pax_gid = Some(v.parse().map_err(|_| "bad PAX gid")?),
                            _ => {}
                        }
                    }
                    continue;
                }
                b'g' => {
                    self.skip(size.saturating_add(padding(size) as u64))
                        .map_err(|e| e.to_string())?;
                    continue;
                }
                b'L' | b'K' => {
                    let data = self.read_data(size).map_err(|e| e.to_string())?;
                    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
                    let s = String::from_utf8_lossy(&data[..end]).into_owned();
                    if typeflag == b'L' {
                        pax_path = Some(s);
                    } else {
                        pax_link = Some(s);
                    }
                    continue;
                }
                _ => {}
            }
            let mut path = field_str(&block[0..100])?;
            if &block[257..262] == b"ustar" && block[345] != 0 {
                let prefix = field_str(&block[345..500])?;
                path = format!("{prefix}/{path}");
            }
            let size = pax_size.unwrap_or(size);
            let entry = ReadEntry {
                path: pax_path.take().unwrap_or(path),
                typeflag,
                mode: parse_num(&block[100..108])? as u32,
                uid: pax_uid.unwrap_or(parse_num(&block[108..116])?),
                gid: pax_gid.unwrap_or(parse_num(&block[116..124])?),
                size,
                mtime: parse_num(&block[136..148])?,
                link: pax_link.take().unwrap_or(field_str(&block[157..257])?),
            };
            // hardlinks, symlinks, dirs carry no content even if size says otherwise
            let content = match typeflag {
                b'1' | b'2' | b'3' | b'4' | b'5' | b'6' => 0,
                _ => size,
            };
            let data = if entry.is_file() && keep(&entry) {
                Some(self.read_data(content).map_err(|e| e.to_string())?)
            } else {
                self.skip(content.saturating_add(padding(content) as u64))
                    .map_err(|e| e.to_string())?;
                None
            };
            self.entries += 1;
            return Ok(Some((entry, data)));
        }
    }
}

fn parse_pax(data: &[u8]) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        if rest.iter().all(|&b| b == 0) {
            break;
        }
        let sp = rest
            .iter()
            .position(|&b| b == b' ')
            .ok_or("bad PAX record")?;
        let len: usize = std::str::from_utf8(&rest[..sp])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or("bad PAX record length")?;
        if len > rest.len() || len <= sp + 1 {
            return Err("bad PAX record length".into());
        }
        let rec = &rest[sp + 1..len];
        let rec = rec
            .strip_suffix(b"\n")
            .ok_or("PAX record without newline")?;
        let eq = rec
            .iter()
            .position(|&b| b == b'=')
            .ok_or("bad PAX record")?;
        let k = String::from_utf8(rec[..eq].to_vec()).map_err(|_| "non-UTF-8 PAX key")?;
        let v = String::from_utf8_lossy(&rec[eq + 1..]).into_owned();
        out.push((k, v));
        rest = &rest[len..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An empty regular file, 0644, owned by 0:0, mtime 0.
    fn empty_file(path: &str) -> HeaderSpec<'_> {
        HeaderSpec {
            path,
            kind: EntryType::File,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: 0,
            mtime: 0,
            link: "",
        }
    }

    /// A directory, 0755.
    fn dir(path: &str) -> HeaderSpec<'_> {
        HeaderSpec {
            kind: EntryType::Dir,
            mode: 0o755,
            ..empty_file(path)
        }
    }

    /// A symlink, 0777.
    fn symlink<'a>(path: &'a str, link: &'a str) -> HeaderSpec<'a> {
        HeaderSpec {
            kind: EntryType::Symlink,
            mode: 0o777,
            link,
            ..empty_file(path)
        }
    }

    fn roundtrip(spec: &HeaderSpec<'_>) -> ReadEntry {
        let mut out = Vec::new();
        encode_header(spec, &mut out);
        // content is not written for huge sizes: the reader would try to skip it, so read
        // only the header here by giving a stream that ends right after
        let mut r = TarReader::new(std::io::Cursor::new(out));
        let mut block = [0u8; BLOCK];
        let _ = &mut block;
        match r.next_entry() {
            Ok(Some(e)) => e,
            Err(e) if e.contains("truncated") => {
                panic!("unexpected truncation")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn pax_record_lengths() {
        assert_eq!(pax_record("path", "a"), b"9 path=a\n");
        let v = "x".repeat(93);
        let r = pax_record("path", &v);
        assert_eq!(r.len(), 103);
        assert!(r.starts_with(b"103 path="));
        // 99 bytes with 2 digits would be 101: must become 3 digits
        assert_eq!(pax_record("path", &"x".repeat(90)).len(), 99);
        assert_eq!(pax_record("path", &"x".repeat(91)).len(), 101);
        // boundary where the length gains a digit
        let v = "x".repeat(90);
        let r = pax_record("path", &v);
        assert_eq!(
            std::str::from_utf8(&r)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .parse::<usize>()
                .unwrap(),
            r.len()
        );
    }

    #[test]
    fn short_names_use_plain_ustar() {
        let mut out = Vec::new();
        encode_header(
            &HeaderSpec {
                path: "app/x.py",
                kind: EntryType::File,
                mode: 0o644,
                uid: 0,
                gid: 0,
                size: 3,
                mtime: 946684800,
                link: "",
            },
            &mut out,
        );
        assert_eq!(out.len(), BLOCK);
        assert_eq!(&out[0..8], b"app/x.py");
        assert_eq!(&out[100..108], b"0000644\0");
        assert_eq!(&out[124..136], b"00000000003\0");
        assert_eq!(&out[257..265], b"ustar\x0000");
    }

    #[test]
    fn long_path_and_link_use_pax_in_fixed_order() {
        let path = format!("app/{}", "p".repeat(300));
        let link = format!("../{}", "l".repeat(300));
        let mut out = Vec::new();
        encode_header(&symlink(&path, &link), &mut out);
        assert_eq!(&out[0..14], b"././@PaxHeader");
        assert_eq!(out[156], b'x');
        let data = &out[BLOCK..];
        let text = String::from_utf8_lossy(data);
        let lp = text.find("linkpath=").unwrap();
        let p = text.find(" path=").unwrap();
        assert!(lp < p);
        let e = roundtrip(&symlink(&path, &link));
        assert_eq!(e.path, path);
        assert_eq!(e.link, link);
        assert_eq!(e.typeflag, b'2');
    }

    #[test]
    fn exactly_100_bytes_fits_ustar() {
        let path = "a".repeat(100);
        let mut out = Vec::new();
        encode_header(&empty_file(&path), &mut out);
        assert_eq!(out.len(), BLOCK);
        // a directory of 100 chars needs 101 with the slash: PAX
        let mut out = Vec::new();
        encode_header(&dir(&path), &mut out);
        assert_eq!(out.len(), 3 * BLOCK);
    }

    #[test]
    fn huge_size_uses_pax_size_record() {
        let size = 9 * 1024 * 1024 * 1024u64;
        let mut out = Vec::new();
        let spec = HeaderSpec {
            size,
            ..empty_file("big.bin")
        };
        encode_header(&spec, &mut out);
        assert_eq!(out.len(), 3 * BLOCK);
        let text = String::from_utf8_lossy(&out[BLOCK..2 * BLOCK]);
        assert!(text.starts_with("19 size=9663676416\n"), "{text}");
        // the ustar size field holds 0
        assert_eq!(&out[2 * BLOCK + 124..2 * BLOCK + 136], b"00000000000\0");
        // 8 GiB - 1 still fits octal
        let mut out = Vec::new();
        encode_header(
            &HeaderSpec {
                size: MAX_OCTAL_12,
                ..spec.clone()
            },
            &mut out,
        );
        assert_eq!(out.len(), BLOCK);
        assert_eq!(&out[124..136], b"77777777777\0");
        // 8 GiB exactly does not
        let mut out = Vec::new();
        encode_header(
            &HeaderSpec {
                size: MAX_OCTAL_12 + 1,
                ..spec.clone()
            },
            &mut out,
        );
        assert_eq!(out.len(), 3 * BLOCK);
        // reader applies the PAX size (header only: parse without content)
        let mut r = TarReader::new(std::io::Cursor::new(out));
        let err = r.next_entry().unwrap_err();
        assert!(err.contains("truncated"), "{err}");
    }

    #[test]
    fn big_uid_uses_pax() {
        let mut out = Vec::new();
        let spec = HeaderSpec {
            uid: 70_000_000,
            gid: 3_000_000,
            ..empty_file("f")
        };
        encode_header(&spec, &mut out);
        let e = roundtrip(&spec);
        assert_eq!(e.uid, 70_000_000);
        assert_eq!(e.gid, 3_000_000);
        let text = String::from_utf8_lossy(&out[BLOCK..2 * BLOCK]);
        assert!(text.find("gid=").unwrap() < text.find("uid=").unwrap());
    }

    #[test]
    fn utf8_cut_at_char_boundary() {
        let path = "é".repeat(60); // 120 bytes
        let mut out = Vec::new();
        encode_header(&empty_file(&path), &mut out);
        let name = &out[2 * BLOCK..2 * BLOCK + 100];
        let end = name.iter().position(|&b| b == 0).unwrap_or(100);
        assert!(std::str::from_utf8(&name[..end]).is_ok());
        assert_eq!(roundtrip_path(&path), path);
    }

    fn roundtrip_path(path: &str) -> String {
        roundtrip(&HeaderSpec {
            path,
            kind: EntryType::File,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: 0,
            mtime: 0,
            link: "",
        })
        .path
    }

    /// Fuzz cases per property: `PYIMAGE_FUZZ_CASES` (CI runs a larger count), else 256.
    fn fuzz_cases() -> u32 {
        std::env::var("PYIMAGE_FUZZ_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(256)
    }

    /// Reads every entry; the reader must end (entry or error) without panicking.
    fn read_all(bytes: Vec<u8>) {
        let mut r = TarReader::new(std::io::Cursor::new(bytes));
        for _ in 0..10_000 {
            match r.next_entry() {
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return,
            }
        }
        panic!("reader did not terminate");
    }

    /// A small valid tar: a PAX-headed long path, a file with content, a symlink.
    fn seed() -> Vec<u8> {
        let mut out = Vec::new();
        let long = format!("app/{}", "p".repeat(150));
        encode_header(&dir("app"), &mut out);
        encode_header(
            &HeaderSpec {
                size: 5,
                ..empty_file(&long)
            },
            &mut out,
        );
        out.extend_from_slice(b"hello");
        out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
        encode_header(&symlink("app/l", "../x"), &mut out);
        out.resize(out.len() + EOA_LEN, 0);
        out
    }

    /// Fixes a header's checksum so mutations reach the parsing behind it.
    fn fix_checksum(block: &mut [u8]) {
        block[148..156].copy_from_slice(b"        ");
        let sum: u32 = block.iter().map(|&b| u32::from(b)).sum();
        block[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(fuzz_cases()))]

        #[test]
        fn reader_survives_arbitrary_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..3000)) {
            read_all(bytes);
        }

        #[test]
        fn reader_survives_mutated_tars(
            edits in proptest::collection::vec((0usize..4096, proptest::prelude::any::<u8>()), 1..24),
            fix in proptest::prelude::any::<bool>(),
        ) {
            let mut t = seed();
            let n = t.len();
            for (at, b) in &edits {
                t[at % n] = *b;
            }
            if fix {
                for h in 0..n / BLOCK {
                    if t[h * BLOCK..(h + 1) * BLOCK].iter().any(|&b| b != 0) {
                        fix_checksum(&mut t[h * BLOCK..(h + 1) * BLOCK]);
                    }
                }
            }
            read_all(t);
        }
    }
}
