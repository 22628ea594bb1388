//! `.env` files as the apps' loaders read them (python-dotenv, docker compose `env_file`): a
//! reader that keeps spans.
//!
//! - `KEY=VALUE` lines, with an optional `export ` prefix and blanks around `=`; blank lines and
//!   lines starting with `#` are skipped.
//! - Unquoted values end at ` #` (a comment needs a blank before it) and are trimmed.
//! - `'single'` quotes are literal; `"double"` quotes understand `\"`, `\\`, `\n`, `\t`, `\r`.
//!   Text after the closing quote may only be blanks or a `#` comment.
//! - A key repeated: the last one wins (both loaders do so).
//!
//! Variable references (`${POSTGRES_PASSWORD}`) are kept as written: poolstack never expands
//! them, so a password only ever appears here by reference.

use crate::diag::{Diagnostic, Severity};
use crate::source::{FileId, Loc};

/// One `KEY=VALUE` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvEntry {
    pub key: String,
    pub key_loc: Loc,
    /// The value after unquoting.
    pub value: String,
    /// The value as written (quotes included; an empty span after `=` for an empty value).
    pub value_loc: Loc,
    pub line: usize,
}

/// A parsed `.env` file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvFile {
    pub entries: Vec<EnvEntry>,
    /// Lines no loader reads as `KEY=VALUE` (CAT008).
    pub findings: Vec<Diagnostic>,
}

impl EnvFile {
    /// The value a loader ends up with for `key` (the last entry).
    pub fn get(&self, key: &str) -> Option<&EnvEntry> {
        self.entries.iter().rev().find(|e| e.key == key)
    }
}

/// Parse `text`, the contents of `file`.
pub fn parse(file: FileId, text: &str) -> EnvFile {
    let mut out = EnvFile::default();
    let mut offset = 0;
    for (index, raw_line) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += raw_line.len();
        let line = raw_line.trim_end_matches(['\n', '\r']);
        let loc = |a: usize, b: usize| Loc {
            file,
            span: start + a..start + b,
        };
        let body_start = line.len() - line.trim_start().len();
        let body = line.trim_start();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let (body, body_start) = match body.strip_prefix("export") {
            Some(rest) if rest.starts_with([' ', '\t']) => {
                let skip = rest.len() - rest.trim_start().len();
                (rest.trim_start(), body_start + "export".len() + skip)
            }
            _ => (body, body_start),
        };
        let bad = |msg: String, a: usize, b: usize, help: &str| {
            Diagnostic::new("CAT008", Severity::Error, msg)
                .at(Some(loc(a, b)))
                .help(help.to_string())
        };
        let Some(eq) = body.find('=') else {
            out.findings.push(bad(
                format!(
                    "`{}` is not a KEY=VALUE line: the loader skips or rejects it",
                    shorten(body)
                ),
                body_start,
                body_start + body.len(),
                "write KEY=VALUE, or start the line with `#` to make it a comment",
            ));
            continue;
        };
        let key = body[..eq].trim_end();
        let key_ok = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
            && !key.starts_with(|c: char| c.is_ascii_digit());
        if !key_ok {
            out.findings.push(bad(
                format!("`{}` is not a variable name", shorten(key)),
                body_start,
                body_start + key.len().max(1),
                "variable names are letters, digits and `_`, not starting with a digit",
            ));
            continue;
        }
        let after_eq = &body[eq + 1..];
        let lead = after_eq.len() - after_eq.trim_start().len();
        let v_start = body_start + eq + 1 + lead;
        let rest = after_eq.trim_start();
        let parsed = match rest.chars().next() {
            Some(q @ ('\'' | '"')) => quoted(rest, q),
            _ => {
                // An unquoted value ends at a `#` that follows a blank.
                let end = rest
                    .char_indices()
                    .find(|&(i, c)| c == '#' && i > 0 && rest[..i].ends_with([' ', '\t']))
                    .map_or(rest.len(), |(i, _)| i);
                let value = rest[..end].trim_end();
                Ok((value.to_string(), value.len()))
            }
        };
        match parsed {
            Ok((value, len)) => out.entries.push(EnvEntry {
                key: key.to_string(),
                key_loc: loc(body_start, body_start + key.len()),
                value,
                value_loc: loc(v_start, v_start + len),
                line: index + 1,
            }),
            Err(QuoteError::Unterminated) => out.findings.push(bad(
                format!("the value of `{key}` opens a quote that this line never closes"),
                v_start,
                v_start + rest.len(),
                "close the quote on the same line",
            )),
            Err(QuoteError::TrailingText(at)) => out.findings.push(bad(
                format!("text after the closing quote of `{key}`'s value"),
                v_start + at,
                v_start + rest.len(),
                "put everything inside the quotes, or start a comment with ` #`",
            )),
        }
    }
    out
}

