//! Diagnostics: what rules (and stack resolution) report, and the error that makes input unusable.

use crate::source::{Loc, SourceMap};
use std::fmt;

#[derive(
    Debug,
    Default,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    /// The default failing severity.
    #[default]
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Another place a finding involves (`related` in the JSON report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub loc: Loc,
    pub message: String,
}

/// One finding. `primary` points at the value that must change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub help: Option<String>,
    pub primary: Option<Loc>,
    pub related: Vec<Related>,
}

impl Diagnostic {
    pub fn new(code: &'static str, severity: Severity, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity,
            message: crate::redact::scrub(message.into()),
            help: None,
            primary: None,
            related: Vec::new(),
        }
    }

    pub fn at(mut self, loc: Option<Loc>) -> Diagnostic {
        self.primary = loc;
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(crate::redact::scrub(help.into()));
        self
    }

    pub fn related(mut self, loc: Option<Loc>, message: impl Into<String>) -> Diagnostic {
        if let Some(loc) = loc {
            self.related.push(Related {
                loc,
                message: message.into(),
            });
        }
        self
    }

    /// `file:line:col: severity[CODE]: message` — one line, for logs and test assertions.
    pub fn one_line(&self, sources: &SourceMap) -> String {
        let place = self
            .primary
            .as_ref()
            .map(|l| format!("{}: ", sources.describe(l)))
            .unwrap_or_default();
        format!("{place}{}[{}]: {}", self.severity, self.code, self.message)
    }
}

/// Input that cannot be used at all (exit 2): unreadable path, invalid TOML, unknown key, bad unit…
#[derive(Debug, Clone)]
pub struct InputError {
    pub message: String,
    pub help: Option<String>,
    pub loc: Option<Loc>,
    /// The files `loc` points into (kept so the error can be shown on its own).
    pub sources: SourceMap,
}

impl InputError {
    pub fn new(message: impl Into<String>) -> InputError {
        InputError {
            message: crate::redact::scrub(message.into()),
            help: None,
            loc: None,
            sources: SourceMap::default(),
        }
    }

    pub fn located(message: impl Into<String>, loc: Loc, sources: &SourceMap) -> InputError {
        InputError {
            message: crate::redact::scrub(message.into()),
            help: None,
            loc: Some(loc),
            sources: sources.clone(),
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> InputError {
        self.help = Some(crate::redact::scrub(help.into()));
        self
    }

    pub fn as_diagnostic(&self) -> Diagnostic {
        Diagnostic {
            code: "INPUT",
            severity: Severity::Error,
            message: self.message.clone(),
            help: self.help.clone(),
            primary: self.loc.clone(),
            related: Vec::new(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(loc) = &self.loc {
            write!(f, "{}: ", self.sources.describe(loc))?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for InputError {}
