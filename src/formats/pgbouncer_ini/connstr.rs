//! Connection strings: the values of `[databases]`, `[users]` and `[peers]` entries, split
//! the way src/loader.c's `cstr_get_pair` splits them.

use super::c_isspace;
use crate::source::Loc;

/// One `key=value` of a connection string (`[databases]`, `[users]`, `[peers]` values).
#[derive(Debug, Clone, PartialEq)]
pub struct ConnstrPair {
    pub key: String,
    pub key_loc: Loc,
    /// Unquoted: `'it''s'` is `it's`.
    pub value: String,
    /// The value as written, quotes included.
    pub value_loc: Loc,
    pub quoted: bool,
}

/// What is wrong with a connection string (PgBouncer: `syntax error in connection string`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnstrErrorKind {
    /// A word without `=` (or `=` without a key before it).
    MissingEquals,
    /// `key=` at the end, or `key=''`: PgBouncer disallows empty values.
    EmptyValue,
    /// A `'` that is never closed.
    UnterminatedQuote,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConnstrError {
    pub kind: ConnstrErrorKind,
    pub message: String,
    pub loc: Loc,
}

/// Split a connection string the way loader.c's `cstr_get_pair` does: pairs separated by
/// whitespace, blanks around `=` allowed, a value single-quoted with `''` for a quote (text
/// inside quotes is neither a separator nor a comment), double quotes literal. An unquoted
/// value ends at the next space only; `a= b=1` gives `a` the value `b=1`, as in PgBouncer.
/// `value_loc` is where `value` sits in its file.
pub fn parse_connstr(value: &str, value_loc: &Loc) -> Result<Vec<ConnstrPair>, ConnstrError> {
    let bytes = value.as_bytes();
    let base = value_loc.span.start;
    let loc = |r: std::ops::Range<usize>| Loc {
        file: value_loc.file,
        span: base + r.start..base + r.end,
    };
    let err = |kind, message: String, r: std::ops::Range<usize>| ConnstrError {
        kind,
        message,
        loc: loc(r),
    };
    let skip_ws = |mut p: usize| {
        while p < bytes.len() && c_isspace(bytes[p]) {
            p += 1;
        }
        p
    };
    let mut out = Vec::new();
    let mut p = skip_ws(0);
    while p < bytes.len() {
        let key_start = p;
        while p < bytes.len() && bytes[p] != b'=' && !c_isspace(bytes[p]) {
            p += 1;
        }
        let key_end = p;
        p = skip_ws(p);
        if p >= bytes.len() || bytes[p] != b'=' || key_start == key_end {
            let (span, what) = if key_start == key_end {
                (p..(p + 1).min(bytes.len()), "`=` without a key".to_string())
            } else {
                (
                    key_start..key_end,
                    format!("`{}` has no `=value`", &value[key_start..key_end]),
                )
            };
            return Err(err(
                ConnstrErrorKind::MissingEquals,
                format!("syntax error in connection string: {what}"),
                span,
            ));
        }
        let eq = p;
        p = skip_ws(p + 1);
        let value_start = p;
        let (text, quoted) = if bytes.get(p) == Some(&b'\'') {
            p += 1;
            let mut unquoted = Vec::new();
            loop {
                match bytes.get(p) {
                    None => {
                        return Err(err(
                            ConnstrErrorKind::UnterminatedQuote,
                            format!(
                                "the quoted value of `{}` is never closed",
                                &value[key_start..key_end]
                            ),
                            value_start..bytes.len(),
                        ));
                    }
                    Some(b'\'') if bytes.get(p + 1) == Some(&b'\'') => {
                        unquoted.push(b'\'');
                        p += 2;
                    }
                    Some(b'\'') => {
                        p += 1;
                        break;
                    }
                    Some(&b) => {
                        unquoted.push(b);
                        p += 1;
                    }
                }
            }
            (String::from_utf8_lossy(&unquoted).into_owned(), true)
        } else {
            while p < bytes.len() && bytes[p] != b' ' {
                p += 1;
            }
            (value[value_start..p].to_string(), false)
        };
        let value_end = p;
        if text.is_empty() {
            return Err(err(
                ConnstrErrorKind::EmptyValue,
                format!(
                    "`{}` has an empty value, which PgBouncer refuses (syntax error in connection string)",
                    &value[key_start..key_end]
                ),
                key_start..(eq + 1).max(value_end),
            ));
        }
        out.push(ConnstrPair {
            key: value[key_start..key_end].to_string(),
            key_loc: loc(key_start..key_end),
            value: text,
            value_loc: loc(value_start..value_end),
            quoted,
        });
        // cstr_get_value cuts (and so skips) the one character after a value.
        if p < bytes.len() {
            p += 1;
            while p < bytes.len() && !value.is_char_boundary(p) {
                p += 1;
            }
        }
        p = skip_ws(p);
    }
    Ok(out)
}
