//! postgresql.conf settings checked against the PostgreSQL catalog (CAT001–CAT006), and the
//! effective parameters: PostgreSQL's "last one wins" over the include-expanded entries.
//!
//! Like ProcessConfigFileInternal, every name is checked, but only the value that wins is:
//! an overridden line is never applied, so the server never judges its value.

mod names;

use crate::catalog::postgres::{self, PgParam, PgType, PgUnit, PgValue, PgValueError};
use crate::diag::{Diagnostic, Severity};
use crate::formats::postgresql_conf::{ConfDocument, ConfEntry, conf_value};
use crate::source::{Loc, SourceMap};
use names::Resolved;
use std::collections::HashMap;

/// The settings of one or more postgresql.conf documents, as the server would apply them.
#[derive(Debug, Clone, Default)]
pub struct ConfSettings {
    /// Effective parameters: the last occurrence in include-expanded order wins (PostgreSQL's
    /// rule), aliases resolved to the canonical name, only valid values.
    pub params: Vec<FileParam>,
    /// The reader's findings, then CAT001–CAT006.
    pub findings: Vec<Diagnostic>,
}

/// One effective parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct FileParam {
    /// Canonical catalog name, or the name as written for a `prefix.name` parameter.
    pub name: String,
    /// The value as PostgreSQL received it (de-quoted).
    pub raw: String,
    /// How to write it back in postgresql.conf: quoted where PostgreSQL needs quotes.
    pub conf_text: String,
    /// `None` for extension parameters, which PostgreSQL does not validate.
    pub value: Option<PgValue>,
    pub unit: PgUnit,
    pub key_loc: Loc,
    pub value_loc: Loc,
}

/// Check one document (postgresql.conf and what it includes).
pub fn check(doc: &ConfDocument, major: Option<u32>, sources: &SourceMap) -> ConfSettings {
    check_all(&[doc], major, sources)
}

/// Merge several documents in the order the server reads them (postgresql.conf, then conf.d
/// fragments passed separately, then postgresql.auto.conf last): later wins.
///
/// Without `major`, a `# poolstack: postgres N` in the files declares it; without either,
/// nothing is assumed (findings that depend on the version are stated conditionally).
pub fn check_all(docs: &[&ConfDocument], major: Option<u32>, sources: &SourceMap) -> ConfSettings {
    let major = major.or_else(|| {
        docs.iter()
            .flat_map(|d| &d.directives)
            .find_map(|d| d.postgres_version.as_ref().map(|v| v.value))
    });
    let mut out = ConfSettings::default();
    for doc in docs {
        out.findings.extend(doc.findings.iter().cloned());
    }
    // Every name is resolved; the ones the server accepts take part in "last one wins".
    let mut accepted: Vec<(&ConfEntry, Resolved)> = Vec::new();
    for entry in docs.iter().flat_map(|d| &d.entries) {
        let (resolved, finding) = names::resolve(&entry.name, major, &entry.name_loc);
        out.findings.extend(finding);
        if let Some(resolved) = resolved {
            accepted.push((entry, resolved));
        }
    }
    let keys: Vec<String> = accepted.iter().map(|(e, r)| r.key(&e.name)).collect();
    let last: HashMap<&str, usize> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    for (i, (entry, resolved)) in accepted.iter().enumerate() {
        let winner = last.get(keys[i].as_str()).copied().unwrap_or(i);
        match accepted.get(winner).filter(|_| winner != i) {
            Some((winner, _)) => out.findings.push(overridden(entry, winner, sources)),
            None => match value(entry, resolved, major) {
                Ok((param, findings)) => {
                    out.findings.extend(findings);
                    out.params.push(param);
                }
                Err(finding) => out.findings.push(finding),
            },
        }
    }
    out
}

/// CAT006 at the line that does nothing, with the line that wins as related. Where the winner is
/// in poolstack's own rendered fragment (it has poolstack's header) and the other line in another
/// file — a stock postgresql.conf that sets max_connections and shared_buffers, followed by
/// `include_dir` — the override is what the fragment is for: an info, not a warning.
fn overridden(entry: &ConfEntry, winner: &ConfEntry, sources: &SourceMap) -> Diagnostic {
    let winner_at = sources.describe(&winner.name_loc);
    let fragment = winner.name_loc.file != entry.name_loc.file
        && !matches!(
            crate::formats::header::inspect(&sources.get(winner.name_loc.file).text),
            crate::formats::header::HeaderState::Foreign
        );
    if fragment {
        return Diagnostic::new(
            "CAT006",
            Severity::Info,
            format!(
                "`{}` is set again in poolstack's rendered fragment ({} = {} at {winner_at}), which comes later and wins, as intended",
                entry.name,
                winner.name,
                conf_value(&winner.value)
            ),
        )
        .at(Some(entry.name_loc.clone()))
        .related(Some(winner.name_loc.clone()), "poolstack's value, which wins")
        .help("nothing to do; to keep one place for it, comment out this line (the fragment is rendered from the manifest)");
    }
    Diagnostic::new(
        "CAT006",
        Severity::Warning,
        format!(
            "`{}` is set again later ({} = {} at {winner_at}): the last one wins, so this value is ignored",
            entry.name,
            winner.name,
            conf_value(&winner.value)
        ),
    )
    .at(Some(entry.name_loc.clone()))
    .related(Some(winner.name_loc.clone()), "this setting wins")
    .help("remove one of them, so the file says what the server uses")
}

