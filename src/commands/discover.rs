//! Where stacks are on disk: the manifests and the hand-written files of a directory tree, and
//! the files of one stack that lie beside each other.
//!
//! A **manifest stack** is a `stack.toml`. A **hand-written stack** is a directory's own
//! configuration files together with those of its `pgbouncer/`, `postgres/` (or `postgresql/`)
//! and `conf.d/` subfolders — the layout of the seed (`.env` at the top,
//! `pgbouncer/pgbouncer.ini`, `pgbouncer/userlist.txt`) and of rendered output. Only names that
//! say what a file is count when looking through a directory (a monorepo holds many `*.ini` and
//! `*.conf` files that are not PgBouncer's or PostgreSQL's): `pgbouncer.ini` (or any `*.ini` in a
//! `pgbouncer/` folder), `postgresql*.conf`, `.env` and `*.env`, `userlist.txt`, and `*.conf`
//! fragments in a `conf.d/` folder of such a stack.

use crate::diag::InputError;
use crate::source::display_path;
use crate::stack::files::{self, Kind};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

mod siblings;

pub use siblings::{Group, with_siblings};

/// Folders whose files belong to the stack of the directory above them.
const STACK_FOLDERS: [&str; 4] = ["pgbouncer", "postgres", "postgresql", "conf.d"];

/// One stack found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Manifest(PathBuf),
    /// Hand-written files of one stack, rooted at `dir`.
    Files {
        dir: PathBuf,
        inputs: Vec<files::Input>,
    },
}

impl Found {
    /// Where the stack is, for sorting and for the report.
    pub fn path(&self) -> &Path {
        match self {
            Found::Manifest(p) => p,
            Found::Files { dir, .. } => dir,
        }
    }
}

/// The kind of a file found while looking through a directory — by a name that says it
/// unambiguously (see the module documentation). conf.d fragments are not this.
pub fn kind_in_tree(path: &Path) -> Option<Kind> {
    let name = path.file_name()?.to_str()?;
    let parent = parent_name(path);
    if name == "pgbouncer.ini" || (name.ends_with(".ini") && parent == Some("pgbouncer")) {
        return Some(Kind::PgbouncerIni);
    }
    if name.starts_with("postgresql") && name.ends_with(".conf") {
        return Some(Kind::PostgresqlConf);
    }
    if name == ".env" || (name.ends_with(".env") && name.len() > 4) {
        return Some(Kind::Env);
    }
    if name == "userlist.txt" {
        return Some(Kind::Userlist);
    }
    None
}

/// A `*.conf` file in a `conf.d/` folder (not hidden), as PostgreSQL's `include_dir` takes it.
fn fragment(path: &Path) -> bool {
    parent_name(path) == Some("conf.d")
        && path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".conf") && !n.starts_with('.'))
}

fn parent_name(path: &Path) -> Option<&str> {
    path.parent()?.file_name()?.to_str()
}

/// The directory whose stack a file belongs to: its own directory, or the one above its
/// `pgbouncer/`, `postgres/` or `conf.d/` folder (`postgres/conf.d/x.conf` → the directory above
/// `postgres/`).
pub fn anchor(file: &Path) -> PathBuf {
    let mut dir = file.parent().unwrap_or(Path::new("")).to_path_buf();
    for _ in 0..2 {
        let name = dir.file_name().and_then(|n| n.to_str());
        if name.is_some_and(|n| STACK_FOLDERS.contains(&n)) {
            dir = dir.parent().unwrap_or(Path::new("")).to_path_buf();
        } else {
            break;
        }
    }
    dir
}

/// The configuration files of the stack rooted at `dir`: its own, and those of its stack
/// folders, in a stable order (by path, fragments in byte order). Unreadable subfolders are
/// skipped: they hold nothing poolstack could read.
pub fn stack_of_dir(dir: &Path) -> Vec<files::Input> {
    let mut out = Vec::new();
    collect(dir, 0, &mut out);
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn collect(dir: &Path, depth: usize, out: &mut Vec<files::Input>) {
    // `` is the working directory; its files are shown as `x`, not `./x`.
    let listed = match dir.as_os_str().is_empty() {
        true => std::fs::read_dir("."),
        false => std::fs::read_dir(dir),
    };
    let Ok(entries) = listed else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = dir.join(e.file_name());
        let Ok(t) = std::fs::metadata(&path).map(|m| m.file_type()) else {
            continue;
        };
        if t.is_dir() {
            let folder = e.file_name();
            if depth < 2 && folder.to_str().is_some_and(|n| STACK_FOLDERS.contains(&n)) {
                collect(&path, depth + 1, out);
            }
        } else if let Some(kind) = kind_in_tree(&path) {
            out.push(files::Input { path, kind });
        } else if fragment(&path) {
            out.push(files::Input {
                path,
                kind: Kind::PostgresqlConf,
            });
        }
    }
}

/// Whether a hand-written stack is more than `.env` files (and conf.d fragments): in a tree,
/// an app's `.env` alone says nothing about a pooling stack (it is checked with the files it
/// sits beside, or when its directory is named).
fn describes_servers(inputs: &[files::Input]) -> bool {
    inputs
        .iter()
        .any(|i| i.kind != Kind::Env && !fragment(&i.path))
}

