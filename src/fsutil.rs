//! Files on disk: writing a set of files all or nothing (`write`), bounded reads, and path helpers.

pub mod write;

use std::io::Read;
use std::path::{Component, Path, PathBuf};
pub use write::{Action, Links, PendingFile, WriteError, Written, write_all};

/// Read a whole regular file, refusing anything else (a directory, a device such as /dev/zero, a
/// FIFO) and anything longer than `limit` bytes. The size a file reports is not trusted: the read
/// itself stops at the limit.
pub fn read_bounded(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len().min(limit) as usize);
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {} MiB", limit / (1024 * 1024)),
        ));
    }
    Ok(bytes)
}

/// Why a relative output path from the manifest would not stay inside the output directory:
/// absolute, climbing out with `..`, or with a name longer than the file-name limit.
pub fn output_path_problem(path: &Path) -> Option<String> {
    let mut depth = 0usize;
    for c in path.components() {
        match c {
            Component::Prefix(_) | Component::RootDir => {
                return Some("it is an absolute path".to_string());
            }
            Component::ParentDir if depth == 0 => {
                return Some("`..` leads out of the output directory".to_string());
            }
            Component::ParentDir => depth -= 1,
            Component::CurDir => {}
            Component::Normal(n) => {
                if n.as_encoded_bytes().len() > write::NAME_MAX {
                    return Some(format!(
                        "a name in it is longer than {} bytes, the file-name limit",
                        write::NAME_MAX
                    ));
                }
                depth += 1;
            }
        }
    }
    if depth == 0 {
        return Some("it names no file".to_string());
    }
    None
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
}
