//! The one error type of the library. Every message names the offending file, entry or
//! input and says its cause once (causes are part of the message, never a second `source`).

use std::io;
use std::path::PathBuf;

/// Result alias used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in any command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{}: {cause}", path.display())]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error (part of the message, not a separate cause, so it prints once).
        cause: io::Error,
    },
    /// A destination path is not acceptable in an image.
    #[error("invalid destination {dest:?} (from {origin}): {reason}")]
    BadDest {
        /// The destination as given.
        dest: String,
        /// Where it came from (manifest line, tree).
        origin: String,
        /// Why it is rejected.
        reason: String,
    },
    /// Two inputs map to the same destination.
    #[error("duplicate destination /{dest}: from {first} and from {second}")]
    Duplicate {
        /// The image path (without leading `/`).
        dest: String,
        /// The first source.
        first: String,
        /// The second source.
        second: String,
    },
    /// A manifest line could not be parsed.
    #[error("{}:{line}: {msg}", file.display())]
    Manifest {
        /// The manifest file.
        file: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        msg: String,
    },
    /// A symlink is not acceptable under the chosen policy.
    #[error("symlink {link} -> {target}: {reason}")]
    Symlink {
        /// The link (source path or image path).
        link: String,
        /// Its target.
        target: String,
        /// Why it is rejected, and the fix.
        reason: String,
    },
    /// A file name is not valid UTF-8.
    #[error("{}: file name is not valid UTF-8; layers only hold UTF-8 names (rename the file or exclude it)", path.display())]
    NonUtf8 {
        /// The offending path (lossy when displayed).
        path: PathBuf,
    },
    /// A special file (socket, fifo, device) in an input tree.
    #[error("{}: unsupported file type ({kind}); layers hold only files, directories and symlinks", path.display())]
    SpecialFile {
        /// The offending path.
        path: PathBuf,
        /// What it is.
        kind: &'static str,
    },
    /// A file's size changed between listing and reading.
    #[error("{}: file changed while being read (expected {expected} bytes)", path.display())]
    Changed {
        /// The file.
        path: PathBuf,
        /// Size seen when listing.
        expected: u64,
    },
    /// Two merge inputs contain the same path.
    #[error("duplicate path /{path} in merge inputs {first} and {second}")]
    MergeDuplicate {
        /// The path (without leading `/`).
        path: String,
        /// First input.
        first: String,
        /// Second input.
        second: String,
    },
    /// A layer blob is not a tar stream we can read.
    #[error("{}: malformed layer: {msg}", path.display())]
    BadTar {
        /// The layer.
        path: PathBuf,
        /// What is wrong.
        msg: String,
    },
    /// A descriptor is unreadable or inconsistent with its layer.
    #[error("{}: bad descriptor: {msg}", path.display())]
    BadDescriptor {
        /// The descriptor.
        path: PathBuf,
        /// What is wrong.
        msg: String,
    },
    /// An input file could not be read.
    #[error("cannot read {}: {cause}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error (part of the message, so it prints once).
        cause: io::Error,
    },
    /// A JSON input is not valid JSON of the expected shape.
    #[error("{}: invalid JSON: {cause}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error (part of the message, so it prints once).
        cause: serde_json::Error,
    },
    /// A layer plan is inconsistent (bad descriptor reference, bad thresholds, ...).
    #[error("{}: {message}", path.display())]
    Plan {
        /// The plan file.
        path: PathBuf,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A base image (OCI layout, OCI archive, docker archive) is unreadable, malformed or
    /// holds no single image for the platform.
    #[error("base image {}: {message}", path.display())]
    BaseImage {
        /// The path given as the base image.
        path: PathBuf,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// An argument is invalid (pattern, owner, level, ...).
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, cause: io::Error) -> Self {
        Error::Io {
            path: path.into(),
            cause,
        }
    }
}

/// Adds a path to `io::Result`s.
pub(crate) trait IoContext<T> {
    /// Converts the error into [`Error::Io`] naming `path`.
    fn at(self, path: impl Into<PathBuf>) -> Result<T>;
}

/// Reads a whole text file, as [`Error::Read`] on failure.
pub(crate) fn read_text(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|cause| Error::Read {
        path: path.to_path_buf(),
        cause,
    })
}

impl<T> IoContext<T> for io::Result<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|e| Error::io(path, e))
    }
}
