//! The stacks a `check PATH...` command line names: manifests, directory trees searched for
//! stacks, and hand-written files (one stack together, or — with `--siblings` — grouped into
//! their stacks with the files beside them).

use crate::commands::config_files::{self, Named};
use crate::commands::discover::{self, Found};
use crate::diag::InputError;
use crate::fsutil;
use crate::source::display_path;
use crate::stack::files;
use std::path::{Path, PathBuf};

/// One stack to check.
#[derive(Debug)]
pub enum Target {
    Manifest(PathBuf),
    /// Hand-written files linted together as one stack.
    Files {
        /// Where the stack is: the directory it was found in, or the files' common directory.
        dir: PathBuf,
        inputs: Vec<files::Input>,
        /// Inputs that were not named but belong to the stack (`--siblings`).
        added: Vec<PathBuf>,
    },
    /// A path that names no usable stack; the others are still checked.
    Unreadable {
        path: PathBuf,
        error: InputError,
    },
}

impl Target {
    /// The path an input error of this stack is reported against.
    pub fn first_path(&self) -> Option<&PathBuf> {
        match self {
            Target::Manifest(p) => Some(p),
            Target::Files { inputs, .. } => inputs.first().map(|i| &i.path),
            Target::Unreadable { path, .. } => Some(path),
        }
    }

    /// Where the stack is, as the user reads it.
    pub fn shown(&self) -> String {
        match self {
            Target::Manifest(p) | Target::Unreadable { path: p, .. } => display_path(p),
            Target::Files { dir, .. } => match display_path(dir) {
                s if s.is_empty() => ".".to_string(),
                s => s,
            },
        }
    }
}

/// Sort the paths into stacks. No path: `./stack.toml`. A directory: every stack in its tree
/// ([`discover::walk`]); one holding none, its `*.conf` fragments (a conf.d named on its own).
/// Config files: one stack together, or with `siblings` grouped into their stacks with the
/// files beside them. Exit 2 for the whole run only for what no stack can be made of: config
/// files named together with a manifest.
pub fn classify(paths: &[PathBuf], siblings: bool) -> Result<Vec<Target>, InputError> {
    if paths.is_empty() {
        return Ok(vec![Target::Manifest(PathBuf::from("stack.toml"))]);
    }
    let mut targets = Vec::new();
    let mut loose = Vec::new();
    let mut named_manifest = false;
    for path in paths {
        if path.is_dir() {
            targets.extend(tree(path));
            continue;
        }
        match config_files::classify(path) {
            Ok(Named::Manifest(m)) => {
                named_manifest = true;
                targets.push(Target::Manifest(m));
            }
            Ok(Named::ConfigFile(input)) => loose.push(input),
            Ok(Named::ConfigDir(inputs)) => loose.extend(inputs),
            Err(error) => targets.push(Target::Unreadable {
                path: path.clone(),
                error,
            }),
        }
    }
    if !loose.is_empty() && named_manifest && !siblings {
        return Err(
            InputError::new("a manifest and config files were given together")
                .with_help("check the stack.toml alone: it already covers the files it renders"),
        );
    }
    if siblings {
        targets.extend(discover::with_siblings(&loose).into_iter().map(|g| {
            // Files beside a stack.toml are what it renders: the manifest checks them (drift,
            // hand edits) and its stack.
            let manifest = g.dir.join("stack.toml");
            match manifest.is_file() {
                true => Target::Manifest(manifest),
                false => Target::Files {
                    dir: g.dir,
                    inputs: g.inputs,
                    added: g.added,
                },
            }
        }));
    } else if !loose.is_empty() {
        targets.push(Target::Files {
            dir: common_dir(&loose),
            inputs: loose,
            added: Vec::new(),
        });
    }
    Ok(dedup(targets))
}

/// The stacks of a directory tree.
fn tree(dir: &Path) -> Vec<Target> {
    let found = match discover::walk(dir) {
        Ok(found) => found,
        Err(error) => {
            return vec![Target::Unreadable {
                path: dir.to_path_buf(),
                error,
            }];
        }
    };
    if found.is_empty() {
        // No stack in the tree: a conf.d of fragments, or exit 2 saying what is not there.
        return vec![match config_files::classify(dir) {
            Ok(Named::ConfigDir(inputs)) => Target::Files {
                dir: dir.to_path_buf(),
                inputs,
                added: Vec::new(),
            },
            Ok(Named::Manifest(m)) => Target::Manifest(m),
            Ok(Named::ConfigFile(input)) => Target::Files {
                dir: dir.to_path_buf(),
                inputs: vec![input],
                added: Vec::new(),
            },
            Err(error) => Target::Unreadable {
                path: dir.to_path_buf(),
                error,
            },
        }];
    }
    found
        .into_iter()
        .map(|f| match f {
            Found::Manifest(p) => Target::Manifest(p),
            Found::Files { dir, inputs } => Target::Files {
                dir,
                inputs,
                added: Vec::new(),
            },
        })
        .collect()
}

