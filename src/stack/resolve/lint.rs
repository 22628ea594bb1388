//! `[lint]`: ignored codes, severity overrides and the failing severity.

use super::Ctx;
use crate::manifest::FailOn;
use crate::stack::{LintConfig, Setting};

pub(super) fn lint(cx: &Ctx<'_>) -> LintConfig {
    let man = &cx.m.manifest;
    LintConfig {
        comments: Vec::new(),
        ignore: man
            .lint
            .ignore
            .iter()
            .enumerate()
            .map(|(i, c)| Setting::new(c.clone(), cx.origin(&["lint", "ignore", &i.to_string()])))
            .collect(),
        fail_on: cx.pick(
            &["lint", "fail_on"],
            man.lint.fail_on,
            FailOn::Error,
            "poolstack's default",
        ),
        severity: man
            .lint
            .severity
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    Setting::new(*v, cx.origin(&["lint", "severity", k])),
                )
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{MINIMAL, cx, default_text, manifest, written};
    use super::*;

    #[test]
    fn fail_on_defaults_to_error() {
        let l = lint(&cx(&manifest(MINIMAL)));
        assert_eq!(l.fail_on.value, FailOn::Error);
        assert_eq!(default_text(&l.fail_on), "poolstack's default");
        assert!(l.ignore.is_empty() && l.severity.is_empty());
    }

    #[test]
    fn written_ignores_and_severities_keep_their_places() {
        let m = manifest(&format!(
            "{MINIMAL}\n[lint]\nfail_on = \"warning\"\nignore = [\"POOL001\"]\n\n[lint.severity]\nPOOL002 = \"error\"\n"
        ));
        let l = lint(&cx(&m));
        assert_eq!(written(&m, &l.fail_on), "\"warning\"");
        assert_eq!(written(&m, &l.ignore[0]), "\"POOL001\"");
        assert_eq!(written(&m, &l.severity["POOL002"]), "\"error\"");
    }
}
