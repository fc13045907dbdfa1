//! Image path rules: normalisation of destinations, relative symlink targets, whiteout names.

use crate::error::{Error, Result};

/// Normalises an image destination to its stored form: no leading `/`, no trailing `/`,
/// `.` components dropped. Returns `""` for the root.
///
/// Rejects relative paths (unless `prefix` is given: then a relative `dest` is placed under
/// it), `..` components, empty components (`//`), NUL bytes and components starting with
/// `.wh.`.
pub(crate) fn normalize_dest(dest: &str, prefix: Option<&str>, origin: &str) -> Result<String> {
    let bad = |reason: &str| Error::BadDest {
        dest: dest.to_string(),
        origin: origin.to_string(),
        reason: reason.to_string(),
    };
    let full;
    let abs = if dest.starts_with('/') {
        dest
    } else if let Some(p) = prefix {
        full = format!("{}/{}", p.trim_end_matches('/'), dest);
        if !full.starts_with('/') {
            return Err(bad("--prefix must be an absolute image path"));
        }
        &full
    } else {
        return Err(bad(
            "destinations must be absolute image paths (start with '/')",
        ));
    };
    if abs.contains('\0') {
        return Err(bad("NUL byte in path"));
    }
    let mut parts: Vec<&str> = Vec::new();
    let body = abs.strip_prefix('/').unwrap_or(abs);
    // one trailing '/' is fine (`dir /app/x/`); `/` alone is the root
    let body = body.strip_suffix('/').unwrap_or(body);
    for c in body.split('/') {
        match c {
            "" if body.is_empty() => {}
            "" => return Err(bad("empty path component ('//')")),
            "." => {}
            ".." => {
                return Err(bad(
                    "'..' components are not allowed (write the normalised path)",
                ))
            }
            c => {
                if c.starts_with(".wh.") {
                    return Err(bad(
                        "names starting with '.wh.' are OCI whiteouts (they delete files of lower layers)",
                    ));
                }
                parts.push(c);
            }
        }
    }
    Ok(parts.join("/"))
}

/// Checks one file name found in a source tree.
pub(crate) fn check_name(name: &str, dest: &str, origin: &str) -> Result<()> {
    if name.starts_with(".wh.") {
        return Err(Error::BadDest {
            dest: format!("/{dest}"),
            origin: origin.to_string(),
            reason:
                "names starting with '.wh.' are OCI whiteouts (they delete files of lower layers)"
                    .into(),
        });
    }
    Ok(())
}

/// Joins a stored path and a child name.
pub(crate) fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else if name.is_empty() {
        parent.to_string()
    } else {
        format!("{parent}/{name}")
    }
}

/// Parent of a stored path (`""` for top-level names).
pub(crate) fn parent(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// Resolves a relative symlink `target` lexically from directory `dir` (stored form).
/// `None` if it climbs above the root.
pub(crate) fn resolve_relative(dir: &str, target: &str) -> Option<String> {
    let mut parts: Vec<&str> = if dir.is_empty() {
        Vec::new()
    } else {
        dir.split('/').collect()
    };
    for c in target.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

/// The relative path from directory `from_dir` to `to` (both stored form).
pub(crate) fn relative(from_dir: &str, to: &str) -> String {
    let a: Vec<&str> = from_dir.split('/').filter(|c| !c.is_empty()).collect();
    let b: Vec<&str> = to.split('/').filter(|c| !c.is_empty()).collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out: Vec<&str> = vec![".."; a.len() - common];
    out.extend(&b[common..]);
    if out.is_empty() {
        ".".to_string()
    } else {
        out.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes() {
        assert_eq!(normalize_dest("/app/x.py", None, "t").unwrap(), "app/x.py");
        assert_eq!(normalize_dest("/app/./b/", None, "t").unwrap(), "app/b");
        assert!(normalize_dest("/app//b", None, "t").is_err());
        assert!(normalize_dest("/app/a/../b", None, "t").is_err());
        assert_eq!(normalize_dest("/app/", None, "t").unwrap(), "app");
        assert_eq!(normalize_dest("/", None, "t").unwrap(), "");
        assert_eq!(normalize_dest("x/y", Some("/app"), "t").unwrap(), "app/x/y");
        assert_eq!(
            normalize_dest("x/y", Some("/app/r/"), "t").unwrap(),
            "app/r/x/y"
        );
        assert!(normalize_dest("../x", Some("/app/r/"), "t").is_err());
        assert!(normalize_dest("app/x", None, "t").is_err());
        assert!(normalize_dest("/../etc", None, "t").is_err());
        assert!(normalize_dest("/app/../../etc", None, "t").is_err());
        assert!(normalize_dest("/app/.wh.x", None, "t").is_err());
        assert!(normalize_dest("/app/.wh..wh..opq", None, "t").is_err());
        assert!(normalize_dest("x/../../../y", Some("/app"), "t").is_err());
    }

    #[test]
    fn relatives() {
        assert_eq!(relative("app/bin", "app/lib/x"), "../lib/x");
        assert_eq!(relative("", "app/x"), "app/x");
        assert_eq!(relative("app", "app"), ".");
        assert_eq!(
            relative("app/a/b", "usr/bin/python3"),
            "../../../usr/bin/python3"
        );
        assert_eq!(
            resolve_relative("app/bin", "../lib/x").as_deref(),
            Some("app/lib/x")
        );
        assert_eq!(resolve_relative("app", "../../x"), None);
    }
}
