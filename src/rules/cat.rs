//! CAT — settings knowledge: findings come from resolving `*.settings` and (later) from reading hand-written files.

use super::Rule;
use crate::diag::Severity;

pub const RULES: &[Rule] = &[
    Rule {
        code: "CAT001",
        name: "unknown-setting",
        severity: Severity::Error,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "CAT002",
        name: "invalid-value",
        severity: Severity::Error,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "CAT003",
        name: "not-in-version",
        severity: Severity::Error,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "CAT004",
        name: "renamed-or-removed",
        severity: Severity::Error,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "CAT005",
        name: "parse-trap",
        severity: Severity::Warning,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "CAT006",
        name: "duplicate-setting",
        severity: Severity::Warning,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "CAT007",
        name: "wrong-section",
        severity: Severity::Error,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "CAT008",
        name: "syntax-error",
        severity: Severity::Error,
        summary: "",
        doc: "",
        check: None,
    },
];
