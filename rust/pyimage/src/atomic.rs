//! The one way outputs are written: under a temporary name in the destination's directory,
//! then renamed into place, so a failed run leaves no partial file (an old output stays).

use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, IoContext, Result};

/// Writes `bytes` to `path` atomically.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut out = AtomicFile::create(path)?;
    out.file().write_all(bytes).at(path)?;
    out.commit()
}

/// Writes `text` to `path` atomically, or to stdout when `path` is `None`. A closed stdout (a
/// reader that stopped early, as `head` does) is not an error.
pub fn emit(path: Option<&Path>, text: &str) -> Result<()> {
    match path {
        Some(p) => write_file(p, text.as_bytes()),
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(Error::io("<stdout>", e))
                }
                _ => Ok(()),
            }
        }
    }
}

/// Refuses to replace `dest` unless it is a regular file or does not exist: an output
/// pointed at a device, FIFO, socket, directory or symlink would otherwise be deleted (as
/// root, `--output /dev/null` would remove `/dev/null`).
pub(crate) fn check_replaceable(dest: &Path) -> Result<()> {
    let meta = match fs::symlink_metadata(dest) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(dest, e)),
    };
    let ft = meta.file_type();
    if ft.is_file() {
        return Ok(());
    }
    let kind = if ft.is_symlink() {
        "a symlink"
    } else if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_block_device() || ft.is_char_device() {
        "a device"
    } else {
        "not a regular file"
    };
    Err(Error::Invalid(format!(
        "refusing to write {}: it exists and is {kind}; only a regular file (or nothing) is replaced (choose another output path)",
        dest.display()
    )))
}

/// Fails when two outputs name the same file, also when spelled differently (`a/x` and
/// `./a/../a/x`): parents are compared canonicalised, names as given.
pub(crate) fn check_distinct_outputs(outputs: &[(&str, &Path)]) -> Result<()> {
    let key = |p: &Path| {
        let parent = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let parent = fs::canonicalize(&parent).unwrap_or(parent);
        (parent, p.file_name().map(std::ffi::OsStr::to_os_string))
    };
    for (i, (flag_a, a)) in outputs.iter().enumerate() {
        for (flag_b, b) in &outputs[i + 1..] {
            if key(a) == key(b) {
                return Err(Error::Invalid(format!(
                    "{flag_a} {} and {flag_b} {} are the same file; give each output its own path",
                    a.display(),
                    b.display()
                )));
            }
        }
    }
    Ok(())
}

/// A file written under a temporary name in the destination's directory and renamed into
/// place by [`AtomicFile::commit`]; removed if dropped before that.
#[derive(Debug)]
pub(crate) struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    file: Option<File>,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl AtomicFile {
    /// Creates the temporary file next to `dest` (refusing a `dest` that is not a regular
    /// file: see [`check_replaceable`]).
    pub(crate) fn create(dest: &Path) -> Result<Self> {
        check_replaceable(dest)?;
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = dest
            .file_name()
            .ok_or_else(|| Error::Invalid(format!("{}: not a file path", dest.display())))?;
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let mut tmp_name = std::ffi::OsString::from(".");
            tmp_name.push(name);
            tmp_name.push(format!(".tmp{}.{n}", std::process::id()));
            let tmp = dir.join(tmp_name);
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)
            {
                Ok(file) => {
                    return Ok(AtomicFile {
                        tmp,
                        dest: dest.to_path_buf(),
                        file: Some(file),
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io(dest, e)),
            }
        }
    }

    /// The destination path.
    pub(crate) fn dest(&self) -> &Path {
        &self.dest
    }

    /// The open temporary file.
    pub(crate) fn file(&mut self) -> &mut File {
        self.file.as_mut().expect("file open")
    }

    /// Takes the file out (to hand to writer threads); give it back with [`Self::put_back`].
    pub(crate) fn take(&mut self) -> File {
        self.file.take().expect("file open")
    }

    /// Returns a file taken with [`Self::take`].
    pub(crate) fn put_back(&mut self, f: File) {
        self.file = Some(f);
    }

    /// Closes and renames the file into place.
    pub(crate) fn commit(mut self) -> Result<()> {
        // no fsync: the rename is atomic for readers; durability across a power loss is
        // Bazel's concern (it re-runs actions whose outputs are missing or damaged)
        drop(self.file.take());
        // again: the destination may have been replaced while the output was written
        check_replaceable(&self.dest)?;
        // Remove an old output first: ext4 (auto_da_alloc) flushes a file renamed over an
        // existing one to disk synchronously, which made overwriting runs slower than fresh
        // ones. Readers still see the old file, no file, or the complete new one.
        match fs::remove_file(&self.dest) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&self.dest, e)),
        }
        fs::rename(&self.tmp, &self.dest).at(&self.dest)?;
        self.tmp = PathBuf::new();
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}
