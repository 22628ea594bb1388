//! `poolstack import FILE... [-o stack.toml]`: hand-written configs → the manifest whose
//! `render` reproduces their effective settings. Secrets become environment references; a
//! value the manifest cannot express is named in the manifest and on stderr, never dropped
//! silently.

mod draft;
mod pgbouncer;
mod users;
mod values;

use super::Io;
use crate::cli::{Format, ImportArgs};
use crate::diag::{InputError, Severity};
use crate::outcome::Outcome;
use crate::report::Report;
use crate::source::display_path;
use crate::stack::files::{self, Kind};
use std::path::{Path, PathBuf};

pub fn run(args: &ImportArgs, io: &mut Io<'_>) -> Result<Outcome, InputError> {
    let flags = super::config_files::versions(args.pg_version, args.pgbouncer_version.as_deref())?;
    let inputs = inputs(&args.files)?;
    let cwd = std::env::current_dir()
        .map_err(|e| InputError::new(format!("cannot tell the working directory: {e}")))?;
    let mut stack = files::build(&inputs, &flags, &cwd)?;
    versions_known(&stack)?;

    let mut refused = refusals(&stack);
    refused.extend(out_of_range(&stack));
    drop_out_of_range(&mut stack);
    if !refused.is_empty() && !args.force {
        let shown = inputs.first().map(|i| display_path(&i.path));
        let report = Report::new(&refused, &stack.sources, shown);
        let _ = io
            .out
            .write_all(report.render(Format::Human, io.color).as_bytes());
        let _ = writeln!(
            io.err,
            "poolstack import: nothing written: the servers would refuse {} value(s) of these files (fix them, or pass --force to import the rest)",
            refused.len()
        );
        return Ok(Outcome::Refused);
    }
    if args.output.exists() && !args.force {
        // The same refusal (exit 1) as `init` over an existing manifest.
        let _ = writeln!(
            io.err,
            "poolstack import: {} already exists; nothing was written (choose another path with -o, or pass --force to replace it)",
            display_path(&args.output)
        );
        return Ok(Outcome::Refused);
    }

    let mut notes = Vec::new();
    let ini = ini_settings(&stack, &inputs, &cwd, &mut notes)?;
    let output = crate::fsutil::absolute(&args.output);
    let dir = output.parent().map(Path::to_path_buf).unwrap_or_default();
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| !n.is_empty())
        .unwrap_or("imported")
        .to_string();
    let shown: Vec<String> = inputs.iter().map(|i| display_path(&i.path)).collect();
    let draft = draft::draft(&stack, ini.as_ref(), &name, &shown, &dir, notes);
    let text = draft.document.to_toml();
    reads_back(&args.output, &text)?;
    crate::fsutil::write_all(
        &[crate::fsutil::PendingFile {
            path: &args.output,
            contents: text.as_bytes(),
            secret: false,
        }],
        crate::fsutil::Links::Follow,
    )
    .map_err(|e| InputError::new(format!("cannot write the manifest: {e}")))?;

    for note in &draft.not_imported {
        let _ = writeln!(io.err, "not imported: {note}");
    }
    if !refused.is_empty() {
        let _ = writeln!(
            io.err,
            "--force: {} value(s) the servers would refuse were left out",
            refused.len()
        );
    }
    let vars = match draft.env_vars.is_empty() {
        true => String::new(),
        false => format!("; set {} before render", draft.env_vars.join(", ")),
    };
    let _ = writeln!(
        io.err,
        "imported {} file(s) into {}: {} database(s), {} user(s), {} app(s){vars}",
        inputs.len(),
        display_path(&args.output),
        draft.databases,
        draft.users,
        draft.apps,
    );
    Ok(Outcome::Success)
}

/// What the servers would refuse to load: CAT errors (PostgreSQL or PgBouncer would not start).
fn refusals(stack: &crate::stack::Stack) -> Vec<crate::diag::Diagnostic> {
    stack
        .findings
        .iter()
        .filter(|d| d.code.starts_with("CAT") && d.severity == Severity::Error)
        .cloned()
        .collect()
}

