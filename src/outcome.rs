//! What a command ended with, and the exit code for it — decided here and nowhere else
//! (product.md "Exit codes and output").

use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing at or above the failing severity; render wrote (or would write) cleanly.
    Success,
    /// check/doctor: findings at or above the failing severity.
    Findings,
    /// render: refused (hand-edited file, CAT errors in what it would write, users it would drop);
    /// import: the files hold values the servers would refuse.
    Refused,
    /// render --check: files on disk differ from what would be rendered.
    Drift,
    /// The input could not be used at all (unreadable, invalid TOML, unknown key, bad flag, missing secret).
    InputError,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Findings | Outcome::Refused | Outcome::Drift => 1,
            Outcome::InputError => 2,
        }
    }
}

impl From<Outcome> for ExitCode {
    fn from(o: Outcome) -> ExitCode {
        ExitCode::from(o.exit_code())
    }
}
