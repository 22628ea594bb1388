//! `ParseConfigFp`'s line grammar over the tokens of one file: `NAME [=] VALUE EOL`, or a blank
//! or comment line. A bad line is reported (PostgreSQL's own "syntax error … near token" text)
//! and skipped up to its end; like PostgreSQL, a file is abandoned after 100 syntax errors.

use super::lex::{Lexer, Tok, Token, deescape};
use super::{ConfEntry, ValueToken, quote};
use crate::catalog::postgres::{MEMORY_UNITS, TIME_UNITS};
use crate::diag::{Diagnostic, Severity};
use crate::source::{FileId, Loc};

/// PostgreSQL gives up on a file after this many syntax errors (an arbitrary number in
/// guc-file.l, kept so the reader reports what the server reports).
const MAX_SYNTAX_ERRORS: usize = 100;

/// What one line of a file holds, in file order.
pub enum Item {
    Setting(ConfEntry),
    Error(Diagnostic),
}

/// Where in the line grammar the parser was when a token did not fit.
enum Expected {
    Name,
    Value { name: Token },
    End { name: Token, value: Token },
}

pub fn parse_file(file: FileId, text: &str) -> Vec<Item> {
    let mut lexer = Lexer::new(text);
    let mut items = Vec::new();
    let mut errors = 0;
    let loc = |t: &Token| Loc {
        file,
        span: t.start..t.end,
    };
    while let Some(first) = lexer.next_token() {
        if first.kind == Tok::Eol {
            continue;
        }
        let line = lexer.line;
        if first.start == 0 && text.starts_with('\u{feff}') {
            items.push(Item::Error(bom_finding(Loc {
                file,
                span: 0..'\u{feff}'.len_utf8(),
            })));
            errors += 1;
            skip_line(&mut lexer, Some(first));
            continue;
        }
        match parse_line(&mut lexer, first) {
            Ok((name, value, token)) => {
                let raw = &text[value.start..value.end];
                items.push(Item::Setting(ConfEntry {
                    name: text[name.start..name.end].to_string(),
                    name_loc: loc(&name),
                    value: if token == ValueToken::String {
                        deescape(raw)
                    } else {
                        raw.to_string()
                    },
                    value_loc: loc(&value),
                    token,
                    line,
                }));
            }
            Err((expected, bad)) => {
                items.push(Item::Error(syntax_error(
                    file,
                    text,
                    &expected,
                    bad.as_ref(),
                )));
                errors += 1;
                if errors >= MAX_SYNTAX_ERRORS {
                    let at = bad.as_ref().map_or(text.len(), |t| t.start);
                    items.push(Item::Error(
                        Diagnostic::new(
                            "CAT008",
                            Severity::Error,
                            "too many syntax errors found: PostgreSQL abandons the rest of this file",
                        )
                        .at(Some(Loc {
                            file,
                            span: at..at,
                        }))
                        .help("fix the errors above; nothing after this point was read"),
                    ));
                    break;
                }
                skip_line(&mut lexer, bad);
            }
        }
    }
    items
}

/// The name, value token and value kind of a line that starts with `first`, or where in the
/// grammar it went wrong and the token that did not fit (`None` at the end of the file).
type Line = (Token, Token, ValueToken);

fn parse_line(lexer: &mut Lexer<'_>, first: Token) -> Result<Line, (Expected, Option<Token>)> {
    if !matches!(first.kind, Tok::Id | Tok::QualifiedId) {
        return Err((Expected::Name, Some(first)));
    }
    let name = first;
    let mut next = lexer.next_token();
    // The `=` is optional.
    if next.as_ref().is_some_and(|t| t.kind == Tok::Equals) {
        next = lexer.next_token();
    }
    let Some((value, kind)) = next.and_then(|t| value_kind(t.kind).map(|k| (t, k))) else {
        return Err((Expected::Value { name }, next));
    };
    match lexer.next_token() {
        None => Ok((name, value, kind)),
        Some(t) if t.kind == Tok::Eol => Ok((name, value, kind)),
        Some(t) => Err((Expected::End { name, value }, Some(t))),
    }
}

/// Resync to the end of the line (or of the file), as ParseConfigFp does after an error.
fn skip_line(lexer: &mut Lexer<'_>, mut token: Option<Token>) {
    while let Some(t) = token {
        if t.kind == Tok::Eol {
            break;
        }
        token = lexer.next_token();
    }
}

fn value_kind(tok: Tok) -> Option<ValueToken> {
    Some(match tok {
        Tok::Id => ValueToken::Id,
        Tok::String => ValueToken::String,
        Tok::Integer => ValueToken::Integer,
        Tok::Real => ValueToken::Real,
        Tok::Unquoted => ValueToken::Unquoted,
        _ => return None,
    })
}

/// The rest of the line from `start`, without a trailing comment or whitespace.
fn rest_of_line(text: &str, start: usize) -> &str {
    let rest = &text[start..];
    let end = rest.find(['\n', '#']).unwrap_or(rest.len());
    rest[..end].trim_end()
}

/// A lone `'` token: a string without its closing quote on the same line (why, help).
const UNTERMINATED: (&str, &str) = (
    "the quoted string is not closed on this line (a string cannot span lines)",
    "close the quote before the end of the line; a quote inside is written `''`",
);

