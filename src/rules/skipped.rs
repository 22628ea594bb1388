//! What a run of the rules could not check, and why: hand-written files that declare no version
//! leave the rules that depend on it silent (nothing is assumed, rules.md). The report's summary
//! names them and the flag or `poolstack:` directive that enables them; where the files prove a
//! lower bound (an option that exists only from some release on), it says so, without taking
//! it for the version.

use crate::catalog::pgbouncer::{self, Section};
use crate::catalog::postgres::{PgCatalog, PgName, SUPPORTED_MAJORS};
use crate::stack::Stack;

/// Rules a run left out (or stated only conditionally) for want of something the input lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub codes: Vec<&'static str>,
    /// What they need, e.g. `the PostgreSQL version`.
    pub needs: String,
    /// How to give it.
    pub enable: String,
    /// What the files prove about it, when anything (`PgBouncer ≥ 1.21: max_prepared_statements`).
    pub lower_bound: Option<String>,
}

/// What `stack` does not let the rules check.
pub fn skipped(stack: &Stack) -> Vec<Skipped> {
    let mut out = Vec::new();
    let pg = &stack.postgres;
    if pg.version.is_none() && pg.described {
        let mut codes = vec!["AUT003"];
        if stack.pgbouncer.is_some() && !pg.password_encryption.origin.is_explicit() {
            // How the server stores passwords is the version's default (md5 before 14).
            codes.insert(0, "AUT002");
        }
        out.push(Skipped {
            codes,
            needs: "the PostgreSQL version".to_string(),
            enable: "pass --pg-version N, or add `# poolstack: postgres N` to postgresql.conf"
                .to_string(),
            lower_bound: postgres_floor(stack),
        });
    }
    if let Some(pgb) = &stack.pgbouncer
        && pgb.version.is_none()
    {
        out.push(Skipped {
            codes: vec!["CAT003", "PRE001"],
            needs: "the PgBouncer version (stated conditionally instead)".to_string(),
            enable:
                "pass --pgbouncer-version X.Y, or add `; poolstack: pgbouncer X.Y` to pgbouncer.ini"
                    .to_string(),
            lower_bound: pgbouncer_floor(pgb),
        });
    }
    out
}

/// The oldest supported major that knows every parameter the files set, when newer than the
/// oldest supported one.
fn postgres_floor(stack: &Stack) -> Option<String> {
    let mut floor: Option<(u32, &str)> = None;
    for p in stack
        .postgres
        .params
        .iter()
        .filter(|p| p.origin.is_explicit())
    {
        let first = SUPPORTED_MAJORS.clone().find(|m| {
            PgCatalog::for_major(*m).is_some_and(|c| {
                matches!(
                    c.classify(&p.name),
                    PgName::Known(_) | PgName::Alias { .. } | PgName::Extension
                )
            })
        });
        if let Some(m) = first
            && m > *SUPPORTED_MAJORS.start()
            && floor.is_none_or(|(f, _)| m > f)
        {
            floor = Some((m, &p.name));
        }
    }
    floor.map(|(m, name)| format!("PostgreSQL ≥ {m} (`{name}`)"))
}

/// The newest `since` among the `[pgbouncer]` options the file sets, when newer than the oldest
/// supported release.
fn pgbouncer_floor(pgb: &crate::stack::Pgbouncer) -> Option<String> {
    // Every first-class option but max_prepared_statements is older than 1.15.
    let written = pgb
        .options
        .iter()
        .filter(|o| o.origin.is_explicit())
        .map(|o| o.name.as_str())
        .chain(
            pgb.max_prepared_statements
                .as_ref()
                .filter(|s| s.origin.is_explicit())
                .map(|_| "max_prepared_statements"),
        );
    let mut floor: Option<(pgbouncer::PgbVersion, String)> = None;
    for name in written {
        let Some(opt) = pgbouncer::get(Section::Pgbouncer, name) else {
            continue;
        };
        if opt.since > pgbouncer::PgbVersion::MIN_SUPPORTED
            && !opt.is_unreleased()
            && floor.as_ref().is_none_or(|(f, _)| opt.since > *f)
        {
            floor = Some((opt.since, name.to_string()));
        }
    }
    floor.map(|(v, name)| format!("PgBouncer ≥ {v} (`{name}`)"))
}

/// One line per entry, for the human summary.
pub fn describe(s: &Skipped) -> String {
    let mut line = format!(
        "not checked: {} {} {}: {}",
        s.codes.join(", "),
        if s.codes.len() == 1 { "needs" } else { "need" },
        s.needs,
        s.enable
    );
    if let Some(floor) = &s.lower_bound {
        line.push_str(&format!(
            " (the files need {floor}: a lower bound, not the version)"
        ));
    }
    line
}