/// PgBouncer values no manifest can carry (found while importing, never as an internal error):
/// located at the value in the file, and refused like the servers' own CAT errors.
fn out_of_range(stack: &crate::stack::Stack) -> Vec<crate::diag::Diagnostic> {
    use crate::catalog::pgbouncer::Section;
    let Some(pgb) = &stack.pgbouncer else {
        return Vec::new();
    };
    let options = pgb.options.iter().map(|o| (Section::Pgbouncer, o)).chain(
        stack
            .databases
            .iter()
            .flat_map(|d| d.options.iter().map(|o| (Section::Databases, o))),
    );
    options
        .filter(|(_, o)| o.origin.is_explicit())
        .filter_map(|(section, o)| {
            let why = values::pgbouncer_out_of_range(section, &o.name, o.number)?;
            Some(
                crate::diag::Diagnostic::new(
                    "CAT002",
                    Severity::Error,
                    format!("`{}` = `{}` {why}", o.name, o.ini_text),
                )
                .at(o.origin.loc().cloned())
                .help("use a value in range (0 disables most timeouts)"),
            )
        })
        .collect()
}

/// With `--force`, values no manifest can carry are left out (and counted as refused).
fn drop_out_of_range(stack: &mut crate::stack::Stack) {
    use crate::catalog::pgbouncer::Section;
    let keep = |section: Section, o: &crate::stack::PgbOption| {
        values::pgbouncer_out_of_range(section, &o.name, o.number).is_none()
    };
    if let Some(pgb) = stack.pgbouncer.as_mut() {
        pgb.options.retain(|o| keep(Section::Pgbouncer, o));
    }
    for d in &mut stack.databases {
        d.options.retain(|o| keep(Section::Databases, o));
    }
}

/// pgbouncer.ini's settings as the declared release reads them: the `[users]` entries of users
/// the userlist does not list are not in the stack. `[peers]` go to `notes`.
fn ini_settings(
    stack: &crate::stack::Stack,
    inputs: &[files::Input],
    cwd: &Path,
    notes: &mut Vec<String>,
) -> Result<Option<files::pgbouncer_ini::IniSettings>, InputError> {
    if !inputs.iter().any(|i| i.kind == Kind::PgbouncerIni) {
        return Ok(None);
    }
    let read = files::read(inputs, cwd)?;
    let release = stack.pgbouncer.as_ref().and_then(|b| b.release());
    Ok(read.ini.as_ref().map(|doc| {
        notes.extend(peers(doc));
        files::pgbouncer_ini::check(doc, release, &read.sources)
    }))
}

/// What is written must load and resolve as a manifest, without CAT errors (render would
/// refuse them): anything else is a bug here, not bad input.
fn reads_back(path: &Path, text: &str) -> Result<(), InputError> {
    let bug = |what: String| {
        InputError::new(format!(
            "poolstack built a manifest it cannot use (a bug in import): {what}"
        ))
    };
    let loaded = crate::manifest::parse(path, text.to_string()).map_err(|e| bug(e.to_string()))?;
    let stack = crate::stack::resolve::resolve(&loaded, None).map_err(|e| bug(e.to_string()))?;
    let refused: Vec<String> = refusals(&stack)
        .iter()
        .map(|d| format!("{} {}", d.code, d.message))
        .collect();
    match refused.is_empty() {
        true => Ok(()),
        false => Err(bug(refused.join("; "))),
    }
}