/// Every stack under `root`, recursively, honouring `.gitignore`, `.ignore` and git's exclude
/// files the way ripgrep does (also outside a git work tree), hidden files included (`.env`),
/// `.git` skipped. A directory with a `stack.toml` is a manifest stack; below it only other
/// `stack.toml` files are looked for (the files there are what it renders). Any other directory
/// holding configuration files (or whose stack folders hold them) is a hand-written stack; below
/// `root`, one of `.env` files alone is not. Sorted by path.
pub fn walk(root: &Path) -> Result<Vec<Found>, InputError> {
    let mut manifests = BTreeSet::new();
    let mut anchors: BTreeSet<PathBuf> = BTreeSet::new();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .follow_links(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => return Err(walk_error(root, &e)),
        };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        // `./a/stack.toml` is shown as `a/stack.toml`.
        let path = entry.path().strip_prefix(".").unwrap_or(entry.path());
        if path.file_name().is_some_and(|n| n == "stack.toml") {
            manifests.insert(path.parent().unwrap_or(Path::new("")).to_path_buf());
        } else if kind_in_tree(path).is_some() {
            anchors.insert(anchor(path));
        }
    }
    let mut found: Vec<Found> = manifests
        .iter()
        .map(|dir| Found::Manifest(dir.join("stack.toml")))
        .collect();
    for dir in anchors {
        // Below a manifest: its rendered files, not a stack of their own.
        if dir.ancestors().any(|a| manifests.contains(a)) {
            continue;
        }
        let inputs = stack_of_dir(&dir);
        let named = dir.as_path() == root.strip_prefix(".").unwrap_or(root);
        if inputs.is_empty() || (!named && !describes_servers(&inputs)) {
            continue;
        }
        found.push(Found::Files { dir, inputs });
    }
    found.sort_by(|a, b| a.path().cmp(b.path()));
    Ok(found)
}

fn walk_error(root: &Path, e: &ignore::Error) -> InputError {
    let reason = match e.io_error() {
        Some(io) => crate::formats::text::io_reason(io),
        None => e.to_string(),
    };
    InputError::new(format!(
        "cannot read the directory tree {}: {reason}",
        display_path(root)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Empty files at `names` below `root` (shared with `siblings`' tests).
    pub(super) fn touch(root: &Path, names: &[&str]) {
        for name in names {
            let path = root.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
    }

    /// `paths` relative to `root`, as text.
    pub(super) fn rel(root: &Path, paths: impl IntoIterator<Item = PathBuf>) -> Vec<String> {
        paths
            .into_iter()
            .map(|p| p.strip_prefix(root).unwrap().display().to_string())
            .collect()
    }

    #[test]
    fn names_that_say_what_a_file_is() {
        for (name, kind) in [
            ("pgbouncer.ini", Some(Kind::PgbouncerIni)),
            ("pgbouncer/main.ini", Some(Kind::PgbouncerIni)),
            ("tox.ini", None),
            ("postgresql.conf", Some(Kind::PostgresqlConf)),
            ("data/postgresql.auto.conf", Some(Kind::PostgresqlConf)),
            ("nginx.conf", None),
            ("pg_hba.conf", None),
            (".env", Some(Kind::Env)),
            ("api.env", Some(Kind::Env)),
            (".env.example", None),
            ("userlist.txt", Some(Kind::Userlist)),
            ("notes.txt", None),
        ] {
            assert_eq!(kind_in_tree(Path::new(name)), kind, "{name}");
        }
        assert!(fragment(Path::new("postgres/conf.d/50-x.conf")));
        assert!(!fragment(Path::new("postgres/conf.d/.50-x.conf")));
        assert!(!fragment(Path::new("nginx/50-x.conf")));
    }

    #[test]
    fn a_file_belongs_to_the_directory_above_its_stack_folders() {
        for (file, dir) in [
            ("svc/.env", "svc"),
            ("svc/pgbouncer/pgbouncer.ini", "svc"),
            ("svc/postgres/conf.d/50.conf", "svc"),
            ("svc/conf.d/50.conf", "svc"),
            ("pgbouncer/userlist.txt", ""),
        ] {
            assert_eq!(anchor(Path::new(file)), PathBuf::from(dir), "{file}");
        }
    }

    #[test]
    fn a_tree_holds_manifests_and_hand_written_stacks() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        touch(
            root,
            &[
                "a/stack.toml",
                "a/pgbouncer/pgbouncer.ini",
                "a/nested/stack.toml",
                "b/.env",
                "b/pgbouncer/pgbouncer.ini",
                "b/pgbouncer/userlist.txt",
                "b/postgres/conf.d/10-x.conf",
                "c/.env",
                "ignored/stack.toml",
                "web/nginx.conf",
                "web/conf.d/site.conf",
                ".git/stack.toml",
            ],
        );
        std::fs::write(root.join(".gitignore"), "ignored/\n").unwrap();
        let found = walk(root).unwrap();
        let shown: Vec<String> = found
            .iter()
            .map(|f| match f {
                Found::Manifest(p) => rel(root, [p.clone()])[0].clone(),
                Found::Files { dir, inputs } => format!(
                    "{}: {}",
                    rel(root, [dir.clone()])[0],
                    rel(root, inputs.iter().map(|i| i.path.clone())).join(" ")
                ),
            })
            .collect();
        assert_eq!(
            shown,
            [
                "a/nested/stack.toml",
                "a/stack.toml",
                "b: b/.env b/pgbouncer/pgbouncer.ini b/pgbouncer/userlist.txt b/postgres/conf.d/10-x.conf",
            ]
        );
        // Named itself, a directory of `.env` files alone is a stack.
        let c = walk(&root.join("c")).unwrap();
        assert!(matches!(&c[..], [Found::Files { inputs, .. }] if inputs.len() == 1));
    }
}
