//! postgresql.conf as PostgreSQL reads it: the lexer of `guc-file.l` ([`lex`]), the line
//! grammar of `ParseConfigFp` (`name [=] value [# comment]`), and the include directives
//! (`include`, `include_if_exists`, `include_dir`) processed in place, with every position kept.
//!
//! Facts: `../shared/reference/postgres/conf-syntax.md` (verified on PostgreSQL 15.18).

mod includes;
mod lex;
mod syntax;

use crate::diag::{Diagnostic, InputError};
use crate::formats::directives::Directives;
use crate::formats::text;
use crate::source::{FileId, Loc, SourceMap};
use std::path::Path;

pub use lex::deescape;

/// A postgresql.conf and every file it includes.
#[derive(Debug, Clone, Default)]
pub struct ConfDocument {
    /// Files read: the top-level file first, then included files in the order read.
    pub files: Vec<FileId>,
    /// Every `name [=] value` line in include-expanded order (the include directives
    /// themselves are not entries).
    pub entries: Vec<ConfEntry>,
    /// Syntax errors (CAT008) and include problems (FIL004 warning: a missing `include` file or
    /// `include_dir` directory; CAT008: nesting deeper than 10, recursion), in order.
    pub findings: Vec<Diagnostic>,
    /// `poolstack:` directives of every file read, in the order read.
    pub directives: Vec<Directives>,
}

/// One `name [=] value` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfEntry {
    /// The name as written (PostgreSQL compares names case-insensitively).
    pub name: String,
    pub name_loc: Loc,
    /// The value as PostgreSQL receives it: de-quoted and de-escaped.
    pub value: String,
    /// The whole value token, quotes included.
    pub value_loc: Loc,
    pub token: ValueToken,
    /// 1-based line of the name.
    pub line: usize,
}

/// The kind of token a value was written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueToken {
    /// A bare identifier (`on`, `replica`).
    Id,
    /// A single-quoted string.
    String,
    /// Digits (or `0x` hex) with optional trailing unit letters (`7GB`).
    Integer,
    /// A number with a `.` (`0.5`, `.5`, `1.0e1`).
    Real,
    /// A bare word with `-._:/` inside (`my-cluster.v1:prod/a`).
    Unquoted,
}

/// Read the postgresql.conf at `path` and every file it includes. The only error is a
/// top-level file that cannot be read as text (or a malformed `poolstack:` comment); problems
/// with included files are findings.
pub fn read(path: &Path, sources: &mut SourceMap) -> Result<ConfDocument, InputError> {
    let text = text::read(path)?;
    let file = sources.add(path, text);
    parse(file, sources)
}

/// Parse `file`, whose text is already in `sources`; includes resolve against the file's own
/// directory and the files they name are added to `sources`.
pub fn parse(file: FileId, sources: &mut SourceMap) -> Result<ConfDocument, InputError> {
    let mut reader = includes::Reader::new(sources);
    reader.read_top(file)?;
    Ok(reader.finish())
}

/// Quote `s` as a postgresql.conf string: single quotes, inner quotes doubled, backslashes
/// escaped (DeescapeQuotedString would otherwise read `\t` as a tab).
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

/// How to write `value` in postgresql.conf so that PostgreSQL reads it back unchanged: bare
/// when it lexes as one whole value token (`100`, `7GB`, `replica`, `a.b.c`), else quoted.
/// `pg_catalog.english` is quoted: a lone `ident.ident` is not accepted as a value.
pub fn conf_value(value: &str) -> String {
    let mut lexer = lex::Lexer::new(value);
    let bare = match (lexer.next_token(), lexer.next_token()) {
        (Some(t), None) => {
            t.start == 0
                && t.end == value.len()
                && matches!(
                    t.kind,
                    lex::Tok::Id | lex::Tok::Integer | lex::Tok::Real | lex::Tok::Unquoted
                )
        }
        _ => false,
    };
    if bare {
        value.to_string()
    } else {
        quote(value)
    }
}

#[cfg(test)]
mod tests;
