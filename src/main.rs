//! Thin binary: parse arguments, run the library, map the outcome to an exit code.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // clap exits 2 on a bad flag, as product.md wants for unusable input.
    let cli = poolstack::cli::Cli::parse();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let outcome = poolstack::run(cli, &mut stdout.lock(), &mut stderr.lock());
    outcome.into()
}
