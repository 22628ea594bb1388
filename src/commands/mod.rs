//! One module per command; each returns an [`Outcome`] or an input error.

pub mod check;
pub mod config_files;
pub mod doctor;
pub mod explain;
pub mod import;
pub mod init;
pub mod render;
pub mod rules;
pub mod tune;
pub mod userlist;

use crate::cli::Cli;
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

/// `poolstack man`.
pub fn man(out: &mut dyn Write) -> std::io::Result<Outcome> {
    clap_mangen::Man::new(Cli::command()).render(out)?;
    Ok(Outcome::Success)
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
