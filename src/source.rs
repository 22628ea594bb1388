//! Source files that diagnostics point into, and byte-offset → line:column conversion.

use std::ops::Range;
use std::path::{Path, PathBuf};

/// Index of a file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub usize);

/// A place in a source file: the file and a byte range.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Loc {
    pub file: FileId,
    pub span: Range<usize>,
}

#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as the user should read it (relative to the working directory where possible).
    pub display: String,
    pub path: PathBuf,
    pub text: String,
    line_starts: Vec<usize>,
    /// The byte ranges [`SourceMap::redact`] starred out, sorted: a report draws each as a
    /// fixed-width mask, so a snippet never tells a secret's length.
    masks: Vec<Range<usize>>,
    /// Characters before every [`CHECKPOINT`]th byte, built on first use: a column costs a
    /// short count, not a scan of its whole line (40,000 findings on one long line stay linear).
    checkpoints: std::sync::OnceLock<Vec<usize>>,
}

/// Bytes between two character-count checkpoints.
const CHECKPOINT: usize = 4096;

/// Characters starting in `bytes` (bytes that are not UTF-8 continuation bytes).
fn char_starts(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b as i8) >= -0x40).count()
}

/// A 1-based line and column (columns count characters, as editors do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

impl SourceFile {
    pub fn new(path: &Path, text: String) -> SourceFile {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            display: display_path(path),
            path: path.to_path_buf(),
            text,
            line_starts,
            masks: Vec::new(),
            checkpoints: std::sync::OnceLock::new(),
        }
    }

    /// The starred-out ranges that overlap `window`, in order.
    pub fn masks_in(&self, window: &Range<usize>) -> &[Range<usize>] {
        let from = self.masks.partition_point(|m| m.end <= window.start);
        let to = self.masks.partition_point(|m| m.start < window.end);
        &self.masks[from..to.max(from)]
    }

    fn add_mask(&mut self, span: Range<usize>) {
        if span.is_empty() {
            return;
        }
        let at = self.masks.partition_point(|m| m.start < span.start);
        self.masks.insert(at, span);
    }

    /// Characters in `text[..offset]`.
    fn chars_before(&self, offset: usize) -> usize {
        let bytes = self.text.as_bytes();
        let cps = self.checkpoints.get_or_init(|| {
            let mut v = Vec::with_capacity(bytes.len() / CHECKPOINT + 1);
            let mut n = 0;
            v.push(0);
            for chunk in bytes.chunks(CHECKPOINT) {
                n += char_starts(chunk);
                v.push(n);
            }
            v
        });
        let k = offset / CHECKPOINT;
        cps[k] + char_starts(&bytes[k * CHECKPOINT..offset])
    }

    /// The length in bytes of the longest line among those `window(span, before, after)` covers.
    pub fn longest_line_near(&self, span: Range<usize>, before: usize, after: usize) -> usize {
        let first = self.line_index(span.start).saturating_sub(before);
        let last =
            (self.line_index(span.end.max(span.start)) + after).min(self.line_starts.len() - 1);
        (first..=last)
            .map(|i| self.line_bounds(i).len())
            .max()
            .unwrap_or(0)
    }

    /// The bytes of the 0-based line `i`, without its line break.
    pub fn line_bounds(&self, i: usize) -> Range<usize> {
        let start = self.line_starts[i];
        let end = self
            .line_starts
            .get(i + 1)
            .map_or(self.text.len(), |&n| n - 1);
        start..end.max(start)
    }

    /// The 0-based line holding `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        self.line_index(offset)
    }

    /// 0-based index of the line holding `offset` (clamped to the end of the text).
    fn line_index(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    /// The whole lines around `span`: `before` lines before its first line through `after`
    /// lines after its last (fewer at either end of the file), and the 0-based index of the
    /// window's first line. A report draws a snippet from this window instead of scanning the
    /// whole file, so drawing N findings costs N small windows, not N files.
    pub fn window(&self, span: Range<usize>, before: usize, after: usize) -> (Range<usize>, usize) {
        let first = self.line_index(span.start).saturating_sub(before);
        let last = self.line_index(span.end.max(span.start)) + after;
        let end = self
            .line_starts
            .get(last + 1)
            .copied()
            .unwrap_or(self.text.len());
        (self.line_starts[first]..end, first)
    }

    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = offset.min(self.text.len());
        let line = self.line_index(offset);
        let start = self.line_starts[line];
        let column = if self.text.is_char_boundary(offset) {
            self.chars_before(offset) - self.chars_before(start)
        } else {
            offset - start
        } + 1;
        LineCol {
            line: line + 1,
            column,
        }
    }
}

