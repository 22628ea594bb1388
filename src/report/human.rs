//! Human report: miette's graphical output — source line, caret, `help:`.

use crate::diag::{Diagnostic, InputError, Severity};
use crate::source::{Loc, SourceFile, SourceMap};
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};
use std::fmt;
use std::io::IsTerminal;

/// A source file as miette reads it: each snippet is cut from a window of whole lines around
/// the span, with offsets and line numbers translated back to the file's, so miette never
/// scans (or gets a copy of) the whole file. Drawing N findings into one file is then linear in
/// N, not N times the file.
struct Windowed<'a> {
    file: &'a SourceFile,
}

impl SourceCode for Windowed<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        // One line more on each side than miette asks for, so its own context scan inside the
        // window ends where it would have ended in the whole file.
        let (window, first_line) = self.file.window(
            span.offset()..span.offset() + span.len(),
            context_lines_before + 1,
            context_lines_after + 1,
        );
        let bytes: &'b [u8] = &self.file.text.as_bytes()[window.clone()];
        let local = SourceSpan::new(
            span.offset().saturating_sub(window.start).into(),
            span.len(),
        );
        let inner = <[u8] as SourceCode>::read_span(
            bytes,
            &local,
            context_lines_before,
            context_lines_after,
        )?;
        // miette counts lines from the start of what it scanned; the window starts
        // `first_line` lines into the file.
        Ok(Box::new(MietteSpanContents::new_named(
            self.file.display.clone(),
            inner.data(),
            SourceSpan::new(
                (inner.span().offset() + window.start).into(),
                inner.span().len(),
            ),
            inner.line() + first_line,
            inner.column(),
            inner.line_count() + first_line,
        )))
    }
}

struct Shown<'a, S> {
    diag: &'a Diagnostic,
    source: Option<S>,
    labels: Vec<LabeledSpan>,
}

impl<S> fmt::Debug for Shown<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl<S> fmt::Display for Shown<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl<S> std::error::Error for Shown<'_, S> {}

impl<S: SourceCode> miette::Diagnostic for Shown<'_, S> {
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
        self.source.as_ref().map(|s| s as &dyn SourceCode)
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
    for s in r.skipped {
        out.push_str(&crate::rules::skipped::describe(s));
        out.push('\n');
    }
    if let Some(b) = r.budget {
        out.push_str(&format!(
            "budget: used {} of {} server connections ({} active, {} idle in the pools)\n",
            b.used, b.capacity, b.active, b.idle
        ));
    }
    out
}

/// Lines longer than this are never handed to miette whole: the snippet is an excerpt of the
/// primary line around the span (miette cannot draw a caret past column 65,535, and a snippet
/// of a 70,000-character line helps nobody).
const LONG_LINE: usize = 400;
/// Characters of context kept on each side of the span in an excerpt, and of the span itself.
const EXCERPT_CONTEXT: usize = 40;
const EXCERPT_SPAN: usize = 120;

/// One diagnostic as miette draws it. Related places in the same file become extra labels;
/// places in other files are listed below as `file:line:col`.
pub fn render(diag: &Diagnostic, sources: &SourceMap, color: bool) -> String {
    if let Some(primary) = &diag.primary {
        // A long line is drawn as an excerpt around the finding (miette cannot draw columns past
        // 65,535, and a whole long line helps nobody).
        if touches_long_line(diag, sources.get(primary.file), primary.file) {
            return render_excerpt(diag, primary, sources, color);
        }
        // Near a starred-out secret, miette draws from a copy where each secret is one fixed-width
        // mask (its length is a secret too).
        let file = sources.get(primary.file);
        let spans: Vec<std::ops::Range<usize>> = std::iter::once(primary)
            .chain(
                diag.related
                    .iter()
                    .map(|r| &r.loc)
                    .filter(|l| l.file == primary.file),
            )
            .map(|l| l.span.clone())
            .collect();
        if let Some(window) = super::masked::MaskedWindow::around(file, &spans) {
            let window = std::sync::Arc::new(window);
            let span_of = {
                let window = window.clone();
                move |l: &Loc| window.span(&l.span)
            };
            return render_mapped(diag, sources, color, |_| Shared(window.clone()), span_of);
        }
    }
    render_from(diag, sources, color, |file| Windowed { file })
}

/// A [`super::masked::MaskedWindow`] shared between the labels' spans and miette.
struct Shared(std::sync::Arc<super::masked::MaskedWindow>);

impl SourceCode for Shared {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        self.0.read_span(span, before, after)
    }
}

/// Whether a line miette would draw for `diag` (its spans' lines and one line around) is long.
fn touches_long_line(diag: &Diagnostic, file: &SourceFile, id: crate::source::FileId) -> bool {
    let spans = diag
        .primary
        .iter()
        .chain(diag.related.iter().map(|r| &r.loc))
        .filter(|l| l.file == id);
    spans
        .into_iter()
        .any(|l| file.longest_line_near(l.span.clone(), 1, 1) > LONG_LINE)
}

