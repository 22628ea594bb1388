//! Hand-written files → the resolved [`Stack`](super::Stack): each file's settings checked
//! against the catalog of the version it targets (CAT findings), then mapped into the same
//! model a manifest resolves to, with `Origin::Imported(file span)` provenance.
//!
//! Nothing is guessed: without a declared version, version-dependent findings are stated
//! conditionally; without a PostgreSQL configuration, `Postgres::described` is false; without a
//! userlist, the users are unknown ([`Coverage`](super::Coverage)).

mod apps;
mod assemble;
pub mod kind;
pub mod pgbouncer_ini;
pub mod postgresql_conf;

pub use apps::literal_password;
pub use kind::Kind;

use super::Stack;
use crate::catalog::pgbouncer::{PgbVersion, Section};
use crate::diag::InputError;
use crate::formats::directives::{self, Declared, Directives};
use crate::formats::dotenv::{self, EnvFile};
use crate::formats::postgresql_conf::ConfDocument;
use crate::formats::userlist::Userlist;
use crate::formats::{pgbouncer_ini as ini_format, postgresql_conf as conf_format, text};
use crate::source::{FileId, SourceMap, display_path};
use std::path::{Path, PathBuf};

/// One file named on the command line, and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub path: PathBuf,
    pub kind: Kind,
}

/// Versions given on the command line; they win over `poolstack:` comments in the files.
#[derive(Debug, Clone, Copy, Default)]
pub struct Versions {
    pub postgres: Option<u32>,
    pub pgbouncer: Option<PgbVersion>,
}

/// Every file read, before any catalog check.
pub struct Read {
    pub sources: SourceMap,
    pub ini: Option<ini_format::IniDocument>,
    /// In the order the server reads them: postgresql.conf files first, postgresql.auto.conf last.
    pub confs: Vec<ConfDocument>,
    pub envs: Vec<(FileId, EnvFile)>,
    pub userlist: Option<(FileId, Userlist)>,
    pub directives: Vec<Directives>,
    /// A whole PostgreSQL configuration is in the run (not only conf.d fragments): what it
    /// leaves unset is the server's default. Fragments alone say nothing about the rest.
    pub postgres_described: bool,
}

