//! The comments poolstack reads in hand-written files:
//!
//! - `poolstack: postgres 16` / `poolstack: pgbouncer 1.18` declares the version the file is
//!   for (the catalog it is checked against; `--pg-version` / `--pgbouncer-version` win);
//! - `poolstack: ignore CODE[,CODE…] reason` suppresses those codes on the next line that is
//!   neither blank nor a comment (docs/rules.md: "on the line above the setting").
//!
//! Only whole-line comments count. The comment marker is the format's: `#` in postgresql.conf
//! and .env; `;` (or `#`) in pgbouncer.ini; `;` in userlist.txt, where a `#` line would make
//! PgBouncer stop reading the file.

use crate::catalog::pgbouncer::PgbVersion;
use crate::catalog::postgres::SUPPORTED_MAJORS;
use crate::diag::InputError;
use crate::source::{FileId, Loc, SourceMap};

/// A version declared in a file, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct Declared<T> {
    pub value: T,
    pub loc: Loc,
}

/// A `poolstack: ignore` comment: one code, for one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineSuppression {
    pub code: String,
    pub reason: String,
    /// The code as written in the comment (an unused suppression is reported there).
    pub loc: Loc,
    /// 1-based line the suppression covers; `None` when no setting follows the comment.
    pub line: Option<usize>,
}

/// Everything poolstack understood in one file's comments.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Directives {
    pub postgres_version: Option<Declared<u32>>,
    pub pgbouncer_version: Option<Declared<PgbVersion>>,
    pub suppressions: Vec<LineSuppression>,
}

/// Scan `file`'s text for directives in whole-line comments starting with one of `markers`.
/// A malformed directive (unknown verb, unsupported version, unknown rule code, no reason) is
/// an input error at its place: a typo in a suppression would otherwise hide nothing, silently.
pub fn scan(file: FileId, sources: &SourceMap, markers: &[char]) -> Result<Directives, InputError> {
    let text = &sources.get(file).text;
    let mut out = Directives::default();
    // Suppressions waiting for the next setting line.
    let mut pending: Vec<usize> = Vec::new();
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim_start();
        if trimmed.trim_end().is_empty() {
            continue;
        }
        let Some(marker) = trimmed.chars().next().filter(|c| markers.contains(c)) else {
            for i in pending.drain(..) {
                out.suppressions[i].line = Some(index + 1);
            }
            continue;
        };
        let body_start = start + (line.len() - trimmed.len()) + marker.len_utf8();
        let body = &text[body_start..start + line.trim_end().len()];
        let lead = body.len() - body.trim_start().len();
        let Some(rest) = body.trim_start().strip_prefix("poolstack:") else {
            continue;
        };
        let rest_start = body_start + lead + "poolstack:".len();
        let words = words(rest, rest_start);
        let here = |span: std::ops::Range<usize>| Loc { file, span };
        let err = |msg: String, span: std::ops::Range<usize>, help: &str| {
            InputError::located(msg, here(span), sources).with_help(help.to_string())
        };
        let Some((verb, verb_span)) = words.first().cloned() else {
            return Err(err(
                "an empty `poolstack:` comment".into(),
                rest_start..rest_start,
                "write `poolstack: ignore CODE reason`, or a version: `poolstack: postgres 16`, `poolstack: pgbouncer 1.18`",
            ));
        };
        match verb.to_ascii_lowercase().as_str() {
            "ignore" => {
                let Some((codes, codes_span)) = words.get(1).cloned() else {
                    return Err(err(
                        "`poolstack: ignore` names no rule".into(),
                        verb_span,
                        "write `poolstack: ignore CODE reason`",
                    ));
                };
                let reason = words
                    .get(2)
                    .map(|(_, s)| text[s.start..start + line.trim_end().len()].to_string())
                    .unwrap_or_default();
                if reason.is_empty() {
                    return Err(err(
                        format!("`poolstack: ignore {codes}` gives no reason"),
                        codes_span,
                        "say why after the code, so the next reader knows: `poolstack: ignore CAT005 octal on purpose`",
                    ));
                }
                let mut at = codes_span.start;
                for code in codes.split(',') {
                    let span = at..at + code.len();
                    at += code.len() + 1;
                    if code.is_empty() {
                        continue;
                    }
                    if crate::rules::find(code).is_none() {
                        let near = crate::catalog::closest(
                            &code.to_ascii_uppercase(),
                            crate::rules::registry().map(|r| r.code),
                        );
                        return Err(err(
                            format!("there is no rule `{code}`"),
                            span,
                            &match near {
                                Some(n) => format!(
                                    "did you mean `{n}`? `poolstack rules` lists every code"
                                ),
                                None => "`poolstack rules` lists every code".to_string(),
                            },
                        ));
                    }
                    pending.push(out.suppressions.len());
                    out.suppressions.push(LineSuppression {
                        code: code.to_ascii_uppercase(),
                        reason: reason.clone(),
                        loc: here(span),
                        line: None,
                    });
                }
            }
            "postgres" | "postgresql" => {
                let (v, span) = version_word(&words, &verb_span, "postgres 16")
                    .map_err(|(m, s, h)| err(m, s, &h))?;
                match v.parse::<u32>() {
                    Ok(major) if SUPPORTED_MAJORS.contains(&major) => {
                        out.postgres_version = Some(Declared {
                            value: major,
                            loc: here(span),
                        });
                    }
                    _ => {
                        return Err(err(
                            format!("`{v}` is not a PostgreSQL major version poolstack knows"),
                            span,
                            &format!(
                                "write a major version from {} to {}: `poolstack: postgres 16`",
                                SUPPORTED_MAJORS.start(),
                                SUPPORTED_MAJORS.end()
                            ),
                        ));
                    }
                }
            }
            "pgbouncer" => {
                let (v, span) = version_word(&words, &verb_span, "pgbouncer 1.18")
                    .map_err(|(m, s, h)| err(m, s, &h))?;
                match PgbVersion::parse(&v).filter(|p| p.is_supported()) {
                    Some(value) => {
                        out.pgbouncer_version = Some(Declared {
                            value,
                            loc: here(span),
                        });
                    }
                    None => {
                        return Err(err(
                            format!("`{v}` is not a PgBouncer version poolstack knows"),
                            span,
                            &format!(
                                "poolstack supports {}: `poolstack: pgbouncer 1.18`",
                                PgbVersion::supported_text()
                            ),
                        ));
                    }
                }
            }
            other => {
                return Err(err(
                    format!("unknown poolstack directive `{other}`"),
                    verb_span,
                    "poolstack understands `ignore CODE reason`, `postgres N` and `pgbouncer X.Y`",
                ));
            }
        }
    }
    Ok(out)
}

