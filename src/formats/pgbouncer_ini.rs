//! pgbouncer.ini, read the way PgBouncer reads it (lib/usual/cfparser.c `parse_ini_file` and
//! src/loader.c `cstr_get_pair`), keeping the byte span of every key, value and header.
//!
//! Not a general ini crate: rust-ini and friends strip quotes, process escapes and inline
//! comments, and keep no positions, so they would accept files PgBouncer refuses (and the other
//! way round) and could not point at the line to fix. PgBouncer's own rules (facts.md §1):
//!
//! - a line whose first non-blank character is `;` or `#` is a comment; there are no inline
//!   comments: a value is the raw rest of the line, trailing whitespace (CR included) trimmed;
//! - `[name]` starts a section; names are case-sensitive; parsing continues right after `]`;
//! - keys are `[A-Za-z0-9_.*-]+`, or (PgBouncer ≥ 1.25) single-quoted without escapes; anything
//!   else is `syntax error in configuration (file:line), stopping loading`;
//! - `%include <path>` (followed by a blank) reads another file, resolved against PgBouncer's
//!   working directory — not the including file's — nested at most 10 deep.
//!
//! The reader knows no versions: quoted keys and `[peers]` are recorded, and
//! [`crate::stack::files::pgbouncer_ini::check`] decides what the declared version makes of them.
//!
//! Where PgBouncer gives up, the reader follows it only as far as useful for a lint: after a
//! syntax error, an include cycle or too deep an include, nothing more is read (PgBouncer reads
//! nothing more either, so nothing after it would take effect). After an unknown section or a
//! key before any section — each also fatal to PgBouncer — it reports and reads on, so one run
//! shows every problem. A missing include is a warning (FIL004): the file often exists only
//! where PgBouncer runs.

use crate::diag::{Diagnostic, InputError, Severity};
use crate::formats::directives::{self, Directives};
use crate::formats::text;
use crate::source::{FileId, Loc, SourceMap};
use std::path::{Path, PathBuf};

pub use crate::catalog::pgbouncer::Section;

/// cfparser.c `MAX_INCLUDE`: a file at this depth may not include another.
pub const MAX_INCLUDE_DEPTH: usize = 10;

/// The message of the finding for a file set without a `[pgbouncer]` section
/// (`load_init_file: main section missing from config file`), so callers can recognise it.
pub const MAIN_SECTION_MISSING: &str =
    "no [pgbouncer] section: PgBouncer refuses to start (main section missing from config file)";

/// A `[name]` header.
#[derive(Debug, Clone, PartialEq)]
pub struct IniSection {
    /// The text between the brackets, as written.
    pub name: String,
    /// The header, brackets included.
    pub loc: Loc,
    /// `None` for a name PgBouncer does not know (its lines are skipped).
    pub section: Option<Section>,
}

/// One `key = value` line under a known section.
#[derive(Debug, Clone, PartialEq)]
pub struct IniEntry {
    pub section: Section,
    /// The key without quotes.
    pub key: String,
    /// The key as written (quotes included when quoted).
    pub key_loc: Loc,
    /// `'my db' = …`: only PgBouncer ≥ 1.25 reads a quoted key.
    pub key_quoted: bool,
    /// The raw rest of the line after `=`, trimmed.
    pub value: String,
    /// The value; an empty span right after `=` (and its blanks) when the value is empty.
    pub value_loc: Loc,
    /// 1-based line of the key in its file.
    pub line: usize,
}

/// A pgbouncer.ini with its includes, as PgBouncer would read it.
#[derive(Debug, Clone, Default)]
pub struct IniDocument {
    /// Files read: the top-level file first, then included files in the order read.
    pub files: Vec<FileId>,
    /// Section headers in include-expanded order.
    pub sections: Vec<IniSection>,
    /// Every `key = value` line under a known section, in include-expanded order (duplicates kept).
    pub entries: Vec<IniEntry>,
    /// What PgBouncer's parser itself rejects (CAT008) and includes that could not be followed
    /// (FIL004), in the order read.
    pub findings: Vec<Diagnostic>,
    /// `poolstack:` directives of every file read, in the order read.
    pub directives: Vec<Directives>,
    /// A `[pgbouncer]` header was read (in any file).
    pub main_section_found: bool,
    /// Where PgBouncer stops loading (a syntax error, a bad include): nothing after it was read.
    pub stopped_at: Option<Loc>,
}

