//! CON — the connection budget.

use super::Rule;
use crate::diag::Severity;

pub const RULES: &[Rule] = &[
    Rule {
        code: "CON001",
        name: "clients-exceed-max-client-conn",
        severity: Severity::Error,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "CON002",
        name: "pools-exceed-max-connections",
        severity: Severity::Error,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "CON003",
        name: "direct-clients-exceed-max-connections",
        severity: Severity::Error,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "CON004",
        name: "pool-cannot-fill",
        severity: Severity::Warning,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "CON005",
        name: "fd-limit",
        severity: Severity::Warning,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "CON006",
        name: "app-pool-larger-than-server-pool",
        severity: Severity::Info,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "CON007",
        name: "server-will-not-start",
        severity: Severity::Error,
        summary: "",
        doc: "",
        check: None,
    },
];