/// Each path as config files of known kinds, as `check` tells them apart (a conf.d directory
/// gives its fragments); a manifest or an unrecognisable file is exit 2.
fn inputs(paths: &[PathBuf]) -> Result<Vec<files::Input>, InputError> {
    use super::config_files::{Named, classify};
    let mut out = Vec::new();
    for path in paths {
        match classify(path)? {
            Named::ConfigFile(input) => out.push(input),
            Named::ConfigDir(inputs) => out.extend(inputs),
            Named::Manifest(_) => {
                let what = match path.is_dir() {
                    true => "a directory with a stack.toml",
                    false => "a manifest",
                };
                return Err(InputError::new(format!(
                    "{} is {what}: import reads hand-written config files",
                    display_path(path)
                ))
                .with_help("pass pgbouncer.ini, *.conf, .env and userlist.txt files"));
            }
        }
    }
    Ok(out)
}

/// `[peers]` entries: the manifest has no peers (a multi-process PgBouncer is `instances`).
fn peers(doc: &crate::formats::pgbouncer_ini::IniDocument) -> Option<String> {
    let ids: Vec<&str> = doc
        .entries
        .iter()
        .filter(|e| e.section == crate::catalog::pgbouncer::Section::Peers)
        .map(|e| e.key.as_str())
        .collect();
    (!ids.is_empty()).then(|| {
        format!(
            "[peers] {}: the manifest has no peers (PgBouncer processes sharing a port are `instances`)",
            ids.join(", ")
        )
    })
}

/// A manifest declares both versions: PostgreSQL's always, PgBouncer's with a pgbouncer.ini.
fn versions_known(stack: &crate::stack::Stack) -> Result<(), InputError> {
    if stack.postgres.version.is_none() {
        return Err(InputError::new(
            "the PostgreSQL version is unknown: the manifest must declare it",
        )
        .with_help("pass --pg-version N (e.g. --pg-version 16), or add `# poolstack: postgres 16` to postgresql.conf"));
    }
    if let Some(b) = &stack.pgbouncer
        && b.version.is_none()
    {
        return Err(InputError::new(
            "the PgBouncer version is unknown: the manifest must declare it",
        )
        .with_help("pass --pgbouncer-version X.Y (e.g. --pgbouncer-version 1.21), or add `; poolstack: pgbouncer 1.21` to pgbouncer.ini"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_import_cannot_use_is_told_in_words() {
        let text = "[stack]\nname = \"t\"\n\n[postgres]\nversion = 16\n\n[[users]]\nname = \"\"\npassword = { env = \"X\" }\nrole = false\n";
        let shown = reads_back(Path::new("s.toml"), text)
            .expect_err("an empty user name")
            .to_string();
        assert!(
            shown.contains("a bug in import") && shown.contains("a user name cannot be empty"),
            "{shown}"
        );
        assert!(
            !shown.contains("InputError") && !shown.contains("SourceMap"),
            "{shown}"
        );
    }

    #[test]
    fn a_manifest_is_not_an_input_and_a_conf_d_gives_its_fragments() {
        let tmp = tempfile::tempdir().unwrap();
        // Empty: neither a stack.toml nor fragments.
        let e = inputs(&[tmp.path().to_path_buf()]).unwrap_err();
        assert!(
            e.message.contains("neither a stack.toml nor"),
            "{}",
            e.message
        );
        for name in [
            "20-b.conf",
            "10-a.conf",
            ".hidden.conf",
            "x.conf.bak",
            "Z.CONF",
        ] {
            std::fs::write(tmp.path().join(name), "work_mem = '4MB'\n").unwrap();
        }
        let got: Vec<String> = inputs(&[tmp.path().to_path_buf()])
            .unwrap()
            .iter()
            .map(|i| i.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(got, ["10-a.conf", "20-b.conf"]);
        std::fs::write(tmp.path().join("stack.toml"), "").unwrap();
        let e = inputs(&[tmp.path().to_path_buf()]).unwrap_err();
        assert!(
            e.message.contains("a directory with a stack.toml"),
            "{}",
            e.message
        );
        let e = inputs(&[PathBuf::from("stack.toml")]).unwrap_err();
        assert!(e.message.contains("is a manifest"), "{}", e.message);
        let e = inputs(&[tmp.path().join("nowhere.txt")]).unwrap_err();
        assert!(e.message.contains("no such file"), "{}", e.message);
    }
}
