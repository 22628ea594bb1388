//! The policy a run applies: the manifest's `[lint]` merged with the command line, flags winning.

use crate::cli::FailOnArg;
use crate::diag::{InputError, Severity};
use crate::formats::directives::LineSuppression;
use crate::manifest::FailOn;
use crate::rules::{self, Policy, Suppression};
use crate::source::{Loc, SourceMap};
use crate::stack::LintConfig;

/// `--select`, `--ignore`, `--fail-on` as given (empty / `None` when not).
#[derive(Debug, Default, Clone, Copy)]
pub struct Flags<'a> {
    pub select: &'a [String],
    pub ignore: &'a [String],
    pub fail_on: Option<FailOnArg>,
}

pub fn build(
    lint: &LintConfig,
    sources: &SourceMap,
    flags: &Flags<'_>,
) -> Result<Policy, InputError> {
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
            scope: None,
        })
        .collect();
    // `poolstack: ignore` comments in hand-written files: each covers one line.
    ignore.extend(lint.comments.iter().map(|c| Suppression {
        code: c.code.clone(),
        loc: Some(c.loc.clone()),
        scope: Some(line_of(sources, c)),
    }));
    ignore.extend(flags.ignore.iter().map(|code| Suppression {
        code: code.clone(),
        loc: None,
        scope: None,
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

/// The line a suppression comment covers, as a place; an empty place at the end of the file
/// when no setting follows the comment (it then suppresses nothing: LNT001).
fn line_of(sources: &SourceMap, c: &LineSuppression) -> Loc {
    let text = &sources.get(c.loc.file).text;
    let span = match c.line {
        Some(line) => {
            let start = text
                .split_inclusive('\n')
                .take(line - 1)
                .map(str::len)
                .sum::<usize>();
            let len = text[start..].find('\n').unwrap_or(text.len() - start);
            start..start + len
        }
        None => text.len() + 1..text.len() + 1,
    };
    Loc {
        file: c.loc.file,
        span,
    }
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
            &stack.sources,
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
        let p = build(&stack.lint, &stack.sources, &Flags::default()).unwrap();
        assert_eq!(p.fail_on, Severity::Warning);
    }

    #[test]
    fn unknown_codes_on_the_command_line_are_input_errors() {
        let stack = testing::stack(testing::HEALTHY);
        let select = ["CON02".to_string()];
        let e = build(
            &stack.lint,
            &stack.sources,
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
