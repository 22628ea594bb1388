//! `render` reads back what it built, with the same readers and catalog checks `check` uses on
//! hand-written files, before anything is written: a template override (or a renderer bug) must
//! never produce a file the target would refuse (docs/product.md, "Rendering").

use super::{FileKind, RenderPlan};
use crate::diag::{Diagnostic, InputError, Severity};
use crate::formats::userlist::Userlist;
use crate::formats::{dotenv, pgbouncer_ini, postgresql_conf};
use crate::source::SourceMap;
use crate::stack::Stack;
use crate::stack::files;
use std::path::PathBuf;

/// The built files as the targets would read them, and every error found in them (CAT codes;
/// warnings are left to `poolstack check`).
pub struct Verified {
    pub sources: SourceMap,
    pub errors: Vec<Diagnostic>,
}

pub fn verify(stack: &Stack, plan: &RenderPlan) -> Result<Verified, InputError> {
    let mut sources = SourceMap::default();
    let mut found = Vec::new();
    for file in &plan.files {
        let id = sources.add(&file.path, file.contents.clone());
        match &file.kind {
            FileKind::PgbouncerIni => {
                // The built-in template writes no %include; one added by a template override is
                // followed from the working directory, as PgBouncer and `check` do.
                let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
                let doc = pgbouncer_ini::parse(id, &cwd, &mut sources)?;
                files::redact_ini(&mut sources, &doc);
                let release = stack.pgbouncer.as_ref().and_then(|b| b.release());
                found.extend(files::pgbouncer_ini::check(&doc, release, &sources).findings);
            }
            FileKind::PostgresqlConf => {
                let doc = postgresql_conf::parse(id, &mut sources)?;
                found.extend(
                    files::postgresql_conf::check(&doc, stack.postgres.major(), &sources).findings,
                );
            }
            FileKind::Env { .. } => {
                let env = dotenv::parse(id, &file.contents);
                files::redact_env(&mut sources, &env);
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
            FileKind::RolesSql | FileKind::Deploy { .. } => {}
        }
    }
    Ok(Verified {
        sources,
        errors: found
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .collect(),
    })
}
