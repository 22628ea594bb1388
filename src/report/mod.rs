//! Reports: diagnostics as a user reads them. Reports never compute; they lay out what they get —
//! a [`Report`] (findings, their counts, and the files they point into) in one [`Format`].

pub mod github;
pub mod human;
pub mod json;
pub mod sarif;
pub mod stacks;

use crate::cli::Format;
use crate::diag::{Diagnostic, InputError};
use crate::rules::Summary;
use crate::source::{Loc, SourceMap};

/// What a command found, ready to be printed in any format.
pub struct Report<'a> {
    pub diagnostics: &'a [Diagnostic],
    pub summary: Summary,
    /// The files the diagnostics point into.
    pub sources: &'a SourceMap,
    /// The file the command was run on (the manifest), as the user reads it. SARIF anchors
    /// findings that have no place of their own there: GitHub code scanning rejects the whole
    /// upload when a single result has no location.
    pub subject: Option<String>,
    /// `doctor` only: server connections in use against the budget.
    pub budget: Option<Budget>,
}

/// Server connections in use right now, and the budget they are measured against (`doctor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub used: u64,
    pub capacity: u64,
}

impl<'a> Report<'a> {
    pub fn new(
        diagnostics: &'a [Diagnostic],
        sources: &'a SourceMap,
        subject: Option<String>,
    ) -> Report<'a> {
        Report {
            diagnostics,
            summary: Summary::of(diagnostics),
            sources,
            subject,
            budget: None,
        }
    }

    /// The same report with connection use against the budget in its summary (`doctor`).
    pub fn with_budget(mut self, budget: Option<Budget>) -> Report<'a> {
        self.budget = budget;
        self
    }

    /// The whole report in `format`. `color` matters to `human` only.
    pub fn render(&self, format: Format, color: bool) -> String {
        match format {
            Format::Human => human::report(self, color),
            Format::Json => json::report(self),
            Format::Sarif => sarif::report(self),
            Format::Github => github::report(self),
        }
    }
}

/// An input error (exit 2) as a report of one `INPUT` diagnostic, so that machine formats stay
/// parseable. `subject` is the path the user passed, where there is one.
pub fn input_error(e: &InputError, subject: Option<String>, format: Format, color: bool) -> String {
    let diags = [e.as_diagnostic()];
    let report = Report::new(&diags, &e.sources, subject);
    match format {
        Format::Human => human::render_input_error(e, color),
        other => report.render(other, color),
    }
}

/// `1 error, 0 warnings, 2 infos`.
pub fn counts(s: &Summary) -> String {
    format!(
        "{}, {}, {}",
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
        plural(s.infos, "info")
    )
}

/// Only the non-zero counts (`2 errors, 1 warning`); empty when there is nothing.
pub fn nonzero_counts(s: &Summary) -> String {
    [
        (s.errors, "error"),
        (s.warnings, "warning"),
        (s.infos, "info"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| plural(n, what))
    .collect::<Vec<_>>()
    .join(", ")
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// A location as editors and CI systems address it: the file as the user reads it, 1-based line
/// and column of the start, and of the end (exclusive: the character after the last one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl Position {
    pub fn of(loc: &Loc, sources: &SourceMap) -> Position {
        let file = sources.get(loc.file);
        let start = file.line_col(loc.span.start);
        let end = file.line_col(loc.span.end.max(loc.span.start));
        Position {
            // SARIF URIs and workflow commands want forward slashes.
            file: if cfg!(windows) {
                file.display.replace('\\', "/")
            } else {
                file.display.clone()
            },
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Severity;
    use std::path::Path;

    fn sample() -> (SourceMap, Vec<Diagnostic>) {
        let mut sources = SourceMap::default();
        let text = "[pgbouncer]\nmax_client_conn = 5\n# ü, 50%\nreserve_pool_size = 9\n";
        let file = sources.add(Path::new("deploy/stack.toml"), text.to_string());
        let at = |needle: &str| {
            let start = text.find(needle).unwrap();
            Some(Loc {
                file,
                span: start..start + needle.len(),
            })
        };
        let diags = vec![
            Diagnostic::new("CON001", Severity::Error, "100% of clients:\nnot, served")
                .at(at("5"))
                .help("raise it")
                .related(at("reserve_pool_size"), "set here"),
            Diagnostic::new("FIL003", Severity::Info, "not verified"),
        ];
        (sources, diags)
    }

    #[test]
    fn json_has_nulls_where_there_is_no_place() {
        let (sources, diags) = sample();
        let r = Report::new(&diags, &sources, Some("deploy/stack.toml".to_string()));
        let v: serde_json::Value = serde_json::from_str(&r.render(Format::Json, false)).unwrap();
        let first = &v["diagnostics"][0];
        assert_eq!(first["line"], 2);
        assert_eq!(first["column"], 19);
        assert_eq!(first["end_line"], 2);
        assert_eq!(first["end_column"], 20);
        assert_eq!(first["related"][0]["line"], 4);
        let second = &v["diagnostics"][1];
        assert!(second["file"].is_null() && second["line"].is_null() && second["help"].is_null());
        assert_eq!(second["related"], serde_json::json!([]));
        assert_eq!(
            v["summary"],
            serde_json::json!({"errors": 1, "warnings": 0, "infos": 1})
        );
    }

    #[test]
    fn sarif_anchors_placeless_findings_at_the_subject() {
        let (sources, diags) = sample();
        let r = Report::new(&diags, &sources, Some("./deploy/stack.toml".to_string()));
        let v: serde_json::Value = serde_json::from_str(&r.render(Format::Sarif, false)).unwrap();
        let results = &v["runs"][0]["results"];
        assert_eq!(results[1]["level"], "note");
        let anchor = &results[1]["locations"][0]["physicalLocation"];
        assert_eq!(anchor["artifactLocation"]["uri"], "deploy/stack.toml");
        assert_eq!(anchor["region"]["startLine"], 1);
        // Without a subject there is nothing to anchor at: no location rather than a made-up one.
        let r = Report::new(&diags, &sources, None);
        let v: serde_json::Value = serde_json::from_str(&r.render(Format::Sarif, false)).unwrap();
        assert!(v["runs"][0]["results"][1].get("locations").is_none());
        let related = &v["runs"][0]["results"][0]["relatedLocations"][0];
        assert_eq!(related["message"]["text"], "set here");
    }

    #[test]
    fn github_escapes_and_omits_file_without_a_place() {
        let (sources, diags) = sample();
        let r = Report::new(&diags, &sources, None);
        let text = r.render(Format::Github, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "::error file=deploy/stack.toml,line=2,col=19,endLine=2,endColumn=20,title=CON001::100%25 of clients:%0Anot, served%0Ahelp: raise it%0Adeploy/stack.toml:4:1: set here"
        );
        assert_eq!(lines[1], "::notice title=FIL003::not verified");
    }

    #[test]
    fn human_ends_with_the_counts() {
        let (sources, diags) = sample();
        let r = Report::new(&diags, &sources, None);
        let text = r.render(Format::Human, false);
        assert!(
            text.contains("error[CON001] at deploy/stack.toml:2:19"),
            "{text}"
        );
        assert!(text.ends_with("1 error, 0 warnings, 1 info\n"), "{text}");
        assert_eq!(nonzero_counts(&r.summary), "1 error, 1 info");
        assert_eq!(nonzero_counts(&Summary::default()), "");
    }
}
