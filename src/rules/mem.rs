//! MEM — memory (needs postgres.memory).

use super::Rule;
use crate::diag::Severity;

pub const RULES: &[Rule] = &[
    Rule {
        code: "MEM001",
        name: "shared-buffers-fraction",
        severity: Severity::Warning,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "MEM002",
        name: "effective-cache-size-fraction",
        severity: Severity::Warning,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "MEM003",
        name: "work-mem-overcommit",
        severity: Severity::Warning,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "MEM004",
        name: "maintenance-memory",
        severity: Severity::Warning,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "MEM005",
        name: "exceeds-ram",
        severity: Severity::Error,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "MEM006",
        name: "huge-pages",
        severity: Severity::Info,
        summary: "",
        doc: "",
        check: None,
    },
];
