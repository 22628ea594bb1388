//! LNT — the linter itself.

use super::Rule;
use crate::diag::Severity;

pub const RULES: &[Rule] = &[Rule {
    code: "LNT001",
    name: "unused-suppression",
    severity: Severity::Info,
    summary: "A suppression (`[lint] ignore` entry or `poolstack: ignore` comment) suppressed nothing",
    doc: LNT001_DOC,
    // Produced by `rules::apply`, the one place suppressions are applied: only there is it known
    // which suppressions were used.
    check: None,
}];

const LNT001_DOC: &str = "\
What it checks: every suppression written in a file — an `[lint] ignore` entry in the manifest, or
a `# poolstack: ignore CODE reason` comment (`; poolstack: ignore …` in pgbouncer.ini and
userlist.txt) — that suppressed no finding in this run. Suppressions given on the command line
(`--ignore`) are not reported.

Why it matters: a suppression outlives the problem it hid. Once the finding is fixed, the stale
entry would silently hide the next, possibly different, occurrence of the same code — the one a
reviewer would have wanted to see.

How to fix: remove the suppression. If the finding only appears in another configuration (a CI
job with other flags), keep it there instead.

Facts: docs/rules.md (Suppression).";

/// LNT001 for a suppression that suppressed nothing.
pub fn unused_suppression(s: &super::Suppression) -> crate::diag::Diagnostic {
    crate::diag::Diagnostic::new(
        "LNT001",
        Severity::Info,
        format!("`{}` is suppressed here, but nothing reported it", s.code),
    )
    .at(s.loc.clone())
    .help(format!("remove the suppression of `{}`", s.code))
}

#[cfg(test)]
mod tests {
    use crate::diag::Severity;
    use crate::rules::testing::{self, HEALTHY};
    use crate::rules::{self, Context, Policy, Suppression};
    use crate::stack::Stack;
    use crate::stack::budget::ServerConnectionBudget;

    fn checked(stack: &Stack, policy: &Policy) -> Vec<crate::diag::Diagnostic> {
        let cx = Context {
            stack,
            budget: ServerConnectionBudget::of(stack),
            files: &[],
        };
        rules::apply(rules::run(&cx), policy)
    }

    fn policy_of(stack: &Stack) -> Policy {
        Policy {
            ignore: stack
                .lint
                .ignore
                .iter()
                .map(|s| Suppression {
                    code: s.value.clone(),
                    loc: s.loc().cloned(),
                    scope: None,
                })
                .collect(),
            ..Policy::default()
        }
    }

    #[test]
    fn lnt001_unused_ignore_entry() {
        let stack = testing::stack(&format!("{HEALTHY}\n[lint]\nignore = [\"AUT001\"]\n"));
        let d = checked(&stack, &policy_of(&stack));
        let lnt: Vec<_> = d.iter().filter(|d| d.code == "LNT001").collect();
        assert_eq!(lnt.len(), 1, "{d:?}");
        assert_eq!(lnt[0].severity, Severity::Info);
        assert_eq!(testing::pointed_text(&stack, lnt[0]), "\"AUT001\"");
        assert!(lnt[0].message.contains("`AUT001`"));
    }

    #[test]
    fn lnt001_silent_when_the_suppression_is_used() {
        let toml = HEALTHY
            .replacen(
                "password = { env = \"APP_PASSWORD\" }",
                "password = \"hunter2\"",
                1,
            )
            .replacen(
                "pre_ping = true",
                "pre_ping = true\npassword_env = \"APP_PASSWORD\"",
                1,
            );
        let stack = testing::stack(&format!("{toml}\n[lint]\nignore = [\"AUT001\"]\n"));
        let d = checked(&stack, &policy_of(&stack));
        assert!(
            d.iter().all(|d| d.code != "LNT001" && d.code != "AUT001"),
            "{d:?}"
        );
    }

    #[test]
    fn lnt001_silent_without_suppressions() {
        let stack = testing::stack(HEALTHY);
        let d = checked(&stack, &policy_of(&stack));
        assert!(d.iter().all(|d| d.code != "LNT001"), "{d:?}");
    }
}
