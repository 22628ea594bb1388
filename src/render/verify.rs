//! `render` reads back what it built, with the same readers and catalog checks `check` uses on
//! hand-written files, before anything is written: a template override (or a renderer bug) must
//! never produce a file the target would refuse (docs/product.md, "Rendering"). `check` runs the
//! same reading on the same files, so both give one verdict: findings about values the stack
//! decided are moved to the manifest lines that decided them ([`super::locate`]).

use super::{FileKind, RenderPlan, locate};
use crate::diag::{Diagnostic, InputError, Severity};
use crate::formats::userlist::Userlist;
use crate::formats::{dotenv, pgbouncer_ini, postgresql_conf};
use crate::source::SourceMap;
use crate::stack::Stack;
use crate::stack::files;
use crate::stack::files::pgbouncer_ini::Author;
use std::path::PathBuf;

/// The built files as the targets would read them, and every CAT finding in them that the stack's
/// own resolution did not already make, located in the manifest where the value comes from it.
pub struct Verified {
    /// The stack's sources, then the built files (a finding with no place in the manifest points
    /// into them).
    pub sources: SourceMap,
    pub findings: Vec<Diagnostic>,
}

impl Verified {
    /// What the targets would refuse: `render` writes nothing while there is one.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.findings
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }

    /// Hand the findings to the stack, with the sources they point into, so that the rules'
    /// report (`check`, and `render`'s count) includes them.
    pub fn merge_into(self, stack: &mut Stack) {
        stack.sources = self.sources;
        stack.findings.extend(self.findings);
    }
}

pub fn verify(stack: &Stack, plan: &RenderPlan) -> Result<Verified, InputError> {
    let mut sources = stack.sources.clone();
    let mut found = Vec::new();
    let mut written = Vec::new();
    for file in &plan.files {
        // roles.sql holds verifiers and no setting a reader checks: it never enters the sources.
        if file.kind == FileKind::RolesSql {
            continue;
        }
        let id = sources.add(&file.path, file.contents.clone());
        match &file.kind {
            FileKind::PgbouncerIni => {
                // The built-in template writes no %include; one added by a template override is
                // followed from the working directory, as PgBouncer and `check` do.
                let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
                let doc = pgbouncer_ini::parse(id, &cwd, &mut sources)?;
                files::redact_ini(&mut sources, &doc);
                let release = stack.pgbouncer.as_ref().and_then(|b| b.release());
                written.extend(locate::ini(stack, &doc));
                found.extend(
                    files::pgbouncer_ini::check_as(&doc, release, &sources, Author::Poolstack)
                        .findings,
                );
            }
            FileKind::PostgresqlConf => {
                let doc = postgresql_conf::parse(id, &mut sources)?;
                files::redact_conf(&mut sources, &doc);
                written.extend(locate::conf(stack, &doc));
                found.extend(
                    files::postgresql_conf::check(&doc, stack.postgres.major(), &sources).findings,
                );
            }
            FileKind::Env { .. } => {
                let env = dotenv::parse(id, &file.contents);
                files::redact_env(&mut sources, id, &env);
                found.extend(env.findings);
            }
            FileKind::Userlist => {
                let parsed = Userlist::parse(&file.contents);
                files::redact_userlist(&mut sources, id, &parsed);
                if let Some(b) = parsed.broken {
                    found.push(
                        Diagnostic::new(
                            "CAT008",
                            Severity::Error,
                            format!(
                                "PgBouncer would stop reading the rendered userlist here: {}",
                                b.reason
                            ),
                        )
                        .at(Some(crate::source::Loc {
                            file: id,
                            span: b.span,
                        })),
                    );
                }
            }
            // promtool checks monitoring files in CI (tests/monitoring.rs); the deploy validators
            // check deploy files (tests/deploy_validators.rs).
            // The app settings files are proven by the frameworks themselves in tests
            // (tests/real_clients.rs loads them).
            FileKind::RolesSql
            | FileKind::AppSettings { .. }
            | FileKind::Monitoring { .. }
            | FileKind::Deploy { .. } => {}
        }
    }
    let findings = found
        .into_iter()
        .map(|d| locate::relocate(d, &written))
        // Resolution already reported it (a database name PgBouncer cannot read, say).
        .filter(|d| {
            !stack
                .findings
                .iter()
                .any(|f| f.code == d.code && f.primary == d.primary)
        })
        .collect();
    Ok(Verified { sources, findings })
}
