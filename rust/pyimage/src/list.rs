//! `pyimage list`: a stable `ls -l`-style listing of layers, for snapshot tests.
//!
//! One line per entry, in tar order:
//! `<type+mode> <uid>/<gid> <size, right-aligned to 10> <path>[ -> <symlink target>]`
//! (`<path> link to <target>` for hardlinks). Directory paths end with `/`. The size of an
//! entry whose path matches a `--redact` regex is printed as `*`. Control characters in
//! paths and targets are escaped (`\n`, `\u{1b}`), so each entry is one line.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use regex::Regex;

use crate::compress::Compression;
use crate::error::{Error, IoContext, Result};
use crate::merge::open_decompressed;
use crate::tarfmt::{ReadEntry, TarReader};

/// Detects a blob's compression from its first bytes.
pub(crate) fn sniff_compression(path: &Path) -> Result<Compression> {
    let mut magic = [0u8; 4];
    let mut f = File::open(path).at(path)?;
    let mut got = 0;
    while got < 4 {
        let n = f.read(&mut magic[got..]).at(path)?;
        if n == 0 {
            break;
        }
        got += n;
    }
    Ok(if got >= 2 && magic[..2] == [0x1f, 0x8b] {
        Compression::Gzip
    } else if got == 4 && magic == [0x28, 0xb5, 0x2f, 0xfd] {
        Compression::Zstd
    } else {
        Compression::None
    })
}

/// `ls -l`-style mode string.
pub(crate) fn mode_string(e: &ReadEntry) -> String {
    let t = match e.typeflag {
        b'5' => 'd',
        b'2' => 'l',
        b'1' => 'h',
        b'3' => 'c',
        b'4' => 'b',
        b'6' => 'p',
        _ => '-',
    };
    let m = e.mode;
    let mut s = String::with_capacity(10);
    s.push(t);
    let bit = |mask: u32, c: char| if m & mask != 0 { c } else { '-' };
    s.push(bit(0o400, 'r'));
    s.push(bit(0o200, 'w'));
    s.push(match (m & 0o100 != 0, m & 0o4000 != 0) {
        (true, true) => 's',
        (false, true) => 'S',
        (true, false) => 'x',
        _ => '-',
    });
    s.push(bit(0o040, 'r'));
    s.push(bit(0o020, 'w'));
    s.push(match (m & 0o010 != 0, m & 0o2000 != 0) {
        (true, true) => 's',
        (false, true) => 'S',
        (true, false) => 'x',
        _ => '-',
    });
    s.push(bit(0o004, 'r'));
    s.push(bit(0o002, 'w'));
    s.push(match (m & 0o001 != 0, m & 0o1000 != 0) {
        (true, true) => 't',
        (false, true) => 'T',
        (true, false) => 'x',
        _ => '-',
    });
    s
}

/// Escapes control characters (`\n` as `\\n`, others as `\\u{..}`) so that every entry
/// stays on one line and no terminal escape sequence reaches the reader.
fn escape_controls(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return s.into();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

/// Formats one listing line (without newline).
pub(crate) fn format_entry(e: &ReadEntry, redact: &[Regex]) -> String {
    let size = if redact.iter().any(|r| r.is_match(&e.path)) {
        "*".to_string()
    } else {
        e.size.to_string()
    };
    let mut line = format!(
        "{} {}/{} {:>10} {}",
        mode_string(e),
        e.uid,
        e.gid,
        size,
        escape_controls(&e.path)
    );
    match e.typeflag {
        b'2' => {
            line.push_str(" -> ");
            line.push_str(&escape_controls(&e.link));
        }
        b'1' => {
            line.push_str(" link to ");
            line.push_str(&escape_controls(&e.link));
        }
        _ => {}
    }
    line
}

/// Lists layers to `out`, hiding the size of entries whose path matches a `redact` regex.
/// With more than one layer, each listing starts with `# <layer>`. A reader that goes away
/// early (`pyimage list x.tgz | head -1`) ends the listing successfully.
pub fn list_layers(layers: &[PathBuf], redact: &[String], out: &mut dyn Write) -> Result<()> {
    let mut re = Vec::new();
    for r in redact {
        re.push(Regex::new(r).map_err(|e| Error::Invalid(format!("--redact {r:?}: {e}")))?);
    }
    let written = write_listing(layers, &re, out).and_then(|()| out.flush().at("<stdout>"));
    match written {
        Err(Error::Io { cause, .. }) if cause.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

fn write_listing(layers: &[PathBuf], redact: &[Regex], out: &mut dyn Write) -> Result<()> {
    let stdout = |e| Error::io("<stdout>", e);
    for layer in layers {
        if layers.len() > 1 {
            writeln!(out, "# {}", layer.display()).map_err(stdout)?;
        }
        let c = sniff_compression(layer)?;
        let r = open_decompressed(layer, c, u64::MAX)?;
        let mut tr = TarReader::new(r);
        loop {
            match tr.next_entry() {
                Ok(Some(e)) => writeln!(out, "{}", format_entry(&e, redact)).map_err(stdout)?,
                Ok(None) => break,
                Err(msg) => {
                    return Err(Error::BadTar {
                        path: layer.clone(),
                        msg,
                    })
                }
            }
        }
    }
    Ok(())
}