/// A snippet cut from one line: its text, the span inside it, and the line's 0-based index.
struct Excerpt {
    name: String,
    data: String,
    line: usize,
    /// The 0-based column of the span in the real line (the snippet's header shows it).
    column: usize,
}

impl SourceCode for Excerpt {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let inner = <str as SourceCode>::read_span(self.data.as_str(), span, before, after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line() + self.line,
            self.column,
            inner.line_count() + self.line,
        )))
    }
}

/// The largest char boundary of `s` at or below `i`.
fn floor_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// `primary`'s line cut down to the span and a little context, with `…` where it was cut;
/// related places are listed by `file:line:col` below.
fn render_excerpt(diag: &Diagnostic, primary: &Loc, sources: &SourceMap, color: bool) -> String {
    let file = sources.get(primary.file);
    let line = file.line_of(primary.span.start);
    let bounds = file.line_bounds(line);
    // Only a few hundred bytes around the span are looked at, however long the line is.
    let reach = 4 * (EXCERPT_CONTEXT + EXCERPT_SPAN);
    let lo = floor_boundary(
        &file.text,
        primary.span.start.saturating_sub(reach).max(bounds.start),
    );
    let hi = floor_boundary(&file.text, (primary.span.start + 2 * reach).min(bounds.end));
    let lo = lo.min(hi);
    let text = file.text[lo..hi].trim_end_matches('\r');
    let window = lo..hi;
    let local = |o: usize| floor_boundary(text, o.saturating_sub(window.start));
    let start = local(primary.span.start);
    let end = local(primary.span.end.max(primary.span.start)).max(start);
    let span_end = text[start..end]
        .char_indices()
        .nth(EXCERPT_SPAN)
        .map_or(end, |(i, _)| start + i);
    let from = text[..start]
        .char_indices()
        .rev()
        .nth(EXCERPT_CONTEXT - 1)
        .map_or(0, |(i, _)| i);
    let to = text[span_end..]
        .char_indices()
        .nth(EXCERPT_CONTEXT)
        .map_or(text.len(), |(i, _)| span_end + i);
    // Secrets as one fixed-width mask each, as in a short line's snippet.
    let piece = |a: usize, b: usize| super::masked::masked_text(file, lo + a..lo + b);
    let mut data = String::new();
    if from > 0 || lo > bounds.start {
        data.push('…');
    }
    data.push_str(&piece(from, start));
    let caret = data.len();
    let marked = piece(start, span_end);
    data.push_str(&marked);
    if span_end < end {
        data.push('…');
    }
    data.push_str(&piece(span_end, to));
    if to < text.len() || hi < bounds.end {
        data.push('…');
    }
    let caret_len = marked.len();
    let shown = Shown {
        diag,
        source: Some(Excerpt {
            name: file.display.clone(),
            data,
            line,
            column: file.line_col(primary.span.start).column.saturating_sub(1),
        }),
        labels: vec![LabeledSpan::new_primary_with_span(
            None,
            SourceSpan::new(caret.into(), caret_len),
        )],
    };
    let elsewhere: Vec<String> = diag
        .related
        .iter()
        .map(|r| format!("  {}: {}", sources.describe(&r.loc), r.message))
        .collect();
    draw(&shown, diag, sources, color, elsewhere)
}

/// [`render`], with `source` making what miette reads a snippet from (a test compares the
/// window against the whole file).
fn render_from<'a, S: SourceCode>(
    diag: &Diagnostic,
    sources: &'a SourceMap,
    color: bool,
    source_of: impl Fn(&'a SourceFile) -> S,
) -> String {
    render_mapped(diag, sources, color, source_of, span)
}

