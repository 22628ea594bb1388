//! LIV — live checks (`poolstack doctor`).

use super::Rule;
use crate::diag::Severity;

pub const RULES: &[Rule] = &[
    Rule {
        code: "LIV001",
        name: "live-value-differs",
        severity: Severity::Warning,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "LIV002",
        name: "pending-restart",
        severity: Severity::Info,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "LIV003",
        name: "budget-nearly-full",
        severity: Severity::Warning,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "LIV004",
        name: "live-secret-mismatch",
        severity: Severity::Error,
        summary: "",
        doc: "",
        check: None,
    },
];