/// All files a stack was read from.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn add(&mut self, path: &Path, text: String) -> FileId {
        self.files.push(SourceFile::new(path, text));
        FileId(self.files.len() - 1)
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0]
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(i), f))
    }

    /// Overwrite the secret at `span` in `file`'s text with `*`, byte for byte: each character
    /// becomes as many `*` as it has bytes, and line breaks stay, so every offset and line
    /// number into the file keeps pointing where it did. Reports draw snippets from this text,
    /// and a password or verifier must never reach output (docs/product.md).
    pub fn redact(&mut self, file: FileId, span: Range<usize>) {
        let text = &mut self.files[file.0].text;
        let mut start = span.start.min(text.len());
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = span.end.clamp(start, text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        let masked: String = text[start..end]
            .chars()
            .flat_map(|c| {
                let keep = matches!(c, '\n' | '\r');
                let n = if keep { 1 } else { c.len_utf8() };
                std::iter::repeat_n(if keep { c } else { '*' }, n)
            })
            .collect();
        text.replace_range(start..end, &masked);
        self.files[file.0].add_mask(start..end);
        self.files[file.0].checkpoints = std::sync::OnceLock::new();
    }

    /// [`SourceMap::redact`] for many spans of one file, rewriting the text once (a userlist
    /// of 10,000 entries would otherwise be copied 10,000 times).
    pub fn redact_all(&mut self, file: FileId, mut spans: Vec<Range<usize>>) {
        spans.sort_by_key(|s| s.start);
        let text = &self.files[file.0].text;
        let mut out = String::with_capacity(text.len());
        let mut masks = Vec::with_capacity(spans.len());
        let mut at = 0;
        for span in spans {
            let mut start = span.start.clamp(at, text.len());
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            let mut end = span.end.clamp(start, text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            if start < at {
                continue;
            }
            out.push_str(&text[at..start]);
            if start < end {
                masks.push(start..end);
            }
            for c in text[start..end].chars() {
                if matches!(c, '\n' | '\r') {
                    out.push(c);
                } else {
                    out.extend(std::iter::repeat_n('*', c.len_utf8()));
                }
            }
            at = end;
        }
        out.push_str(&text[at..]);
        let f = &mut self.files[file.0];
        f.text = out;
        if f.masks.is_empty() {
            f.masks = masks;
        } else {
            for m in masks {
                f.add_mask(m);
            }
        }
        f.checkpoints = std::sync::OnceLock::new();
    }

    /// `file:line:column` of the start of `loc`.
    pub fn describe(&self, loc: &Loc) -> String {
        let file = self.get(loc.file);
        let lc = file.line_col(loc.span.start);
        format!("{}:{}:{}", file.display, lc.line, lc.column)
    }
}

/// A path relative to the current directory when it lies below it, else as given.
pub fn display_path(path: &Path) -> String {
    if let Ok(cwd) = std::env::current_dir()
        && let Ok(rel) = path.strip_prefix(&cwd)
    {
        return rel.display().to_string();
    }
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based() {
        let f = SourceFile::new(Path::new("x"), "ab\ncdé f\n".to_string());
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(3), LineCol { line: 2, column: 1 });
        // 'é' is two bytes but one column
        assert_eq!(f.line_col(8), LineCol { line: 2, column: 5 });
        assert_eq!(f.line_col(999).line, 3);
    }

    #[test]
    fn redacting_keeps_every_offset_and_line() {
        let mut map = SourceMap::default();
        let text = "\"admin\" \"hunter2\"\n\"bob\" \"pé\nx\"\nlast\n";
        let f = map.add(Path::new("userlist.txt"), text.to_string());
        map.redact(f, 9..16);
        // 'é' is two bytes: two stars; the line break inside the span stays.
        map.redact(f, 25..30);
        let after = &map.get(f).text;
        assert_eq!(after, "\"admin\" \"*******\"\n\"bob\" \"***\n*\"\nlast\n");
        assert_eq!(after.len(), text.len());
        assert_eq!(map.get(f).line_col(32), LineCol { line: 4, column: 1 });
        // A span past the end, or inside a character, is clamped, never a panic.
        map.redact(f, 30..999);
        assert_eq!(map.get(f).text.len(), text.len());
    }

    #[test]
    fn redacting_many_spans_at_once_equals_one_by_one() {
        let text = "\"a\" \"pw1\"\n\"b\" \"pé2\"\r\n\"c\" \"x\"\n";
        let spans = vec![22..23, 5..8, 15..19, 3..6];
        let mut one = SourceMap::default();
        let f = one.add(Path::new("u"), text.to_string());
        for s in &spans {
            one.redact(f, s.clone());
        }
        let mut all = SourceMap::default();
        let g = all.add(Path::new("u"), text.to_string());
        all.redact_all(g, spans);
        assert_eq!(all.get(g).text, one.get(f).text);
        assert_eq!(all.get(g).text.len(), text.len());
        assert!(!all.get(g).text.contains("pw1") && !all.get(g).text.contains("pé2"));
    }

    #[test]
    fn a_window_is_whole_lines_around_the_span() {
        let f = SourceFile::new(Path::new("x"), "a\nbb\nccc\ndddd\ne".to_string());
        // "ccc" with one line each side: lines 2..=4.
        assert_eq!(f.window(5..8, 1, 1), (2..14, 1));
        // Clamped at the file's ends.
        assert_eq!(f.window(0..1, 3, 0), (0..2, 0));
        assert_eq!(f.window(14..15, 0, 5), (14..15, 4));
        assert_eq!(f.window(15..15, 1, 1), (9..15, 3));
    }
}
