//! The manifest format of `pyimage layer --manifest` (see `docs/tool.md`).
//!
//! UTF-8 text, one entry per line (`\n`), TAB-separated fields, empty lines ignored:
//! `file DEST SRC`, `exec DEST SRC`, `data DEST SRC`, `generated DEST SRC`, `symlink DEST TARGET`,
//! `linkof DEST SRC`, `dir DEST`, `empty DEST`, `tree DEST SRC`.

/// The kind of a manifest line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineKind {
    /// `file DEST SRC`
    File,
    /// `exec DEST SRC`
    Exec,
    /// `data DEST SRC`: a regular file that is never executable, whatever SRC's mode (Bazel
    /// leaves generated files executable on disk, e.g. the runfiles `_repo_mapping`)
    Data,
    /// `generated DEST SRC`: the output of a Bazel action. A symlink with a relative target is a
    /// symlink artifact (`ctx.actions.declare_symlink`; Bazel stages it as is, while it stages
    /// a generated file as an absolute link to the execroot) and is stored as that link; any
    /// other SRC is a `file`
    Generated,
    /// `symlink DEST TARGET`
    Symlink,
    /// `linkof DEST SRC`
    Linkof,
    /// `dir DEST`
    Dir,
    /// `empty DEST`
    Empty,
    /// `tree DEST SRC`
    Tree,
}

impl LineKind {
    /// The keyword of this kind.
    pub(crate) fn keyword(self) -> &'static str {
        match self {
            LineKind::File => "file",
            LineKind::Exec => "exec",
            LineKind::Data => "data",
            LineKind::Generated => "generated",
            LineKind::Symlink => "symlink",
            LineKind::Linkof => "linkof",
            LineKind::Dir => "dir",
            LineKind::Empty => "empty",
            LineKind::Tree => "tree",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "file" => LineKind::File,
            "exec" => LineKind::Exec,
            "data" => LineKind::Data,
            "generated" => LineKind::Generated,
            "symlink" => LineKind::Symlink,
            "linkof" => LineKind::Linkof,
            "dir" => LineKind::Dir,
            "empty" => LineKind::Empty,
            "tree" => LineKind::Tree,
            _ => return None,
        })
    }

    fn takes_arg(self) -> bool {
        !matches!(self, LineKind::Dir | LineKind::Empty)
    }
}

/// One parsed manifest line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ManifestLine {
    /// 1-based line number.
    pub line: usize,
    /// Entry kind.
    pub kind: LineKind,
    /// Destination as written.
    pub dest: String,
    /// SRC or TARGET (kinds that take one).
    pub arg: Option<String>,
}

impl ManifestLine {
    /// The line as it appears in a manifest (without newline).
    #[cfg(test)]
    pub(crate) fn render(&self) -> String {
        match &self.arg {
            Some(a) => format!("{}\t{}\t{}", self.kind.keyword(), self.dest, a),
            None => format!("{}\t{}", self.kind.keyword(), self.dest),
        }
    }
}

/// Longest symlink target accepted (Linux `PATH_MAX`, terminating NUL included): a longer
/// one cannot be created by any extractor.
pub(crate) const MAX_LINK_TARGET: usize = 4095;

/// Refuses symlink targets that extractors would cut or cannot create.
fn check_link_target(target: &str) -> Result<(), String> {
    if target.contains('\0') {
        return Err("NUL byte in symlink target (extractors would cut the target there)".into());
    }
    if target.len() > MAX_LINK_TARGET {
        return Err(format!(
            "symlink target of {} bytes is longer than PATH_MAX ({MAX_LINK_TARGET} bytes plus NUL)",
            target.len()
        ));
    }
    Ok(())
}

/// Parses a manifest; errors carry `(line, message)`.
pub(crate) fn parse_manifest(text: &str) -> Result<Vec<ManifestLine>, (usize, String)> {
    let mut out = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let line = i + 1;
        if raw.is_empty() {
            continue;
        }
        if raw.ends_with('\r') {
            return Err((
                line,
                "line ends with CR: CRLF line endings are not supported (write the manifest with \\n line endings)".into(),
            ));
        }
        let fields: Vec<&str> = raw.split('\t').collect();
        let kind = LineKind::parse(fields[0]).ok_or_else(|| {
            (
                line,
                format!(
                    "unknown entry kind {:?} (expected file, exec, data, generated, symlink, linkof, dir, empty or tree, TAB-separated)",
                    fields[0]
                ),
            )
        })?;
        let want = if kind.takes_arg() { 3 } else { 2 };
        if fields.len() != want {
            return Err((
                line,
                format!(
                    "`{}` takes {} TAB-separated fields, found {}",
                    kind.keyword(),
                    want,
                    fields.len()
                ),
            ));
        }
        if fields[1].is_empty() {
            return Err((line, "empty destination".into()));
        }
        if kind == LineKind::Symlink {
            check_link_target(fields[2]).map_err(|msg| (line, msg))?;
        }
        if kind.takes_arg() && fields[2].is_empty() {
            return Err((
                line,
                format!("`{}` needs a non-empty third field", kind.keyword()),
            ));
        }
        out.push(ManifestLine {
            line,
            kind,
            dest: fields[1].to_string(),
            arg: kind.takes_arg().then(|| fields[2].to_string()),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_kinds() {
        let m = "file\t/a\tsrc/a\nexec\t/b\tsrc/b\n\nsymlink\t/c\t../x\nlinkof\t/d\tl\ndir\t/e\nempty\t/f\ntree\t/g\tt\ngenerated\t/h\tout/h\n";
        let v = parse_manifest(m).unwrap();
        assert_eq!(v.len(), 8);
        assert_eq!(v[7].kind, LineKind::Generated);
        assert_eq!(v[2].kind, LineKind::Symlink);
        assert_eq!(v[2].line, 4);
        assert_eq!(v[4].arg, None);
        for l in &v {
            assert_eq!(parse_manifest(&l.render()).unwrap()[0].kind, l.kind);
        }
    }

    #[test]
    fn rejects_bad_lines() {
        assert_eq!(parse_manifest("bogus\t/a").unwrap_err().0, 1);
        assert_eq!(parse_manifest("\nfile\t/a").unwrap_err().0, 2);
        assert!(parse_manifest("dir\t/a\textra").is_err());
        assert!(parse_manifest("file /a src").is_err());
        assert!(parse_manifest("file\t\tsrc").is_err());
        assert!(parse_manifest("file\t/a\t").is_err());
    }
}
