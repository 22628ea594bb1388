//! Writing a set of files all or nothing: every file goes to a temp file next to its target
//! first, and only when all are written are they renamed into place.

use std::io::Write;
use std::path::{Component, Path, PathBuf};

/// One file to write.
pub struct PendingFile<'a> {
    pub path: &'a Path,
    pub contents: &'a [u8],
    /// Unix permission bits (0o600 for secrets).
    pub mode: u32,
}

/// Write every file, or none of them. On failure the temp files are removed and the targets are
/// untouched (renames are atomic per file; a failure between renames is reported with the paths).
pub fn write_all(files: &[PendingFile<'_>]) -> std::io::Result<()> {
    let mut staged: Vec<(tempfile::NamedTempFile, &Path)> = Vec::new();
    for f in files {
        let dir = f
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| annotate(e, dir))?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".poolstack-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|e| annotate(e, dir))?;
        set_mode(tmp.as_file(), f.mode).map_err(|e| annotate(e, f.path))?;
        tmp.write_all(f.contents).map_err(|e| annotate(e, f.path))?;
        tmp.as_file().sync_all().map_err(|e| annotate(e, f.path))?;
        staged.push((tmp, f.path));
    }
    for (tmp, path) in staged {
        tmp.persist(path).map_err(|e| annotate(e.error, path))?;
    }
    Ok(())
}

fn annotate(e: std::io::Error, path: &Path) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(unix)]
fn set_mode(file: &std::fs::File, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_file: &std::fs::File, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

/// An absolute, lexically normalised path (no symlink resolution; works for paths that do not exist yet).
pub fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// `target` relative to the directory `from` (`../stack.toml`).
pub fn relative(from: &Path, target: &Path) -> String {
    let from = absolute(from);
    let target = absolute(target);
    let f: Vec<_> = from.components().collect();
    let t: Vec<_> = target.components().collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..f.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c);
    }
    out.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative(
                Path::new("/a/b/out/pgbouncer"),
                Path::new("/a/b/stack.toml")
            ),
            "../../stack.toml"
        );
        assert_eq!(
            relative(Path::new("/a/b"), Path::new("/a/b/stack.toml")),
            "stack.toml"
        );
    }

    #[test]
    fn writes_all_files_with_modes() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("x/a.txt");
        let b = dir.path().join("b.txt");
        write_all(&[
            PendingFile {
                path: &a,
                contents: b"a",
                mode: 0o600,
            },
            PendingFile {
                path: &b,
                contents: b"b",
                mode: 0o644,
            },
        ])
        .unwrap();
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "a");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&a).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }
}
