//! `poolstack check [PATH ...]`: lint manifests and the stacks they derive, directory trees of
//! stacks, and hand-written config files linted together as one stack.
//!
//! The paths become stacks (`targets`); each is checked on its own, exactly as a run on it
//! alone would check it, on every core. Whatever the input, the tail is the same: a resolved
//! [`Stack`] and facts about files on disk go through [`findings`] (every rule, then the policy),
//! and every stack's findings go out as one report ([`Stacks`]).

pub mod facts;
mod git;
pub(crate) mod policy;
mod targets;

use super::Io;
use crate::cli::{CheckArgs, Format};
use crate::diag::{Diagnostic, InputError, Severity};
use crate::outcome::Outcome;
use crate::render::{self, Existing};
use crate::report::stacks::{StackKind, StackReport, Stacks};
use crate::report::{self, Report};
use crate::rules::{self, Context, FileFact, FileRole, Summary};
use crate::secrets::{Need, Secrets};
use crate::source::{SourceMap, display_path};
use crate::stack::Stack;
use crate::stack::budget::ServerConnectionBudget;
use crate::stack::files;
use std::path::{Path, PathBuf};

pub use policy::Flags;
use targets::Target;

/// The stack to lint, however it was read, with what the report needs to point into it.
struct Subject {
    stack: Stack,
    files: Vec<FileFact>,
    /// The path the user named, as shown (SARIF anchors findings without a place there).
    shown: String,
}

/// One stack, checked: its findings (or the `INPUT` diagnostic of a stack that could not be
/// read), the files they point into, and its own exit code.
struct Checked {
    diagnostics: Vec<Diagnostic>,
    sources: SourceMap,
    subject: Option<String>,
    outcome: Outcome,
    /// Why the stack could not be read.
    error: Option<InputError>,
    /// Rules the input did not let run (hand-written files without versions).
    skipped: Vec<rules::skipped::Skipped>,
}

pub fn run(args: &CheckArgs, io: &mut Io<'_>) -> Outcome {
    let flags = Flags {
        select: &args.select,
        ignore: &args.ignore,
        fail_on: args.fail_on,
    };
    let targets = match targets::classify(&args.paths, args.siblings) {
        Ok(t) => t,
        Err(e) => return input_error(&e, args.paths.first(), args.format, io),
    };
    let versions =
        super::config_files::versions(args.pg_version, args.pgbouncer_version.as_deref()).and_then(
            |v| {
                let any_files = targets.iter().any(|t| matches!(t, Target::Files { .. }));
                match any_files {
                    true => Ok(v),
                    false => versions_are_for_files(args).map(|()| v),
                }
            },
        );
    let versions = match versions {
        Ok(v) => v,
        Err(e) => return input_error(&e, args.paths.first(), args.format, io),
    };
    // Every stack on its own, on every core; the catalogs are loaded once, by whichever stack
    // needs them first.
    let checked = crate::parallel::map(&targets, |t| check(t, &versions, &flags));
    // One stack that could not be read: for people, the message alone on stderr, as always;
    // machine formats get the report (with its `stacks` entry) on stdout.
    if let ([target], [one]) = (&targets[..], &checked[..])
        && let Some(e) = &one.error
        && args.format == Format::Human
    {
        return input_error(e, target.first_path(), args.format, io);
    }
    let stacks = Stacks {
        stacks: targets
            .iter()
            .zip(&checked)
            .map(|(t, c)| stack_report(t, c))
            .collect(),
    };
    let _ = io
        .out
        .write_all(stacks.render(args.format, io.color).as_bytes());
    checked
        .iter()
        .map(|c| c.outcome)
        .max_by_key(|o| o.exit_code())
        .unwrap_or(Outcome::Success)
}

/// One stack, exactly as a run on it alone checks it.
fn check(target: &Target, versions: &files::Versions, flags: &Flags<'_>) -> Checked {
    let subject = match target {
        Target::Manifest(path) => from_manifest(path),
        Target::Files { inputs, .. } => from_config_files(inputs, versions),
        Target::Unreadable { error, .. } => Err(error.clone()),
    };
    let found = subject.and_then(|s| {
        let (mut diagnostics, fail_on) = findings(&s.stack, &s.files, flags)?;
        if matches!(target, Target::Manifest(_)) {
            keep_what_render_refuses(&s.stack, flags, &mut diagnostics);
        }
        Ok((s, diagnostics, fail_on))
    });
    match found {
        Ok((s, diagnostics, fail_on)) => {
            let fails = Summary::of(&diagnostics).fails(fail_on);
            Checked {
                skipped: rules::skipped::skipped(&s.stack),
                diagnostics,
                sources: s.stack.sources,
                subject: Some(s.shown),
                outcome: if fails {
                    Outcome::Findings
                } else {
                    Outcome::Success
                },
                error: None,
            }
        }
        Err(e) => Checked {
            diagnostics: vec![e.as_diagnostic()],
            sources: e.sources.clone(),
            subject: target.first_path().map(|p| display_path(p)),
            outcome: Outcome::InputError,
            error: Some(e),
            skipped: Vec::new(),
        },
    }
}

fn stack_report<'a>(target: &Target, c: &'a Checked) -> StackReport<'a> {
    let (kind, files, added) = match target {
        Target::Files { inputs, added, .. } => (
            StackKind::Files,
            inputs.iter().map(|i| display_path(&i.path)).collect(),
            added.iter().map(|p| display_path(p)).collect(),
        ),
        Target::Manifest(p) => (StackKind::Manifest, vec![display_path(p)], Vec::new()),
        Target::Unreadable { path, .. } => {
            let manifest = !path.is_dir() && path.extension().is_some_and(|e| e == "toml");
            let kind = match manifest {
                true => StackKind::Manifest,
                false => StackKind::Files,
            };
            (kind, vec![display_path(path)], Vec::new())
        }
    };
    StackReport {
        path: target.shown(),
        kind,
        files,
        added,
        report: Report::new(&c.diagnostics, &c.sources, c.subject.clone()).with_skipped(&c.skipped),
        exit_code: c.outcome.exit_code(),
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
    let plan = render::plan_with(&stack, &secrets, &existing, render::Build::ForCheck)?;
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
