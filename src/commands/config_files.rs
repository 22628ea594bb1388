//! What `check` and `import` share about files named on the command line: telling a manifest
//! from a config file and each config file's kind, and the `--pg-version` /
//! `--pgbouncer-version` flags.

use crate::diag::InputError;
use crate::source::display_path;
use crate::stack::files;
use std::path::{Path, PathBuf};

/// One path named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Named {
    /// A manifest: a `.toml` file, or the `stack.toml` inside a directory.
    Manifest(PathBuf),
    /// A hand-written config file of a known kind.
    ConfigFile(files::Input),
    /// A directory without a stack.toml: its configuration files and those of its
    /// `pgbouncer/`, `postgres/` and `conf.d/` folders ([`super::discover::stack_of_dir`]); failing
    /// those, its `*.conf` fragments, read the way PostgreSQL's `include_dir` reads them.
    ConfigDir(Vec<files::Input>),
}

/// What `path` is. Neither a manifest nor a config file of a known kind is exit 2: a missing
/// file says so, an existing one says what poolstack reads.
pub fn classify(path: &Path) -> Result<Named, InputError> {
    if path.is_dir() {
        let manifest = path.join("stack.toml");
        if manifest.exists() {
            return Ok(Named::Manifest(manifest));
        }
        let inputs = super::discover::stack_of_dir(path);
        if !inputs.is_empty() {
            return Ok(Named::ConfigDir(inputs));
        }
        return fragments(path).map(Named::ConfigDir);
    }
    if path.extension().is_some_and(|e| e == "toml") {
        return Ok(Named::Manifest(path.to_path_buf()));
    }
    if let Some(kind) = kind_of(path) {
        return Ok(Named::ConfigFile(files::Input {
            path: path.to_path_buf(),
            kind,
        }));
    }
    if !path.exists() {
        return Err(InputError::new(format!(
            "cannot read {}: no such file",
            display_path(path)
        )));
    }
    Err(InputError::new(format!(
        "cannot tell what {} is: poolstack reads a stack.toml, or pgbouncer.ini, *.conf, .env and userlist.txt files",
        display_path(path)
    ))
    .with_help("name it after its kind (pgbouncer.ini, postgresql.conf, .env, userlist.txt)"))
}

/// A conf.d directory as PostgreSQL's `include_dir` reads it: regular files ending in `.conf`
/// (case-sensitive), not starting with `.`, in byte order. None at all is exit 2: a directory
/// with neither a stack.toml nor fragments is not what the user meant.
fn fragments(dir: &Path) -> Result<Vec<files::Input>, InputError> {
    let shown = display_path(dir);
    let entries = std::fs::read_dir(dir).map_err(|e| {
        InputError::new(format!(
            "cannot read the directory {shown}: {}",
            crate::formats::text::io_reason(&e)
        ))
    })?;
    let mut names: Vec<std::ffi::OsString> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name())
        .filter(|n| {
            n.to_str()
                .is_some_and(|s| s.ends_with(".conf") && !s.starts_with('.'))
        })
        .collect();
    names.sort_by(|a, b| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));
    if names.is_empty() {
        return Err(InputError::new(format!(
            "{shown} holds neither a stack.toml nor configuration files (pgbouncer.ini, postgresql.conf, .env, userlist.txt, *.conf)"
        ))
        .with_help("pass the manifest, or the configuration files themselves"));
    }
    Ok(names
        .into_iter()
        .map(|n| files::Input {
            path: dir.join(n),
            kind: files::Kind::PostgresqlConf,
        })
        .collect())
}

/// The kind of a config file: by its name, else by its first lines. `None` when neither says.
fn kind_of(path: &Path) -> Option<files::Kind> {
    files::Kind::by_name(path).or_else(|| by_content(path))
}

/// A file whose name says nothing: its first lines decide. An unreadable file is reported
/// when it is read.
fn by_content(path: &Path) -> Option<files::Kind> {
    use std::io::Read;
    let mut head = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(64 * 1024)
        .read_to_end(&mut head)
        .ok()?;
    files::Kind::by_content(&String::from_utf8_lossy(&head))
}

/// `--pg-version` / `--pgbouncer-version`, checked as a manifest's versions would be.
pub fn versions(
    pg_version: Option<u32>,
    pgbouncer_version: Option<&str>,
) -> Result<files::Versions, InputError> {
    use crate::catalog::pgbouncer::PgbVersion;
    use crate::catalog::postgres::SUPPORTED_MAJORS;
    let postgres = match pg_version {
        Some(v) if !SUPPORTED_MAJORS.contains(&v) => {
            return Err(InputError::new(format!(
                "--pg-version {v}: poolstack knows PostgreSQL {} to {}",
                SUPPORTED_MAJORS.start(),
                SUPPORTED_MAJORS.end()
            )));
        }
        other => other,
    };
    let pgbouncer = match pgbouncer_version {
        Some(text) => Some(
            PgbVersion::parse(text)
                .filter(|v| v.is_supported())
                .ok_or_else(|| {
                    InputError::new(format!(
                        "--pgbouncer-version {text}: poolstack knows PgBouncer {} to {}",
                        PgbVersion::MIN_SUPPORTED,
                        PgbVersion::MAX_SUPPORTED
                    ))
                    .with_help("write a release such as 1.18 or 1.21.0")
                })?,
        ),
        None => None,
    };
    Ok(files::Versions {
        postgres,
        pgbouncer,
    })
}
