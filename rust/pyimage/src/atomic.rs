//! The one way outputs are written: under a temporary name in the destination's directory,
//! then renamed into place, so a failed run leaves no partial file (an old output stays).

use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, Once, PoisonError};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use signal_hook::low_level::emulate_default_handler;

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
/// place by [`AtomicFile::commit`]; removed if dropped before that, or if the process is
/// terminated first (see [`watch_signals`]).
#[derive(Debug)]
pub(crate) struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    file: Option<File>,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Temporary files not yet renamed into place. Held locked while files are created, renamed
/// or removed, so the signal thread sees each file either pending or gone.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn pending() -> MutexGuard<'static, Vec<PathBuf>> {
    PENDING.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Starts (once) a thread that, on SIGTERM (how Bazel cancels an action), SIGINT or SIGHUP,
/// removes every pending temporary file and then dies of the signal as if it had no handler
/// (exit status 128 + signal for a shell). It waits for a rename in progress, so outputs are
/// either old, absent or complete. Best effort: if the handler cannot be installed, a
/// terminated run leaves its temporary file, as SIGKILL always does.
fn watch_signals() {
    static WATCH: Once = Once::new();
    WATCH.call_once(|| {
        let Ok(mut signals) = Signals::new([SIGTERM, SIGINT, SIGHUP]) else {
            return;
        };
        let _ = std::thread::Builder::new()
            .name("pyimage-signals".into())
            .spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    let mut files = pending();
                    for tmp in files.drain(..) {
                        let _ = fs::remove_file(tmp);
                    }
                    // the lock stays held: nothing is renamed into place after this point
                    let _ = emulate_default_handler(signal);
                    std::process::exit(128 + signal);
                }
            });
    });
}

impl AtomicFile {
    /// Creates the temporary file next to `dest` (refusing a `dest` that is not a regular
    /// file: see [`check_replaceable`]).
    pub(crate) fn create(dest: &Path) -> Result<Self> {
        check_replaceable(dest)?;
        watch_signals();
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = dest
            .file_name()
            .ok_or_else(|| Error::Invalid(format!("{}: not a file path", dest.display())))?;
        let mut files = pending();
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
                    files.push(tmp.clone());
                    return Ok(AtomicFile {
                        tmp,
                        dest: dest.to_path_buf(),
                        file: Some(file),
                    });
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
    pub(crate) fn commit(self) -> Result<()> {
        let mut files = pending();
        self.stage(&mut files).put_in_place()
    }

    /// Closes the file and hands its temporary path over to a [`Staged`] (the caller holds
    /// the [`PENDING`] lock, so this drop never takes it).
    fn stage(mut self, files: &mut Vec<PathBuf>) -> Staged {
        drop(self.file.take());
        let tmp = std::mem::take(&mut self.tmp);
        files.retain(|p| *p != tmp);
        Staged {
            tmp,
            dest: std::mem::take(&mut self.dest),
        }
    }
}

/// Puts `blob` in place and then `about`, a file describing it (a descriptor), so that no
/// `about` is ever in place beside a blob it does not describe: the old `about` is removed
/// before the blob is replaced, the new one renamed only after the blob, and if that fails
/// the new blob is removed. Both temporary files are gone afterwards, on success or not.
pub(crate) fn commit_described(blob: AtomicFile, about: AtomicFile) -> Result<()> {
    let mut files = pending();
    let (blob, about) = (blob.stage(&mut files), about.stage(&mut files));
    check_replaceable(&about.dest)?;
    remove_existing(&about.dest)?;
    let blob_dest = blob.dest.clone();
    blob.put_in_place()?;
    about.put_in_place().inspect_err(|_| {
        let _ = fs::remove_file(&blob_dest);
    })
}

/// Removes `path` if it exists.
fn remove_existing(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// A closed temporary file on its way into place; removed if dropped before that.
#[derive(Debug)]
struct Staged {
    tmp: PathBuf,
    dest: PathBuf,
}

impl Staged {
    fn put_in_place(mut self) -> Result<()> {
        // no fsync: the rename is atomic for readers; durability across a power loss is
        // Bazel's concern (it re-runs actions whose outputs are missing or damaged)
        // again: the destination may have been replaced while the output was written
        check_replaceable(&self.dest)?;
        // Remove an old output first: ext4 (auto_da_alloc) flushes a file renamed over an
        // existing one to disk synchronously, which made overwriting runs slower than fresh
        // ones. Readers still see the old file, no file, or the complete new one.
        remove_existing(&self.dest)?;
        fs::rename(&self.tmp, &self.dest).at(&self.dest)?;
        self.tmp = PathBuf::new();
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            let mut files = pending();
            let _ = fs::remove_file(&self.tmp);
            files.retain(|p| *p != self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    fn staged(dest: &Path, text: &str) -> AtomicFile {
        let mut f = AtomicFile::create(dest).unwrap();
        f.file().write_all(text.as_bytes()).unwrap();
        f
    }

    /// A blob that cannot be put in place leaves no descriptor at all: not the new one, and
    /// not the old one, which described the blob being replaced.
    #[test]
    fn a_failed_blob_commit_leaves_no_descriptor() {
        let d = tempfile::tempdir().unwrap();
        let (blob, desc) = (d.path().join("b"), d.path().join("b.json"));
        fs::write(&blob, "old blob").unwrap();
        fs::write(&desc, "describes old blob").unwrap();
        let (new_blob, new_desc) = (staged(&blob, "new blob"), staged(&desc, "new"));
        // the blob's destination turns into a directory while the layer is written
        fs::remove_file(&blob).unwrap();
        fs::create_dir(&blob).unwrap();
        let err = commit_described(new_blob, new_desc).unwrap_err();
        assert!(err.to_string().contains("directory"), "{err}");
        assert_eq!(names(d.path()), vec!["b"]);
        assert!(!pending().iter().any(|p| p.starts_with(d.path())));
    }

    /// A descriptor destination that cannot be replaced keeps the new blob out too.
    #[test]
    fn an_unreplaceable_descriptor_keeps_the_blob_out() {
        let d = tempfile::tempdir().unwrap();
        let (blob, desc) = (d.path().join("b"), d.path().join("b.json"));
        fs::write(&blob, "old blob").unwrap();
        let (new_blob, new_desc) = (staged(&blob, "new blob"), staged(&desc, "new"));
        fs::create_dir(&desc).unwrap();
        let err = commit_described(new_blob, new_desc).unwrap_err();
        assert!(err.to_string().contains("b.json"), "{err}");
        assert_eq!(names(d.path()), vec!["b", "b.json"]);
        assert_eq!(fs::read(&blob).unwrap(), b"old blob");
        assert!(!pending().iter().any(|p| p.starts_with(d.path())));
        let c = d.path().join("c.json");
        commit_described(staged(&blob, "x"), staged(&c, "y")).unwrap();
        assert_eq!(names(d.path()), vec!["b", "b.json", "c.json"]);
        assert_eq!(fs::read(&blob).unwrap(), b"x");
    }
}
