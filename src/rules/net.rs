//! NET — topology.

use super::Rule;
use crate::diag::Severity;

pub const RULES: &[Rule] = &[
    Rule {
        code: "NET001",
        name: "pgbouncer-target-mismatch",
        severity: Severity::Error,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "NET002",
        name: "app-bypasses-pgbouncer",
        severity: Severity::Error,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "NET003",
        name: "unknown-database-or-user",
        severity: Severity::Error,
        summary: "",
        doc: "",
        check: None,
    },
];