impl IniDocument {
    /// The entries of one section, in order.
    pub fn entries_in(&self, section: Section) -> impl Iterator<Item = &IniEntry> {
        self.entries.iter().filter(move |e| e.section == section)
    }

    /// The finding for a missing `[pgbouncer]` section, if any.
    pub fn main_section_missing(&self) -> Option<&Diagnostic> {
        self.findings
            .iter()
            .find(|d| d.message == MAIN_SECTION_MISSING)
    }
}

/// Read `path` and every file it includes. An input error only when `path` itself cannot be
/// read as text, or a `poolstack:` comment in a file read is malformed.
pub fn read(path: &Path, cwd: &Path, sources: &mut SourceMap) -> Result<IniDocument, InputError> {
    let text = text::read(path)?;
    let file = sources.add(path, text);
    parse(file, cwd, sources)
}

/// Parse text already in `sources` (includes are read from disk, relative to `cwd`).
pub fn parse(file: FileId, cwd: &Path, sources: &mut SourceMap) -> Result<IniDocument, InputError> {
    let identity = file_identity(&sources.get(file).path);
    let mut reader = Reader {
        cwd,
        sources,
        doc: IniDocument::default(),
        current: Current::NoSection,
        stack: Vec::new(),
        include_missed: false,
        done: std::collections::HashMap::new(),
    };
    reader.file(file, identity)?;
    let include_missed = reader.include_missed;
    let mut doc = reader.doc;
    // An unread include may hold the [pgbouncer] section (FIL004 already says so).
    if doc.stopped_at.is_none() && !doc.main_section_found && !include_missed {
        doc.findings.push(
            Diagnostic::new("CAT008", Severity::Error, MAIN_SECTION_MISSING)
                .at(Some(Loc { file, span: 0..0 }))
                .help("add a `[pgbouncer]` section with at least `listen_port` and `auth_type`"),
        );
    }
    Ok(doc)
}

/// The section the next `key = value` belongs to.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Current {
    NoSection,
    Known(Section),
    /// An unknown `[name]`: its lines are skipped (already reported).
    Unknown,
}

/// Whether reading goes on after a file.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Flow {
    Continue,
    Stop,
}

struct Reader<'a> {
    cwd: &'a Path,
    sources: &'a mut SourceMap,
    doc: IniDocument,
    current: Current,
    /// Files being read (outermost first), by identity, for the cycle check.
    stack: Vec<(PathBuf, FileId)>,
    /// An include could not be followed: the section it may have opened is unknown.
    include_missed: bool,
    /// Files read completely, by identity: each is read once, however often it is included
    /// (10 files each including the next 6 times would otherwise be 6^10 reads).
    done: std::collections::HashMap<PathBuf, FileId>,
}

/// C `isspace` in the "C" locale (includes `\v` and `\f`, unlike `u8::is_ascii_whitespace`).
fn c_isspace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

fn is_key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'*')
}

/// The same file however it is named (`./a.ini`, `a.ini`, a symlink): its canonical path when it
/// exists, else the path as given.
fn file_identity(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// A forward-only position in one file that counts lines as it moves, so line numbers cost
/// nothing extra (the whole read stays linear).
struct Cursor<'t> {
    bytes: &'t [u8],
    pos: usize,
    /// 1-based line of `pos`.
    line: usize,
    /// Byte offset where `pos`'s line starts.
    line_start: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn at(&self, offset: usize) -> Option<u8> {
        self.bytes.get(self.pos + offset).copied()
    }

    fn bump(&mut self) {
        if let Some(b) = self.peek() {
            if b == b'\n' {
                self.line += 1;
                self.line_start = self.pos + 1;
            }
            self.pos += 1;
        }
    }

    fn skip_while(&mut self, f: impl Fn(u8) -> bool) {
        while self.peek().is_some_and(&f) {
            self.bump();
        }
    }

    /// End of the current line (the `\n` or the end of text), without moving.
    fn line_end(&self) -> usize {
        line_end_from(self.bytes, self.pos)
    }
}

/// `start..end` with trailing C whitespace removed.
fn trim_end(bytes: &[u8], start: usize, mut end: usize) -> usize {
    while end > start && c_isspace(bytes[end - 1]) {
        end -= 1;
    }
    end
}

