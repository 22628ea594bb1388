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
use crate::rules::{self, Context, FileFact, FileRole};
use crate::secrets::{Need, Secrets};
use crate::source::display_path;
use crate::stack::Stack;
use crate::stack::budget::ServerConnectionBudget;
use crate::stack::files;
use std::path::{Path, PathBuf};

use super::config_files::Named;
pub use policy::Flags;

/// What `check` was asked to lint.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Input {
    Manifest(PathBuf),
    /// Hand-written config files, to be linted together as one stack.
    ConfigFiles(Vec<files::Input>),
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
        Input::ConfigFiles(inputs) => {
            super::config_files::versions(args.pg_version, args.pgbouncer_version.as_deref())
                .and_then(|v| from_config_files(inputs, &v))
        }
    };
    let subject = match subject {
        Ok(s) => s,
        Err(e) => return input_error(&e, input.first_path(), args.format, io),
    };
    let (mut diags, fail_on) = match findings(&subject.stack, &subject.files, &flags) {
        Ok(found) => found,
        Err(e) => return input_error(&e, input.first_path(), args.format, io),
    };
    if matches!(input, Input::Manifest(_)) {
        keep_what_render_refuses(&subject.stack, &flags, &mut diags);
    }
    let skipped = rules::skipped::skipped(&subject.stack);
    let report =
        Report::new(&diags, &subject.stack.sources, Some(subject.shown)).with_skipped(&skipped);
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

/// What `render` refuses to write (CAT errors in the stack and in the files it builds) fails
/// `check` too, whatever the manifest's `[lint]` says: a gate that passes what render then
/// refuses is no gate (one verdict). Only the command line narrows it (`--select`, `--ignore`:
/// the run asked for less, on purpose).
fn keep_what_render_refuses(stack: &Stack, flags: &Flags<'_>, diags: &mut Vec<Diagnostic>) {
    let named = |list: &[String], code: &str| list.iter().any(|c| c.eq_ignore_ascii_case(code));
    let wanted = |code: &str| {
        !named(flags.ignore, code) && (flags.select.is_empty() || named(flags.select, code))
    };
    let mut added = false;
    for b in stack
        .findings
        .iter()
        .filter(|d| d.code.starts_with("CAT") && d.severity == Severity::Error)
        .filter(|d| wanted(d.code))
    {
        match diags
            .iter_mut()
            .find(|d| d.code == b.code && d.primary == b.primary && d.message == b.message)
        {
            Some(d) => d.severity = Severity::Error,
            None => {
                added = true;
                let help = b.help.clone().unwrap_or_default();
                diags.push(b.clone().help(format!(
                    "{help}{}render refuses to write this, so it is reported whatever [lint] says",
                    if help.is_empty() { "" } else { "; " }
                )));
            }
        }
    }
    if added {
        diags.sort_by(|a, b| {
            let ka = a.primary.as_ref().map(|l| (l.file, l.span.start));
            let kb = b.primary.as_ref().map(|l| (l.file, l.span.start));
            ka.cmp(&kb).then(a.code.cmp(b.code))
        });
    }
}

/// A manifest: resolve it, build what render would write (secrets only where available, never
/// prompting), read that back as render does, and compare it with the disk.
fn from_manifest(path: &Path) -> Result<Subject, InputError> {
    let loaded = crate::manifest::load(path)?;
    let mut stack = crate::stack::resolve::resolve(&loaded, None)?;
    let secrets = Secrets::resolve(&stack, Need::IfAvailable)?;
    let existing = Existing::read(&stack);
    let plan = render::plan(&stack, &secrets, &existing)?;
    // What render would refuse in the files it builds, check reports (one verdict).
    render::verify::verify(&stack, &plan)?.merge_into(&mut stack);
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

/// Hand-written files: read with positions, checked against the catalogs of the versions they
/// target, and assembled into one stack.
fn from_config_files(
    inputs: &[files::Input],
    versions: &files::Versions,
) -> Result<Subject, InputError> {
    let cwd = std::env::current_dir()
        .map_err(|e| InputError::new(format!("cannot tell the working directory: {e}")))?;
    let stack = files::build(inputs, versions, &cwd)?;
    let facts = file_facts(inputs);
    Ok(Subject {
        shown: inputs
            .first()
            .map(|i| display_path(&i.path))
            .unwrap_or_default(),
        stack,
        files: facts,
    })
}

/// What AUT004 and AUT008 need about hand-written files: modes and git tracking.
fn file_facts(inputs: &[files::Input]) -> Vec<FileFact> {
    let mut out: Vec<FileFact> = inputs
        .iter()
        .map(|i| FileFact {
            path: i.path.clone(),
            role: match i.kind {
                files::Kind::PgbouncerIni => FileRole::PgbouncerIni,
                files::Kind::PostgresqlConf => FileRole::PostgresqlConf,
                files::Kind::Env => FileRole::Env,
                files::Kind::Userlist => FileRole::Userlist,
            },
            mode: facts::mode(&i.path),
            ..FileFact::default()
        })
        .collect();
    git::mark_tracked(&mut out);
    out
}

impl Input {
    fn first_path(&self) -> Option<&PathBuf> {
        match self {
            Input::Manifest(p) => Some(p),
            Input::ConfigFiles(inputs) => inputs.first().map(|f| &f.path),
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
        match super::config_files::classify(path)? {
            Named::Manifest(m) => manifests.push(m),
            Named::ConfigFile(input) => configs.push(input),
            Named::ConfigDir(inputs) => configs.extend(inputs),
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
        let kinds: Vec<files::Kind> = files.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            [
                files::Kind::PgbouncerIni,
                files::Kind::PostgresqlConf,
                files::Kind::Env,
                files::Kind::Env,
                files::Kind::Userlist
            ]
        );
        assert!(classify(&[PathBuf::from("a.toml"), PathBuf::from("b.toml")]).is_err());
        assert!(classify(&[PathBuf::from("a.toml"), PathBuf::from("pgbouncer.ini")]).is_err());
        assert!(classify(&[PathBuf::from("notes.md")]).is_err());
    }
}