/// The CAT008 finding for a token that does not fit the line grammar.
fn syntax_error(file: FileId, text: &str, expected: &Expected, bad: Option<&Token>) -> Diagnostic {
    let here = |start: usize, end: usize| Loc {
        file,
        span: start..end,
    };
    let near = match bad {
        Some(t) if t.kind != Tok::Eol => format!("near token \"{}\"", &text[t.start..t.end]),
        _ => "near end of line".to_string(),
    };
    let error = |loc: Loc, why: String, help: String| {
        Diagnostic::new(
            "CAT008",
            Severity::Error,
            format!("syntax error {near}: {why}"),
        )
        .at(Some(loc))
        .help(help)
    };
    let Some(bad) = bad.filter(|t| t.kind != Tok::Eol) else {
        // Only a missing value ends a line early: a name alone, or `name =`.
        let (Expected::Value { name } | Expected::End { name, .. }) = expected else {
            return error(
                here(text.len(), text.len()),
                "the line ends early".into(),
                "write `name = value`".into(),
            );
        };
        let name_text = &text[name.start..name.end];
        return error(
            here(name.start, name.end),
            format!("`{name_text}` has no value"),
            format!(
                "give it a value, e.g. `{name_text} = 'value'`; an empty string is written `''`"
            ),
        );
    };
    let token = &text[bad.start..bad.end];
    let at = here(bad.start, bad.end);
    match expected {
        Expected::Name if bad.kind == Tok::Unquoted => error(
            at,
            format!("`{token}` is not a valid parameter name"),
            "a name is letters, digits and `_`, with at most one dot (`prefix.name` for an extension)".into(),
        ),
        Expected::Name => error(
            at,
            "a line must start with a parameter name".into(),
            "write `name = value`, or start a comment with `#`".into(),
        ),
        Expected::Value { .. } => match (bad.kind, token) {
            (Tok::QualifiedId, _) => error(
                at,
                format!("`{token}` (one dot between two words) is not accepted as an unquoted value"),
                format!("quote it: {}", quote(token)),
            ),
            (Tok::Error, "'") => error(at, UNTERMINATED.0.into(), UNTERMINATED.1.into()),
            (Tok::Equals, _) => error(
                at,
                "a second `=`".into(),
                "write `name = value`, with the value quoted if it contains `=`".into(),
            ),
            _ => {
                let value = rest_of_line(text, bad.start);
                if value.starts_with("${") {
                    return error(
                        at,
                        format!("`{value}` looks like an unrendered template placeholder"),
                        "render the file so the placeholder becomes a value".into(),
                    );
                }
                let why = if token == "\"" {
                    "PostgreSQL strings use single quotes, not double quotes".to_string()
                } else {
                    format!("`{token}` cannot start an unquoted value")
                };
                error(at, why, format!("quote the whole value: {}", quote(value)))
            }
        },
        Expected::End { value, .. } => {
            let value_text = &text[value.start..value.end];
            let number = !value_text.bytes().any(|b| b.is_ascii_alphabetic());
            let unit = bad.kind == Tok::Id
                && MEMORY_UNITS
                    .iter()
                    .chain(TIME_UNITS)
                    .any(|u| u.eq_ignore_ascii_case(token));
            let exponent = bad.start == value.end
                && bad.kind == Tok::Integer
                && value_text.ends_with(['e', 'E']);
            if (number && unit) || exponent {
                let whole = &text[value.start..bad.end];
                // docs/rules.md files an unquoted fractional size (`1.5GB`) under CAT002: the
                // value is meant as a value, only its spelling fails (PostgreSQL still says
                // `syntax error`, as the message does).
                let fractional = number && unit && bad.start == value.end && value_text.contains('.');
                let why = if exponent {
                    "a number with an exponent must be quoted".to_string()
                } else if bad.start == value.end {
                    "a unit can follow only a whole number unquoted; a fraction with a unit must be quoted".to_string()
                } else {
                    "a space between a number and its unit needs quotes".to_string()
                };
                let d = error(at, why, format!("quote it: {}", quote(whole)));
                if fractional {
                    Diagnostic {
                        code: "CAT002",
                        ..d
                    }
                } else {
                    d
                }
            } else if bad.kind == Tok::Error && token == "'" {
                error(at, UNTERMINATED.0.into(), UNTERMINATED.1.into())
            } else {
                let whole = rest_of_line(text, value.start);
                error(
                    at,
                    "a line holds one `name = value`, and this follows the value".into(),
                    format!(
                        "put each setting on its own line, or quote the whole value if it is one: {}",
                        quote(whole)
                    ),
                )
            }
        }
    }
}

/// PostgreSQL reads a UTF-8 byte-order mark as part of the first name and then reports
/// `unrecognized configuration parameter "\xEF\xBB\xBFshared_buffers"`.
pub fn bom_finding(at: Loc) -> Diagnostic {
    Diagnostic::new(
        "CAT008",
        Severity::Error,
        "the file starts with a UTF-8 byte-order mark: PostgreSQL reads it as part of the first name and reports an unrecognized configuration parameter",
    )
    .at(Some(at))
    .help("save the file as UTF-8 without a BOM")
}
