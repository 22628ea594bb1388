//! A postgresql.conf name against the catalog: CAT001 (unknown), CAT003 (not yet), CAT004
//! (removed or renamed). Without a declared major nothing is assumed: a name that exists in
//! only some majors is an info finding stated conditionally.

use crate::catalog::postgres::{PgCatalog, PgName, PgParam, SUPPORTED_MAJORS};
use crate::diag::{Diagnostic, Severity};
use crate::source::Loc;

/// A name the server accepts.
pub enum Resolved {
    /// A parameter (aliases resolved), from the catalog its value is parsed with.
    Param(&'static PgParam),
    /// `prefix.name`: a placeholder PostgreSQL accepts without validation.
    Extension,
}

impl Resolved {
    /// What "the same parameter" means for last-one-wins: the canonical name, case-folded
    /// (`sort_mem` and `WORK_MEM` are both `work_mem`).
    pub fn key(&self, written: &str) -> String {
        match self {
            Resolved::Param(p) => p.name.to_ascii_lowercase(),
            Resolved::Extension => written.to_ascii_lowercase(),
        }
    }
}

const DECLARE: &str = "declare the version: `# poolstack: postgres 16` or --pg-version";

/// Resolve `name` (written at `at`) for `major`, or for every supported major when `None`.
pub fn resolve(name: &str, major: Option<u32>, at: &Loc) -> (Option<Resolved>, Option<Diagnostic>) {
    match major.and_then(PgCatalog::for_major) {
        Some(catalog) => resolve_in(catalog, name, at),
        None => resolve_any(name, at),
    }
}

fn finding(code: &'static str, severity: Severity, message: String, at: &Loc) -> Diagnostic {
    Diagnostic::new(code, severity, message).at(Some(at.clone()))
}

fn unknown(name: &str, suggestion: Option<&str>, at: &Loc) -> Diagnostic {
    let d = finding(
        "CAT001",
        Severity::Error,
        format!(
            "unknown PostgreSQL parameter `{name}`: the server refuses to start with `unrecognized configuration parameter \"{name}\"`"
        ),
        at,
    );
    match suggestion {
        Some(s) => d.help(format!("did you mean `{s}`?")),
        None => d.help(
            "check the spelling; a setting for an extension is written `prefix.name` (`pg_stat_statements.max`)",
        ),
    }
}

fn resolve_in(
    catalog: &'static PgCatalog,
    name: &str,
    at: &Loc,
) -> (Option<Resolved>, Option<Diagnostic>) {
    let major = catalog.major();
    match catalog.classify(name) {
        PgName::Known(param) | PgName::Alias { param, .. } => (Some(Resolved::Param(param)), None),
        PgName::Extension => (Some(Resolved::Extension), None),
        PgName::NotYet { introduced_in } => (
            None,
            Some(
                finding(
                    "CAT003",
                    Severity::Error,
                    format!(
                        "`{name}` does not exist in PostgreSQL {major}: it was introduced in PostgreSQL {introduced_in}"
                    ),
                    at,
                )
                .help(format!(
                    "remove it, or declare the version the server runs (`# poolstack: postgres {introduced_in}` or --pg-version)"
                )),
            ),
        ),
        PgName::Removed {
            removed_in,
            replacement,
        } => {
            let d = finding(
                "CAT004",
                Severity::Error,
                match replacement {
                    Some(r) => format!("`{name}` was renamed to `{r}` in PostgreSQL {removed_in}"),
                    None => format!("`{name}` was removed in PostgreSQL {removed_in}"),
                },
                at,
            );
            let d = match replacement {
                Some(r) => d.help(format!("use `{r}` (check its unit and meaning: they may differ)")),
                None => d.help("remove it: PostgreSQL refuses to start with an unrecognized parameter"),
            };
            (None, Some(d))
        }
        PgName::Unknown { suggestion } => (None, Some(unknown(name, suggestion, at))),
    }
}

/// No major declared: fine when every supported major knows the name; an info finding (and
/// the newest major's parameter) when only some do; CAT001 when none does.
fn resolve_any(name: &str, at: &Loc) -> (Option<Resolved>, Option<Diagnostic>) {
    let catalogs: Vec<&'static PgCatalog> =
        SUPPORTED_MAJORS.filter_map(PgCatalog::for_major).collect();
    let known: Vec<(u32, &'static PgParam)> = catalogs
        .iter()
        .filter_map(|c| match c.classify(name) {
            PgName::Known(p) | PgName::Alias { param: p, .. } => Some((c.major(), p)),
            _ => None,
        })
        .collect();
    let newest = catalogs.last().copied();
    let (Some(&(lo, _)), Some(&(hi, param))) = (known.first(), known.last()) else {
        return match newest.map(|c| c.classify(name)) {
            Some(PgName::Extension) => (Some(Resolved::Extension), None),
            Some(PgName::Unknown { suggestion }) => (None, Some(unknown(name, suggestion, at))),
            // Renamed or removed before the oldest supported major: every one refuses it.
            Some(PgName::Removed {
                removed_in,
                replacement,
            }) => {
                let what = match replacement {
                    Some(r) => format!("was renamed to `{r}` in PostgreSQL {removed_in}"),
                    None => format!("was removed in PostgreSQL {removed_in}"),
                };
                let d = finding(
                    "CAT004",
                    Severity::Error,
                    format!(
                        "`{name}` {what}: every supported version ({}) refuses to start with it",
                        crate::catalog::postgres::supported_text()
                    ),
                    at,
                );
                (
                    None,
                    Some(match replacement {
                        Some(r) => d.help(format!("use `{r}` (check its unit and meaning)")),
                        None => d.help("remove it"),
                    }),
                )
            }
            _ => (None, Some(unknown(name, None, at))),
        };
    };
    if known.len() == catalogs.len() {
        return (Some(Resolved::Param(param)), None);
    }
    let (first, last) = (*SUPPORTED_MAJORS.start(), *SUPPORTED_MAJORS.end());
    let d = if hi == last {
        finding(
            "CAT003",
            Severity::Info,
            format!("`{name}` needs PostgreSQL ≥ {lo}: older servers refuse to start with it"),
            at,
        )
    } else {
        let after = catalogs
            .iter()
            .find(|c| c.major() == hi + 1)
            .map(|c| c.classify(name));
        let since = if lo == first {
            format!("exists only up to PostgreSQL {hi}")
        } else {
            format!("exists only in PostgreSQL {lo} to {hi}")
        };
        let then = match after {
            Some(PgName::Removed {
                replacement: Some(r),
                removed_in,
            }) => format!("; renamed to `{r}` in {removed_in}"),
            _ => format!("; removed in {}", hi + 1),
        };
        finding(
            "CAT004",
            Severity::Info,
            format!("`{name}` {since}{then}"),
            at,
        )
    };
    (Some(Resolved::Param(param)), Some(d.help(DECLARE)))
}
