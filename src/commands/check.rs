//! `poolstack check [PATH ...]`: lint a manifest and the stack it derives (and, in a later issue,
//! hand-written config files linted together as one stack).
//!
//! Whatever the input, the tail is the same: a resolved [`Stack`] and facts about files on disk
//! go through [`findings`] (every rule, then the policy) and out as a [`Report`].

pub mod facts;
mod git;
pub(crate) mod policy;

use super::Io;
use crate::cli::{CheckArgs, Format};
use crate::diag::{Diagnostic, InputError, Severity};
use crate::outcome::Outcome;
use crate::render::{self, Existing};
use crate::report::{self, Report};
use crate::rules::{self, Context, FileFact};
use crate::secrets::{Need, Secrets};
use crate::source::display_path;
use crate::stack::Stack;
use crate::stack::budget::ServerConnectionBudget;
use std::path::{Path, PathBuf};

pub use policy::Flags;

/// What `check` was asked to lint.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Input {
    Manifest(PathBuf),
    /// Hand-written config files, to be linted together as one stack.
    ConfigFiles(Vec<ConfigFile>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ConfigFile {
    path: PathBuf,
    kind: ConfigKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConfigKind {
    PgbouncerIni,
    PostgresqlConf,
    Env,
    Userlist,
}

/// The stack to lint, however it was read, with what the report needs to point into it.
struct Subject {
    stack: Stack,
    files: Vec<FileFact>,
    /// The path the user named, as shown (SARIF anchors findings without a place there).
    shown: String,
}

pub fn run(args: &CheckArgs, io: &mut Io<'_>) -> Outcome {
    let flags = Flags {
        select: &args.select,
        ignore: &args.ignore,
        fail_on: args.fail_on,
    };
    let input = match classify(&args.paths) {
        Ok(input) => input,
        Err(e) => return input_error(&e, args.paths.first(), args.format, io),
    };
    let subject = match &input {
        Input::Manifest(path) => versions_are_for_files(args).and_then(|()| from_manifest(path)),
        Input::ConfigFiles(files) => from_config_files(files),
    };
    let subject = match subject {
        Ok(s) => s,
        Err(e) => return input_error(&e, input.first_path(), args.format, io),
    };
    let (diags, fail_on) = match findings(&subject.stack, &subject.files, &flags) {
        Ok(found) => found,
        Err(e) => return input_error(&e, input.first_path(), args.format, io),
    };
    let report = Report::new(&diags, &subject.stack.sources, Some(subject.shown));
    let _ = io
        .out
        .write_all(report.render(args.format, io.color).as_bytes());
    if report.summary.fails(fail_on) {
        Outcome::Findings
    } else {
        Outcome::Success
    }
}

/// Every rule on `stack`, then the policy (`[lint]` merged with the flags, flags winning). Also
/// returns the failing severity. Shared by `check` and `render`'s one-line count.
pub fn findings(
    stack: &Stack,
    files: &[FileFact],
    flags: &Flags<'_>,
) -> Result<(Vec<Diagnostic>, Severity), InputError> {
    let policy = policy::build(&stack.lint, &stack.sources, flags)?;
    let cx = Context {
        stack,
        budget: ServerConnectionBudget::of(stack),
        files,
    };
    let fail_on = policy.fail_on;
    Ok((rules::apply(rules::run(&cx), &policy), fail_on))
}

/// A manifest: resolve it, build what render would write (secrets only where available, never
/// prompting) and compare it with the disk.
fn from_manifest(path: &Path) -> Result<Subject, InputError> {
    let loaded = crate::manifest::load(path)?;
    let stack = crate::stack::resolve::resolve(&loaded, None)?;
    let secrets = Secrets::resolve(&stack, Need::IfAvailable)?;
    let existing = Existing::read(&stack);
    let plan = render::plan(&stack, &secrets, &existing)?;
    let files = facts::gather(&stack, &plan);
    Ok(Subject {
        shown: loaded.sources.get(loaded.file).display.clone(),
        stack,
        files,
    })
}

/// `--pg-version` / `--pgbouncer-version` describe hand-written files; a manifest declares its own.
fn versions_are_for_files(args: &CheckArgs) -> Result<(), InputError> {
    let flag = match (args.pg_version, &args.pgbouncer_version) {
        (Some(_), _) => "--pg-version",
        (None, Some(_)) => "--pgbouncer-version",
        (None, None) => return Ok(()),
    };
    Err(InputError::new(format!(
        "{flag} is for hand-written config files; a manifest declares its versions itself"
    ))
    .with_help("change `version` under [postgres] or [pgbouncer] in the manifest instead"))
}

/// Hand-written files: the readers that turn them into a [`Stack`] come with a later issue.
fn from_config_files(files: &[ConfigFile]) -> Result<Subject, InputError> {
    let names: Vec<String> = files
        .iter()
        .map(|f| format!("{} ({})", display_path(&f.path), f.kind.label()))
        .collect();
    Err(InputError::new(format!(
        "linting hand-written files is not yet supported: {}",
        names.join(", ")
    ))
    .with_help("pass a stack.toml (`poolstack import` will write one from existing files)"))
}

impl Input {
    fn first_path(&self) -> Option<&PathBuf> {
        match self {
            Input::Manifest(p) => Some(p),
            Input::ConfigFiles(files) => files.first().map(|f| &f.path),
        }
    }
}

impl ConfigKind {
    fn label(self) -> &'static str {
        match self {
            ConfigKind::PgbouncerIni => "pgbouncer.ini",
            ConfigKind::PostgresqlConf => "PostgreSQL configuration",
            ConfigKind::Env => "environment file",
            ConfigKind::Userlist => "userlist.txt",
        }
    }

    /// Recognised by name. (Recognising by content belongs with the readers.)
    fn of(path: &Path) -> Option<ConfigKind> {
        let name = path.file_name()?.to_str()?;
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext == "ini" {
            Some(ConfigKind::PgbouncerIni)
        } else if ext == "conf" {
            Some(ConfigKind::PostgresqlConf)
        } else if name == ".env" || ext == "env" || name.starts_with(".env.") {
            Some(ConfigKind::Env)
        } else if name == "userlist.txt" || name.starts_with("userlist") {
            Some(ConfigKind::Userlist)
        } else {
            None
        }
    }
}

/// Sort the paths into one manifest, or config files. No path: `./stack.toml`; a directory: the
/// `stack.toml` inside it.
fn classify(paths: &[PathBuf]) -> Result<Input, InputError> {
    if paths.is_empty() {
        return Ok(Input::Manifest(PathBuf::from("stack.toml")));
    }
    let mut manifests = Vec::new();
    let mut configs = Vec::new();
    for path in paths {
        if path.is_dir() {
            manifests.push(path.join("stack.toml"));
        } else if path.extension().is_some_and(|e| e == "toml") {
            manifests.push(path.clone());
        } else if let Some(kind) = ConfigKind::of(path) {
            configs.push(ConfigFile {
                path: path.clone(),
                kind,
            });
        } else {
            return Err(InputError::new(format!(
                "cannot tell what {} is: poolstack checks a stack.toml, or pgbouncer.ini, *.conf, .env and userlist.txt files",
                display_path(path)
            ))
            .with_help("pass the manifest (stack.toml) of the stack"));
        }
    }
    match (manifests.len(), configs.is_empty()) {
        (1, true) => Ok(Input::Manifest(manifests.remove(0))),
        (0, false) => Ok(Input::ConfigFiles(configs)),
        (0, true) => Err(InputError::new("nothing to check")),
        (_, true) => Err(InputError::new(format!(
            "one manifest at a time: {} were given",
            manifests
                .iter()
                .map(|p| display_path(p))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .with_help("run `poolstack check` once per stack.toml")),
        (_, false) => Err(
            InputError::new("a manifest and config files were given together")
                .with_help("check the stack.toml alone: it already covers the files it renders"),
        ),
    }
}

/// Exit 2, printed in the chosen format: human on stderr; json, sarif and github on stdout, so
/// that whatever reads the report still gets a well-formed one with the `INPUT` diagnostic.
pub(crate) fn input_error(
    e: &InputError,
    path: Option<&PathBuf>,
    format: Format,
    io: &mut Io<'_>,
) -> Outcome {
    let subject = path.map(|p| display_path(p));
    // Human errors go to stderr: colour follows that stream, not the report's.
    let color = format == Format::Human && report::human::use_color();
    let text = report::input_error(e, subject, format, color);
    let stream = if format == Format::Human {
        &mut *io.err
    } else {
        &mut *io.out
    };
    let _ = stream.write_all(text.as_bytes());
    Outcome::InputError
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_sorted_into_a_manifest_or_config_files() {
        assert_eq!(
            classify(&[]).ok(),
            Some(Input::Manifest(PathBuf::from("stack.toml")))
        );
        assert_eq!(
            classify(&[PathBuf::from("deploy/prod.toml")]).ok(),
            Some(Input::Manifest(PathBuf::from("deploy/prod.toml")))
        );
        let Ok(Input::ConfigFiles(files)) = classify(&[
            PathBuf::from("pgbouncer.ini"),
            PathBuf::from("conf.d/50-pool.conf"),
            PathBuf::from(".env"),
            PathBuf::from("api.env"),
            PathBuf::from("userlist.txt"),
        ]) else {
            panic!("config files not recognised")
        };
        let kinds: Vec<ConfigKind> = files.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            [
                ConfigKind::PgbouncerIni,
                ConfigKind::PostgresqlConf,
                ConfigKind::Env,
                ConfigKind::Env,
                ConfigKind::Userlist
            ]
        );
        assert!(classify(&[PathBuf::from("a.toml"), PathBuf::from("b.toml")]).is_err());
        assert!(classify(&[PathBuf::from("a.toml"), PathBuf::from("pgbouncer.ini")]).is_err());
        assert!(classify(&[PathBuf::from("notes.md")]).is_err());
    }
}
