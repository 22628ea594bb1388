//! FIL — generated files.

use super::Rule;
use crate::diag::Severity;

pub const RULES: &[Rule] = &[
    Rule {
        code: "FIL001",
        name: "drift",
        severity: Severity::Error,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "FIL002",
        name: "hand-edited",
        severity: Severity::Warning,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "FIL003",
        name: "secrets-not-verified",
        severity: Severity::Info,
        summary: "",
        doc: "",
        check: None,
    },
];
