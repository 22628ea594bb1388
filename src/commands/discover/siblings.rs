//! The files of one stack that pre-commit did not pass: beside the named ones, and above them up
//! to the repository root (`check --siblings`).

use super::{anchor, fragment, stack_of_dir};
use crate::stack::files::{self, Kind};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Files named on the command line (by pre-commit), grouped into stacks, with the files of each
/// stack that were not named: beside them (the stack of their directory, see [`anchor`] and
/// [`stack_of_dir`]), then — for each kind still missing — in the nearest parent directory that
/// has it, up to the repository root (the nearest directory with a `.git`; without one, the
/// working directory when the files are below it). `.env` files are looked for above only when
/// the stack has none. Returns each group's files and which of them were added.
pub fn with_siblings(named: &[files::Input]) -> Vec<Group> {
    let mut by_anchor: BTreeMap<PathBuf, Vec<files::Input>> = BTreeMap::new();
    for input in named {
        by_anchor
            .entry(anchor(&input.path))
            .or_default()
            .push(input.clone());
    }
    by_anchor
        .into_iter()
        .map(|(dir, named)| group(&dir, named))
        .collect()
}

/// A stack of named files and the files added beside them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub dir: PathBuf,
    pub inputs: Vec<files::Input>,
    /// The inputs that were not named.
    pub added: Vec<PathBuf>,
}

fn group(dir: &Path, named: Vec<files::Input>) -> Group {
    let same = |a: &Path, b: &Path| crate::fsutil::absolute(a) == crate::fsutil::absolute(b);
    let mut inputs = named.clone();
    let mut added = Vec::new();
    let mut add = |candidate: files::Input, inputs: &mut Vec<files::Input>| {
        if !inputs.iter().any(|i| same(&i.path, &candidate.path)) {
            added.push(candidate.path.clone());
            inputs.push(candidate);
        }
    };
    for candidate in stack_of_dir(dir) {
        add(candidate, &mut inputs);
    }
    // Climbing is done on absolute paths (`..` has no parent of its own); display_path shows
    // what is below the working directory relative to it again.
    if let Some(top) = top(dir) {
        let mut here = crate::fsutil::absolute(dir);
        while here != top {
            let Some(parent) = here.parent() else {
                break;
            };
            here = parent.to_path_buf();
            for candidate in stack_of_dir(&here) {
                if missing(&inputs, &candidate) {
                    add(candidate, &mut inputs);
                }
            }
        }
    }
    Group {
        dir: dir.to_path_buf(),
        inputs,
        added,
    }
}

/// Whether the stack still lacks a file of `candidate`'s kind (a whole postgresql.conf for a
/// PostgreSQL file; fragments are taken only beside the named files).
fn missing(inputs: &[files::Input], candidate: &files::Input) -> bool {
    if fragment(&candidate.path) {
        return false;
    }
    let whole = |i: &files::Input| {
        i.kind == Kind::PostgresqlConf && files::kind::is_whole_postgresql_conf(&i.path)
    };
    match candidate.kind {
        Kind::PostgresqlConf => !inputs.iter().any(whole),
        kind => !inputs.iter().any(|i| i.kind == kind),
    }
}

/// The directory the climb stops at (absolute): the repository root above `dir`, else the
/// working directory when `dir` is below it; `None`: no climbing.
fn top(dir: &Path) -> Option<PathBuf> {
    let abs = crate::fsutil::absolute(dir);
    if let Some(root) = abs.ancestors().find(|a| a.join(".git").exists()) {
        return Some(root.to_path_buf());
    }
    let cwd = std::env::current_dir().ok()?;
    abs.starts_with(&cwd).then_some(cwd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::discover::kind_in_tree;
    use crate::commands::discover::tests::{rel, touch};

    #[test]
    fn siblings_are_found_beside_and_above_the_named_files() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        touch(
            root,
            &[
                ".git/HEAD",
                ".env",
                "pgbouncer/pgbouncer.ini",
                "pgbouncer/userlist.txt",
                "postgres/postgresql.conf",
                "svc/.env",
            ],
        );
        let named = |p: &str| files::Input {
            path: root.join(p),
            kind: kind_in_tree(Path::new(p)).unwrap(),
        };
        // Only .env changed: the stack's other files are beside it.
        let groups = with_siblings(&[named(".env")]);
        assert_eq!(groups.len(), 1);
        assert_eq!(
            rel(root, groups[0].added.clone()),
            [
                "pgbouncer/pgbouncer.ini",
                "pgbouncer/userlist.txt",
                "postgres/postgresql.conf"
            ]
        );
        // Only pgbouncer.ini changed: the same stack.
        let groups = with_siblings(&[named("pgbouncer/pgbouncer.ini")]);
        assert_eq!(groups[0].inputs.len(), 4);
        // A service's own .env: the stack files come from above, not the root's .env.
        let groups = with_siblings(&[named("svc/.env")]);
        assert_eq!(
            rel(root, groups[0].added.clone()),
            [
                "pgbouncer/pgbouncer.ini",
                "pgbouncer/userlist.txt",
                "postgres/postgresql.conf"
            ]
        );
    }
}