/// The value check of a winning entry: the effective parameter and its CAT005 warnings, or the
/// CAT002 finding that keeps it out.
fn value(
    entry: &ConfEntry,
    resolved: &Resolved,
    major: Option<u32>,
) -> Result<(FileParam, Vec<Diagnostic>), Diagnostic> {
    let at = Some(entry.value_loc.clone());
    if let Some(placeholder) = placeholder(&entry.value) {
        return Err(Diagnostic::new(
            "CAT002",
            Severity::Error,
            format!(
                "`{placeholder}` is an unrendered placeholder: PostgreSQL would take it literally"
            ),
        )
        .at(at)
        .help("render the file (or write the value itself) before the server reads it"));
    }
    let param = match resolved {
        Resolved::Extension => {
            return Ok((
                file_param(entry, &entry.name, None, PgUnit::None),
                Vec::new(),
            ));
        }
        Resolved::Param(param) => *param,
    };
    if param.is_read_only() {
        return Err(Diagnostic::new(
            "CAT002",
            Severity::Error,
            format!(
                "parameter \"{}\" cannot be changed: it is read-only (fixed when PostgreSQL was built or the cluster initialized), and the server refuses a configuration file that sets it",
                param.name
            ),
        )
        .at(Some(entry.name_loc.clone()))
        .help("remove the line"));
    }
    let server = match major {
        Some(m) => format!("PostgreSQL {m}"),
        None => "PostgreSQL".to_string(),
    };
    let parsed = postgres::parse_value(param, &entry.value).map_err(|e| {
        let bare = match param.unit {
            PgUnit::None => String::new(),
            unit => format!(" (a bare number is in {})", unit.as_str()),
        };
        let help = e.hint().unwrap_or_else(|| match (&e, param.ty) {
            (PgValueError::OutOfRange { .. }, _) => format!("use a value within the range{bare}"),
            (_, PgType::Bool) => "write on or off".to_string(),
            (PgValueError::UnitNotAllowed { .. }, _) => {
                "this parameter takes no unit: write a plain number".to_string()
            }
            (_, PgType::Integer | PgType::Real) => format!("write a number{bare}"),
            _ => "check the value".to_string(),
        });
        Diagnostic::new(
            "CAT002",
            Severity::Error,
            format!("{server} would refuse this: {}", e.message()),
        )
        .at(at.clone())
        .help(help)
    })?;
    let findings = traps(entry, param, &parsed).into_iter().collect();
    Ok((
        file_param(entry, param.name, Some(parsed), param.unit),
        findings,
    ))
}

fn file_param(entry: &ConfEntry, name: &str, value: Option<PgValue>, unit: PgUnit) -> FileParam {
    FileParam {
        name: name.to_string(),
        raw: entry.value.clone(),
        conf_text: conf_value(&entry.value),
        value,
        unit,
        key_loc: entry.name_loc.clone(),
        value_loc: entry.value_loc.clone(),
    }
}

/// An unrendered `${VAR}` template placeholder in a value.
fn placeholder(value: &str) -> Option<&str> {
    let start = value.find("${")?;
    let end = value[start..].find('}')?;
    Some(&value[start..start + end + 1])
}

/// CAT005: a value PostgreSQL accepts but reads differently from how it looks.
fn traps(entry: &ConfEntry, param: &PgParam, parsed: &PgValue) -> Option<Diagnostic> {
    let written = &entry.value;
    let unit = match param.unit {
        PgUnit::None => String::new(),
        unit => format!(" {}", unit.as_str()),
    };
    let (message, help) = if parsed.rounded_to_zero {
        (
            format!(
                "`{written}` is below the resolution of `{}` ({}): PostgreSQL rounds it to 0{}",
                param.name,
                param.unit.as_str(),
                if param.ty == PgType::Integer && param.unit.is_time() {
                    ", which usually disables it"
                } else {
                    ""
                }
            ),
            format!(
                "write at least 1{}, or 0 if you mean to disable it",
                param.unit.as_str()
            ),
        )
    } else if parsed.radix_prefix {
        let body = written.trim().trim_start_matches(['+', '-']);
        let (radix, fix) = if body.starts_with("0x") || body.starts_with("0X") {
            (
                "hexadecimal",
                format!("write it in decimal: {}", parsed.normalized),
            )
        } else {
            (
                "octal (a leading 0)",
                format!(
                    "drop the leading zero if you meant decimal; PostgreSQL now reads {}{unit}",
                    parsed.normalized
                ),
            )
        };
        (
            format!(
                "`{written}` is read as {radix}: `{}` = {}{unit}",
                param.name, parsed.normalized
            ),
            fix,
        )
    } else if !parsed.exact && param.ty == PgType::Integer {
        (
            format!(
                "`{written}` is not a whole number of `{}`'s unit: PostgreSQL rounds it to {}{unit}",
                param.name, parsed.normalized
            ),
            format!(
                "write the value PostgreSQL uses: {}{unit}",
                parsed.normalized
            ),
        )
    } else {
        return None;
    };
    Some(
        Diagnostic::new("CAT005", Severity::Warning, message)
            .at(Some(entry.value_loc.clone()))
            .help(help),
    )
}

#[cfg(test)]
mod tests;