impl Reader<'_> {
    fn file(&mut self, file: FileId, identity: PathBuf) -> Result<Flow, InputError> {
        self.doc.files.push(file);
        self.doc
            .directives
            .push(directives::scan(file, self.sources, &[';', '#'])?);
        self.stack.push((identity, file));
        let text = self.sources.get(file).text.clone();
        let flow = self.lines(file, &text)?;
        if let Some((identity, file)) = self.stack.pop() {
            self.done.insert(identity, file);
        }
        Ok(flow)
    }

    fn loc(file: FileId, span: std::ops::Range<usize>) -> Loc {
        Loc { file, span }
    }

    fn stop(&mut self, finding: Diagnostic) -> Flow {
        self.doc.stopped_at = finding.primary.clone();
        self.doc.findings.push(finding);
        Flow::Stop
    }

    /// The loop of `parse_ini_file_internal`, statement for statement.
    fn lines(&mut self, file: FileId, text: &str) -> Result<Flow, InputError> {
        let bytes = text.as_bytes();
        let mut c = Cursor {
            bytes,
            pos: 0,
            line: 1,
            line_start: 0,
        };
        loop {
            c.skip_while(c_isspace);
            let Some(first) = c.peek() else {
                return Ok(Flow::Continue);
            };
            if bytes[c.pos..].starts_with(b"%include") && matches!(c.at(8), Some(b' ' | b'\t')) {
                let directive_start = c.pos;
                for _ in 0..8 {
                    c.bump();
                }
                c.skip_while(|b| b == b' ' || b == b'\t');
                let path_start = c.pos;
                let end = c.line_end();
                let path_end = trim_end(bytes, path_start, end);
                while c.pos < end {
                    c.bump();
                }
                let flow = self.include(
                    file,
                    directive_start..path_end,
                    path_start..path_end,
                    &text[path_start..path_end],
                )?;
                if flow == Flow::Stop {
                    return Ok(Flow::Stop);
                }
                continue;
            }
            match first {
                b'#' | b';' => {
                    let end = c.line_end();
                    while c.pos < end {
                        c.bump();
                    }
                }
                b'[' => {
                    let open = c.pos;
                    c.bump();
                    c.skip_while(|b| b != b']' && b != b'\n');
                    if c.peek() != Some(b']') {
                        let span = open..trim_end(bytes, open, c.pos);
                        return Ok(self.stop(syntax_error(
                            text,
                            Self::loc(file, span),
                            "a section header without its closing `]`",
                            "close it: `[databases]`",
                        )));
                    }
                    let name = &text[open + 1..c.pos];
                    c.bump();
                    self.section(name, Self::loc(file, open..c.pos));
                }
                _ => {
                    if let Some(finding) = self.entry(file, text, &mut c) {
                        return Ok(self.stop(finding));
                    }
                }
            }
        }
    }

    fn section(&mut self, name: &str, loc: Loc) {
        let section = Section::parse(name);
        self.current = match section {
            Some(s) => {
                if s == Section::Pgbouncer {
                    self.doc.main_section_found = true;
                }
                Current::Known(s)
            }
            None => {
                let help = match Section::ALL
                    .iter()
                    .find(|s| s.name().eq_ignore_ascii_case(name.trim()))
                {
                    Some(s) => format!("section names are case-sensitive and take no blanks: write `[{}]`", s.name()),
                    None => "PgBouncer knows [pgbouncer], [databases], [users] and (from 1.19) [peers]; remove or rename this section".to_string(),
                };
                self.doc.findings.push(
                    Diagnostic::new(
                        "CAT008",
                        Severity::Error,
                        format!("invalid section \"{name}\": PgBouncer refuses to start with it; its lines were not checked"),
                    )
                    .at(Some(loc.clone()))
                    .help(help),
                );
                Current::Unknown
            }
        };
        self.doc.sections.push(IniSection {
            name: name.to_string(),
            loc,
            section,
        });
    }

    /// A `key = value` line at the cursor; `Some(finding)` when it is a syntax error.
    fn entry(&mut self, file: FileId, text: &str, c: &mut Cursor<'_>) -> Option<Diagnostic> {
        let bytes = text.as_bytes();
        let line = c.line;
        let key_start = c.pos;
        let (key, key_quoted) = if c.peek() == Some(b'\'') {
            c.bump();
            c.skip_while(|b| b != b'\'');
            if c.peek() != Some(b'\'') || c.pos == key_start + 1 {
                let end = trim_end(bytes, key_start, line_end_from(bytes, key_start));
                return Some(syntax_error(
                    text,
                    Self::loc(file, key_start..safe_end(text, key_start, end)),
                    "a quoted key without its closing quote, or an empty one",
                    "write the name between single quotes: 'my db' = …",
                ));
            }
            c.bump();
            (text[key_start + 1..c.pos - 1].to_string(), true)
        } else {
            c.skip_while(is_key_char);
            (text[key_start..c.pos].to_string(), false)
        };
        let key_end = c.pos;
        c.skip_while(|b| b == b' ' || b == b'\t');
        if c.peek() != Some(b'=') || (key.is_empty() && !key_quoted) {
            let bad = c.pos;
            let end = trim_end(bytes, bad, c.line_end());
            let (span, what) = if key.is_empty() && c.peek() == Some(b'=') {
                (bad..bad + 1, "a `=` without a key before it")
            } else if end > bad {
                (
                    key_start..end,
                    "not a `key = value`, a `[section]` or a comment",
                )
            } else {
                (key_start..key_end, "a key without `= value`")
            };
            let help = if text[key_start..end.max(key_start)].contains("${") {
                "this looks like an unrendered template placeholder: render the template before PgBouncer reads the file"
            } else if key_end > key_start && end > bad && c.peek() != Some(b'=') {
                "keys may only hold letters, digits and _ . * - (a database name with other characters needs single quotes and PgBouncer ≥ 1.25); turn prose into a `;` comment"
            } else {
                "write `key = value`, a `[section]`, `%include file`, or start the line with `;` to make it a comment"
            };
            return Some(syntax_error(text, Self::loc(file, span), what, help));
        }
        c.bump();
        let after_eq = c.pos;
        c.skip_while(|b| b == b' ' || b == b'\t');
        let end = c.line_end();
        let value_end = trim_end(bytes, c.pos, end);
        // An empty value is shown right after its `=`.
        let (value_start, value_end) = if value_end == c.pos {
            (after_eq, after_eq)
        } else {
            (c.pos, value_end)
        };
        while c.pos < end {
            c.bump();
        }
        let key_loc = Self::loc(file, key_start..key_end);
        match self.current {
            Current::Known(section) => self.doc.entries.push(IniEntry {
                section,
                key,
                key_loc,
                key_quoted,
                value: text[value_start..value_end].to_string(),
                value_loc: Self::loc(file, value_start..value_end),
                line,
            }),
            Current::Unknown => {}
            // The unread include may have opened a section for this line.
            Current::NoSection if self.include_missed => {}
            Current::NoSection => self.doc.findings.push(
                Diagnostic::new(
                    "CAT008",
                    Severity::Error,
                    format!("`{key}` comes before any section: PgBouncer refuses it (value without section)"),
                )
                .at(Some(key_loc))
                .help("put a section header above it, usually `[pgbouncer]`"),
            ),
        }
        None
    }

    fn include(
        &mut self,
        file: FileId,
        line_span: std::ops::Range<usize>,
        path_span: std::ops::Range<usize>,
        written: &str,
    ) -> Result<Flow, InputError> {
        let at = Self::loc(file, path_span.clone());
        if written.is_empty() {
            return Ok(self.stop(
                Diagnostic::new(
                    "CAT008",
                    Severity::Error,
                    "`%include` names no file: PgBouncer stops loading here",
                )
                .at(Some(Self::loc(file, line_span)))
                .help("write the path after `%include `, or remove the line"),
            ));
        }
        let resolved = self.cwd.join(written);
        let identity = file_identity(&resolved);
        if let Some(index) = self.stack.iter().position(|(id, _)| *id == identity) {
            let name = |id: FileId| self.sources.get(id).display.clone();
            let again = name(self.stack[index].1);
            let via: Vec<String> = self.stack[index + 1..]
                .iter()
                .map(|(_, id)| name(*id))
                .collect();
            let msg = if via.is_empty() {
                format!("include cycle: {again} includes itself")
            } else {
                format!(
                    "include cycle: {again} includes itself via {}",
                    via.join(" and ")
                )
            };
            return Ok(self.stop(
                Diagnostic::new(
                    "CAT008",
                    Severity::Error,
                    format!("{msg}: PgBouncer follows it until `include nesting level too deep` and refuses to start"),
                )
                .at(Some(at))
                .help("remove this `%include`"),
            ));
        }
        if let Some(&earlier) = self.done.get(&identity) {
            let shown = self.sources.get(earlier).display.clone();
            self.doc.findings.push(
                Diagnostic::new(
                    "CAT006",
                    Severity::Warning,
                    format!("`%include {written}` again: {shown} was already read; PgBouncer reads it again here (its settings win again over anything set since), poolstack reads each file once"),
                )
                .at(Some(at))
                .help("include each file once"),
            );
            return Ok(Flow::Continue);
        }
        // The top-level file is depth 0; cfparser refuses an include from depth MAX_INCLUDE.
        if self.stack.len() > MAX_INCLUDE_DEPTH {
            return Ok(self.stop(
                Diagnostic::new(
                    "CAT008",
                    Severity::Error,
                    format!("`%include {written}` nests includes deeper than {MAX_INCLUDE_DEPTH} files: PgBouncer stops loading (include nesting level too deep)"),
                )
                .at(Some(at))
                .help("include the files from fewer levels, e.g. all from the top-level file"),
            ));
        }
        let missing = matches!(std::fs::metadata(&resolved), Err(e) if e.kind() == std::io::ErrorKind::NotFound);
        if missing {
            self.doc.findings.push(
                Diagnostic::new(
                    "FIL004",
                    Severity::Warning,
                    format!("could not load file \"{written}\": no such file here; its settings were not checked"),
                )
                .at(Some(at))
                .help(format!(
                    "PgBouncer resolves `%include` against the directory it is started from ({} here): run poolstack from that directory so the file is checked; where the file is missing, PgBouncer refuses to start",
                    self.cwd.display()
                )),
            );
            self.include_missed = true;
            return Ok(Flow::Continue);
        }
        match text::read(&resolved) {
            Ok(contents) => {
                let included = self.sources.add(&resolved, contents);
                self.file(included, identity)
            }
            Err(e) => {
                self.doc.findings.push(
                    Diagnostic::new(
                        "FIL004",
                        Severity::Warning,
                        format!("could not load file \"{written}\": {}; its settings were not checked", e.message),
                    )
                    .at(Some(at))
                    .help("PgBouncer refuses to start when it cannot read an included file: include a readable text file"),
                );
                self.include_missed = true;
                Ok(Flow::Continue)
            }
        }
    }
}

