//! Thin binary: parse arguments, run the library, map the outcome to an exit code.

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    // A closed pipe ends the output quietly (see poolstack::pipe); stdout is buffered unless it
    // is a terminal, and flushed before exit.
    let mut stdout = poolstack::pipe::stdout();
    let mut stderr = poolstack::pipe::stderr();
    let outcome = match poolstack::cli::Cli::try_parse() {
        Ok(cli) => poolstack::run(cli, &mut stdout, &mut stderr),
        // A bad flag is unusable input (exit 2), reported in the format asked for where there is one.
        Err(e) => poolstack::bad_arguments(&e, std::env::args_os(), &mut stdout, &mut stderr),
    };
    let _ = stdout.flush();
    outcome.into()
}
