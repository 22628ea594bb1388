//! LNT — the linter itself.

use super::Rule;
use crate::diag::Severity;

pub const RULES: &[Rule] = &[Rule {
    code: "LNT001",
    name: "unused-suppression",
    severity: Severity::Info,
    summary: "",
    doc: "",
    check: None,
}];

/// LNT001 for a suppression that suppressed nothing.
pub fn unused_suppression(s: &super::Suppression) -> crate::diag::Diagnostic {
    crate::diag::Diagnostic::new(
        "LNT001",
        Severity::Info,
        format!("`{}` is suppressed here, but nothing reported it", s.code),
    )
    .at(s.loc.clone())
    .help("remove the suppression")
}
