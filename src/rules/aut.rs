//! AUT — authentication and secrets.

use super::Rule;
use crate::diag::Severity;

pub const RULES: &[Rule] = &[
    Rule {
        code: "AUT001",
        name: "plaintext-secret-in-manifest",
        severity: Severity::Error,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "AUT002",
        name: "secret-type-mismatch",
        severity: Severity::Error,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "AUT003",
        name: "md5-deprecated",
        severity: Severity::Warning,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "AUT004",
        name: "secret-file-permissions",
        severity: Severity::Error,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "AUT005",
        name: "console-user-missing",
        severity: Severity::Error,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "AUT006",
        name: "trust-on-network",
        severity: Severity::Error,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "AUT007",
        name: "userlist-format",
        severity: Severity::Error,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "AUT008",
        name: "secrets-in-git",
        severity: Severity::Warning,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "AUT009",
        name: "plaintext-userlist-entry",
        severity: Severity::Warning,
        summary: "",
        doc: "",
        check: None,
    },
];