/// End of the line holding `pos` (its `\n`, or the end of text).
fn line_end_from(bytes: &[u8], pos: usize) -> usize {
    bytes[pos..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| pos + i)
}

/// `end` moved back to a char boundary of `text` (and never before `start`).
fn safe_end(text: &str, start: usize, mut end: usize) -> usize {
    end = end.min(text.len());
    while end > start && !text.is_char_boundary(end) {
        end -= 1;
    }
    end
}

/// CAT008 for a line cfparser refuses; `text` is the file's, to quote the line.
fn syntax_error(text: &str, loc: Loc, what: &str, help: &str) -> Diagnostic {
    let written = text.get(loc.span.clone()).unwrap_or("");
    // Editors on Windows may start a file with a UTF-8 byte-order mark: invisible, but
    // PgBouncer reads it as part of the first line.
    if loc.span.start == 0 && written.starts_with('\u{feff}') {
        return Diagnostic::new(
            "CAT008",
            Severity::Error,
            "syntax error on the first line: the file starts with a UTF-8 byte-order mark, which PgBouncer reads as part of the line; PgBouncer refuses the file",
        )
        .at(Some(Loc {
            file: loc.file,
            span: 0..'\u{feff}'.len_utf8(),
        }))
        .help("save the file as UTF-8 without a byte-order mark (BOM)");
    }
    let shown = match written.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &written[..cut]),
        None => written.to_string(),
    };
    Diagnostic::new(
        "CAT008",
        Severity::Error,
        format!("syntax error at `{shown}`: {what}; PgBouncer refuses the file and stops loading here (nothing after this line was checked)"),
    )
    .at(Some(loc))
    .help(help)
}

mod connstr;
pub use connstr::{ConnstrError, ConnstrErrorKind, ConnstrPair, parse_connstr};

#[cfg(test)]
mod tests;
