//! TMO — timeouts and liveness.

use super::Rule;
use crate::diag::Severity;

pub const RULES: &[Rule] = &[
    Rule {
        code: "TMO001",
        name: "recycle-after-idle-close",
        severity: Severity::Warning,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "TMO002",
        name: "query-timeout-not-above-statement-timeout",
        severity: Severity::Warning,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "TMO003",
        name: "idle-in-transaction-unbounded",
        severity: Severity::Warning,
        summary: "",
        doc: "",
        check: None,
    },
    Rule {
        code: "TMO005",
        name: "server-closes-pooled-connections",
        severity: Severity::Warning,
        summary: "",
        doc: "",
        check: None,
    },
];
