//! poolstack: render and cross-check a PostgreSQL + PgBouncer + SQLAlchemy pooling stack from one
//! manifest. The binary is a thin shell over [`run`].

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
pub mod render;
pub mod report;
pub mod rules;
pub mod secrets;
pub mod source;
pub mod stack;
pub mod units;

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
            }
            return r.unwrap_or(Outcome::InputError);
        }
        Command::Check(args) => {
            // The report goes to stdout, so that is where colour is decided.
            let color = report::human::use_color_stdout();
            return commands::check::run(args, &mut commands::Io { out, err, color });
        }
        Command::Rules => Ok(commands::rules::list(out)),
        Command::Explain(args) => commands::rules::explain(args, out),
        Command::Completions(a) => Ok(commands::completions(a.shell, out)),
        Command::Man => commands::man(out)
            .map_err(|e| diag::InputError::new(format!("cannot write the man page: {e}"))),
        Command::Schema => {
            let _ = out.write_all(commands::schema_json().as_bytes());
            Ok(Outcome::Success)
        }
        Command::Init(_)
        | Command::Userlist(_)
        | Command::Tune(_)
        | Command::Import(_)
        | Command::Doctor(_) => {
            let name = format!("{:?}", cli.command);
            let name = name
                .split(['(', ' '])
                .next()
                .unwrap_or("this command")
                .to_lowercase();
            let _ = writeln!(err, "poolstack {name}: not yet implemented");
            Ok(Outcome::NotImplemented)
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