/// The directory all `inputs` are in (`""`: the working directory).
fn common_dir(inputs: &[files::Input]) -> PathBuf {
    let mut dir = discover::anchor(&inputs[0].path);
    while !inputs.iter().all(|i| i.path.starts_with(&dir)) {
        match dir.parent() {
            Some(p) => dir = p.to_path_buf(),
            None => return PathBuf::new(),
        }
    }
    dir
}

/// A stack named twice (a manifest, and a directory holding it) is checked once.
fn dedup(targets: Vec<Target>) -> Vec<Target> {
    let mut seen = std::collections::HashSet::new();
    targets
        .into_iter()
        .filter(|t| {
            let key = match t {
                Target::Manifest(p) => fsutil::absolute(p),
                _ => return true,
            };
            seen.insert(key)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(t: &Target) -> Vec<files::Kind> {
        match t {
            Target::Files { inputs, .. } => inputs.iter().map(|f| f.kind).collect(),
            other => panic!("not files: {other:?}"),
        }
    }

    #[test]
    fn paths_are_sorted_into_stacks() {
        assert!(matches!(
            &classify(&[], false).unwrap()[..],
            [Target::Manifest(p)] if p == Path::new("stack.toml")
        ));
        let t = classify(&[PathBuf::from("deploy/prod.toml")], false).unwrap();
        assert!(matches!(&t[..], [Target::Manifest(p)] if p == Path::new("deploy/prod.toml")));
        let t = classify(
            &[
                PathBuf::from("pgbouncer.ini"),
                PathBuf::from("conf.d/50-pool.conf"),
                PathBuf::from(".env"),
                PathBuf::from("api.env"),
                PathBuf::from("userlist.txt"),
            ],
            false,
        )
        .unwrap();
        assert_eq!(t.len(), 1, "{t:?}");
        assert_eq!(
            kinds(&t[0]),
            [
                files::Kind::PgbouncerIni,
                files::Kind::PostgresqlConf,
                files::Kind::Env,
                files::Kind::Env,
                files::Kind::Userlist
            ]
        );
        // Two manifests: two stacks.
        let t = classify(&[PathBuf::from("a.toml"), PathBuf::from("b.toml")], false).unwrap();
        assert_eq!(t.len(), 2);
        assert!(
            classify(
                &[PathBuf::from("a.toml"), PathBuf::from("pgbouncer.ini")],
                false
            )
            .is_err()
        );
        // What is not a stack is one unreadable target, not the end of the run.
        let t = classify(&[PathBuf::from("notes.md"), PathBuf::from("a.toml")], false).unwrap();
        assert!(matches!(&t[0], Target::Unreadable { .. }), "{t:?}");
        assert!(matches!(&t[1], Target::Manifest(_)), "{t:?}");
    }

    #[test]
    fn a_directory_of_hand_written_files_is_those_files() {
        let tmp = tempfile::tempdir().unwrap();
        for name in ["pgbouncer.ini", ".env", "userlist.txt"] {
            std::fs::write(tmp.path().join(name), "").unwrap();
        }
        let t = classify(&[tmp.path().to_path_buf()], false).unwrap();
        assert_eq!(
            kinds(&t[0]),
            [
                files::Kind::Env,
                files::Kind::PgbouncerIni,
                files::Kind::Userlist
            ]
        );
        // A conf.d named on its own: its fragments.
        let conf_d = tmp.path().join("frags");
        std::fs::create_dir(&conf_d).unwrap();
        std::fs::write(conf_d.join("10-a.conf"), "").unwrap();
        let t = classify(&[conf_d], false).unwrap();
        assert_eq!(kinds(&t[0]), [files::Kind::PostgresqlConf]);
        // Nothing at all: unreadable, saying so.
        let empty = tmp.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        let t = classify(&[empty], false).unwrap();
        assert!(
            matches!(&t[0], Target::Unreadable { error, .. } if error.message.contains("neither a stack.toml nor")),
            "{t:?}"
        );
    }
}
