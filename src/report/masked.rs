//! Snippets around starred-out secrets. [`crate::source::SourceMap::redact`] stars a secret out
//! byte for byte, so that every offset keeps pointing where it did — but a run of stars as long
//! as the password tells its length (`"a" "**"`). A report therefore draws each starred-out
//! range as one fixed-width [`MASK`], in a copy of the few lines around the finding, with the
//! finding's spans moved to match.

use crate::source::SourceFile;
use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};
use std::ops::Range;

/// What every secret looks like in a snippet, whatever its length.
pub const MASK: &str = "********";

/// Lines of context on each side (miette asks for fewer).
const CONTEXT: usize = 3;

/// The lines around a finding with every secret drawn as [`MASK`].
pub struct MaskedWindow {
    name: String,
    text: String,
    /// 0-based line of the file the window starts at.
    first_line: usize,
    /// Where the window starts in the file.
    start: usize,
    /// Each mask segment (one line's part of a starred-out range): its range in the file and its
    /// offset in `text`.
    segments: Vec<(Range<usize>, usize)>,
}

/// `file.text[range]` with every starred-out part drawn as one [`MASK`] (a range cut by the
/// ends of `range` gives a mask in each piece, so no length shows either way).
pub fn masked_text(file: &SourceFile, range: Range<usize>) -> String {
    let mut out = String::with_capacity(range.len());
    let mut at = range.start;
    for m in file.masks_in(&range) {
        let (ms, me) = (m.start.max(at), m.end.min(range.end));
        if ms >= me {
            continue;
        }
        out.push_str(&file.text[at..ms]);
        out.push_str(MASK);
        at = me;
    }
    out.push_str(&file.text[at..range.end]);
    out
}

impl MaskedWindow {
    /// The window around `spans` (offsets into `file`), or `None` when no secret is near them.
    pub fn around(file: &SourceFile, spans: &[Range<usize>]) -> Option<MaskedWindow> {
        let lo = spans.iter().map(|s| s.start).min()?;
        let hi = spans.iter().map(|s| s.end.max(s.start)).max()?;
        let (window, first_line) = file.window(lo..hi, CONTEXT, CONTEXT);
        let masks = file.masks_in(&window);
        if masks.is_empty() {
            return None;
        }
        let mut text = String::with_capacity(window.len());
        let mut segments = Vec::new();
        let mut at = window.start;
        for m in masks {
            let (ms, me) = (m.start.max(at), m.end.min(window.end));
            if ms >= me {
                continue;
            }
            text.push_str(&file.text[at..ms]);
            // Line breaks inside a starred-out range stay; each line's part becomes one mask.
            let mut seg_start = ms;
            for (i, c) in file.text[ms..me].char_indices() {
                if c == '\n' || c == '\r' {
                    if seg_start < ms + i {
                        segments.push((seg_start..ms + i, text.len()));
                        text.push_str(MASK);
                    }
                    text.push(c);
                    seg_start = ms + i + 1;
                }
            }
            if seg_start < me {
                segments.push((seg_start..me, text.len()));
                text.push_str(MASK);
            }
            at = me;
        }
        text.push_str(&file.text[at..window.end]);
        Some(MaskedWindow {
            name: file.display.clone(),
            text,
            first_line,
            start: window.start,
            segments,
        })
    }

    /// Where a file offset is in the masked text: an offset inside a mask moves to its start
    /// (`end = false`) or its end.
    fn map(&self, offset: usize, end: bool) -> usize {
        let i = self.segments.partition_point(|(r, _)| r.end <= offset);
        if let Some((r, at)) = self.segments.get(i)
            && r.start < offset
        {
            return if end { at + MASK.len() } else { *at };
        }
        match i.checked_sub(1).and_then(|j| self.segments.get(j)) {
            Some((r, at)) => at + MASK.len() + (offset - r.end),
            None => offset.saturating_sub(self.start),
        }
    }

    /// A file span as a span of the masked text.
    pub fn span(&self, span: &Range<usize>) -> SourceSpan {
        let start = self.map(span.start, false);
        let end = self.map(span.end.max(span.start), true).max(start);
        SourceSpan::new(start.into(), end - start)
    }

    #[cfg(test)]
    fn text(&self) -> &str {
        &self.text
    }
}

impl SourceCode for MaskedWindow {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let inner = <str as SourceCode>::read_span(
            &self.text,
            span,
            context_lines_before,
            context_lines_after,
        )?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line() + self.first_line,
            inner.column(),
            inner.line_count() + self.first_line,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceMap;
    use std::path::Path;

    fn masked(text: &str, secrets: &[&str]) -> (SourceMap, crate::source::FileId) {
        let mut sources = SourceMap::default();
        let f = sources.add(Path::new("userlist.txt"), text.to_string());
        let spans = secrets
            .iter()
            .map(|s| {
                let at = text.find(s).unwrap();
                at..at + s.len()
            })
            .collect();
        sources.redact_all(f, spans);
        (sources, f)
    }

    #[test]
    fn every_secret_is_drawn_the_same_width() {
        let text = "\"a\" \"xy\"\n\"b\" \"a-much-longer-password\"\n\"c\" \"md5abc\"\n";
        let (sources, f) = masked(text, &["xy", "a-much-longer-password"]);
        let file = sources.get(f);
        let w = MaskedWindow::around(file, std::slice::from_ref(&(5..7))).unwrap();
        assert_eq!(
            w.text(),
            "\"a\" \"********\"\n\"b\" \"********\"\n\"c\" \"md5abc\"\n"
        );
        // The secret's span covers the mask; a span after it moves with it.
        assert_eq!(w.span(&(5..7)), SourceSpan::new(5.into(), MASK.len()));
        let c = text.find("\"c\"").unwrap();
        let moved = w.span(&(c..c + 3));
        assert_eq!(
            &w.text()[moved.offset()..moved.offset() + moved.len()],
            "\"c\""
        );
    }

    #[test]
    fn no_secret_near_is_no_window() {
        let text = "\"a\" \"xy\"\n".to_string() + &"; comment\n".repeat(20) + "\"z\" \"md5\"\n";
        let (sources, f) = masked(&text, &["xy"]);
        let at = text.rfind("\"z\"").unwrap();
        assert!(
            MaskedWindow::around(sources.get(f), std::slice::from_ref(&(at..at + 3))).is_none()
        );
    }

    #[test]
    fn a_secret_across_lines_keeps_its_line_breaks() {
        let text = "\"a\" \"unterminated\nstill secret\n\"b\" \"md5\"\n";
        let (sources, f) = masked(text, &["unterminated\nstill secret"]);
        let w = MaskedWindow::around(sources.get(f), std::slice::from_ref(&(5..10))).unwrap();
        assert_eq!(w.text(), "\"a\" \"********\n********\n\"b\" \"md5\"\n");
    }
}
