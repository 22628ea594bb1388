//! Whether files sit in a git work tree without being ignored (AUT008). Kept cheap for pre-commit:
//! git runs only when a `.git` is found above a file, and then once per work tree for all files.

use crate::fsutil;
use crate::rules::FileFact;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub fn mark_tracked(facts: &mut [FileFact]) {
    let mut by_tree: BTreeMap<PathBuf, Vec<usize>> = BTreeMap::new();
    for (i, f) in facts.iter().enumerate() {
        if let Some(root) = work_tree(&fsutil::absolute(&f.path)) {
            by_tree.entry(root).or_default().push(i);
        }
    }
    for (root, members) in by_tree {
        // Relative to the work tree: git resolves `root` through symlinks, the paths would not be.
        let paths: Vec<PathBuf> = members
            .iter()
            .map(|&i| {
                let abs = fsutil::absolute(&facts[i].path);
                abs.strip_prefix(&root)
                    .map(Path::to_path_buf)
                    .unwrap_or(abs)
            })
            .collect();
        // When git cannot answer, say nothing rather than guess.
        let Some(ignored) = ignored(&root, &paths) else {
            continue;
        };
        for (&i, path) in members.iter().zip(&paths) {
            facts[i].tracked_by_git = !ignored.contains(path);
        }
    }
}

/// The nearest directory above `path` holding a `.git` (a directory, or a file in a worktree).
fn work_tree(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .skip(1)
        .find(|dir| dir.join(".git").exists())
        .map(Path::to_path_buf)
}

/// Which of `paths` the work tree at `root` ignores — one `git check-ignore` for all of them.
/// Tracked files are never reported as ignored, which is what AUT008 needs.
fn ignored(root: &Path, paths: &[PathBuf]) -> Option<Vec<PathBuf>> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["check-ignore", "--stdin", "-z"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut input = Vec::new();
    for p in paths {
        input.extend_from_slice(p.as_os_str().as_encoded_bytes());
        input.push(0);
    }
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(&input).ok()?;
    }
    let out = child.wait_with_output().ok()?;
    // 0: some paths are ignored; 1: none is; anything else: git failed.
    if !matches!(out.status.code(), Some(0 | 1)) {
        return None;
    }
    Some(
        out.stdout
            .split(|b| *b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| PathBuf::from(String::from_utf8_lossy(s).into_owned()))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_outside_a_work_tree_are_not_tracked_and_git_is_not_asked() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("userlist.txt");
        std::fs::write(&file, "").unwrap();
        assert_eq!(work_tree(&file), None);
        let mut facts = vec![FileFact {
            path: file,
            ..FileFact::default()
        }];
        mark_tracked(&mut facts);
        assert!(!facts[0].tracked_by_git);
    }

    #[test]
    fn ignored_files_are_not_tracked_and_others_are() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            Command::new("git")
                .arg("-C")
                .arg(dir.path())
                .args(args)
                .output()
        };
        if git(&["init", "-q"]).is_err() {
            eprintln!("SKIPPED: git is not installed");
            return;
        }
        std::fs::write(dir.path().join(".gitignore"), "secret.txt\n").unwrap();
        let mut facts: Vec<FileFact> = ["secret.txt", "sub/userlist.txt"]
            .iter()
            .map(|name| {
                let path = dir.path().join(name);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, "x").unwrap();
                FileFact {
                    path,
                    ..FileFact::default()
                }
            })
            .collect();
        mark_tracked(&mut facts);
        assert!(!facts[0].tracked_by_git, "ignored");
        assert!(facts[1].tracked_by_git, "not ignored");
    }
}