/// Read `inputs` (paths relative to `cwd`, which is also where PgBouncer's `%include` paths
/// resolve). Exit-2 errors: an unreadable or binary file, two pgbouncer.ini or two userlists
/// (PgBouncer reads one of each), a malformed `poolstack:` comment.
pub fn read(inputs: &[Input], cwd: &Path) -> Result<Read, InputError> {
    let mut sources = SourceMap::default();
    let mut out = Read {
        sources: SourceMap::default(),
        ini: None,
        confs: Vec::new(),
        envs: Vec::new(),
        userlist: None,
        directives: Vec::new(),
        postgres_described: false,
    };
    let mut auto_confs = Vec::new();
    // The same file named twice (`p.conf ./p.conf`) is read once.
    let mut named = std::collections::HashSet::new();
    for input in inputs {
        one_of_a_kind(inputs, input)?;
        if !named.insert(canonical(&input.path)) {
            continue;
        }
        match input.kind {
            Kind::PgbouncerIni => {
                let doc = ini_format::read(&input.path, cwd, &mut sources)?;
                redact_ini(&mut sources, &doc);
                out.directives.extend(doc.directives.iter().cloned());
                out.ini = Some(doc);
            }
            Kind::PostgresqlConf => {
                out.postgres_described |= kind::is_whole_postgresql_conf(&input.path);
                let doc = conf_format::read(&input.path, &mut sources)?;
                redact_conf(&mut sources, &doc);
                // ALTER SYSTEM's file is read after postgresql.conf and wins.
                if input
                    .path
                    .file_name()
                    .is_some_and(|n| n == "postgresql.auto.conf")
                {
                    auto_confs.push(doc);
                } else {
                    out.confs.push(doc);
                }
            }
            Kind::Env => {
                let file = sources.add(&input.path, text::read(&input.path)?);
                let env = dotenv::parse(file, &sources.get(file).text);
                // Before anything can fail with the text attached (a bad `poolstack:` comment).
                redact_env(&mut sources, file, &env);
                out.directives
                    .push(directives::scan(file, &sources, &['#'])?);
                out.envs.push((file, env));
            }
            Kind::Userlist => {
                let file = sources.add(&input.path, text::read(&input.path)?);
                let parsed = Userlist::parse(&sources.get(file).text);
                // Before anything can fail with the text attached (a bad `poolstack:` comment).
                redact_userlist(&mut sources, file, &parsed);
                // `;` only: a `#` line would make PgBouncer stop reading the file.
                out.directives
                    .push(directives::scan(file, &sources, &[';'])?);
                out.userlist = Some((file, parsed));
            }
        }
    }
    out.confs.extend(auto_confs);
    // A fragment named on the command line that another file already includes
    // (`postgresql.conf conf.d/*.conf` with `include_dir 'conf.d'`) is read where it is included,
    // once: reading it twice would report every setting as set twice.
    let included: std::collections::HashSet<PathBuf> = out
        .confs
        .iter()
        .flat_map(|doc| doc.files.iter().skip(1))
        .map(|&f| canonical(&sources.get(f).path))
        .collect();
    out.confs.retain(|doc| {
        doc.files
            .first()
            .is_none_or(|&f| !included.contains(&canonical(&sources.get(f).path)))
    });
    for doc in &out.confs {
        out.directives.extend(doc.directives.iter().cloned());
    }
    out.sources = sources;
    Ok(out)
}

/// A path as the file system resolves it (as given when it cannot).
fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Blank out every secret of a parsed userlist in its source text, so no report can show one:
/// the entries' and those on the lines PgBouncer never reads (AUT007 draws the broken line).
/// What rules need from the secrets (their kind, md5 quirks) comes from the parsed entries.
pub fn redact_userlist(sources: &mut SourceMap, file: FileId, parsed: &Userlist) {
    let text = &sources.get(file).text;
    let unloaded = parsed.unloaded_secret_spans(text);
    let loaded = parsed.entries.iter().map(|e| e.secret_span.clone());
    // Lines that do not parse as the reader expects still hold secrets after the user name.
    let raw = crate::redact::userlist_after_names(text);
    sources.redact_all(file, loaded.chain(unloaded).chain(raw).collect());
}

/// Blank out, in every file read, the values of keys named like a secret and URL passwords
/// (raw text: also where a line does not parse).
fn redact_raw(sources: &mut SourceMap, files: &[FileId]) {
    for &file in files {
        let spans = crate::redact::secret_spans(&sources.get(file).text);
        if !spans.is_empty() {
            sources.redact_all(file, spans);
        }
    }
}

/// Blank out secrets in a postgresql.conf and its includes (`primary_conninfo`'s password…).
pub fn redact_conf(sources: &mut SourceMap, doc: &ConfDocument) {
    redact_raw(sources, &doc.files);
}

/// Blank out the `password=` of every `[databases]`/`[users]`/`[peers]` connection string.
pub fn redact_ini(sources: &mut SourceMap, doc: &ini_format::IniDocument) {
    let found: Vec<_> = doc
        .entries
        .iter()
        .filter(|e| e.section != Section::Pgbouncer && e.value.contains("password"))
        .filter_map(|e| ini_format::parse_connstr(&e.value, &e.value_loc).ok())
        .flatten()
        .filter(|p| p.key == "password")
        .map(|p| {
            // Keep the quotes of `password='…'`.
            let q = usize::from(p.quoted);
            let span = p.value_loc.span;
            (
                p.value_loc.file,
                span.start + q..span.end.saturating_sub(q).max(span.start + q),
            )
        })
        .collect();
    for (file, span) in found {
        sources.redact(file, span);
    }
    redact_raw(sources, &doc.files);
}

