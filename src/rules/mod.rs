//! The rule engine. Rules read the resolved [`Stack`] (never files) through a [`Context`]; each is
//! described once in its family's table; [`apply`] applies suppressions, severity overrides and
//! selection in one place, after every rule ran.

pub mod aut;
pub mod cat;
pub mod con;
pub mod dep;
pub mod fil;
pub mod liv;
pub mod lnt;
pub mod mem;
pub mod mon;
pub mod net;
pub mod net_kinds;
pub mod pre;
pub mod pre_kinds;
pub mod skipped;
#[cfg(test)]
pub mod testing;
pub mod tmo;

use crate::diag::{Diagnostic, Severity};
use crate::stack::Stack;
use crate::stack::budget::ServerConnectionBudget;
use std::path::PathBuf;

/// What a rule needs besides the stack: computed once by the command layer.
pub struct Context<'a> {
    pub stack: &'a Stack,
    /// CON002's count, computed once.
    pub budget: ServerConnectionBudget,
    /// Facts about files on disk (rendered outputs, secret files), gathered by the command layer.
    pub files: &'a [FileFact],
}

/// What the command layer knows about a file a rule cares about (FIL, AUT004, AUT008).
#[derive(Debug, Clone, Default)]
pub struct FileFact {
    pub path: PathBuf,
    pub role: FileRole,
    /// Unix permission bits, when the file exists.
    pub mode: Option<u32>,
    /// Inside a git work tree and not ignored by it.
    pub tracked_by_git: bool,
    /// Rendered output only: the file exists and differs from what the manifest renders.
    pub drifted: bool,
    /// Rendered output only: its header checksum no longer matches its body.
    pub hand_edited: bool,
    /// Secret files compared by users and types only (passwords unavailable).
    pub secrets_unverified: bool,
    /// A known-verifier file (`verifier = { userlist = … }`): the users whose entry there does
    /// not accept the password the manifest gives (passwords available).
    pub rejects_password_of: Vec<String>,
    /// A known-verifier file: the users it is named for but has no entry for (or it cannot be
    /// read: then every user naming it).
    pub lacks_verifier_of: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FileRole {
    #[default]
    Other,
    PgbouncerIni,
    Userlist,
    PostgresqlConf,
    RolesSql,
    Env,
    PasswordFile,
}

pub type CheckFn = fn(&Context<'_>, &mut Vec<Diagnostic>);

/// A rule: stable code, kebab-case name, one default severity, one-line summary, and the
/// documentation `poolstack explain CODE` prints (what it checks, why, how to fix).
pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    pub doc: &'static str,
    /// `None` for rules whose findings come from reading files or resolving settings (CAT) or from
    /// `doctor` (LIV): they are listed and documented here, and produced elsewhere.
    pub check: Option<CheckFn>,
}

/// Every rule, in code order. The one registry.
pub fn registry() -> impl Iterator<Item = &'static Rule> {
    [
        cat::RULES,
        con::RULES,
        pre::RULES,
        pre_kinds::RULES,
        mem::RULES,
        tmo::RULES,
        aut::RULES,
        net::RULES,
        net_kinds::RULES,
        fil::RULES,
        mon::RULES,
        dep::RULES,
        lnt::RULES,
        liv::RULES,
    ]
    .into_iter()
    .flatten()
}

pub fn find(code: &str) -> Option<&'static Rule> {
    registry().find(|r| r.code.eq_ignore_ascii_case(code))
}

/// Run every rule on the stack; the stack's own resolution findings (CAT) come first.
pub fn run(cx: &Context<'_>) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = cx.stack.findings.clone();
    for rule in registry() {
        if let Some(check) = rule.check {
            let mut found = Vec::new();
            check(cx, &mut found);
            for mut d in found {
                // A rule reports at its own default severity unless it deliberately says otherwise.
                if d.code.is_empty() {
                    d.code = rule.code;
                }
                out.push(d);
            }
        }
    }
    out
}

/// Selection, suppression and severity overrides, from the manifest's `[lint]` and the command line.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// `--select`: only these codes (empty = all).
    pub select: Vec<String>,
    /// `--ignore` and `[lint] ignore`, each with where it was written (for LNT001).
    pub ignore: Vec<Suppression>,
    /// `[lint.severity]`.
    pub severity: Vec<(String, Severity)>,
    pub fail_on: Severity,
}

#[derive(Debug, Clone)]
pub struct Suppression {
    pub code: String,
    /// Where the suppression was written, if in a file (an unused one is LNT001 there).
    pub loc: Option<crate::source::Loc>,
    /// For a `poolstack: ignore` comment: the line it covers. Only findings that point into
    /// it are suppressed. `None`: the whole run (`[lint] ignore`, `--ignore`).
    pub scope: Option<crate::source::Loc>,
}

impl Suppression {
    fn covers(&self, d: &Diagnostic) -> bool {
        if !self.code.eq_ignore_ascii_case(d.code) {
            return false;
        }
        match (&self.scope, &d.primary) {
            (None, _) => true,
            (Some(line), Some(at)) => {
                line.file == at.file
                    && line.span.start <= at.span.start
                    && at.span.start <= line.span.end
            }
            (Some(_), None) => false,
        }
    }
}

/// Apply the policy in one place: drop ignored/unselected findings, override severities, and
/// report suppressions that suppressed nothing (LNT001).
pub fn apply(diags: Vec<Diagnostic>, policy: &Policy) -> Vec<Diagnostic> {
    let selected = |code: &str| {
        policy.select.is_empty() || policy.select.iter().any(|c| c.eq_ignore_ascii_case(code))
    };
    let mut used = vec![false; policy.ignore.len()];
    let mut out = Vec::new();
    for mut d in diags {
        // Suppressions are matched before selection: an ignore entry for a code that fired is
        // used, whatever `--select` shows.
        if let Some(i) = policy.ignore.iter().position(|s| s.covers(&d)) {
            used[i] = true;
            continue;
        }
        if !selected(d.code) {
            continue;
        }
        if let Some((_, sev)) = policy
            .severity
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(d.code))
        {
            d.severity = *sev;
        }
        out.push(d);
    }
    for (s, used) in policy.ignore.iter().zip(used) {
        if !used && s.loc.is_some() && selected("LNT001") {
            out.push(lnt::unused_suppression(s));
        }
    }
    out.sort_by(|a, b| {
        let ka = a.primary.as_ref().map(|l| (l.file, l.span.start));
        let kb = b.primary.as_ref().map(|l| (l.file, l.span.start));
        ka.cmp(&kb).then(a.code.cmp(b.code))
    });
    out
}

/// Counts by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

impl Summary {
    pub fn of(diags: &[Diagnostic]) -> Summary {
        let mut s = Summary::default();
        for d in diags {
            match d.severity {
                Severity::Error => s.errors += 1,
                Severity::Warning => s.warnings += 1,
                Severity::Info => s.infos += 1,
            }
        }
        s
    }

    /// True when anything is at or above `fail_on`.
    pub fn fails(&self, fail_on: Severity) -> bool {
        match fail_on {
            Severity::Error => self.errors > 0,
            Severity::Warning => self.errors + self.warnings > 0,
            Severity::Info => self.errors + self.warnings + self.infos > 0,
        }
    }
}
