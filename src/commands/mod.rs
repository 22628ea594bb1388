//! One module per command; each returns an [`Outcome`] or an input error.

pub mod check;
pub mod config_files;
pub mod discover;
pub mod doctor;
pub mod explain;
pub mod import;
pub mod init;
pub mod render;
pub mod rules;
pub mod tune;
pub mod userlist;

use crate::cli::Cli;
use crate::diag::InputError;
use crate::outcome::Outcome;
use clap::CommandFactory;
use std::io::Write;

/// Everything a command prints goes through these two streams (tests pass buffers).
pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    pub color: bool,
}

/// `poolstack completions SHELL`.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) -> Outcome {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "poolstack", out);
    Outcome::Success
}

/// `poolstack man [COMMAND]` / `poolstack man --dir DIR`: one page per command.
pub fn man(args: &crate::cli::ManArgs, out: &mut dyn Write) -> Result<Outcome, InputError> {
    let pages = man_pages();
    if let Some(dir) = &args.dir {
        let paths: Vec<std::path::PathBuf> = pages
            .iter()
            .map(|(name, _, _)| dir.join(format!("{name}.1")))
            .collect();
        let files: Vec<crate::fsutil::PendingFile<'_>> = paths
            .iter()
            .zip(&pages)
            .map(|(path, (_, _, text))| crate::fsutil::PendingFile {
                path,
                contents: text,
                secret: false,
            })
            .collect();
        crate::fsutil::write_all(&files, crate::fsutil::Links::Follow).map_err(|e| {
            InputError::new(format!("cannot write the man pages: {e}"))
                .with_help("pass a directory you can write, e.g. --dir ~/.local/share/man/man1")
        })?;
        let _ = writeln!(out, "wrote {} man pages to {}", pages.len(), dir.display());
        return Ok(Outcome::Success);
    }
    let wanted = args.command.as_deref().map(str::to_ascii_lowercase);
    let page = match &wanted {
        None => pages.first(),
        Some(c) => pages.iter().find(|(_, cmd, _)| cmd == c),
    };
    match page {
        Some((_, _, text)) => {
            let _ = out.write_all(text);
            Ok(Outcome::Success)
        }
        None => {
            let names: Vec<&str> = pages.iter().skip(1).map(|(_, c, _)| c.as_str()).collect();
            let target = wanted.unwrap_or_default();
            let help = match crate::catalog::closest(&target, names.iter().copied()) {
                Some(near) => format!("did you mean `{near}`? commands: {}", names.join(", ")),
                None => format!("commands: {}", names.join(", ")),
            };
            Err(InputError::new(format!("poolstack has no command `{target}`")).with_help(help))
        }
    }
}

/// (file stem, command name, roff) of poolstack(1) and of each command's page, in --help order.
fn man_pages() -> Vec<(String, String, Vec<u8>)> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let render = |c: clap::Command| {
        let mut text = Vec::new();
        let _ = clap_mangen::Man::new(c)
            .source(concat!("poolstack ", env!("CARGO_PKG_VERSION")))
            .manual("poolstack manual")
            .render(&mut text);
        text
    };
    let mut pages = vec![("poolstack".to_string(), String::new(), render(cmd.clone()))];
    for sub in cmd.get_subcommands() {
        let name = sub.get_name().to_string();
        let sub = sub.clone().version(env!("CARGO_PKG_VERSION"));
        pages.push((format!("poolstack-{name}"), name, render(sub)));
    }
    pages
}

/// The JSON Schema of stack.toml.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(crate::manifest::Manifest);
    let mut schema = serde_json::to_value(&schema).unwrap_or_default();
    crate::apps::schema::extend_schema(&mut schema);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