type Word = (String, std::ops::Range<usize>);

/// Whitespace-separated words of `s`, with spans offset by `base`.
fn words(s: &str, base: usize) -> Vec<Word> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices().chain(std::iter::once((s.len(), ' '))) {
        match (c.is_whitespace(), start) {
            (true, Some(st)) => {
                out.push((s[st..i].to_string(), base + st..base + i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    out
}

fn version_word(
    words: &[Word],
    verb_span: &std::ops::Range<usize>,
    example: &str,
) -> Result<Word, (String, std::ops::Range<usize>, String)> {
    match words {
        [_, v] => Ok(v.clone()),
        [_] => Err((
            "the version is missing".into(),
            verb_span.clone(),
            format!("write `poolstack: {example}`"),
        )),
        [_, _, extra, ..] => Err((
            format!("unexpected `{}` after the version", extra.0),
            extra.1.clone(),
            format!("write only the version: `poolstack: {example}`"),
        )),
        [] => Err((
            "the version is missing".into(),
            verb_span.clone(),
            String::new(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn scan_text(text: &str, markers: &[char]) -> (SourceMap, Result<Directives, InputError>) {
        let mut sources = SourceMap::default();
        let file = sources.add(Path::new("f.conf"), text.to_string());
        let d = scan(file, &sources, markers);
        (sources, d)
    }

    #[test]
    fn versions_and_suppressions() {
        let text = "# poolstack: postgres 16\n\n#   poolstack: ignore CAT005,CAT002 octal on purpose\n# more words\nmax_connections = 0100\n; poolstack: pgbouncer 1.18\n";
        let (sources, d) = scan_text(text, &['#', ';']);
        let d = d.unwrap();
        assert_eq!(d.postgres_version.as_ref().map(|v| v.value), Some(16));
        assert_eq!(
            d.pgbouncer_version.as_ref().map(|v| v.value),
            PgbVersion::parse("1.18")
        );
        let codes: Vec<_> = d
            .suppressions
            .iter()
            .map(|s| (s.code.as_str(), s.line, s.reason.as_str()))
            .collect();
        assert_eq!(
            codes,
            [
                ("CAT005", Some(5), "octal on purpose"),
                ("CAT002", Some(5), "octal on purpose")
            ]
        );
        let loc = &d.suppressions[1].loc;
        assert_eq!(&sources.get(loc.file).text[loc.span.clone()], "CAT002");
    }

    #[test]
    fn only_the_formats_comment_marker_counts() {
        let (_, d) = scan_text("; poolstack: postgres 99\n", &['#']);
        assert_eq!(d.unwrap(), Directives::default());
    }

    #[test]
    fn a_suppression_at_the_end_covers_nothing() {
        let (_, d) = scan_text("a = 1\n# poolstack: ignore CAT001 x\n", &['#']);
        assert_eq!(d.unwrap().suppressions[0].line, None);
    }

    #[test]
    fn malformed_directives_are_input_errors() {
        for (text, needle) in [
            ("# poolstack: ignore CAT999 why\n", "no rule `CAT999`"),
            ("# poolstack: ignore CAT001\n", "no reason"),
            ("# poolstack: ignore\n", "names no rule"),
            ("# poolstack: postgres 9\n", "not a PostgreSQL major"),
            ("# poolstack: pgbouncer 2.0\n", "not a PgBouncer version"),
            ("# poolstack: pgbouncer\n", "missing"),
            ("# poolstack: postgres 16 please\n", "unexpected `please`"),
            (
                "# poolstack: ignroe CAT001 x\n",
                "unknown poolstack directive",
            ),
            ("# poolstack:\n", "empty"),
        ] {
            let (_, d) = scan_text(text, &['#']);
            let e = d.unwrap_err();
            assert!(e.message.contains(needle), "{text}: {}", e.message);
            assert!(e.loc.is_some(), "{text}");
        }
    }
}