/// Blank out a `DATABASE_URL`'s literal password in the `.env`'s source text (a `${VAR}`
/// reference is not a secret and stays). `password_in_file` comes from the parsed value.
pub fn redact_env(sources: &mut SourceMap, file: FileId, env: &EnvFile) {
    let found: Vec<_> = env
        .entries
        .iter()
        .filter_map(|e| apps::literal_password(e, sources))
        .collect();
    for loc in found {
        sources.redact(loc.file, loc.span);
    }
    redact_raw(sources, &[file]);
}

/// A server reads one configuration (and PgBouncer one auth_file): two different ones cannot
/// be one stack. (conf.d fragments and postgresql.auto.conf are meant to come in numbers.)
fn one_of_a_kind(inputs: &[Input], input: &Input) -> Result<(), InputError> {
    let role = |i: &Input| match i.kind {
        Kind::PgbouncerIni | Kind::Userlist => Some(i.kind.label()),
        Kind::PostgresqlConf if i.path.file_name().is_some_and(|n| n == "postgresql.conf") => {
            Some("postgresql.conf")
        }
        _ => None,
    };
    let Some(label) = role(input) else {
        return Ok(());
    };
    let mut same: Vec<(PathBuf, String)> = inputs
        .iter()
        .filter(|i| role(i) == Some(label))
        .map(|i| (canonical(&i.path), display_path(&i.path)))
        .collect();
    same.sort();
    same.dedup_by(|a, b| a.0 == b.0);
    if same.len() < 2 {
        return Ok(());
    }
    let shown: Vec<String> = same.into_iter().map(|(_, shown)| shown).collect();
    Err(InputError::new(format!(
        "{} different {label} files were given ({}): one server reads one",
        shown.len(),
        shown.join(", ")
    ))
    .with_help("check each server's files in a run of their own"))
}

/// The versions to check against: the command line's, else the files' `poolstack:` comments.
/// Two files declaring different versions of the same server is an input error.
pub fn versions(read: &Read, flags: &Versions) -> Result<Versions, InputError> {
    let pg = agree(
        read.directives
            .iter()
            .filter_map(|d| d.postgres_version.as_ref()),
        &read.sources,
        "PostgreSQL",
    )?;
    let pgb = agree(
        read.directives
            .iter()
            .filter_map(|d| d.pgbouncer_version.as_ref()),
        &read.sources,
        "PgBouncer",
    )?;
    Ok(Versions {
        postgres: flags.postgres.or(pg.map(|d| d.value)),
        pgbouncer: flags.pgbouncer.or(pgb.map(|d| d.value)),
    })
}

fn agree<'a, T: PartialEq + std::fmt::Display + 'a>(
    mut declared: impl Iterator<Item = &'a Declared<T>>,
    sources: &SourceMap,
    server: &str,
) -> Result<Option<&'a Declared<T>>, InputError> {
    let Some(first) = declared.next() else {
        return Ok(None);
    };
    for other in declared {
        if other.value != first.value {
            return Err(InputError::located(
                format!(
                    "this file declares {server} {}, but {} declares {server} {}",
                    other.value,
                    sources.describe(&first.loc),
                    first.value
                ),
                other.loc.clone(),
                sources,
            )
            .with_help("files checked together are one stack: declare the same version in each"));
        }
    }
    Ok(Some(first))
}

/// Read, check and assemble: the stack the files describe, with every CAT finding of the
/// readers and the catalog checks in `Stack::findings`.
pub fn build(inputs: &[Input], flags: &Versions, cwd: &Path) -> Result<Stack, InputError> {
    let read = read(inputs, cwd)?;
    let versions = versions(&read, flags)?;
    Ok(assemble::stack(read, versions, flags, inputs, cwd))
}
