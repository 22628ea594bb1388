//! The policy a run applies: the manifest's `[lint]` merged with the command line, flags winning.

use crate::cli::FailOnArg;
use crate::diag::{InputError, Severity};
use crate::manifest::FailOn;
use crate::rules::{self, Policy, Suppression};
use crate::stack::LintConfig;

/// `--select`, `--ignore`, `--fail-on` as given (empty / `None` when not).
#[derive(Debug, Default, Clone, Copy)]
pub struct Flags<'a> {
    pub select: &'a [String],
    pub ignore: &'a [String],
    pub fail_on: Option<FailOnArg>,
}

pub fn build(lint: &LintConfig, flags: &Flags<'_>) -> Result<Policy, InputError> {
    for (flag, codes) in [("--select", flags.select), ("--ignore", flags.ignore)] {
        for code in codes {
            known_code(flag, code)?;
        }
    }
    // [lint] ignore entries keep their place: one that suppresses nothing is LNT001 there.
    let mut ignore: Vec<Suppression> = lint
        .ignore
        .iter()
        .map(|s| Suppression {
            code: s.value.clone(),
            loc: s.loc().cloned(),
        })
        .collect();
    ignore.extend(flags.ignore.iter().map(|code| Suppression {
        code: code.clone(),
        loc: None,
    }));
    let fail_on = match flags.fail_on {
        Some(FailOnArg::Error) => Severity::Error,
        Some(FailOnArg::Warning) => Severity::Warning,
        None => match lint.fail_on.value {
            FailOn::Error => Severity::Error,
            FailOn::Warning => Severity::Warning,
        },
    };
    Ok(Policy {
        select: flags.select.to_vec(),
        ignore,
        severity: lint
            .severity
            .iter()
            .map(|(code, sev)| (code.clone(), sev.value))
            .collect(),
        fail_on,
    })
}

/// A code on the command line must exist: a typo would otherwise select or ignore nothing, silently.
fn known_code(flag: &str, code: &str) -> Result<(), InputError> {
    if rules::find(code).is_some() {
        return Ok(());
    }
    let help = match crate::catalog::closest(
        &code.to_ascii_uppercase(),
        rules::registry().map(|r| r.code),
    ) {
        Some(near) => format!("did you mean `{near}`? `poolstack rules` lists every code"),
        None => "`poolstack rules` lists every code".to_string(),
    };
    Err(InputError::new(format!("{flag}: there is no rule `{code}`")).with_help(help))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing;

    #[test]
    fn flags_win_over_the_manifest_and_ignores_keep_their_place() {
        let toml = format!(
            "{}\n[lint]\nignore = [\"MEM006\"]\nfail_on = \"warning\"\n[lint.severity]\nTMO003 = \"error\"\n",
            testing::HEALTHY
        );
        let stack = testing::stack(&toml);
        let ignore = ["CON006".to_string()];
        let p = build(
            &stack.lint,
            &Flags {
                select: &[],
                ignore: &ignore,
                fail_on: Some(FailOnArg::Error),
            },
        )
        .unwrap();
        assert_eq!(p.fail_on, Severity::Error);
        assert_eq!(p.ignore.len(), 2);
        assert!(p.ignore[0].loc.is_some() && p.ignore[1].loc.is_none());
        assert_eq!(p.severity, vec![("TMO003".to_string(), Severity::Error)]);
        let p = build(&stack.lint, &Flags::default()).unwrap();
        assert_eq!(p.fail_on, Severity::Warning);
    }

    #[test]
    fn unknown_codes_on_the_command_line_are_input_errors() {
        let stack = testing::stack(testing::HEALTHY);
        let select = ["CON02".to_string()];
        let e = build(
            &stack.lint,
            &Flags {
                select: &select,
                ..Flags::default()
            },
        )
        .unwrap_err();
        assert!(e.message.contains("no rule `CON02`"), "{}", e.message);
        assert!(e.help.unwrap_or_default().contains("did you mean"));
    }
}