/// [`render_from`], with `span_of` placing a location in what `source_of` gives.
fn render_mapped<'a, S: SourceCode>(
    diag: &Diagnostic,
    sources: &'a SourceMap,
    color: bool,
    source_of: impl Fn(&'a SourceFile) -> S,
    span_of: impl Fn(&Loc) -> SourceSpan,
) -> String {
    let mut labels = Vec::new();
    let mut source = None;
    let mut elsewhere = Vec::new();
    if let Some(primary) = &diag.primary {
        let file = sources.get(primary.file);
        source = Some(source_of(file));
        labels.push(LabeledSpan::new_primary_with_span(None, span_of(primary)));
        for r in &diag.related {
            if r.loc.file == primary.file {
                labels.push(LabeledSpan::new_with_span(
                    Some(r.message.clone()),
                    span_of(&r.loc),
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
    draw(&shown, diag, sources, color, elsewhere)
}

fn draw<S: SourceCode>(
    shown: &Shown<'_, S>,
    diag: &Diagnostic,
    sources: &SourceMap,
    color: bool,
    elsewhere: Vec<String>,
) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    if handler.render_report(&mut out, shown).is_err() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Related;
    use miette::NamedSource;
    use std::path::Path;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn at(file: crate::source::FileId, span: std::ops::Range<usize>) -> Option<Loc> {
        Some(Loc { file, span })
    }

    /// What miette drew from the whole file is what it draws from the windows: same lines, same
    /// line numbers, same carets — at the file's ends, across lines, with CRLF, and with labels
    /// far apart that miette merges into one snippet.
    #[test]
    fn windows_draw_what_the_whole_file_draws() {
        let mut text = String::new();
        for i in 0..60 {
            let end = if i % 7 == 3 { "\r\n" } else { "\n" };
            text.push_str(&format!("key{i} = value{i}{end}"));
        }
        text.push_str("last = no newline");
        let mut sources = SourceMap::default();
        let f = sources.add(Path::new("x.ini"), text.clone());
        let offset =
            |line: usize| -> usize { text.split_inclusive('\n').take(line).map(str::len).sum() };
        let len = text.len();
        let mut diags = vec![
            Diagnostic::new("T1", Severity::Error, "first").at(at(f, 0..4)),
            Diagnostic::new("T2", Severity::Warning, "middle")
                .at(at(f, offset(30) + 7..offset(30) + 12)),
            Diagnostic::new("T3", Severity::Info, "crlf").at(at(f, offset(3)..offset(3) + 4)),
            Diagnostic::new("T4", Severity::Error, "lines")
                .at(at(f, offset(10) + 2..offset(12) + 5)),
            Diagnostic::new("T5", Severity::Error, "end").at(at(f, len - 2..len)),
            Diagnostic::new("T6", Severity::Error, "eof").at(at(f, len..len)),
            Diagnostic::new("T7", Severity::Error, "empty").at(at(f, offset(5)..offset(5))),
        ];
        let mut near =
            Diagnostic::new("T8", Severity::Error, "related").at(at(f, offset(40)..offset(40) + 3));
        near.related = vec![
            Related {
                loc: Loc {
                    file: f,
                    span: offset(38)..offset(38) + 2,
                },
                message: "before".into(),
            },
            Related {
                loc: Loc {
                    file: f,
                    span: offset(55)..offset(55) + 2,
                },
                message: "after".into(),
            },
            Related {
                loc: Loc {
                    file: f,
                    span: offset(2)..offset(2) + 2,
                },
                message: "far".into(),
            },
        ];
        diags.push(near);
        for d in &diags {
            let whole = render_from(d, &sources, false, |file| {
                NamedSource::new(file.display.clone(), file.text.clone())
            });
            assert_eq!(render(d, &sources, false), whole, "{}", d.code);
        }
    }

    /// Counts the bytes miette is handed.
    struct Counting<'a> {
        inner: Windowed<'a>,
        bytes: &'a AtomicUsize,
    }

    impl SourceCode for Counting<'_> {
        fn read_span<'b>(
            &'b self,
            span: &SourceSpan,
            before: usize,
            after: usize,
        ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
            let c = self.inner.read_span(span, before, after)?;
            self.bytes.fetch_add(c.data().len(), Ordering::Relaxed);
            Ok(c)
        }
    }

    /// 20,000 findings on a 10,000-line file: miette reads a few lines per finding, never the
    /// file (which would be 20,000 × 300 KB).
    #[test]
    fn drawing_many_findings_reads_lines_not_files() {
        let line = "\"user00000\" \"md500000000000000000000000000000000\"\n";
        let text = line.repeat(10_000);
        let mut sources = SourceMap::default();
        let f = sources.add(Path::new("userlist.txt"), text);
        let bytes = AtomicUsize::new(0);
        for i in 0..20_000 {
            let start = (i % 10_000) * line.len() + 13;
            let d =
                Diagnostic::new("AUT002", Severity::Warning, "md5").at(at(f, start..start + 35));
            render_from(&d, &sources, false, |file| Counting {
                inner: Windowed { file },
                bytes: &bytes,
            });
        }
        // Each finding: a few read_span calls, each at most three lines.
        let read = bytes.load(Ordering::Relaxed);
        assert!(read <= 20_000 * 4 * 3 * line.len(), "{read} bytes read");
        assert!(read > 0);
    }

    /// A finding past column 65,535 (miette's limit) or spanning a huge value draws an excerpt
    /// with the real line:column, whatever the characters around it; no input makes it panic.
    #[test]
    fn long_lines_are_drawn_as_excerpts() {
        let cases = [
            format!("max_connections = {}x\n", " ".repeat(70_000)),
            format!("a = 1\nb = {}\nc = 2\n", "é".repeat(100_000)),
            format!("{}\nkey = value\n", "#".repeat(80_000)),
        ];
        for text in cases {
            let mut sources = SourceMap::default();
            let f = sources.add(Path::new("p.conf"), text.clone());
            let spans = [
                text.len() - 2..text.len() - 1,
                6..text.len() - 8,
                text.len() - 6..text.len() - 1,
                0..0,
                text.len()..text.len(),
            ];
            for sp in spans {
                let d = Diagnostic::new("T1", Severity::Error, "long")
                    .at(at(f, sp.clone()))
                    .related(at(f, 0..1), "here");
                let out = render(&d, &sources, false);
                let place = sources.describe(&Loc { file: f, span: sp });
                assert!(out.contains(&place), "{out}");
                assert!(out.lines().all(|l| l.chars().count() < 400), "{out}");
            }
        }
    }
}
