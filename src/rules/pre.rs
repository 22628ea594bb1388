//! PRE — prepared statements and pool-mode semantics.

use super::Rule;
use crate::diag::Severity;

pub const RULES: &[Rule] = &[
    Rule {
        code: "PRE001",
        name: "prepared-statements-through-transaction-pool",
        severity: Severity::Error,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "PRE002",
        name: "prepare-threshold-zero",
        severity: Severity::Warning,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "PRE003",
        name: "reset-query-ignored",
        severity: Severity::Warning,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "PRE004",
        name: "statement-mode-with-transactions",
        severity: Severity::Error,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "PRE005",
        name: "startup-options-through-pgbouncer",
        severity: Severity::Warning,
        summary: "",
        doc: "",
        check: None,
    },
];
