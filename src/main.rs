//! Thin binary: parse arguments, run the library, map the outcome to an exit code.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let outcome = match poolstack::cli::Cli::try_parse() {
        Ok(cli) => poolstack::run(cli, &mut stdout.lock(), &mut stderr.lock()),
        // A bad flag is unusable input (exit 2), reported in the format asked for where there is one.
        Err(e) => poolstack::bad_arguments(
            &e,
            std::env::args_os(),
            &mut stdout.lock(),
            &mut stderr.lock(),
        ),
    };
    outcome.into()
}
