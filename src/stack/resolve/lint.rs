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
