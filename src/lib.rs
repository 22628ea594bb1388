//! poolstack: render and cross-check a PostgreSQL + PgBouncer + SQLAlchemy pooling stack from one
//! manifest. The binary is a thin shell over [`run`].

pub mod apps;
pub mod auth;
pub mod catalog;
pub mod cli;
pub mod commands;
pub mod defaults;
pub mod diag;
pub mod formats;
pub mod fsutil;
pub mod manifest;
pub mod outcome;
pub mod outputs;
pub mod parallel;
pub mod pgconn;
pub mod pipe;
pub mod plan;
pub mod redact;
pub mod render;
pub mod report;
pub mod rules;
pub mod secrets;
pub mod source;
pub mod stack;
pub mod tune;
pub mod units;
pub mod wizard;

use cli::{Cli, Command};
use outcome::Outcome;
use std::io::Write;

/// Run a parsed command line, printing to `out` / `err`.
pub fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> Outcome {
    let color = report::human::use_color();
    let result = match &cli.command {
        Command::Render(args) => {
            let mut io = commands::Io { out, err, color };
            let r = commands::render::run(args, &mut io);
            if let Err(e) = &r {
                let _ = write!(io.err, "{}", report::human::render_input_error(e, color));
                // `--format json`: stdout stays one JSON document, with the `INPUT` diagnostic.
                if args.format == cli::PlanFormat::Json {
                    let subject = args.manifests.first().map(|p| source::display_path(p));
                    let text = report::input_error(e, subject, cli::Format::Json, false);
                    let _ = io.out.write_all(text.as_bytes());
                }
            }
            return r.unwrap_or(Outcome::InputError);
        }
        Command::Init(args) => {
            commands::init::run(args, commands::init::detect_machine(args.detect), out, err)
        }
        Command::Userlist(args) => commands::userlist::run(args, out, err, color),
        Command::Check(args) => {
            // The report goes to stdout, so that is where colour is decided.
            let color = report::human::use_color_stdout();
            return commands::check::run(args, &mut commands::Io { out, err, color });
        }
        Command::Rules => Ok(commands::rules::list(out)),
        Command::Explain(args) => commands::rules::explain(args, out),
        Command::Completions(a) => Ok(commands::completions(a.shell, out)),
        Command::Man(args) => commands::man(args, out),
        Command::Schema => {
            let _ = out.write_all(commands::schema_json().as_bytes());
            Ok(Outcome::Success)
        }
        Command::Tune(args) => commands::tune::run(args, tune::detect::this_machine, out, err),
        Command::Doctor(args) => {
            let color = report::human::use_color_stdout();
            return commands::doctor::run(args, &mut commands::Io { out, err, color });
        }
        Command::Import(args) => {
            let color = report::human::use_color_stdout();
            commands::import::run(args, &mut commands::Io { out, err, color })
        }
    };
    match result {
        Ok(o) => o,
        Err(e) => {
            let _ = write!(err, "{}", report::human::render_input_error(&e, color));
            Outcome::InputError
        }
    }
}

/// Arguments clap refused. `--help` and `--version` are printed as clap prints them (exit 0);
/// anything else is an input error (exit 2) — as an `INPUT` diagnostic in the report format when
/// `check` or `doctor` was asked for json, sarif or github, so that a CI job reading the report
/// still gets one.
pub fn bad_arguments(
    e: &clap::Error,
    args: impl IntoIterator<Item = std::ffi::OsString>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Outcome {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let text = e.render();
        let _ = match report::human::use_color_stdout() {
            true => write!(out, "{}", text.ansi()),
            false => write!(out, "{text}"),
        };
        return Outcome::Success;
    }
    let rendered = e.render().to_string();
    let format = requested_format(args).filter(|f| *f != cli::Format::Human);
    match format {
        Some(format) => {
            let mut lines = rendered
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("For more information"));
            let first = lines.next().unwrap_or("invalid arguments");
            let mut error =
                diag::InputError::new(first.strip_prefix("error: ").unwrap_or(first).to_string());
            let help: Vec<&str> = lines.collect();
            if !help.is_empty() {
                error = error.with_help(help.join(" "));
            }
            let _ = write!(out, "{}", report::input_error(&error, None, format, false));
        }
        None if report::human::use_color() => {
            let _ = write!(err, "{}", e.render().ansi());
        }
        None => {
            let _ = write!(err, "{rendered}");
        }
    }
    Outcome::InputError
}

/// `--format X` of a `check` or `doctor` command line, read without clap (which refused it).
fn requested_format(args: impl IntoIterator<Item = std::ffi::OsString>) -> Option<cli::Format> {
    use clap::ValueEnum;
    let args: Vec<String> = args
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if !args.iter().any(|a| a == "check" || a == "doctor") {
        return None;
    }
    let value = args
        .iter()
        .enumerate()
        .find_map(|(i, a)| match a.strip_prefix("--format") {
            Some("") => args.get(i + 1).cloned(),
            Some(rest) => rest.strip_prefix('=').map(str::to_string),
            None => None,
        })?;
    cli::Format::from_str(&value, false).ok()
}
