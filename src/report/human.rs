//! Human report: miette's graphical output — source line, caret, `help:`.

use crate::diag::{Diagnostic, InputError, Severity};
use crate::source::{Loc, SourceMap};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use std::fmt;
use std::io::IsTerminal;

struct Shown<'a> {
    diag: &'a Diagnostic,
    source: Option<NamedSource<String>>,
    labels: Vec<LabeledSpan>,
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl std::error::Error for Shown<'_> {}

impl miette::Diagnostic for Shown<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diag
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
}

fn span(loc: &Loc) -> SourceSpan {
    SourceSpan::new(
        loc.span.start.into(),
        loc.span.end.saturating_sub(loc.span.start),
    )
}

/// Whether to colour what goes to stderr: only on a terminal, and never when NO_COLOR is set.
pub fn use_color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// The same for stdout, where `check` prints its report.
pub fn use_color_stdout() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}

/// Every diagnostic as miette draws it, then one line of counts.
pub fn report(r: &super::Report<'_>, color: bool) -> String {
    let mut out = String::new();
    for d in r.diagnostics {
        out.push_str(&render(d, r.sources, color));
        out.push('\n');
    }
    out.push_str(&super::counts(&r.summary));
    out.push('\n');
    if let Some(b) = r.budget {
        out.push_str(&format!(
            "budget: used {} of {} server connections\n",
            b.used, b.capacity
        ));
    }
    out
}

/// One diagnostic as miette draws it. Related places in the same file become extra labels;
/// places in other files are listed below as `file:line:col`.
pub fn render(diag: &Diagnostic, sources: &SourceMap, color: bool) -> String {
    let mut labels = Vec::new();
    let mut source = None;
    let mut elsewhere = Vec::new();
    if let Some(primary) = &diag.primary {
        let file = sources.get(primary.file);
        source = Some(NamedSource::new(file.display.clone(), file.text.clone()));
        labels.push(LabeledSpan::new_primary_with_span(None, span(primary)));
        for r in &diag.related {
            if r.loc.file == primary.file {
                labels.push(LabeledSpan::new_with_span(
                    Some(r.message.clone()),
                    span(&r.loc),
                ));
            } else {
                elsewhere.push(format!("  {}: {}", sources.describe(&r.loc), r.message));
            }
        }
    }
    let mut shown = Shown {
        diag,
        source,
        labels,
    };
    if shown.source.is_none() {
        shown.labels.clear();
    }
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    if handler.render_report(&mut out, &shown).is_err() {
        out = diag.one_line(sources);
    }
    if diag.primary.is_none() {
        out = format!("{}[{}]\n{out}", diag.severity, diag.code);
    }
    if let Some(primary) = &diag.primary {
        // miette shows the file name; the exact line:column is what editors jump to.
        out = format!(
            "{}[{}] at {}\n{out}",
            diag.severity,
            diag.code,
            sources.describe(primary)
        );
    }
    for e in elsewhere {
        out.push_str(&e);
        out.push('\n');
    }
    out
}

pub fn render_input_error(e: &InputError, color: bool) -> String {
    render(&e.as_diagnostic(), &e.sources, color)
}
