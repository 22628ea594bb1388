//! One report over many stacks (`check PATH...`): each stack's own [`Report`], as checked on its
//! own, laid out together — grouped per stack for people, one document for tools.

use super::{Report, counts};
use crate::cli::Format;
use crate::rules::Summary;

/// What a stack was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackKind {
    Manifest,
    /// Hand-written configuration files.
    Files,
}

impl StackKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StackKind::Manifest => "manifest",
            StackKind::Files => "files",
        }
    }
}

/// One stack and what checking it found.
pub struct StackReport<'a> {
    /// The stack as the user reads it: the manifest, or the directory of hand-written files.
    pub path: String,
    pub kind: StackKind,
    /// The files read, as shown (for a manifest: the manifest).
    pub files: Vec<String>,
    /// Files read because they belong to the stack, though they were not named.
    pub added: Vec<String>,
    /// Its findings — or, for a stack that could not be read, the `INPUT` diagnostic.
    pub report: Report<'a>,
    /// Its exit code on its own: 0, 1, or 2 when it could not be read.
    pub exit_code: u8,
}

/// Every stack of a run, in the order they were found.
pub struct Stacks<'a> {
    pub stacks: Vec<StackReport<'a>>,
}

impl Stacks<'_> {
    /// The counts over every stack.
    pub fn summary(&self) -> Summary {
        let mut total = Summary::default();
        for s in &self.stacks {
            total.errors += s.report.summary.errors;
            total.warnings += s.report.summary.warnings;
            total.infos += s.report.summary.infos;
        }
        total
    }

    /// The whole report in `format`. One stack is shown as a run on it alone shows it (with
    /// the added files named); JSON always carries the `stacks` array.
    pub fn render(&self, format: Format, color: bool) -> String {
        match format {
            Format::Human => human(self, color),
            Format::Json => super::json::stacks(self),
            Format::Sarif => super::sarif::stacks(self),
            Format::Github => self
                .stacks
                .iter()
                .map(|s| super::github::report(&s.report))
                .collect(),
        }
    }
}

/// Each stack under a header with its findings and its own counts, then the total and which
/// stacks failed or could not be read.
fn human(s: &Stacks<'_>, color: bool) -> String {
    if let [one] = &s.stacks[..] {
        return added(one) + &super::human::report(&one.report, color);
    }
    let mut out = String::new();
    for st in &s.stacks {
        out.push_str(&format!("==> {} <==\n", header(st)));
        out.push_str(&added(st));
        for d in st.report.diagnostics {
            out.push_str(&super::human::render(d, st.report.sources, color));
            out.push('\n');
        }
        let verdict = match st.exit_code {
            2 => "could not be read".to_string(),
            _ => counts(&st.report.summary),
        };
        out.push_str(&format!("{}: {verdict}\n\n", st.path));
    }
    out.push_str(&total(s));
    out
}

fn header(st: &StackReport<'_>) -> String {
    match st.kind {
        StackKind::Manifest => st.path.clone(),
        // The files relative to the stack's directory: the header already names it.
        StackKind::Files => {
            let prefix = format!("{}/", st.path);
            let files: Vec<&str> = st
                .files
                .iter()
                .map(|f| f.strip_prefix(&prefix).unwrap_or(f))
                .collect();
            format!("{} ({})", st.path, files.join(", "))
        }
    }
}

fn added(st: &StackReport<'_>) -> String {
    if st.added.is_empty() {
        return String::new();
    }
    format!(
        "also read, as files of the same stack: {}\n",
        st.added.join(", ")
    )
}

/// `3 stacks: 2 errors, 0 warnings, 1 info` and, on their own lines, the stacks that failed and
/// those that could not be read.
fn total(s: &Stacks<'_>) -> String {
    let mut out = format!("{} stacks: {}\n", s.stacks.len(), counts(&s.summary()));
    for (code, what) in [(1, "failed"), (2, "could not be read")] {
        let named: Vec<&str> = s
            .stacks
            .iter()
            .filter(|st| st.exit_code == code)
            .map(|st| st.path.as_str())
            .collect();
        if !named.is_empty() {
            out.push_str(&format!("{what}: {}\n", named.join(", ")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{Diagnostic, InputError, Severity};
    use crate::source::{Loc, SourceMap};
    use std::path::Path;

    #[test]
    fn every_format_holds_every_stack() {
        let mut sources = SourceMap::default();
        let f = sources.add(Path::new("a/stack.toml"), "x = 1\n".to_string());
        let diags = vec![
            Diagnostic::new("CON001", Severity::Error, "too many").at(Some(Loc {
                file: f,
                span: 4..5,
            })),
            Diagnostic::new("FIL003", Severity::Info, "placeless"),
        ];
        let input = InputError::new("invalid TOML");
        let input_diags = [input.as_diagnostic()];
        let empty = SourceMap::default();
        let s = Stacks {
            stacks: vec![
                StackReport {
                    path: "a/stack.toml".into(),
                    kind: StackKind::Manifest,
                    files: vec!["a/stack.toml".into()],
                    added: vec![],
                    report: Report::new(&diags, &sources, Some("a/stack.toml".into())),
                    exit_code: 1,
                },
                StackReport {
                    path: "b".into(),
                    kind: StackKind::Files,
                    files: vec!["b/pgbouncer.ini".into(), "b/.env".into()],
                    added: vec!["b/.env".into()],
                    report: Report::new(&[], &empty, Some("b/pgbouncer.ini".into())),
                    exit_code: 0,
                },
                StackReport {
                    path: "c/stack.toml".into(),
                    kind: StackKind::Manifest,
                    files: vec!["c/stack.toml".into()],
                    added: vec![],
                    report: Report::new(&input_diags, &input.sources, Some("c/stack.toml".into())),
                    exit_code: 2,
                },
            ],
        };
        let text = s.render(Format::Human, false);
        assert!(text.contains("==> a/stack.toml <==\n"), "{text}");
        assert!(text.contains("==> b (pgbouncer.ini, .env) <==\nalso read, as files of the same stack: b/.env\nb: 0 errors"), "{text}");
        assert!(
            text.contains("a/stack.toml: 1 error, 0 warnings, 1 info\n"),
            "{text}"
        );
        assert!(text.contains("c/stack.toml: could not be read\n"), "{text}");
        assert!(
            text.ends_with("3 stacks: 2 errors, 0 warnings, 1 info\nfailed: a/stack.toml\ncould not be read: c/stack.toml\n"),
            "{text}"
        );

        let v: serde_json::Value = serde_json::from_str(&s.render(Format::Json, false)).unwrap();
        assert_eq!(v["diagnostics"].as_array().unwrap().len(), 3);
        assert_eq!(v["summary"]["errors"], 2);
        assert_eq!(v["stacks"][1]["kind"], "files");
        assert_eq!(v["stacks"][1]["added"][0], "b/.env");
        assert_eq!(v["stacks"][2]["exit_code"], 2);
        assert_eq!(v["stacks"][0]["errors"], 1);

        let v: serde_json::Value = serde_json::from_str(&s.render(Format::Sarif, false)).unwrap();
        let results = v["runs"][0]["results"].as_array().unwrap();
        assert_eq!(v["runs"].as_array().unwrap().len(), 1);
        assert_eq!(results.len(), 3);
        // Placeless findings are anchored at their own stack.
        let anchor = |i: usize| {
            results[i]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].clone()
        };
        assert_eq!(anchor(1), "a/stack.toml");
        assert_eq!(anchor(2), "c/stack.toml");

        let gh = s.render(Format::Github, false);
        assert_eq!(gh.lines().count(), 3, "{gh}");
    }
}
