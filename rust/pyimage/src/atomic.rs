//! The one way outputs are written: under a temporary name in the destination's directory,
//! then renamed into place, so a failed run leaves no partial file (an old output stays).

use std::fs::{self, File};
use std::io::Write;
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
    /// Creates the temporary file next to `dest`.
    pub(crate) fn create(dest: &Path) -> Result<Self> {
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