enum QuoteError {
    Unterminated,
    /// Byte offset (in the value text) of the stray text.
    TrailingText(usize),
}

/// A quoted value: its unquoted text and the length of the quoted token.
fn quoted(rest: &str, q: char) -> Result<(String, usize), QuoteError> {
    let mut value = String::new();
    let mut chars = rest.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        if c == q {
            let end = i + 1;
            let tail = rest[end..].trim_start();
            if !tail.is_empty() && !tail.starts_with('#') {
                return Err(QuoteError::TrailingText(rest.len() - tail.len()));
            }
            return Ok((value, end));
        }
        if c == '\\' && q == '"' {
            match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, 't')) => value.push('\t'),
                Some((_, 'r')) => value.push('\r'),
                Some((_, e)) => value.push(e),
                None => return Err(QuoteError::Unterminated),
            }
            continue;
        }
        value.push(c);
    }
    Err(QuoteError::Unterminated)
}

fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceMap;
    use proptest::prelude::*;
    use std::path::Path;

    fn read(text: &str) -> (SourceMap, EnvFile) {
        let mut sources = SourceMap::default();
        let file = sources.add(Path::new(".env"), text.to_string());
        let env = parse(file, text);
        (sources, env)
    }

    fn at(sources: &SourceMap, loc: &Loc) -> String {
        sources.get(loc.file).text[loc.span.clone()].to_string()
    }

    #[test]
    fn the_seeds_env_reads_as_its_loader_does() {
        let text = "# Enable/disable PgBouncer\nUSE_PGBOUNCER=true\n\nDB_POOL_SIZE=5\nDB_PREPARE_THRESHOLD=0      # Disable prepared statements\r\nexport DB_CONNECT_TIMEOUT = 10\n";
        let (sources, env) = read(text);
        assert!(env.findings.is_empty(), "{:?}", env.findings);
        let got: Vec<(&str, &str, usize)> = env
            .entries
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str(), e.line))
            .collect();
        assert_eq!(
            got,
            [
                ("USE_PGBOUNCER", "true", 2),
                ("DB_POOL_SIZE", "5", 4),
                ("DB_PREPARE_THRESHOLD", "0", 5),
                ("DB_CONNECT_TIMEOUT", "10", 6)
            ]
        );
        let e = env.get("DB_PREPARE_THRESHOLD").unwrap();
        assert_eq!(at(&sources, &e.value_loc), "0");
        assert_eq!(at(&sources, &e.key_loc), "DB_PREPARE_THRESHOLD");
    }

    #[test]
    fn quotes_references_and_hashes() {
        let text = "A='x # y'\nB=\"say \\\"hi\\\"\" # c\nURL=postgresql://u:${PW}@h:6432/db\nC=a#b\nA=last\nD=\n";
        let (sources, env) = read(text);
        assert!(env.findings.is_empty(), "{:?}", env.findings);
        assert_eq!(env.get("A").unwrap().value, "last");
        assert_eq!(env.entries[0].value, "x # y");
        assert_eq!(at(&sources, &env.entries[0].value_loc), "'x # y'");
        assert_eq!(env.get("B").unwrap().value, "say \"hi\"");
        assert_eq!(
            env.get("URL").unwrap().value,
            "postgresql://u:${PW}@h:6432/db"
        );
        assert_eq!(env.get("C").unwrap().value, "a#b");
        assert_eq!(env.get("D").unwrap().value, "");
    }

    #[test]
    fn lines_no_loader_reads_are_cat008() {
        for (text, needle, pointed) in [
            ("just words\n", "not a KEY=VALUE line", "just words"),
            ("A='open\n", "never closes", "'open"),
            ("A='x' y\n", "after the closing quote", "y"),
            ("1A=x\n", "not a variable name", "1A"),
        ] {
            let (sources, env) = read(text);
            assert_eq!(env.findings.len(), 1, "{text}");
            let d = &env.findings[0];
            assert_eq!(d.code, "CAT008");
            assert!(d.message.contains(needle), "{}", d.message);
            assert_eq!(at(&sources, d.primary.as_ref().unwrap()), pointed, "{text}");
        }
    }

    proptest! {
        #[test]
        fn never_panics_and_spans_stay_in_the_text(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let (_, env) = read(&text);
            for e in &env.entries {
                prop_assert!(text.get(e.key_loc.span.clone()).is_some());
                prop_assert!(text.get(e.value_loc.span.clone()).is_some());
            }
            for d in &env.findings {
                let span = d.primary.as_ref().unwrap().span.clone();
                prop_assert!(text.get(span).is_some());
            }
        }
    }
}
